//! stat results of mapped files, kept so that a file mapped by many
//! processes (a shared library) is stat'ed once per run, not once per
//! process; bounded, so that files each mapped by one process do not make
//! memory grow with the machine.

use crate::model::Dev;
use std::collections::HashMap;
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
    generations: Mutex<Generations>,
}

#[derive(Default)]
struct Generations {
    current: HashMap<(Dev, u64), Entry>,
    previous: HashMap<(Dev, u64), Entry>,
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
        let mut g = self.lock();
        if let Some(entry) = g.current.get(&key) {
            return (*entry.path == *path).then(|| entry.stat(key));
        }
        let entry = g.previous.remove(&key)?;
        let stat = (*entry.path == *path).then(|| entry.stat(key));
        g.insert(key, entry);
        stat
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
        self.lock().insert((dev, inode), entry);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Generations> {
        self.generations
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl Generations {
    fn insert(&mut self, key: (Dev, u64), entry: Entry) {
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
        let g = cache.lock();
        assert!(g.current.len() <= GENERATION && g.previous.len() <= GENERATION);
    }
}
