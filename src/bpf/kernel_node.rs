//! A file as the kernel holds it, as the mappings program
//! (`super::mappings`) tells it: a mapped file, or a process's working
//! directory, root or executable.

use super::listed::{major_minor, stat_of, user_dev, GENERIC_STAT_MAGICS};

/// A file as the kernel holds it: what its path is made from, and what
/// `stat` would tell of it where the file system's `getattr` copies the
/// inode's fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KernelNode {
    pub path_key: PathKey,
    pub inode: u64,
    pub size: i64,
    pub magic: u64,
    /// The kernel's own encodings (major << 20 | minor).
    pub dev: u32,
    pub rdev: u32,
    pub nlink: u32,
    pub mode: u32,
}

impl KernelNode {
    /// The device as `stat` gives it.
    pub fn user_dev(&self) -> libc::dev_t {
        user_dev(self.dev)
    }

    /// What `stat` gives, where the file system's `stat` would say the
    /// same (see `super::listed`); None where only `stat` can tell.
    pub fn generic_stat(&self) -> Option<libc::stat> {
        GENERIC_STAT_MAGICS.contains(&self.magic).then(|| {
            stat_of(
                self.dev, self.inode, self.mode, self.nlink, self.rdev, self.size,
            )
        })
    }
}

/// A process's working directory, root and executable; None where the
/// kernel had none (a process without an executable) or could not tell.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TaskFiles {
    pub cwd: Option<KernelNode>,
    pub root: Option<KernelNode>,
    pub exe: Option<KernelNode>,
}

/// A process's own files but its descriptors, as the kernel holds them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessFiles {
    /// Its working directory, root and executable; None when the task
    /// was exiting.
    pub task: Option<TaskFiles>,
    /// Each mapping of a file, in address order (as maps lists them).
    pub mappings: Vec<MappedFile>,
}

/// One mapping of a file into a process, as the kernel holds it (see
/// `MappingsProgram`): the mapping's addresses, the inode maps prints,
/// and what tells the file's path apart from every other's, without the
/// path itself (see [`PathKey`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappedFile {
    pub start: u64,
    pub end: u64,
    /// The kernel's encoding (major << 20 | minor).
    pub dev: u32,
    pub inode: u64,
    pub path_key: PathKey,
}

impl MappedFile {
    /// The device as maps prints it: (major, minor).
    pub fn device(&self) -> (u32, u32) {
        major_minor(self.dev)
    }
}

/// What the kernel's `d_path` makes a file's path from, as the program
/// read it: the mount and dentry (addresses in the kernel, compared only),
/// and of the dentry what a rename or an unlink changes (its parent, its
/// name's hash and length, whether it is hashed: `d_path` adds
/// " (deleted)" to an unhashed one). Two mappings with equal keys, read
/// in one run, have the same path in maps, a rename of a directory above
/// the file between the two reads excepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PathKey {
    pub mount: u64,
    pub dentry: u64,
    pub parent: u64,
    pub name_hash_len: u64,
    pub hashed: bool,
}
