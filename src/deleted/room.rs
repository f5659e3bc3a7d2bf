//! Will the copy fit, and where does it go? Checked before a byte is
//! written: a recovery that fills the destination halfway helps no one,
//! and one onto the filesystem the deleted file is filling makes it worse.

use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// Free space and block size of the filesystem holding `dir`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Room {
    /// Bytes this process may still allocate there (root may use the
    /// blocks reserved for it).
    pub free: u64,
    pub block_size: u64,
    /// Free inodes, when the filesystem counts them (0 total: it does not).
    pub free_inodes: Option<u64>,
}

pub(super) fn room_in(dir: &Path) -> io::Result<Room> {
    let path = CString::new(dir.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path contains a NUL byte"))?;
    // SAFETY: statvfs is plain old data; zeroed is a valid value.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: a NUL-terminated path and a pointer to a live statvfs.
    if unsafe { libc::statvfs(path.as_ptr(), &mut st) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let blocks = if root { st.f_bfree } else { st.f_bavail };
    let block_size = if st.f_frsize > 0 {
        st.f_frsize
    } else {
        st.f_bsize
    };
    let inodes = if root { st.f_ffree } else { st.f_favail };
    Ok(Room {
        free: (blocks as u64).saturating_mul(block_size as u64),
        block_size: (block_size as u64).max(1),
        free_inodes: (st.f_files > 0).then_some(inodes as u64),
    })
}

/// What a copy will allocate: the source's data (its allocated bytes, but
/// never more than its length rounded up to whole blocks of the
/// destination), or its whole length when its filesystem reports no
/// blocks at all.
pub(super) fn bytes_needed(length: u64, allocated: u64, block_size: u64) -> u64 {
    let whole_blocks = length.div_ceil(block_size).saturating_mul(block_size);
    if allocated == 0 && length > 0 {
        whole_blocks
    } else {
        allocated.min(whole_blocks)
    }
}

/// Whether `needed` bytes and one inode fit in `room`.
pub(super) fn fits(room: &Room, needed: u64) -> bool {
    needed <= room.free && room.free_inodes != Some(0)
}

/// Whether `dir` is on the filesystem with device number `dev`.
pub(super) fn same_filesystem(dir: &Path, dev: u64) -> io::Result<bool> {
    Ok(std::fs::metadata(dir)?.dev() == dev)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn needed_bytes() {
        assert_eq!(bytes_needed(0, 0, 4096), 0);
        assert_eq!(bytes_needed(10, 4096, 4096), 4096);
        assert_eq!(bytes_needed(20 << 20, 4096, 4096), 4096);
        assert_eq!(bytes_needed(5000, 0, 4096), 8192);
        assert_eq!(bytes_needed(5000, 1 << 20, 4096), 8192);
    }

    #[test]
    fn the_temp_dir_has_room_for_nothing_at_least() {
        let room = room_in(&std::env::temp_dir()).unwrap();
        assert!(fits(&room, 0));
        assert!(!fits(&room, u64::MAX));
        assert!(room.block_size >= 512);
        assert!(room_in(Path::new("/nonexistent/dir")).is_err());
    }
}
