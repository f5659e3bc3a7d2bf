//! Kernel threads: no descriptors, only `cwd`, `rtd` and a `txt` row whose
//! readlink fails. The FD column is then sized by `cwd`/`rtd` alone, which
//! lsof spells with a leading space.

use std::io::ErrorKind;

use crate::common::need::cannot_run;
use crate::common::{assert_lsof_shows, assert_same_as_lsof, require_lsof};

/// The parent PID field of `/proc/PID/stat` (after the parenthesised name,
/// which may itself hold spaces and parentheses).
fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(1)?.parse().ok()
}

/// A kernel thread other than kthreadd: a child of PID 2 whose `exe` link
/// does not exist.
fn some_kernel_thread() -> Option<u32> {
    let mut pids: Vec<u32> = std::fs::read_dir("/proc")
        .ok()?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    pids.sort_unstable();
    pids.into_iter().find(|&pid| {
        pid > 2
            && parent_of(pid) == Some(2)
            && std::fs::read_link(format!("/proc/{pid}/exe"))
                .is_err_and(|e| e.kind() == ErrorKind::NotFound)
    })
}

#[test]
fn p_kthreadd() {
    if !require_lsof() {
        return;
    }
    let output = assert_same_as_lsof(&["-p", "2"]);
    assert_lsof_shows(&output, &[" cwd ", " txt "]);
}

#[test]
fn p_some_kernel_thread() {
    if !require_lsof() {
        return;
    }
    let Some(pid) = some_kernel_thread() else {
        cannot_run("no kernel thread found");
        return;
    };
    let pid = pid.to_string();
    let output = assert_same_as_lsof(&["-p", &pid]);
    assert_lsof_shows(&output, &[" cwd ", " txt "]);
    assert_same_as_lsof(&["-p", &pid, "-a", "-d", "txt"]);
    assert_same_as_lsof(&["-p", &format!("2,{pid}")]);
}
