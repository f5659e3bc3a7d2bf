//! A real Prometheus server (loopback, a temporary directory, a generated
//! configuration with deploy/'s alert rules) scrapes two rlsof exporters:
//! one on this host, one inside a network namespace the test creates and
//! reaches over a veth pair (a second "host"). The values it stores are
//! checked through its HTTP API against the fixture: the bytes deleted
//! files hold on a test tmpfs (df minus du), a process's descriptors and
//! soft limit, the listener on a known port; and the alert for a process
//! above 90% of its descriptor limit fires.

use super::fixture::{get, try_get, Exporter, Holder};
use crate::common::need::{have, require_root};
use crate::common::Tmpfs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A network namespace and a veth pair to it, removed when dropped.
struct Namespace {
    name: String,
    host_link: String,
    /// The namespace's end of the pair.
    inside: String,
}

fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().unwrap();
    assert!(out.status.success(), "ip {args:?}: {out:?}");
}

impl Namespace {
    fn create() -> Namespace {
        let id = std::process::id() % 250 + 1;
        let ns = Namespace {
            name: format!("rlsof-fleet-{}", std::process::id()),
            host_link: format!("rlsf{}h", std::process::id() % 100_000),
            inside: format!("10.203.{id}.2"),
        };
        let peer = format!("rlsf{}n", std::process::id() % 100_000);
        ip(&["netns", "add", &ns.name]);
        ip(&[
            "link",
            "add",
            &ns.host_link,
            "type",
            "veth",
            "peer",
            "name",
            &peer,
        ]);
        ip(&["link", "set", &peer, "netns", &ns.name]);
        ip(&[
            "addr",
            "add",
            &format!("10.203.{id}.1/30"),
            "dev",
            &ns.host_link,
        ]);
        ip(&["link", "set", &ns.host_link, "up"]);
        let inside = ["netns", "exec", &ns.name, "ip"];
        ip(&[
            &inside[..],
            &["addr", "add", &format!("{}/30", ns.inside), "dev", &peer],
        ]
        .concat());
        ip(&[&inside[..], &["link", "set", &peer, "up"]].concat());
        ip(&[&inside[..], &["link", "set", "lo", "up"]].concat());
        ns
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["link", "del", &self.host_link])
            .status();
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

/// A Prometheus server on a loopback port, in a temporary directory.
struct Prometheus {
    child: Child,
    addr: SocketAddr,
    dir: PathBuf,
}

impl Prometheus {
    fn start(targets: &[(&str, SocketAddr)]) -> Prometheus {
        let dir = std::env::temp_dir().join(format!("rlsof-prometheus-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let rules = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/rlsof-alerts.yml");
        let mut config = format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
             rule_files:\n  - {}\nscrape_configs:\n",
            rules.display()
        );
        for (job, addr) in targets {
            config +=
                &format!("  - job_name: {job}\n    static_configs:\n      - targets: ['{addr}']\n");
        }
        std::fs::write(dir.join("prometheus.yml"), config).unwrap();
        // A free loopback port: bound by the test, then left to Prometheus.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let child = Command::new("prometheus")
            .arg(format!(
                "--config.file={}",
                dir.join("prometheus.yml").display()
            ))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address={addr}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("log")).unwrap())
            .spawn()
            .unwrap();
        Prometheus { child, addr, dir }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("log")).unwrap_or_default()
    }

    /// The result vector of an instant query.
    fn query(&self, promql: &str) -> Vec<serde_json::Value> {
        let path = format!("/api/v1/query?query={}", encode(promql));
        let Some((200, body)) = try_get(self.addr, &path) else {
            return Vec::new();
        };
        let value: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        value["data"]["result"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// The one value of `promql`, waiting up to `within` for it to
    /// satisfy `wanted`; the last value seen otherwise.
    fn value_when(
        &self,
        promql: &str,
        within: Duration,
        wanted: impl Fn(f64) -> bool,
    ) -> Option<f64> {
        let started = Instant::now();
        let mut last = None;
        while started.elapsed() < within {
            let result = self.query(promql);
            if let [one] = &result[..] {
                last = one["value"][1].as_str().and_then(|v| v.parse().ok());
                if last.is_some_and(&wanted) {
                    return last;
                }
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        last
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn prometheus_scrapes_two_exporters() {
    let _alone = crate::common::machine::alone();
    if !require_root() || !have("prometheus") || !have("ip") {
        return;
    }
    let Some(tmpfs) = Tmpfs::mount("prometheus", "64m") else {
        return;
    };
    // 95 descriptors of a soft limit of 100: above the alert's 90%.
    let holder = Holder::start(&tmpfs.dir, 100, 95);
    let ns = Namespace::create();
    let here = Exporter::start(&[], &["--serve", "127.0.0.1:0", "--cache-age", "0"]);
    let there = Exporter::start(
        &["ip", "netns", "exec", &ns.name],
        &[
            "--serve",
            &format!("{}:0", ns.inside),
            "--serve-remote",
            "--cache-age",
            "0",
        ],
    );
    assert_eq!(
        get(there.addr, "/").0,
        200,
        "the namespace's exporter is reachable"
    );
    let prometheus = Prometheus::start(&[("host", here.addr), ("netns", there.addr)]);
    let within = Duration::from_secs(40);
    for job in ["host", "netns"] {
        let up = prometheus.value_when(&format!("up{{job=\"{job}\"}}"), within, |v| v == 1.0);
        assert_eq!(up, Some(1.0), "target {job} up\n{}", prometheus.log());
    }
    let mount = tmpfs.dir.display().to_string();
    let held = prometheus.value_when(
        &format!(
            "rlsof_deleted_open_bytes{{job=\"host\",mountpoint=\"{mount}\",fstype=\"tmpfs\"}}"
        ),
        within,
        |_| true,
    );
    assert_eq!(held, Some(tmpfs.df_minus_du() as f64));
    let pid = holder.pid;
    let fds = prometheus.value_when(
        &format!("rlsof_process_open_fds{{job=\"host\",pid=\"{pid}\",command=\"python3\"}}"),
        within,
        |_| true,
    );
    assert_eq!(fds, Some(holder.fds as f64));
    let limit = prometheus.value_when(
        &format!("rlsof_process_max_fds{{job=\"host\",pid=\"{pid}\"}}"),
        within,
        |_| true,
    );
    assert_eq!(limit, Some(holder.soft as f64));
    let port = holder.port;
    let listener = prometheus.value_when(
        &format!(
            "rlsof_listening_sockets{{job=\"host\",protocol=\"tcp\",address=\"127.0.0.1\",port=\"{port}\",command=\"python3\"}}"
        ),
        within,
        |_| true,
    );
    assert_eq!(listener, Some(1.0));
    // The namespace's exporter sees its own listener in its namespace.
    let own = prometheus.value_when(
        &format!(
            "rlsof_listening_sockets{{job=\"netns\",address=\"{}\",port=\"{}\",command=\"rlsof\"}}",
            ns.inside,
            there.addr.port()
        ),
        within,
        |_| true,
    );
    assert_eq!(own, Some(1.0));
    let firing = prometheus.value_when(
        &format!(
            "ALERTS{{alertname=\"ProcessNearDescriptorLimit\",alertstate=\"firing\",job=\"host\",pid=\"{pid}\"}}"
        ),
        within,
        |v| v == 1.0,
    );
    assert_eq!(
        firing,
        Some(1.0),
        "the descriptor alert fires\n{}",
        prometheus.log()
    );
    drop(prometheus);
    assert_eq!(here.stop().code(), Some(0));
    assert_eq!(there.stop().code(), Some(0));
}
