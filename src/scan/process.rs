//! One process (and its threads): cwd, rtd, txt, mappings, descriptors.

use super::exempt::{exempt_for, exempt_link, exempt_mapping};
use super::fdtable;
use super::maps::parse_maps;
use super::node;
use super::procfs::{number_cstr, parse_decimal, Dir};
use super::pseudo;
use super::stat::{parse_stat, thread_count, StatLine};
use super::{Buffers, Scanner};
use crate::model::{Dev, FdName, FileType, OpenFile, Process};
use crate::sys::errno::errno_text;
use std::cell::{Cell, OnceCell};
use std::ffi::CStr;
use std::io;

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
struct Place<'a> {
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
        let Ok(st) = dir.stat_self() else {
            return out;
        };
        let uid = st.st_uid;
        if dir.read_record(c"stat", &mut bufs.text).is_err() {
            return out;
        }
        let Some(stat) = parse_stat(&bufs.text, pid) else {
            return out;
        };
        if stat.is_zombie() {
            return out;
        }
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
        let mut path = self.root_text.clone();
        path.extend_from_slice(format!("/{pid}").as_bytes());
        let place = Place {
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

    /// The threads (other than the leader) that selection wants, in TID order.
    /// Only threads `tid` for which `considered(tid)` holds are read.
    fn wanted_threads(
        &self,
        place: &Place,
        leader: &Header,
        bufs: &mut Buffers,
        considered: &dyn Fn(i32) -> bool,
        wanted: &dyn Fn(&Header) -> Option<u32>,
    ) -> Vec<Thread> {
        let mut out = Vec::new();
        let Ok(tasks) = place.dir.open(c"task") else {
            return out;
        };
        let mut tids = Vec::new();
        let _ = tasks.for_each_entry(|name| {
            if let Some(tid) = parse_decimal(name.to_bytes()) {
                if tid != place.pid as u64 {
                    tids.push(tid as i32);
                }
            }
        });
        tids.retain(|&tid| considered(tid));
        tids.sort_unstable();
        for tid in tids {
            let Ok(dir) = tasks.open(number_cstr(tid as u64, &mut bufs.num)) else {
                continue;
            };
            if dir.read_record(c"stat", &mut bufs.text).is_err() {
                continue;
            }
            let Some(tstat) = parse_stat(&bufs.text, tid) else {
                continue;
            };
            if tstat.is_zombie() {
                continue;
            }
            let header = Header {
                pid: place.pid,
                tid: Some(tid),
                uid: place.uid,
                stat: StatLine {
                    command: leader.stat.command.clone(),
                    ..tstat.clone()
                },
            };
            if let Some(flags) = wanted(&header) {
                out.push(Thread {
                    dir,
                    header,
                    task_cmd: tstat.command,
                    flags,
                });
            }
        }
        out
    }

    /// When threads are not listed: the threads whose descriptor table is
    /// not their leader's (they called `unshare(CLONE_FILES)`), selected as
    /// their leader was (`flags`). Their descriptors are in no row of the
    /// leader's, so they are listed as `-K` lists them (a divergence: lsof
    /// reads the leader's table only).
    fn threads_with_own_tables(
        &self,
        place: &Place,
        leader: &Header,
        flags: u32,
        bufs: &mut Buffers,
    ) -> Vec<Thread> {
        let own_table = |tid| !shares_descriptors(place.pid, tid);
        self.wanted_threads(place, leader, bufs, &own_table, &|_| Some(flags))
    }

    /// A thread's rows: its leader's when they share descriptors, working
    /// directory and address space (the usual case), else its own.
    fn thread_rows(
        &self,
        place: &Place,
        t: Thread,
        leader_rows: Option<&Process>,
        bufs: &mut Buffers,
    ) -> (u32, Process) {
        let tid = t.header.tid.unwrap_or(place.pid);
        let sockets_only = self.sockets_only(t.flags);
        let files = match leader_rows {
            Some(rows)
                if sockets_only == place.sockets_only.get()
                    && shares_everything(place.pid, tid)
                    && !has_notes(&rows.files) =>
            {
                rows.files.clone()
            }
            _ => {
                let mut path = place.path.clone();
                path.extend_from_slice(format!("/task/{tid}").as_bytes());
                let tplace = Place {
                    dir: &t.dir,
                    netns: OnceCell::new(),
                    kernel_sockets: Default::default(),
                    path,
                    pid: place.pid,
                    uid: place.uid,
                    sockets_only: Cell::new(sockets_only),
                    keep: None,
                    flags: Cell::new(t.flags),
                    own_table: false,
                };
                self.scan_files(&tplace, t.flags, bufs)
            }
        };
        (t.flags, process_of(&t.header, Some(t.task_cmd), files))
    }

    /// Whether a process selected with `flags` needs only its sockets read.
    fn sockets_only(&self, flags: u32) -> bool {
        self.cfg
            .sockets_only_unless
            .is_some_and(|mask| flags & mask == 0)
    }

    /// The files of one process or thread; `flags` (its selection flags)
    /// let selection rule out descriptors before they are read.
    fn scan_files(&self, place: &Place, flags: u32, bufs: &mut Buffers) -> Vec<OpenFile> {
        let wanted = |fd| self.fd_wanted(flags, fd);
        let mut files = Vec::new();
        if place.sockets_only.get() {
            self.descriptors(place, flags, bufs, &mut files);
            return files;
        }
        if wanted(FdName::Cwd) {
            files.extend(self.special_link(place, c"cwd", FdName::Cwd, bufs));
        }
        if wanted(FdName::Rtd) {
            files.extend(self.special_link(place, c"root", FdName::Rtd, bufs));
        }
        let maps_wanted = wanted(FdName::Mem) || wanted(FdName::Del);
        if wanted(FdName::Txt) || maps_wanted {
            let exe = self.special_link(place, c"exe", FdName::Txt, bufs);
            let exe_id = exe
                .as_ref()
                .filter(|f| f.note.is_none())
                .and_then(|f| Some((f.dev?, f.inode?)));
            if wanted(FdName::Txt) {
                files.extend(exe);
            }
            if maps_wanted {
                self.mappings(place, exe_id, bufs, &mut files);
            }
        }
        self.descriptors(place, flags, bufs, &mut files);
        files
    }

    /// cwd, root, exe: readlink, then stat through the link.
    fn special_link(
        &self,
        place: &Place,
        name: &CStr,
        fd: FdName,
        bufs: &mut Buffers,
    ) -> Option<OpenFile> {
        let mut file = OpenFile {
            fd: Some(fd),
            ..Default::default()
        };
        if let Err(e) = place.dir.readlink(name, &mut bufs.link) {
            if !self.cfg.warnings {
                return None;
            }
            file.file_type = Some(FileType::Unknown);
            file.name = proc_path(place, name.to_bytes());
            let kernel_thread_exe =
                fd == FdName::Txt && e.raw_os_error() == Some(libc::ENOENT) && place.uid == 0;
            if !kernel_thread_exe {
                file.note = Some(format!("readlink: {}", errno_text(&e)));
            }
            return Some(file);
        }
        if let Some(e) = exempt_for(&self.cfg.exempt, &bufs.link) {
            let kind = fd.label();
            exempt_link(&mut file, &bufs.link, kind.trim(), e);
            return Some(file);
        }
        node::name_from_link(&mut file, &bufs.link, None);
        match self.guard.stat_at(place.dir.raw(), name, &bufs.link) {
            Ok(st) => node::apply_stat(&mut file, &st, &bufs.link, self.mqueue_dev()),
            Err(e) => {
                file.file_type = Some(FileType::Unknown);
                if self.cfg.warnings {
                    file.note = Some(format!("stat: {}", errno_text(&e)));
                }
            }
        }
        self.add_lock(place, &mut file);
        Some(file)
    }

    fn mappings(
        &self,
        place: &Place,
        exe: Option<(Dev, u64)>,
        bufs: &mut Buffers,
        files: &mut Vec<OpenFile>,
    ) {
        if place.dir.read_file(c"maps", &mut bufs.text).is_err() {
            return;
        }
        for m in parse_maps(&bufs.text) {
            if Some((m.dev, m.inode)) == exe {
                continue;
            }
            let mut file = OpenFile {
                fd: Some(FdName::Mem),
                ..Default::default()
            };
            if let Some(e) = exempt_for(&self.cfg.exempt, &m.path) {
                if m.deleted {
                    file.fd = Some(FdName::Del);
                }
                file.dev = Some(m.dev);
                file.inode = Some(m.inode);
                exempt_mapping(&mut file, m.deleted, e);
                file.name = m.path;
                files.push(file);
                continue;
            }
            let is_it = |st: &libc::stat| Dev::from_raw(st.st_dev) == m.dev && st.st_ino == m.inode;
            let mut stat = self.stat_mapped(&m.path, m.dev, m.inode);
            if !stat.as_ref().is_ok_and(is_it) {
                if let Some(st) = stat_in_other_mount_ns(place, &m) {
                    stat = Ok(st);
                }
            }
            match stat {
                Ok(st) if is_it(&st) => {
                    node::apply_stat(&mut file, &st, &m.path, self.mqueue_dev());
                }
                other => {
                    if m.deleted {
                        file.fd = Some(FdName::Del);
                    } else if self.cfg.warnings {
                        file.note = Some(match other {
                            Err(e) => format!("stat: {}", errno_text(&e)),
                            Ok(st) => mismatch_note(&st, m.dev, m.inode),
                        });
                    }
                    file.file_type = Some(FileType::Reg);
                    file.dev = Some(m.dev);
                    file.inode = Some(m.inode);
                }
            }
            file.name = m.path;
            self.add_lock(place, &mut file);
            files.push(file);
        }
    }

    /// Shared libraries are mapped by nearly every process: stat each
    /// (device, inode, path) once per run, not once per process.
    fn stat_mapped(&self, path: &[u8], dev: Dev, inode: u64) -> io::Result<libc::stat> {
        if let Some(st) = self.mapped.get(dev, inode, path) {
            return Ok(st);
        }
        let st = self.guard.stat_path(path)?;
        if Dev::from_raw(st.st_dev) == dev && st.st_ino == inode {
            self.mapped.insert(dev, inode, path, &st);
        }
        Ok(st)
    }

    fn descriptors(
        &self,
        place: &Place,
        flags: u32,
        bufs: &mut Buffers,
        files: &mut Vec<OpenFile>,
    ) {
        let fd_dir = match place.dir.open(c"fd") {
            Ok(d) => d,
            Err(e) => {
                if self.cfg.warnings && self.fd_wanted(flags, FdName::NoFd) {
                    let mut name = proc_path(place, b"fd");
                    name.extend_from_slice(format!(" (opendir: {})", errno_text(&e)).as_bytes());
                    files.push(OpenFile {
                        fd: Some(FdName::NoFd),
                        name,
                        ..Default::default()
                    });
                }
                return;
            }
        };
        let mut dirs = FdDirs {
            fd: &fd_dir,
            info: None,
            kernel: None,
        };
        // The kernel names the process's sockets under its PID, a thread's
        // own table's too: a thread's table is read whole.
        let listed = (place.sockets_only.get() && place.own_table)
            .then(|| self.listable_sockets_of(place.pid))
            .flatten();
        if let Some(listed) = listed {
            fdtable::for_each_listed(&fd_dir, listed, bufs, |n, link, bufs| {
                if let Some(file) = self.descriptor(place, &mut dirs, n, link, bufs) {
                    files.push(file);
                }
            });
            return;
        }
        let count = fdtable::open_count(&fd_dir, &self.fd_counts_seen);
        let expected = count.unwrap_or(0).min(1 << 16);
        files.reserve(usize::try_from(expected).unwrap_or(0));
        let wanted = |n: u32| self.fd_wanted(flags, FdName::Num(n));
        let filter = self
            .cfg
            .fd_wanted
            .as_ref()
            .map(|_| &wanted as &dyn Fn(u32) -> bool);
        fdtable::for_each_descriptor(
            &fd_dir,
            self.on_procfs,
            count,
            filter,
            bufs,
            |n, link, bufs| {
                if let Some(file) = self.descriptor(place, &mut dirs, n, link, bufs) {
                    files.push(file);
                }
            },
        );
    }

    fn descriptor(
        &self,
        place: &Place,
        dirs: &mut FdDirs,
        n: u32,
        link: io::Result<()>,
        bufs: &mut Buffers,
    ) -> Option<OpenFile> {
        let mut file = OpenFile {
            fd: Some(FdName::Num(n)),
            ..Default::default()
        };
        let mut num = std::mem::take(&mut bufs.num);
        let name = number_cstr(n as u64, &mut num);
        let result = self.descriptor_at(place, dirs, name, link, &mut file, bufs);
        bufs.num = num;
        result.map(|()| file)
    }

    fn descriptor_at(
        &self,
        place: &Place,
        dirs: &mut FdDirs,
        name: &CStr,
        link: io::Result<()>,
        file: &mut OpenFile,
        bufs: &mut Buffers,
    ) -> Option<()> {
        if let Err(e) = link {
            if !self.cfg.warnings {
                return None;
            }
            file.file_type = Some(FileType::Unknown);
            let mut rel = b"fd/".to_vec();
            rel.extend_from_slice(name.to_bytes());
            file.name = proc_path(place, &rel);
            file.note = Some(format!("readlink: {}", errno_text(&e)));
            return Some(());
        }
        if let Some(e) = exempt_for(&self.cfg.exempt, &bufs.link) {
            exempt_link(file, &bufs.link, "fd", e);
            if self.cfg.file_flags {
                file.flags = read_fdinfo(place, dirs, name, bufs).and_then(|i| i.flags);
            }
            return Some(());
        }
        if place.sockets_only.get() && !self.may_list_socket(place, name, &bufs.link) {
            return None;
        }
        let pseudo = self.pseudo_link(&bufs.link);
        let known = pseudo.and_then(|p| self.pseudo_devs.known_stat(p));
        // An anonymous inode whose fdinfo will be read anyway: read it
        // first, it may name the inode already stat'ed.
        let anon_info = (place.keep.is_none() && self.wants_anon_fdinfo(&bufs.link))
            .then(|| read_fdinfo(place, dirs, name, bufs))
            .flatten();
        let shared = anon_info
            .as_ref()
            .and_then(|i| self.shared_anon_inode.known_stat(i));
        let stat = match known.or(shared) {
            Some(st) => Ok(st),
            None => self.guard.stat_at(dirs.fd.raw(), name, &bufs.link),
        };
        if let (Some(p), Ok(st)) = (pseudo, &stat) {
            self.pseudo_devs.learn(p, st);
        }
        if let (None, Some(i), Ok(st)) = (shared, &anon_info, &stat) {
            self.shared_anon_inode.learn(&bufs.link, i, st);
        }
        let st = match stat {
            Ok(st) => Some(st),
            Err(e) => {
                file.file_type = Some(FileType::Unknown);
                if self.cfg.warnings {
                    file.note = Some(format!("stat: {}", errno_text(&e)));
                }
                None
            }
        };
        if let Some(st) = &st {
            node::apply_stat(file, st, &bufs.link, self.mqueue_dev());
        }
        if let Some(keep) = place.keep {
            let testable = keep.sockets_too || file.file_type != Some(FileType::Sock);
            if testable && !(keep.test)(place.flags.get(), file) {
                return None;
            }
        }
        let info = if anon_info.is_some() {
            anon_info
        } else if known.is_none() && self.wants_fdinfo(file, &bufs.link) {
            self.fdinfo_from_kernel(place, dirs, file, &bufs.link)
                .or_else(|| read_fdinfo(place, dirs, name, bufs))
        } else {
            None
        };
        match info.as_ref().and_then(|i| i.flags) {
            Some(flags) => file.access = node::access_from_flags(flags),
            None if self.cfg.terse => {}
            // The kernel opens every socket file read-write (and a socket
            // cannot be reopened through /proc): no lstat needed.
            None if pseudo.is_some_and(|p| p.kind == pseudo::Kind::Socket) => {
                file.access = crate::model::Access::ReadWrite;
            }
            None => {
                if let Ok(lst) = dirs.fd.stat(name, true) {
                    file.access = node::access_from_link_mode(lst.st_mode);
                }
            }
        }
        if known.is_some() {
            file.offset = Some(0);
        }
        if let Some(info) = &info {
            file.offset = info.pos;
            file.flags = info.flags;
            file.mnt_id = info.mnt_id;
        }
        node::name_from_link(file, &bufs.link, info.as_ref());
        if self.cfg.endpoints && info.is_some() {
            file.tty_index = super::endpoints::ptmx_tty_index(file, &bufs.text);
        }
        if file.file_type == Some(FileType::Sock) && !self.cfg.terse {
            if let Some(inode) = file.inode {
                self.describe_socket(place, name, inode, file);
            }
        }
        self.add_lock(place, file);
        Some(())
    }

    /// The position and flags fdinfo would give for `file`, from the
    /// kernel's own walk of the process's descriptors (`crate::bpf`), when
    /// every descriptor's fdinfo is wanted (offsets: `-o`, `-F`, JSON; or
    /// flags, `+f`). The descriptor must still hold the same inode. Not
    /// for what fdinfo says beyond those: the ids in anonymous inodes'
    /// names, a pseudo-terminal's index (`+E`).
    fn fdinfo_from_kernel(
        &self,
        place: &Place,
        dirs: &mut FdDirs,
        file: &OpenFile,
        link: &[u8],
    ) -> Option<node::FdInfo> {
        let Some(FdName::Num(fd)) = file.fd else {
            return None;
        };
        let inode = file.inode?;
        let every_fdinfo = self.cfg.offsets || self.cfg.file_flags;
        let more_wanted = self.cfg.endpoints || link.starts_with(b"anon_inode:");
        if !place.own_table || !every_fdinfo || more_wanted || self.cfg.terse {
            return None;
        }
        let asked = dirs
            .kernel
            .get_or_insert_with(|| self.kernel_files_of(place.pid));
        let Some(files) = asked.as_ref() else {
            self.count_fdinfo_read();
            return None;
        };
        let at = files.binary_search_by_key(&fd, |f| f.fd).ok()?;
        let seen = files[at];
        (seen.inode == inode).then(|| node::FdInfo {
            pos: u64::try_from(seen.pos).ok(),
            flags: Some(seen.flags),
            ino: Some(seen.inode),
            ..Default::default()
        })
    }

    /// A socket or pipe that needs neither stat nor fdinfo: only when
    /// neither offsets (`-o`, `-F`, JSON) nor flags (`+f`) are asked for,
    /// which fdinfo would give.
    fn pseudo_link(&self, link: &[u8]) -> Option<pseudo::Pseudo> {
        if self.cfg.offsets || self.cfg.file_flags {
            return None;
        }
        pseudo::parse_link(link)
    }

    /// fdinfo costs three system calls; read it only where lsof shows what
    /// it holds: offsets (devices, pipes, sockets, or `-o`), flags (`+f`),
    /// and the ids in the names of eventfd, eventpoll and pidfd inodes
    /// (other anonymous inodes, inotify or timerfd, show none).
    fn wants_fdinfo(&self, file: &OpenFile, link: &[u8]) -> bool {
        if self.cfg.offsets || self.cfg.file_flags {
            return true;
        }
        if self.cfg.terse {
            return false;
        }
        match &file.file_type {
            Some(FileType::Chr | FileType::Blk | FileType::Fifo | FileType::Sock) => true,
            Some(FileType::AnonInode) | None | Some(FileType::Unknown) => {
                node::anon_name_wants_fdinfo(link)
            }
            _ => false,
        }
    }

    /// Whether the descriptor with link text `link` is an anonymous inode
    /// whose fdinfo [`Scanner::wants_fdinfo`] will want, whatever its stat.
    fn wants_anon_fdinfo(&self, link: &[u8]) -> bool {
        if self.cfg.terse || !link.starts_with(b"anon_inode:") {
            return false;
        }
        self.cfg.offsets || self.cfg.file_flags || node::anon_name_wants_fdinfo(link)
    }

    fn add_lock(&self, place: &Place, file: &mut OpenFile) {
        if self.cfg.terse {
            return;
        }
        if let (Some(dev), Some(inode)) = (file.dev, file.inode) {
            file.lock = self.locks().lock_of(place.pid, dev, inode);
        }
    }

    /// In a sockets-only process: whether descriptor `name`, whose link
    /// text is `link`, is a socket that selection could list (no stat
    /// needed).
    fn may_list_socket(&self, place: &Place, name: &CStr, link: &[u8]) -> bool {
        let Some(inode) = super::endpoints::socket_inode(link) else {
            return false;
        };
        let Some(filter) = &self.socket_filter else {
            return true;
        };
        let info = self
            .netns(place)
            .and_then(|ns| self.lookup_socket_anywhere(place, name, ns, inode));
        filter.may_select(info.as_ref())
    }

    /// [`Scanner::lookup_socket`], then in the socket's own namespace when
    /// that is not the process's (see `foreign`).
    fn lookup_socket_anywhere(
        &self,
        place: &Place,
        name: &CStr,
        netns: u64,
        inode: u64,
    ) -> Option<crate::model::SocketInfo> {
        self.lookup_socket(place, netns, inode).or_else(|| {
            let fd = parse_decimal(name.to_bytes())?;
            let tables = self.searched_tables(place.sockets_only.get());
            self.foreign_socket(place.pid, u32::try_from(fd).ok()?, inode, netns, tables)
        })
    }

    /// The socket's table entry; in a sockets-only process under `-i`
    /// alone, from the TCP and UDP tables only (nothing else can be listed).
    fn lookup_socket(
        &self,
        place: &Place,
        netns: u64,
        inode: u64,
    ) -> Option<crate::model::SocketInfo> {
        if let Some(described) = self.kernel_socket(place.pid, &place.kernel_sockets, inode) {
            return described;
        }
        if place.sockets_only.get() {
            self.lookup_in_sockets_only(netns, place.pid, inode)
        } else {
            self.lookup_with(false, netns, place.pid, inode)
        }
    }

    /// [`Scanner::lookup_socket`] for a process of which only sockets can
    /// be listed.
    pub(super) fn lookup_in_sockets_only(
        &self,
        netns: u64,
        pid: i32,
        inode: u64,
    ) -> Option<crate::model::SocketInfo> {
        let ip_only = self.socket_filter.as_ref().is_some_and(|f| f.ip_only());
        self.lookup_with(ip_only, netns, pid, inode)
    }

    fn lookup_with(
        &self,
        ip_only: bool,
        netns: u64,
        pid: i32,
        inode: u64,
    ) -> Option<crate::model::SocketInfo> {
        if self.cfg.skip_tcp_udp {
            self.sockets.describe_without_tcp_udp(netns, pid, inode)
        } else if ip_only {
            self.sockets.describe_ip(netns, pid, inode)
        } else {
            self.sockets.describe(netns, pid, inode)
        }
    }

    fn netns(&self, place: &Place) -> Option<u64> {
        *place
            .netns
            .get_or_init(|| crate::sys::netns::of_pid_dir(place.dir.raw()))
    }

    fn describe_socket(&self, place: &Place, name: &CStr, inode: u64, file: &mut OpenFile) {
        let netns = self.netns(place);
        let info = netns.and_then(|ns| self.lookup_socket_anywhere(place, name, ns, inode));
        let info = match info {
            Some(info) => info,
            None if self.cfg.skip_tcp_udp => {
                file.name = b"can't identify protocol (-X specified)".to_vec();
                return;
            }
            None => {
                let mut rel = b"fd/".to_vec();
                rel.extend_from_slice(name.to_bytes());
                let path = proc_path(place, &rel);
                match socket_protocol_name(&path) {
                    Some(proto) => crate::model::SocketInfo::Protocol(proto),
                    None => return,
                }
            }
        };
        file.file_type = Some(super::socket::socket_file_type(&info));
        file.device = super::socket::socket_device(&info, inode);
        let mut info = info;
        if self.cfg.endpoints {
            if let Some(ns) = netns {
                let peer = self.sockets.peer(ns, place.pid, inode, &info);
                match &mut info {
                    crate::model::SocketInfo::Unix(u) => u.peer = peer,
                    _ => file.peer_inode = peer,
                }
            }
        }
        file.socket = Some(Box::new(info));
    }
}

/// `/proc/PID/fdinfo/NAME`, through the fdinfo directory opened once.
fn read_fdinfo(
    place: &Place,
    dirs: &mut FdDirs,
    name: &CStr,
    bufs: &mut Buffers,
) -> Option<node::FdInfo> {
    let dir = dirs.info.get_or_insert_with(|| place.dir.open(c"fdinfo"));
    match dir {
        Ok(d) if d.read_record(name, &mut bufs.text).is_ok() => {
            Some(node::parse_fdinfo(&bufs.text))
        }
        _ => None,
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

/// Whether thread `tid` shares process `pid`'s descriptor table; true when
/// the kernel cannot tell (no kcmp, no permission): then only the
/// process's table is read, as lsof reads it.
fn shares_descriptors(pid: i32, tid: i32) -> bool {
    const KCMP_FILES: libc::c_long = 2;
    // SAFETY: kcmp only compares two tasks' kernel objects.
    let rc = unsafe { libc::syscall(libc::SYS_kcmp, pid, tid, KCMP_FILES, 0, 0) };
    rc <= 0
}

/// Whether a thread shares its leader's descriptor table, filesystem
/// context and address space, so the leader's records serve for it.
fn shares_everything(pid: i32, tid: i32) -> bool {
    const KCMP_FILES: libc::c_long = 2;
    const KCMP_FS: libc::c_long = 3;
    const KCMP_VM: libc::c_long = 1;
    [KCMP_FILES, KCMP_FS, KCMP_VM].iter().all(|&kind| {
        // SAFETY: kcmp takes only integers and touches no memory of ours.
        let rc = unsafe { libc::syscall(libc::SYS_kcmp, pid, tid, kind, 0, 0) };
        rc == 0
    })
}

fn proc_path(place: &Place, rel: &[u8]) -> Vec<u8> {
    let mut p = place.path.clone();
    p.push(b'/');
    p.extend_from_slice(rel);
    p
}

fn mismatch_note(st: &libc::stat, dev: Dev, inode: u64) -> String {
    let sdev = Dev::from_raw(st.st_dev);
    let mut note = String::new();
    if sdev != dev {
        note.push_str(&format!("path dev={},{}", sdev.major, sdev.minor));
        if st.st_ino != inode {
            note.push_str(&format!(",inode={}", st.st_ino));
        }
    } else {
        note.push_str(&format!("path inode={}", st.st_ino));
    }
    note
}

/// The `system.sockprotoname` attribute: what lsof shows as `protocol: X`
/// for a socket it found in no table.
pub(super) fn socket_protocol_name(path: &[u8]) -> Option<String> {
    let c = std::ffi::CString::new(path).ok()?;
    let mut buf = [0u8; 64];
    // SAFETY: both names are NUL-terminated; getxattr writes at most
    // `buf.len()` bytes into `buf`.
    let n = unsafe {
        libc::getxattr(
            c.as_ptr(),
            c"system.sockprotoname".as_ptr(),
            buf.as_mut_ptr() as *mut libc::c_void,
            buf.len(),
        )
    };
    if n <= 0 {
        return None;
    }
    let text = &buf[..n as usize];
    let text = text.strip_suffix(b"\0").unwrap_or(text);
    Some(String::from_utf8_lossy(text).into_owned())
}

/// A mapped file of a process in another mount namespace: its path names
/// nothing (or another file) here, so it is stat'ed through the process's
/// `/proc/PID/map_files/` link, which leads to the file itself, as upstream
/// lsof 4.96 does (4.95: `(stat: No such file or directory)`). Only where
/// the kernel lets us follow that link (root); otherwise None, and lsof
/// 4.95's answer stands.
fn stat_in_other_mount_ns(place: &Place, m: &super::maps::Mapping) -> Option<libc::stat> {
    static OURS: std::sync::OnceLock<Option<(u64, u64)>> = std::sync::OnceLock::new();
    let ours = OURS.get_or_init(|| {
        let st = std::fs::metadata("/proc/self/ns/mnt").ok()?;
        use std::os::unix::fs::MetadataExt;
        Some((st.dev(), st.ino()))
    });
    let theirs = place.dir.stat(c"ns/mnt", false).ok()?;
    if m.deleted || *ours == Some((theirs.st_dev, theirs.st_ino)) {
        return None;
    }
    let link = std::ffi::CString::new(format!("map_files/{}", m.map_file)).ok()?;
    let st = place.dir.stat(&link, false).ok()?;
    (Dev::from_raw(st.st_dev) == m.dev && st.st_ino == m.inode).then_some(st)
}
