//! One descriptor as the kernel listing (`super::listing`) reports it:
//! what `readlink`, `stat` and fdinfo would tell of it.

/// One descriptor of a process's own table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedFile {
    pub fd: u32,
    /// fdinfo's `flags:` (O_CLOEXEC from the descriptor table included).
    pub flags: u32,
    pub pos: i64,
    pub inode: u64,
    pub size: i64,
    /// The file system's magic number (`statfs`'s `f_type`).
    pub magic: u64,
    /// The kernel's own encodings (major << 20 | minor).
    pub dev: u32,
    pub rdev: u32,
    pub nlink: u32,
    pub mode: u32,
    /// What `readlink` of `/proc/PID/fd/N` would give; None when the
    /// program could not tell (too long for its buffer).
    pub path: Option<Vec<u8>>,
}

impl ListedFile {
    /// What `stat` of the file gives, for the fields a listing prints.
    pub fn stat(&self) -> libc::stat {
        // SAFETY: all-zero is a valid stat (plain integers).
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        st.st_dev = user_dev(self.dev);
        st.st_ino = self.inode;
        st.st_mode = self.mode;
        st.st_nlink = u64::from(self.nlink) as libc::nlink_t;
        st.st_rdev = user_dev(self.rdev);
        st.st_size = self.size;
        st
    }
}

/// A kernel-internal device number (`MKDEV`: major << 20 | minor) as
/// `stat` encodes it for user space (`new_encode_dev`, glibc's makedev).
fn user_dev(kernel: u32) -> libc::dev_t {
    libc::makedev(kernel >> 20, kernel & 0xf_ffff)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_device_numbers_read_as_stat_gives_them() {
        let kernel = (259 << 20) | 3;
        assert_eq!(user_dev(kernel), libc::makedev(259, 3));
        assert_eq!(user_dev((1 << 20) | 300), libc::makedev(1, 300));
    }
}
