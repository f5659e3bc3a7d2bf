//! What the live tests share: the churn fixture (tests/fixture/churn.py),
//! a running rlsof whose output is read as it comes, and polling.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// How long anything the tests wait for may take on a loaded machine.
pub const PATIENCE: Duration = Duration::from_secs(40);

pub fn rlsof() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_rlsof"))
}

/// Polls `check` until it gives Some, or panics after `PATIENCE` saying
/// what was awaited (and the last state `describe` gives).
pub fn wait_for<T>(
    what: &str,
    mut check: impl FnMut() -> Option<T>,
    describe: impl Fn() -> String,
) -> T {
    let started = Instant::now();
    loop {
        if let Some(value) = check() {
            return value;
        }
        if started.elapsed() > PATIENCE {
            panic!("timed out waiting for {what}; last seen:\n{}", describe());
        }
        thread::sleep(Duration::from_millis(50));
    }
}

/// `command`, to run as user and group `uid` when given.
pub fn as_user(mut command: Command, uid: Option<u32>) -> Command {
    if let Some(uid) = uid {
        std::os::unix::process::CommandExt::uid(&mut command, uid);
        std::os::unix::process::CommandExt::gid(&mut command, uid);
    }
    command
}

pub fn fresh_directory() -> PathBuf {
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "rlsof-live-{}-{}",
        std::process::id(),
        COUNT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("test directory");
    dir
}

/// A running churn.py; killed (with its process group) when dropped.
pub struct Churn {
    pub pid: u32,
    process: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
}

impl Churn {
    pub fn start(mode: &str, arg: &str) -> Churn {
        Churn::start_as(None, mode, arg)
    }

    /// [`Churn::start`] as user and group `uid` (None: as is; root only).
    pub fn start_as(uid: Option<u32>, mode: &str, arg: &str) -> Churn {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixture/churn.py");
        let mut process = as_user(Command::new("python3"), uid)
            .args([script, mode, arg])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 tests/fixture/churn.py");
        let stdin = process.stdin.take();
        let mut stdout = BufReader::new(process.stdout.take().expect("stdout"));
        let mut line = String::new();
        stdout
            .read_line(&mut line)
            .expect("churn.py announces itself");
        let pid = line
            .strip_prefix("ready ")
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or_else(|| panic!("churn.py said {line:?}"));
        Churn {
            pid,
            process,
            stdin,
            stdout,
        }
    }

    /// Does a step (see churn.py); returns its detail.
    pub fn step(&mut self, step: &str) -> String {
        let stdin = self.stdin.as_mut().expect("stdin");
        writeln!(stdin, "{step}").expect("step sent");
        stdin.flush().expect("step sent");
        let mut line = String::new();
        self.stdout.read_line(&mut line).expect("step answered");
        line.strip_prefix("ok")
            .unwrap_or_else(|| panic!("step {step}: churn.py said {line:?}"))
            .trim()
            .to_string()
    }

    /// Ends the fixture now.
    pub fn kill(&mut self) {
        // SAFETY: kill(2) on the fixture's own process group.
        unsafe {
            libc::kill(-(self.pid as i32), libc::SIGKILL);
        }
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

impl Drop for Churn {
    fn drop(&mut self) {
        drop(self.stdin.take());
        self.kill();
    }
}

/// A running rlsof whose output lines are collected as they come.
pub struct Stream {
    process: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Stream {
    /// `rlsof ARGS` as user and group `uid` (None: as is; root only).
    pub fn start_as(uid: Option<u32>, args: &[&str]) -> Stream {
        let mut process = as_user(Command::new(rlsof()), uid)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("rlsof starts");
        let stdout = process.stdout.take().expect("stdout");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&lines);
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                sink.lock().expect("lines").push(line);
            }
        });
        Stream { process, lines }
    }

    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().expect("lines").clone()
    }

    /// Waits for the process to end; its exit code.
    pub fn wait_exit(&mut self) -> Option<i32> {
        let lines = Arc::clone(&self.lines);
        let process = &mut self.process;
        wait_for(
            "rlsof to end",
            || process.try_wait().ok().flatten(),
            || lines.lock().expect("lines").join("\n"),
        )
        .code()
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}
