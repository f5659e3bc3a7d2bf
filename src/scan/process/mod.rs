//! One process (and its threads): cwd, rtd, txt, mappings, descriptors.

mod cwd_and_maps;
mod descriptors;
mod from_kernel;
mod sockets;
mod threads;

pub(super) use sockets::socket_protocol_name;

use super::procfs::{number_cstr, Dir};
use super::stat::{parse_stat, thread_count, StatLine};
use super::{Buffers, Scanner};
use crate::model::{FdName, OpenFile, Process};
use std::cell::{Cell, OnceCell};
use std::io;

/// kthreadd's PID, the parent of every kernel thread.
const KTHREADD: i32 = 2;

/// The identity of a process or thread, known before its files are read,
/// so selection can skip it without touching its files.
#[derive(Debug, Clone)]
pub struct Header {
    pub pid: i32,
    pub tid: Option<i32>,
    pub uid: u32,
    pub stat: StatLine,
}

/// Where one process's or thread's /proc entries are, for reading and for
/// the paths lsof prints in its error rows.
struct ProcEntry<'a> {
    dir: &'a Dir,
    /// The network namespace inode, looked up when the first socket is met.
    netns: OnceCell<Option<u64>>,
    /// The process's sockets, when the kernel describes them.
    kernel_sockets: super::kernel_sockets::ProcessSockets,
    /// "/proc/PID" or "/proc/PID/task/TID".
    path: Vec<u8>,
    pid: i32,
    uid: u32,
    /// Only socket descriptors can be listed (lsof's Ckscko).
    sockets_only: Cell<bool>,
    /// Selection's test of a file, given the process's selection flags
    /// (`flags`): see [`Scanner::scan_pid_selecting`].
    keep: Option<EarlyTest<'a>>,
    flags: Cell<u32>,
    /// The process's own descriptor table (not a thread's).
    own_table: bool,
    /// A kernel thread (kthreadd or one of its children, in the
    /// machine's PID numbering): no mappings, no executable.
    kernel_thread: bool,
}

/// Selection's test of a file of a process given selection flags, to drop
/// what it does not list as early as it can tell.
#[derive(Clone, Copy)]
pub struct EarlyTest<'a> {
    pub test: &'a (dyn Fn(u32, &mut OpenFile) -> bool + Sync),
    /// Selection does not look at what the socket tables say (no `-i`,
    /// `-U` or file argument): sockets are tested before being looked up.
    pub sockets_too: bool,
}

/// A process's `fd` directory, its `fdinfo` directory once needed, and
/// the kernel's view of its descriptors once asked for (see
/// [`Scanner::fdinfo_from_kernel`]).
struct FdDirs<'a> {
    fd: &'a Dir,
    info: Option<io::Result<Dir>>,
    kernel: Option<Option<Vec<crate::bpf::KernelFile>>>,
    /// The descriptor being read, as the kernel listing told it (see
    /// [`Scanner::kernel_listing_of`]): what it tells is not asked again.
    listed: Option<crate::bpf::ListedFile>,
}

/// A thread that selection wants, before its files are read.
struct Thread {
    dir: Dir,
    header: Header,
    task_cmd: Vec<u8>,
    flags: u32,
}

impl Scanner {
    /// Scans process `pid` and, when threads are listed, its threads. Each
    /// header is offered to `wanted` before its files are read; what it
    /// answers (selection flags) comes back beside the process.
    pub fn scan_pid(
        &self,
        pid: i32,
        bufs: &mut Buffers,
        wanted: &dyn Fn(&Header) -> Option<u32>,
    ) -> Vec<(u32, Process)> {
        self.scan_pid_selecting(pid, bufs, wanted, None)
    }

    /// Like [`Scanner::scan_pid`]; `keep` (selection's file test, for a
    /// scan that lists no threads) drops a descriptor as soon as its stat
    /// is known, before its access mode, offset or fdinfo name are read
    /// (none of them selects a file), and a socket before it is looked up
    /// when that cannot select it either.
    pub fn scan_pid_selecting(
        &self,
        pid: i32,
        bufs: &mut Buffers,
        wanted: &dyn Fn(&Header) -> Option<u32>,
        keep: Option<EarlyTest>,
    ) -> Vec<(u32, Process)> {
        let mut out = Vec::new();
        // rlsof lists itself without the copies of other processes'
        // sockets it holds a moment (see `foreign`).
        let _alone = self.is_rlsof(pid).then(|| {
            let copies = self.copies.write();
            copies.unwrap_or_else(std::sync::PoisonError::into_inner)
        });
        let Ok(dir) = self.root.open(number_cstr(pid as u64, &mut bufs.num)) else {
            return out;
        };
        let Some((header, single_threaded)) = self.process_header(pid, &dir, bufs) else {
            return out;
        };
        let uid = header.uid;
        let mut path = self.root_text.clone();
        path.extend_from_slice(format!("/{pid}").as_bytes());
        let place = ProcEntry {
            dir: &dir,
            netns: OnceCell::new(),
            kernel_sockets: Default::default(),
            path,
            pid,
            uid,
            sockets_only: Cell::new(false),
            keep: keep.filter(|_| !self.cfg.list_tasks),
            flags: Cell::new(0),
            own_table: true,
            kernel_thread: pid == KTHREADD || header.stat.ppid == KTHREADD,
        };
        let threads = if self.cfg.list_tasks && !single_threaded {
            self.wanted_threads(&place, &header, bufs, &|_| true, wanted)
        } else {
            Vec::new()
        };
        // Under `-a -K`, lsof lets a leader that has selected threads pass
        // the task test too, so the leader is listed with its threads.
        let leader_flags = if self.cfg.and_tasks && !threads.is_empty() {
            wanted(&Header {
                tid: Some(pid),
                ..header.clone()
            })
        } else {
            wanted(&header)
        };
        let leader = leader_flags.map(|flags| {
            place.flags.set(flags);
            place.sockets_only.set(self.sockets_only(flags));
            let files = self.scan_files(&place, flags, bufs);
            (flags, process_of(&header, None, files))
        });
        let threads = match &leader {
            Some((flags, _)) if !self.cfg.list_tasks && !single_threaded => {
                self.threads_with_own_tables(&place, &header, *flags, bufs)
            }
            _ => threads,
        };
        let leader_rows = leader.as_ref().map(|l| &l.1);
        let threads: Vec<(u32, Process)> = threads
            .into_iter()
            .map(|t| self.thread_rows(&place, t, leader_rows, bufs))
            .collect();
        out.extend(leader);
        out.extend(threads);
        out
    }

    /// The header of live process `pid` (None for a zombie or one gone),
    /// and whether it has one thread only.
    fn process_header(&self, pid: i32, dir: &Dir, bufs: &mut Buffers) -> Option<(Header, bool)> {
        let uid = dir.stat_self().ok()?.st_uid;
        dir.read_record(c"stat", &mut bufs.text).ok()?;
        let stat = parse_stat(&bufs.text, pid).filter(|s| !s.is_zombie())?;
        // A process with one thread has no other task to list: its task
        // directory is not read. rlsof itself is listed as lsof, one
        // thread, would be: its scanning threads are no tasks of the
        // machine's.
        let single_threaded = thread_count(&bufs.text) == Some(1) || self.is_rlsof(pid);
        let header = Header {
            pid,
            tid: None,
            uid,
            stat,
        };
        Some((header, single_threaded))
    }

    /// Whether a process selected with `flags` needs only its sockets read.
    fn sockets_only(&self, flags: u32) -> bool {
        self.cfg
            .sockets_only_unless
            .is_some_and(|mask| flags & mask == 0)
    }

    /// The files of one process or thread; `flags` (its selection flags)
    /// let selection rule out descriptors before they are read.
    fn scan_files(&self, place: &ProcEntry, flags: u32, bufs: &mut Buffers) -> Vec<OpenFile> {
        let wanted = |fd| self.fd_wanted(flags, fd);
        let mut files = Vec::new();
        if place.sockets_only.get() {
            self.descriptors(place, flags, bufs, &mut files);
            return files;
        }
        let maps_wanted = wanted(FdName::Mem) || wanted(FdName::Del);
        // The kernel tells the links with the mappings: alone, they are
        // cheaper read from /proc than a walk of every mapping.
        let told = maps_wanted
            .then(|| self.process_files_from_kernel(place))
            .flatten();
        let task = told.as_ref().and_then(|t| t.task).unwrap_or_default();
        if wanted(FdName::Cwd) {
            files.extend(self.special_link(place, c"cwd", FdName::Cwd, task.cwd, bufs));
        }
        if wanted(FdName::Rtd) {
            files.extend(self.special_link(place, c"root", FdName::Rtd, task.root, bufs));
        }
        if wanted(FdName::Txt) || maps_wanted {
            let exe = self.special_link(place, c"exe", FdName::Txt, task.exe, bufs);
            let exe_id = exe
                .as_ref()
                .filter(|f| f.note.is_none())
                .and_then(|f| Some((f.dev?, f.inode?)));
            if wanted(FdName::Txt) {
                files.extend(exe);
            }
            if maps_wanted {
                let told = told.map(|t| t.mappings);
                self.mappings(place, exe_id, told, bufs, &mut files);
            }
        }
        self.descriptors(place, flags, bufs, &mut files);
        files
    }
}

fn process_of(header: &Header, task_cmd: Option<Vec<u8>>, files: Vec<OpenFile>) -> Process {
    Process {
        pid: header.pid,
        tid: header.tid,
        task_cmd,
        pgid: header.stat.pgid,
        ppid: header.stat.ppid,
        uid: header.uid,
        command: header.stat.command.clone(),
        files,
    }
}

fn has_notes(files: &[OpenFile]) -> bool {
    files
        .iter()
        .any(|f| f.note.is_some() || f.fd == Some(FdName::NoFd))
}

fn proc_path(place: &ProcEntry, rel: &[u8]) -> Vec<u8> {
    let mut p = place.path.clone();
    p.push(b'/');
    p.extend_from_slice(rel);
    p
}
