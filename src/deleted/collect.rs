//! From scanned processes to deleted-but-open files, one record per inode,
//! grouped by the filesystem that holds them.
//!
//! A file counts once however many processes or descriptors hold it: the
//! space it pins is the inode's, not the descriptor's.

use crate::model::{Access, Dev, FdName, FileType, OpenFile, Process};
use crate::sys::mounts::Mount;
use std::collections::HashMap;

/// One process's hold on a deleted file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub pid: i32,
    pub command: Vec<u8>,
    pub uid: u32,
    pub fd: FdName,
    pub access: Access,
}

/// A deleted file that is still open or mapped somewhere.
#[derive(Debug, Clone)]
pub struct DeletedFile {
    pub dev: Dev,
    pub inode: u64,
    /// The path it had, as the kernel remembers it (without " (deleted)").
    pub name: Vec<u8>,
    pub file_type: Option<FileType>,
    /// `st_size`, when known (a mapping's record does not carry it).
    pub size: Option<u64>,
    /// `st_blocks * 512`, the space the filesystem really has allocated,
    /// when a stat through /proc could learn it.
    pub allocated: Option<u64>,
    pub holders: Vec<Holder>,
}

impl DeletedFile {
    /// What the file pins on its filesystem: its allocated blocks (what
    /// `df` counts), or its size when the blocks could not be learned.
    pub fn bytes_held(&self) -> u64 {
        self.allocated.or(self.size).unwrap_or(0)
    }

    pub fn size_known(&self) -> bool {
        self.allocated.is_some() || self.size.is_some()
    }

    /// Truncated to nothing (`truncate -s 0 /proc/PID/fd/N`): no length
    /// and no blocks, measured. It pins no space and has nothing to
    /// recover, so the report does not count it as held.
    pub fn is_empty(&self) -> bool {
        self.size == Some(0) && self.allocated == Some(0)
    }
}

/// The deleted files of one filesystem (one device number).
#[derive(Debug, Clone)]
pub struct Filesystem {
    pub dev: Dev,
    /// From the mount table; None for a device no mount shows (memfd,
    /// another mount namespace).
    pub mount: Option<Mount>,
    pub bytes_held: u64,
    pub files: Vec<DeletedFile>,
}

#[derive(Debug, Clone, Default)]
pub struct Report {
    pub filesystems: Vec<Filesystem>,
    pub bytes_held: u64,
    /// Deleted files still open but empty (`DeletedFile::is_empty`):
    /// listed apart, in no filesystem's count.
    pub empty: Vec<DeletedFile>,
    /// Not every process could be read (not root): the report may miss
    /// other users' files.
    pub partial: bool,
}

impl Report {
    pub fn file_count(&self) -> usize {
        self.filesystems.iter().map(|f| f.files.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.filesystems.is_empty()
    }
}

/// Whether an open file is deleted but still held: no links left, or a
/// mapping the kernel marked deleted (lsof's `DEL`).
pub(crate) fn is_deleted_open(file: &OpenFile) -> bool {
    file.fd == Some(FdName::Del) || file.nlink == Some(0)
}

/// Gathers deleted files from processes as they stream by, keyed by
/// (device, inode), keeping only what the report needs.
#[derive(Debug, Default)]
pub(crate) struct Collector {
    index: HashMap<(Dev, u64), usize>,
    files: Vec<DeletedFile>,
}

impl Collector {
    pub(crate) fn add_process(&mut self, process: &Process) {
        for file in process.files.iter().filter(|f| is_deleted_open(f)) {
            let (Some(dev), Some(inode), Some(fd)) = (file.dev, file.inode, file.fd) else {
                continue;
            };
            let holder = Holder {
                pid: process.pid,
                command: process.command.clone(),
                uid: process.uid,
                fd,
                access: file.access,
            };
            let slot = *self.index.entry((dev, inode)).or_insert_with(|| {
                self.files.push(DeletedFile {
                    dev,
                    inode,
                    name: file.name.clone(),
                    file_type: file.file_type.clone(),
                    size: None,
                    allocated: None,
                    holders: Vec::new(),
                });
                self.files.len() - 1
            });
            let entry = &mut self.files[slot];
            if entry.size.is_none() {
                entry.size = file.size;
            }
            // A thread listed with its own rows repeats its process's holds.
            if !entry
                .holders
                .iter()
                .any(|h| h.pid == holder.pid && h.fd == holder.fd)
            {
                entry.holders.push(holder);
            }
        }
    }

    pub(crate) fn into_files(self) -> Vec<DeletedFile> {
        self.files
    }
}

/// Groups files by filesystem, sums what each holds, and sorts both levels
/// by bytes held, largest first.
pub(crate) fn group(files: Vec<DeletedFile>, mounts: &[Mount]) -> Report {
    let mut by_dev: HashMap<Dev, Vec<DeletedFile>> = HashMap::new();
    let mut empty = Vec::new();
    for mut file in files {
        if file.is_empty() {
            file.holders.sort_by_key(|h| (h.pid, h.fd));
            empty.push(file);
        } else {
            by_dev.entry(file.dev).or_default().push(file);
        }
    }
    empty.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.inode.cmp(&b.inode)));
    let mut filesystems: Vec<Filesystem> = by_dev
        .into_iter()
        .map(|(dev, mut files)| {
            files.sort_by(|a, b| {
                b.bytes_held()
                    .cmp(&a.bytes_held())
                    .then_with(|| a.name.cmp(&b.name))
                    .then_with(|| a.inode.cmp(&b.inode))
            });
            for f in &mut files {
                f.holders.sort_by_key(|h| (h.pid, h.fd));
            }
            Filesystem {
                dev,
                // The first mount of a device is where it was mounted
                // first; later ones are usually bind mounts of it.
                mount: mounts.iter().find(|m| m.dev == dev).cloned(),
                bytes_held: files.iter().map(DeletedFile::bytes_held).sum(),
                files,
            }
        })
        .collect();
    filesystems.sort_by(|a, b| {
        b.bytes_held
            .cmp(&a.bytes_held)
            .then_with(|| a.dev.cmp(&b.dev))
    });
    let bytes_held = filesystems.iter().map(|f| f.bytes_held).sum();
    Report {
        filesystems,
        bytes_held,
        empty,
        partial: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dev(minor: u32) -> Dev {
        Dev { major: 0, minor }
    }

    fn deleted_fd(n: u32, minor: u32, inode: u64, size: u64, name: &str) -> OpenFile {
        OpenFile {
            fd: Some(FdName::Num(n)),
            access: Access::Write,
            file_type: Some(FileType::Reg),
            dev: Some(dev(minor)),
            inode: Some(inode),
            nlink: Some(0),
            size: Some(size),
            name: name.as_bytes().to_vec(),
            deleted: true,
            ..Default::default()
        }
    }

    fn process(pid: i32, files: Vec<OpenFile>) -> Process {
        Process {
            pid,
            uid: 1000,
            command: b"app".to_vec(),
            files,
            ..Default::default()
        }
    }

    fn mount(minor: u32, point: &str) -> Mount {
        Mount {
            mnt_id: minor,
            dev: dev(minor),
            mount_point: point.as_bytes().to_vec(),
            fs_type: "tmpfs".into(),
            source: b"tmpfs".to_vec(),
        }
    }

    fn report_of(processes: &[Process], mounts: &[Mount]) -> Report {
        let mut c = Collector::default();
        for p in processes {
            c.add_process(p);
        }
        group(c.into_files(), mounts)
    }

    #[test]
    fn shared_inode_counts_once() {
        let shared = deleted_fd(3, 40, 7, 1000, "/data/log");
        let mut dup = shared.clone();
        dup.fd = Some(FdName::Num(9));
        let report = report_of(
            &[
                process(10, vec![shared.clone(), dup]),
                process(11, vec![shared]),
            ],
            &[mount(40, "/data")],
        );
        assert_eq!(report.bytes_held, 1000);
        assert_eq!(report.filesystems.len(), 1);
        let files = &report.filesystems[0].files;
        assert_eq!(files.len(), 1);
        let holders: Vec<(i32, FdName)> = files[0].holders.iter().map(|h| (h.pid, h.fd)).collect();
        assert_eq!(
            holders,
            vec![
                (10, FdName::Num(3)),
                (10, FdName::Num(9)),
                (11, FdName::Num(3))
            ]
        );
    }

    #[test]
    fn groups_by_filesystem_and_sorts_largest_first() {
        let report = report_of(
            &[
                process(
                    10,
                    vec![
                        deleted_fd(3, 40, 1, 100, "/a/small"),
                        deleted_fd(4, 41, 2, 5000, "/b/big"),
                        deleted_fd(5, 40, 3, 300, "/a/mid"),
                    ],
                ),
                process(12, vec![deleted_fd(3, 41, 4, 10, "/b/tiny")]),
            ],
            &[mount(40, "/a"), mount(41, "/b")],
        );
        assert_eq!(report.bytes_held, 5410);
        let points: Vec<&[u8]> = report
            .filesystems
            .iter()
            .map(|f| f.mount.as_ref().map(|m| &m.mount_point[..]).unwrap_or(b""))
            .collect();
        assert_eq!(points, vec![&b"/b"[..], &b"/a"[..]]);
        assert_eq!(report.filesystems[0].bytes_held, 5010);
        assert_eq!(report.filesystems[1].bytes_held, 400);
        let names: Vec<&[u8]> = report.filesystems[1]
            .files
            .iter()
            .map(|f| &f.name[..])
            .collect();
        assert_eq!(names, vec![&b"/a/mid"[..], &b"/a/small"[..]]);
    }

    #[test]
    fn allocated_blocks_win_over_size() {
        let mut c = Collector::default();
        c.add_process(&process(10, vec![deleted_fd(3, 40, 1, 1000, "/a/x")]));
        let mut files = c.into_files();
        files[0].allocated = Some(4096);
        let report = group(files, &[]);
        assert_eq!(report.bytes_held, 4096);
        assert!(report.filesystems[0].mount.is_none());
    }

    #[test]
    fn del_mappings_and_linked_files() {
        let del = OpenFile {
            fd: Some(FdName::Del),
            file_type: Some(FileType::Reg),
            dev: Some(dev(40)),
            inode: Some(9),
            name: b"/a/lib.so".to_vec(),
            ..Default::default()
        };
        let mut linked = deleted_fd(3, 40, 2, 50, "/a/live");
        linked.nlink = Some(1);
        let report = report_of(&[process(10, vec![del, linked])], &[mount(40, "/a")]);
        assert_eq!(report.file_count(), 1);
        let file = &report.filesystems[0].files[0];
        assert_eq!(file.inode, 9);
        assert!(!file.size_known());
        assert_eq!(report.bytes_held, 0);
    }

    #[test]
    fn a_file_truncated_to_nothing_is_listed_apart() {
        let mut c = Collector::default();
        c.add_process(&process(
            10,
            vec![
                deleted_fd(3, 40, 1, 0, "/a/emptied"),
                deleted_fd(4, 40, 2, 10, "/a/x"),
            ],
        ));
        let mut files = c.into_files();
        files[0].allocated = Some(0);
        files[1].allocated = Some(4096);
        let report = group(files, &[]);
        assert_eq!(report.file_count(), 1);
        assert_eq!(report.bytes_held, 4096);
        assert_eq!(report.empty.len(), 1);
        assert_eq!(report.empty[0].name, b"/a/emptied");
    }

    #[test]
    fn nothing_deleted_is_empty() {
        let mut linked = deleted_fd(3, 40, 2, 50, "/a/live");
        linked.nlink = Some(2);
        let report = report_of(&[process(10, vec![linked])], &[]);
        assert!(report.is_empty());
        assert_eq!(report.bytes_held, 0);
    }
}
