//! `-s UDP:ESTABLISHED`: lsof 4.95 refuses every UDP state name on Linux
//! (and 4.99 ignores them); rlsof selects connected UDP sockets with it and
//! unconnected ones with `^ESTABLISHED` (DIVERGENCES.md).

use crate::common;
use crate::common::need::cannot_run;
use crate::common::{rlsof, run};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// A python3 process holding one connected and one unconnected UDP socket;
/// prints its PID and the two local ports, then waits for stdin to close.
struct UdpHolder {
    child: Child,
    pid: String,
    connected_port: String,
    unconnected_port: String,
}

impl UdpHolder {
    fn start() -> Option<UdpHolder> {
        let script = "import os, socket, sys\n\
            os.closerange(3, 1 << 16)\n\
            c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n\
            c.bind(('127.0.0.1', 0)); c.connect(('127.0.0.1', 9))\n\
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n\
            u.bind(('127.0.0.1', 0))\n\
            print(os.getpid(), c.getsockname()[1], u.getsockname()[1], flush=True)\n\
            sys.stdin.read()\n";
        let mut child = Command::new("python3")
            .args(["-c", script])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .ok()?;
        let mut line = String::new();
        BufReader::new(child.stdout.take()?)
            .read_line(&mut line)
            .ok()?;
        let mut words = line.split_whitespace().map(str::to_string);
        Some(UdpHolder {
            pid: words.next()?,
            connected_port: words.next()?,
            unconnected_port: words.next()?,
            child,
        })
    }
}

impl Drop for UdpHolder {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The holder and what `rlsof -a -p PID -i UDP -s UDP:STATES` lists of it.
fn listing(states: &str) -> Option<(UdpHolder, String)> {
    let Some(holder) = UdpHolder::start() else {
        cannot_run("python3 could not start the UDP holder");
        return None;
    };
    let spec = format!("UDP:{states}");
    let args = [
        "-n",
        "-P",
        "-a",
        "-p",
        &holder.pid,
        "-i",
        "UDP",
        "-s",
        &spec,
    ];
    let out = common::rlsof_on_every_path(None, &args);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status, "exit 0", "{text}");
    Some((holder, text))
}

#[test]
fn established_selects_connected_udp_sockets_only() {
    let Some((h, text)) = listing("ESTABLISHED") else {
        return;
    };
    let connected = format!("127.0.0.1:{}->127.0.0.1:9", h.connected_port);
    assert!(text.contains(&connected), "{text}");
    assert!(
        !text.contains(&format!(":{} ", h.unconnected_port)),
        "{text}"
    );
}

#[test]
fn not_established_selects_unconnected_udp_sockets_only() {
    let Some((h, text)) = listing("^ESTABLISHED") else {
        return;
    };
    let unconnected = format!("127.0.0.1:{} ", h.unconnected_port);
    assert!(text.contains(&unconnected), "{text}");
    assert!(
        !text.contains(&format!(":{}->", h.connected_port)),
        "{text}"
    );
}

#[test]
fn unknown_udp_state_is_an_error() {
    let out = common::rlsof_on_every_path(None, &["-i", "-s", "UDP:Idle"]);
    assert_eq!(out.status, "exit 1");
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("lsof: unknown UDP state name: Idle\n"),
        "{err}"
    );
}

/// `-s TCP:CLOSE` leaves UDP sockets alone, so the exit status changes
/// too: lsof counts the unconnected UDP socket as CLOSE (status 0); rlsof
/// lists both UDP sockets but finds no closed TCP socket, a search item not
/// found (status 1), as root on both paths (DIVERGENCES.md #14).
#[test]
fn tcp_states_change_the_exit_status_too() {
    let Some(holder) = UdpHolder::start() else {
        panic!("python3 could not start the UDP holder");
    };
    let args = ["-n", "-P", "-a", "-p", &holder.pid, "-i", "-s", "TCP:CLOSE"];
    for env in [&[][..], &[("RLSOF_NO_BPF", "1")]] {
        let out = common::run_with_env(rlsof(), &args, env);
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status, "exit 1", "{env:?}: {text}");
        for port in [&holder.connected_port, &holder.unconnected_port] {
            assert!(
                text.contains(&format!("127.0.0.1:{port}")),
                "{env:?}: {text}"
            );
        }
    }
    if common::require_lsof() {
        let lsof = run(common::LSOF, &args);
        assert_eq!(lsof.status, "exit 0", "lsof's own reading changed");
        let text = String::from_utf8_lossy(&lsof.stdout);
        let port = &holder.unconnected_port;
        assert!(text.contains(&format!("127.0.0.1:{port} ")), "{text}");
    }
}
