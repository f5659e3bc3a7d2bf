//! File arguments, `+d` and `+D`, resolved before the scan (see
//! `scan::resolve`) into one set of search files; each open file is then
//! looked up by (device, inode), or by device alone for a whole file system.

use crate::model::{FileType, OpenFile, SocketInfo};
pub(crate) use crate::scan::resolve::SearchFile;
use std::collections::HashMap;

/// What the file arguments select, in lsof's order (newest first).
#[derive(Debug, Default)]
pub struct NameSet {
    pub files: Vec<SearchFile>,
    by_id: HashMap<(u64, u64), usize>,
    by_fs: HashMap<u64, usize>,
}

impl NameSet {
    /// Builds the set from search files given oldest first.
    pub fn new(mut chronological: Vec<SearchFile>) -> NameSet {
        chronological.reverse();
        let mut set = NameSet {
            files: chronological,
            ..Default::default()
        };
        for (i, f) in set.files.iter().enumerate() {
            if f.file_system {
                set.by_fs.entry(f.dev).or_insert(i);
            } else {
                set.by_id.entry((f.dev, f.inode)).or_insert(i);
            }
        }
        set
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Whether `file` is one the arguments name; a file named by device and
    /// inode takes the argument's path as its NAME, as lsof shows it.
    pub fn select(&self, file: &mut OpenFile) -> bool {
        if let Some(SocketInfo::Unix(u)) = file.socket.as_deref() {
            return self.select_socket(u.path.as_deref());
        }
        if file.file_type.as_ref().is_some_and(FileType::is_socket) {
            return false;
        }
        let (Some(dev), Some(inode)) = (file.dev, file.inode) else {
            return false;
        };
        let dev = dev.raw();
        if let Some(&i) = self.by_id.get(&(dev, inode)) {
            let s = &self.files[i];
            s.mark();
            file.name = s.name.clone();
            file.deleted = false;
            return true;
        }
        if let Some(&i) = self.by_fs.get(&dev) {
            self.files[i].mark();
            return true;
        }
        false
    }

    /// A UNIX socket matches a socket argument by its bound path.
    fn select_socket(&self, path: Option<&[u8]>) -> bool {
        let Some(path) = path else { return false };
        let hit = self.files.iter().find(|s| {
            !s.file_system
                && s.mode & libc::S_IFMT == libc::S_IFSOCK
                && (s.name == path || s.arg == path)
        });
        hit.inspect(|s| s.mark()).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Dev;
    use std::sync::atomic::AtomicBool;

    fn search(name: &str, dev: u64, inode: u64, fs: bool) -> SearchFile {
        SearchFile {
            arg: name.as_bytes().to_vec(),
            name: name.as_bytes().to_vec(),
            file_system: fs,
            dev,
            inode,
            mode: if fs { libc::S_IFDIR } else { libc::S_IFREG },
            found: AtomicBool::new(false),
        }
    }

    fn open_file(dev: u64, inode: u64) -> OpenFile {
        OpenFile {
            file_type: Some(FileType::Reg),
            dev: Some(Dev::from_raw(dev)),
            inode: Some(inode),
            name: b"/elsewhere".to_vec(),
            ..Default::default()
        }
    }

    #[test]
    fn by_device_and_inode_takes_the_argument_name() {
        let set = NameSet::new(vec![search("/a", 5, 10, false)]);
        let mut f = open_file(5, 10);
        assert!(set.select(&mut f));
        assert_eq!(f.name, b"/a");
        assert!(set.files[0].was_found());
        assert!(!set.select(&mut open_file(5, 11)));
    }

    #[test]
    fn a_file_system_selects_by_device_and_keeps_names() {
        let set = NameSet::new(vec![search("/mnt", 7, 2, true)]);
        let mut f = open_file(7, 99);
        assert!(set.select(&mut f));
        assert_eq!(f.name, b"/elsewhere");
    }

    #[test]
    fn duplicate_arguments_credit_the_newest() {
        let set = NameSet::new(vec![search("/a", 5, 10, false), search("/b", 5, 10, false)]);
        let mut f = open_file(5, 10);
        assert!(set.select(&mut f));
        assert_eq!(f.name, b"/b");
        assert!(set.files[0].was_found());
        assert!(!set.files[1].was_found());
    }
}
