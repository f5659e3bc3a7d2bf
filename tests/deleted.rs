//! The deleted-files report and recovery, against real processes holding
//! real deleted files. The report's bytes are checked against what `df`
//! and `du` disagree by on a tmpfs mounted for the test (root only: the
//! test says so and skips when it cannot mount).

use rlsof::cli::options::{Item, Options};
use rlsof::deleted::{deleted_report, recover, recover_all};
use rlsof::scan::socket::NoSockets;
use rlsof::scan::{ScanConfig, Scanner};
use rlsof::select::Selection;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A tmpfs mounted for one test, unmounted and removed on drop.
struct Tmpfs {
    dir: PathBuf,
}

impl Tmpfs {
    fn mount(tag: &str, size: &str) -> Option<Tmpfs> {
        let dir = scratch_dir(&format!("mnt-{tag}"));
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&dir)
            .stderr(Stdio::null())
            .status();
        if !matches!(status, Ok(s) if s.success()) {
            eprintln!(
                "SKIPPED: cannot mount a tmpfs at {} (needs root)",
                dir.display()
            );
            let _ = std::fs::remove_dir(&dir);
            return None;
        }
        Some(Tmpfs { dir })
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let ok = Command::new("umount")
            .arg(&self.dir)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            // Still busy (a child not yet reaped): detach it lazily.
            let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
        }
        let _ = std::fs::remove_dir(&self.dir);
    }
}

/// A fresh, empty directory under the system temp dir.
fn scratch_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rlsof-deleted-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

/// A python3 process that sets up its files, prints `ready ...`, and then
/// waits on stdin; killed and reaped on drop.
struct Holder {
    child: std::process::Child,
    pid: i32,
    /// The words after `ready`.
    words: Vec<String>,
}

impl Holder {
    fn spawn(script: &str, args: &[&str]) -> Holder {
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

    fn word(&self, i: usize) -> &str {
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
const HOLD_LOG_AND_MAPPING: &str = r#"
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
const HOLD_OTHERS_FD: &str = r#"
import sys
f = open("/proc/%s/fd/%s" % (sys.argv[1], sys.argv[2]), "rb")
print("ready", f.fileno(), flush=True)
sys.stdin.read()
"#;

/// Holds a deleted file of known content: bytes 0..255 repeated, then "end".
const HOLD_PATTERN: &str = r#"
import os, sys
path = sys.argv[1]
f = open(path, "wb")
f.write(bytes(range(256)) * int(sys.argv[2]) + b"end"); f.flush()
os.unlink(path)
print("ready", f.fileno(), flush=True)
sys.stdin.read()
"#;

/// Holds a deleted file of known content only through a mapping (DEL).
const HOLD_MAPPED_ONLY: &str = r#"
import mmap, os, sys
path = sys.argv[1]
f = open(path, "w+b")
f.write(bytes(range(256)) * int(sys.argv[2]) + b"end"); f.flush()
mapping = mmap.mmap(f.fileno(), 0)
f.close()
for fd in os.listdir("/proc/self/fd"):
    try:
        if os.readlink("/proc/self/fd/" + fd).startswith(path):
            os.close(int(fd))
    except OSError:
        pass
os.unlink(path)
print("ready", flush=True)
sys.stdin.read()
"#;

/// Holds a deleted log that keeps growing.
const HOLD_GROWING: &str = r#"
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
const HOLD_LINKED: &str = r#"
import sys
f = open(sys.argv[1], "w")
print("ready", f.fileno(), flush=True)
sys.stdin.read()
"#;

fn pattern(repeats: usize) -> Vec<u8> {
    let mut v: Vec<u8> = (0..=255u8).cycle().take(256 * repeats).collect();
    v.extend_from_slice(b"end");
    v
}

fn scanner() -> Scanner {
    Scanner::new(ScanConfig::default(), Box::new(NoSockets)).expect("open /proc")
}

fn options_for(pids: &[i32]) -> Options {
    let mut opts = Options::new();
    opts.pids = pids
        .iter()
        .map(|&p| Item {
            value: p,
            excluded: false,
        })
        .collect();
    opts
}

fn report(pids: &[i32], json: bool) -> (i32, String) {
    let scanner = scanner();
    let opts = options_for(pids);
    let selection = Selection::new(&opts, Vec::new());
    let all = scanner.pids().expect("list pids");
    let mut out = Vec::new();
    let status = deleted_report(&scanner, &selection, &all, &opts, json, &mut out).expect("report");
    (status, String::from_utf8(out).expect("utf-8 report"))
}

fn command_number(program: &str, args: &[&str], line: usize, field: usize) -> u64 {
    let out = Command::new(program).args(args).output().expect(program);
    let text = String::from_utf8_lossy(&out.stdout);
    let word = text
        .lines()
        .nth(line)
        .and_then(|l| l.split_whitespace().nth(field))
        .unwrap_or_else(|| panic!("{program} printed {text:?}"));
    word.parse()
        .unwrap_or_else(|_| panic!("{program} printed {text:?}"))
}

/// What `df` and `du` disagree by: the space only deleted files hold.
fn df_minus_du(dir: &Path) -> u64 {
    let d = dir.to_str().expect("utf-8 temp path");
    let used = command_number("df", &["-B1", "--output=used", d], 1, 0);
    let du = command_number("du", &["-s", "-B1", d], 0, 0);
    used - du
}

#[test]
fn report_bytes_equal_df_minus_du() {
    let Some(fs) = Tmpfs::mount("report", "32m") else {
        return;
    };
    let dir = fs.dir.to_str().expect("utf-8 path").to_string();
    let first = Holder::spawn(HOLD_LOG_AND_MAPPING, &[&dir]);
    let log_fd = first.word(0).to_string();
    let second = Holder::spawn(HOLD_OTHERS_FD, &[&first.pid.to_string(), &log_fd]);

    let expected = df_minus_du(&fs.dir);
    let (status, text) = report(&[first.pid, second.pid], true);
    assert_eq!(status, 0);
    let v: Value = serde_json::from_str(&text).expect("one JSON object");
    let ours = v["filesystems"]
        .as_array()
        .expect("filesystems")
        .iter()
        .find(|f| f["mount_point"] == dir.as_str())
        .unwrap_or_else(|| panic!("no entry for {dir} in {text}"));
    assert_eq!(ours["fs_type"], "tmpfs");
    assert_eq!(ours["device"], "tmpfs");
    assert_eq!(
        ours["bytes_held"].as_u64(),
        Some(expected),
        "df - du = {expected}; report: {text}"
    );

    let files = ours["files"].as_array().expect("files");
    assert_eq!(files.len(), 2, "{text}");
    let log = &files[0];
    assert_eq!(log["name"], format!("{dir}/app.log"));
    assert_eq!(log["size"], 3 * 1024 * 1024 + 1234);
    let holders: Vec<(i64, String)> = log["holders"]
        .as_array()
        .expect("holders")
        .iter()
        .map(|h| (h["pid"].as_i64().unwrap_or(0), h["fd"].to_string()))
        .collect();
    assert_eq!(
        holders,
        vec![
            (first.pid as i64, format!("\"{log_fd}\"")),
            (second.pid as i64, format!("\"{}\"", second.word(0)))
        ]
    );
    let mapped = &files[1];
    assert_eq!(mapped["name"], format!("{dir}/lib.bin"));
    assert_eq!(mapped["size"], 300000);
    assert_eq!(mapped["holders"][0]["fd"], "DEL");

    let (status, text) = report(&[first.pid, second.pid], false);
    assert_eq!(status, 0);
    assert!(text.contains(&format!("{dir} (tmpfs tmpfs")), "{text}");
    assert!(text.contains(&format!("({expected} bytes)")), "{text}");
    drop((first, second));
}

#[test]
fn nothing_deleted_is_one_line_and_success() {
    let dir = scratch_dir("none");
    let holder = Holder::spawn(HOLD_LINKED, &[dir.join("linked").to_str().unwrap_or("")]);
    let (status, text) = report(&[holder.pid], false);
    assert_eq!(
        (status, text.as_str()),
        (0, "No deleted files are held open.\n")
    );
    let (status, text) = report(&[holder.pid], true);
    assert_eq!(status, 0);
    let v: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(v["bytes_held"], 0);
    drop(holder);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_missing_pid_selection_exits_one() {
    let (status, text) = report(&[0x3fff_fff0], false);
    assert_eq!(
        (status, text.as_str()),
        (1, "No deleted files are held open.\n")
    );
}

fn run_recover(pid: i32, fd: u32, to: &Path) -> (i32, String, String) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let status = recover(Path::new("/proc"), pid, fd, to, &mut out, &mut err);
    (
        status,
        String::from_utf8_lossy(&out).into_owned(),
        String::from_utf8_lossy(&err).into_owned(),
    )
}

fn fd_of(holder: &Holder) -> u32 {
    holder.word(0).parse().expect("fd number")
}

#[test]
fn recover_copies_the_contents() {
    let dir = scratch_dir("copy");
    let holder = Holder::spawn(
        HOLD_PATTERN,
        &[dir.join("gone.bin").to_str().unwrap_or(""), "4000"],
    );
    let dest = dir.join("back.bin");
    let (status, out, err) = run_recover(holder.pid, fd_of(&holder), &dest);
    assert_eq!(status, 0, "{err}");
    let expected = pattern(4000);
    assert_eq!(std::fs::read(&dest).expect("recovered file"), expected);
    assert!(
        out.contains(&format!("({} bytes)", expected.len())),
        "{out}"
    );
    assert!(out.contains("gone.bin (deleted)"), "{out}");
    let mode = std::fs::metadata(&dest).expect("meta").permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    drop(holder);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn recover_never_overwrites() {
    let dir = scratch_dir("exists");
    let holder = Holder::spawn(
        HOLD_PATTERN,
        &[dir.join("gone.bin").to_str().unwrap_or(""), "10"],
    );
    let dest = dir.join("precious");
    std::fs::write(&dest, b"keep me").expect("write");
    let (status, _, err) = run_recover(holder.pid, fd_of(&holder), &dest);
    assert_eq!(status, 1);
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(std::fs::read(&dest).expect("still there"), b"keep me");
    drop(holder);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_full_destination_leaves_no_partial_copy() {
    let Some(small) = Tmpfs::mount("full", "64k") else {
        return;
    };
    let dir = scratch_dir("full-src");
    let holder = Holder::spawn(
        HOLD_PATTERN,
        &[dir.join("big.bin").to_str().unwrap_or(""), "4096"],
    );
    let dest = small.dir.join("big.bin");
    let (status, _, err) = run_recover(holder.pid, fd_of(&holder), &dest);
    assert_eq!(status, 1);
    assert!(err.contains("No space left on device"), "{err}");
    assert!(err.contains("filesystem is full"), "{err}");
    assert!(err.contains("was removed"), "{err}");
    assert!(!dest.exists(), "partial copy left behind");
    drop(holder);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_growing_file_is_copied_up_to_its_size_at_the_start() {
    let dir = scratch_dir("grow");
    let holder = Holder::spawn(HOLD_GROWING, &[dir.join("live.log").to_str().unwrap_or("")]);
    let dest = dir.join("live.copy");
    let (status, out, err) = run_recover(holder.pid, fd_of(&holder), &dest);
    assert_eq!(status, 0, "{err}");
    let copied = std::fs::read(&dest).expect("copy");
    assert!(copied.len() >= 8 * 1024 * 1024);
    assert!(copied.iter().all(|&b| b == b'L'));
    assert!(out.contains(&format!("({} bytes)", copied.len())), "{out}");
    if out.contains("grew to") {
        assert!(out.contains("bytes it had when the copy started"), "{out}");
    }
    drop(holder);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn recover_errors_are_clear() {
    let dir = scratch_dir("errors");
    let holder = Holder::spawn(HOLD_LINKED, &[dir.join("linked").to_str().unwrap_or("")]);
    let dest = dir.join("out");

    let (status, _, err) = run_recover(holder.pid, 0, &dest);
    assert_eq!(status, 1);
    assert!(err.contains("not a regular file but a pipe"), "{err}");

    let (status, _, err) = run_recover(holder.pid, 999, &dest);
    assert_eq!(status, 1);
    assert!(err.contains("has no fd 999"), "{err}");

    let (status, _, err) = run_recover(0x3fff_fff0, 3, &dest);
    assert_eq!(status, 1);
    assert!(err.contains("no such process: 1073741808"), "{err}");

    assert!(!dest.exists());
    drop(holder);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn recover_all_takes_each_inode_once() {
    let dir = scratch_dir("all");
    let first = Holder::spawn(
        HOLD_PATTERN,
        &[dir.join("one.bin").to_str().unwrap_or(""), "100"],
    );
    let second = Holder::spawn(HOLD_OTHERS_FD, &[&first.pid.to_string(), first.word(0)]);
    let third = Holder::spawn(
        HOLD_PATTERN,
        &[dir.join("two.bin").to_str().unwrap_or(""), "7"],
    );
    let to = dir.join("recovered/nested");

    let scanner = scanner();
    let opts = options_for(&[first.pid, second.pid, third.pid]);
    let selection = Selection::new(&opts, Vec::new());
    let all = scanner.pids().expect("pids");
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let status = recover_all(&scanner, &selection, &all, &to, &mut out, &mut err);
    let out = String::from_utf8_lossy(&out).into_owned();
    let err = String::from_utf8_lossy(&err).into_owned();
    assert_eq!(status, 0, "{out}{err}");

    let mut names: Vec<String> = std::fs::read_dir(&to)
        .expect("destination dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut expected = vec![
        format!("{}-{}-one.bin", first.pid, first.word(0)),
        format!("{}-{}-two.bin", third.pid, third.word(0)),
    ];
    expected.sort();
    assert_eq!(names, expected, "{out}");
    let one = to.join(format!("{}-{}-one.bin", first.pid, first.word(0)));
    assert_eq!(std::fs::read(one).expect("one"), pattern(100));
    let two = to.join(format!("{}-{}-two.bin", third.pid, third.word(0)));
    assert_eq!(std::fs::read(two).expect("two"), pattern(7));
    assert!(
        out.contains("Total: recovered 2 of 2 deleted files"),
        "{out}"
    );
    drop((first, second, third));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn recover_all_reads_mapped_only_files_through_map_files() {
    let dir = scratch_dir("mapped");
    let holder = Holder::spawn(
        HOLD_MAPPED_ONLY,
        &[dir.join("lib.bin").to_str().unwrap_or(""), "33"],
    );
    let to = dir.join("out");
    let scanner = scanner();
    let opts = options_for(&[holder.pid]);
    let selection = Selection::new(&opts, Vec::new());
    let all = scanner.pids().expect("pids");
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let status = recover_all(&scanner, &selection, &all, &to, &mut out, &mut err);
    let out = String::from_utf8_lossy(&out).into_owned();
    let err = String::from_utf8_lossy(&err).into_owned();
    assert_eq!(status, 0, "{out}{err}");
    let copy = to.join(format!("{}-DEL-lib.bin", holder.pid));
    assert_eq!(std::fs::read(copy).expect("copy"), pattern(33), "{out}");
    assert!(
        out.contains("Total: recovered 1 of 1 deleted file "),
        "{out}"
    );
    drop(holder);
    let _ = std::fs::remove_dir_all(dir);
}
