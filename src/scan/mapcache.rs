//! What a listing learns once of a file mapped by many processes (a
//! shared library), kept for the others: its stat results (stat'ed once
//! per run, not once per process) and, where the kernel lists mappings,
//! its path. Bounded, so that files each mapped by one process do not
//! make memory grow with the machine.

use crate::bpf::PathKey;
use crate::model::Dev;
use std::collections::HashMap;
use std::hash::Hash;
use std::mem;
use std::sync::{Mutex, PoisonError};

/// Entries per generation: about the number of shared libraries a
/// machine's processes map; a library that drops out is stat'ed again.
const GENERATION: usize = 256;

/// Two generations: when the current one is full it becomes the previous
/// one and the older is dropped; an entry found in the previous generation
/// moves back to the current one, so files in use stay.
#[derive(Default)]
pub(crate) struct MappedStats {
    generations: Mutex<Generations<(Dev, u64), Entry>>,
}

struct Generations<K, V> {
    current: HashMap<K, V>,
    previous: HashMap<K, V>,
}

impl<K, V> Default for Generations<K, V> {
    fn default() -> Self {
        Generations {
            current: HashMap::new(),
            previous: HashMap::new(),
        }
    }
}

/// The path stat'ed (a file's identity is checked against its maps entry
/// by that path) and what the listing uses of the result (device and
/// inode are the key).
struct Entry {
    path: Box<[u8]>,
    mode: libc::mode_t,
    nlink: libc::nlink_t,
    rdev: libc::dev_t,
    size: libc::off_t,
}

impl Entry {
    fn stat(&self, (dev, inode): (Dev, u64)) -> libc::stat {
        // SAFETY: libc::stat is plain data; all zeroes is a valid value.
        let mut st: libc::stat = unsafe { mem::zeroed() };
        st.st_dev = dev.raw();
        st.st_ino = inode;
        st.st_mode = self.mode;
        st.st_nlink = self.nlink;
        st.st_rdev = self.rdev;
        st.st_size = self.size;
        st
    }
}

impl MappedStats {
    /// The stat of `path` when it was stat'ed as file (`dev`, `inode`):
    /// its type and mode, links, device number and size (what the listing
    /// shows), the rest zero.
    pub(crate) fn get(&self, dev: Dev, inode: u64, path: &[u8]) -> Option<libc::stat> {
        let key = (dev, inode);
        let mut g = lock(&self.generations);
        let entry = g.get(&key)?;
        (*entry.path == *path).then(|| entry.stat(key))
    }

    /// Keeps `stat`, the result for `path`, whose device and inode are
    /// `dev` and `inode`.
    pub(crate) fn insert(&self, dev: Dev, inode: u64, path: &[u8], stat: &libc::stat) {
        let entry = Entry {
            path: path.into(),
            mode: stat.st_mode,
            nlink: stat.st_nlink,
            rdev: stat.st_rdev,
            size: stat.st_size,
        };
        lock(&self.generations).insert((dev, inode), entry);
    }
}

/// Paths as the kernel's mappings program keys them (see
/// [`crate::bpf::PathKey`]): each read once a run through one process's
/// link (its `map_files`, cwd, root or exe), for every process that holds
/// the same file through the same mount.
#[derive(Default)]
pub(crate) struct KeptPaths {
    generations: Mutex<Generations<MappedFileKey, Box<[u8]>>>,
}

/// A mapped file: what its path is made from, its device and inode.
type MappedFileKey = (PathKey, Dev, u64);

impl KeptPaths {
    /// The path kept for the file (`key`, `dev`, `inode`), as it was
    /// kept.
    pub(crate) fn get(&self, key: PathKey, dev: Dev, inode: u64) -> Option<Box<[u8]>> {
        lock(&self.generations).get(&(key, dev, inode)).cloned()
    }

    pub(crate) fn insert(&self, key: PathKey, dev: Dev, inode: u64, path: &[u8]) {
        lock(&self.generations).insert((key, dev, inode), path.into());
    }
}

fn lock<K, V>(
    generations: &Mutex<Generations<K, V>>,
) -> std::sync::MutexGuard<'_, Generations<K, V>> {
    generations.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<K: Eq + Hash, V> Generations<K, V> {
    /// The entry for `key`; one found in the previous generation moves
    /// back to the current one.
    fn get(&mut self, key: &K) -> Option<&V> {
        if !self.current.contains_key(key) {
            let (key, entry) = self.previous.remove_entry(key)?;
            self.insert(key, entry);
        }
        self.current.get(key)
    }

    fn insert(&mut self, key: K, entry: V) {
        if self.current.len() >= GENERATION && !self.current.contains_key(&key) {
            self.previous = mem::take(&mut self.current);
        }
        self.current.insert(key, entry);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stat_of_size(size: i64) -> libc::stat {
        // SAFETY: libc::stat is plain data; all zeroes is a valid value.
        let mut st: libc::stat = unsafe { mem::zeroed() };
        st.st_size = size;
        st
    }

    #[test]
    fn hits_misses_and_a_bounded_size() {
        let cache = MappedStats::default();
        let dev = Dev::from_raw(0x801);
        cache.insert(dev, 1, b"/lib/libc.so", &stat_of_size(7));
        let hit = cache.get(dev, 1, b"/lib/libc.so").expect("cached");
        assert_eq!((hit.st_size, hit.st_ino, hit.st_dev), (7, 1, 0x801));
        assert!(cache.get(dev, 1, b"/other/path").is_none());
        assert!(cache.get(dev, 2, b"/lib/libc.so").is_none());
        for inode in 100..100 + 3 * GENERATION as u64 {
            cache.insert(dev, inode, b"/tmp/x", &stat_of_size(1));
            // A file in use is met again and again: it stays.
            assert!(cache.get(dev, 1, b"/lib/libc.so").is_some());
        }
        let g = lock(&cache.generations);
        assert!(g.current.len() <= GENERATION && g.previous.len() <= GENERATION);
    }
}
