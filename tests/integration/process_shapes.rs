//! Process shapes that differ from lsof's view of the machine unless
//! every path looks at them alike: rlsof's own scanning threads, a thread
//! with a descriptor table of its own, a socket whose network namespace
//! no process is in.
//!
//! A test crate of its own: its fixtures are listed otherwise than lsof
//! lists them (DIVERGENCES.md), so they must not run beside the
//! whole-machine comparisons of `differential`.

use crate::common;
use std::process::{Command, Stdio};

use crate::common::need::cannot_run;
use crate::common::{require_lsof, require_root, rlsof, Fixture};

/// Runs rlsof with `args` as user `uid` (None: as is), returning its PID
/// and its standard output.
fn rlsof_and_its_pid(args: &[&str], uid: Option<u32>) -> (u32, String) {
    let mut command = Command::new(rlsof());
    if let Some(uid) = uid {
        std::os::unix::process::CommandExt::uid(&mut command, uid);
        std::os::unix::process::CommandExt::gid(&mut command, uid);
    }
    let child = command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start rlsof");
    let pid = child.id();
    let out = child.wait_with_output().expect("run rlsof");
    (pid, String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The rows of process `pid` in a table listing.
fn rows_of(listing: &str, pid: u32) -> Vec<&str> {
    let pid = pid.to_string();
    listing
        .lines()
        .filter(|line| line.split_whitespace().nth(1) == Some(pid.as_str()))
        .collect()
}

/// rlsof looks single-threaded from outside, as lsof is: its scanning
/// threads are never listed, whatever the listing (a whole one runs them
/// all), and never add the TID column.
#[test]
fn own_scanning_threads_are_never_listed() {
    let _alone = crate::common::machine::alone();
    // A threaded process, so that the listing has a TID column at all.
    let threaded = Fixture::start(&["regular", "thread"]);
    for args in [&["-n", "-P"][..], &["-n", "-P", "-K"], &["-n", "-P", "-i"]] {
        let (pid, listing) = rlsof_and_its_pid(args, None);
        let own = rows_of(&listing, pid);
        for row in &own {
            let third = row.split_whitespace().nth(2).unwrap_or("");
            assert!(
                third.parse::<u32>().is_err(),
                "rlsof {args:?} lists a thread of its own: {row}"
            );
        }
        assert!(!listing.contains(&format!("/proc/{pid}/task/")), "{args:?}");
    }
    // `-K` selects every process's threads: rlsof's are not among them.
    let fixture_pid = threaded.pid_arg();
    let (pid, listing) = rlsof_and_its_pid(&["-n", "-P", "-K", "-p", &fixture_pid], None);
    assert!(rows_of(&listing, pid).is_empty(), "{listing}");
    assert!(!rows_of(&listing, threaded.pid).is_empty(), "{listing}");
}

/// A user who sees no threaded process but rlsof itself (hidepid=2): no
/// TID column, as lsof shows none.
#[test]
fn own_threads_add_no_tid_column_where_no_other_thread_is_seen() {
    let _alone = crate::common::machine::alone();
    if !require_root() {
        return;
    }
    // A user no other test runs as, alone with rlsof in a /proc of its own.
    const LONER: &str = "61234";
    let script = format!(
        "mount -t proc -o hidepid=2 proc /proc && exec setpriv --reuid {LONER} --regid {LONER} --clear-groups \"$0\" -n -P"
    );
    let out = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c", &script])
        // The built binary itself: a user with no home must reach it.
        .arg(std::env::var_os("RLSOF_UNDER_TEST").unwrap_or(env!("CARGO_BIN_EXE_rlsof").into()))
        .stdin(Stdio::null())
        .output();
    let Some(out) = out.ok().filter(|o| o.status.success()) else {
        cannot_run("cannot mount a /proc with hidepid=2 here");
        return;
    };
    let listing = String::from_utf8_lossy(&out.stdout);
    let header = listing.lines().next().unwrap_or("");
    assert!(header.starts_with("COMMAND"), "{listing}");
    assert!(!header.contains(" TID "), "{listing}");
    if require_lsof() {
        assert!(listing.lines().count() > 1, "rlsof lists itself: {listing}");
    }
}

/// A thread that called `unshare(CLONE_FILES)` holds a listener and a file
/// in a descriptor table of its own. lsof reads the leader's table only
/// and misses them; rlsof lists the thread as `-K` lists it, on every
/// path (the kernel's answer of who holds a socket names that thread's
/// process too), for root and for the thread's own user alike
/// (DIVERGENCES.md, "threads with a descriptor table of their own").
#[test]
fn thread_with_its_own_descriptor_table_is_listed() {
    let _alone = crate::common::machine::alone();
    let users: &[Option<u32>] = if require_root() {
        &[None, Some(common::NOBODY)]
    } else {
        &[None]
    };
    for &uid in users {
        let fixture = Fixture::start_as(uid, &["regular", "thread_own_table"]);
        let pid = fixture.pid_arg();
        let tid = fixture.said("own_table_tid").expect("the thread's id");
        let port = format!(":{}", fixture.said("own_table_port").expect("its port"));
        let listed = common::rlsof_on_every_path(uid, &["-n", "-P", "-i", &port]);
        let text = String::from_utf8_lossy(&listed.stdout);
        let row = format!("TCP 127.0.0.1{port} (LISTEN)");
        assert!(
            text.lines().any(|l| l.contains(&row)
                && l.split_whitespace()
                    .take(3)
                    .eq(["python3", pid.as_str(), tid])),
            "as {uid:?}: the listener of thread {tid}:\n{text}"
        );
        assert_eq!(listed.status, "exit 0");
        let terse = common::rlsof_on_every_path(uid, &["-t", "-i", &port]);
        assert_eq!(String::from_utf8_lossy(&terse.stdout), format!("{pid}\n"));
        let whole = common::rlsof_on_every_path(uid, &["-n", "-P", "-p", &pid]);
        let text = String::from_utf8_lossy(&whole.stdout);
        assert!(
            text.lines()
                .any(|l| l.contains("/thread-own.txt") && l.contains(&format!(" {tid} "))),
            "as {uid:?}: the thread's file:\n{text}"
        );
        if require_lsof() {
            let args = ["-n", "-P", "-t", "-i", &port];
            let lsof = common::run_as(uid, common::LSOF, &args, &[]);
            assert_eq!(
                (lsof.stdout.as_slice(), lsof.status.as_str()),
                (&b""[..], "exit 1"),
                "lsof now sees the thread's own table: update DIVERGENCES.md"
            );
            // -K lists the thread as lsof does.
            common::assert_same_as_lsof(&["-K", "-a", "-p", &pid]);
        }
    }
}

/// UNIX sockets and a TCP listener of a network namespace no process is
/// in (held through a descriptor, as util-linux's test_mkfds
/// `foreign-sockets` makes them; `-i` finds the listener):
/// as root, decoded alike by the kernel describer (streaming outputs on a
/// machine with many sockets, which `RLSOF_SOCKET_BATCH` makes this one),
/// by the tables read in batches, by whole tables and by the table view
/// (DIVERGENCES.md 15); lsof shows them as `sock`, `protocol: UNIX`.
#[test]
fn sockets_of_a_namespace_no_process_is_in_are_decoded_on_every_path() {
    let _alone = crate::common::machine::alone();
    if !require_root() {
        return;
    }
    let fixture = Fixture::start(&["foreign_sockets"]);
    let pid = fixture.pid_arg();
    let port = format!("TCP:{}", fixture.said("foreign_port").expect("its port"));
    let paths: [&[(&str, &str)]; 5] = [
        &[],
        &[("RLSOF_NO_BPF", "1")],
        &[("RLSOF_SOCKET_BATCH", "1")],
        &[("RLSOF_SOCKET_BATCH", "1"), ("RLSOF_SOCKET_TABLES", "1")],
        &[("RLSOF_SOCKET_BATCH", "1"), ("RLSOF_NO_BPF", "1")],
    ];
    let listings = [
        &["-n", "-P", "-U", "-a", "-p", &pid][..],
        &["-n", "-P", "-F", "ftn", "-p", &pid],
        &["-n", "-P", "-J", "-p", &pid],
        &["-n", "-P", "-i", "TCP", "-a", "-p", &pid],
        &["-n", "-P", "-i", &port],
    ];
    for args in listings {
        let answers: Vec<_> = paths
            .iter()
            .map(|env| common::run_with_env(rlsof(), args, env))
            .collect();
        for (env, answer) in paths.iter().zip(&answers).skip(1) {
            assert!(
                *answer == answers[0],
                "{args:?}: as is and with {env:?}:\n{}",
                common::report(args, &answers[0], answer, "rlsof")
            );
        }
        let text = String::from_utf8_lossy(&answers[0].stdout);
        if args.contains(&"-i") {
            let listed = text
                .lines()
                .any(|l| l.contains(&pid) && l.contains("TCP *:"));
            assert!(listed, "{args:?}: the listener:\n{text}");
            continue;
        }
        assert!(
            text.contains("/foreign.sock type=DGRAM"),
            "{args:?}:\n{text}"
        );
        assert_eq!(text.matches("type=STREAM").count(), 2, "{args:?}:\n{text}");
        assert!(!text.contains("protocol: UNIX"), "{args:?}:\n{text}");
    }
    if require_lsof() {
        let lsof = common::run(common::LSOF, &["-n", "-P", "-p", &pid]);
        let text = String::from_utf8_lossy(&lsof.stdout);
        assert_eq!(
            text.matches("protocol: UNIX").count() + text.matches("protocol: TCP").count(),
            4,
            "lsof now decodes them: update DIVERGENCES.md 15\n{text}"
        );
    }
}
