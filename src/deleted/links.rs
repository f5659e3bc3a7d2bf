//! The /proc links through which a held file can be reached after its
//! name is gone: `fd/N`, `exe`, `cwd`, `root`, and for a mapping,
//! `map_files/START-END` (readable by root only: CAP_SYS_ADMIN).

use super::collect::DeletedFile;
use crate::model::{Dev, FdName};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// The /proc path that reaches what `fd` of process `pid` holds, for a
/// file on `dev` with `inode`.
pub(crate) fn holder_link(
    proc_root: &Path,
    pid: i32,
    fd: FdName,
    dev: Dev,
    inode: u64,
) -> Option<PathBuf> {
    let dir = proc_root.join(pid.to_string());
    match fd {
        FdName::Num(n) => Some(dir.join("fd").join(n.to_string())),
        FdName::Txt => Some(dir.join("exe")),
        FdName::Cwd => Some(dir.join("cwd")),
        FdName::Rtd => Some(dir.join("root")),
        FdName::Mem | FdName::Del => {
            let maps = std::fs::read(dir.join("maps")).ok()?;
            let range = mapping_range(&maps, dev, inode)?;
            Some(dir.join("map_files").join(range))
        }
        FdName::NoFd => None,
    }
}

/// The address range (`start-end`, as map_files names it) of the first
/// mapping of (dev, inode) in maps text.
pub(crate) fn mapping_range(maps: &[u8], dev: Dev, inode: u64) -> Option<String> {
    maps.split(|&c| c == b'\n').find_map(|line| {
        let text = std::str::from_utf8(line).ok()?;
        let mut words = text.split_ascii_whitespace();
        let range = words.next()?;
        let (_perms, _offset) = (words.next()?, words.next()?);
        let (major, minor) = words.next()?.split_once(':')?;
        let line_inode: u64 = words.next()?.parse().ok()?;
        let line_dev = Dev {
            major: u32::from_str_radix(major, 16).ok()?,
            minor: u32::from_str_radix(minor, 16).ok()?,
        };
        (line_dev == dev && line_inode == inode).then(|| range.to_string())
    })
}

/// Learns the size and allocated bytes of each file by a stat through a
/// holder's /proc link, checking that the link still reaches the same
/// inode (a descriptor may have been closed and its number reused).
pub(crate) fn measure(proc_root: &Path, files: &mut [DeletedFile]) {
    for file in files.iter_mut() {
        for holder in &file.holders {
            let Some(link) = holder_link(proc_root, holder.pid, holder.fd, file.dev, file.inode)
            else {
                continue;
            };
            let Ok(meta) = std::fs::metadata(&link) else {
                continue;
            };
            if Dev::from_raw(meta.dev()) != file.dev || meta.ino() != file.inode {
                continue;
            }
            file.size = Some(meta.size());
            file.allocated = Some(meta.blocks().saturating_mul(512));
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_range_of_a_mapping() {
        let maps = b"55-56 r--p 00000000 fe:00 247282   /usr/bin/head\n\
7fd0-7fd1 rw-s 00000000 00:28 3                /tmp/x/m.bin (deleted)\n";
        let dev = Dev {
            major: 0,
            minor: 0x28,
        };
        assert_eq!(mapping_range(maps, dev, 3).as_deref(), Some("7fd0-7fd1"));
        assert_eq!(mapping_range(maps, dev, 4), None);
        assert_eq!(mapping_range(b"garbage\n\n", dev, 3), None);
    }

    #[test]
    fn links_by_descriptor_kind() {
        let root = Path::new("/proc");
        let dev = Dev { major: 0, minor: 1 };
        assert_eq!(
            holder_link(root, 7, FdName::Num(3), dev, 1),
            Some(PathBuf::from("/proc/7/fd/3"))
        );
        assert_eq!(
            holder_link(root, 7, FdName::Txt, dev, 1),
            Some(PathBuf::from("/proc/7/exe"))
        );
        assert_eq!(holder_link(root, 7, FdName::NoFd, dev, 1), None);
    }
}
