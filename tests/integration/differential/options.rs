//! Options that change what each row shows.

use super::{compare_on, MIXED, NETWORK};
use crate::common::stable::assert_same_on_stable_processes;
use crate::common::{assert_same_as_lsof, report, require_lsof, rlsof, run, Fixture, LSOF};

#[test]
fn name_lookups_default() {
    compare_on(NETWORK, &[], &[]);
}

#[test]
fn option_n() {
    compare_on(NETWORK, &["-n"], &["127.0.0.1:"]);
}

#[test]
fn option_capital_p() {
    compare_on(NETWORK, &["-P"], &[]);
}

#[test]
fn option_n_capital_p_clustered() {
    compare_on(NETWORK, &["-nP"], &["127.0.0.1:"]);
}

#[test]
fn option_l() {
    compare_on(MIXED, &["-l"], &[]);
}

#[test]
fn option_w() {
    compare_on(MIXED, &["-w"], &[]);
}

#[test]
fn option_plus_w() {
    compare_on(MIXED, &["+w"], &[]);
}

#[test]
fn option_o() {
    compare_on(MIXED, &["-o"], &[" OFFSET "]);
}

#[test]
fn option_o_with_digits() {
    compare_on(MIXED, &["-o", "4"], &[]);
}

#[test]
fn option_o_with_digits_clustered() {
    compare_on(MIXED, &["-o4"], &[]);
}

#[test]
fn option_s() {
    compare_on(MIXED, &["-s"], &[" SIZE "]);
}

#[test]
fn option_plus_c_0() {
    compare_on(
        &["regular", "long_command"],
        &["+c", "0"],
        &["rlsof-fixture-h "],
    );
}

#[test]
fn option_plus_c_15() {
    compare_on(
        &["regular", "long_command"],
        &["+c", "15"],
        &["rlsof-fixture-h "],
    );
}

#[test]
fn option_plus_c_5() {
    compare_on(&["regular", "long_command"], &["+c", "5"], &["rlsof-f "]);
}

#[test]
fn option_capital_r() {
    if !require_lsof() {
        return;
    }
    let fixture = Fixture::start(&["regular", "child"]);
    let pids = format!("{},{}", fixture.pid, fixture.child_pid());
    assert_same_as_lsof(&["-R", "-p", &pids]);
}

#[test]
fn option_capital_k_and_p() {
    let kinds: Vec<&str> = MIXED.iter().copied().chain(["thread"]).collect();
    compare_on(&kinds, &["-K", "-a"], &[" TID ", "fx-worker"]);
}

/// lsof 4.95 with `-K` and without `-a` also lists other processes' tasks.
#[test]
fn option_capital_k_or_p() {
    if !require_lsof() {
        return;
    }
    let fixture = Fixture::start(&["regular", "thread"]);
    assert_same_on_stable_processes(
        &["-K", "-n", "-P", "-p", &fixture.pid_arg()],
        &[fixture.pid],
    );
}

#[test]
fn option_capital_k_i() {
    compare_on(&["regular", "thread"], &["-K", "i"], &[]);
}

#[test]
fn option_h() {
    if require_lsof() {
        assert_help_is_lsofs_plus_rlsof_section("-h");
    }
}

/// rlsof's help is lsof's, byte for byte, followed by one section for the
/// options lsof 4.95 lacks (DIVERGENCES.md).
fn assert_help_is_lsofs_plus_rlsof_section(option: &str) {
    let lsof = run(LSOF, &[option]);
    let ours = run(rlsof(), &[option]);
    assert_eq!(ours.status, lsof.status);
    assert!(ours.stdout.is_empty() && lsof.stdout.is_empty());
    assert!(
        ours.stderr.starts_with(&lsof.stderr),
        "rlsof {option} does not begin with lsof's help:\n{}",
        report(&[option], &lsof, &ours, "rlsof")
    );
    let extra = String::from_utf8_lossy(&ours.stderr[lsof.stderr.len()..]).into_owned();
    assert!(extra.starts_with("rlsof options"), "{extra}");
    for option in ["-H", "-J", "-j", "--deleted", "--recover", "--recover-all"] {
        assert!(extra.contains(option), "{option} missing from:\n{extra}");
    }
}

#[test]
fn option_question_mark() {
    if require_lsof() {
        assert_help_is_lsofs_plus_rlsof_section("-?");
    }
}

/// A reader that goes away (`lsof -r 1 | head -1`): lsof is killed by
/// SIGPIPE at its next write, which shells and `set -o pipefail` scripts
/// see as status 141; so is rlsof.
#[test]
fn a_reader_that_goes_away_ends_it_by_sigpipe() {
    use std::io::Read;
    use std::os::unix::process::ExitStatusExt;
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};
    if !crate::common::require_lsof() {
        return;
    }
    let end = |program: &std::path::Path| {
        // Repeat mode writes every second, so a write follows the close.
        let mut child = Command::new(program)
            .args(["-n", "-P", "-r", "1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start");
        let mut first = [0u8; 16];
        let _ = child.stdout.as_mut().expect("stdout").read(&mut first);
        drop(child.stdout.take());
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = child.try_wait().expect("wait") {
                return status.signal();
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "{} still runs 20 s after its reader went away",
                    program.display()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    let lsof = end(std::path::Path::new(crate::common::LSOF));
    let rlsof = end(&crate::common::rlsof());
    assert_eq!(lsof, Some(libc::SIGPIPE), "lsof's own ending changed");
    assert_eq!(rlsof, lsof);
}
