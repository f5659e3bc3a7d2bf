//! A copy that has no final name until it is complete and on disk.
//!
//! The copy is written into a file without a name (`O_TMPFILE`) in the
//! destination's directory and linked under its final name only after
//! `fsync`; `linkat` fails if the name exists, so nothing is overwritten.
//! Whatever stops the copy first (a signal, a full disk, SIGKILL, a crash)
//! leaves nothing: a nameless file vanishes with its last descriptor.
//!
//! Filesystems without `O_TMPFILE` get a hidden name instead
//! (`.rlsof-recover-PID-N.tmp`), locked with `flock` while it is written
//! and renamed without replacing (`renameat2(RENAME_NOREPLACE)`, or
//! `link` + `unlink` where that is not supported). SIGKILL can leave such
//! a name behind; it never blocks a later run (names are unique), and a
//! later run in the same directory removes it once no one holds its lock.

use std::ffi::CString;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

const TEMP_PREFIX: &str = ".rlsof-recover-";
const TEMP_SUFFIX: &str = ".tmp";
/// A hidden temporary younger than this is never swept: its writer may
/// not have taken its lock yet.
const STALE_AFTER: Duration = Duration::from_secs(10);

/// The file a copy is written into, not yet under its final name.
#[derive(Debug)]
pub(super) struct Staged {
    file: File,
    /// The hidden name, when `O_TMPFILE` could not be used; removed on
    /// drop unless the copy was committed.
    temp_name: Option<PathBuf>,
}

impl Staged {
    /// A new nameless (or hidden, locked) file of mode 0600 in `dir`.
    pub(super) fn create(dir: &Path) -> io::Result<Staged> {
        match OpenOptions::new()
            .write(true)
            .read(true)
            .mode(0o600)
            .custom_flags(libc::O_TMPFILE | libc::O_CLOEXEC)
            .open(dir)
        {
            Ok(file) => Ok(Staged {
                file,
                temp_name: None,
            }),
            // Not supported by this filesystem (EOPNOTSUPP), or a kernel
            // that reads O_TMPFILE as O_DIRECTORY (EISDIR).
            Err(e) if matches!(e.raw_os_error(), Some(libc::EOPNOTSUPP | libc::EISDIR)) => {
                Staged::create_hidden(dir)
            }
            Err(e) => Err(e),
        }
    }

    /// The fallback: a hidden name, locked while we write it.
    pub(super) fn create_hidden(dir: &Path) -> io::Result<Staged> {
        sweep_stale(dir);
        let mut attempt = 0u32;
        let (file, name) = loop {
            let name = dir.join(format!(
                "{TEMP_PREFIX}{}-{attempt}{TEMP_SUFFIX}",
                std::process::id()
            ));
            match OpenOptions::new()
                .write(true)
                .read(true)
                .create_new(true)
                .mode(0o600)
                .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW)
                .open(&name)
            {
                Ok(file) => break (file, name),
                // Left by an earlier process with our PID.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempt < 1000 => {
                    attempt += 1
                }
                Err(e) => return Err(e),
            }
        };
        // SAFETY: flock on a descriptor we own; no memory is passed.
        unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        Ok(Staged {
            file,
            temp_name: Some(name),
        })
    }

    pub(super) fn file(&self) -> &File {
        &self.file
    }

    /// Whether the copy has a hidden name (the fallback) rather than none.
    #[cfg(test)]
    pub(super) fn is_hidden(&self) -> bool {
        self.temp_name.is_some()
    }

    /// Syncs the copy and gives it the name `dest`, which must not exist
    /// (`AlreadyExists` otherwise, and the copy is discarded); then syncs
    /// the directory so the name survives a crash too.
    pub(super) fn commit(mut self, dest: &Path) -> io::Result<()> {
        self.file.sync_all()?;
        match self.temp_name.take() {
            None => link_nameless(&self.file, dest)?,
            Some(temp) => {
                if let Err(e) = rename_no_replace(&temp, dest) {
                    self.temp_name = Some(temp);
                    return Err(e);
                }
            }
        }
        sync_dir(dest.parent().unwrap_or(Path::new(".")))
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if let Some(name) = &self.temp_name {
            // Created exclusively by us, so it is ours to remove.
            let _ = std::fs::remove_file(name);
        }
    }
}

fn c_path(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path contains a NUL byte"))
}

fn check(ret: libc::c_int) -> io::Result<()> {
    if ret == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Links a nameless file: through /proc/self/fd (what open(2) documents
/// for unprivileged callers), or with AT_EMPTY_PATH when /proc is absent.
fn link_nameless(file: &File, dest: &Path) -> io::Result<()> {
    let dest = c_path(dest)?;
    let proc_link = CString::new(format!("/proc/self/fd/{}", file.as_raw_fd()))
        .expect("no NUL in a formatted number");
    // SAFETY: both paths are NUL-terminated and outlive the call.
    let linked = check(unsafe {
        libc::linkat(
            libc::AT_FDCWD,
            proc_link.as_ptr(),
            libc::AT_FDCWD,
            dest.as_ptr(),
            libc::AT_SYMLINK_FOLLOW,
        )
    });
    match linked {
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) && !Path::new("/proc/self").exists() => {
            // SAFETY: an empty NUL-terminated path and our own descriptor.
            check(unsafe {
                libc::linkat(
                    file.as_raw_fd(),
                    c"".as_ptr(),
                    libc::AT_FDCWD,
                    dest.as_ptr(),
                    libc::AT_EMPTY_PATH,
                )
            })
        }
        other => other,
    }
}

/// Renames `from` to `to` unless `to` exists.
fn rename_no_replace(from: &Path, to: &Path) -> io::Result<()> {
    let (c_from, c_to) = (c_path(from)?, c_path(to)?);
    // SAFETY: both paths are NUL-terminated and outlive the call.
    let renamed = check(unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            c_from.as_ptr(),
            libc::AT_FDCWD,
            c_to.as_ptr(),
            libc::RENAME_NOREPLACE,
        )
    });
    match renamed {
        // The filesystem cannot rename without replacing: a link cannot
        // replace either, and then the hidden name goes.
        Err(e) if matches!(e.raw_os_error(), Some(libc::EINVAL | libc::ENOSYS)) => {
            std::fs::hard_link(from, to)?;
            let _ = std::fs::remove_file(from);
            Ok(())
        }
        other => other,
    }
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    File::open(dir)?.sync_all()
}

/// Removes hidden temporaries a killed run left in `dir`: ours by name,
/// owned by us, older than `STALE_AFTER`, and not locked by a writer.
pub(super) fn sweep_stale(dir: &Path) {
    sweep_older_than(dir, STALE_AFTER);
}

fn sweep_older_than(dir: &Path, min_age: Duration) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    // SAFETY: geteuid has no preconditions.
    let me = unsafe { libc::geteuid() };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let text = name.to_string_lossy();
        if !(text.starts_with(TEMP_PREFIX) && text.ends_with(TEMP_SUFFIX)) {
            continue;
        }
        let path = entry.path();
        let Ok(file) = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
            .open(&path)
        else {
            continue;
        };
        let Ok(meta) = file.metadata() else { continue };
        let old = SystemTime::UNIX_EPOCH + Duration::from_secs(meta.ctime().max(0) as u64);
        // (A ctime a moment ahead of `now`, as a virtual machine's clocks
        // may give, is no age at all.)
        let is_old = min_age.is_zero()
            || SystemTime::now()
                .duration_since(old)
                .is_ok_and(|age| age >= min_age);
        // SAFETY: flock on a descriptor we own.
        let unlocked = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0;
        let same = std::fs::symlink_metadata(&path)
            .is_ok_and(|m| m.ino() == meta.ino() && m.dev() == meta.dev());
        if meta.is_file() && meta.uid() == me && is_old && unlocked && same {
            let _ = std::fs::remove_file(&path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn temp_dir(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("rlsof-stage-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn nameless_until_committed_and_never_replacing() {
        let dir = temp_dir("nameless");
        let staged = Staged::create(&dir).unwrap();
        (&mut staged.file()).write_all(b"data").unwrap();
        assert!(names(&dir).is_empty(), "a name appeared before commit");
        staged.commit(&dir.join("final")).unwrap();
        assert_eq!(std::fs::read(dir.join("final")).unwrap(), b"data");
        let again = Staged::create(&dir).unwrap();
        let err = again.commit(&dir.join("final")).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(dir.join("final")).unwrap(), b"data");
        assert_eq!(names(&dir), ["final"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn hidden_fallback_is_removed_unless_committed() {
        let dir = temp_dir("hidden");
        let dropped = Staged::create_hidden(&dir).unwrap();
        assert!(dropped.is_hidden());
        assert_eq!(names(&dir).len(), 1);
        drop(dropped);
        assert!(names(&dir).is_empty());
        let kept = Staged::create_hidden(&dir).unwrap();
        (&mut kept.file()).write_all(b"x").unwrap();
        std::fs::write(dir.join("taken"), b"keep").unwrap();
        assert!(kept.commit(&dir.join("taken")).is_err());
        assert_eq!(names(&dir), ["taken"]);
        let good = Staged::create_hidden(&dir).unwrap();
        good.commit(&dir.join("new")).unwrap();
        assert_eq!(names(&dir), ["new", "taken"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_stale_hidden_temporary_is_swept_but_a_locked_one_is_not() {
        let dir = temp_dir("stale");
        let stale = dir.join(format!("{TEMP_PREFIX}1-0{TEMP_SUFFIX}"));
        std::fs::write(&stale, b"left by SIGKILL").unwrap();
        let live = Staged::create_hidden(&dir).unwrap();
        // Too young to sweep: both stay.
        sweep_stale(&dir);
        assert_eq!(names(&dir).len(), 2);
        // Old enough: the stale one goes, the locked one stays.
        sweep_older_than(&dir, Duration::ZERO);
        let left = names(&dir);
        assert_eq!(left.len(), 1);
        assert!(live.temp_name.as_ref().unwrap().ends_with(&left[0]));
        drop(live);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
