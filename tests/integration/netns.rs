//! Sockets of another network namespace (a container's): rlsof reads each
//! namespace's socket tables and finds them; lsof 4.95 reads only its own
//! namespace's /proc/net, shows them as `sock ... protocol: TCP` and `-i`
//! misses them (DIVERGENCES.md).

use crate::common;
use crate::common::need::cannot_run;
use crate::common::{require_root, rlsof, run, LSOF};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// A python3 listening on a loopback port inside a new network namespace.
struct Listener {
    process: Child,
    pid: u32,
    port: u16,
}

const SCRIPT: &str = r#"
import os, socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(4)
c = socket.create_connection(s.getsockname())
a, _ = s.accept()
print(os.getpid(), s.getsockname()[1], flush=True)
sys.stdin.read()
"#;

impl Listener {
    /// None (see `common::need`) when no namespace can be made here.
    fn start() -> Option<Listener> {
        let shell = format!("ip link set lo up && exec python3 -c '{SCRIPT}'");
        let mut process = match Command::new("unshare")
            .args(["--net", "sh", "-c", &shell])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
        {
            Ok(p) => p,
            Err(e) => {
                cannot_run(&format!("cannot run unshare: {e}"));
                return None;
            }
        };
        let mut line = String::new();
        let stdout = process.stdout.take()?;
        let _ = BufReader::new(stdout).read_line(&mut line);
        let mut words = line.split_whitespace();
        let parsed = (|| Some((words.next()?.parse().ok()?, words.next()?.parse().ok()?)))();
        match parsed {
            Some((pid, port)) => Some(Listener { process, pid, port }),
            None => {
                let _ = process.kill();
                let output = process.wait_with_output();
                let stderr = output.map(|o| o.stderr).unwrap_or_default();
                let stderr = String::from_utf8_lossy(&stderr);
                cannot_run(&format!("unshare --net failed: {stderr}"));
                None
            }
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        drop(self.process.stdin.take());
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

fn stdout_text(output: &common::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn i_port_finds_a_listener_in_another_network_namespace() {
    let _alone = crate::common::machine::alone();
    if !require_root() {
        return;
    }
    let Some(listener) = Listener::start() else {
        return;
    };
    let port = format!(":{}", listener.port);
    let ours = common::rlsof_on_every_path(None, &["-n", "-P", "-i", &port]);
    let text = stdout_text(&ours);
    let pid = format!(" {} ", listener.pid);
    let listen = format!("TCP 127.0.0.1:{} (LISTEN)", listener.port);
    let row = text
        .lines()
        .find(|l| l.contains(&pid) && l.contains(&listen));
    assert!(row.is_some(), "rlsof missed the listener:\n{text}");
    let established = text
        .lines()
        .filter(|l| l.contains(&pid) && l.contains("(ESTABLISHED)"))
        .count();
    assert_eq!(established, 2, "both ends of the connection:\n{text}");
    assert_eq!(ours.status, "exit 0");

    if std::path::Path::new(LSOF).exists() {
        let theirs = run(LSOF, &["-n", "-P", "-i", &port]);
        let text = stdout_text(&theirs);
        assert!(
            !text.lines().any(|l| l.contains(&pid)),
            "lsof now finds sockets of other namespaces; update DIVERGENCES.md:\n{text}"
        );
    }
}

#[test]
fn sockets_of_another_namespace_are_decoded() {
    let _alone = crate::common::machine::alone();
    if !require_root() {
        return;
    }
    let Some(listener) = Listener::start() else {
        return;
    };
    let pid = listener.pid.to_string();
    let ours = common::rlsof_on_every_path(None, &["-n", "-P", "-a", "-p", &pid, "-i", "TCP"]);
    let text = stdout_text(&ours);
    assert_eq!(
        text.lines()
            .filter(|l| l.contains(" TCP 127.0.0.1:"))
            .count(),
        3,
        "{text}"
    );
    assert!(!text.contains("protocol: TCP"), "{text}");
    if std::path::Path::new(LSOF).exists() {
        let theirs = run(LSOF, &["-n", "-P", "-p", &pid]);
        let text = stdout_text(&theirs);
        assert!(text.contains("protocol: TCP"), "{text}");
    }
}

/// Field output where the kernel describes each process's sockets
/// (`RLSOF_SOCKET_BATCH` makes this machine count as one with many): the
/// namespace's sockets are decoded as the namespace's own tables decode
/// them (`RLSOF_NO_BPF=1`).
#[test]
fn sockets_of_another_namespace_described_by_the_kernel() {
    let _alone = crate::common::machine::alone();
    if !require_root() {
        return;
    }
    let Some(listener) = Listener::start() else {
        return;
    };
    let pid = listener.pid.to_string();
    let args = ["-n", "-P", "-F", "-p", &pid];
    let described = common::run_with_env(rlsof(), &args, &[("RLSOF_SOCKET_BATCH", "1")]);
    let from_tables = common::run_with_env(rlsof(), &args, &[("RLSOF_NO_BPF", "1")]);
    let text = stdout_text(&described);
    assert_eq!(text, stdout_text(&from_tables));
    assert_eq!(text.matches("\nPTCP\n").count(), 3, "{text}");
    assert!(text.contains("TST=LISTEN"), "{text}");
}

/// ICMP "ping" sockets, which only a namespace of our own lets us make
/// here (its `ping_group_range`, `1 0` by default, lets nobody): a bound,
/// connected one is in that namespace's `/proc/net/icmp`, an unbound one
/// in no table; the kernel describes both as the tables do.
#[test]
fn ping_sockets_described_by_the_kernel() {
    let _alone = crate::common::machine::alone();
    if !require_root() {
        return;
    }
    let script = "import os, socket, sys
p = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP)
p.bind(('127.0.0.1', 0)); p.connect(('127.0.0.1', 0))
q = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP)
print(os.getpid(), flush=True)
sys.stdin.read()";
    let shell = format!(
        "ip link set lo up && echo '0 0' > /proc/sys/net/ipv4/ping_group_range && exec python3 -c \"{script}\""
    );
    let Ok(mut process) = Command::new("unshare")
        .args(["--net", "sh", "-c", &shell])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
    else {
        cannot_run("cannot run unshare");
        return;
    };
    let mut line = String::new();
    if let Some(stdout) = process.stdout.take() {
        let _ = BufReader::new(stdout).read_line(&mut line);
    }
    let pid = line.trim().to_string();
    let outputs = (!pid.is_empty()).then(|| {
        let args = ["-n", "-P", "-F", "-p", &pid];
        (
            common::run_with_env(rlsof(), &args, &[("RLSOF_SOCKET_BATCH", "1")]),
            common::run_with_env(rlsof(), &args, &[("RLSOF_NO_BPF", "1")]),
        )
    });
    drop(process.stdin.take());
    let _ = process.kill();
    let _ = process.wait();
    let Some((described, from_tables)) = outputs else {
        cannot_run("no ping socket could be made in a namespace");
        return;
    };
    let text = stdout_text(&described);
    assert_eq!(text, stdout_text(&from_tables));
    assert!(text.contains("\nticmp\n"), "{text}");
    assert!(text.contains("\nnprotocol: PING\n"), "{text}");
}
