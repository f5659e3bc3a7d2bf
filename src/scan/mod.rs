//! Reading /proc into typed records, one process at a time.
//!
//! The proc root is a parameter, so tests can point the scan at a fake
//! tree. Tables shared by all processes (locks, mounts) are read once, when
//! first needed.

pub use crate::bpf::ListingFilter;

pub(crate) mod batches;
pub(crate) mod endpoints;
pub(crate) mod exempt;
pub(crate) mod fdtable;
mod foreign;
pub(crate) mod holders;
pub(crate) mod kernel_files;
pub(crate) mod kernel_sockets;
pub(crate) mod locks;
pub(crate) mod mapcache;
pub(crate) mod maps;
pub(crate) mod node;
pub(crate) mod process;
pub(crate) mod procfs;
pub(crate) mod pseudo;
pub(crate) mod resolve;
pub mod socket;
pub(crate) mod socket_source;
pub(crate) mod stat;

use crate::model::{Dev, FdName};
use crate::sys::block::BlockGuard;
use crate::sys::mounts::{Mount, MountTable};
use locks::Locks;
use procfs::{parse_decimal, Dir};
use socket::{SocketFilter, SocketLookup};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// What the scan must learn, derived from the options.
#[derive(Debug, Clone)]
pub struct ScanConfig {
    pub proc_root: PathBuf,
    /// Rows for errors (`readlink: ...`, NOFD) are listed unless `-w`.
    pub warnings: bool,
    /// Offsets are wanted for every file (`-o`, `-F o`, JSON).
    pub offsets: bool,
    /// fdinfo flags are wanted (`+f g`).
    pub file_flags: bool,
    /// Threads get their own row sets.
    pub list_tasks: bool,
    /// `-a` with `-K`: a leader with selected threads counts as a task.
    pub and_tasks: bool,
    /// `-S`: how long a `stat` on a file system that may block is waited for.
    pub stat_timeout: Duration,
    /// `-b`: don't make such calls at all.
    pub avoid_blocking: bool,
    /// Selection's early answer for a descriptor (given the process's
    /// selection flags): false when it cannot be listed, so it is not read.
    pub fd_wanted: Option<FdWanted>,
    /// A guard shared with the caller (who may stat before the scan), and
    /// with it the run's mount table; None: the scanner makes its own from
    /// the two fields above and `<proc_root>/self/mountinfo`.
    pub guard: Option<Arc<BlockGuard>>,
    /// `-e`/`+e` file systems, in the order given.
    pub exempt: Vec<exempt::ExemptPath>,
    /// Only sockets can be listed (`-i`, `-U`): Some(mask) reads just the
    /// socket descriptors of processes whose selection flags have no bit
    /// of mask (see `Selection::sockets_only_unless`).
    pub sockets_only_unless: Option<u32>,
    /// The descriptors no process can have listed, left in the kernel by
    /// its listing (see `Selection::listing_filter`).
    pub listing_filter: ListingFilter,
    /// `+E`/`-E`: learn the other ends of sockets and ptys.
    pub endpoints: bool,
    /// `-X`: leave TCP and UDP sockets unidentified, as lsof does.
    pub skip_tcp_udp: bool,
    /// Only which processes have a selected file matters (`-t`, when no
    /// selection looks at sockets): socket tables, fdinfo and access modes
    /// are not read.
    pub terse: bool,
}

/// See `ScanConfig::fd_wanted`.
#[derive(Clone)]
pub struct FdWanted(pub Arc<dyn Fn(u32, FdName) -> bool + Send + Sync>);

impl std::fmt::Debug for FdWanted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FdWanted")
    }
}

impl Default for ScanConfig {
    fn default() -> Self {
        ScanConfig {
            proc_root: PathBuf::from("/proc"),
            warnings: true,
            offsets: false,
            file_flags: false,
            list_tasks: false,
            and_tasks: false,
            stat_timeout: Duration::from_secs(15),
            avoid_blocking: false,
            fd_wanted: None,
            guard: None,
            exempt: Vec::new(),
            sockets_only_unless: None,
            listing_filter: ListingFilter::default(),
            endpoints: false,
            skip_tcp_udp: false,
            terse: false,
        }
    }
}

/// Buffers reused across files and processes by one scanning thread.
#[derive(Default)]
pub struct Buffers {
    pub link: Vec<u8>,
    pub text: Vec<u8>,
    pub num: Vec<u8>,
}

pub struct Scanner {
    cfg: ScanConfig,
    root: Dir,
    /// The proc root as printed in error rows ("/proc").
    root_text: Vec<u8>,
    locks: OnceLock<Locks>,
    /// The mqueue filesystem's device, asked for every file stat'ed.
    mqueue: OnceLock<Option<Dev>>,
    sockets: Box<dyn SocketLookup + Send>,
    /// stat results of mapped files that matched their maps entry.
    mapped: mapcache::MappedStats,
    /// Where the kernel lists mappings: mapped files' paths as maps
    /// prints them (a newline escaped, " (deleted)" included), and cwd,
    /// root and exe links' paths as readlink gives them.
    mapping_paths: mapcache::KeptPaths,
    link_paths: mapcache::KeptPaths,
    /// The devices of sockfs and pipefs, once seen.
    pseudo_devs: pseudo::PseudoDevs,
    shared_anon_inode: pseudo::SharedAnonInode,
    /// The kernel gives descriptor counts (see `fdtable::open_count`).
    fd_counts_seen: AtomicBool,
    /// The proc root is the kernel's procfs (not a test's fake tree).
    on_procfs: bool,
    /// rlsof's own PID as the proc root numbers it (its `self` link).
    own_pid: Option<i32>,
    /// Held (read) while rlsof holds a copy of another process's socket
    /// (see `foreign`), and (write) while rlsof scans itself, which must
    /// not list such a copy as its own.
    copies: std::sync::RwLock<()>,
    /// Bounds `stat` calls that may block (`-S`, `-b`).
    guard: Arc<BlockGuard>,
    /// Skips sockets that cannot be listed, in sockets-only processes.
    socket_filter: Option<std::sync::Arc<dyn SocketFilter>>,
    /// Per process, the descriptors holding a socket the selection could
    /// list, as the kernel told them (see `holders`).
    listable_sockets: OnceLock<holders::ListableSockets>,
    /// The kernel's walk of a process's descriptors, loaded on first use
    /// (None: it cannot be asked).
    kernel_files: OnceLock<Option<crate::bpf::FilesProgram>>,
    /// The kernel's listing of a process's descriptors, loaded on first
    /// use (None: it cannot be asked).
    kernel_listing: OnceLock<Option<&'static crate::bpf::ListingProgram>>,
    /// The kernel's listing of a process's mappings, loaded on first use
    /// (None: it cannot be asked).
    kernel_mappings: OnceLock<Option<&'static crate::bpf::MappingsProgram>>,
    /// maps files read (see `kernel_files::MAPS_BEFORE_MAPPINGS`).
    maps_read: std::sync::atomic::AtomicUsize,
    /// Descriptors read from `/proc` (see
    /// `kernel_files::DESCRIPTORS_BEFORE_LISTING`).
    descriptors_read: std::sync::atomic::AtomicUsize,
    /// fdinfo files read for what the kernel could have told (see
    /// `kernel::FDINFO_READS_BEFORE_ASKING`).
    fdinfo_reads: std::sync::atomic::AtomicUsize,
    /// Set for a streaming listing that asks the kernel to describe each
    /// process's sockets (see `kernel_sockets`).
    kernel_sockets: Option<crate::bpf::SocketsProgram>,
}

impl Scanner {
    pub fn new(cfg: ScanConfig, sockets: Box<dyn SocketLookup + Send>) -> io::Result<Scanner> {
        let root = Dir::open_path(&cfg.proc_root)?;
        let on_procfs = root.is_procfs();
        let root_text = cfg.proc_root.as_os_str().as_bytes().to_vec();
        let own_pid = on_procfs.then(|| own_pid(&cfg.proc_root)).flatten();
        let guard = cfg.guard.clone().unwrap_or_else(|| {
            let mounts = MountTable::at(cfg.proc_root.join("self/mountinfo"));
            let guard = BlockGuard::new(cfg.stat_timeout, cfg.avoid_blocking, Arc::new(mounts));
            Arc::new(guard)
        });
        Ok(Scanner {
            guard,
            cfg,
            root,
            root_text,
            locks: OnceLock::new(),
            mqueue: OnceLock::new(),
            sockets,
            mapped: mapcache::MappedStats::default(),
            mapping_paths: mapcache::KeptPaths::default(),
            link_paths: mapcache::KeptPaths::default(),
            pseudo_devs: pseudo::PseudoDevs::default(),
            shared_anon_inode: pseudo::SharedAnonInode::default(),
            fd_counts_seen: AtomicBool::new(false),
            on_procfs,
            own_pid,
            copies: std::sync::RwLock::new(()),
            socket_filter: None,
            listable_sockets: OnceLock::new(),
            kernel_files: OnceLock::new(),
            kernel_listing: OnceLock::new(),
            kernel_mappings: OnceLock::new(),
            maps_read: std::sync::atomic::AtomicUsize::new(0),
            descriptors_read: std::sync::atomic::AtomicUsize::new(0),
            fdinfo_reads: std::sync::atomic::AtomicUsize::new(0),
            kernel_sockets: None,
        })
    }

    /// The scanner for the next `-r` cycle. What changes between cycles
    /// (locks, socket tables, stat results and paths of mapped files) is
    /// read afresh;
    /// the proc root and the mount table, which lsof also reads only once,
    /// are kept.
    pub fn next_cycle(self, sockets: Box<dyn SocketLookup + Send>) -> Scanner {
        Scanner {
            locks: OnceLock::new(),
            sockets,
            mapped: mapcache::MappedStats::default(),
            mapping_paths: mapcache::KeptPaths::default(),
            link_paths: mapcache::KeptPaths::default(),
            listable_sockets: OnceLock::new(),
            ..self
        }
    }

    /// Whether process `pid` is rlsof itself.
    pub(super) fn is_rlsof(&self, pid: i32) -> bool {
        self.own_pid == Some(pid)
    }

    /// Sets the filter of sockets in sockets-only processes.
    pub fn set_socket_filter(&mut self, filter: std::sync::Arc<dyn SocketFilter>) {
        self.socket_filter = Some(filter);
    }

    pub fn config(&self) -> &ScanConfig {
        &self.cfg
    }

    pub fn proc_root(&self) -> &Path {
        &self.cfg.proc_root
    }

    /// Every PID under the proc root, ascending.
    pub fn pids(&self) -> io::Result<Vec<i32>> {
        let mut pids = Vec::new();
        self.root.for_each_entry(|name| {
            if let Some(n) = parse_decimal(name.to_bytes()) {
                if n <= i32::MAX as u64 {
                    pids.push(n as i32);
                }
            }
        })?;
        pids.sort_unstable();
        Ok(pids)
    }

    /// Reads `/proc/locks` now, for a thread of its own: its first read
    /// waits for an RCU grace period in the kernel, which a scanning thread would otherwise spend idle, holding up every
    /// other thread that wants the table. `-t` shows no locks and reads none.
    pub fn preload_locks(&self) {
        if !self.cfg.terse {
            let _ = self.locks();
        }
    }

    pub fn locks(&self) -> &Locks {
        self.locks.get_or_init(|| {
            let mut text = Vec::new();
            match self.root.read_file(c"locks", &mut text) {
                Ok(()) => Locks::parse(&text),
                Err(_) => Locks::default(),
            }
        })
    }

    /// The run's mount table, shared with the guard (and, in a listing,
    /// with the argument resolution before the scan).
    pub fn mounts(&self) -> &[Mount] {
        self.guard.mounts()
    }

    /// Whether selection may list descriptor `fd` of a process it gave
    /// `flags`; true when it has no early answer.
    pub fn fd_wanted(&self, flags: u32, fd: FdName) -> bool {
        self.cfg.fd_wanted.as_ref().is_none_or(|w| (w.0)(flags, fd))
    }

    /// The device of the POSIX message queue filesystem, if mounted.
    pub fn mqueue_dev(&self) -> Option<Dev> {
        *self.mqueue.get_or_init(|| {
            self.mounts()
                .iter()
                .find(|m| m.fs_type == "mqueue")
                .map(|m| m.dev)
        })
    }
}

/// The PID of the calling process under `proc_root` (the target of its
/// `self` link), which in a PID namespace of its own is not getpid's.
fn own_pid(proc_root: &std::path::Path) -> Option<i32> {
    let target = std::fs::read_link(proc_root.join("self")).ok()?;
    target.to_str()?.parse().ok()
}
