//! The network fixture (tests/fixture/net_holder.py): a process, and a
//! child sharing its descriptors, holding every kind of socket and the
//! endpoint files of `+E`, for as long as the value lives.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

pub struct NetFixture {
    pub pid: u32,
    pub child: u32,
    /// "tcp4", "tcp4client", "tcp6", "mapped", "udp4", "udp4lone", "udp6".
    pub ports: HashMap<String, u16>,
    pub unavailable: Vec<String>,
    pub dir: PathBuf,
    process: Child,
    stdin: Option<ChildStdin>,
    _stdout: Option<BufReader<ChildStdout>>,
}

impl NetFixture {
    pub fn start() -> NetFixture {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "rlsof-net-{}-{}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("fixture directory");
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixture/net_holder.py");
        let mut process = Command::new("python3")
            .arg(script)
            .arg(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {script}: {e}"));
        let stdin = process.stdin.take();
        let mut reader = BufReader::new(process.stdout.take().expect("piped stdout"));
        let mut fixture = NetFixture {
            pid: 0,
            child: 0,
            ports: HashMap::new(),
            unavailable: Vec::new(),
            dir,
            process,
            stdin,
            _stdout: None,
        };
        loop {
            let mut line = String::new();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => panic!("net_holder.py exited before it was ready"),
                Ok(_) => {}
            }
            let line = line.trim_end();
            if line == "ready" {
                break;
            }
            let (key, value) = line.split_once(' ').unwrap_or((line, ""));
            match key {
                "pid" => fixture.pid = value.parse().expect("pid"),
                "child" => fixture.child = value.parse().expect("child"),
                "port" => {
                    let (name, port) = value.split_once(' ').expect("port NAME N");
                    fixture
                        .ports
                        .insert(name.to_string(), port.parse().expect("port"));
                }
                "unavailable" => fixture.unavailable.push(value.to_string()),
                _ => {}
            }
        }
        fixture._stdout = Some(reader);
        fixture
    }

    /// Both fixture processes, for `-p`.
    pub fn pids(&self) -> String {
        format!("{},{}", self.pid, self.child)
    }
}

impl Drop for NetFixture {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.process.kill();
        let _ = self.process.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
