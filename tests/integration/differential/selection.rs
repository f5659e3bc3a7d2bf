//! Which processes are listed: `-p` in its forms, and the whole machine.

use super::compare_on;
use crate::common::stable::assert_same_on_stable_processes;
use crate::common::{assert_same_as_lsof, require_lsof, vanished_pid, Fixture};

#[test]
fn baseline_interpreter_only() {
    compare_on(&[], &[], &["cwd", "rtd", "txt", "mem"]);
}

#[test]
fn p_one_pid_every_kind() {
    compare_on(&["all"], &["-n", "-P"], &[]);
}

#[test]
fn p_two_pids() {
    if !require_lsof() {
        return;
    }
    let fixture = Fixture::start(&["regular", "pipes", "child"]);
    let pids = format!("{},{}", fixture.pid, fixture.child_pid());
    assert_same_as_lsof(&["-p", &pids]);
}

#[test]
fn p_included_and_excluded() {
    if !require_lsof() {
        return;
    }
    let fixture = Fixture::start(&["regular", "child"]);
    let pids = format!("{},^{}", fixture.pid, fixture.child_pid());
    assert_same_as_lsof(&["-p", &pids]);
}

#[test]
fn p_same_pid_included_and_excluded_is_an_error() {
    if !require_lsof() {
        return;
    }
    let fixture = Fixture::start(&[]);
    let pids = format!("{},^{}", fixture.pid, fixture.pid);
    assert_same_as_lsof(&["-p", &pids]);
}

#[test]
fn p_excluded_only_lists_everything_else() {
    if !require_lsof() {
        return;
    }
    let fixture = Fixture::start(&["regular", "child"]);
    let excluded = format!("^{}", fixture.child_pid());
    assert_same_on_stable_processes(&["-n", "-P", "-p", &excluded], &[fixture.pid]);
}

#[test]
fn p_and_selection_with_a() {
    if !require_lsof() {
        return;
    }
    let fixture = Fixture::start(&["regular", "child"]);
    let (pid, child) = (fixture.pid.to_string(), format!("^{}", fixture.child_pid()));
    assert_same_as_lsof(&["-a", "-p", &pid, "-p", &child]);
}

#[test]
fn p_nonexistent_pid() {
    if !require_lsof() {
        return;
    }
    assert_same_as_lsof(&["-p", &vanished_pid().to_string()]);
}

#[test]
fn p_one_existing_one_nonexistent() {
    if !require_lsof() {
        return;
    }
    let fixture = Fixture::start(&["regular"]);
    let pids = format!("{},{}", fixture.pid, vanished_pid());
    assert_same_as_lsof(&["-p", &pids]);
}

#[test]
fn p_unreadable_init_process() {
    if !require_lsof() {
        return;
    }
    assert_same_as_lsof(&["-p", "1"]);
}

#[test]
fn whole_system_numeric() {
    if !require_lsof() {
        return;
    }
    let fixture = Fixture::start(&["all"]);
    assert_same_on_stable_processes(&["-n", "-P"], &[fixture.pid, fixture.child_pid()]);
}

/// The whole machine as a user sees it (both tools run as nobody): a
/// fixture of nobody's whole, other users' processes as lsof shows them.
#[test]
fn whole_system_as_nobody() {
    if !require_lsof() || !crate::common::require_root() {
        return;
    }
    let fixture = Fixture::start_as(Some(crate::common::NOBODY), &["all"]);
    let must = [fixture.pid, fixture.child_pid()];
    for args in [&["-n", "-P"][..], &["-n", "-P", "-i"], &["-n", "-P", "-U"]] {
        crate::common::stable::assert_same_on_stable_processes_as(
            crate::common::NOBODY,
            args,
            &must,
        );
    }
}
