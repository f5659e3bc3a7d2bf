//! The fixture process (tests/fixture/holder.py): it holds known files
//! open for as long as the `Fixture` value lives.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

const READY_TIME_LIMIT: Duration = Duration::from_secs(60);

/// A running holder.py. Dropping it closes the holder's stdin (its signal
/// to exit), kills it anyway, and removes its directory; the holder's
/// child dies with it (PR_SET_PDEATHSIG).
pub struct Fixture {
    pub pid: u32,
    /// With kind "child": a forked child sharing the holder's descriptors.
    pub child: Option<u32>,
    /// With kind "thread": the thread's id.
    pub tid: Option<u32>,
    /// Every line the holder said before "ready" ("key value").
    pub said: Vec<String>,
    /// Kinds this machine cannot hold (IPv6 ones, without IPv6).
    pub unavailable: Vec<String>,
    /// The directory holding the fixture's files; also its working directory.
    pub dir: PathBuf,
    process: Child,
    // Held so that the pipes stay as they were when lsof looked.
    stdin: Option<ChildStdin>,
    _stdout: Option<BufReader<ChildStdout>>,
}

impl Fixture {
    /// Starts holder.py with these kinds (see KINDS in holder.py, or "all")
    /// and waits until it holds everything.
    pub fn start(kinds: &[&str]) -> Fixture {
        Fixture::start_as(None, kinds)
    }

    /// [`Fixture::start`], the holder running as user and group `uid`
    /// (root only), owning its directory.
    pub fn start_as(uid: Option<u32>, kinds: &[&str]) -> Fixture {
        let dir = fresh_directory();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixture/holder.py");
        let mut command = Command::new("python3");
        if let Some(uid) = uid {
            std::os::unix::fs::chown(&dir, Some(uid), Some(uid))
                .unwrap_or_else(|e| panic!("cannot chown {}: {e}", dir.display()));
            std::os::unix::process::CommandExt::uid(&mut command, uid);
            std::os::unix::process::CommandExt::gid(&mut command, uid);
        }
        let mut process = command
            .arg(script)
            .arg(&dir)
            .args(kinds)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start python3 {script}: {e}"));
        let stdin = process.stdin.take();
        let stdout = process.stdout.take();
        let (sender, receiver) = mpsc::channel();
        thread::spawn(move || {
            let _ = sender.send(read_announcement(stdout));
        });
        let mut fixture = Fixture {
            pid: 0,
            child: None,
            tid: None,
            said: Vec::new(),
            unavailable: Vec::new(),
            dir,
            process,
            stdin,
            _stdout: None,
        };
        let (lines, stdout) = match receiver.recv_timeout(READY_TIME_LIMIT) {
            Ok((lines, Some(stdout))) => (lines, stdout),
            Ok((lines, None)) => {
                fixture.fail(&format!("exited before it was ready; it said {lines:?}"))
            }
            Err(_) => fixture.fail("was not ready in time"),
        };
        fixture._stdout = Some(stdout);
        for line in &lines {
            let (key, value) = line.split_once(' ').unwrap_or((line, ""));
            let number = || -> u32 {
                value
                    .parse()
                    .unwrap_or_else(|_| panic!("holder.py said {line:?}"))
            };
            match key {
                "pid" => fixture.pid = number(),
                "child" => fixture.child = Some(number()),
                "tid" => fixture.tid = Some(number()),
                "unavailable" => fixture.unavailable.push(value.to_string()),
                _ => {}
            }
        }
        assert!(fixture.pid != 0, "holder.py did not say its pid: {lines:?}");
        fixture.said = lines;
        fixture
    }

    /// The value of what the holder said as `key VALUE`.
    pub fn said(&self, key: &str) -> Option<&str> {
        self.said
            .iter()
            .find_map(|line| line.strip_prefix(key)?.strip_prefix(' '))
    }

    pub fn pid_arg(&self) -> String {
        self.pid.to_string()
    }

    /// The child's pid; panics if the fixture was started without "child".
    pub fn child_pid(&self) -> u32 {
        self.child
            .expect("the fixture was started without kind \"child\"")
    }

    fn fail(&mut self, what: &str) -> ! {
        let _ = self.process.kill();
        let output = self.process.stderr.take().map(|mut e| {
            let mut text = String::new();
            let _ = std::io::Read::read_to_string(&mut e, &mut text);
            text
        });
        panic!(
            "holder.py {what}\nits stderr:\n{}",
            output.unwrap_or_default()
        );
    }
}

type Announcement = (Vec<String>, Option<BufReader<ChildStdout>>);

/// Reads the holder's lines up to "ready"; the reader comes back only then.
fn read_announcement(stdout: Option<ChildStdout>) -> Announcement {
    let Some(stdout) = stdout else {
        return (Vec::new(), None);
    };
    let mut reader = BufReader::new(stdout);
    let mut lines = Vec::new();
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return (lines, None),
            Ok(_) if line.trim_end() == "ready" => return (lines, Some(reader)),
            Ok(_) => lines.push(line.trim_end().to_string()),
        }
    }
}

fn fresh_directory() -> PathBuf {
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "rlsof-test-{}-{}",
        std::process::id(),
        COUNT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    dir
}

impl Drop for Fixture {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.process.kill();
        let _ = self.process.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
