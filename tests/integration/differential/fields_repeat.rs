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
fn until_gone(tool: &str, env: &[(&str, &str)]) -> Output {
    let mut child = short_lived();
    let pid = child.id().to_string();
    let output = crate::common::run_with_env(tool, &["+r1", "-Fp", "-p", &pid], env);
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
    let lsof = until_gone(LSOF, &[]);
    for path in crate::common::paths() {
        let ours = until_gone(&rlsof().to_string_lossy(), path.env);
        assert_eq!(
            (&lsof.status, &lsof.stderr),
            (&ours.status, &ours.stderr),
            "{}",
            path.name
        );
        assert_eq!(ours.status, "exit 0", "{}", path.name);
    }
}

/// A process that holds a file (then says `ready`) and, when a line arrives
/// on its stdin, takes a write lock on it and opens a TCP listener, then says
/// `changed` on its stdout.
fn changes_when_told(dir: &std::path::Path) -> Child {
    let script = r#"
import fcntl, socket, sys
f = open(sys.argv[1], "w")
print("ready", flush=True)
sys.stdin.readline()
fcntl.lockf(f, fcntl.LOCK_EX)
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(1)
print("changed", flush=True)
sys.stdin.readline()
"#;
    Command::new("python3")
        .args(["-c", script])
        .arg(dir.join("locked"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("cannot start python3")
}

/// Reads `-F` output cycle by cycle (each ends with the marker line `m`).
fn cycles_of(child: &mut Child) -> std::sync::mpsc::Receiver<String> {
    use std::io::BufRead;
    let stdout = child.stdout.take().expect("rlsof's stdout");
    let (send, receive) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut cycle = String::new();
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if line == "m" {
                if send.send(std::mem::take(&mut cycle)).is_err() {
                    break;
                }
            } else {
                cycle += &line;
                cycle.push('\n');
            }
        }
    });
    receive
}

/// Every cycle of `-r` reads locks and sockets afresh: the process changes
/// only after the first cycle was read, and a later cycle, at the latest
/// the third to come after the change, must show it. No step depends on
/// how fast the machine is (the time limit only stops a cycle that never
/// comes), and a stale listing fails instead of running on.
#[test]
fn each_cycle_reads_locks_and_sockets_afresh() {
    afresh(&[]);
    afresh(&[("RLSOF_NO_BPF", "1")]);
}

/// Cycles read, once the holder changed, before one must show the change.
const AFTER_THE_CHANGE: usize = 3;

fn afresh(env: &[(&str, &str)]) {
    use std::io::{BufRead, Write};
    use std::time::Duration;
    let dir = std::env::temp_dir().join(format!("rlsof-repeat-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let locked = format!("lW\nn{}", dir.join("locked").display());
    let mut holder = changes_when_told(&dir);
    let mut said = std::io::BufReader::new(holder.stdout.take().expect("holder's stdout"));
    let mut answer = String::new();
    let _ = said.read_line(&mut answer);
    assert_eq!(answer, "ready\n", "the holder did not start");
    let pid = holder.id().to_string();
    let mut lister = Command::new(rlsof())
        .args(["-r1", "-n", "-P", "-Ffln", "-p", &pid])
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start rlsof");
    let cycles = cycles_of(&mut lister);
    let limit = Duration::from_secs(60);
    let result = (|| -> Result<(), String> {
        let first = cycles
            .recv_timeout(limit)
            .map_err(|e| format!("first cycle: {e}"))?;
        if !first.contains(&format!("n{}", dir.join("locked").display())) {
            return Err(format!("the holder's file is missing:\n{first}"));
        }
        if first.contains(&locked) || first.contains("n127.0.0.1:") {
            return Err(format!("changed before it was told:\n{first}"));
        }
        let mut input = holder.stdin.take().expect("holder's stdin");
        writeln!(input, "change").map_err(|e| e.to_string())?;
        let mut answer = String::new();
        said.read_line(&mut answer).map_err(|e| e.to_string())?;
        if answer != "changed\n" {
            return Err(format!("the holder said {answer:?}"));
        }
        let shows_change = |cycle: &str| cycle.contains(&locked) && cycle.contains("n127.0.0.1:");
        // Cycles already read may predate the change; of those still to
        // come, the one under way may have begun before it, but the next
        // began after (one more for a cycle still in the pipe). A listing
        // that never reads afresh fails here instead of looping for good.
        let mut seen = Vec::new();
        while let Ok(cycle) = cycles.try_recv() {
            seen.push(cycle);
        }
        for _ in 0..AFTER_THE_CHANGE {
            let cycle = cycles
                .recv_timeout(limit)
                .map_err(|e| format!("no cycle came after the change: {e}"))?;
            seen.push(cycle);
        }
        if seen.iter().any(|cycle| shows_change(cycle)) {
            return Ok(());
        }
        Err(format!(
            "no cycle shows the change, of {} read after it was made:\n{}",
            seen.len(),
            seen.join("m\n")
        ))
    })();
    for child in [&mut lister, &mut holder] {
        let _ = child.kill();
        let _ = child.wait();
    }
    let _ = std::fs::remove_dir_all(&dir);
    result.unwrap_or_else(|e| panic!("{env:?}: {e}"));
}
