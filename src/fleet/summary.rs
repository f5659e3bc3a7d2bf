//! `--summary`: which ceiling is close, for a person (text) or a program
//! (`-J`): processes against RLIMIT_NOFILE, the kernel's file limits,
//! inotify per user, deleted-but-open space per filesystem.

use super::{Snapshot, UserNames};
use crate::deleted::report::{human_size, json_value};
use serde_json::{json, Value};
use std::io::{self, Write};

fn percent(used: u64, limit: Option<u64>) -> String {
    match limit {
        Some(l) if l > 0 && l != u64::MAX => format!("{:.0}%", used as f64 * 100.0 / l as f64),
        _ => "-".to_string(),
    }
}

fn limit_text(limit: Option<u64>) -> String {
    match limit {
        None => "?".to_string(),
        Some(u64::MAX) => "unlimited".to_string(),
        Some(l) => l.to_string(),
    }
}

/// The report as text, the `top` processes closest to their limit first.
pub(crate) fn write_text(
    snapshot: &Snapshot,
    top: usize,
    users: &UserNames,
    out: &mut dyn Write,
) -> io::Result<()> {
    let shown = top.min(snapshot.processes.len());
    writeln!(
        out,
        "Open descriptors against RLIMIT_NOFILE ({shown} of {} processes, closest to the soft limit first):",
        snapshot.processes.len()
    )?;
    writeln!(
        out,
        "{:>8} {:<16} {:<10} {:>8} {:>9} {:>9} {:>5}",
        "PID", "COMMAND", "USER", "FDS", "SOFT", "HARD", "USE"
    )?;
    for p in snapshot.processes.iter().take(top) {
        writeln!(
            out,
            "{:>8} {:<16} {:<10} {:>8} {:>9} {:>9} {:>5}",
            p.pid,
            crate::deleted::report::printable(&p.command),
            users.name(p.uid),
            p.fds,
            limit_text(p.soft_limit),
            limit_text(p.hard_limit),
            percent(p.fds, p.soft_limit),
        )?;
    }
    let s = &snapshot.system;
    writeln!(out)?;
    writeln!(
        out,
        "System: {} files allocated of fs.file-max {} ({}); fs.nr_open {} (no soft or hard limit can exceed it)",
        limit_text(s.files_allocated),
        limit_text(s.file_max),
        percent(s.files_allocated.unwrap_or(0), s.file_max),
        limit_text(s.nr_open),
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "Inotify per user (fs.inotify.max_user_instances {}, max_user_watches {}; \
         running out of either is reported as \"Too many open files\"):",
        limit_text(s.inotify_max_user_instances),
        limit_text(s.inotify_max_user_watches),
    )?;
    if snapshot.inotify.is_empty() {
        writeln!(out, "  no inotify instances")?;
    }
    for (uid, used) in &snapshot.inotify {
        writeln!(
            out,
            "  {:<10} {:>6} instances ({:>4})  {:>8} watches ({:>4})",
            users.name(*uid),
            used.instances,
            percent(used.instances, s.inotify_max_user_instances),
            used.watches,
            percent(used.watches, s.inotify_max_user_watches),
        )?;
    }
    writeln!(out)?;
    write_deleted(snapshot, out)?;
    if let Some(note) = unseen_note(snapshot) {
        writeln!(out)?;
        writeln!(out, "{note}")?;
    }
    Ok(())
}

fn write_deleted(snapshot: &Snapshot, out: &mut dyn Write) -> io::Result<()> {
    let report = &snapshot.deleted;
    if report.is_empty() {
        return writeln!(out, "Deleted but open: none.");
    }
    writeln!(
        out,
        "Deleted but open: {} files hold {} ({} bytes; see --deleted for the files):",
        report.file_count(),
        human_size(report.bytes_held),
        report.bytes_held
    )?;
    for fs in &report.filesystems {
        let (mount, fs_type) = match &fs.mount {
            Some(m) => (
                crate::deleted::report::printable(&m.mount_point),
                m.fs_type.as_str(),
            ),
            None => ("(no mount)".to_string(), "?"),
        };
        writeln!(
            out,
            "  {:<24} {:<8} {:>3}:{:<4} {:>6} files {:>10}",
            mount,
            fs_type,
            fs.dev.major,
            fs.dev.minor,
            fs.files.len(),
            human_size(fs.bytes_held),
        )?;
    }
    Ok(())
}

/// Without root, other users' processes are not seen: say so.
fn unseen_note(snapshot: &Snapshot) -> Option<String> {
    if snapshot.unreadable == 0 {
        return None;
    }
    let whose = if snapshot.as_root {
        "their descriptors could not be read"
    } else {
        "other users' processes were not seen: run as root to include them"
    };
    Some(format!(
        "Note: {} processes left out: {whose}.",
        snapshot.unreadable
    ))
}

/// The report as one JSON object.
pub(crate) fn json(snapshot: &Snapshot, top: usize, users: &UserNames) -> Value {
    let limit = |l: Option<u64>| -> Value {
        match l {
            Some(u64::MAX) => json!("unlimited"),
            Some(l) => json!(l),
            None => Value::Null,
        }
    };
    let processes: Vec<Value> = snapshot
        .processes
        .iter()
        .take(top)
        .map(|p| {
            let mut row = json!({
                "pid": p.pid,
                "command": String::from_utf8_lossy(&p.command),
                "user": users.name(p.uid),
                "uid": p.uid,
                "fds": p.fds,
                "soft_limit": limit(p.soft_limit),
                "hard_limit": limit(p.hard_limit),
                "ratio": p.ratio(),
            });
            // Exact bytes beside a lossy name, as the listing's JSON does.
            if std::str::from_utf8(&p.command).is_err() {
                row["command_bytes"] = json!(crate::print::base64(&p.command));
            }
            row
        })
        .collect();
    let s = &snapshot.system;
    let inotify: Vec<Value> = snapshot
        .inotify
        .iter()
        .map(|(uid, used)| {
            json!({"user": users.name(*uid), "uid": uid,
                   "instances": used.instances, "watches": used.watches})
        })
        .collect();
    let label = |uid: u32| users.name(uid);
    json!({
        "processes_scanned": snapshot.processes.len(),
        "processes_unreadable": snapshot.unreadable,
        "note": unseen_note(snapshot),
        "processes": processes,
        "system": {
            "files_allocated": limit(s.files_allocated),
            "file_max": limit(s.file_max),
            "nr_open": limit(s.nr_open),
            "inotify_max_user_instances": limit(s.inotify_max_user_instances),
            "inotify_max_user_watches": limit(s.inotify_max_user_watches),
        },
        "inotify": inotify,
        "deleted": json_value(&snapshot.deleted, &label),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::facts::ProcessFds;

    #[test]
    fn text_names_the_closest_process_and_the_unseen() {
        let snapshot = Snapshot {
            processes: vec![ProcessFds {
                pid: 42,
                uid: 0,
                command: b"busy".to_vec(),
                fds: 950,
                soft_limit: Some(1000),
                hard_limit: Some(4096),
            }],
            unreadable: 3,
            ..Default::default()
        };
        let mut out = Vec::new();
        write_text(&snapshot, 10, &UserNames::new(true), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("      42 busy"), "{text}");
        assert!(text.contains("  95%"), "{text}");
        assert!(text.contains("3 processes left out"), "{text}");
        let value = json(&snapshot, 10, &UserNames::new(true));
        assert_eq!(value["processes"][0]["soft_limit"], 1000);
        assert_eq!(value["processes_unreadable"], 3);
    }
}
