//! Recovery killed at random points never leaves a false copy.
//!
//! A process holds a deleted 200 MiB file of random bytes on one tmpfs;
//! `rlsof --recover` and `rlsof --recover-all` copy it to another and are
//! killed with SIGINT, SIGTERM, SIGHUP and SIGKILL at random moments
//! within the time a whole copy takes. After each kill the final name
//! either does not exist or has the original's exact sha256; after SIGINT,
//! SIGTERM or SIGHUP nothing else is left on the destination (no name,
//! and no space used by a nameless temporary either), and after SIGKILL
//! the next run succeeds.
//! Root only (the tmpfs mounts): the test says so and returns otherwise.

use super::support::*;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

const MIB: usize = 200;
const RUNS_PER_CASE: usize = 4;

/// xorshift64*: reproducible random delays without a dependency.
struct Random(u64);

impl Random {
    fn seeded() -> Random {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64);
        Random((nanos ^ u64::from(std::process::id())) | 1)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n.max(1)
    }
}

#[derive(Clone, Copy, Debug)]
enum Mode {
    One,
    All,
}

struct Case<'a> {
    holder: &'a Holder,
    dest_fs: &'a Path,
    original: &'a str,
}

impl Case<'_> {
    /// The command and the final name it writes.
    fn command(&self, mode: Mode) -> (Command, PathBuf) {
        let mut command = Command::new(rlsof_binary());
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let fd = fd_of(self.holder);
        match mode {
            Mode::One => {
                let dest = self.dest_fs.join("one/copy.bin");
                command
                    .arg("--recover")
                    .arg(format!("{}:{fd}", self.holder.pid))
                    .arg("--to")
                    .arg(&dest);
                (command, dest)
            }
            Mode::All => {
                let dir = self.dest_fs.join("all");
                command
                    .args(["-p", &self.holder.pid.to_string(), "--recover-all", "--to"])
                    .arg(&dir);
                (
                    command,
                    dir.join(format!("{}-{fd}-big.bin", self.holder.pid)),
                )
            }
        }
    }

    /// Runs to the end; the copy must be exact. Returns how long it took.
    fn run_whole(&self, mode: Mode) -> Duration {
        let (mut command, dest) = self.command(mode);
        let start = Instant::now();
        let out = command.output().expect("run rlsof");
        let took = start.elapsed();
        assert!(
            out.status.success(),
            "{mode:?}: {}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        assert_eq!(sha256(&dest), self.original, "{mode:?}: whole copy differs");
        std::fs::remove_file(&dest).expect("remove the copy");
        took
    }

    /// Starts a run, sends `signal` after `delay`, and checks what is left.
    /// Returns whether the signal landed during the copy (the command
    /// said it was interrupted).
    fn kill_at(&self, mode: Mode, signal: i32, delay: Duration) -> bool {
        let (mut command, dest) = self.command(mode);
        let used_before = used_bytes(self.dest_fs);
        let child = command.spawn().expect("spawn rlsof");
        std::thread::sleep(delay);
        // SAFETY: kill with our own child's pid, not yet reaped.
        unsafe { libc::kill(child.id() as i32, signal) };
        let out = child.wait_with_output().expect("wait for rlsof");
        let what = format!(
            "{mode:?} signal {signal} after {delay:?}: {:?}\n{}{}",
            out.status,
            text(&out.stdout),
            text(&out.stderr)
        );
        let complete = dest.exists();
        if complete {
            assert_eq!(sha256(&dest), self.original, "a false copy: {what}");
        }
        let interrupted = landed_during_copy(out.status, signal);
        if signal != libc::SIGKILL {
            check_clean_stop(out.status, signal, interrupted, complete, &what);
            // Nothing but the final name, and no space held by anything else.
            let parent = dest.parent().expect("a parent");
            let expected: Vec<std::ffi::OsString> = if complete {
                vec![dest.file_name().expect("a name").into()]
            } else {
                Vec::new()
            };
            assert_eq!(names_in(parent), expected, "{what}");
            let copy_bytes = std::fs::metadata(&dest).map_or(0, |m| {
                use std::os::unix::fs::MetadataExt;
                m.blocks() * 512
            });
            assert!(
                used_bytes(self.dest_fs) <= used_before + copy_bytes + 64 * 1024,
                "space left in use after the signal: {what}"
            );
        }
        if complete {
            std::fs::remove_file(&dest).expect("remove the copy");
        }
        if signal == libc::SIGKILL {
            // Whatever the kill left, the next run must succeed.
            self.run_whole(mode);
        }
        interrupted
    }
}

/// Exit status 128 + signal: the command caught it and stopped cleanly.
fn landed_during_copy(status: ExitStatus, signal: i32) -> bool {
    status.code() == Some(128 + signal)
}

fn check_clean_stop(
    status: ExitStatus,
    signal: i32,
    interrupted: bool,
    complete: bool,
    what: &str,
) {
    if interrupted {
        assert!(!complete, "interrupted, yet the copy has its name: {what}");
        assert!(what.to_lowercase().contains("interrupted by sig"), "{what}");
        return;
    }
    // Either the copy finished before the signal, or the signal came
    // before rlsof caught it (at start-up) and killed it outright.
    let finished = status.success() && complete;
    let killed_at_start = status.signal() == Some(signal) && !complete;
    assert!(finished || killed_at_start, "{what}");
}

#[test]
fn recovery_killed_at_random_points_leaves_the_whole_copy_or_nothing() {
    // Hundreds of MiB copied again and again load the machine enough (a
    // kernel matrix VM under TCG) that lsof's own time limit on stat()
    // fires beside it and it warns of file systems it cannot stat: the
    // comparisons with lsof wait.
    let _alone = crate::common::machine::alone();
    let Some(source_fs) = Tmpfs::mount("kill-src", "256m") else {
        return;
    };
    let Some(dest_fs) = Tmpfs::mount("kill-dst", "256m") else {
        return;
    };
    let path = source_fs.dir.join("big.bin");
    let holder = Holder::spawn(HOLD_RANDOM, &[path.as_os_str(), "200".as_ref()]);
    let link = PathBuf::from(format!("/proc/{}/fd/{}", holder.pid, fd_of(&holder)));
    assert_eq!(
        std::fs::metadata(&link).expect("the held file").len(),
        (MIB << 20) as u64
    );
    let original = sha256(&link);
    std::fs::create_dir(dest_fs.dir.join("one")).expect("mkdir");
    let case = Case {
        holder: &holder,
        dest_fs: &dest_fs.dir,
        original: &original,
    };
    let whole = case.run_whole(Mode::One).max(case.run_whole(Mode::All));
    let mut random = Random::seeded();
    eprintln!("a whole copy takes {whole:?}; random seed {}", random.0);
    let window = whole.as_micros() as u64 * 11 / 10;
    let (mut kills, mut caught) = (0, 0);
    for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGKILL] {
        for mode in [Mode::One, Mode::All] {
            for _ in 0..RUNS_PER_CASE {
                let delay = Duration::from_micros(random.below(window));
                caught += usize::from(case.kill_at(mode, signal, delay));
                kills += 1;
            }
        }
    }
    eprintln!("{kills} kills; {caught} SIGINT/SIGTERM/SIGHUP landed during a copy");
    assert!(kills >= 20);
    // Many of the catchable kills must land during a copy, or the test
    // proved little.
    assert!(
        caught >= kills / 6,
        "only {caught} of {} SIGINT/SIGTERM/SIGHUP kills landed during a copy",
        kills * 3 / 4
    );
    drop(holder);
}

/// Runs `argv` on a pseudo-terminal, sends SIGINT once the progress bar
/// shows, and prints the exit status and then everything the terminal
/// received, as Python's repr of bytes.
const ON_A_TERMINAL: &str = r#"
import os, pty, signal, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
seen = b""
sent = False
deadline = time.time() + 20
while time.time() < deadline:
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    seen += chunk
    if not sent and b"%" in seen:
        os.kill(pid, signal.SIGINT)
        sent = True
_, status = os.waitpid(pid, 0)
print(os.waitstatus_to_exitcode(status), sent)
print(repr(seen))
"#;

/// On a terminal, SIGINT during the copy clears the progress bar's line
/// before saying what happened, and the status is 130.
#[test]
fn sigint_on_a_terminal_puts_the_line_back() {
    let Some(source_fs) = Tmpfs::mount("tty-src", "256m") else {
        return;
    };
    let Some(dest_fs) = Tmpfs::mount("tty-dst", "256m") else {
        return;
    };
    let path = source_fs.dir.join("big.bin");
    let holder = Holder::spawn(HOLD_RANDOM, &[path.as_os_str(), "200".as_ref()]);
    let dest = dest_fs.dir.join("copy.bin");
    let out = Command::new("python3")
        .arg("-c")
        .arg(ON_A_TERMINAL)
        .arg(rlsof_binary())
        .arg("--recover")
        .arg(format!("{}:{}", holder.pid, fd_of(&holder)))
        .arg("--to")
        .arg(&dest)
        .output()
        .expect("python3");
    let shown = text(&out.stdout);
    let mut lines = shown.lines();
    let status = lines.next().unwrap_or_default();
    let screen = lines.next().unwrap_or_default();
    if status.ends_with("False") {
        // The copy ended before the bar was drawn once: nothing tested
        // (under CI a failure: a 200 MiB copy draws it at its first chunk).
        assert!(status.starts_with("0 "), "{shown}");
        crate::common::need::cannot_run("the copy ended before its progress bar showed");
        return;
    }
    assert_eq!(status, "130 True", "{shown}{}", text(&out.stderr));
    assert!(
        screen.contains(r"\r\x1b[Krlsof: interrupted by SIGINT: the partial copy was discarded"),
        "{screen}"
    );
    assert!(!dest.exists());
    assert_eq!(names_in(&dest_fs.dir), Vec::<std::ffi::OsString>::new());
    drop(holder);
}

/// The holder exits in the middle of the copy: rlsof's own descriptor
/// keeps the file alive, so the copy is whole (or, if the holder was gone
/// before rlsof opened the file, there is no copy and a clear error: no
/// such process, or, caught between its death and its reaping, a zombie
/// that holds no descriptor any more).
#[test]
fn the_holder_exiting_mid_copy_changes_nothing() {
    // A 200 MiB file written and hashed: see the test of random kills.
    let _alone = crate::common::machine::alone();
    let Some(source_fs) = Tmpfs::mount("gone-src", "256m") else {
        return;
    };
    let Some(dest_fs) = Tmpfs::mount("gone-dst", "256m") else {
        return;
    };
    let path = source_fs.dir.join("big.bin");
    let mut holder = Holder::spawn(HOLD_RANDOM, &[path.as_os_str(), "200".as_ref()]);
    let link = PathBuf::from(format!("/proc/{}/fd/{}", holder.pid, fd_of(&holder)));
    let original = sha256(&link);
    let dest = dest_fs.dir.join("copy.bin");
    let child = Command::new(rlsof_binary())
        .arg("--recover")
        .arg(format!("{}:{}", holder.pid, fd_of(&holder)))
        .arg("--to")
        .arg(&dest)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn rlsof");
    std::thread::sleep(Duration::from_millis(40));
    let _ = holder.child.kill();
    let _ = holder.child.wait();
    let out = child.wait_with_output().expect("wait for rlsof");
    let what = format!(
        "{:?}\n{}{}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
    if out.status.success() {
        assert_eq!(sha256(&dest), original, "{what}");
    } else {
        assert!(!dest.exists(), "{what}");
        let stderr = text(&out.stderr);
        let gone = stderr.contains("no such process") || stderr.contains(" has no fd ");
        assert!(gone, "{what}");
    }
}
