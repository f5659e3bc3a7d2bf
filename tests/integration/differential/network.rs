//! `-i`, `-U`, `-s TCP:`, `-T` on the network fixture, against lsof.
//!
//! Most tests AND the selection with the fixture's PIDs (`-a -p`), so that
//! other processes of the machine cannot make the listings differ; the
//! port tests select the whole machine, since no other process holds the
//! fixture's ephemeral ports.

use super::network_fixture::NetFixture;
use crate::common::need::need;
use crate::common::{
    assert_lsof_shows, assert_same_as_lsof, assert_same_as_lsof_with_env, report, require_lsof,
    rlsof, run,
};

/// Compares `lsof ARGS` on a fresh fixture; `args` may use "{pids}" and
/// "{PORTNAME}" placeholders. Returns lsof's output.
fn compare(args: &[&str], markers: &[&str]) {
    if !require_lsof() {
        return;
    }
    let fixture = NetFixture::start();
    let args = expand(&fixture, args);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = assert_same_as_lsof(&args);
    if fixture.unavailable.is_empty() {
        assert_lsof_shows(&output, markers);
    }
}

fn expand(fixture: &NetFixture, args: &[&str]) -> Vec<String> {
    args.iter()
        .map(|a| {
            let mut text = a.replace("{pids}", &fixture.pids());
            for (name, port) in &fixture.ports {
                text = text.replace(&format!("{{{name}}}"), &port.to_string());
            }
            text
        })
        .collect()
}

#[test]
fn i_alone() {
    compare(
        &["-n", "-P", "-a", "-p", "{pids}", "-i"],
        &["TCP 127.0.0.1:", "(LISTEN)", "UDP [::1]:", "(ESTABLISHED)"],
    );
}

#[test]
fn i_alone_with_names() {
    compare(&["-a", "-p", "{pids}", "-i"], &["TCP localhost:"]);
}

#[test]
fn i4_and_i6() {
    compare(&["-n", "-P", "-a", "-p", "{pids}", "-i4"], &["IPv4"]);
    compare(&["-n", "-P", "-a", "-p", "{pids}", "-i", "6"], &["IPv6"]);
    compare(&["-n", "-P", "-a", "-p", "{pids}", "-i4", "-i6"], &["IPv6"]);
}

#[test]
fn i_protocols() {
    compare(&["-n", "-P", "-a", "-p", "{pids}", "-i", "TCP"], &["TCP"]);
    compare(&["-n", "-P", "-a", "-p", "{pids}", "-i", "udp"], &["UDP"]);
    compare(&["-n", "-P", "-a", "-p", "{pids}", "-i", "6udp"], &["UDP"]);
    compare(&["-n", "-P", "-a", "-p", "{pids}", "-i", "4TCP"], &["TCP"]);
}

#[test]
fn i_port_whole_machine() {
    compare(
        &["-n", "-P", "-i", ":{tcp4}"],
        &["(LISTEN)", "(ESTABLISHED)"],
    );
    compare(&["-i", ":{tcp6}"], &["[::1]:"]);
    compare(&["-n", "-P", "-i", "udp:{udp4}"], &["UDP"]);
}

#[test]
fn i_port_lists_and_ranges() {
    compare(&["-n", "-P", "-i", ":{tcp4},{udp4lone}"], &["TCP", "UDP"]);
    compare(&["-n", "-P", "-i", "tcp:{tcp4}-{tcp4}"], &["TCP"]);
    compare(
        &["-n", "-P", "-i", ":{udp4lone}", "-i", ":{tcp6}"],
        &["UDP", "TCP"],
    );
}

#[test]
fn i_addresses() {
    compare(&["-n", "-P", "-i", "@127.0.0.1:{tcp4}"], &["127.0.0.1"]);
    compare(&["-n", "-P", "-i", "@[::1]:{tcp6}"], &["[::1]"]);
    compare(&["-n", "-P", "-i", "tcp@[::1]:{tcp6}"], &["[::1]"]);
    compare(&["-n", "-P", "-i", "4@127.0.0.1:{udp4}"], &["UDP"]);
}

#[test]
fn i_ipv4_mapped() {
    compare(&["-n", "-P", "-i", ":{mapped}"], &["IPv6", "IPv4"]);
    compare(
        &["-n", "-P", "-i", "@[::ffff:127.0.0.1]:{mapped}"],
        &["IPv6"],
    );
    compare(&["-n", "-P", "-i", "6:{mapped}"], &[]);
    compare(&["-n", "-P", "-i", "4:{mapped}"], &["IPv4"]);
}

#[test]
fn i_host_name() {
    compare(&["-n", "-P", "-i", "@localhost:{tcp4}"], &["TCP"]);
    compare(&["-i", "TCP@localhost:{tcp4}"], &["localhost"]);
}

#[test]
fn i_and_other_selections() {
    compare(
        &["-n", "-P", "-p", "{pids}", "-i", ":{tcp4}"],
        &["cwd", "TCP"],
    );
    compare(
        &["-n", "-P", "-a", "-p", "{pids}", "-i", "-i", ":{tcp4}"],
        &["TCP"],
    );
}

#[test]
fn i_no_match_fails() {
    if !require_lsof() {
        return;
    }
    // Port 1 (tcpmux) is held by nothing here.
    let held = run(crate::common::LSOF, &["-n", "-P", "-i", ":1"]);
    if !need(held.stdout.is_empty(), "something holds port 1") {
        return;
    }
    let output = assert_same_as_lsof(&["-n", "-P", "-i", ":1"]);
    assert_eq!(output.status, "exit 1");
    assert_same_as_lsof(&["-n", "-P", "-i", "tcp@127.0.0.2"]);
}

#[test]
fn i_first_match_only_is_found() {
    // lsof searches the last -i first: `:PORT` is not "found" when
    // `tcp:PORT` matched first, so the status is 1.
    compare(&["-n", "-P", "-i", ":{tcp4}", "-i", "tcp:{tcp4}"], &["TCP"]);
}

#[test]
fn i_malformed_and_unknown() {
    if !require_lsof() {
        return;
    }
    for args in [
        &["-i", ":no-such-service-here"][..],
        &["-i", "udplite:ssh"],
        &["-i", "@no-such-host.invalid"],
        &["-i", "sctp:80"],
        &["-i", ":80-"],
        &["-i", "@"],
        &["-i", "4@[::1]"],
        &["-i", "6@127.0.0.1"],
        &["-i", ":ssh-1"],
        &["-i", ":http-alt", "-i", ":domain"],
        &["-i", "@no-such-host.invalid:no-such-service"],
        &["-i", ":nosvc1", "-i", ":22", "-i", "@no-such-host.invalid"],
        &["-i", "6@localhost"],
        &["-i", ":23-ssh"],
        &["-i", "@256.1.1.1"],
    ] {
        assert_same_as_lsof(args);
    }
}

#[test]
fn u_unix_sockets() {
    compare(
        &["-a", "-p", "{pids}", "-U"],
        &[
            "type=STREAM",
            "type=DGRAM",
            "type=SEQPACKET",
            "@rlsof-net-",
            "stream.sock",
        ],
    );
    compare(&["-n", "-P", "-a", "-p", "{pids}", "-U", "-i", "-i"], &[]);
}

#[test]
fn every_socket_kind() {
    compare(
        &["-n", "-P", "-p", "{pids}"],
        &["pack", "raw", "IPv6", "unix"],
    );
}

/// Field output as root on a machine with many sockets describes each
/// process's sockets from the kernel's structures (src/bpf/sockets.rs,
/// src/net/kernel.rs) rather than the tables; `RLSOF_SOCKET_BATCH` makes
/// this machine count as one. Every kind of socket, in every field
/// (queues, states, addresses, UNIX names and kernel addresses), with and
/// without `-X`, must be what lsof reads from the tables.
#[test]
fn every_socket_kind_described_by_the_kernel() {
    if !require_lsof() {
        return;
    }
    let fixture = NetFixture::start();
    let many = [("RLSOF_SOCKET_BATCH", "1")];
    for args in [
        vec!["-F", "-n", "-P", "-p", "{pids}"],
        vec!["-F0", "-p", "{pids}"],
        vec!["-F", "-n", "-P", "-X", "-p", "{pids}"],
        vec!["-FpfdtnPT", "-T", "-n", "-p", "{pids}"],
    ] {
        let args = expand(&fixture, &args);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = assert_same_as_lsof_with_env(&args, &many);
        if fixture.unavailable.is_empty() && args.contains(&"-P") && !args.contains(&"-X") {
            assert_lsof_shows(&output, &["tpack", "traw", "tIPv6", "tunix", "TQR="]);
        }
    }
}

#[test]
fn s_tcp_states() {
    compare(
        &[
            "-n",
            "-P",
            "-a",
            "-p",
            "{pids}",
            "-i",
            "TCP",
            "-s",
            "TCP:LISTEN",
        ],
        &["(LISTEN)"],
    );
    compare(
        &[
            "-n",
            "-P",
            "-a",
            "-p",
            "{pids}",
            "-i",
            "tcp",
            "-s",
            "TCP:^LISTEN",
        ],
        &["(ESTABLISHED)"],
    );
    compare(
        &["-n", "-P", "-p", "{pids}", "-s", "tcp:^listen"],
        &["(ESTABLISHED)", "cwd"],
    );
    compare(
        &[
            "-n",
            "-P",
            "-a",
            "-p",
            "{pids}",
            "-i",
            "TCP",
            "-s",
            "TCP:CLOSING",
        ],
        &[],
    );
    // `-s UDP:...`: lsof 4.95 refuses any UDP state; rlsof knows
    // ESTABLISHED (tests/integration/udp_states.rs, DIVERGENCES.md).
}

/// lsof 4.95 reads a UDP socket's table state as a TCP state: an inclusion
/// list drops UDP sockets (their state is "CLOSE" or "ESTABLISHED"). rlsof
/// applies a TCP state list to TCP sockets only (DIVERGENCES.md).
#[test]
fn s_tcp_states_leave_udp_alone() {
    if !require_lsof() {
        return;
    }
    let fixture = NetFixture::start();
    let pids = fixture.pids();
    let args = ["-n", "-P", "-a", "-p", &pids, "-i", "-s", "TCP:LISTEN"];
    let lsof = run(crate::common::LSOF, &args);
    let ours = crate::common::rlsof_on_every_path(None, &args);
    let text = |o: &crate::common::Output| String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(!text(&lsof).contains("UDP"), "{}", text(&lsof));
    assert!(text(&ours).contains("UDP"), "{}", text(&ours));
    let tcp_rows = |o: &crate::common::Output| -> Vec<String> {
        text(o)
            .lines()
            .filter(|l| l.contains(" TCP "))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(
        tcp_rows(&lsof),
        tcp_rows(&ours),
        "{}",
        report(&args, &lsof, &ours, "rlsof")
    );
    assert!(ours.stdout.windows(8).any(|w| w == b"(LISTEN)"));
    assert!(!String::from_utf8_lossy(&ours.stdout).contains("ESTABLISHED)"));
}

#[test]
fn t_tcp_info() {
    compare(
        &["-n", "-P", "-a", "-p", "{pids}", "-i", "-T", "qs"],
        &["QR=0 QS=0"],
    );
    compare(&["-n", "-P", "-a", "-p", "{pids}", "-i", "-T"], &["TCP"]);
    compare(
        &["-n", "-P", "-a", "-p", "{pids}", "-i", "-T", "f"],
        &["TCP"],
    );
    compare(
        &["-n", "-P", "-a", "-p", "{pids}", "-U", "-T", "s"],
        &["(CONNECTED)"],
    );
    compare(
        &["-n", "-P", "-a", "-p", "{pids}", "-i", "-T", "q"],
        &["QR="],
    );
}

#[test]
fn whole_machine_internet_and_unix_files() {
    if !require_lsof() {
        return;
    }
    let fixture = NetFixture::start();
    let pids = [fixture.pid, fixture.child];
    for args in [
        &["-n", "-P", "-i"][..],
        &["-n", "-P", "-i6"],
        &["-n", "-P", "-U"],
        &["-n", "-P", "-i", "TCP", "-s", "TCP:LISTEN"],
        &["-i", "TCP"],
    ] {
        crate::common::stable::assert_same_on_stable_processes(args, &pids);
    }
}

#[test]
fn i_without_internet_files_fails() {
    // A process without sockets.
    if !require_lsof() {
        return;
    }
    let mut sleeper = std::process::Command::new("sleep")
        .arg("60")
        .spawn()
        .expect("sleep");
    let pid = sleeper.id().to_string();
    let output = assert_same_as_lsof(&["-a", "-p", &pid, "-i"]);
    assert_eq!(output.status, "exit 1");
    assert_same_as_lsof(&["-a", "-p", &pid, "-i", "-U"]);
    let _ = sleeper.kill();
    let _ = sleeper.wait();
}

#[test]
fn x_skips_tcp_and_udp() {
    compare(
        &["-n", "-P", "-X", "-p", "{pids}"],
        &["can't identify protocol (-X specified)", "type=STREAM"],
    );
    compare(&["-X", "-i"], &[]);
    compare(&["-i", ":{tcp4}", "-X"], &[]);
}

/// A UNIX socket bound to a path with a blank, a colon and a newline:
/// lsof 4.95 splits `/proc/net/unix` lines into fields and shows the path
/// up to the first blank; rlsof shows the whole path, escaped as names
/// are (DIVERGENCES.md), from the tables and from the kernel alike.
#[test]
fn unix_paths_with_blanks_are_shown_whole() {
    let dir = std::env::temp_dir().join(format!("rlsof-blank-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("a b:c\nd.sock");
    let script = "s = socket.socket(socket.AF_UNIX)\ns.bind(sys.argv[1])\n";
    let (mut holder, pid) = python_holding(script, &[path.as_os_str()]);
    let shown = format!("{}/a b:c\\nd.sock type=STREAM", dir.display());
    let args = ["-n", "-P", "-F", "n", "-a", "-U", "-p", &pid];
    let from_tables = run(rlsof(), &args);
    let from_kernel = crate::common::run_with_env(rlsof(), &args, &[("RLSOF_SOCKET_BATCH", "1")]);
    let without_bpf = crate::common::run_with_env(rlsof(), &args, &[("RLSOF_NO_BPF", "1")]);
    let lsof = require_lsof().then(|| run(crate::common::LSOF, &args));
    drop(holder.stdin.take());
    let _ = holder.kill();
    let _ = holder.wait();
    let _ = std::fs::remove_dir_all(&dir);
    let text = String::from_utf8_lossy(&from_tables.stdout).into_owned();
    assert!(text.contains(&format!("\nn{shown}\n")), "{text}");
    assert_eq!(String::from_utf8_lossy(&from_kernel.stdout), text);
    assert_eq!(String::from_utf8_lossy(&without_bpf.stdout), text);
    if let Some(lsof) = lsof {
        let theirs = String::from_utf8_lossy(&lsof.stdout);
        let cut = format!("\nn{}/a type=STREAM\n", dir.display());
        assert!(
            theirs.contains(&cut),
            "lsof no longer cuts the path:\n{theirs}"
        );
    }
}

/// Starts python3 running `script` (with `os`, `socket`, `sys` imported
/// and `args` as its arguments), which sets up what it holds; returns it
/// once it has, and its PID. It holds on until its stdin closes.
fn python_holding(script: &str, args: &[&std::ffi::OsStr]) -> (std::process::Child, String) {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let script = format!(
        "import os, socket, sys\n{script}\nprint(os.getpid(), flush=True)\nsys.stdin.read()\n"
    );
    let mut holder = Command::new("python3")
        .args(["-c", &script])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3");
    let mut line = String::new();
    let _ = BufReader::new(holder.stdout.take().expect("stdout")).read_line(&mut line);
    (holder, line.trim().to_string())
}

/// Queue sizes that are not zero, as the kernel describes them (a
/// listener's waiting connection, a sender blocked on a peer that does not
/// read, unread datagrams over IPv4 and IPv6), in field output (whose `T`
/// fields show them): what lsof reads from the tables.
#[test]
fn queue_sizes_described_by_the_kernel() {
    if !require_lsof() {
        return;
    }
    let script = "\
l = socket.socket(); l.bind(('127.0.0.1', 0)); l.listen(5)
c = socket.create_connection(l.getsockname()); a, _ = l.accept()
waiting = socket.create_connection(l.getsockname())
c.setblocking(False)
try:
    while True: c.send(b'x' * 65536)
except BlockingIOError: pass
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(('127.0.0.1', 0))
u6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); u6.bind(('::1', 0))
for _ in range(5): socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'y' * 1000, u.getsockname())
for _ in range(3): socket.socket(socket.AF_INET6, socket.SOCK_DGRAM).sendto(b'z' * 500, u6.getsockname())
";
    let (mut holder, pid) = python_holding(script, &[]);
    let args = ["-F", "-n", "-P", "-p", &pid];
    let output = assert_same_as_lsof_with_env(&args, &[("RLSOF_SOCKET_BATCH", "1")]);
    drop(holder.stdin.take());
    let _ = holder.kill();
    let _ = holder.wait();
    let text = String::from_utf8_lossy(&output.stdout);
    let nonzero = |field: &str| {
        text.lines()
            .filter(|l| l.starts_with(field) && !l.ends_with("=0"))
            .count()
    };
    assert!(nonzero("TQR=") >= 3 && nonzero("TQS=") >= 1, "{text}");
}

/// Kinds the network fixture lacks, described by the kernel as lsof reads
/// them from the tables: a bound netlink socket (an unbound one is in no
/// table), UDP-Lite over IPv4 and IPv6, a connected raw socket.
#[test]
fn rarer_socket_kinds_described_by_the_kernel() {
    if !require_lsof() {
        return;
    }
    let script = "\
n = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0); n.bind((0, 0))
l = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, 136); l.bind(('127.0.0.1', 0))
l6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM, 136); l6.bind(('::1', 0))
l6.connect(('::1', 9))
r = socket.socket(socket.AF_INET, socket.SOCK_RAW, 255); r.connect(('127.0.0.2', 0))
";
    let (mut holder, pid) = python_holding(script, &[]);
    if !need(!pid.is_empty(), "this machine cannot hold these sockets") {
        let _ = holder.wait();
        return;
    }
    let args = ["-F", "-n", "-P", "-p", &pid];
    let output = assert_same_as_lsof_with_env(&args, &[("RLSOF_SOCKET_BATCH", "1")]);
    drop(holder.stdin.take());
    let _ = holder.kill();
    let _ = holder.wait();
    assert_lsof_shows(&output, &["nROUTE", "PUDPLITE", "traw", "st=01"]);
}
