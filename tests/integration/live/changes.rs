//! `--changes`: a process opening and closing files and sockets between
//! cycles, reusing a descriptor number, forking a child that is killed,
//! and exiting; the exact event streams in the table and in `-j`, each
//! row checked against lsof's row for the same file. As root, and again
//! with the fixture, rlsof and lsof all run as user nobody.

use super::support::{as_user, fresh_directory, rlsof, wait_for, Churn, Stream};
use crate::common::{require_root, NOBODY};
use serde_json::Value;
use std::collections::HashMap;
use std::process::Command;

/// One event as `-j` gives it: event, pid, fd, type, name (a UNIX
/// socket's name is only checked to start with its type).
type Event = (String, u32, String, String, String);

fn event(kind: &str, pid: u32, fd: &str, file_type: &str, name: &str) -> Event {
    (kind.into(), pid, fd.into(), file_type.into(), name.into())
}

fn json_events(stream: &Stream) -> Vec<Event> {
    stream
        .lines()
        .iter()
        .filter(|l| !l.contains("/p.txt"))
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}"));
            assert!(v["time"].is_string() && v["cycle"].is_u64(), "{l}");
            let text = |k: &str| v[k].as_str().unwrap_or_default().to_string();
            let mut name = text("name");
            if text("type") == "unix" {
                assert!(name.starts_with("type=STREAM"), "{l}");
                name = "unix".into();
            }
            let pid = v["pid"].as_u64().expect("pid") as u32;
            (text("event"), pid, text("fd"), text("type"), name)
        })
        .collect()
}

/// The table's rows (not its headers), as whitespace-separated words.
fn table_rows(stream: &Stream) -> Vec<Vec<String>> {
    stream
        .lines()
        .iter()
        .filter(|l| !l.starts_with("TIME ") && !l.ends_with("/p.txt"))
        .map(|l| l.split_whitespace().map(String::from).collect())
        .collect()
}

/// lsof's rows for the group's descriptors 3-99, by (pid, fd number), as
/// user `uid` (None: as is).
fn lsof_rows(uid: Option<u32>, pgid: u32) -> HashMap<(String, String), Vec<String>> {
    let out = as_user(Command::new("/usr/bin/lsof"), uid)
        .args(["-a", "-d", "3-99", "-g", &pgid.to_string(), "-n", "-P"])
        .output()
        .expect("lsof runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .skip(1)
        .map(|l| {
            let words: Vec<String> = l.split_whitespace().map(String::from).collect();
            let fd: String = words[4].chars().take_while(char::is_ascii_digit).collect();
            ((words[1].clone(), fd), words)
        })
        .collect()
}

/// Opens or closes p.txt until both outputs have shown a change, so that
/// both have listed their first cycle; ends with p.txt closed.
fn until_both_have_a_first_cycle(churn: &mut Churn, json: &Stream, table: &Stream) {
    let mut open = false;
    loop {
        churn.step("ping");
        open = !open;
        let seen = |s: &Stream| s.lines().iter().filter(|l| l.contains("/p.txt")).count();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(4);
        while std::time::Instant::now() < deadline && (seen(json) == 0 || seen(table) == 0) {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        if seen(json) > 0 && seen(table) > 0 {
            if open {
                churn.step("ping");
                wait_for(
                    "p.txt closed in both",
                    || (seen(json) >= 2 && seen(table) >= 2).then_some(()),
                    || format!("{:?}\n{:?}", json.lines(), table.lines()),
                );
            }
            return;
        }
    }
}

#[test]
fn opens_closes_reuse_fork_and_exit_as_events() {
    events_of_a_churning_process(None);
}

/// The same events where a user runs rlsof on a process of its own (no
/// kernel paths, /proc as a user reads it).
#[test]
fn opens_closes_reuse_fork_and_exit_as_events_as_nobody() {
    if require_root() {
        events_of_a_churning_process(Some(NOBODY));
    }
}

/// The fixture, rlsof and lsof run as user `uid` (None: as is).
fn events_of_a_churning_process(uid: Option<u32>) {
    let dir = fresh_directory();
    if let Some(uid) = uid {
        std::os::unix::fs::chown(&dir, Some(uid), Some(uid)).expect("chown the test directory");
    }
    let path = |f: &str| dir.join(f).to_string_lossy().into_owned();
    let mut churn = Churn::start_as(uid, "steps", &dir.to_string_lossy());
    let p = churn.pid;
    let pgid = p.to_string();
    let select = ["-g", &pgid, "-a", "-d", "3-99", "-n", "-P"];
    let mut json = Stream::start_as(uid, &[&["+r1", "--changes", "-j"][..], &select].concat());
    let mut table = Stream::start_as(uid, &[&["+r1", "--changes"][..], &select].concat());
    until_both_have_a_first_cycle(&mut churn, &json, &table);

    let mut expected: Vec<Event> = Vec::new();
    let mut before = lsof_rows(uid, p);
    let mut steps = vec![("open_a", 0usize), ("listen", 0), ("swap", 0), ("fork", 0)];
    steps.extend([("reap", 0), ("pair", 0), ("close_sockets", 0), ("exit", 0)]);
    let mut child = 0u32;
    for (step, _) in steps {
        let detail = churn.step(step);
        let new: Vec<Event> = match step {
            "open_a" => vec![event("open", p, "4", "REG", &path("a.txt"))],
            "listen" => {
                let name = format!("127.0.0.1:{detail} (LISTEN)");
                vec![event("open", p, "5", "IPv4", &name)]
            }
            "swap" => vec![
                event("close", p, "4", "REG", &path("a.txt")),
                event("open", p, "4", "REG", &path("b.txt")),
            ],
            "fork" => {
                child = detail.parse().expect("child pid");
                let listener = expected[1].4.clone();
                vec![
                    event("start", child, "", "", ""),
                    event("open", child, "3", "REG", &path("base.txt")),
                    event("open", child, "4", "REG", &path("b.txt")),
                    event("open", child, "5", "IPv4", &listener),
                ]
            }
            "reap" => vec![event("exit", child, "", "", "")],
            "pair" => vec![
                event("open", p, "6", "unix", "unix"),
                event("open", p, "7", "unix", "unix"),
            ],
            "close_sockets" => vec![
                event("close", p, "5", "IPv4", &expected[1].4.clone()),
                event("close", p, "6", "unix", "unix"),
                event("close", p, "7", "unix", "unix"),
            ],
            _ => vec![event("exit", p, "", "", "")],
        };
        let from = expected.len();
        expected.extend(new);
        let rows = wait_for(
            &format!("the events of step {step}"),
            || {
                let got = json_events(&json);
                let rows = table_rows(&table);
                (got.len() >= expected.len() && rows.len() >= expected.len()).then_some(rows)
            },
            || format!("{:#?}\n{}", json_events(&json), table.lines().join("\n")),
        );
        assert_eq!(json_events(&json), expected, "after step {step}");
        let now = if step == "exit" {
            HashMap::new()
        } else {
            lsof_rows(uid, p)
        };
        for (e, row) in expected[from..].iter().zip(&rows[from..]) {
            check_row(e, row, &before, &now);
        }
        before.extend(now);
    }
    // +r: the group lists nothing any more, so both stop.
    assert_eq!(json.wait_exit(), Some(0));
    assert_eq!(table.wait_exit(), Some(0));
    assert_eq!(json_events(&json).len(), expected.len());
}

/// A table row: the time, the mark, then lsof's row for the file (from
/// `now` for an opened file, `before` for a closed one), or for a process
/// event its cells and what happened.
fn check_row(
    e: &Event,
    row: &[String],
    before: &HashMap<(String, String), Vec<String>>,
    now: &HashMap<(String, String), Vec<String>>,
) {
    let time = &row[0];
    assert!(time.len() == 8 && time.as_bytes()[2] == b':', "{row:?}");
    let (mark, note) = match e.0.as_str() {
        "open" => ("+", None),
        "close" => ("-", None),
        "start" => (">", Some(["(process", "started)"])),
        _ => ("<", Some(["(process", "exited)"])),
    };
    assert_eq!(row[1], mark, "{row:?} for {e:?}");
    let cells = &row[2..];
    assert_eq!(cells[1], e.1.to_string(), "{row:?}");
    match note {
        Some(words) => assert_eq!(cells[cells.len() - 2..], words, "{row:?}"),
        None => {
            let rows = if mark == "+" { now } else { before };
            let lsof = &rows[&(e.1.to_string(), e.2.clone())];
            assert_eq!(cells, &lsof[..], "rlsof's row, then lsof's");
        }
    }
}

#[test]
fn a_process_growing_at_each_cycle_is_reported_as_leaking() {
    a_leak_is_reported(None);
}

#[test]
fn a_process_growing_at_each_cycle_is_reported_as_leaking_as_nobody() {
    if require_root() {
        a_leak_is_reported(Some(NOBODY));
    }
}

/// The fixture and rlsof run as user `uid` (None: as is).
fn a_leak_is_reported(uid: Option<u32>) {
    let mut leaker = Churn::start_as(uid, "leak", "3");
    let mut stable = Churn::start_as(uid, "hold", "3");
    let pids = format!("{},{}", leaker.pid, stable.pid);
    let select = ["-p", &pids, "-a", "-d", "3-999"];
    let json = Stream::start_as(
        uid,
        &[
            &["-r1", "--changes", "--leak-cycles", "2", "-j"][..],
            &select,
        ]
        .concat(),
    );
    let table = Stream::start_as(
        uid,
        &[&["-r1", "--changes", "--leak-cycles=2"][..], &select].concat(),
    );
    let leak = wait_for(
        "a leak event",
        || {
            json.lines().iter().find_map(|l| {
                let v: Value = serde_json::from_str(l).ok()?;
                (v["event"] == "leak").then_some(v)
            })
        },
        || json.lines().join("\n"),
    );
    assert_eq!(leak["pid"], leaker.pid);
    let counts: Vec<u64> = leak["descriptors"]
        .as_array()
        .expect("descriptors")
        .iter()
        .filter_map(Value::as_u64)
        .collect();
    assert_eq!(counts.len(), 3, "{leak}");
    assert!(counts.windows(2).all(|w| w[1] > w[0]), "{leak}");
    let line = wait_for(
        "a leak line",
        || table.lines().into_iter().find(|l| l.contains(" ! ")),
        || table.lines().join("\n"),
    );
    assert!(line.contains(&format!(" {} ", leaker.pid)), "{line}");
    assert!(
        line.contains("(descriptors grew in each of the last 2 cycles: "),
        "{line}"
    );
    let stable_pid = format!("\"pid\":{}", stable.pid);
    assert!(
        !json.lines().iter().any(|l| l.contains(&stable_pid)),
        "the stable process changes nothing"
    );
    leaker.kill();
    stable.kill();
}

#[test]
fn changes_needs_a_repeat_and_the_table_or_json_lines() {
    let run = |args: &[&str]| {
        Command::new(rlsof())
            .args(args)
            .output()
            .expect("rlsof runs")
    };
    for (args, message) in [
        (&["--changes"][..], "--changes needs -r or +r"),
        (&["-r0", "--changes"], "--changes needs -r or +r"),
        (&["-r1", "--changes", "-J"], "not -J, -F or -t"),
        (&["-r1", "--changes", "-t"], "not -J, -F or -t"),
        (
            &["-r1", "--changes", "--top"],
            "--changes and --top are mutually exclusive",
        ),
        (&["--leak-cycles", "2"], "--leak-cycles goes only with"),
        (
            &["-r1", "--changes", "--leak-cycles", "0"],
            "--leak-cycles needs a number",
        ),
    ] {
        let out = run(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
}
