//! The files a process has open other than through a descriptor: its
//! working directory (cwd), root directory (rtd), executable (txt) and
//! memory-mapped files (mem, DEL).

use super::{proc_path, ProcEntry};
use crate::bpf::{KernelNode, MappedFile, PathKey};
use crate::model::{Dev, FdName, FileType, OpenFile};
use crate::scan::exempt::{exempt_for, exempt_link, exempt_mapping};
use crate::scan::maps::{parse_maps, Mapping};
use crate::scan::node;
use crate::scan::{Buffers, Scanner};
use crate::sys::errno::errno_text;
use std::ffi::CStr;
use std::io;

impl Scanner {
    /// cwd, root, exe: from the kernel's `node` where it can tell (see
    /// `from_kernel`); else readlink, then stat through the link.
    pub(super) fn special_link(
        &self,
        place: &ProcEntry,
        name: &CStr,
        fd: FdName,
        node: Option<KernelNode>,
        bufs: &mut Buffers,
    ) -> Option<OpenFile> {
        if let Some(file) = node.and_then(|n| self.special_link_from_kernel(place, fd, n)) {
            return Some(file);
        }
        let mut file = OpenFile {
            fd: Some(fd),
            ..Default::default()
        };
        if let Err(e) = place.dir.readlink(name, &mut bufs.link) {
            if !self.cfg.warnings {
                return None;
            }
            file.file_type = Some(FileType::Unknown);
            file.name = proc_path(place, name.to_bytes());
            let kernel_thread_exe =
                fd == FdName::Txt && e.raw_os_error() == Some(libc::ENOENT) && place.uid == 0;
            if !kernel_thread_exe {
                file.note = Some(format!("readlink: {}", errno_text(&e)));
            }
            return Some(file);
        }
        if let Some(e) = exempt_for(&self.cfg.exempt, &bufs.link) {
            let kind = fd.label();
            exempt_link(&mut file, &bufs.link, kind.trim(), e);
            return Some(file);
        }
        node::name_from_link(&mut file, &bufs.link, None);
        let stat = if self.cached_attributes_for(&bufs.link) {
            crate::sys::block::stat_cached_at(place.dir.raw(), name)
        } else {
            self.guard.stat_at(place.dir.raw(), name, &bufs.link)
        };
        match stat {
            Ok(st) => {
                if let Some(told) = node {
                    self.keep_link_path(told, &bufs.link, &st);
                }
                node::apply_stat(&mut file, &st, &bufs.link, self.mqueue_dev());
            }
            Err(e) => {
                file.file_type = Some(FileType::Unknown);
                if self.cfg.warnings {
                    file.note = Some(format!("stat: {}", errno_text(&e)));
                }
            }
        }
        self.add_lock(place, &mut file);
        Some(file)
    }

    /// The files the process maps (mem, DEL rows), but its executable:
    /// from the kernel where it can tell them, else from maps.
    pub(super) fn mappings(
        &self,
        place: &ProcEntry,
        exe: Option<(Dev, u64)>,
        told: Option<Vec<MappedFile>>,
        bufs: &mut Buffers,
        files: &mut Vec<OpenFile>,
    ) {
        let before = files.len();
        let told = told.and_then(|told| self.mappings_from_kernel(place, told, exe, bufs));
        if let Some(told) = told {
            if self.list_mappings(place, exe, told, files) {
                return;
            }
            files.truncate(before);
        }
        self.count_maps_read();
        if place.dir.read_file(c"maps", &mut bufs.text).is_err() {
            return;
        }
        let mapped = parse_maps(&bufs.text).into_iter().map(|m| (m, None));
        self.list_mappings(place, exe, mapped.collect(), files);
    }

    /// Adds a row for each of `mapped`. A mapping with a path key has a
    /// path just read from its `map_files` link (see
    /// `from_kernel`): the path is kept for other processes once it
    /// proves to be the file's; false when it does not (the process
    /// mapped another file at those addresses since the kernel told of
    /// the mapping: maps is read instead).
    fn list_mappings(
        &self,
        place: &ProcEntry,
        exe: Option<(Dev, u64)>,
        mapped: Vec<(Mapping, Option<PathKey>)>,
        files: &mut Vec<OpenFile>,
    ) -> bool {
        for (m, fresh) in mapped {
            if Some((m.dev, m.inode)) == exe {
                continue;
            }
            let mut file = OpenFile {
                fd: Some(FdName::Mem),
                ..Default::default()
            };
            if let Some(e) = exempt_for(&self.cfg.exempt, &m.path) {
                if fresh.is_some_and(|key| !self.keep_mapping_path(place, key, &m, false)) {
                    return false;
                }
                if m.deleted {
                    file.fd = Some(FdName::Del);
                }
                file.dev = Some(m.dev);
                file.inode = Some(m.inode);
                exempt_mapping(&mut file, m.deleted, e);
                file.name = m.path;
                files.push(file);
                continue;
            }
            let is_it = |st: &libc::stat| Dev::from_raw(st.st_dev) == m.dev && st.st_ino == m.inode;
            let mut stat = if self.cached_attributes_for(&m.path) {
                stat_mapping_cached(place, &m)
            } else {
                self.stat_mapped(&m.path, m.dev, m.inode)
            };
            if !stat.as_ref().is_ok_and(is_it) {
                if let Some(st) = stat_in_other_mount_ns(place, &m) {
                    stat = Ok(st);
                }
            }
            let proven = stat.as_ref().is_ok_and(is_it);
            if fresh.is_some_and(|key| !self.keep_mapping_path(place, key, &m, proven)) {
                return false;
            }
            match stat {
                Ok(st) if is_it(&st) => {
                    node::apply_stat(&mut file, &st, &m.path, self.mqueue_dev());
                }
                other => {
                    if m.deleted {
                        file.fd = Some(FdName::Del);
                    } else if self.cfg.warnings {
                        file.note = Some(match other {
                            Err(e) => format!("stat: {}", errno_text(&e)),
                            Ok(st) => mismatch_note(&st, m.dev, m.inode),
                        });
                    }
                    file.file_type = Some(FileType::Reg);
                    file.dev = Some(m.dev);
                    file.inode = Some(m.inode);
                }
            }
            file.name = m.path;
            self.add_lock(place, &mut file);
            files.push(file);
        }
        true
    }

    /// Shared libraries are mapped by nearly every process: stat each
    /// (device, inode, path) once per run, not once per process.
    pub(super) fn stat_mapped(&self, path: &[u8], dev: Dev, inode: u64) -> io::Result<libc::stat> {
        if let Some(st) = self.mapped.get(dev, inode, path) {
            return Ok(st);
        }
        let st = self.guard.stat_path(path)?;
        if Dev::from_raw(st.st_dev) == dev && st.st_ino == inode {
            self.mapped.insert(dev, inode, path, &st);
        }
        Ok(st)
    }
}

/// A mapped file on FUSE, stat'ed through its `/proc/PID/map_files/`
/// link (which leads to the file without a lookup on the mount) from the
/// attributes the kernel caches: no call reaches the daemon.
fn stat_mapping_cached(place: &ProcEntry, m: &Mapping) -> io::Result<libc::stat> {
    crate::sys::block::stat_cached_at(place.dir.raw(), &m.map_files_link())
}

fn mismatch_note(st: &libc::stat, dev: Dev, inode: u64) -> String {
    let sdev = Dev::from_raw(st.st_dev);
    let mut note = String::new();
    if sdev != dev {
        note.push_str(&format!("path dev={},{}", sdev.major, sdev.minor));
        if st.st_ino != inode {
            note.push_str(&format!(",inode={}", st.st_ino));
        }
    } else {
        note.push_str(&format!("path inode={}", st.st_ino));
    }
    note
}

/// A mapped file of a process in another mount namespace: its path names
/// nothing (or another file) here, so it is stat'ed through the process's
/// `/proc/PID/map_files/` link, which leads to the file itself, as upstream
/// lsof 4.96 does (4.95: `(stat: No such file or directory)`). Only where
/// the kernel lets us follow that link (root); otherwise None, and lsof
/// 4.95's answer stands.
fn stat_in_other_mount_ns(place: &ProcEntry, m: &Mapping) -> Option<libc::stat> {
    static OURS: std::sync::OnceLock<Option<(u64, u64)>> = std::sync::OnceLock::new();
    let ours = OURS.get_or_init(|| {
        let st = std::fs::metadata("/proc/self/ns/mnt").ok()?;
        use std::os::unix::fs::MetadataExt;
        Some((st.dev(), st.ino()))
    });
    let theirs = place.dir.stat(c"ns/mnt", false).ok()?;
    if m.deleted || *ours == Some((theirs.st_dev, theirs.st_ino)) {
        return None;
    }
    let st = place.dir.stat(&m.map_files_link(), false).ok()?;
    (Dev::from_raw(st.st_dev) == m.dev && st.st_ino == m.inode).then_some(st)
}
