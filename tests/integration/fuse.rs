//! Never hang: a FUSE file system whose daemon stops answering (its
//! getattr never returns) must not stop the listing. rlsof gives up on the
//! file after the `-S` timeout, says so in its row, and lists the rest.
//!
//! The daemon is tests/fixture/fuse_hang.py, which speaks the FUSE protocol
//! over /dev/fuse itself (no libfuse). Skipped, with a message, where
//! /dev/fuse is missing or the mount is refused.

use crate::common;
use crate::common::need::{cannot_run, need};
use std::ffi::CString;
use std::io::{BufRead, BufReader};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

const TIMEOUT_SECS: u64 = 2;
/// `-S` for the tests the kernel path answers at once: a run that waited
/// on the daemon takes at least this long; one that did not may still
/// take seconds in a kernel matrix VM under TCG (`RLSOF_TEST_SLOWDOWN`,
/// which the guest sets; 1 elsewhere).
fn at_once_timeout_secs() -> u64 {
    let slowdown = std::env::var("RLSOF_TEST_SLOWDOWN")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(1);
    TIMEOUT_SECS * slowdown.max(1)
}

/// Time allowed beyond the timeout for listing the whole machine.
const SLACK: Duration = Duration::from_secs(10);

/// The mounted file system, its daemon and the process holding a file
/// there. Dropping it detaches the mount first (so nothing new can block
/// on it), then kills the daemon (which fails what is still waiting).
struct StuckMount {
    dir: PathBuf,
    mount_point: PathBuf,
    daemon: Child,
    holder: Option<Child>,
}

impl Drop for StuckMount {
    fn drop(&mut self) {
        if let Ok(c) = CString::new(self.mount_point.as_os_str().as_bytes()) {
            // SAFETY: a valid path; MNT_DETACH never blocks on the daemon.
            unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) };
        }
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
        if let Some(holder) = &mut self.holder {
            let _ = holder.kill();
            let _ = holder.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Mounts the file system; None (see [`need`]) where this machine cannot.
fn mount(tag: &str) -> Option<StuckMount> {
    if !need(Path::new("/dev/fuse").exists(), "/dev/fuse is missing") {
        return None;
    }
    let dir = std::env::temp_dir().join(format!("rlsof-fuse-{}-{tag}", std::process::id()));
    let mount_point = dir.join("mnt");
    std::fs::create_dir_all(&mount_point).expect("create the mount point");
    let ready = dir.join("ready");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixture/fuse_hang.py");
    let daemon = Command::new("python3")
        .arg(script)
        .arg(&mount_point)
        .arg(&ready)
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start python3");
    let mut mounted = StuckMount {
        dir,
        mount_point,
        daemon,
        holder: None,
    };
    let started = Instant::now();
    while !ready.exists() {
        if let Ok(Some(_)) = mounted.daemon.try_wait() {
            let mut why = String::new();
            if let Some(mut err) = mounted.daemon.stderr.take() {
                let _ = std::io::Read::read_to_string(&mut err, &mut why);
            }
            cannot_run(&format!("the FUSE mount was refused: {}", why.trim()));
            return None;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the FUSE daemon never mounted"
        );
        thread::sleep(Duration::from_millis(20));
    }
    Some(mounted)
}

/// Starts a process that opens `file` (while the daemon still answers)
/// and holds it; returns once it has.
fn hold(file: &Path) -> Child {
    let code =
        "import sys, time\nf = open(sys.argv[1])\nprint('held', flush=True)\ntime.sleep(3600)\n";
    start_holder(code, &[file], &format!("open {file:?}"))
}

/// Runs python3 `code` with `args`, and returns once it prints "held";
/// `what` says what it could not do otherwise.
fn start_holder(code: &str, args: &[&Path], what: &str) -> Child {
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(code)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the holder");
    let mut line = String::new();
    if let Some(out) = child.stdout.take() {
        let _ = BufReader::new(out).read_line(&mut line);
    }
    assert_eq!(line.trim(), "held", "the holder could not {what}");
    child
}

/// As root, a stuck mount with a file held open on it: mounts, starts a
/// process holding `held` (while the daemon still answers), then makes
/// the daemon read requests and answer none. The mount, the held file's
/// path and the holder's PID; None where the test cannot run here.
fn stuck_with_a_held_file(tag: &str) -> Option<(StuckMount, PathBuf, u32)> {
    if !common::require_root() {
        return None;
    }
    let mut mounted = mount(tag)?;
    let held = mounted.mount_point.join("held");
    let holder = hold(&held);
    let holder_pid = holder.id();
    mounted.holder = Some(holder);
    // From now on the daemon reads requests and answers none.
    // SAFETY: signalling our own child.
    unsafe { libc::kill(mounted.daemon.id() as i32, libc::SIGUSR1) };
    Some((mounted, held, holder_pid))
}

#[test]
fn stuck_fuse_file_does_not_stop_the_listing() {
    let _alone = crate::common::machine::alone();
    let Some((_mounted, held, holder_pid)) = stuck_with_a_held_file("timeout") else {
        return;
    };
    let mut bystander = Command::new("sleep")
        .arg("3600")
        .spawn()
        .expect("start sleep");

    let started = Instant::now();
    let timeout = TIMEOUT_SECS.to_string();
    // The /proc path, stat'ing as lsof does (the kernel's, which stats no
    // such file, has its own test below).
    let out = common::run_with_env(
        common::rlsof(),
        &["-S", &timeout, "-n", "-P"],
        &[("RLSOF_NO_BPF", "1")],
    );
    let elapsed = started.elapsed();
    let _ = bystander.kill();
    let _ = bystander.wait();

    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status, "exit 0", "stderr:\n{stderr}");
    assert!(
        elapsed < Duration::from_secs(TIMEOUT_SECS) + SLACK,
        "the listing took {elapsed:?} with -S {TIMEOUT_SECS}"
    );
    let row = format!("{} (stat: Connection timed out)", held.display());
    let holder_row = stdout
        .lines()
        .find(|l| l.contains(&row))
        .unwrap_or_else(|| panic!("no row says {row:?}:\n{stdout}"));
    let fields: Vec<&str> = holder_row.split_whitespace().collect();
    assert_eq!(fields.get(1), Some(&holder_pid.to_string().as_str()));
    assert!(fields.contains(&"unknown"), "row: {holder_row}");
    let bystander_pid = bystander.id().to_string();
    assert!(
        stdout
            .lines()
            .any(|l| l.split_whitespace().nth(1) == Some(bystander_pid.as_str())),
        "the other processes are missing"
    );
    assert!(
        stderr.contains("WARNING: can't stat() fuse.hangfs file system"),
        "stderr: {stderr}"
    );
}

#[test]
fn avoid_blocking_skips_the_stuck_file_at_once() {
    let _alone = crate::common::machine::alone();
    let Some((_mounted, held, holder_pid)) = stuck_with_a_held_file("avoid") else {
        return;
    };
    let pid = holder_pid.to_string();
    let started = Instant::now();
    // The /proc path (the kernel's stats no such file at all: below).
    let out = common::run_with_env(
        common::rlsof(),
        &["-b", "-a", "-p", &pid, "-d", "3"],
        &[("RLSOF_NO_BPF", "1")],
    );
    assert!(started.elapsed() < Duration::from_secs(TIMEOUT_SECS));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let row = format!(
        "{} (stat: Resource temporarily unavailable)",
        held.display()
    );
    assert!(stdout.contains(&row), "stdout:\n{stdout}");
}

#[test]
fn exempt_file_system_is_never_stat_ed() {
    let _alone = crate::common::machine::alone();
    let Some((mounted, held, holder_pid)) = stuck_with_a_held_file("exempt") else {
        return;
    };
    let pid = holder_pid.to_string();
    let mount_point = mounted.mount_point.to_string_lossy().into_owned();
    let started = Instant::now();
    let out = common::run(
        common::rlsof(),
        &["-e", &mount_point, "-a", "-p", &pid, "-d", "3"],
    );
    assert!(
        started.elapsed() < Duration::from_secs(TIMEOUT_SECS),
        "an exempt file system was waited for"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let row = format!("{} (-e {mount_point})", held.display());
    assert!(
        stdout
            .lines()
            .any(|l| l.contains("UNKNfd") && l.contains("UNKNOWN") && l.contains(&row)),
        "stdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn name_on_a_stuck_file_system_times_out() {
    let _alone = crate::common::machine::alone();
    let Some((_mounted, held, _)) = stuck_with_a_held_file("name") else {
        return;
    };
    let held_text = held.to_string_lossy().into_owned();
    let started = Instant::now();
    let timeout = TIMEOUT_SECS.to_string();
    let out = common::run(common::rlsof(), &["-S", &timeout, &held_text]);
    let elapsed = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        elapsed < Duration::from_secs(TIMEOUT_SECS) + SLACK,
        "took {elapsed:?}; stderr:\n{stderr}"
    );
    assert_eq!(out.status, "exit 1");
    assert!(
        stderr.contains(&format!(
            "status error on {held_text}: Connection timed out"
        )),
        "stderr:\n{stderr}"
    );
}

/// The exporter: a scrape is bounded by `-S` too, scrape after scrape,
/// and a mount that stopped answering does not stop it serving.
#[test]
fn stuck_fuse_file_does_not_stall_a_scrape() {
    let _alone = crate::common::machine::alone();
    let Some((_mounted, _, _)) = stuck_with_a_held_file("serve") else {
        return;
    };
    let timeout = TIMEOUT_SECS.to_string();
    let exporter = crate::fleet::fixture::Exporter::start(
        &[],
        &["--serve", "0", "--cache-age", "0", "-S", &timeout],
    );
    for _ in 0..2 {
        let started = Instant::now();
        let (status, body) = crate::fleet::fixture::get(exporter.addr, "/metrics");
        let elapsed = started.elapsed();
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("rlsof_scrape_duration_seconds"));
        assert!(
            elapsed < Duration::from_secs(TIMEOUT_SECS) + SLACK,
            "the scrape took {elapsed:?} with -S {TIMEOUT_SECS}"
        );
    }
    assert_eq!(exporter.stop().code(), Some(0));
}

/// As root, with the kernel listing, a file on a FUSE mount whose daemon
/// no longer answers is described from the kernel's inode at once: no
/// stat reaches the daemon, so no `-S` wait (DIVERGENCES.md). Without the
/// kernel's help (`RLSOF_NO_BPF=1`) its stat times out, as lsof's does.
#[test]
fn stuck_fuse_file_is_described_at_once_from_the_kernel() {
    let secs = at_once_timeout_secs();
    let _alone = crate::common::machine::alone();
    if !crate::kernel_listing::listing_expected() {
        eprintln!("skipped: the kernel listing does not load on this kernel");
        return;
    }
    let Some((_mounted, held, holder_pid)) = stuck_with_a_held_file("kernel") else {
        return;
    };
    let pid = holder_pid.to_string();
    let timeout = secs.to_string();
    let args = ["-S", &timeout, "-n", "-P", "-a", "-p", &pid, "-d", "3"];
    let started = Instant::now();
    // The stuck mount makes rlsof load the listing at once (its mount
    // point is not stat'ed either), with or without the knob.
    let out = common::run_with_env(common::rlsof(), &args, &[("RLSOF_DEBUG", "1")]);
    let elapsed = started.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("descriptors: the kernel (rlsof_listing)"),
        "{stderr}"
    );
    assert!(
        elapsed < Duration::from_secs(secs),
        "waited {elapsed:?}:\n{stdout}\n{stderr}"
    );
    assert_eq!(out.status, "exit 0", "{stderr}");
    let row = stdout
        .lines()
        .find(|l| l.ends_with(&*held.to_string_lossy()))
        .unwrap_or_else(|| panic!("no row for {held:?}:\n{stdout}"))
        .to_string();
    let fields: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(
        (fields[1], fields[3], fields[4]),
        (pid.as_str(), "3r", "REG"),
        "{row}"
    );
    let inode = fields[7].parse::<u64>().expect("NODE");
    assert!(inode > 0, "{row}");

    // The whole machine too: nothing waits on the daemon.
    let started = Instant::now();
    let out = common::run(common::rlsof(), &["-S", &timeout, "-n", "-P"]);
    let elapsed = started.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(elapsed < Duration::from_secs(secs), "{elapsed:?}");
    let words = |l: &str| l.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        stdout.lines().any(|l| words(l) == words(&row)),
        "no {row:?}"
    );

    let started = Instant::now();
    let out = common::run_with_env(common::rlsof(), &args, &[("RLSOF_NO_BPF", "1")]);
    assert!(started.elapsed() >= Duration::from_secs(secs));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let timed_out = format!("{} (stat: Connection timed out)", held.display());
    assert!(stdout.contains(&timed_out), "{stdout}");
}

/// A process whose working directory is `dir` and which maps `file`
/// (its descriptor closed: only the mapping holds it); returns once it
/// does.
fn hold_mapped_in(dir: &Path, file: &Path) -> Child {
    let code = "import mmap, os, sys, time\n\
        f = open(sys.argv[2], 'rb')\n\
        m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)\n\
        f.close()\n\
        os.chdir(sys.argv[1])\n\
        print('held', flush=True)\n\
        time.sleep(3600)\n";
    start_holder(code, &[dir, file], &format!("map {file:?}"))
}

/// A working directory and a mapped file on the stuck mount: as root
/// where the kernel lists descriptors, both are stat'ed from the
/// attributes the kernel caches (statx's AT_STATX_DONT_SYNC, through the
/// /proc links), at once; without the kernel's help they wait `-S`.
#[test]
fn stuck_fuse_cwd_and_mapping_are_described_at_once_from_the_kernel() {
    let secs = at_once_timeout_secs();
    let _alone = crate::common::machine::alone();
    if !crate::kernel_listing::listing_expected() {
        eprintln!("skipped: the kernel listing does not load on this kernel");
        return;
    }
    if !common::require_root() {
        return;
    }
    let Some(mut mounted) = mount("cwdmap") else {
        return;
    };
    let held = mounted.mount_point.join("held");
    let holder = hold_mapped_in(&mounted.mount_point, &held);
    let pid = holder.id().to_string();
    mounted.holder = Some(holder);
    // SAFETY: signalling our own child.
    unsafe { libc::kill(mounted.daemon.id() as i32, libc::SIGUSR1) };
    let timeout = secs.to_string();
    let args = [
        "-S", &timeout, "-n", "-P", "-a", "-p", &pid, "-d", "cwd,mem",
    ];
    let started = Instant::now();
    let out = common::run(common::rlsof(), &args);
    let elapsed = started.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        elapsed < Duration::from_secs(secs),
        "waited {elapsed:?}:\n{stdout}"
    );
    assert_eq!(out.status, "exit 0", "{stdout}");
    let row = |fd: &str, name: &Path| -> Vec<String> {
        let name = name.to_string_lossy();
        let line = stdout
            .lines()
            .find(|l| l.split_whitespace().nth(3) == Some(fd) && l.ends_with(&*name))
            .unwrap_or_else(|| panic!("no {fd} row for {name}:\n{stdout}"));
        line.split_whitespace().map(str::to_string).collect()
    };
    // The daemon's attributes: the root directory is node 1, "held"
    // node 2 of 22 bytes.
    let cwd = row("cwd", &mounted.mount_point);
    assert_eq!((cwd[4].as_str(), cwd[7].as_str()), ("DIR", "1"), "{cwd:?}");
    let mem = row("mem", &held);
    assert_eq!(
        (mem[4].as_str(), mem[6].as_str(), mem[7].as_str()),
        ("REG", "22", "2"),
        "{mem:?}"
    );

    let started = Instant::now();
    let out = common::run_with_env(common::rlsof(), &args, &[("RLSOF_NO_BPF", "1")]);
    assert!(started.elapsed() >= Duration::from_secs(secs));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("(stat: Connection timed out)"), "{stdout}");
}
