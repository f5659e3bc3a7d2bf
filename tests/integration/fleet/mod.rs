//! The fleet view against the real thing: `--summary` and `--metrics` on a
//! holder with known deleted files, descriptors and a small soft limit;
//! promtool's checks of the metrics and of deploy/'s alert rules; the
//! exporter's answers to bad input; its memory over 1,000 scrapes. The
//! live test with a Prometheus server is in tests/integration/fleet/prometheus.rs.

pub(crate) mod fixture;
mod prometheus;

use crate::common::need::{have, require_root};
use crate::common::Tmpfs;
use fixture::{exchange, get, sample, Exporter, Holder};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

fn rlsof(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_rlsof"))
        .args(args)
        .output()
        .unwrap()
}

fn deploy(file: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("deploy")
        .join(file)
        .display()
        .to_string()
}

#[test]
fn metrics_hold_the_fixture_and_pass_promtool() {
    if !require_root() || !have("promtool") {
        return;
    }
    let Some(tmpfs) = Tmpfs::mount("metrics", "64m") else {
        return;
    };
    let holder = Holder::start(&tmpfs.dir, 100, 60);
    let pid = holder.pid.to_string();
    for env in [None, Some(("RLSOF_NO_BPF", "1"))] {
        let mut command = Command::new(env!("CARGO_BIN_EXE_rlsof"));
        if let Some((k, v)) = env {
            command.env(k, v);
        }
        let out = command.args(["--metrics", "-p", &pid]).output().unwrap();
        assert!(out.status.success(), "{out:?}");
        let text = String::from_utf8(out.stdout).unwrap();
        let mount = tmpfs.dir.display().to_string();
        let labels = [("mountpoint", &*mount), ("fstype", "tmpfs")];
        assert_eq!(
            sample(&text, "rlsof_deleted_open_bytes", &labels),
            Some(tmpfs.df_minus_du() as f64),
            "{text}"
        );
        assert_eq!(
            sample(&text, "rlsof_deleted_open_files", &labels),
            Some(2.0)
        );
        let who = [("pid", &*pid), ("command", "python3")];
        assert_eq!(
            sample(&text, "rlsof_process_open_fds", &who),
            Some(holder.fds as f64)
        );
        assert_eq!(
            sample(&text, "rlsof_process_max_fds", &who),
            Some(holder.soft as f64)
        );
        let port = holder.port.to_string();
        let listen = [
            ("protocol", "tcp"),
            ("address", "127.0.0.1"),
            ("port", &*port),
            ("command", "python3"),
        ];
        assert_eq!(sample(&text, "rlsof_listening_sockets", &listen), Some(1.0));
        assert!(!text.contains(&format!("{mount}/")), "no file paths");
        // One instance (two descriptors share it), two watches.
        let root = [("user", "root")];
        assert_eq!(sample(&text, "rlsof_inotify_instances", &root), Some(1.0));
        assert_eq!(sample(&text, "rlsof_inotify_watches", &root), Some(2.0));
        assert_eq!(
            sample(&text, "rlsof_open_files", &[("type", "a_inode")]),
            Some(2.0)
        );
        // promtool reads the exposition from stdin; it prints lint
        // problems and fails on any.
        let mut check = Command::new("promtool")
            .args(["check", "metrics"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        check
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
        let checked = check.wait_with_output().unwrap();
        assert!(checked.status.success(), "{checked:?}");
        assert!(
            checked.stdout.is_empty() && checked.stderr.is_empty(),
            "{checked:?}"
        );
    }
    // Paths only when asked for: the largest deleted file.
    let out = rlsof(&["--metrics", "--metrics-paths", "1", "-p", &pid]);
    let text = String::from_utf8(out.stdout).unwrap();
    let path = format!("{}/deleted-1", tmpfs.dir.display());
    let bytes = sample(&text, "rlsof_deleted_open_file_bytes", &[("path", &*path)]);
    assert!(bytes.is_some_and(|b| b >= (3 << 20) as f64), "{text}");
    assert!(!text.contains("deleted-0"), "only the largest");
    // The whole machine too.
    let out = rlsof(&["--metrics"]);
    assert!(out.status.success());
    let (clean, said) = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .output_with(&out.stdout);
    assert!(clean, "{said}");
}

/// Runs a command with `input` on stdin: (success, stdout and stderr).
trait OutputWith {
    fn output_with(&mut self, input: &[u8]) -> (bool, String);
}

impl OutputWith for Command {
    fn output_with(&mut self, input: &[u8]) -> (bool, String) {
        use std::io::Write;
        let mut child = self
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(input).unwrap();
        let out = child.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&[out.stdout, out.stderr].concat()).into_owned();
        (out.status.success() && text.is_empty(), text)
    }
}

#[test]
fn metrics_file_is_replaced_whole() {
    let dir = std::env::temp_dir().join(format!("rlsof-textfile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("rlsof.prom");
    std::fs::write(&file, "old\n").unwrap();
    let me = std::process::id().to_string();
    let out = rlsof(&[
        "--metrics",
        "--metrics-file",
        file.to_str().unwrap(),
        "-p",
        &me,
    ]);
    assert!(out.status.success(), "{out:?}");
    assert!(out.stdout.is_empty());
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.starts_with("# HELP "), "{text}");
    let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert_eq!(left.len(), 1, "no temporary file left behind");
    let out = rlsof(&["--metrics", "--metrics-file", "/nonexistent-dir/x.prom"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("rlsof: /nonexistent-dir/"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn alert_rules_pass_promtool() {
    if !have("promtool") {
        return;
    }
    let check = Command::new("promtool")
        .args(["check", "rules", &deploy("rlsof-alerts.yml")])
        .output()
        .unwrap();
    assert!(check.status.success(), "{check:?}");
    assert!(String::from_utf8_lossy(&check.stdout).contains("SUCCESS: 3 rules found"));
    let test = Command::new("promtool")
        .args(["test", "rules", &deploy("rlsof-alerts.test.yml")])
        .output()
        .unwrap();
    assert!(test.status.success(), "{test:?}");
}

#[test]
fn summary_names_the_process_near_its_limit() {
    if !require_root() {
        return;
    }
    let Some(tmpfs) = Tmpfs::mount("summary", "64m") else {
        return;
    };
    let holder = Holder::start(&tmpfs.dir, 100, 95);
    let pid = holder.pid.to_string();
    let out = rlsof(&["--summary", "-p", &pid]);
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let row = format!(
        "{:>8} {:<16} {:<10} {:>8} {:>9} {:>9} {:>5}",
        pid, "python3", "root", holder.fds, holder.soft, holder.hard, "95%"
    );
    assert!(text.contains(&row), "{row}\n{text}");
    assert!(text.contains("fs.file-max"), "{text}");
    assert!(text.contains("Deleted but open: 2 files hold"), "{text}");
    let out = rlsof(&["--summary", "-J", "-p", &pid]);
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(value["processes"][0]["fds"], holder.fds);
    assert_eq!(value["processes"][0]["soft_limit"], holder.soft);
    assert_eq!(
        value["deleted"]["bytes_held"].as_u64(),
        Some(tmpfs.df_minus_du())
    );
    // Not root: other users' processes are not seen, and it says so.
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(env!("CARGO_BIN_EXE_rlsof"))
        .arg("--summary")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("other users' processes were not seen"),
        "{text}"
    );
    // A selection that matches nothing: exit 1, as with a listing.
    let out = rlsof(&["--summary", "-p", &common_vanished_pid()]);
    assert_eq!(out.status.code(), Some(1));
}

fn common_vanished_pid() -> String {
    let mut child = Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    pid.to_string()
}

#[test]
fn serve_refuses_bad_addresses() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let cases: [(&[&str], &str); 5] = [
        (&["--serve", &port], "Address already in use"),
        (&["--serve", "nowhere:80"], "--serve needs PORT, IP:PORT"),
        (&["--serve", "0.0.0.0:0"], "add --serve-remote"),
        (&["--serve", "[::]:0"], "add --serve-remote"),
        (
            &["--serve", "192.0.2.1:0", "--serve-remote"],
            "--serve 192.0.2.1:0",
        ),
    ];
    for (args, message) in cases {
        let started = Instant::now();
        let out = rlsof(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(message), "{args:?}: {err}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}

#[test]
fn serve_answers_bad_requests_with_4xx() {
    let me = std::process::id().to_string();
    let exporter = Exporter::start(&[], &["--serve", "0", "-p", &me]);
    let addr = exporter.addr;
    let (status, body) = get(addr, "/");
    assert_eq!(status, 200);
    assert!(body.contains("/metrics"));
    assert_eq!(get(addr, "/metrics").0, 200);
    assert_eq!(get(addr, "/other").0, 404);
    assert_eq!(get(addr, "/metrics/../etc").0, 404);
    let post = exchange(
        addr,
        b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nab",
    );
    assert!(post.starts_with("HTTP/1.1 405"), "{post}");
    let big = format!(
        "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(64 * 1024)
    );
    let answer = exchange(addr, big.as_bytes());
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");
    let garbage = exchange(addr, b"\x00\x01\x02 not http\r\n\r\n");
    assert!(
        garbage.is_empty() || garbage.starts_with("HTTP/1.1 400"),
        "{garbage}"
    );
    // A client that never finishes its request is cut off.
    let started = Instant::now();
    let slow = exchange(addr, b"GET /metrics HTTP/1.1\r\nHost: x\r\n");
    let waited = started.elapsed();
    assert!(waited < Duration::from_secs(8), "waited {waited:?}");
    assert!(
        slow.is_empty() || slow.starts_with("HTTP/1.1 408"),
        "{slow}"
    );
    // Still serving, then stops cleanly on SIGTERM.
    assert_eq!(get(addr, "/metrics").0, 200);
    let status = exporter.stop();
    assert_eq!(status.code(), Some(0));
}

/// A child killed when dropped.
struct Quiet(std::process::Child);

impl Drop for Quiet {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap()
}

#[test]
fn serve_memory_is_flat_over_1000_scrapes() {
    // A process whose files never change: the test's own process holds
    // the pipes and threads of every other test running meanwhile.
    let quiet = Quiet(Command::new("sleep").arg("600").spawn().unwrap());
    let pid = quiet.0.id().to_string();
    // Every scrape scans (no reuse); the selection keeps each scan short.
    let exporter = Exporter::start(&[], &["--serve", "0", "--cache-age", "0", "-p", &pid]);
    let scrape = || {
        let (status, body) = get(exporter.addr, "/metrics");
        assert_eq!(status, 200);
        body
    };
    for _ in 0..10 {
        scrape();
    }
    let early = rss_kib(exporter.pid());
    let mut last = String::new();
    for _ in 10..1000 {
        last = scrape();
    }
    let late = rss_kib(exporter.pid());
    eprintln!("RSS after 10 scrapes: {early} KiB; after 1000: {late} KiB");
    assert_eq!(
        sample(&last, "rlsof_exporter_scans_total", &[]),
        Some(1000.0),
        "every scrape scanned"
    );
    assert!(
        late * 10 <= early * 11,
        "RSS grew from {early} KiB after 10 scrapes to {late} KiB after 1000"
    );
}
