//! What the deleted-files tests share: python holders of deleted files,
//! and running the rlsof binary; tmpfs mounts are the harness's.

pub use crate::common::Tmpfs;
use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// A fresh, empty directory under the system temp dir.
pub fn scratch_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rlsof-deleted-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

/// A python3 process that sets up its files, prints `ready ...`, and then
/// waits on stdin; killed and reaped on drop.
pub struct Holder {
    pub child: std::process::Child,
    pub pid: i32,
    /// The words after `ready`.
    pub words: Vec<String>,
}

impl Holder {
    pub fn spawn<A: AsRef<OsStr>>(script: &str, args: &[A]) -> Holder {
        let mut child = Command::new("python3")
            .arg("-c")
            .arg(script)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 is needed by these tests");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let pid = child.id() as i32;
        let mut words = line.split_whitespace().map(String::from);
        if words.next().as_deref() != Some("ready") {
            let _ = child.kill();
            let _ = child.wait();
            panic!("python helper did not start: {line:?}");
        }
        Holder {
            child,
            pid,
            words: words.collect(),
        }
    }

    pub fn word(&self, i: usize) -> &str {
        &self.words[i]
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Holds a deleted log file, a deleted file that is only mapped (its
/// descriptors closed: lsof's DEL), and a linked file.
pub const HOLD_LOG_AND_MAPPING: &str = r#"
import mmap, os, sys
d = sys.argv[1]
log = open(d + "/app.log", "wb")
log.write(b"x" * (3 * 1024 * 1024 + 1234)); log.flush()
os.unlink(d + "/app.log")
m = open(d + "/lib.bin", "w+b")
m.write(b"y" * 300000); m.flush()
mapping = mmap.mmap(m.fileno(), 300000)
m.close()
for fd in os.listdir("/proc/self/fd"):
    try:
        if os.readlink("/proc/self/fd/" + fd).startswith(d + "/lib.bin"):
            os.close(int(fd))
    except OSError:
        pass
os.unlink(d + "/lib.bin")
open(d + "/kept", "w").write("still linked\n")
print("ready", log.fileno(), flush=True)
sys.stdin.read()
"#;

/// Opens another process's descriptor: a second holder of the same inode.
pub const HOLD_OTHERS_FD: &str = r#"
import sys
f = open("/proc/%s/fd/%s" % (sys.argv[1], sys.argv[2]), "rb")
print("ready", f.fileno(), flush=True)
sys.stdin.read()
"#;

/// Holds a deleted file of known content: bytes 0..255 repeated
/// `argv[2]` times, then "end"; through its descriptor, or with
/// `mapped-only` as `argv[3]` only through a mapping (lsof's DEL).
pub const HOLD_PATTERN: &str = r#"
import mmap, os, sys
path, mapped_only = sys.argv[1], sys.argv[3:] == ["mapped-only"]
f = open(path, "w+b" if mapped_only else "wb")
f.write(bytes(range(256)) * int(sys.argv[2]) + b"end"); f.flush()
if mapped_only:
    mapping = mmap.mmap(f.fileno(), 0)
    f.close()
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink("/proc/self/fd/" + fd).startswith(path):
                os.close(int(fd))
        except OSError:
            pass
os.unlink(path)
print("ready", "" if f.closed else f.fileno(), flush=True)
sys.stdin.read()
"#;

/// Holds a deleted log that keeps growing.
pub const HOLD_GROWING: &str = r#"
import os, sys, threading, time
path = sys.argv[1]
f = open(path, "wb")
f.write(b"L" * (8 * 1024 * 1024)); f.flush()
os.unlink(path)
def grow():
    while True:
        f.write(b"L" * 4096); f.flush(); time.sleep(0.001)
threading.Thread(target=grow, daemon=True).start()
print("ready", f.fileno(), flush=True)
sys.stdin.read()
"#;

/// Holds a linked file only: nothing deleted.
pub const HOLD_LINKED: &str = r#"
import sys
f = open(sys.argv[1], "w")
print("ready", f.fileno(), flush=True)
sys.stdin.read()
"#;

pub fn pattern(repeats: usize) -> Vec<u8> {
    let mut v: Vec<u8> = (0..=255u8).cycle().take(256 * repeats).collect();
    v.extend_from_slice(b"end");
    v
}

/// Holds a deleted sparse file: 20 MiB long, 4 KiB of data at 8 MiB.
pub const HOLD_SPARSE: &str = r#"
import os, sys
path = sys.argv[1]
f = open(path, "wb")
f.seek(8 * 1024 * 1024); f.write(b"S" * 4096)
f.truncate(20 * 1024 * 1024); f.flush()
os.unlink(path)
print("ready", f.fileno(), flush=True)
sys.stdin.read()
"#;

/// Holds a deleted file of `argv[2]` MiB of random bytes.
pub const HOLD_RANDOM: &str = r#"
import os, sys
path = sys.argv[1]
f = open(path, "wb")
for _ in range(int(sys.argv[2])):
    f.write(os.urandom(1024 * 1024))
f.flush()
os.unlink(path)
print("ready", f.fileno(), flush=True)
sys.stdin.read()
"#;

pub fn fd_of(holder: &Holder) -> u32 {
    holder.word(0).parse().expect("fd number")
}

pub fn rlsof_binary() -> &'static str {
    env!("CARGO_BIN_EXE_rlsof")
}

/// Runs rlsof with `args`; stdout and stderr captured.
pub fn rlsof<A: AsRef<OsStr>>(args: &[A]) -> Output {
    let _turn = crate::common::machine::turn();
    Command::new(rlsof_binary())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run rlsof")
}

/// `sha256sum` of a file (a /proc link included).
pub fn sha256(path: &Path) -> String {
    let out = Command::new("sha256sum")
        .arg(path)
        .output()
        .expect("sha256sum");
    assert!(out.status.success(), "sha256sum {}", path.display());
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string()
}

/// The names in a directory, sorted.
pub fn names_in(dir: &Path) -> Vec<std::ffi::OsString> {
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    names.sort();
    names
}

/// Bytes the filesystem holding `dir` has in use (statvfs).
pub fn used_bytes(dir: &Path) -> u64 {
    let c = std::ffi::CString::new(dir.as_os_str().as_encoded_bytes()).expect("path");
    // SAFETY: statvfs is plain old data; zeroed is a valid value.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: a NUL-terminated path and a live statvfs.
    assert_eq!(unsafe { libc::statvfs(c.as_ptr(), &mut st) }, 0);
    (st.f_blocks - st.f_bfree) as u64 * st.f_frsize as u64
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
