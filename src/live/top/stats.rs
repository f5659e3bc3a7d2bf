//! What the live view shows of each process, and how it changed: the
//! descriptor counts seen at each refresh, kept for a bounded window.

use crate::live::identity::start_time;
use crate::model::{FdName, FileType, Process};
use std::collections::{HashMap, HashSet, VecDeque};
use std::path::Path;
use std::time::Instant;

/// Refreshes a growth rate is computed over, at most.
const WINDOW: usize = 32;
/// A soft limit is read again every this many refreshes.
const LIMIT_REREAD: u32 = 15;

/// One process's line.
#[derive(Debug, Clone)]
pub(super) struct Row {
    pub pid: i32,
    pub user: String,
    pub command: String,
    /// Numbered descriptors.
    pub fds: usize,
    /// The soft limit on descriptors (None: unknown or unlimited).
    pub limit: Option<u64>,
    /// Descriptors per minute over the observed window.
    pub growth: f64,
    /// The count grew at each of the last K refreshes.
    pub leaking: bool,
    /// Bytes of deleted files the descriptors hold.
    pub deleted_bytes: u64,
    pub sockets: usize,
}

impl Row {
    /// Percent of the soft limit in use.
    pub(super) fn percent(&self) -> Option<f64> {
        self.limit
            .filter(|&l| l > 0)
            .map(|l| self.fds as f64 * 100.0 / l as f64)
    }
}

struct History {
    start: u64,
    samples: VecDeque<(Instant, usize)>,
    limit: Option<u64>,
    limit_age: u32,
}

/// The machine's open files (`/proc/sys/fs/file-nr`).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Totals {
    pub allocated: u64,
    pub max: u64,
}

/// The rows of the last refresh and each process's history.
pub(super) struct Tracker {
    leak_cycles: usize,
    history: HashMap<i32, History>,
    seen: HashSet<i32>,
    pub rows: Vec<Row>,
    pub totals: Totals,
}

impl Tracker {
    pub(super) fn new(leak_cycles: u32) -> Tracker {
        Tracker {
            leak_cycles: leak_cycles.max(1) as usize,
            history: HashMap::new(),
            seen: HashSet::new(),
            rows: Vec::new(),
            totals: Totals::default(),
        }
    }

    /// Starts a refresh.
    pub(super) fn begin(&mut self, proc_root: &Path) {
        self.rows.clear();
        self.seen.clear();
        self.totals = read_totals(proc_root);
    }

    /// Adds a scanned process (a thread's own rows, `-K`, are not one).
    pub(super) fn add(&mut self, p: &Process, user: String, proc_root: &Path, now: Instant) {
        if p.tid.is_some() || !self.seen.insert(p.pid) {
            return;
        }
        let start = start_time(proc_root, p.pid).unwrap_or(0);
        let history = match self.history.get_mut(&p.pid) {
            Some(h) if h.start == start => h,
            _ => {
                let fresh = History {
                    start,
                    samples: VecDeque::new(),
                    limit: None,
                    limit_age: LIMIT_REREAD,
                };
                self.history.entry(p.pid).insert_entry(fresh).into_mut()
            }
        };
        if history.limit_age >= LIMIT_REREAD {
            history.limit = soft_fd_limit(proc_root, p.pid);
            history.limit_age = 0;
        }
        history.limit_age += 1;
        let counts = count(p);
        history.samples.push_back((now, counts.fds));
        while history.samples.len() > WINDOW.max(self.leak_cycles + 1) {
            history.samples.pop_front();
        }
        self.rows.push(Row {
            pid: p.pid,

            user,
            command: String::from_utf8_lossy(&p.command).into_owned(),
            fds: counts.fds,
            limit: history.limit,
            growth: growth_per_minute(&history.samples),
            leaking: leaking(&history.samples, self.leak_cycles),
            deleted_bytes: counts.deleted_bytes,
            sockets: counts.sockets,
        });
    }

    /// Ends a refresh: processes not seen are forgotten.
    pub(super) fn end(&mut self) {
        let seen = &self.seen;
        self.history.retain(|pid, _| seen.contains(pid));
    }
}

struct Counts {
    fds: usize,
    sockets: usize,
    deleted_bytes: u64,
}

fn count(p: &Process) -> Counts {
    let mut counts = Counts {
        fds: 0,
        sockets: 0,
        deleted_bytes: 0,
    };
    let mut deleted = HashSet::new();
    for f in &p.files {
        if !matches!(f.fd, Some(FdName::Num(_))) {
            continue;
        }
        counts.fds += 1;
        let file_type = f.file_type.as_ref();
        if file_type.is_some_and(FileType::is_socket) {
            counts.sockets += 1;
        }
        // A file held twice holds its space once.
        if f.deleted && file_type == Some(&FileType::Reg) && deleted.insert((f.dev, f.inode)) {
            counts.deleted_bytes += f.size.unwrap_or(0);
        }
    }
    counts
}

fn growth_per_minute(samples: &VecDeque<(Instant, usize)>) -> f64 {
    let (Some(first), Some(last)) = (samples.front(), samples.back()) else {
        return 0.0;
    };
    let seconds = last.0.duration_since(first.0).as_secs_f64();
    if seconds <= 0.0 {
        return 0.0;
    }
    (last.1 as f64 - first.1 as f64) * 60.0 / seconds
}

fn leaking(samples: &VecDeque<(Instant, usize)>, cycles: usize) -> bool {
    samples.len() > cycles
        && samples
            .iter()
            .skip(samples.len() - cycles - 1)
            .zip(samples.iter().skip(samples.len() - cycles))
            .all(|(a, b)| b.1 > a.1)
}

/// "Max open files" of `/proc/PID/limits`, the soft one.
fn soft_fd_limit(proc_root: &Path, pid: i32) -> Option<u64> {
    let text = std::fs::read_to_string(proc_root.join(pid.to_string()).join("limits")).ok()?;
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_ascii_whitespace()
        .next()?
        .parse()
        .ok()
}

fn read_totals(proc_root: &Path) -> Totals {
    let text = std::fs::read_to_string(proc_root.join("sys/fs/file-nr")).unwrap_or_default();
    let mut fields = text
        .split_ascii_whitespace()
        .map(|f| f.parse().unwrap_or(0));
    let allocated = fields.next().unwrap_or(0);
    let _unused = fields.next();
    Totals {
        allocated,
        max: fields.next().unwrap_or(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn samples(counts: &[usize]) -> VecDeque<(Instant, usize)> {
        let t0 = Instant::now();
        counts
            .iter()
            .enumerate()
            .map(|(i, &c)| (t0 + Duration::from_secs(2 * i as u64), c))
            .collect()
    }

    #[test]
    fn growth_is_per_minute_over_the_window() {
        // 30 more descriptors in 6 seconds: 300 a minute.
        assert_eq!(growth_per_minute(&samples(&[10, 20, 30, 40])), 300.0);
        assert_eq!(growth_per_minute(&samples(&[10])), 0.0);
        assert!(growth_per_minute(&samples(&[40, 10])) < 0.0);
    }

    #[test]
    fn only_growth_at_each_refresh_is_a_leak() {
        assert!(leaking(&samples(&[1, 5, 6, 7]), 3));
        assert!(!leaking(&samples(&[5, 6, 7]), 3));
        assert!(!leaking(&samples(&[4, 5, 5, 7]), 3));
        assert!(leaking(&samples(&[9, 1, 2, 3, 4]), 3));
    }

    #[test]
    fn the_soft_limit_of_this_process_is_read() {
        let root = Path::new("/proc");
        let limit = soft_fd_limit(root, std::process::id() as i32);
        assert!(limit.is_some_and(|l| l > 0));
        assert!(read_totals(root).max > 0);
    }
}
