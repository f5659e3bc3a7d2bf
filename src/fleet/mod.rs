//! One machine's ceilings, for a person (`--summary`) and for Prometheus
//! (`--metrics`, `--serve`): descriptors against RLIMIT_NOFILE, the
//! kernel's file limits, inotify per user, deleted-but-open bytes per
//! filesystem, listening sockets, open files by type.
//!
//! A `Snapshot` is taken in one scan (`facts`), then measured against the
//! limits (`system`); `summary` and `metrics` only render it.

pub(crate) mod facts;
pub(crate) mod metrics;
pub(crate) mod serve;
pub(crate) mod summary;
pub(crate) mod system;

use crate::deleted::collect::{group, Report};
use crate::deleted::links;
use crate::scan::Scanner;
use crate::select::Selection;
use facts::{FactsCollector, Listener, ProcessFds};
use std::collections::BTreeMap;
use std::io;
use std::time::{Duration, Instant};
use system::{InotifyUse, SystemLimits};

/// Everything one scan learned.
#[derive(Debug, Default)]
pub(crate) struct Snapshot {
    /// Every process whose descriptors were read, the closest to its soft
    /// limit first.
    pub processes: Vec<ProcessFds>,
    /// Processes whose descriptors could not be read (no permission).
    pub unreadable: usize,
    /// The scan ran with root's view of every process.
    pub as_root: bool,
    pub fds_by_type: BTreeMap<String, u64>,
    /// Listening sockets, each with the number of sockets behind it.
    pub listeners: Vec<(Listener, usize)>,
    pub inotify: BTreeMap<u32, InotifyUse>,
    pub system: SystemLimits,
    pub deleted: Report,
    pub duration: Duration,
    /// Reads that failed (a limits file, a kernel limit).
    pub errors: u64,
}

/// Scans `pids` (those the selection lists) and measures what it found.
pub(crate) fn take_snapshot(
    scanner: &Scanner,
    selection: &Selection,
    pids: &[i32],
) -> io::Result<Snapshot> {
    let started = Instant::now();
    let mut collector = FactsCollector::default();
    let threads = crate::sys::cpus();
    crate::run::scan_in_order(scanner, selection, pids, threads, &mut |p| {
        collector.add_process(&p);
        Ok(())
    })?;
    let (facts, mut deleted) = collector.finish();
    let proc_root = scanner.proc_root();
    links::measure(proc_root, &mut deleted);
    let mut processes = facts.processes;
    let mut errors = system::read_process_limits(proc_root, &mut processes) as u64;
    sort_by_ratio(&mut processes);
    let system = system::read_system_limits(proc_root);
    errors += [
        system.files_allocated,
        system.file_max,
        system.nr_open,
        system.inotify_max_user_instances,
        system.inotify_max_user_watches,
    ]
    .iter()
    .filter(|v| v.is_none())
    .count() as u64;
    Ok(Snapshot {
        processes,
        unreadable: facts.unreadable.len(),
        // SAFETY: geteuid has no preconditions.
        as_root: unsafe { libc::geteuid() } == 0,
        fds_by_type: facts.fds_by_type,
        listeners: facts
            .listeners
            .into_iter()
            .map(|(l, inodes)| (l, inodes.len()))
            .collect(),
        inotify: system::inotify_by_user(proc_root, &facts.inotify),
        system,
        deleted: group(deleted, scanner.mounts()),
        duration: started.elapsed(),
        errors,
    })
}

/// The closest to its limit first; ties by more descriptors, then PID.
fn sort_by_ratio(processes: &mut [ProcessFds]) {
    processes.sort_by(|a, b| {
        b.ratio()
            .total_cmp(&a.ratio())
            .then(b.fds.cmp(&a.fds))
            .then(a.pid.cmp(&b.pid))
    });
}

/// Names for UIDs, as `-l` asks (numbers) or from the user database.
pub(crate) struct UserNames {
    numeric: bool,
    users: crate::users::Users,
}

impl UserNames {
    pub(crate) fn new(numeric: bool) -> UserNames {
        UserNames {
            numeric,
            users: crate::users::Users::default(),
        }
    }

    pub(crate) fn name(&self, uid: u32) -> String {
        if self.numeric {
            return uid.to_string();
        }
        self.users.name_of(uid).unwrap_or_else(|| uid.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pid: i32, fds: u64, soft: Option<u64>) -> ProcessFds {
        ProcessFds {
            pid,
            uid: 0,
            command: vec![],
            fds,
            soft_limit: soft,
            hard_limit: soft,
        }
    }

    #[test]
    fn closest_to_limit_first() {
        let mut procs = vec![
            p(1, 10, Some(1024)),
            p(2, 900, Some(1024)),
            p(3, 60, Some(64)),
            p(4, 5, None),
            p(5, 900, Some(1024)),
        ];
        sort_by_ratio(&mut procs);
        let order: Vec<i32> = procs.iter().map(|p| p.pid).collect();
        assert_eq!(order, vec![3, 2, 5, 1, 4]);
    }
}
