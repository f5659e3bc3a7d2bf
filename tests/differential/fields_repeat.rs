//! `-r [t[cN][m<fmt>]]` and `+r` against lsof 4.95: the marker line in
//! each output style, the header per cycle, cycle counts, `+r` ending when
//! nothing is listed, and the exit status. Intervals are 1 s, so each test
//! takes a few seconds.

use crate::common::{assert_same_as_lsof, require_lsof, rlsof, run, Fixture, Output, LSOF};
use std::process::{Child, Command, Stdio};

fn compare_on_fixture(option_lists: &[&[&str]]) {
    if !require_lsof() {
        return;
    }
    let fixture = Fixture::start(&["regular", "pipes", "unix_sockets", "locks_posix_whole"]);
    let pid = fixture.pid_arg();
    for options in option_lists {
        let args: Vec<&str> = options.iter().copied().chain(["-p", &pid]).collect();
        assert_same_as_lsof(&args);
    }
}

#[test]
fn table_repeats_header_and_marker() {
    compare_on_fixture(&[&["-r1c2"], &["-r", "1c2"]]);
}

#[test]
fn fields_write_an_m_field() {
    compare_on_fixture(&[&["-r1c2", "-Fpfn"], &["-r1c2", "-F0"]]);
}

#[test]
fn terse_repeats_pids_with_the_marker() {
    compare_on_fixture(&[&["-r1c2", "-t"]]);
}

#[test]
fn marker_format_in_each_style() {
    // A format whose text cannot change between the two tools' runs.
    compare_on_fixture(&[
        &["-r1c2m<%%>"],
        &["-r1c2m<%%>", "-Fpn"],
        &["-r1c2m<%%>", "-F0pn"],
        &["-r1c2m<%%>", "-t"],
    ]);
}

#[test]
fn marker_format_is_strftime() {
    let out = run(rlsof(), &["-r1c1m%Y", "-t", "-p", "1"]);
    let year = String::from_utf8_lossy(&out.stdout);
    let year = year.lines().last().unwrap_or_default();
    assert!(
        year.len() == 4 && year.bytes().all(|b| b.is_ascii_digit()),
        "{out:?}"
    );
}

#[test]
fn plus_r_with_cycles_and_options_after_the_count() {
    compare_on_fixture(&[&["+r1c2", "-Fpn"], &["-r1c2", "-n"]]);
}

#[test]
fn zero_seconds_is_no_repeat_mode() {
    compare_on_fixture(&[&["-r0"], &["+r0"], &["+r0", "-t"]]);
}

#[test]
fn nothing_found_repeats_markers_and_fails() {
    if !require_lsof() {
        return;
    }
    let gone = crate::common::vanished_pid().to_string();
    let output = assert_same_as_lsof(&["-r1c2", "-p", &gone]);
    assert_eq!(
        (output.stdout, output.status),
        (b"=======\n=======\n".to_vec(), "exit 1".to_string())
    );
    let output = assert_same_as_lsof(&["+r1", "-p", &gone]);
    assert_eq!((output.stdout.len(), &output.status[..]), (0, "exit 1"));
}

/// A process that holds its working directory for about 2.5 s.
fn short_lived() -> Child {
    Command::new("sleep")
        .arg("2.5")
        .current_dir("/")
        .stdin(Stdio::null())
        .spawn()
        .expect("cannot start sleep")
}

/// `+r1 -Fp -p PID` on a process that exits: some cycles (`pPID`, `m`),
/// then the end, with exit status 0.
fn until_gone(tool: &str) -> Output {
    let mut child = short_lived();
    let pid = child.id().to_string();
    let output = run(tool, &["+r1", "-Fp", "-p", &pid]);
    let _ = child.wait();
    let cycle = format!("p{pid}\nm\n");
    let cycles = output.stdout.len() / cycle.len();
    assert!(
        cycles >= 1 && output.stdout == cycle.repeat(cycles).into_bytes(),
        "{tool}: {output:?}"
    );
    output
}

#[test]
fn plus_r_ends_when_nothing_is_listed() {
    if !require_lsof() {
        return;
    }
    let lsof = until_gone(LSOF);
    let ours = until_gone(&rlsof().to_string_lossy());
    assert_eq!((&lsof.status, &lsof.stderr), (&ours.status, &ours.stderr));
    assert_eq!(ours.status, "exit 0");
}

/// A process that holds a file from the start, then after about 1.5 s
/// takes a write lock on it and opens a TCP listener; it lives 4 s.
fn changes_midway(dir: &std::path::Path) -> Child {
    let script = r#"
import fcntl, os, socket, sys, time
f = open(sys.argv[1], "w")
time.sleep(1.5)
fcntl.lockf(f, fcntl.LOCK_EX)
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(1)
time.sleep(2.5)
"#;
    Command::new("python3")
        .args(["-c", script])
        .arg(dir.join("locked"))
        .stdin(Stdio::null())
        .spawn()
        .expect("cannot start python3")
}

#[test]
fn each_cycle_reads_locks_and_sockets_afresh() {
    let dir = std::env::temp_dir().join(format!("rlsof-repeat-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut child = changes_midway(&dir);
    let pid = child.id().to_string();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let out = run(rlsof(), &["-r1c3", "-n", "-P", "-Ffln", "-p", &pid]);
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    // Each cycle ends with the marker line "m".
    let cycles: Vec<String> = text.split("\nm\n").map(|c| format!("{c}\n")).collect();
    assert_eq!(cycles.len(), 4, "{text}");
    let locked = format!("lW\nn{}", dir.join("locked").display());
    assert!(!cycles[0].contains(&locked), "{text}");
    assert!(!cycles[0].contains("(LISTEN)") && !cycles[0].contains("n127.0.0.1:"));
    assert!(cycles[2].contains(&locked), "{text}");
    assert!(cycles[2].contains("n127.0.0.1:"), "{text}");
}
