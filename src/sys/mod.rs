//! General operating-system helpers below `scan` and `select`: the mount
//! table (read once per run and shared), calls that may block on a dead
//! server (bounded in a forked child), network namespaces, errno text and
//! the CPU count. Nothing here knows lsof's options or output.

pub mod block;
mod child;
pub mod errno;
pub mod mounts;
pub mod netns;
pub mod regex;

/// How many CPUs rlsof may use: the number of scanning threads.
pub fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
