//! Copying a held file's bytes out through its /proc link.
//!
//! The link is opened anew, so the holder's own file offset is untouched,
//! and the kernel decides whether we may read it. The destination is
//! created exclusively and never overwritten; a copy that fails is removed.

use super::report::{human_size, printable};
use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Files at least this large get a progress bar on a terminal.
const PROGRESS_MIN_BYTES: u64 = 32 << 20;
const CHUNK: usize = 1 << 20;

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
    pub bytes: u64,
    pub size_at_start: u64,
    /// The file's size when the copy ended.
    pub size_now: u64,
    /// The name the link shows (the original path, " (deleted)" included).
    pub name: Vec<u8>,
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
    /// Reading or writing failed mid-copy; the partial copy was removed.
    CopyFailed {
        dest: PathBuf,
        copied: u64,
        reading: bool,
        error: io::Error,
    },
}

impl fmt::Display for RecoverError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            RecoverError::NoProcess(pid) => write!(f, "no such process: {pid}"),
            RecoverError::NoDescriptor(s) => {
                write!(f, "process {} has no {} ({})", s.pid, s.what, s.link.display())
            }
            RecoverError::NotRegular(s, kind) => write!(
                f,
                "process {} {} is not a regular file but a {kind}; only regular files can be recovered",
                s.pid, s.what
            ),
            RecoverError::PermissionDenied(s) => write!(
                f,
                "permission denied reading {} (the kernel refused: run as the process's owner, or with sudo)",
                s.link.display()
            ),
            RecoverError::Unreadable(s, e) => write!(f, "cannot open {}: {e}", s.link.display()),
            RecoverError::DestinationExists(p) => write!(
                f,
                "{} already exists; it was left untouched (recovery never overwrites)",
                p.display()
            ),
            RecoverError::CreateFailed(p, e) => write!(f, "cannot create {}: {e}", p.display()),
            RecoverError::CopyFailed {
                dest,
                copied,
                reading,
                error,
            } => {
                let side = if *reading { "reading the source" } else { "writing" };
                write!(f, "{side} failed after {copied} bytes: {error}")?;
                if error.raw_os_error() == Some(libc::ENOSPC) {
                    write!(f, " (the destination's filesystem is full)")?;
                }
                write!(f, "; the partial copy {} was removed", dest.display())
            }
        }
    }
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
    let name = std::os::unix::ffi::OsStringExt::into_vec(name.into_os_string());
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

/// Copies `source` to `dest`, which must not exist. `progress` is called
/// after each chunk with (copied, total).
pub fn copy_out(
    source: &Source,
    proc_dir: &Path,
    dest: &Path,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Copied, RecoverError> {
    let (mut src, name) = open_source(source, proc_dir)?;
    let size_at_start = src
        .metadata()
        .map_err(|e| RecoverError::Unreadable(source.clone(), e))?
        .len();
    let mut dst = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_CLOEXEC)
        .open(dest)
        .map_err(|e| match e.kind() {
            io::ErrorKind::AlreadyExists => RecoverError::DestinationExists(dest.to_path_buf()),
            _ => RecoverError::CreateFailed(dest.to_path_buf(), e),
        })?;
    let result = copy_prefix(&mut src, &mut dst, size_at_start, progress).and_then(|copied| {
        // The holder may be killed next: say "recovered" only once the
        // bytes are on disk.
        dst.set_permissions(std::fs::Permissions::from_mode(0o600))
            .and_then(|()| dst.sync_all())
            .map(|()| copied)
            .map_err(|e| (copied, false, e))
    });
    drop(dst);
    match result {
        Ok(copied) => {
            let size_now = src.metadata().map(|m| m.len()).unwrap_or(size_at_start);
            Ok(Copied {
                bytes: copied,
                size_at_start,
                size_now,
                name,
            })
        }
        Err((copied, reading, error)) => {
            // Created exclusively above, so this file is ours to remove.
            let _ = std::fs::remove_file(dest);
            Err(RecoverError::CopyFailed {
                dest: dest.to_path_buf(),
                copied,
                reading,
                error,
            })
        }
    }
}

/// Copies at most `limit` bytes; stops early if the source shrinks.
/// Errors carry (bytes copied, whether reading failed, error).
fn copy_prefix(
    src: &mut File,
    dst: &mut File,
    limit: u64,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<u64, (u64, bool, io::Error)> {
    let mut buf = vec![0u8; CHUNK];
    let mut copied = 0u64;
    while copied < limit {
        let want = (limit - copied).min(CHUNK as u64) as usize;
        let n = match src.read(&mut buf[..want]) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err((copied, true, e)),
        };
        dst.write_all(&buf[..n]).map_err(|e| (copied, false, e))?;
        copied += n as u64;
        progress(copied, limit);
    }
    Ok(copied)
}

/// A progress bar on stderr for large files, when stderr is a terminal.
pub struct ProgressBar {
    enabled: bool,
    last: Option<Instant>,
    drawn: bool,
}

impl ProgressBar {
    pub fn for_stderr() -> ProgressBar {
        ProgressBar {
            enabled: unsafe { libc::isatty(2) } == 1,
            last: None,
            drawn: false,
        }
    }

    pub fn update(&mut self, copied: u64, total: u64, err: &mut dyn Write) {
        if !self.enabled || total < PROGRESS_MIN_BYTES {
            return;
        }
        let now = Instant::now();
        if self
            .last
            .is_some_and(|t| now.duration_since(t) < Duration::from_millis(100))
            && copied < total
        {
            return;
        }
        self.last = Some(now);
        let width = 30u64;
        let filled = (copied.saturating_mul(width) / total.max(1)).min(width) as usize;
        let percent = copied.saturating_mul(100) / total.max(1);
        let _ = write!(
            err,
            "\r[{}{}] {percent:>3}% {} / {}",
            "#".repeat(filled),
            " ".repeat(width as usize - filled),
            human_size(copied),
            human_size(total)
        );
        let _ = err.flush();
        self.drawn = true;
    }

    pub fn finish(&mut self, err: &mut dyn Write) {
        if self.drawn {
            let _ = write!(err, "\r\x1b[K");
            let _ = err.flush();
            self.drawn = false;
        }
    }
}

/// The line(s) reporting a finished copy.
pub fn describe_copy(source: &Source, dest: &Path, copied: &Copied) -> String {
    let mut text = format!(
        "recovered {} ({} bytes) from PID {} {} ({}) to {}",
        human_size(copied.bytes),
        copied.bytes,
        source.pid,
        source.what,
        printable(&copied.name),
        dest.display()
    );
    if copied.bytes < copied.size_at_start {
        text.push_str(&format!(
            "\n  the file shrank during the copy (it has {} bytes now); copied {} of the {} bytes it had when the copy started",
            copied.size_now, copied.bytes, copied.size_at_start
        ));
    } else if copied.size_now > copied.size_at_start {
        text.push_str(&format!(
            "\n  the file grew to {} bytes during the copy (it is still being written); copied the {} bytes it had when the copy started",
            copied.size_now, copied.size_at_start
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("rlsof-recover-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_growing_file_is_copied_to_its_starting_size() {
        let dir = temp_dir("grow");
        let path = dir.join("live.log");
        std::fs::write(&path, vec![b'a'; 3 * CHUNK + 10]).unwrap();
        let source = Source {
            pid: std::process::id() as i32,
            what: "test file".into(),
            link: path.clone(),
        };
        let mut appender = OpenOptions::new().append(true).open(&path).unwrap();
        let dest = dir.join("copy");
        let mut grow = |_copied: u64, _total: u64| {
            appender.write_all(b"more").unwrap();
        };
        let copied = copy_out(&source, &dir, &dest, &mut grow).unwrap();
        assert_eq!(copied.bytes, 3 * CHUNK as u64 + 10);
        assert_eq!(copied.size_now, 3 * CHUNK as u64 + 10 + 4 * 4);
        assert_eq!(std::fs::read(&dest).unwrap(), vec![b'a'; 3 * CHUNK + 10]);
        let meta = std::fs::metadata(&dest).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        let text = describe_copy(&source, &dest, &copied);
        assert!(text.contains("grew to"), "{text}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_existing_destination_is_left_alone() {
        let dir = temp_dir("exists");
        let path = dir.join("src");
        std::fs::write(&path, b"new").unwrap();
        let dest = dir.join("dest");
        std::fs::write(&dest, b"keep me").unwrap();
        let source = Source {
            pid: 1,
            what: "test file".into(),
            link: path,
        };
        let err = copy_out(&source, &dir, &dest, &mut |_, _| {}).unwrap_err();
        assert!(matches!(err, RecoverError::DestinationExists(_)), "{err}");
        assert_eq!(std::fs::read(&dest).unwrap(), b"keep me");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn directories_are_refused() {
        let dir = temp_dir("dir");
        let source = Source {
            pid: 1,
            what: "cwd".into(),
            link: dir.clone(),
        };
        let err = copy_out(&source, &dir, &dir.join("d"), &mut |_, _| {}).unwrap_err();
        assert!(err.to_string().contains("not a regular file"), "{err}");
        assert!(!dir.join("d").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
