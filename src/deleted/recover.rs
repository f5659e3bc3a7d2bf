//! Copying a held file's bytes out through its /proc link.
//!
//! The link is opened anew, so the holder's own file offset is untouched,
//! and the kernel decides whether we may read it. Once open, the file
//! stays readable even if its holder exits. Before a byte is written the
//! destination is checked (never overwritten, not on the filesystem being
//! freed unless forced, room enough); the copy keeps holes and gets its
//! final name only when complete and synced (see `stage`).

use super::interrupt::{signal_name, Interrupts};
use super::report::human_size;
use super::room::{bytes_needed, fits, room_in, same_filesystem};
use super::sparse::{copy_sparse, Stopped};
use super::stage::Staged;
use crate::escape::safe_text;
use std::fmt;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Where a copy reads from: a process and one of its /proc links.
#[derive(Debug, Clone)]
pub struct Source {
    pub pid: i32,
    /// "fd 3", "exe", "mapping 7f00-7f10": for messages.
    pub what: String,
    pub link: PathBuf,
}

/// What a finished copy did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copied {
    /// The copy's length.
    pub length: u64,
    /// The space the copy occupies (`st_blocks * 512`).
    pub allocated: u64,
    pub size_at_start: u64,
    /// The file's size when the copy ended.
    pub size_now: u64,
    /// The name the link shows (the original path, " (deleted)" included).
    pub name: Vec<u8>,
}

/// A path as the table escapes names, for messages.
pub fn shown(path: &Path) -> String {
    safe_text(path.as_os_str().as_bytes(), false)
}

#[derive(Debug)]
pub enum RecoverError {
    NoProcess(i32),
    NoDescriptor(Source),
    NotRegular(Source, &'static str),
    PermissionDenied(Source),
    Unreadable(Source, io::Error),
    DestinationExists(PathBuf),
    CreateFailed(PathBuf, io::Error),
    /// The destination's filesystem has less room than the copy needs.
    NoRoom {
        dest: PathBuf,
        needed: u64,
        free: u64,
    },
    /// The destination is on the filesystem the deleted file fills, and
    /// `--force` was not given.
    SameFilesystem(PathBuf),
    /// A stopping signal arrived; the partial copy was discarded.
    Interrupted {
        dest: PathBuf,
        signal: libc::c_int,
    },
    /// Reading or writing failed mid-copy; the partial copy was discarded.
    CopyFailed {
        dest: PathBuf,
        at: u64,
        reading: bool,
        error: io::Error,
    },
}

impl RecoverError {
    /// A few words for the summary of `--recover-all`.
    pub fn reason(&self) -> &'static str {
        match self {
            RecoverError::NoProcess(_) | RecoverError::NoDescriptor(_) => "holder gone",
            RecoverError::NotRegular(..) => "not a regular file",
            RecoverError::PermissionDenied(_) => "permission denied",
            RecoverError::Unreadable(..) => "unreadable",
            RecoverError::DestinationExists(_) => "destination exists",
            RecoverError::CreateFailed(..) => "cannot create",
            RecoverError::NoRoom { .. } => "does not fit",
            RecoverError::SameFilesystem(_) => "same filesystem, needs --force",
            RecoverError::Interrupted { .. } => "interrupted",
            RecoverError::CopyFailed { reading: true, .. } => "read error",
            RecoverError::CopyFailed { .. } => "write error",
        }
    }

    /// Whether another holder of the same file may still be read.
    pub fn try_another_holder(&self) -> bool {
        matches!(
            self,
            RecoverError::NoProcess(_)
                | RecoverError::NoDescriptor(_)
                | RecoverError::PermissionDenied(_)
                | RecoverError::Unreadable(..)
        )
    }
}

impl fmt::Display for RecoverError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            RecoverError::NoProcess(pid) => write!(f, "no such process: {pid}"),
            RecoverError::NoDescriptor(s) => {
                write!(f, "process {} has no {} ({})", s.pid, s.what, shown(&s.link))
            }
            RecoverError::NotRegular(s, kind) => write!(
                f,
                "process {} {} is not a regular file but a {kind}; only regular files can be recovered",
                s.pid, s.what
            ),
            RecoverError::PermissionDenied(s) => write!(
                f,
                "permission denied reading {} (the kernel refused: run as the process's owner, or with sudo)",
                shown(&s.link)
            ),
            RecoverError::Unreadable(s, e) => write!(f, "cannot open {}: {e}", shown(&s.link)),
            RecoverError::DestinationExists(p) => write!(
                f,
                "{} already exists; it was left untouched (recovery never overwrites)",
                shown(p)
            ),
            RecoverError::CreateFailed(p, e) => write!(f, "cannot create {}: {e}", shown(p)),
            RecoverError::NoRoom { dest, needed, free } => write!(
                f,
                "{} does not fit: the copy needs {} ({needed} bytes) and its filesystem has {} ({free} bytes) free; nothing was written",
                shown(dest),
                human_size(*needed),
                human_size(*free)
            ),
            RecoverError::SameFilesystem(p) => write!(
                f,
                "{} is on the filesystem the deleted file is filling; the copy would take more of its space. \
                 Copy to another filesystem, or add --force to copy there anyway; nothing was written",
                shown(p)
            ),
            RecoverError::Interrupted { dest, signal } => write!(
                f,
                "interrupted by {}: the partial copy was discarded and {} was not created",
                signal_name(*signal),
                shown(dest)
            ),
            RecoverError::CopyFailed {
                dest,
                at,
                reading,
                error,
            } => {
                let side = if *reading { "reading the source" } else { "writing" };
                write!(f, "{side} failed at byte {at}: {error}")?;
                if error.raw_os_error() == Some(libc::ENOSPC) {
                    write!(f, " (the destination's filesystem is full)")?;
                }
                write!(
                    f,
                    "; the partial copy was discarded and {} was not created",
                    shown(dest)
                )
            }
        }
    }
}

/// Where `--to` points.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    /// `--recover --to PATH`: the copy's name, or an existing directory
    /// to put it in under the original's name.
    Given(&'a Path),
    /// `--recover-all`: this exact name.
    Exact(&'a Path),
}

/// A copy checked and ready to start.
#[derive(Debug)]
pub struct Plan {
    src: File,
    name: Vec<u8>,
    size_at_start: u64,
    dir: PathBuf,
    pub dest: PathBuf,
    /// What the user should know before the copy starts (`--force`).
    pub warnings: Vec<String>,
}

/// Opens the source and checks the destination; writes nothing.
pub fn plan(
    source: &Source,
    proc_dir: &Path,
    target: Target,
    force: bool,
) -> Result<Plan, RecoverError> {
    let (src, name) = open_source(source, proc_dir)?;
    let meta = src
        .metadata()
        .map_err(|e| RecoverError::Unreadable(source.clone(), e))?;
    let dest = match target {
        Target::Given(path) if path.as_os_str().as_bytes().ends_with(b"/") && !path.is_dir() => {
            let missing = io::Error::new(io::ErrorKind::NotFound, "no such directory");
            return Err(RecoverError::CreateFailed(path.to_path_buf(), missing));
        }
        Target::Given(path) if path.is_dir() => path.join(original_base_name(&name)),
        Target::Given(path) | Target::Exact(path) => path.to_path_buf(),
    };
    if dest.symlink_metadata().is_ok() {
        return Err(RecoverError::DestinationExists(dest));
    }
    let dir = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let cannot_create = |e| RecoverError::CreateFailed(dest.clone(), e);
    let mut warnings = Vec::new();
    if same_filesystem(&dir, meta.dev()).map_err(cannot_create)? {
        if !force {
            return Err(RecoverError::SameFilesystem(dest));
        }
        warnings.push(format!(
            "warning: {} is on the filesystem the deleted file is filling; copying there anyway (--force)",
            shown(&dest)
        ));
    }
    let room = room_in(&dir).map_err(cannot_create)?;
    let needed = bytes_needed(
        meta.len(),
        meta.blocks().saturating_mul(512),
        room.block_size,
    );
    if !fits(&room, needed) {
        return Err(RecoverError::NoRoom {
            dest,
            needed,
            free: room.free,
        });
    }
    Ok(Plan {
        src,
        name,
        size_at_start: meta.len(),
        dir,
        dest,
        warnings,
    })
}

impl Plan {
    /// Copies the file; `progress(copied, total)` runs after each chunk.
    /// On any error, and on a stopping signal, nothing is left under any
    /// name.
    pub fn copy(
        self,
        stop: &Interrupts,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<Copied, RecoverError> {
        let dest = self.dest;
        let staged =
            Staged::create(&self.dir).map_err(|e| RecoverError::CreateFailed(dest.clone(), e))?;
        let failed = |at, reading, error| RecoverError::CopyFailed {
            dest: dest.clone(),
            at,
            reading,
            error,
        };
        let done = match copy_sparse(&self.src, staged.file(), self.size_at_start, stop, progress) {
            Ok(done) => done,
            Err(Stopped::Signal(signal)) => {
                return Err(RecoverError::Interrupted { dest, signal });
            }
            Err(Stopped::Failed { at, reading, error }) => return Err(failed(at, reading, error)),
        };
        staged
            .file()
            .set_permissions(std::fs::Permissions::from_mode(0o600))
            .and_then(|()| staged.file().sync_all())
            .map_err(|e| failed(done.length, false, e))?;
        // The last look before the copy gets its name.
        if let Some(signal) = stop.pending() {
            return Err(RecoverError::Interrupted { dest, signal });
        }
        let allocated = staged
            .file()
            .metadata()
            .map(|m| m.blocks().saturating_mul(512))
            .unwrap_or(0);
        staged.commit(&dest).map_err(|e| match e.kind() {
            io::ErrorKind::AlreadyExists => RecoverError::DestinationExists(dest.clone()),
            _ => failed(done.length, false, e),
        })?;
        let size_now = self.src.metadata().map_or(self.size_at_start, |m| m.len());
        Ok(Copied {
            length: done.length,
            allocated,
            size_at_start: self.size_at_start,
            size_now,
            name: self.name,
        })
    }
}

/// The last component of the name a /proc link shows, without
/// " (deleted)"; "deleted" when nothing usable is left.
pub fn original_base_name(link_name: &[u8]) -> PathBuf {
    let name = link_name.strip_suffix(b" (deleted)").unwrap_or(link_name);
    let base = name.rsplit(|&c| c == b'/').next().unwrap_or(b"");
    let base: &[u8] = if base.is_empty() || base == b"." || base == b".." {
        b"deleted"
    } else {
        base
    };
    PathBuf::from(std::ffi::OsString::from_vec(base.to_vec()))
}

/// Opens the source after checking it is a regular file (opening a FIFO
/// could block, a socket cannot be opened at all).
fn open_source(source: &Source, proc_dir: &Path) -> Result<(File, Vec<u8>), RecoverError> {
    if let Err(e) = std::fs::metadata(proc_dir) {
        return Err(match e.kind() {
            io::ErrorKind::NotFound => RecoverError::NoProcess(source.pid),
            _ => RecoverError::Unreadable(source.clone(), e),
        });
    }
    let link_error = |e: io::Error| match e.raw_os_error() {
        Some(libc::ENOENT) => RecoverError::NoDescriptor(source.clone()),
        Some(libc::EACCES | libc::EPERM) => RecoverError::PermissionDenied(source.clone()),
        _ => RecoverError::Unreadable(source.clone(), e),
    };
    let name = match std::fs::read_link(&source.link) {
        Ok(target) => target,
        // Not a link: a plain path was given (tests do this).
        Err(e) if e.raw_os_error() == Some(libc::EINVAL) => source.link.clone(),
        Err(e) => return Err(link_error(e)),
    };
    let name = name.into_os_string().into_vec();
    let meta = std::fs::metadata(&source.link).map_err(link_error)?;
    check_regular(source, &meta)?;
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(&source.link)
        .map_err(link_error)?;
    let opened = file
        .metadata()
        .map_err(|e| RecoverError::Unreadable(source.clone(), e))?;
    check_regular(source, &opened)?;
    if opened.dev() != meta.dev() || opened.ino() != meta.ino() {
        // The descriptor was closed and reused between the two looks.
        return Err(RecoverError::NoDescriptor(source.clone()));
    }
    Ok((file, name))
}

fn check_regular(source: &Source, meta: &std::fs::Metadata) -> Result<(), RecoverError> {
    let t = meta.file_type();
    let kind = if t.is_file() {
        return Ok(());
    } else if t.is_dir() {
        "directory"
    } else if t.is_fifo() {
        "pipe (FIFO)"
    } else if t.is_socket() {
        "socket"
    } else if t.is_char_device() {
        "character device"
    } else if t.is_block_device() {
        "block device"
    } else {
        "special file"
    };
    Err(RecoverError::NotRegular(source.clone(), kind))
}

/// The line(s) reporting a finished copy.
pub fn describe_copy(source: &Source, dest: &Path, copied: &Copied) -> String {
    let mut text = format!(
        "recovered {} ({} bytes long, {} allocated) from PID {} {} ({}) to {}",
        human_size(copied.length),
        copied.length,
        human_size(copied.allocated),
        source.pid,
        source.what,
        safe_text(&copied.name, false),
        shown(dest)
    );
    if copied.length < copied.size_at_start {
        text.push_str(&format!(
            "\n  the file shrank during the copy (it has {} bytes now); copied {} of the {} bytes it had when the copy started",
            copied.size_now, copied.length, copied.size_at_start
        ));
    } else if copied.size_now > copied.size_at_start {
        text.push_str(&format!(
            "\n  the file grew to {} bytes during the copy (it is still being written); copied the {} bytes it had when the copy started",
            copied.size_now, copied.size_at_start
        ));
    } else if copied.size_now < copied.size_at_start {
        text.push_str(&format!(
            "\n  the file was truncated to {} bytes during the copy; the copy has the {} bytes it had when the copy started (a part may read as zeros)",
            copied.size_now, copied.size_at_start
        ));
    }
    text
}

#[cfg(test)]
#[path = "recover_tests.rs"]
mod tests;
