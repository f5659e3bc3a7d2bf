//! A `Snapshot` in Prometheus's text exposition format (version 0.0.4):
//! base units, `_bytes` for bytes, `_total` only on counters, a HELP and
//! a TYPE line for every family. Label values are bounded: processes are
//! the top K by use of their limit, listeners are capped, and no file path
//! is a label unless `paths` asks for it (paths are unbounded and may be
//! sensitive; mount points are not file paths in that sense).

use super::facts::ProcessFds;
use super::{Snapshot, UserNames};
use std::collections::BTreeMap;
use std::fmt::Write;

/// How much of the snapshot goes out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MetricsLimits {
    /// Processes with series of their own (the closest to their limit).
    pub top_processes: usize,
    /// Listening sockets with series of their own.
    pub listeners: usize,
    /// Deleted files with a `path` label (0: none).
    pub deleted_paths: usize,
}

impl Default for MetricsLimits {
    fn default() -> Self {
        MetricsLimits {
            top_processes: 20,
            listeners: 100,
            deleted_paths: 0,
        }
    }
}

/// Writes one metric family: its HELP and TYPE, then its samples.
struct Family<'a> {
    out: &'a mut String,
    name: &'static str,
}

impl<'a> Family<'a> {
    fn new(out: &'a mut String, name: &'static str, kind: &str, help: &str) -> Family<'a> {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} {kind}");
        Family { out, name }
    }

    fn sample(&mut self, labels: &[(&str, &str)], value: f64) {
        self.out.push_str(self.name);
        if !labels.is_empty() {
            self.out.push('{');
            for (i, (name, value)) in labels.iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                self.out.push_str(name);
                self.out.push_str("=\"");
                escape_label_value(value, self.out);
                self.out.push('"');
            }
            self.out.push('}');
        }
        self.out.push(' ');
        push_value(value, self.out);
        self.out.push('\n');
    }
}

fn escape_label_value(value: &str, out: &mut String) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

fn push_value(value: f64, out: &mut String) {
    if value.is_infinite() {
        out.push_str(if value > 0.0 { "+Inf" } else { "-Inf" });
    } else if value.fract() == 0.0 && value.abs() < 1e15 {
        let _ = write!(out, "{}", value as i64);
    } else {
        let _ = write!(out, "{value}");
    }
}

/// A limit as a sample value: "unlimited" is +Inf.
fn limit_value(limit: u64) -> f64 {
    if limit == u64::MAX {
        f64::INFINITY
    } else {
        limit as f64
    }
}

/// The whole exposition for one snapshot.
pub(crate) fn render(snapshot: &Snapshot, limits: &MetricsLimits, users: &UserNames) -> String {
    let mut out = String::with_capacity(16 * 1024);
    write_deleted(snapshot, limits, &mut out);
    write_processes(snapshot, limits, users, &mut out);
    write_commands(snapshot, users, &mut out);
    write_system(snapshot, users, &mut out);
    write_listeners(snapshot, limits, &mut out);
    write_scan(snapshot, &mut out);
    out
}

fn write_deleted(snapshot: &Snapshot, limits: &MetricsLimits, out: &mut String) {
    let labels_of = |fs: &crate::deleted::collect::Filesystem| -> [String; 3] {
        let device = format!("{}:{}", fs.dev.major, fs.dev.minor);
        match &fs.mount {
            Some(m) => [
                String::from_utf8_lossy(&m.mount_point).into_owned(),
                device,
                m.fs_type.clone(),
            ],
            None => [String::new(), device, String::new()],
        }
    };
    let all: Vec<_> = snapshot
        .deleted
        .filesystems
        .iter()
        .map(|fs| (labels_of(fs), fs))
        .collect();
    let names = ["mountpoint", "device", "fstype"];
    let mut bytes = Family::new(
        out,
        "rlsof_deleted_open_bytes",
        "gauge",
        "Space held on a filesystem by deleted files still open or mapped (df minus du).",
    );
    for (l, fs) in &all {
        let labels = [(names[0], &*l[0]), (names[1], &*l[1]), (names[2], &*l[2])];
        bytes.sample(&labels, fs.bytes_held as f64);
    }
    let mut files = Family::new(
        out,
        "rlsof_deleted_open_files",
        "gauge",
        "Deleted files still open or mapped on a filesystem, each inode once.",
    );
    for (l, fs) in &all {
        let labels = [(names[0], &*l[0]), (names[1], &*l[1]), (names[2], &*l[2])];
        files.sample(&labels, fs.files.len() as f64);
    }
    if limits.deleted_paths == 0 {
        return;
    }
    let mut biggest: Vec<_> = snapshot
        .deleted
        .filesystems
        .iter()
        .flat_map(|fs| fs.files.iter())
        .collect();
    biggest.sort_by_key(|f| std::cmp::Reverse(f.bytes_held()));
    let mut by_path = Family::new(
        out,
        "rlsof_deleted_open_file_bytes",
        "gauge",
        "Space held by one deleted file still open (the largest, by its former path).",
    );
    for f in biggest.iter().take(limits.deleted_paths) {
        let path = String::from_utf8_lossy(&f.name);
        let device = format!("{}:{}", f.dev.major, f.dev.minor);
        let inode = f.inode.to_string();
        let labels = [("path", &*path), ("device", &*device), ("inode", &*inode)];
        by_path.sample(&labels, f.bytes_held() as f64);
    }
}

fn write_processes(
    snapshot: &Snapshot,
    limits: &MetricsLimits,
    users: &UserNames,
    out: &mut String,
) {
    let top: Vec<(&ProcessFds, [String; 3])> = snapshot
        .processes
        .iter()
        .take(limits.top_processes)
        .map(|p| {
            let labels = [
                p.pid.to_string(),
                String::from_utf8_lossy(&p.command).into_owned(),
                users.name(p.uid),
            ];
            (p, labels)
        })
        .collect();
    let mut fds = Family::new(
        out,
        "rlsof_process_open_fds",
        "gauge",
        "Open descriptors of a process, for the processes closest to their soft RLIMIT_NOFILE.",
    );
    for (p, l) in &top {
        fds.sample(&labels(l), p.fds as f64);
    }
    let mut soft = Family::new(
        out,
        "rlsof_process_max_fds",
        "gauge",
        "Soft RLIMIT_NOFILE of the same processes.",
    );
    for (p, l) in &top {
        if let Some(limit) = p.soft_limit {
            soft.sample(&labels(l), limit_value(limit));
        }
    }
    let mut hard = Family::new(
        out,
        "rlsof_process_max_fds_hard",
        "gauge",
        "Hard RLIMIT_NOFILE of the same processes.",
    );
    for (p, l) in &top {
        if let Some(limit) = p.hard_limit {
            hard.sample(&labels(l), limit_value(limit));
        }
    }
}

/// Per command and user: how many processes, their descriptors, and the
/// worst ratio among them (one process near its limit is never averaged
/// away).
#[derive(Default)]
struct CommandTotals {
    processes: u64,
    fds: u64,
    worst_ratio: f64,
}

fn labels(l: &[String; 3]) -> [(&'static str, &str); 3] {
    [("pid", &l[0]), ("command", &l[1]), ("user", &l[2])]
}

/// A per-command family: name, help, and its value from the totals.
type CommandFamily = (&'static str, &'static str, fn(&CommandTotals) -> f64);

fn write_commands(snapshot: &Snapshot, users: &UserNames, out: &mut String) {
    let mut totals: BTreeMap<(String, String), CommandTotals> = BTreeMap::new();
    for p in &snapshot.processes {
        let key = (
            String::from_utf8_lossy(&p.command).into_owned(),
            users.name(p.uid),
        );
        let t = totals.entry(key).or_default();
        t.processes += 1;
        t.fds += p.fds;
        t.worst_ratio = t.worst_ratio.max(p.ratio());
    }
    let families: [CommandFamily; 3] = [
        (
            "rlsof_command_processes",
            "Processes of a command run by a user.",
            |t| t.processes as f64,
        ),
        (
            "rlsof_command_open_fds",
            "Open descriptors of all processes of a command run by a user.",
            |t| t.fds as f64,
        ),
        (
            "rlsof_command_max_fd_usage_ratio",
            "The highest open descriptors over soft RLIMIT_NOFILE among a command's processes.",
            |t| t.worst_ratio,
        ),
    ];
    for (name, help, value) in families {
        let mut family = Family::new(out, name, "gauge", help);
        for ((command, user), t) in &totals {
            family.sample(&[("command", command), ("user", user)], value(t));
        }
    }
}

fn write_system(snapshot: &Snapshot, users: &UserNames, out: &mut String) {
    let s = &snapshot.system;
    let singles = [
        (
            "rlsof_kernel_files_allocated",
            "File handles the kernel has allocated (first field of fs.file-nr).",
            s.files_allocated,
        ),
        (
            "rlsof_kernel_files_max",
            "The kernel's limit of file handles (fs.file-max).",
            s.file_max,
        ),
        (
            "rlsof_kernel_nr_open",
            "The ceiling of any process's RLIMIT_NOFILE (fs.nr_open).",
            s.nr_open,
        ),
        (
            "rlsof_inotify_max_user_instances",
            "Inotify instances a user may hold (fs.inotify.max_user_instances).",
            s.inotify_max_user_instances,
        ),
        (
            "rlsof_inotify_max_user_watches",
            "Inotify watches a user may hold (fs.inotify.max_user_watches).",
            s.inotify_max_user_watches,
        ),
    ];
    for (name, help, value) in singles {
        let mut family = Family::new(out, name, "gauge", help);
        if let Some(v) = value {
            family.sample(&[], v as f64);
        }
    }
    let per_user: Vec<(String, _)> = snapshot
        .inotify
        .iter()
        .map(|(uid, used)| (users.name(*uid), *used))
        .collect();
    let mut instances = Family::new(
        out,
        "rlsof_inotify_instances",
        "gauge",
        "Inotify instances a user holds (seen in the scanned processes).",
    );
    for (user, used) in &per_user {
        instances.sample(&[("user", user)], used.instances as f64);
    }
    let mut watches = Family::new(
        out,
        "rlsof_inotify_watches",
        "gauge",
        "Inotify watches a user holds (seen in the scanned processes).",
    );
    for (user, used) in &per_user {
        watches.sample(&[("user", user)], used.watches as f64);
    }
    let mut by_type = Family::new(
        out,
        "rlsof_open_files",
        "gauge",
        "Open descriptors of the scanned processes by type (lsof's TYPE column).",
    );
    for (kind, count) in &snapshot.fds_by_type {
        by_type.sample(&[("type", kind)], *count as f64);
    }
}

fn write_listeners(snapshot: &Snapshot, limits: &MetricsLimits, out: &mut String) {
    let mut family = Family::new(
        out,
        "rlsof_listening_sockets",
        "gauge",
        "Listening TCP sockets and bound unconnected UDP sockets, by address, port and command.",
    );
    for (l, count) in snapshot.listeners.iter().take(limits.listeners) {
        let address = l.address.to_string();
        let port = l.port.to_string();
        let command = String::from_utf8_lossy(&l.command);
        family.sample(
            &[
                ("protocol", l.protocol),
                ("address", &address),
                ("port", &port),
                ("command", &command),
            ],
            *count as f64,
        );
    }
    let left_out = snapshot.listeners.len().saturating_sub(limits.listeners);
    Family::new(
        out,
        "rlsof_listening_sockets_not_shown",
        "gauge",
        "Listening sockets left out of rlsof_listening_sockets by its cap.",
    )
    .sample(&[], left_out as f64);
}

fn write_scan(snapshot: &Snapshot, out: &mut String) {
    let singles = [
        (
            "rlsof_processes_scanned",
            "Processes whose descriptors were read.",
            snapshot.processes.len() as f64,
        ),
        (
            "rlsof_processes_unreadable",
            "Processes whose descriptors could not be read (another user's, without root).",
            snapshot.unreadable as f64,
        ),
        (
            "rlsof_scrape_duration_seconds",
            "How long the scan behind these metrics took.",
            snapshot.duration.as_secs_f64(),
        ),
        (
            "rlsof_scrape_errors",
            "Reads that failed in the scan behind these metrics (limits files, kernel limits).",
            snapshot.errors as f64,
        ),
    ];
    for (name, help, value) in singles {
        Family::new(out, name, "gauge", help).sample(&[], value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        let mut out = String::new();
        Family::new(&mut out, "rlsof_x", "gauge", "X.").sample(&[("a", "q\"b\\n\nx")], 1.5);
        assert_eq!(
            out,
            "# HELP rlsof_x X.\n# TYPE rlsof_x gauge\nrlsof_x{a=\"q\\\"b\\\\n\\nx\"} 1.5\n"
        );
    }

    #[test]
    fn values() {
        let mut s = String::new();
        push_value(3.0, &mut s);
        s.push(' ');
        push_value(f64::INFINITY, &mut s);
        s.push(' ');
        push_value(0.25, &mut s);
        assert_eq!(s, "3 +Inf 0.25");
    }

    #[test]
    fn every_family_has_help_and_type() {
        let text = render(
            &Snapshot::default(),
            &MetricsLimits::default(),
            &UserNames::new(true),
        );
        let helps = text.lines().filter(|l| l.starts_with("# HELP ")).count();
        let types = text.lines().filter(|l| l.starts_with("# TYPE ")).count();
        assert_eq!(helps, types);
        assert!(helps >= 20, "{text}");
        assert!(!text.contains("_total"));
    }
}
