//! The ceilings: the kernel's file limits (`fs.file-nr`, `fs.file-max`,
//! `fs.nr_open`, the inotify limits), each process's RLIMIT_NOFILE, and
//! the inotify instances and watches each user holds.

use super::facts::{InotifyFd, ProcessFds};
use crate::scan::procfs::{number_cstr, Dir};
use std::collections::BTreeMap;
use std::path::Path;

/// The machine-wide numbers; None where the file could not be read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SystemLimits {
    /// `fs.file-nr`'s first field: file structures allocated.
    pub files_allocated: Option<u64>,
    pub file_max: Option<u64>,
    pub nr_open: Option<u64>,
    pub inotify_max_user_instances: Option<u64>,
    pub inotify_max_user_watches: Option<u64>,
}

/// Reads the limits under `proc_root/sys/fs`.
pub(crate) fn read_system_limits(proc_root: &Path) -> SystemLimits {
    let fs = proc_root.join("sys/fs");
    let first_number = |name: &str| -> Option<u64> {
        let text = std::fs::read_to_string(fs.join(name)).ok()?;
        text.split_whitespace().next()?.parse().ok()
    };
    let file_nr = std::fs::read_to_string(fs.join("file-nr")).ok();
    let file_nr_field =
        |i: usize| -> Option<u64> { file_nr.as_deref()?.split_whitespace().nth(i)?.parse().ok() };
    SystemLimits {
        files_allocated: file_nr_field(0),
        file_max: first_number("file-max").or_else(|| file_nr_field(2)),
        nr_open: first_number("nr_open"),
        inotify_max_user_instances: first_number("inotify/max_user_instances"),
        inotify_max_user_watches: first_number("inotify/max_user_watches"),
    }
}

/// The soft and hard "Max open files" of a `/proc/PID/limits` text;
/// "unlimited" as `u64::MAX`.
pub(crate) fn parse_open_files_limit(limits: &[u8]) -> Option<(u64, u64)> {
    let text = std::str::from_utf8(limits).ok()?;
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    let mut values = line["Max open files".len()..].split_whitespace();
    let value = |v: Option<&str>| -> Option<u64> {
        match v? {
            "unlimited" => Some(u64::MAX),
            n => n.parse().ok(),
        }
    };
    Some((value(values.next())?, value(values.next())?))
}

/// Fills each process's soft and hard limit from `/proc/PID/limits`.
/// Returns how many could not be read (the process left, most often).
pub(crate) fn read_process_limits(proc_root: &Path, processes: &mut [ProcessFds]) -> usize {
    let Ok(root) = Dir::open_path(proc_root) else {
        return processes.len();
    };
    let (mut name, mut text) = (Vec::new(), Vec::new());
    let mut failed = 0;
    for p in processes.iter_mut() {
        let read = root
            .open(number_cstr(p.pid as u64, &mut name))
            .and_then(|dir| dir.read_file(c"limits", &mut text));
        match read.ok().and_then(|()| parse_open_files_limit(&text)) {
            Some((soft, hard)) => {
                p.soft_limit = Some(soft);
                p.hard_limit = Some(hard);
            }
            None => failed += 1,
        }
    }
    failed
}

/// One user's inotify use: instances (each counted once however many
/// descriptors or processes share it) and the watches they hold.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct InotifyUse {
    pub instances: u64,
    pub watches: u64,
}

/// Measures the inotify descriptors: watches from fdinfo; a descriptor
/// that `kcmp` says is the same open file as one already counted (shared
/// after fork, or dup'ed) is counted once, as the kernel charges it.
pub(crate) fn inotify_by_user(proc_root: &Path, fds: &[InotifyFd]) -> BTreeMap<u32, InotifyUse> {
    let mut by_user: BTreeMap<u32, InotifyUse> = BTreeMap::new();
    // Per user, the instances counted so far: (pid, fd, watches).
    let mut counted: BTreeMap<u32, Vec<(i32, u32, u64)>> = BTreeMap::new();
    let mut text = Vec::new();
    for fd in fds {
        let path = proc_root.join(format!("{}/fdinfo/{}", fd.pid, fd.fd));
        text.clear();
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        text.extend_from_slice(&bytes);
        let watches = text
            .split(|&b| b == b'\n')
            .filter(|l| l.starts_with(b"inotify wd:"))
            .count() as u64;
        let seen = counted.entry(fd.uid).or_default();
        let shared = seen
            .iter()
            .any(|&(pid, other, w)| w == watches && same_open_file(pid, other, fd.pid, fd.fd));
        if shared {
            continue;
        }
        seen.push((fd.pid, fd.fd, watches));
        let entry = by_user.entry(fd.uid).or_default();
        entry.instances += 1;
        entry.watches += watches;
    }
    by_user
}

/// Whether two descriptors are the same open file (`kcmp(KCMP_FILE)`);
/// false when the kernel will not say.
fn same_open_file(pid1: i32, fd1: u32, pid2: i32, fd2: u32) -> bool {
    if pid1 == pid2 && fd1 == fd2 {
        return true;
    }
    const KCMP_FILE: libc::c_long = 0;
    // SAFETY: kcmp takes plain integers and touches no memory of ours.
    let same = unsafe {
        libc::syscall(
            libc::SYS_kcmp,
            libc::c_long::from(pid1),
            libc::c_long::from(pid2),
            KCMP_FILE,
            libc::c_long::from(fd1),
            libc::c_long::from(fd2),
        )
    };
    same == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_files_limit() {
        let text =
            b"Limit                     Soft Limit           Hard Limit           Units     \n\
Max cpu time              unlimited            unlimited            seconds   \n\
Max open files            1024                 524288               files     \n";
        assert_eq!(parse_open_files_limit(text), Some((1024, 524288)));
        let unlimited =
            b"Max open files            unlimited            unlimited            files\n";
        assert_eq!(
            parse_open_files_limit(unlimited),
            Some((u64::MAX, u64::MAX))
        );
        assert_eq!(parse_open_files_limit(b"Max cpu time 1 2\n"), None);
    }

    #[test]
    fn this_machine_has_limits() {
        let limits = read_system_limits(Path::new("/proc"));
        assert!(limits.files_allocated.is_some_and(|n| n > 0));
        assert!(limits.file_max.is_some_and(|n| n > 0));
        assert!(limits.nr_open.is_some_and(|n| n >= 1024));
    }

    #[test]
    fn own_limit_is_read() {
        let mut procs = vec![ProcessFds {
            pid: std::process::id() as i32,
            uid: 0,
            command: vec![],
            fds: 1,
            soft_limit: None,
            hard_limit: None,
        }];
        assert_eq!(read_process_limits(Path::new("/proc"), &mut procs), 0);
        let mut rl = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit fills the struct we pass.
        unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl) };
        assert_eq!(procs[0].soft_limit, Some(rl.rlim_cur));
    }

    #[test]
    fn inotify_instances_shared_by_dup_count_once() {
        // SAFETY: plain system calls on descriptors this test owns.
        let (a, b) = unsafe {
            let a = libc::inotify_init1(libc::IN_CLOEXEC);
            libc::inotify_add_watch(a, c"/".as_ptr(), libc::IN_CREATE);
            (a, libc::dup(a))
        };
        let pid = std::process::id() as i32;
        let fds = [
            InotifyFd {
                pid,
                uid: 7,
                fd: a as u32,
            },
            InotifyFd {
                pid,
                uid: 7,
                fd: b as u32,
            },
        ];
        let used = inotify_by_user(Path::new("/proc"), &fds);
        // SAFETY: closing descriptors this test opened.
        unsafe {
            libc::close(a);
            libc::close(b);
        }
        assert_eq!(
            used.get(&7),
            Some(&InotifyUse {
                instances: 1,
                watches: 1
            })
        );
    }
}
