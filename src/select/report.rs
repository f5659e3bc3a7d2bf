//! What was searched for and not found: lsof's exit status 1 and the `-V`
//! lines (printed on stdout after the listing), in lsof's order (the
//! network items come from `NetworkSelection::not_found`).

use super::{SearchItem, Selection};
use crate::cli::options::{CommandSpec, UserSpec};
use crate::cli::PROGRAM;
use crate::escape::safe_text;
use std::sync::atomic::Ordering;

fn found<T>(w: &SearchItem<T>) -> bool {
    w.found.load(Ordering::Relaxed)
}

/// One `-V` line (without the trailing newline) per search item not found.
pub(crate) fn not_found(sel: &Selection) -> Vec<String> {
    let mut lines = Vec::new();
    // lsof keeps its -c names newest first, and never credits a `^` one.
    for c in sel.commands.iter().rev().filter(|c| !found(c)) {
        if let CommandSpec::Prefix(p) = &c.value {
            lines.push(format!("command not located: {}", safe_text(p, false)));
        }
    }
    for r in sel
        .regexes
        .iter()
        .filter(|r| !r.found.load(Ordering::Relaxed))
    {
        lines.push(format!(
            "no command found for regex: {}",
            safe_text(r.pattern.as_bytes(), false)
        ));
    }
    for f in sel.names.files.iter().filter(|f| !f.was_found()) {
        let what = if f.file_system {
            "file system "
        } else {
            "file "
        };
        lines.push(format!(
            "no {what}use located: {}",
            safe_text(&f.arg, false)
        ));
    }
    lines.extend(sel.network.not_found());
    if sel.nfs.is_some() && !sel.nfs_found.load(Ordering::Relaxed) {
        lines.push("no NFS files located".to_string());
    }
    for p in sel.pids.iter().filter(|p| !p.excluded && !found(p)) {
        lines.push(format!("process ID not located: {}", p.value));
    }
    if sel.tasks_wanted && !sel.tasks_found.load(Ordering::Relaxed) {
        lines.push("no tasks located".to_string());
    }
    for p in sel.pgids.iter().filter(|p| !p.excluded && !found(p)) {
        lines.push(format!("process group ID not located: {}", p.value));
    }
    for u in sel.users.iter().filter(|u| !u.excluded && !found(u)) {
        lines.push(match &u.value.spec {
            UserSpec::Name(name) => format!(
                "login name (UID {}) not located: {}",
                u.value.uid,
                safe_text(name.as_bytes(), false)
            ),
            UserSpec::Uid(uid) => format!("user ID not located: {uid}"),
        });
    }
    lines
}

/// lsof's exit status after a search, for the listing and `--deleted`
/// alike: 1 when a search item matched nothing (`missing`, from
/// [`not_found`]) unless `-Q` (`quiet`) forgives it, or when a file
/// argument could not be used (`args_failed`, which `-Q` does not
/// forgive); else 0.
pub(crate) fn exit_status(missing: &[String], quiet: bool, args_failed: bool) -> i32 {
    let search_failed = !missing.is_empty() && !quiet;
    if search_failed || args_failed {
        1
    } else {
        0
    }
}

/// The `-V` report text for `lines`.
pub(crate) fn verbose_text(lines: &[String]) -> String {
    lines.iter().map(|l| format!("{PROGRAM}: {l}\n")).collect()
}
