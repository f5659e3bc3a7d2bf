//! lsof's reading of a path argument: symbolic links in any component are
//! replaced by their targets (a relative target replaces the component),
//! over and over until nothing changes; `.` and `..` are left as written.

use super::Messages;
use crate::sys::block::BlockGuard;

/// lsof gives up after this many rounds of link replacement.
const MAX_ROUNDS: usize = 20;
/// lsof's MAXPATHLEN.
const PATH_MAX: usize = 4096;

/// The path lsof uses for `arg`; None (after lsof's message) when it is too
/// long or loops. Under `-b`, no link is read: the argument is used as is.
pub(super) fn resolve_links(
    arg: &[u8],
    avoid_blocking: bool,
    guard: &BlockGuard,
    msgs: &mut Messages,
) -> Option<Vec<u8>> {
    if avoid_blocking {
        msgs.warn(format!(
            "avoiding readlink({}): -b was specified.",
            msgs.shown(arg)
        ));
        return Some(arg.to_vec());
    }
    let mut current = arg.to_vec();
    for _ in 0..MAX_ROUNDS {
        let Some(next) = one_round(&current, guard) else {
            msgs.warn(format!("readlink() path too long: {}", msgs.shown(arg)));
            return None;
        };
        if next == current {
            return Some(current);
        }
        current = next;
    }
    msgs.warn(format!(
        "too many (> {MAX_ROUNDS}) symbolic links in readlink() path: {}",
        msgs.shown(arg)
    ));
    None
}

/// Replaces each component that is a link, reading links by the original
/// prefix of the path (later rounds resolve what earlier targets hold).
fn one_round(path: &[u8], guard: &BlockGuard) -> Option<Vec<u8>> {
    let mut out: Vec<u8> = Vec::new();
    let mut start = 0;
    while start < path.len() {
        let mut end = start + 1;
        while end < path.len() && path[end] != b'/' {
            end += 1;
        }
        if end >= PATH_MAX {
            return None;
        }
        let component = &path[start..end];
        match guard.readlink_path(&path[..end]).ok() {
            Some(target) if target.starts_with(b"/") => out = target,
            Some(target) => {
                let first_is_absolute = out.is_empty() && path.starts_with(b"/");
                if (!out.is_empty() && !out.ends_with(b"/")) || first_is_absolute {
                    out.push(b'/');
                }
                out.extend_from_slice(&target);
            }
            None => out.extend_from_slice(component),
        }
        if out.len() >= PATH_MAX {
            return None;
        }
        start = end;
    }
    Some(out)
}

/// lsof drops trailing `/` from a path longer than one byte.
pub(super) fn trim_trailing_slashes(path: &[u8]) -> &[u8] {
    let mut end = path.len();
    while end > 1 && path[end - 1] == b'/' {
        end -= 1;
    }
    &path[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::ffi::OsStrExt;

    fn guard() -> BlockGuard {
        let mounts = std::sync::Arc::new(crate::sys::mounts::MountTable::own());
        BlockGuard::new(std::time::Duration::from_secs(5), false, mounts)
    }

    fn resolve(p: &[u8]) -> Vec<u8> {
        let mut msgs = Messages::new("lsof", true);
        resolve_links(p, false, &guard(), &mut msgs).expect("resolves")
    }

    #[test]
    fn links_are_replaced_and_dots_kept() {
        let dir = std::env::temp_dir().join(format!("rlsof-paths-{}", std::process::id()));
        let _ = std::fs::create_dir_all(dir.join("real"));
        let _ = std::os::unix::fs::symlink("real", dir.join("rel"));
        let _ = std::os::unix::fs::symlink(dir.join("real"), dir.join("abs"));
        let base = dir.as_os_str().as_bytes().to_vec();
        let with = |tail: &str| [base.clone(), tail.as_bytes().to_vec()].concat();
        assert_eq!(resolve(&with("/rel/x")), with("/real/x"));
        assert_eq!(resolve(&with("/abs/x")), with("/real/x"));
        assert_eq!(resolve(&with("/real/../real")), with("/real/../real"));
        assert_eq!(resolve(b"relative/name"), b"relative/name".to_vec());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn trailing_slashes() {
        assert_eq!(trim_trailing_slashes(b"/tmp//"), b"/tmp");
        assert_eq!(trim_trailing_slashes(b"/"), b"/");
        assert_eq!(trim_trailing_slashes(b"//"), b"/");
    }

    #[test]
    fn avoiding_blocks_keeps_the_argument() {
        let mut msgs = Messages::new("lsof", true);
        assert_eq!(
            resolve_links(b"/x", true, &guard(), &mut msgs),
            Some(b"/x".to_vec())
        );
        assert_eq!(
            msgs.text(),
            "lsof: avoiding readlink(/x): -b was specified.\n"
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]
        #[test]
        fn random_paths_resolve_without_panics(
            parts in proptest::collection::vec(
                proptest::sample::select(&[
                    "/", "//", ".", "..", "tmp", "proc", "self", "\u{ff}", "x", "-", "cwd",
                ][..]),
                0..8,
            ),
            avoid_blocking in proptest::bool::weighted(0.25),
        ) {
            let path: Vec<u8> = parts.concat().into_bytes();
            let mut msgs = Messages::new("lsof", true);
            if let Some(p) = resolve_links(&path, avoid_blocking, &guard(), &mut msgs) {
                let _ = trim_trailing_slashes(&p);
            }
        }
    }
}
