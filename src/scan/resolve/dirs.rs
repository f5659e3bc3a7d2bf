//! `+d DIR` (the directory and its entries) and `+D DIR` (the whole tree):
//! walked once, before the scan, into search files; each open file is then
//! one hash lookup, however large the tree.

use super::links::{resolve_links, trim_trailing_slashes};
use super::{DirArg, Messages, SearchFile};
use crate::sys::block::BlockGuard;
use crate::sys::errno::errno_text;
use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::sync::atomic::AtomicBool;

/// `-x`: cross mount points (`f`), follow symbolic links (`l`).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Crossing {
    pub file_systems: bool,
    pub symlinks: bool,
}

/// lsof refused a `+d`/`+D` directory (its message is written); the
/// caller ends with the usage and status 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Refused;

/// Walks one `+d`/`+D` directory into `out` (oldest first, lsof's order).
pub(super) fn walk_dir(
    search: &DirArg,
    cross: Crossing,
    avoid: bool,
    guard: &BlockGuard,
    msgs: &mut Messages,
    out: &mut Vec<SearchFile>,
) -> Result<(), Refused> {
    let arg = search.path.as_slice();
    if arg.is_empty() || arg[0] == b'+' || arg[0] == b'-' {
        msgs.warn("+d not followed by a directory path".to_string());
        return Err(Refused);
    }
    let dir = resolve_links(arg, avoid, guard, msgs).ok_or(Refused)?;
    let top = if avoid {
        stat(&dir, true, avoid, msgs)
    } else {
        guard.stat_path(&dir)
    };
    let st = match top {
        Ok(st) => st,
        Err(e) => {
            msgs.warn(format!(
                "WARNING: can't stat({}): {}",
                msgs.shown(&dir),
                errno_text(&e)
            ));
            return Err(Refused);
        }
    };
    if st.st_mode & libc::S_IFMT != libc::S_IFDIR {
        msgs.warn(format!("WARNING: not a directory: {}", msgs.shown(&dir)));
        return Err(Refused);
    }
    let top_dev = st.st_dev;
    // -V names the directory as resolved, before its trailing `/` go.
    let mut top = search_file(trim_trailing_slashes(&dir).to_vec(), &st);
    top.arg = dir.clone();
    out.push(top);
    let mut stack = vec![dir];
    while let Some(d) = stack.pop() {
        let entries = match std::fs::read_dir(std::ffi::OsStr::from_bytes(&d)) {
            Ok(e) => e,
            Err(e) => {
                if e.raw_os_error() != Some(libc::ENOENT) {
                    msgs.warn(format!(
                        "WARNING: can't opendir({}): {}",
                        msgs.shown(&d),
                        errno_text(&e)
                    ));
                }
                continue;
            }
        };
        let mut prefix = d.clone();
        if !prefix.ends_with(b"/") {
            prefix.push(b'/');
        }
        for entry in entries.flatten() {
            let mut path = prefix.clone();
            path.extend_from_slice(entry.file_name().as_bytes());
            let Some(st) = entry_stat(&path, cross, top_dev, avoid, msgs) else {
                continue;
            };
            if search.recursive && st.st_mode & libc::S_IFMT == libc::S_IFDIR {
                stack.push(path.clone());
            }
            out.push(search_file(path, &st));
        }
    }
    Ok(())
}

/// lstat an entry; None when lsof skips it (another file system without
/// `-x f`, a symbolic link without `-x l`, or an error).
fn entry_stat(
    path: &[u8],
    cross: Crossing,
    top_dev: u64,
    avoid: bool,
    msgs: &mut Messages,
) -> Option<libc::stat> {
    let st = match stat(path, false, avoid, msgs) {
        Ok(st) => st,
        Err(e) => {
            if e.raw_os_error() != Some(libc::ENOENT) {
                msgs.warn(format!(
                    "WARNING: can't lstat({}): {}",
                    msgs.shown(path),
                    errno_text(&e)
                ));
            }
            return None;
        }
    };
    if !cross.file_systems && st.st_dev != top_dev {
        return None;
    }
    if st.st_mode & libc::S_IFMT != libc::S_IFLNK {
        return Some(st);
    }
    if !cross.symlinks {
        return None;
    }
    match stat(path, true, avoid, msgs) {
        Ok(st) => Some(st),
        Err(e) => {
            if e.raw_os_error() != Some(libc::ENOENT) {
                msgs.warn(format!(
                    "WARNING: can't stat({}) symbolc link: {}",
                    msgs.shown(path),
                    errno_text(&e)
                ));
            }
            None
        }
    }
}

fn search_file(name: Vec<u8>, st: &libc::stat) -> SearchFile {
    SearchFile {
        arg: name.clone(),
        name,
        file_system: false,
        dev: st.st_dev,
        inode: st.st_ino,
        mode: st.st_mode & libc::S_IFMT,
        found: AtomicBool::new(false),
    }
}

fn stat(path: &[u8], follow: bool, avoid: bool, msgs: &mut Messages) -> io::Result<libc::stat> {
    if avoid {
        let call = if follow { "stat" } else { "lstat" };
        msgs.warn(format!(
            "avoiding {call}({}): -b was specified.",
            msgs.shown(path)
        ));
        return Err(io::Error::from_raw_os_error(libc::EWOULDBLOCK));
    }
    let c = CString::new(path).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
    // SAFETY: valid C string and out pointer.
    let rc = unsafe {
        if follow {
            libc::stat(c.as_ptr(), st.as_mut_ptr())
        } else {
            libc::lstat(c.as_ptr(), st.as_mut_ptr())
        }
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the call succeeded.
    Ok(unsafe { st.assume_init() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard() -> BlockGuard {
        let mounts = std::sync::Arc::new(crate::sys::mounts::MountTable::own());
        BlockGuard::new(std::time::Duration::from_secs(5), false, mounts)
    }

    fn tree() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("rlsof-dirs-{}", std::process::id()));
        let _ = std::fs::create_dir_all(dir.join("sub/deeper"));
        let _ = std::fs::write(dir.join("a"), b"a");
        let _ = std::fs::write(dir.join("sub/b"), b"b");
        let _ = std::fs::write(dir.join("sub/deeper/c"), b"c");
        let _ = std::os::unix::fs::symlink(dir.join("a"), dir.join("link"));
        dir
    }

    fn names(recursive: bool, cross: Crossing) -> Vec<String> {
        let dir = tree();
        let search = DirArg {
            path: dir.as_os_str().as_bytes().to_vec(),
            recursive,
        };
        let mut msgs = Messages::new("lsof", true);
        let mut out = Vec::new();
        walk_dir(&search, cross, false, &guard(), &mut msgs, &mut out).expect("walks");
        let base = dir.to_string_lossy().into_owned();
        let mut v: Vec<String> = out
            .iter()
            .map(|s| String::from_utf8_lossy(&s.name).replace(&base, ""))
            .collect();
        v.sort();
        v
    }

    #[test]
    fn one_level_and_whole_tree() {
        assert_eq!(names(false, Crossing::default()), ["", "/a", "/sub"]);
        assert_eq!(
            names(true, Crossing::default()),
            ["", "/a", "/sub", "/sub/b", "/sub/deeper", "/sub/deeper/c"]
        );
        let with_links = names(
            false,
            Crossing {
                file_systems: false,
                symlinks: true,
            },
        );
        assert!(with_links.contains(&"/link".to_string()));
    }

    #[test]
    fn not_a_directory_is_refused() {
        let dir = tree();
        let search = DirArg {
            path: dir.join("a").as_os_str().as_bytes().to_vec(),
            recursive: false,
        };
        let mut msgs = Messages::new("lsof", true);
        let mut out = Vec::new();
        assert!(walk_dir(
            &search,
            Crossing::default(),
            false,
            &guard(),
            &mut msgs,
            &mut out
        )
        .is_err());
        assert!(msgs.text().contains("WARNING: not a directory: "));
    }
}
