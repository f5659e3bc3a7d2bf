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
    /// The file's `f_mode` (FMODE_READ 1, FMODE_WRITE 2).
    pub f_mode: u32,
    /// For an eventfd (a path of `anon_inode:[eventfd]`), its id, as
    /// fdinfo's `eventfd-id`; None when the kernel could not be asked.
    /// Meaningless for any other file.
    pub eventfd_id: Option<i32>,
    /// For an eventpoll (`anon_inode:[eventpoll]`), whether it watches any
    /// descriptor (fdinfo's `tfd` lines); None when the kernel could not be
    /// asked. Meaningless for any other file.
    pub epoll_watches: Option<bool>,
    /// What `readlink` of `/proc/PID/fd/N` would give; None when the
    /// program could not tell (too long for its buffer).
    pub path: Option<Vec<u8>>,
}

impl ListedFile {
    /// What `stat` of the file gives, for the fields a listing prints.
    pub fn stat(&self) -> libc::stat {
        stat_of(
            self.dev, self.inode, self.mode, self.nlink, self.rdev, self.size,
        )
    }
}

/// Which descriptors a run can list at all, as selection tells it before
/// any is read: the kernel's listing leaves the others in the kernel (no
/// path written, nothing copied out). A superset: what crosses is still
/// selected as any other file is. The default leaves nothing behind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListingFilter {
    /// Only sockets (`-i`, `-U` for every process).
    pub sockets_only: bool,
    /// Only files with fewer links than this (`+L1`), where the kernel's
    /// count is what `stat` would give (see [`ListedFile::kernel_stat`]).
    pub nlink_below: Option<u32>,
    /// Only descriptors in this range, bounds included (`-d 0-2`); an
    /// empty range (low above high) when `-d` names no number.
    pub fds: Option<(u32, u32)>,
}

impl ListingFilter {
    /// Whether any descriptor is left in the kernel.
    pub fn filters(&self) -> bool {
        *self != ListingFilter::default()
    }
}

impl std::fmt::Display for ListingFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut left = Vec::new();
        if self.sockets_only {
            left.push("other than sockets".to_string());
        }
        if let Some(n) = self.nlink_below {
            left.push(format!("with {n} or more links"));
        }
        match self.fds {
            Some((low, high)) if low > high => left.push("every descriptor".to_string()),
            Some((low, high)) => left.push(format!("outside {low}-{high}")),
            None => {}
        }
        write!(f, "{}", left.join("; "))
    }
}

/// File systems whose `getattr` reports the inode's own device, number,
/// mode, link count and size (`generic_fillattr`, or the same fields
/// copied): ext2/3/4, XFS, tmpfs, ramfs, hugetlbfs, proc, devpts, mqueue,
/// the BPF file system, and the kernel's internal ones (pipes, sockets,
/// anonymous inodes, namespaces). Not btrfs or overlayfs (their device
/// numbers are not the superblock's), kernfs (sysfs, cgroups: refreshed
/// at stat), nor any other: those files are stat'ed through `/proc`.
pub(super) const GENERIC_STAT_MAGICS: &[u64] = &[
    0xef53,      // ext2, ext3, ext4
    0x5846_5342, // xfs
    0x0102_1994, // tmpfs
    0x8584_58f6, // ramfs
    0x9584_58f6, // hugetlbfs
    0x9fa0,      // proc
    0x1cd1,      // devpts
    0x1980_0202, // mqueue
    0xcafe_4a11, // bpf
    0x5049_5045, // pipefs
    0x534f_434b, // sockfs
    0x0904_1934, // anon_inodefs
    0x6e73_6673, // nsfs
];

/// File systems whose `getattr` may wait on a server or a daemon (FUSE,
/// NFS): `stat` revalidates the inode there, and never returns when the
/// server or daemon does not answer. What the kernel holds is told
/// instead, at once: the same fields, as last revalidated
/// (DIVERGENCES.md).
pub(super) const REMOTE_MAGICS: &[u64] = &[
    0x6573_5546, // fuse
    0x6969,      // nfs
];

impl ListedFile {
    /// [`ListedFile::stat`] where the file system's `stat` would say the
    /// same, or might never answer; None where only `stat` can tell.
    pub fn kernel_stat(&self) -> Option<libc::stat> {
        let told = GENERIC_STAT_MAGICS.contains(&self.magic) || REMOTE_MAGICS.contains(&self.magic);
        told.then(|| self.stat())
    }

    /// The mode of the descriptor's `/proc/PID/fd/N` link, which tells
    /// how the file was opened: read and execute for reading, write and
    /// execute for writing.
    pub fn link_mode(&self) -> u32 {
        let mut mode = libc::S_IFLNK;
        if self.f_mode & 1 != 0 {
            mode |= libc::S_IRUSR | libc::S_IXUSR;
        }
        if self.f_mode & 2 != 0 {
            mode |= libc::S_IWUSR | libc::S_IXUSR;
        }
        mode
    }
}

/// What `stat` gives of an inode whose fields the kernel told (devices
/// in the kernel's encoding): the fields a listing prints, the rest zero.
pub(super) fn stat_of(
    dev: u32,
    inode: u64,
    mode: u32,
    nlink: u32,
    rdev: u32,
    size: i64,
) -> libc::stat {
    // SAFETY: all-zero is a valid stat (plain integers).
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    st.st_dev = user_dev(dev);
    st.st_ino = inode;
    st.st_mode = mode;
    st.st_nlink = u64::from(nlink) as libc::nlink_t;
    st.st_rdev = user_dev(rdev);
    st.st_size = size;
    st
}

/// A kernel-internal device number (`MKDEV`: major << 20 | minor) as
/// `stat` encodes it for user space (`new_encode_dev`, glibc's makedev).
pub(super) fn user_dev(kernel: u32) -> libc::dev_t {
    let (major, minor) = major_minor(kernel);
    libc::makedev(major, minor)
}

/// A kernel-internal device number's major and minor.
pub(super) fn major_minor(kernel: u32) -> (u32, u32) {
    (kernel >> 20, kernel & 0xf_ffff)
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
