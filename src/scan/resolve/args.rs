//! The name arguments, lsof's way: a mount point (or the block device of
//! one) names a file system, anything else is stat'ed.

use super::links::{resolve_links, trim_trailing_slashes};
use super::mount_points::{read_mount_points, MountPoint};
use super::{Messages, SearchFile};
use crate::scan::exempt::ExemptPath;
use crate::sys::block::BlockGuard;
use crate::sys::errno::errno_text;
use std::sync::atomic::AtomicBool;

/// `+f` / `-f`: how arguments are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ArgKind {
    /// lsof decides: a mount point, or the block device of one, is a
    /// file system.
    Either,
    FilesOnly,
    FileSystemsOnly,
}

/// What resolving the arguments left for the exit status.
#[derive(Debug, Default)]
pub(super) struct ArgOutcome {
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
pub(super) fn resolve_args(
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
            let table = mounts
                .get_or_insert_with(|| read_mount_points(guard, avoid, exempt, &|_| false, msgs));
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
            match file_arg(arg, path, quiet, guard, avoid, msgs) {
                Some(file) => {
                    any_usable = true;
                    out.files.push(file);
                }
                None => out.failed = true,
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

/// A name that is no file system: the file it names, stat'ed; None (after
/// lsof's message unless `quiet`) when it cannot be.
fn file_arg(
    arg: &[u8],
    path: Vec<u8>,
    quiet: bool,
    guard: &BlockGuard,
    avoid: bool,
    msgs: &mut Messages,
) -> Option<SearchFile> {
    match stat_arg(&path, guard, avoid, msgs) {
        Ok(st) => Some(SearchFile {
            arg: arg.to_vec(),
            name: path,
            file_system: false,
            dev: st.st_dev,
            inode: st.st_ino,
            mode: st.st_mode & libc::S_IFMT,
            found: AtomicBool::new(false),
        }),
        Err(e) => {
            if !quiet {
                msgs.error(format!(
                    "status error on {}: {}",
                    msgs.shown(&path),
                    errno_text(&e)
                ));
            }
            None
        }
    }
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
    guard.stat_path(path)
}
