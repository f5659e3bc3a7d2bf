//! The kernel matrix's smoke set (tests/kernels/run runs it on each
//! kernel): as root, every BPF program that should load on this kernel is
//! loaded and answers its question (`RLSOF_DEBUG=1` says which path
//! answered and why), the others fall back to /proc, and command lines of
//! every kind of question give lsof's bytes both ways, as is and with
//! `RLSOF_NO_BPF=1`.
//!
//! `RLSOF_EXPECT_PROGRAMS` (the runner sets it per kernel) names the
//! programs that must load; unset, all three must where the kernel has
//! BTF.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use crate::common::{
    assert_same_as_lsof, assert_same_as_lsof_with_env, require_lsof, require_root, rlsof,
    run_with_env, Fixture,
};
use crate::network_fixture::NetFixture;
use crate::MIXED;

const PROGRAMS: [&str; 3] = ["rlsof_sockets", "rlsof_files", "rlsof_described"];

/// The programs that must load here.
fn expected() -> Vec<String> {
    match std::env::var("RLSOF_EXPECT_PROGRAMS") {
        Ok(names) => names.split_whitespace().map(str::to_string).collect(),
        Err(_) if std::path::Path::new("/sys/kernel/btf/vmlinux").exists() => {
            PROGRAMS.iter().map(|p| p.to_string()).collect()
        }
        Err(_) => Vec::new(),
    }
}

/// `lsof ARGS` and `rlsof ARGS` alike, as is and without BPF.
fn both_paths(args: &[&str]) {
    assert_same_as_lsof(args);
    assert_same_as_lsof_with_env(args, &[("RLSOF_NO_BPF", "1")]);
}

/// rlsof's debug lines for `args` (with `env`); its listing must still be
/// lsof's.
fn debug_of(args: &[&str], env: &[(&str, &str)]) -> String {
    let mut with_debug = env.to_vec();
    with_debug.push(("RLSOF_DEBUG", "1"));
    let got = run_with_env(rlsof(), args, &with_debug);
    let plain = assert_same_as_lsof_with_env(args, env);
    assert_eq!(
        String::from_utf8_lossy(&got.stdout),
        String::from_utf8_lossy(&plain.stdout),
        "{args:?}: the listing changes under RLSOF_DEBUG"
    );
    String::from_utf8_lossy(&got.stderr).into_owned()
}

/// A process holding 2,100 descriptors of one file, more than a listing
/// reads from fdinfo before it asks the kernel for the rest.
fn many_files() -> Child {
    let script = "import resource, sys, tempfile\n\
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)\n\
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 4096), max(hard, 4096)))\n\
        f = tempfile.NamedTemporaryFile(prefix='rlsof-smoke-')\n\
        kept = [open(f.name) for _ in range(2100)]\n\
        print('ready', flush=True)\n\
        sys.stdin.read()\n";
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3");
    let mut line = String::new();
    let stdout = child.stdout.as_mut().expect("stdout");
    BufReader::new(stdout).read_line(&mut line).expect("ready");
    assert_eq!(line, "ready\n");
    child
}

/// Checks that `debug` says program `name` answered `question` when it
/// should load here, and that /proc did (with the reason) otherwise.
fn answered(debug: &str, name: &str, question: &str) {
    let by_kernel = format!("{question}: the kernel ({name})");
    if expected().iter().any(|p| p == name) {
        assert!(debug.contains(&format!("{name}: loaded")), "{debug}");
        assert!(debug.contains(&by_kernel), "{by_kernel}?\n{debug}");
    } else {
        assert!(!debug.contains(&by_kernel), "{name} should not load:\n{debug}");
        assert!(debug.contains(&format!("{question}: /proc")), "{debug}");
        let why = [
            format!("{name}: not built"),
            format!("{name}: refused"),
            format!("{name}: no iteration"),
        ];
        assert!(why.iter().any(|w| debug.contains(w)), "no reason:\n{debug}");
    }
}

#[test]
fn every_program_loads_and_answers_where_it_should() {
    if !require_lsof() || !require_root() {
        return;
    }
    let mut big = many_files();
    let net = NetFixture::start();
    let port = net.ports["tcp4"].to_string();
    let held = debug_of(&["-n", "-P", "-i", &format!(":{port}")], &[]);
    answered(&held, "rlsof_sockets", "who holds sockets");
    let pids = format!("{},{}", big.id(), net.pids());
    let batched = [("RLSOF_SOCKET_BATCH", "4")];
    let described = debug_of(&["-n", "-P", "-F", "-p", &pids], &batched);
    answered(&described, "rlsof_described", "socket descriptions");
    answered(&described, "rlsof_files", "descriptor flags and positions");
    // Tables asked for rather than descriptions: batches of processes in
    // PID order, whose sockets the socket program tells.
    let tables = [("RLSOF_SOCKET_BATCH", "4"), ("RLSOF_SOCKET_TABLES", "1")];
    let in_order = debug_of(&["-n", "-P", "-F", "-p", &pids], &tables);
    answered(&in_order, "rlsof_sockets", "sockets in PID order");
    let _ = big.kill();
    let _ = big.wait();
}

#[test]
fn network_command_lines_on_both_paths() {
    if !require_lsof() {
        return;
    }
    let net = NetFixture::start();
    let pids = net.pids();
    let port = |name: &str| net.ports[name].to_string();
    let on_pids = |options: &[&str]| -> Vec<String> {
        ["-n", "-P", "-a", "-p", &pids]
            .iter()
            .chain(options)
            .map(|s| s.to_string())
            .collect()
    };
    let lines: Vec<Vec<String>> = vec![
        on_pids(&["-i"]),
        on_pids(&["-i4"]),
        on_pids(&["-i6"]),
        on_pids(&["-U"]),
        on_pids(&["-i", "UDP"]),
        on_pids(&["-i", "TCP", "-sTCP:LISTEN"]),
        on_pids(&["-i", "TCP", "-sTCP:^LISTEN"]),
        on_pids(&["-T", "qs", "-i"]),
        on_pids(&["+E"]),
        on_pids(&["-F", "pcfnPTt"]),
        vec!["-a".into(), "-p".into(), pids.clone(), "-i".into()],
        vec!["-n".into(), "-P".into(), "-p".into(), pids.clone()],
        vec!["-n".into(), "-P".into(), "-i".into(), format!(":{}", port("tcp4"))],
        vec!["-n".into(), "-P".into(), "-i".into(), format!("TCP:{}", port("tcp6"))],
        vec!["-n".into(), "-P".into(), "-i".into(), format!("UDP:{}", port("udp4"))],
        vec!["-n".into(), "-P".into(), "-i".into(), format!("6UDP:{}", port("udp6"))],
        vec!["-t".into(), "-i".into(), format!(":{}", port("tcp4client"))],
        vec!["-n".into(), "-P".into(), "-i".into(), format!("@127.0.0.1:{}", port("tcp4"))],
    ];
    for line in &lines {
        let args: Vec<&str> = line.iter().map(String::as_str).collect();
        both_paths(&args);
        let batched = [("RLSOF_SOCKET_BATCH", "4")];
        if args.contains(&"-F") {
            assert_same_as_lsof_with_env(&args, &batched);
        }
    }
}

#[test]
fn file_command_lines_on_both_paths() {
    if !require_lsof() {
        return;
    }
    let fixture = Fixture::start(MIXED);
    let pid = fixture.pid_arg();
    let options: [&[&str]; 10] = [
        &[],
        &["-F"],
        &["-F", "pcfnaolLsSti"],
        &["+fg"],
        &["-o"],
        &["-s"],
        &["-a", "-d", "0-9"],
        &["-a", "-d", "cwd,txt,mem"],
        &["-l", "-n"],
        &["+L"],
    ];
    for option in options {
        let args: Vec<&str> = option.iter().copied().chain(["-p", &pid]).collect();
        both_paths(&args);
    }
}
