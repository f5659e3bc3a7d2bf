//! The network fixture (tests/fixture/net_holder.py): a process, and a
//! child sharing its descriptors, holding every kind of socket and the
//! endpoint files of `+E`, for as long as the value lives.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub struct NetFixture {
    pub pid: u32,
    pub child: u32,
    /// "tcp4", "tcp4client", "tcp6", "mapped", "udp4", "udp4lone", "udp6".
    pub ports: HashMap<String, u16>,
    pub unavailable: Vec<String>,
    pub dir: PathBuf,
    process: Child,
}

const READY_TIME_LIMIT: Duration = Duration::from_secs(60);

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
        let stderr = std::fs::File::create(dir.join("stderr")).expect("stderr file");
        let process = Command::new("python3")
            .arg(script)
            .arg(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {script}: {e}"));
        let mut fixture = NetFixture {
            pid: 0,
            child: 0,
            ports: HashMap::new(),
            unavailable: Vec::new(),
            dir,
            process,
        };
        let announcement = fixture.wait_for_announcement();
        for line in announcement.lines() {
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
        fixture
    }

    fn wait_for_announcement(&mut self) -> String {
        let started = Instant::now();
        loop {
            if let Ok(text) = std::fs::read_to_string(self.dir.join("announce")) {
                return text;
            }
            let exited = matches!(self.process.try_wait(), Ok(Some(_)));
            if exited || started.elapsed() > READY_TIME_LIMIT {
                let stderr = std::fs::read_to_string(self.dir.join("stderr")).unwrap_or_default();
                panic!("net_holder.py was not ready; its stderr:\n{stderr}");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Both fixture processes, for `-p`.
    pub fn pids(&self) -> String {
        format!("{},{}", self.pid, self.child)
    }
}

impl Drop for NetFixture {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
