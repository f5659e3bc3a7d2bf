//! A process's threads: which ones selection wants, which have a
//! descriptor table of their own, and the rows each gets.

use super::{has_notes, process_of, Header, ProcEntry, Thread};
use crate::model::Process;
use crate::scan::procfs::{number_cstr, parse_decimal};
use crate::scan::stat::{parse_stat, StatLine};
use crate::scan::{Buffers, Scanner};
use std::cell::{Cell, OnceCell};

impl Scanner {
    /// The threads (other than the leader) that selection wants, in TID order.
    /// Only threads `tid` for which `considered(tid)` holds are read.
    pub(super) fn wanted_threads(
        &self,
        place: &ProcEntry,
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
    pub(super) fn threads_with_own_tables(
        &self,
        place: &ProcEntry,
        leader: &Header,
        flags: u32,
        bufs: &mut Buffers,
    ) -> Vec<Thread> {
        let own_table = |tid| !shares_descriptors(place.pid, tid);
        self.wanted_threads(place, leader, bufs, &own_table, &|_| Some(flags))
    }

    /// A thread's rows: its leader's when they share descriptors, working
    /// directory and address space (the usual case), else its own.
    pub(super) fn thread_rows(
        &self,
        place: &ProcEntry,
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
                let tplace = ProcEntry {
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
                    kernel_thread: place.kernel_thread,
                };
                self.scan_files(&tplace, t.flags, bufs)
            }
        };
        (t.flags, process_of(&t.header, Some(t.task_cmd), files))
    }
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
