//! Network namespaces, named by the inode of `/proc/PID/ns/net` (what
//! lsof's NETNS column would show and what tells two namespaces apart).

use std::ffi::CStr;
use std::os::fd::RawFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// The file naming the network namespace of process `pid`.
pub(crate) fn path_of(proc_root: &Path, pid: i32) -> PathBuf {
    proc_root.join(pid.to_string()).join("ns/net")
}

/// The network namespace of process `pid`; None when it cannot be read
/// (process gone, no permission).
pub(crate) fn of_pid(proc_root: &Path, pid: i32) -> Option<u64> {
    inode_of(&path_of(proc_root, pid))
}

/// rlsof's own network namespace.
pub(crate) fn own(proc_root: &Path) -> Option<u64> {
    inode_of(&proc_root.join("self/ns/net"))
}

/// The network namespace of the process whose `/proc/PID` directory is
/// open as `pid_dir` (one `fstatat`).
pub(crate) fn of_pid_dir(pid_dir: RawFd) -> Option<u64> {
    const NAME: &CStr = c"ns/net";
    let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
    // SAFETY: NAME is NUL-terminated and `st` is a valid out pointer; a
    // bad descriptor only makes the call fail.
    let rc = unsafe { libc::fstatat(pid_dir, NAME.as_ptr(), st.as_mut_ptr(), 0) };
    // SAFETY: fstatat succeeded, so it filled `st`.
    (rc == 0).then(|| unsafe { st.assume_init() }.st_ino)
}

fn inode_of(path: &Path) -> Option<u64> {
    std::fs::metadata(path).ok().map(|m| m.ino())
}
