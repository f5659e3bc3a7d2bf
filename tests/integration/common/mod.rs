//! Harness for the integration tests: run a command with a time limit,
//! start the fixture process that holds known files, and compare rlsof
//! with the installed lsof byte for byte.

pub mod diff;
mod fixture;
pub mod machine;
pub mod need;
pub mod stable;
mod tmpfs;

pub use fixture::Fixture;
pub use need::{require_lsof, require_root};
pub use tmpfs::Tmpfs;

use std::ffi::OsStr;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

pub const LSOF: &str = "/usr/bin/lsof";
/// The unprivileged user the tests run both tools as (`nobody`).
pub const NOBODY: u32 = 65534;
/// No listing of this machine takes anywhere near this long; a tool that
/// does is hanging, and the test says so instead of hanging too.
const RUN_TIME_LIMIT: Duration = Duration::from_secs(120);
/// Attempts before a comparison gives up on an unstable oracle.
const ATTEMPTS: usize = 3;

/// The binary under test, run under the name `lsof`: rlsof names itself
/// after argv[0] as lsof does, so called `lsof` its messages are lsof's
/// bytes. Or whatever `RLSOF_UNDER_TEST` names (`RLSOF_UNDER_TEST=/usr/bin/lsof`
/// checks the harness against lsof itself).
pub fn rlsof() -> PathBuf {
    match std::env::var_os("RLSOF_UNDER_TEST") {
        Some(path) if !path.is_empty() => PathBuf::from(path),
        _ => rlsof_named_lsof().to_path_buf(),
    }
}

fn writable(dir: &Path) -> bool {
    let probe = dir.join(format!(".probe.{}", std::process::id()));
    let made = std::fs::write(&probe, b"").is_ok();
    let _ = std::fs::remove_file(&probe);
    made
}

/// rlsof under its own name, for tests of rlsof's own messages (`rlsof:`).
pub fn rlsof_as_itself() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_rlsof"))
}

/// A symbolic link `lsof` to the rlsof binary, in the target's scratch
/// directory. Made once per test process and put in place by a rename, so
/// test processes running at once never see it missing or half made.
fn rlsof_named_lsof() -> &'static Path {
    static LINK: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    LINK.get_or_init(|| {
        // The target directory is read-only inside the kernel matrix's
        // VMs (the host's root shared read-only): the link goes to the
        // temporary directory there.
        let mut dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("as-lsof");
        if std::fs::create_dir_all(&dir).is_err() || !writable(&dir) {
            dir = std::env::temp_dir().join(format!("rlsof-as-lsof.{}", std::process::id()));
            std::fs::create_dir_all(&dir)
                .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        }
        let link = dir.join("lsof");
        let fresh = dir.join(format!("lsof.{}", std::process::id()));
        let _ = std::fs::remove_file(&fresh);
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_rlsof"), &fresh)
            .and_then(|()| std::fs::rename(&fresh, &link))
            .unwrap_or_else(|e| panic!("cannot link {}: {e}", link.display()));
        link
    })
}

/// Whether a listing's text for one process names a kernel worker, which
/// takes the name of the work it runs (`kworker/0:0-events`, then
/// `-mm_percpu_wq`): whole-machine comparisons leave such processes out, as
/// lsof's two runs may agree on a name that rlsof, between them, saw
/// otherwise. `text` is a table row (command first) or a `-F` set.
pub fn names_a_kernel_worker(text: &[u8]) -> bool {
    text.starts_with(b"kworker/")
        || text
            .windows(10)
            .any(|w| (w[0] == b'\n' || w[0] == 0) && &w[1..] == b"ckworker/")
}

/// What a finished command did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// "exit N", "signal N" or "timed out".
    pub status: String,
}

/// Runs `program args` with stdin closed, capturing everything; kills it
/// after `RUN_TIME_LIMIT`.
pub fn run<S: AsRef<OsStr>>(program: impl AsRef<OsStr>, args: &[S]) -> Output {
    run_with_env(program, args, &[])
}

/// [`run`] with these variables added to the environment.
pub fn run_with_env<S: AsRef<OsStr>>(
    program: impl AsRef<OsStr>,
    args: &[S],
    env: &[(&str, &str)],
) -> Output {
    run_as(None, program, args, env)
}

/// [`run_with_env`] as user and group `uid` (None: as is; root only).
pub fn run_as<S: AsRef<OsStr>>(
    uid: Option<u32>,
    program: impl AsRef<OsStr>,
    args: &[S],
    env: &[(&str, &str)],
) -> Output {
    let program = program.as_ref();
    let _turn = machine::turn();
    let mut command = Command::new(program);
    if let Some(uid) = uid {
        std::os::unix::process::CommandExt::uid(&mut command, uid);
        std::os::unix::process::CommandExt::gid(&mut command, uid);
    }
    let mut child = command
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.to_string_lossy()));
    let stdout = read_all_in_background(child.stdout.take());
    let stderr = read_all_in_background(child.stderr.take());
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break describe_status(status),
            Ok(None) if started.elapsed() > RUN_TIME_LIMIT => {
                let _ = child.kill();
                let _ = child.wait();
                break "timed out".to_string();
            }
            Ok(None) => thread::sleep(Duration::from_millis(5)),
            Err(e) => panic!("waiting for {}: {e}", program.to_string_lossy()),
        }
    };
    Output {
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
        status,
    }
}

fn read_all_in_background(pipe: Option<impl Read + Send + 'static>) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut bytes);
        }
        bytes
    })
}

fn describe_status(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit {code}"),
        (None, Some(signal)) => format!("signal {signal}"),
        (None, None) => "unknown status".to_string(),
    }
}

/// Runs `lsof ARGS` and `rlsof ARGS` and panics with a readable diff unless
/// stdout, stderr and exit status are identical.
///
/// lsof runs before and after rlsof; if its two runs differ the machine
/// changed in between, and the comparison is tried again. A test whose
/// arguments make lsof unstable fails with that diff instead.
///
/// Returns lsof's output (which is rlsof's), for checks that the fixture
/// really holds what the test is about.
pub fn assert_same_as_lsof(args: &[&str]) -> Output {
    assert_same_as_lsof_with_env(args, &[])
}

/// [`assert_same_as_lsof`], rlsof running with these variables set.
///
/// As root the comparison is made once per path of [`paths`] (as is, and
/// without the kernel's help): an answer that depends on the path fails.
pub fn assert_same_as_lsof_with_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut lsof_output = None;
    let chosen = |path: &&ScanPath| {
        !path
            .env
            .iter()
            .any(|(k, _)| env.iter().any(|(e, _)| e == k))
    };
    for path in paths().iter().filter(chosen) {
        let env: Vec<(&str, &str)> = env.iter().chain(path.env).copied().collect();
        lsof_output = Some(assert_same_as_lsof_as(None, args, &env, path.name));
    }
    lsof_output.expect("at least one path")
}

/// Runs `lsof ARGS` and rlsof (with `env`) as user `uid` (None: as is)
/// and panics unless they agree; `path` names rlsof's path in the report.
pub fn assert_same_as_lsof_as(
    uid: Option<u32>,
    args: &[&str],
    env: &[(&str, &str)],
    path: &str,
) -> Output {
    let mut last_unstable = String::new();
    let user = uid.map_or(String::new(), |uid| format!(" as user {uid}"));
    for _ in 0..ATTEMPTS {
        let before = run_as(uid, LSOF, args, &[]);
        let got = run_as(uid, rlsof(), args, env);
        let after = run_as(uid, LSOF, args, &[]);
        if before != after {
            last_unstable = report(args, &before, &after, "lsof (second run)");
            eprintln!("lsof changed between its two runs; comparing again");
            continue;
        }
        if got != before {
            let name = format!("rlsof ({path}{user})");
            panic!("{}", report(args, &before, &got, &name));
        }
        return before;
    }
    panic!("lsof's own output changed between runs {ATTEMPTS} times, so these arguments cannot be compared; make the fixture stable\n{last_unstable}");
}

/// One way rlsof may answer: the environment that makes it take it.
#[derive(Debug, Clone, Copy)]
pub struct ScanPath {
    pub name: &'static str,
    pub env: &'static [(&'static str, &'static str)],
}

/// Every path of rlsof's that a comparison must hold on: as root, as is
/// (with the kernel's help, src/bpf), with `RLSOF_NO_BPF=1` (reading
/// /proc as a user does) and with the kernel listing every descriptor
/// from the first (`RLSOF_KERNEL_LISTING=1`: as is, it is asked only once
/// a listing has read enough, more than a test's fixture holds);
/// otherwise the one a user has.
pub fn paths() -> &'static [ScanPath] {
    const PATHS: &[ScanPath] = &[
        ScanPath {
            name: "as is",
            env: &[],
        },
        ScanPath {
            name: "RLSOF_NO_BPF=1",
            env: &[("RLSOF_NO_BPF", "1")],
        },
        ScanPath {
            name: "RLSOF_KERNEL_LISTING=1",
            env: &[("RLSOF_KERNEL_LISTING", "1")],
        },
    ];
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } == 0 {
        PATHS
    } else {
        &PATHS[..1]
    }
}

/// Runs rlsof with `args` as user `uid` on every path of [`paths`] and
/// panics unless each answers alike; returns the answer. For what lsof
/// does not show (a divergence), where no comparison with lsof can tell.
pub fn rlsof_on_every_path(uid: Option<u32>, args: &[&str]) -> Output {
    let mut first: Option<Output> = None;
    for path in paths() {
        let got = run_as(uid, rlsof(), args, path.env);
        match &first {
            None => first = Some(got),
            Some(expected) => {
                let name = format!("rlsof ({})", path.name);
                let text = report(args, expected, &got, &name);
                assert!(
                    expected == &got,
                    "rlsof as is (- here) and {name} differ: {text}"
                );
            }
        }
    }
    first.expect("at least one path")
}

/// Describes every way `got` differs from `expected` (lsof's output).
pub fn report(args: &[&str], expected: &Output, got: &Output, got_name: &str) -> String {
    let mut text = format!(
        "{got_name} differs from lsof for: lsof {}\n",
        shell_words(args)
    );
    for (what, e, g) in [
        ("stdout", &expected.stdout, &got.stdout),
        ("stderr", &expected.stderr, &got.stderr),
    ] {
        if e != g {
            text += &format!("--- {what} (- lsof, + {got_name})\n{}", diff::unified(e, g));
        }
    }
    if expected.status != got.status {
        text += &format!(
            "--- status: lsof {}, {got_name} {}\n",
            expected.status, got.status
        );
    }
    text
}

/// Panics unless lsof's output shows each marker: a test that compares
/// listings without the thing it is about would pass for nothing.
pub fn assert_lsof_shows(output: &Output, markers: &[&str]) {
    for marker in markers {
        let found = output
            .stdout
            .windows(marker.len())
            .any(|w| w == marker.as_bytes());
        assert!(
            found,
            "the fixture is not what this test expects: lsof's output lacks {marker:?}:\n{}",
            String::from_utf8_lossy(&output.stdout)
        );
    }
}

pub fn shell_words(args: &[&str]) -> String {
    let quoted: Vec<String> = args
        .iter()
        .map(|a| {
            if !a.is_empty()
                && a.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-+,^./:_=".contains(&b))
            {
                a.to_string()
            } else {
                format!("'{}'", a.replace('\'', r"'\''"))
            }
        })
        .collect();
    quoted.join(" ")
}

/// A PID that no process has: one of our own children, already reaped.
pub fn vanished_pid() -> u32 {
    let mut child = Command::new("true")
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start true: {e}"));
    let pid = child.id();
    let _ = child.wait();
    pid
}
