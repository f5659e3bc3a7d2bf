//! The mount table as lsof sees it for file-system arguments: each mount
//! directory once (links resolved), with the device `stat` reports for it,
//! and the mount source (links resolved) with its file type.

use super::links::resolve_links;
use super::Messages;
use crate::scan::exempt::ExemptPath;
use crate::sys::block::BlockGuard;
use crate::sys::mounts::Mount;

#[derive(Debug, Clone)]
pub(super) struct MountPoint {
    pub dir: Vec<u8>,
    /// The source with links resolved, when it is a path.
    pub source_resolved: Option<Vec<u8>>,
    /// The source's file type bits (S_IFBLK for a block device), 0 if unknown.
    pub source_mode: u32,
    pub dev: u64,
    pub inode: u64,
    pub mode: u32,
}

/// Reads the table lsof's way: later duplicates of a directory are dropped
/// (except `/`, where the last one wins); a directory that cannot be
/// stat'ed is left out with lsof's warning; so is a mount `skip` names,
/// unstat'ed and unwarned. Newest first, as lsof keeps it.
pub(super) fn read_mount_points(
    guard: &BlockGuard,
    avoid: bool,
    exempt: &[ExemptPath],
    skip: &dyn Fn(&Mount) -> bool,
    msgs: &mut Messages,
) -> Vec<MountPoint> {
    read_mount_points_with(guard, avoid, exempt, skip, msgs, &mut |_| {})
}

/// `+m`: lsof's mount supplement, each mount directory it keeps with the
/// device `stat` gave, in the order it reads them.
pub(crate) fn mount_supplement(
    guard: &BlockGuard,
    avoid: bool,
    exempt: &[ExemptPath],
    msgs: &mut Messages,
) -> String {
    let mut text = String::new();
    read_mount_points_with(guard, avoid, exempt, &|_| false, msgs, &mut |p| {
        text += &format!("{} {:#x}\n", String::from_utf8_lossy(&p.dir), p.dev);
    });
    text
}

fn read_mount_points_with(
    guard: &BlockGuard,
    avoid: bool,
    exempt: &[ExemptPath],
    skip: &dyn Fn(&Mount) -> bool,
    msgs: &mut Messages,
    on_accept: &mut dyn FnMut(&MountPoint),
) -> Vec<MountPoint> {
    let mut points: Vec<MountPoint> = Vec::new();
    for m in guard.mounts().iter().filter(|m| !skip(m)) {
        // lsof neither reads links of a `+e` mount nor stats an exempt one.
        let exempted = exempt.iter().find(|e| e.path == m.mount_point);
        let dir = match exempted {
            Some(e) if e.literal => Some(m.mount_point.clone()),
            _ => resolve_links(&m.mount_point, avoid, guard, msgs),
        };
        let Some(dir) = dir else {
            msgs.warn_raw("      Output information may be incomplete.\n");
            continue;
        };
        if !dir.starts_with(b"/") {
            continue;
        }
        let known = points.iter().position(|p| p.dir == dir);
        if known.is_some() && dir != b"/" {
            continue;
        }
        let st = if exempted.is_some() {
            // SAFETY: all-zero is a valid stat (no device known).
            Ok(unsafe { std::mem::zeroed::<libc::stat>() })
        } else if avoid {
            msgs.warn(format!(
                "avoiding stat({}): -b was specified.",
                msgs.shown(&dir)
            ));
            Err(std::io::Error::from_raw_os_error(libc::EWOULDBLOCK))
        } else {
            guard.stat_path(&dir)
        };
        let Ok(st) = st else {
            msgs.warn(format!(
                "WARNING: can't stat() {} file system {}",
                msgs.shown(m.fs_type.as_bytes()),
                msgs.shown(&dir)
            ));
            msgs.warn_raw("      Output information may be incomplete.\n");
            continue;
        };
        let (source_resolved, source_mode) = source_of(m, guard, avoid, msgs);
        let point = MountPoint {
            dir,
            source_resolved,
            source_mode,
            dev: st.st_dev,
            inode: st.st_ino,
            mode: st.st_mode,
        };
        on_accept(&point);
        match known {
            Some(i) => points[i] = point,
            None => points.push(point),
        }
    }
    points.reverse();
    points
}

fn source_of(
    m: &Mount,
    guard: &BlockGuard,
    avoid: bool,
    msgs: &mut Messages,
) -> (Option<Vec<u8>>, u32) {
    if !m.source.starts_with(b"/") {
        return (None, 0);
    }
    let Some(resolved) = resolve_links(&m.source, avoid, guard, msgs) else {
        return (None, 0);
    };
    let mode = if avoid {
        0
    } else {
        guard.stat_path(&resolved).map_or(0, |st| st.st_mode)
    };
    (Some(resolved), mode)
}
