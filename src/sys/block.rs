//! Bounded `stat`: a file on a dead NFS server or a stuck FUSE daemon can
//! block `stat` forever. lsof forks a helper per call and gives up after
//! `-S` seconds; rlsof does the same, without lsof's long-lived helper:
//! a child forked for the one call, abandoned (killed, left to init) at
//! the deadline, while the listing goes on.
//!
//! Only files on file systems that can block (network and FUSE mounts)
//! pay for the thread; everything else keeps the direct system call.

use super::child::{call_with_deadline, Answer, Call};
use super::mounts::{Mount, MountTable};
use std::collections::HashSet;
use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// Stuck children left behind; past this many, calls on blocking file
/// systems fail at once rather than leave more behind.
const MAX_ABANDONED: usize = 32;

/// File system types whose `stat` may wait on a server or a daemon.
pub(crate) fn may_block_type(fs_type: &str) -> bool {
    const NETWORK: &[&str] = &[
        "nfs",
        "nfs3",
        "nfs4",
        "cifs",
        "smb3",
        "smbfs",
        "ncpfs",
        "9p",
        "ceph",
        "glusterfs",
        "afs",
        "coda",
        "lustre",
        "gfs2",
        "ocfs2",
        "davfs",
        "sshfs",
    ];
    NETWORK.contains(&fs_type) || is_fuse_type(fs_type)
}

fn is_fuse_type(fs_type: &str) -> bool {
    fs_type == "fuse" || fs_type.starts_with("fuse.")
}

/// What a scan may do about calls that can block.
#[derive(Debug)]
pub struct BlockGuard {
    timeout: Duration,
    /// The run's mount table, which says where the file systems that may
    /// block are.
    mounts: Arc<MountTable>,
    /// `-b`: never make a call that may block; report it as lsof does.
    avoid: bool,
    /// Every mount point, longest first (the latest mount first among
    /// equals), with whether its file system may block; empty when none
    /// may.
    risky: OnceLock<Vec<(Vec<u8>, bool)>>,
    abandoned: AtomicUsize,
    /// Mount points on which a call already timed out: later calls there
    /// fail at once instead of costing the timeout again.
    stuck: Mutex<HashSet<Vec<u8>>>,
}

impl BlockGuard {
    pub fn new(timeout: Duration, avoid: bool, mounts: Arc<MountTable>) -> BlockGuard {
        BlockGuard {
            timeout,
            mounts,
            avoid,
            risky: OnceLock::new(),
            abandoned: AtomicUsize::new(0),
            stuck: Mutex::new(HashSet::new()),
        }
    }

    /// The run's mount table (read now if nobody has yet).
    pub fn mounts(&self) -> &[Mount] {
        self.mounts.get()
    }

    /// The mount point holding `path` when its file system may block.
    /// The file system is the one mounted on the longest mount point
    /// containing the path, whatever its type: a local mount under a
    /// network root (NFS root, 9p, WSL) is local.
    fn risky_mount(&self, path: &[u8]) -> Option<Vec<u8>> {
        let points = self.risky.get_or_init(|| {
            let all = self.mounts.get();
            if !all.iter().any(|m| may_block_type(&m.fs_type)) {
                return Vec::new();
            }
            // Reversed first, so that the stable sort keeps the latest of
            // mounts on one point (the one that hides the others) first.
            let mut points: Vec<(Vec<u8>, bool)> = all
                .iter()
                .rev()
                .map(|m| (m.mount_point.clone(), may_block_type(&m.fs_type)))
                .collect();
            points.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
            points
        });
        if points.is_empty() || !path.starts_with(b"/") {
            return None;
        }
        match points.iter().find(|(mp, _)| is_under(path, mp)) {
            Some((mp, true)) => Some(mp.clone()),
            _ => None,
        }
    }

    /// `fstatat(dir, name)` following links, bounded when `path` (what the
    /// link points to) lies on a file system that may block. A timeout is
    /// `ETIMEDOUT` ("Connection timed out", as lsof reports it); under `-b`
    /// such a file is not stat'ed: `EWOULDBLOCK`.
    pub fn stat_at(&self, dir: RawFd, name: &CStr, path: &[u8]) -> io::Result<libc::stat> {
        let Some(mount) = self.risky_mount(path) else {
            return stat_at_raw(dir, name);
        };
        self.bounded(&mount, dir, name)
    }

    /// Whether `path` lies on a FUSE file system (the innermost mount
    /// holding it decides), whose attributes as last cached can be read
    /// without its daemon: see [`stat_cached_at`].
    pub fn on_fuse(&self, path: &[u8]) -> bool {
        let Some(point) = self.risky_mount(path) else {
            return false;
        };
        let mounted = self.mounts.get().iter().rev();
        mounted
            .filter(|m| m.mount_point == point)
            .map(|m| m.fs_type.as_str())
            .next()
            .is_some_and(is_fuse_type)
    }

    /// `stat(path)`, bounded the same way.
    pub fn stat_path(&self, path: &[u8]) -> io::Result<libc::stat> {
        let c = CString::new(path).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
        match self.risky_mount(path) {
            None => stat_at_raw(libc::AT_FDCWD, &c),
            Some(mount) => self.bounded(&mount, libc::AT_FDCWD, &c),
        }
    }

    fn bounded(&self, mount: &[u8], at: RawFd, name: &CStr) -> io::Result<libc::stat> {
        if self.avoid {
            return Err(io::Error::from_raw_os_error(libc::EWOULDBLOCK));
        }
        match self.call(mount, Call::Stat, at, name)? {
            Answer::Stat(st) => Ok(*st),
            Answer::Link(_) => Err(io::Error::from_raw_os_error(libc::EIO)),
        }
    }

    /// `readlink(path)`, bounded when `path` lies on a file system that
    /// may block (lsof reads the links of its arguments in its helper).
    pub fn readlink_path(&self, path: &[u8]) -> io::Result<Vec<u8>> {
        let c = CString::new(path).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
        let Some(mount) = self.risky_mount(path) else {
            let mut buf = vec![0u8; 4096];
            // SAFETY: valid C string; the buffer is 4096 bytes.
            let n = unsafe { libc::readlink(c.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
            if n < 0 {
                return Err(io::Error::last_os_error());
            }
            buf.truncate(n as usize);
            return Ok(buf);
        };
        if self.avoid {
            return Err(io::Error::from_raw_os_error(libc::EWOULDBLOCK));
        }
        match self.call(&mount, Call::Readlink, libc::AT_FDCWD, &c)? {
            Answer::Link(l) => Ok(l),
            Answer::Stat(_) => Err(io::Error::from_raw_os_error(libc::EIO)),
        }
    }

    /// One bounded call for a file on `mount`; a timeout marks the mount
    /// stuck, and later calls there fail at once.
    fn call(&self, mount: &[u8], call: Call, at: RawFd, name: &CStr) -> io::Result<Answer> {
        let timed_out = || io::Error::from_raw_os_error(libc::ETIMEDOUT);
        if self.is_stuck(mount) || self.abandoned.load(Ordering::Relaxed) >= MAX_ABANDONED {
            return Err(timed_out());
        }
        let result = call_with_deadline(call, at, name, self.timeout);
        if result.is_none() {
            self.abandoned.fetch_add(1, Ordering::Relaxed);
            if let Ok(mut stuck) = self.stuck.lock() {
                stuck.insert(mount.to_vec());
            }
        }
        result.unwrap_or_else(|| Err(timed_out()))
    }

    fn is_stuck(&self, mount: &[u8]) -> bool {
        self.stuck
            .lock()
            .map(|s| s.contains(mount))
            .unwrap_or(false)
    }
}

/// Whether `path` is `mount` or below it.
fn is_under(path: &[u8], mount: &[u8]) -> bool {
    if mount == b"/" {
        return true;
    }
    path.starts_with(mount) && matches!(path.get(mount.len()), None | Some(b'/'))
}

/// `fstatat(at, name)` following links, from the attributes the kernel
/// has cached (`statx`'s `AT_STATX_DONT_SYNC`): FUSE answers so without
/// asking its daemon, and `name` here is a `/proc` link (`cwd`,
/// `map_files/...`) whose target is reached without a lookup on the file
/// system, so a daemon that never answers costs no wait.
pub(crate) fn stat_cached_at(at: RawFd, name: &CStr) -> io::Result<libc::stat> {
    let mut stx = std::mem::MaybeUninit::<libc::statx>::uninit();
    // SAFETY: valid C string and out pointer; statx writes at most a
    // struct statx.
    let rc = unsafe {
        libc::statx(
            at,
            name.as_ptr(),
            libc::AT_STATX_DONT_SYNC,
            libc::STATX_BASIC_STATS,
            stx.as_mut_ptr(),
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: statx succeeded and filled the buffer.
    let stx = unsafe { stx.assume_init() };
    // SAFETY: all-zero is a valid stat (plain integers).
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    st.st_dev = libc::makedev(stx.stx_dev_major, stx.stx_dev_minor);
    st.st_ino = stx.stx_ino;
    st.st_mode = u32::from(stx.stx_mode);
    st.st_nlink = stx.stx_nlink as libc::nlink_t;
    st.st_uid = stx.stx_uid;
    st.st_gid = stx.stx_gid;
    st.st_rdev = libc::makedev(stx.stx_rdev_major, stx.stx_rdev_minor);
    st.st_size = stx.stx_size as libc::off_t;
    st.st_blksize = stx.stx_blksize as libc::blksize_t;
    st.st_blocks = stx.stx_blocks as libc::blkcnt_t;
    st.st_mtime = stx.stx_mtime.tv_sec;
    st.st_atime = stx.stx_atime.tv_sec;
    st.st_ctime = stx.stx_ctime.tv_sec;
    Ok(st)
}

fn stat_at_raw(at: RawFd, name: &CStr) -> io::Result<libc::stat> {
    let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
    // SAFETY: valid C string and out pointer.
    let rc = unsafe { libc::fstatat(at, name.as_ptr(), st.as_mut_ptr(), 0) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fstatat succeeded and filled the buffer.
    Ok(unsafe { st.assume_init() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mount_prefixes() {
        assert!(is_under(b"/mnt/x/file", b"/mnt/x"));
        assert!(is_under(b"/mnt/x", b"/mnt/x"));
        assert!(!is_under(b"/mnt/xy", b"/mnt/x"));
        assert!(is_under(b"/anything", b"/"));
    }

    #[test]
    fn blocking_types() {
        assert!(may_block_type("nfs4"));
        assert!(may_block_type("fuse.sshfs"));
        assert!(may_block_type("fuse"));
        assert!(!may_block_type("ext4"));
        assert!(!may_block_type("fusectl"));
    }

    #[test]
    fn cached_attributes_are_stat_s() {
        let dir = std::env::temp_dir();
        let c = CString::new(dir.as_os_str().as_encoded_bytes()).expect("path");
        let cached = stat_cached_at(libc::AT_FDCWD, &c).expect("statx");
        let fresh = stat_at_raw(libc::AT_FDCWD, &c).expect("stat");
        assert_eq!(
            (
                cached.st_dev,
                cached.st_ino,
                cached.st_mode,
                cached.st_nlink
            ),
            (fresh.st_dev, fresh.st_ino, fresh.st_mode, fresh.st_nlink)
        );
        assert_eq!(
            (cached.st_size, cached.st_uid),
            (fresh.st_size, fresh.st_uid)
        );
    }

    #[test]
    fn local_files_take_the_direct_path() {
        let guard = BlockGuard::new(
            Duration::from_millis(10),
            true,
            Arc::new(MountTable::of(vec![])),
        );
        let st = guard.stat_path(b"/").expect("stat /");
        assert_eq!(st.st_mode & libc::S_IFMT, libc::S_IFDIR);
    }

    fn mount(point: &str, fs_type: &str) -> Mount {
        Mount {
            mnt_id: 1,
            dev: crate::model::Dev {
                major: 0,
                minor: 99,
            },
            mount_point: point.as_bytes().to_vec(),
            fs_type: fs_type.into(),
            source: b"server:/".to_vec(),
        }
    }

    /// The longest mount point containing a path decides, whatever its
    /// type: under an NFS or 9p root, a tmpfs file is local.
    #[test]
    fn the_innermost_mount_decides() {
        let mounts = vec![
            mount("/", "nfs4"),
            mount("/tmp", "tmpfs"),
            mount("/tmp/remote", "fuse.sshfs"),
            mount("/srv", "9p"),
            mount("/srv", "ext4"),
            mount("/home", "ext4"),
            mount("/home", "nfs"),
        ];
        let guard = BlockGuard::new(
            Duration::from_millis(10),
            true,
            Arc::new(MountTable::of(mounts)),
        );
        let risky = |path: &str| guard.risky_mount(path.as_bytes());
        assert_eq!(risky("/tmp/file"), None);
        assert_eq!(risky("/tmp"), None);
        assert_eq!(risky("/tmp/remote/x"), Some(b"/tmp/remote".to_vec()));
        assert_eq!(risky("/tmpx/file"), Some(b"/".to_vec()));
        assert_eq!(risky("/etc/passwd"), Some(b"/".to_vec()));
        // The later of two mounts on one point hides the earlier.
        assert_eq!(risky("/srv/x"), None);
        assert_eq!(risky("/home/u"), Some(b"/home".to_vec()));
        assert_eq!(risky("relative"), None);
        assert!(guard.on_fuse(b"/tmp/remote/x"));
        assert!(!guard.on_fuse(b"/home/u") && !guard.on_fuse(b"/tmp/file"));
        // Under -b, what is local is stat'ed, what may block is not.
        let local = guard.stat_path(b"/tmp");
        assert!(local.is_ok(), "{local:?}");
        let remote = guard.stat_path(b"/etc").unwrap_err();
        assert_eq!(remote.raw_os_error(), Some(libc::EWOULDBLOCK));
    }

    #[test]
    fn avoided_calls_on_blocking_mounts() {
        let mounts = vec![Mount {
            mnt_id: 1,
            dev: crate::model::Dev {
                major: 0,
                minor: 99,
            },
            mount_point: b"/net".to_vec(),
            fs_type: "nfs4".into(),
            source: b"server:/".to_vec(),
        }];
        let guard = BlockGuard::new(
            Duration::from_millis(10),
            true,
            Arc::new(MountTable::of(mounts)),
        );
        let e = guard.stat_path(b"/net/file").unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EWOULDBLOCK));
    }
}
