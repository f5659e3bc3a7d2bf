//! File arguments, `+d` and `+D`: resolved once, before the scan, into one
//! set of search files; each open file is then looked up by (device,
//! inode), or by device alone for a whole file system.

use super::mounts::{read_mount_points, MountPoint};
use super::paths::{resolve_links, trim_trailing_slashes};
use super::Messages;
use crate::model::{FileType, OpenFile, SocketInfo};
use crate::scan::exempt::ExemptPath;
use crate::scan::timeout::BlockGuard;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};

/// One search item (lsof's `struct sfile`).
#[derive(Debug)]
pub struct SearchFile {
    /// The argument as given, for `-V`.
    pub arg: Vec<u8>,
    /// The NAME shown for a file matched by device and inode.
    pub name: Vec<u8>,
    /// A whole file system (matched by device), not one file.
    pub file_system: bool,
    pub dev: u64,
    pub inode: u64,
    pub mode: u32,
    pub found: AtomicBool,
}

impl SearchFile {
    fn mark(&self) {
        self.found.store(true, Ordering::Relaxed);
    }

    pub fn was_found(&self) -> bool {
        self.found.load(Ordering::Relaxed)
    }
}

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

/// `+f` / `-f`: how arguments are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgKind {
    /// lsof decides: a mount point, or the block device of one, is a
    /// file system.
    Either,
    FilesOnly,
    FileSystemsOnly,
}

/// What resolving the arguments left for the exit status.
#[derive(Debug, Default)]
pub struct ArgOutcome {
    /// Search files made, oldest first.
    pub files: Vec<SearchFile>,
    /// Some argument could not be used (lsof's ErrStat).
    pub failed: bool,
    /// No argument could be used: lsof stops with status 1.
    pub none_usable: bool,
}

/// The name arguments, lsof's way: each path's links resolved, trailing
/// slashes dropped; a mount point (or, for a block device or under `+f`,
/// a mount source) names each matching file system, anything else is
/// stat'ed. `quiet` is `-Q` (no message for a name that is not there).
pub fn resolve_args(
    args: &[Vec<u8>],
    kind: ArgKind,
    quiet: bool,
    guard: &BlockGuard,
    avoid: bool,
    exempt: &[ExemptPath],
    msgs: &mut Messages,
) -> ArgOutcome {
    let mut out = ArgOutcome::default();
    let mut mounts: Option<Vec<MountPoint>> = None;
    let mut any_usable = false;
    for arg in args {
        let Some(path) = resolve_links(arg, avoid, guard, msgs) else {
            out.failed = true;
            continue;
        };
        let path = trim_trailing_slashes(&path).to_vec();
        let matches: Vec<MountPoint> = if kind == ArgKind::FilesOnly {
            Vec::new()
        } else {
            let table = mounts.get_or_insert_with(|| read_mount_points(guard, avoid, exempt, msgs));
            table
                .iter()
                .filter(|m| mount_matches(m, &path, kind))
                .cloned()
                .collect()
        };
        if kind == ArgKind::FileSystemsOnly && matches.is_empty() {
            if !quiet {
                msgs.error(format!("not a file system: {}", msgs.shown(arg)));
            }
            out.failed = true;
            continue;
        }
        if matches.is_empty() {
            match stat_arg(&path, guard, avoid, msgs) {
                Ok(st) => {
                    any_usable = true;
                    out.files.push(SearchFile {
                        arg: arg.clone(),
                        name: path,
                        file_system: false,
                        dev: st.st_dev,
                        inode: st.st_ino,
                        mode: st.st_mode & libc::S_IFMT,
                        found: AtomicBool::new(false),
                    });
                }
                Err(e) => {
                    if !quiet {
                        msgs.error(format!(
                            "status error on {}: {}",
                            msgs.shown(&path),
                            crate::scan::procfs::errno_text(&e)
                        ));
                    }
                    out.failed = true;
                }
            }
            continue;
        }
        any_usable = true;
        for m in matches {
            out.files.push(SearchFile {
                arg: arg.clone(),
                name: m.dir.clone(),
                file_system: true,
                dev: m.dev,
                inode: m.inode,
                mode: m.mode & libc::S_IFMT,
                found: AtomicBool::new(false),
            });
        }
    }
    // lsof: with -Q a failure is forgiven; without it, nothing usable at
    // all ends the run.
    if quiet {
        out.failed = false;
    } else if !any_usable {
        out.none_usable = true;
    }
    out
}

fn mount_matches(m: &MountPoint, path: &[u8], kind: ArgKind) -> bool {
    if m.dir == path {
        return true;
    }
    let by_source =
        kind == ArgKind::FileSystemsOnly || m.source_mode & libc::S_IFMT == libc::S_IFBLK;
    by_source && m.source_resolved.as_deref() == Some(path)
}

fn stat_arg(
    path: &[u8],
    guard: &BlockGuard,
    avoid: bool,
    msgs: &mut Messages,
) -> std::io::Result<libc::stat> {
    if avoid {
        msgs.warn(format!(
            "avoiding stat({}): -b was specified.",
            msgs.shown(path)
        ));
        return Err(std::io::Error::from_raw_os_error(libc::EWOULDBLOCK));
    }
    guard.stat_path(path, &|| {
        let text = std::fs::read("/proc/self/mountinfo").unwrap_or_default();
        crate::scan::mounts::parse_mountinfo(&text)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Dev;

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
