//! What the fleet tests share: a tmpfs of their own, a holder process with
//! known deleted files, descriptors, a small soft RLIMIT_NOFILE and a
//! listening socket, and a minimal HTTP client.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const HOLDER: &str = r#"
import os, resource, socket, sys
where, soft, fds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
held = []
for i, size in enumerate([1 << 20, 3 << 20 | 12345]):
    f = open(os.path.join(where, "deleted-%d" % i), "wb")
    f.write(b"x" * size)
    f.flush()
    os.unlink(f.name)
    held.append(f)
kept = open(os.path.join(where, "kept"), "wb")
kept.write(b"k" * 4096)
kept.flush()
# One inotify instance with two watches, held by two descriptors.
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
instance = libc.inotify_init()
for watched in (where, "/"):
    libc.inotify_add_watch(instance, watched.encode(), 0x100)
second = os.dup(instance)
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen(4)
def count():
    return len(os.listdir("/proc/self/fd")) - 1
while count() < fds:
    held.append(open("/dev/null"))
print(os.getpid(), listener.getsockname()[1], count(), soft, hard, flush=True)
sys.stdin.read()
"#;

/// The holder: PID, listening port, descriptor count, soft and hard limit.
pub struct Holder {
    child: Child,
    pub pid: u32,
    pub port: u16,
    pub fds: u64,
    pub soft: u64,
    pub hard: u64,
}

impl Holder {
    pub fn start(dir: &Path, soft: u64, fds: u64) -> Holder {
        let mut child = Command::new("python3")
            .args(["-c", HOLDER])
            .arg(dir)
            .args([soft.to_string(), fds.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let v: Vec<u64> = line
            .split_whitespace()
            .map(|w| w.parse().unwrap())
            .collect();
        assert_eq!(v.len(), 5, "holder said {line:?}");
        Holder {
            child,
            pid: v[0] as u32,
            port: v[1] as u16,
            fds: v[2],
            soft: v[3],
            hard: v[4],
        }
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An `rlsof --serve` process; its address from the line it prints.
pub struct Exporter {
    child: Child,
    pub addr: SocketAddr,
}

impl Exporter {
    /// Starts `prefix... rlsof --serve ARGS...` and waits for its address.
    pub fn start(prefix: &[&str], args: &[&str]) -> Exporter {
        let rlsof = PathBuf::from(env!("CARGO_BIN_EXE_rlsof"));
        let mut command = match prefix.split_first() {
            Some((first, rest)) => {
                let mut c = Command::new(first);
                c.args(rest).arg(&rlsof);
                c
            }
            None => Command::new(&rlsof),
        };
        let mut child = command
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Warnings may come first (a file system that cannot be stat'ed);
        // stderr is read to its end, so that none is ever written into a
        // closed pipe.
        let (said, heard) = std::sync::mpsc::channel();
        let stderr = BufReader::new(child.stderr.take().unwrap());
        std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                let _ = said.send(line);
            }
        });
        let mut lines = Vec::new();
        let addr = loop {
            let Ok(line) = heard.recv_timeout(Duration::from_secs(30)) else {
                panic!("rlsof --serve said {lines:?}");
            };
            let addr = line
                .trim()
                .strip_prefix("rlsof: serving metrics on http://")
                .and_then(|rest| rest.strip_suffix("/metrics"))
                .map(str::to_string);
            if let Some(addr) = addr {
                break addr;
            }
            lines.push(line);
        };
        Exporter {
            child,
            addr: addr.parse().unwrap(),
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGTERM; the exit status.
    pub fn stop(mut self) -> std::process::ExitStatus {
        // SAFETY: kill on the PID of our own child.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        for _ in 0..100 {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("rlsof --serve did not stop within 5 s of SIGTERM");
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends `request` (raw bytes) and reads the whole answer (the server
/// closes after it: requests say `Connection: close`).
pub fn exchange(addr: SocketAddr, request: &[u8]) -> String {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let _ = stream.write_all(request);
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

/// GET `path`, or None while nothing listens at `addr`.
pub fn try_get(addr: SocketAddr, path: &str) -> Option<(u16, String)> {
    TcpStream::connect_timeout(&addr, Duration::from_secs(5)).ok()?;
    Some(get(addr, path))
}

/// GET `path`: (status code, body).
pub fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    let answer = exchange(addr, request.as_bytes());
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// The value of the one sample of `name` whose labels include all of
/// `labels`, in exposition text.
pub fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| l.starts_with(&format!("{name}{{")) || l.starts_with(&format!("{name} ")))
        .find(|l| {
            labels
                .iter()
                .all(|(k, v)| l.contains(&format!("{k}=\"{v}\"")))
        })
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
}
