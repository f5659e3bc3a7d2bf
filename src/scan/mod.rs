//! Reading /proc into typed records, one process at a time.
//!
//! The proc root is a parameter, so tests can point the scan at a fake
//! tree. Tables shared by all processes (locks, mounts) are read once, when
//! first needed.

pub mod fdtable;
pub mod locks;
pub mod maps;
pub mod mounts;
pub mod node;
pub mod process;
pub mod procfs;
pub mod pseudo;
pub mod socket;
pub mod stat;

use crate::model::Dev;
use locks::Locks;
use mounts::Mount;
use procfs::{parse_decimal, Dir};
use socket::SocketLookup;
use std::collections::HashMap;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Mutex, OnceLock};

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
    mounts: OnceLock<Vec<Mount>>,
    sockets: Box<dyn SocketLookup + Send>,
    /// stat results of mapped files that matched their maps entry.
    mapped: Mutex<MappedStats>,
    /// The devices of sockfs and pipefs, once seen.
    pseudo_devs: pseudo::PseudoDevs,
    /// The kernel gives descriptor counts (see `fdtable::open_count`).
    fd_counts_seen: AtomicBool,
}

/// (device, inode) of a mapped file → the path stat'ed and its result.
type MappedStats = HashMap<(Dev, u64), (Vec<u8>, libc::stat)>;

impl Scanner {
    pub fn new(cfg: ScanConfig, sockets: Box<dyn SocketLookup + Send>) -> io::Result<Scanner> {
        let root = Dir::open_path(&cfg.proc_root)?;
        let root_text = cfg.proc_root.as_os_str().as_bytes().to_vec();
        Ok(Scanner {
            cfg,
            root,
            root_text,
            locks: OnceLock::new(),
            mounts: OnceLock::new(),
            sockets,
            mapped: Mutex::new(HashMap::new()),
            pseudo_devs: pseudo::PseudoDevs::default(),
            fd_counts_seen: AtomicBool::new(false),
        })
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

    pub fn locks(&self) -> &Locks {
        self.locks.get_or_init(|| {
            let mut text = Vec::new();
            match self.root.read_file(c"locks", &mut text) {
                Ok(()) => Locks::parse(&text),
                Err(_) => Locks::default(),
            }
        })
    }

    pub fn mounts(&self) -> &[Mount] {
        self.mounts.get_or_init(|| {
            let mut text = Vec::new();
            match self.root.read_file(c"self/mountinfo", &mut text) {
                Ok(()) => mounts::parse_mountinfo(&text),
                Err(_) => Vec::new(),
            }
        })
    }

    /// The device of the POSIX message queue filesystem, if mounted.
    pub fn mqueue_dev(&self) -> Option<Dev> {
        self.mounts()
            .iter()
            .find(|m| m.fs_type == "mqueue")
            .map(|m| m.dev)
    }
}
