//! Guards the speed design: rlsof pays three system calls per regular
//! file (readlinkat, fstatat and the lstat that gives the access mode) and
//! two per pipe or socket (their link text names the inode; see
//! src/scan/pseudo.rs), where lsof 4.95 pays about nine and lsfd about nine.
//!
//! The count per file is the *marginal* one: each tool is traced (`strace
//! -f -c`) on a small fixture and on a large one, and the difference in
//! system calls is divided by the difference in descriptors. That cancels
//! the fixed start-up costs (loading, reading mount and socket tables,
//! lsof closing every possible descriptor), which depend on the machine and
//! not on the design. Both fixtures hold a pipe and a socket pair, so both
//! runs read the socket tables, whose size is the machine's.
//!
//! Needs `strace` (Debian package `strace`) and `python3`; skipped with a
//! message when either is missing or ptrace is not permitted.

use crate::common::need::{cannot_run, need};
use crate::common::require_root;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// Regular files, then pipes and socket pairs (50 descriptors), in the large fixture.
const REGULAR_FILES: usize = 200;
const PIPES: usize = 13;
const SOCKET_PAIRS: usize = 12;

/// Measured 2.70 on this mix (Linux 6.18: 200 files at 3, 48 pipe and
/// socket ends at 2, less the directory listing); lsof 4.95 measures 8.0
/// to 9.4, lsfd 9.1. The headroom is
/// for a noisy count, but reading fdinfo again for pipes and sockets
/// (+0.8), or fdinfo or a second stat for regular files, breaks it.
const MAX_CALLS_PER_FILE: f64 = 3.4;

/// Holds `regular` files in `dir` (the i-th at offset i), and pipes and
/// socket pairs; prints its pid when ready and exits when its stdin closes.
const FIXTURE: &str = r#"
import os, socket, sys
d, regular, pipes, pairs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
kept = [open(os.path.join(d, "f%d" % i), "w") for i in range(regular)]
for i, f in enumerate(kept):
    f.write("x" * i)
    f.flush()
kept += [os.pipe() for _ in range(pipes)]
kept += [socket.socketpair() for _ in range(pairs)]
print(os.getpid(), flush=True)
sys.stdin.read()
"#;

/// A fixture process, killed and its directory removed when dropped.
pub(super) struct Fixture {
    child: Child,
    dir: PathBuf,
}

impl Fixture {
    pub(super) fn start(name: &str, regular: usize, pipes: usize, pairs: usize) -> Fixture {
        Fixture::start_as(None, name, regular, pipes, pairs)
    }

    /// The same, run as user `uid` when given (then it holds no regular
    /// file: the directory is not the user's).
    fn start_as(
        uid: Option<u32>,
        name: &str,
        regular: usize,
        pipes: usize,
        pairs: usize,
    ) -> Fixture {
        let dir =
            std::env::temp_dir().join(format!("rlsof-syscalls-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create fixture dir");
        let mut command = Command::new("python3");
        if let Some(uid) = uid {
            std::os::unix::process::CommandExt::uid(&mut command, uid);
            std::os::unix::process::CommandExt::gid(&mut command, uid);
        }
        let mut child = command
            .args(["-c", FIXTURE])
            .arg(&dir)
            .args([regular, pipes, pairs].map(|n| n.to_string()))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            // Not the test's stderr: a log file growing as tests write to
            // it would differ between two listings.
            .stderr(Stdio::null())
            .spawn()
            .expect("start python3 fixture");
        let mut line = String::new();
        if let Some(out) = child.stdout.take() {
            let _ = BufReader::new(out).read_line(&mut line);
        }
        let fixture = Fixture { child, dir };
        assert!(
            line.trim().parse::<u32>().is_ok(),
            "fixture did not print its pid (got {line:?})"
        );
        fixture
    }

    pub(super) fn pid(&self) -> u32 {
        self.child.id()
    }

    pub(super) fn descriptors(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid()))
            .map(|d| d.count())
            .unwrap_or(0)
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// One traced run: the system calls counted and the lines printed.
pub(super) struct Traced {
    pub(super) calls: u64,
    pub(super) lines: usize,
}

/// The `calls` of the `total` row of an `strace -c` summary:
///
/// ```text
/// % time     seconds  usecs/call     calls    errors syscall
/// ------ ----------- ----------- --------- --------- ----------------
///  57.78    0.032775       32775         1           wait4
/// 100.00    0.056728           2     24250     20065 total
/// ```
///
/// The errors column may be blank, so `calls` is found from the left.
fn total_calls(summary: &str) -> Option<u64> {
    row_calls(summary, "total")
}

/// The `calls` of the summary row named `name` (a system call, or `total`).
fn row_calls(summary: &str, name: &str) -> Option<u64> {
    summary.lines().find_map(|line| {
        let cols: Vec<&str> = line.split_whitespace().collect();
        if cols.len() >= 5 && cols.last() == Some(&name) && cols[0].parse::<f64>().is_ok() {
            cols[3].parse().ok()
        } else {
            None
        }
    })
}

fn trace(program: &Path, args: &[String], env: &[(&str, &str)], report: &Path) -> Traced {
    let out = Command::new("strace")
        .args(["-f", "-c", "-o"])
        .arg(report)
        .arg(program)
        .args(args)
        .envs(env.iter().copied())
        .stderr(Stdio::null())
        .output()
        .expect("run strace");
    let summary = std::fs::read_to_string(report).unwrap_or_default();
    let calls = total_calls(&summary)
        .unwrap_or_else(|| panic!("no total in strace summary of {program:?}:\n{summary}"));
    Traced {
        calls,
        lines: out
            .stdout
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .count(),
    }
}

/// System calls per extra descriptor between the small and large fixture.
pub(super) fn marginal(
    program: &Path,
    small: &Fixture,
    large: &Fixture,
    env: &[(&str, &str)],
    report: &Path,
) -> (f64, Traced) {
    let args = |f: &Fixture| vec!["-p".to_string(), f.pid().to_string()];
    let s = trace(program, &args(small), env, report);
    let l = trace(program, &args(large), env, report);
    let extra_fds = large
        .descriptors()
        .saturating_sub(small.descriptors())
        .max(1);
    let per_file = l.calls.saturating_sub(s.calls) as f64 / extra_fds as f64;
    eprintln!(
        "{:<24} small {:>6} calls, large {:>6} calls, {:>4} extra fds: {per_file:.2} calls per file",
        program.display(),
        s.calls,
        l.calls,
        extra_fds
    );
    (per_file, l)
}

pub(super) fn have(program: &str, probe: &[&str]) -> bool {
    Command::new(program)
        .args(probe)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

#[test]
fn strace_summary_total_is_parsed() {
    let _alone = crate::common::machine::alone();
    let summary = "\
% time     seconds  usecs/call     calls    errors syscall
------ ----------- ----------- --------- --------- ----------------
 57.78    0.032775       32775         1           wait4
 25.22    0.014305           0     20386     19992 close
------ ----------- ----------- --------- --------- ----------------
100.00    0.056728           2     24250     20065 total
";
    assert_eq!(total_calls(summary), Some(24250));
    let no_errors = "100.00    0.000901           5       153           total\n";
    assert_eq!(total_calls(no_errors), Some(153));
    assert_eq!(
        total_calls("strace: ptrace(PTRACE_TRACEME): Operation not permitted\n"),
        None
    );
}

#[test]
fn system_calls_per_open_file_stay_near_the_floor() {
    let _alone = crate::common::machine::alone();
    if !have("strace", &["-c", "-o", "/dev/null", "true"]) {
        cannot_run("strace is missing or may not trace here (Debian package: strace)");
        return;
    }
    if !have("python3", &["-c", ""]) {
        cannot_run("python3 is missing");
        return;
    }
    let small = Fixture::start("small", 0, 1, 1);
    let large = Fixture::start("large", REGULAR_FILES, PIPES, SOCKET_PAIRS);
    let report = std::env::temp_dir().join(format!("rlsof-syscalls-{}.strace", std::process::id()));

    for other in ["/usr/bin/lsof", "/usr/bin/lsfd"] {
        if Path::new(other).exists() {
            marginal(Path::new(other), &small, &large, &[], &report);
        }
    }
    let rlsof = Path::new(env!("CARGO_BIN_EXE_rlsof"));
    // The /proc path, every user's (as root the kernel lists the
    // descriptors: kernel_listing.rs).
    let no_bpf = [("RLSOF_NO_BPF", "1")];
    let (per_file, listed) = marginal(rlsof, &small, &large, &no_bpf, &report);
    let _ = std::fs::remove_file(&report);

    let wanted_rows = REGULAR_FILES + 2 * (PIPES + SOCKET_PAIRS);
    assert!(
        listed.lines > wanted_rows,
        "rlsof -p {} printed {} lines for a process holding {} descriptors: \
         a count of system calls means nothing if the files are not listed",
        large.pid(),
        listed.lines,
        wanted_rows
    );
    assert!(
        per_file <= MAX_CALLS_PER_FILE,
        "rlsof spends {per_file:.2} system calls per open file (bound {MAX_CALLS_PER_FILE}); \
         see docs/ARCHITECTURE.md and bench/RESULTS.md"
    );
}

/// Whether rlsof's BPF iterators run here and strace can watch them (root,
/// kernel BTF, a kernel that accepts the program, strace and python3);
/// says why not when they do not.
pub(super) fn kernel_iterators_testable() -> bool {
    if !require_root()
        || !need(
            Path::new("/sys/kernel/btf/vmlinux").exists(),
            "no kernel BTF",
        )
    {
        return false;
    }
    if !have("strace", &["-c", "-o", "/dev/null", "true"]) || !have("python3", &["-c", ""]) {
        cannot_run("strace or python3 is missing");
        return false;
    }
    let me = std::process::id() as i32;
    if rlsof::bpf::held_sockets(&[me], 1).is_none() {
        let why = "this kernel refuses rlsof's BPF iterator (seccomp, lockdown, PID namespace)";
        if std::env::var_os("RLSOF_EXPECT_PROGRAMS").is_some() {
            // The kernel matrix: which programs must load on which kernel
            // is the smoke set's check (kernel_smoke.rs), not this one's.
            eprintln!("not on this kernel: {why}");
        } else {
            cannot_run(why);
        }
        return false;
    }
    true
}

/// `-i :PORT` as root, where the kernel runs the iterator: the processes that hold
/// a socket on the port are found by the BPF iterator (src/bpf), so the
/// links of a process holding 200 files and no such socket are not read;
/// with `RLSOF_NO_BPF=1` they are. Both runs list the same.
#[test]
fn socket_holders_are_found_without_reading_every_link() {
    let _alone = crate::common::machine::alone();
    if !kernel_iterators_testable() {
        return;
    }
    let large = Fixture::start("bpf", REGULAR_FILES, PIPES, SOCKET_PAIRS);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    let rlsof = env!("CARGO_BIN_EXE_rlsof");
    let run = |no_bpf: bool| {
        let report =
            std::env::temp_dir().join(format!("rlsof-bpf-{}-{no_bpf}.strace", std::process::id()));
        let mut command = Command::new("strace");
        command
            .args(["-f", "-c", "-o"])
            .arg(&report)
            .args([rlsof, "-n", "-P", "-i", &format!(":{port}")])
            .stderr(Stdio::null());
        if no_bpf {
            command.env("RLSOF_NO_BPF", "1");
        }
        let out = command.output().expect("run strace");
        let summary = std::fs::read_to_string(&report).unwrap_or_default();
        let _ = std::fs::remove_file(&report);
        (row_calls(&summary, "readlinkat").unwrap_or(0), out.stdout)
    };
    let (links_read, listed) = run(false);
    let (links_without, listed_without) = run(true);
    eprintln!("readlinkat: {links_read} with the iterator, {links_without} without");
    assert_eq!(listed, listed_without, "the two ways list differently");
    let text = String::from_utf8_lossy(&listed);
    assert!(
        text.contains(&format!("127.0.0.1:{port} (LISTEN)")),
        "our listener is not listed:\n{text}"
    );
    assert!(
        links_without >= large.descriptors() as u64,
        "without the iterator every link is read ({links_without})"
    );
    assert!(
        links_read < REGULAR_FILES as u64,
        "with the iterator {links_read} links were read: the fixture's {} were not skipped",
        large.descriptors()
    );
}

/// Runs rlsof with `args` (and these variables) under `strace -f -y -e
/// trace=openat`: its output, and strace's report of the files it opened
/// (with `-y`, a file opened relative to a directory names it:
/// `openat(6</proc/PID/fdinfo>, "12", ...)`).
fn rlsof_opening(args: &[&str], env: &[(&str, &str)]) -> (std::process::Output, String) {
    static RUN: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let run = RUN.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let report =
        std::env::temp_dir().join(format!("rlsof-opens-{}-{run}.strace", std::process::id()));
    let traced = Command::new("strace")
        .args(["-f", "-y", "-e", "trace=openat", "-o"])
        .arg(&report)
        .arg(env!("CARGO_BIN_EXE_rlsof"))
        .args(args)
        .envs(env.iter().copied())
        .stderr(Stdio::null())
        .output()
        .expect("run strace");
    let opens = std::fs::read_to_string(&report).unwrap_or_default();
    let _ = std::fs::remove_file(&report);
    (traced, opens)
}

/// Field output and JSON as root on a machine with many sockets
/// (`RLSOF_SOCKET_BATCH` makes this one count as such): the kernel
/// describes each process's sockets as the process is scanned
/// (src/scan/kernel_sockets.rs), and no socket table is read for the
/// listing (only the program's check at load reads each table once, for
/// rlsof's own probe sockets); the listing is the one the tables give
/// (`RLSOF_NO_BPF=1`), and lsof's.
#[test]
fn field_output_reads_no_socket_table_where_the_kernel_describes_sockets() {
    let _alone = crate::common::machine::alone();
    if !kernel_iterators_testable() {
        return;
    }
    let first = Fixture::start("described-a", 3, 2, SOCKET_PAIRS);
    let second = Fixture::start("described-b", 3, 2, SOCKET_PAIRS);
    let pids = format!("{},{}", first.pid(), second.pid());
    let rlsof = env!("CARGO_BIN_EXE_rlsof");
    for output in ["-F", "-J", "-j"] {
        let args = ["-n", "-P", output, "-p", &pids];
        let (traced, opens) = rlsof_opening(&args, &[("RLSOF_SOCKET_BATCH", "8")]);
        let tables: Vec<&str> = opens
            .lines()
            .filter(|l| l.contains("/net/") && !l.contains("/net/sockstat"))
            .collect();
        // The program's check at load compares its description of rlsof's
        // own probe sockets with the tables (keeping only those sockets):
        // one reading of a table each. Batches of 8 would read the UNIX
        // table once per batch, and the listing reads none.
        let mut readings: std::collections::BTreeMap<&str, usize> = Default::default();
        for line in &tables {
            let table = line.split('"').nth(1).unwrap_or(line);
            *readings.entry(table).or_default() += 1;
        }
        assert!(
            readings.values().all(|&n| n <= 1),
            "{output}: tables read more than once:\n{}",
            tables.join("\n")
        );
        let whole = Command::new(rlsof)
            .args(args)
            .env("RLSOF_NO_BPF", "1")
            .output()
            .expect("run rlsof");
        let text = String::from_utf8_lossy(&whole.stdout);
        assert_eq!(String::from_utf8_lossy(&traced.stdout), text, "{output}");
        if output == "-F" {
            assert_two_fixtures_listed_as_lsof_lists_them(&text, &args);
        }
    }
}

/// Field output as root where the kernel runs the iterator but does not
/// describe sockets (`RLSOF_SOCKET_TABLES=1` stands for a kernel that
/// refuses that program): sockets are described a batch of processes at a
/// time (src/scan/batches.rs). With batches of 8 sockets, two processes
/// holding 24 each are two batches, so the UNIX table is read twice, each
/// time keeping one process's sockets; the listing is the one whole
/// tables give (`RLSOF_NO_BPF=1`), and lsof's.
#[test]
fn field_output_reads_socket_tables_per_batch_of_processes() {
    let _alone = crate::common::machine::alone();
    if !kernel_iterators_testable() {
        return;
    }
    let first = Fixture::start("batch-a", 3, 2, SOCKET_PAIRS);
    let second = Fixture::start("batch-b", 3, 2, SOCKET_PAIRS);
    let pids = format!("{},{}", first.pid(), second.pid());
    let args = ["-n", "-P", "-F", "-p", &pids];
    let rlsof = env!("CARGO_BIN_EXE_rlsof");
    let batches = [("RLSOF_SOCKET_BATCH", "8"), ("RLSOF_SOCKET_TABLES", "1")];
    let (traced, opens) = rlsof_opening(&args, &batches);
    let unix_reads = opens.lines().filter(|l| l.contains("/net/unix\"")).count();
    assert_eq!(
        unix_reads, 2,
        "the UNIX table read once per batch:\n{opens}"
    );
    let whole = Command::new(rlsof)
        .args(args)
        .env("RLSOF_NO_BPF", "1")
        .output()
        .expect("run rlsof");
    assert_eq!(
        String::from_utf8_lossy(&traced.stdout),
        String::from_utf8_lossy(&whole.stdout),
        "batches list otherwise than whole tables"
    );
    let text = String::from_utf8_lossy(&whole.stdout);
    assert_two_fixtures_listed_as_lsof_lists_them(&text, &args);
}

/// `text`, the `-F` listing of two fixtures of SOCKET_PAIRS socket pairs
/// (`args`), shows their four UNIX sockets a pair, and is lsof's.
fn assert_two_fixtures_listed_as_lsof_lists_them(text: &str, args: &[&str]) {
    assert_eq!(
        text.matches("\ntunix\n").count(),
        4 * SOCKET_PAIRS,
        "{text}"
    );
    if have("lsof", &["-v"]) {
        let lsof = Command::new("lsof").args(args).output().expect("run lsof");
        assert_eq!(
            text,
            String::from_utf8_lossy(&lsof.stdout),
            "lsof lists otherwise"
        );
    }
}

/// Offsets and flags as root: the kernel's walk of a process's
/// descriptors (src/bpf/files.rs) gives what fdinfo's first lines give.
/// A listing asks for it once it has read 2,000 fdinfo files (loading the
/// program costs about that much), so with three processes of 750 files
/// listed first, `-F` and `+fg` read no fdinfo file of the fourth; all four
/// are listed as reading every fdinfo lists them (`RLSOF_NO_BPF=1`), and as
/// lsof does.
#[test]
fn offsets_and_flags_come_from_the_kernel_without_fdinfo() {
    let _alone = crate::common::machine::alone();
    if !kernel_iterators_testable() {
        return;
    }
    let me = std::process::id();
    let holders: Vec<Fixture> = (0..4)
        .map(|i| Fixture::start(&format!("positions{i}"), 750, 2, 2))
        .collect();
    let last = holders.iter().map(Fixture::pid).max().expect("holders");
    let pids: Vec<String> = holders.iter().map(|h| h.pid().to_string()).collect();
    let pids = pids.join(",");
    let rlsof = env!("CARGO_BIN_EXE_rlsof");
    for args in [
        vec!["-n", "-P", "-F", "-p", &pids],
        vec!["-n", "-P", "+fg", "-p", &pids],
    ] {
        let (traced, opens) = rlsof_opening(&args, &[]);
        let fdinfo_of = |pid: u32| {
            let dir = format!("</proc/{pid}/fdinfo>, \"");
            opens.lines().filter(|l| l.contains(&dir)).count()
        };
        // Once a listing has read enough, the kernel gives positions and
        // flags: the listing program (kernel_listing.rs) where it loads,
        // the files program otherwise.
        let first = holders.iter().map(Fixture::pid).min().expect("holders");
        let read: Vec<(u32, usize)> = holders
            .iter()
            .map(|h| (h.pid(), fdinfo_of(h.pid())))
            .collect();
        assert!(
            fdinfo_of(first) >= 750 || listing_loaded_up_front(first),
            "{args:?}: the first holder's fdinfo is read (fdinfo files opened, by holder: {read:?})"
        );
        assert_eq!(
            fdinfo_of(last),
            0,
            "{args:?}: fdinfo files of the last holder read"
        );
        let from_proc = Command::new(rlsof)
            .args(&args)
            .env("RLSOF_NO_BPF", "1")
            .output()
            .expect("run rlsof");
        let text = String::from_utf8_lossy(&from_proc.stdout);
        assert_eq!(String::from_utf8_lossy(&traced.stdout), text, "{args:?}");
        assert!(
            text.matches(&format!("rlsof-syscalls-{me}-positions3"))
                .count()
                >= 750
        );
        if have("lsof", &["-v"]) {
            let lsof = Command::new("lsof").args(&args).output().expect("run lsof");
            assert_eq!(
                text,
                String::from_utf8_lossy(&lsof.stdout),
                "{args:?}: lsof differs"
            );
        }
    }
}

/// Whether rlsof loads the listing program before it reads any process:
/// on a machine with a mount whose `stat` may block (the kernel matrix's
/// 9p root), so that no mount point there is stat'ed
/// (src/scan/resolve/mod.rs). Told by listing `pid` alone, whose
/// descriptors are too few to make the program worth loading otherwise.
fn listing_loaded_up_front(pid: u32) -> bool {
    let out = Command::new(env!("CARGO_BIN_EXE_rlsof"))
        .args(["-n", "-P", "-F", "-p", &pid.to_string()])
        .env("RLSOF_DEBUG", "1")
        .output()
        .expect("run rlsof");
    String::from_utf8_lossy(&out.stderr).contains("rlsof_listing: loaded")
}

/// Without root there is no iterator: which sockets a process holds comes
/// from its descriptors' links (a user's own processes'), read once more
/// before the batch is scanned. As user nobody, with batches of 8 sockets,
/// two processes holding 24 each are two batches: the UNIX table is read
/// twice, and the listing is what whole tables give, and lsof's.
#[test]
fn without_root_socket_tables_are_read_per_batch_too() {
    let _alone = crate::common::machine::alone();
    const NOBODY: u32 = 65534;
    // Root runs processes as another user.
    if !require_root() {
        return;
    }
    if !have("strace", &["-c", "-o", "/dev/null", "true"]) || !have("python3", &["-c", ""]) {
        cannot_run("strace or python3 is missing");
        return;
    }
    let runs_as_nobody = {
        let mut probe = Command::new("python3");
        std::os::unix::process::CommandExt::uid(&mut probe, NOBODY);
        std::os::unix::process::CommandExt::gid(&mut probe, NOBODY);
        probe.args(["-c", ""]).stderr(Stdio::null()).status()
    };
    if !runs_as_nobody.is_ok_and(|s| s.success()) {
        cannot_run("user nobody (65534) cannot run python3 here");
        return;
    }
    let me = std::process::id();
    // A copy of rlsof and a place for strace's report that nobody can use.
    let shared = std::env::temp_dir().join(format!("rlsof-nobody-{me}"));
    std::fs::create_dir_all(&shared).expect("create dir");
    let set_mode = |path: &Path, mode: u32| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    };
    set_mode(&shared, 0o777);
    let rlsof = shared.join("rlsof");
    std::fs::copy(env!("CARGO_BIN_EXE_rlsof"), &rlsof).expect("copy rlsof");
    set_mode(&rlsof, 0o755);
    let first = Fixture::start_as(Some(NOBODY), "nobody-a", 0, 0, SOCKET_PAIRS);
    let second = Fixture::start_as(Some(NOBODY), "nobody-b", 0, 0, SOCKET_PAIRS);
    let pids = format!("{},{}", first.pid(), second.pid());
    let args = ["-n", "-P", "-F", "-p", &pids];
    let as_nobody = |program: &Path| {
        let mut command = Command::new(program);
        std::os::unix::process::CommandExt::uid(&mut command, NOBODY);
        std::os::unix::process::CommandExt::gid(&mut command, NOBODY);
        command.stderr(Stdio::null());
        command
    };
    let report = shared.join("strace");
    let traced = as_nobody(Path::new("strace"))
        .args(["-f", "-e", "trace=openat", "-o"])
        .arg(&report)
        .arg(&rlsof)
        .args(args)
        .env("RLSOF_SOCKET_BATCH", "8")
        .output()
        .expect("run strace");
    let opens = std::fs::read_to_string(&report).unwrap_or_default();
    let whole = as_nobody(&rlsof)
        .args(args)
        .env("RLSOF_NO_BPF", "1")
        .output()
        .expect("run rlsof");
    let lsof = have("lsof", &["-v"]).then(|| as_nobody(Path::new("lsof")).args(args).output());
    let _ = std::fs::remove_dir_all(&shared);
    let unix_reads = opens.lines().filter(|l| l.contains("/net/unix\"")).count();
    assert_eq!(
        unix_reads, 2,
        "the UNIX table read once per batch:\n{opens}"
    );
    let text = String::from_utf8_lossy(&whole.stdout);
    assert_eq!(String::from_utf8_lossy(&traced.stdout), text);
    assert_eq!(
        text.matches("\ntunix\n").count(),
        4 * SOCKET_PAIRS,
        "{text}"
    );
    if let Some(lsof) = lsof {
        let lsof = lsof.expect("run lsof");
        assert_eq!(
            text,
            String::from_utf8_lossy(&lsof.stdout),
            "lsof lists otherwise"
        );
    }
}
