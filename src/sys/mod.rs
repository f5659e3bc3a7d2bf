//! General operating-system helpers below `scan` and `select`: the mount
//! table (read once per run and shared), calls that may block on a dead
//! server (bounded in a forked child), network namespaces, errno text and
//! the CPU count. Nothing here knows lsof's options or output.

pub(crate) mod block;
mod child;
pub(crate) mod errno;
pub(crate) mod mounts;
pub(crate) mod netns;
pub(crate) mod regex;

/// How many CPUs rlsof may use: the number of scanning threads.
pub(crate) fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
