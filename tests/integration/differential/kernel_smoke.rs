//! The kernel matrix's smoke set (tests/kernels/run runs it on each
//! kernel): as root, every BPF program that should load on this kernel is
//! loaded and answers its question (`RLSOF_DEBUG=1` says which path
//! answered and why), the others fall back to /proc, and command lines of
//! every kind of question give lsof's bytes both ways, as is and with
//! `RLSOF_NO_BPF=1`.
//!
//! `RLSOF_EXPECT_PROGRAMS` (the runner sets it per kernel) names the
//! programs that must load; unset, all four must where the kernel has
//! BTF.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use super::network_fixture::NetFixture;
use super::MIXED;
use crate::common::{
    assert_same_as_lsof_with_env, report, require_lsof, require_root, rlsof, run_with_env, Fixture,
    LSOF,
};

const PROGRAMS: [&str; 5] = [
    "rlsof_sockets",
    "rlsof_files",
    "rlsof_described",
    "rlsof_listing",
    "rlsof_mappings",
];

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

/// `lsof ARGS` and `rlsof ARGS` alike, as is, without BPF and with the
/// kernel listing from the first descriptor: one lsof before and one
/// after (a VM under TCG runs lsof slowly).
fn both_paths(args: &[&str]) {
    for _ in 0..3 {
        let before = run_with_env(LSOF, args, &[]);
        let as_is = run_with_env(rlsof(), args, &[]);
        let from_proc = run_with_env(rlsof(), args, &[("RLSOF_NO_BPF", "1")]);
        let listed = run_with_env(rlsof(), args, &[("RLSOF_KERNEL_LISTING", "1")]);
        if run_with_env(LSOF, args, &[]) != before {
            eprintln!("lsof changed between its two runs; comparing again");
            continue;
        }
        assert!(
            as_is == before,
            "{}",
            report(args, &before, &as_is, "rlsof")
        );
        let name = "rlsof (RLSOF_NO_BPF=1)";
        assert!(
            from_proc == before,
            "{}",
            report(args, &before, &from_proc, name)
        );
        let name = "rlsof (RLSOF_KERNEL_LISTING=1)";
        assert!(listed == before, "{}", report(args, &before, &listed, name));
        return;
    }
    panic!("lsof's output changed at every run: {args:?}");
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
    let debug = String::from_utf8_lossy(&got.stderr).into_owned();
    eprintln!("rlsof {args:?}:\n{debug}");
    debug
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
        // Not the test's stderr: a log file growing under the suite would
        // change its size between two listings.
        .stderr(Stdio::null())
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
        assert!(
            !debug.contains(&by_kernel),
            "{name} should not load:\n{debug}"
        );
        assert!(debug.contains(&format!("{question}: /proc")), "{debug}");
        let why = [
            format!("{name}: not built"),
            format!("{name}: refused"),
            format!("{name}: no iteration"),
            format!("{name}: this kernel's"),
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
    // The listing asked for from the first process (as is, only once
    // 2,000 descriptors were read: which processes come after the big one
    // depends on the threads' timing).
    let batched = [("RLSOF_SOCKET_BATCH", "4"), ("RLSOF_KERNEL_LISTING", "1")];
    let described = debug_of(&["-n", "-P", "-F", "-p", &pids], &batched);
    answered(&described, "rlsof_described", "socket descriptions");
    answered(&described, "rlsof_listing", "descriptors");
    answered(&described, "rlsof_mappings", "mappings");
    // Positions and flags are the listing's where it loads; the files
    // program's otherwise (see the damaged BTF's test for both).
    if !expected().iter().any(|p| p == "rlsof_listing") {
        answered(&described, "rlsof_files", "descriptor flags and positions");
    }
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
        vec![
            "-n".into(),
            "-P".into(),
            "-i".into(),
            format!(":{}", port("tcp4")),
        ],
        vec![
            "-n".into(),
            "-P".into(),
            "-i".into(),
            format!("TCP:{}", port("tcp6")),
        ],
        vec![
            "-n".into(),
            "-P".into(),
            "-i".into(),
            format!("UDP:{}", port("udp4")),
        ],
        vec![
            "-n".into(),
            "-P".into(),
            "-i".into(),
            format!("6UDP:{}", port("udp6")),
        ],
        vec!["-t".into(), "-i".into(), format!(":{}", port("tcp4client"))],
        vec![
            "-n".into(),
            "-P".into(),
            "-i".into(),
            format!("@127.0.0.1:{}", port("tcp4")),
        ],
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
    let options: [&[&str]; 7] = [
        &[],
        &["-F"],
        &["-F", "pcfnaolLsSti"],
        &["+fg"],
        &["-o"],
        &["-a", "-d", "0-9"],
        &["-l", "-n", "+L"],
    ];
    for option in options {
        let args: Vec<&str> = option.iter().copied().chain(["-p", &pid]).collect();
        both_paths(&args);
    }
}

/// A copy of this kernel's BTF, damaged by `damage`, in a file (removed
/// when the value is dropped).
struct DamagedBtf(std::path::PathBuf);

impl DamagedBtf {
    fn new(name: &str, damage: impl FnOnce(&mut Vec<u8>)) -> DamagedBtf {
        let mut btf = std::fs::read("/sys/kernel/btf/vmlinux").expect("kernel BTF");
        damage(&mut btf);
        let path = std::env::temp_dir().join(format!("rlsof-btf-{}-{name}", std::process::id()));
        std::fs::write(&path, btf).expect("write the copy");
        DamagedBtf(path)
    }

    fn env(&self) -> (&str, &str) {
        ("RLSOF_BTF", self.0.to_str().expect("a UTF-8 path"))
    }
}

impl Drop for DamagedBtf {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn u32_at(btf: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes(btf[at..at + 4].try_into().expect("4 bytes"))
}

/// The type section's and the string section's (start, length).
fn sections(btf: &[u8]) -> ((usize, usize), (usize, usize)) {
    let header = u32_at(btf, 4) as usize;
    let types = (header + u32_at(btf, 8) as usize, u32_at(btf, 12) as usize);
    let strings = (header + u32_at(btf, 16) as usize, u32_at(btf, 20) as usize);
    (types, strings)
}

/// Where string `name` starts in the string section.
fn string_at(btf: &[u8], name: &str) -> usize {
    let (_, (start, len)) = sections(btf);
    let wanted = [b"\0", name.as_bytes(), b"\0"].concat();
    let strings = &btf[start..start + len];
    let at = strings
        .windows(wanted.len())
        .position(|w| w == wanted.as_slice())
        .unwrap_or_else(|| panic!("no string {name}"));
    at + 1
}

/// Renames every member called `from` (a name of the same length).
fn rename(btf: &mut [u8], from: &str, to: &str) {
    assert_eq!(from.len(), to.len());
    let (_, (start, _)) = sections(btf);
    let at = start + string_at(btf, from);
    btf[at..at + to.len()].copy_from_slice(to.as_bytes());
}

/// Makes the integer type called `name` `size` bytes wide.
fn resize_int(btf: &mut [u8], name: &str, size: u32) {
    let ((start, len), _) = sections(btf);
    let name_off = string_at(btf, name) as u32;
    let mut at = start;
    while at < start + len {
        let info = u32_at(btf, at + 4);
        let (kind, vlen) = ((info >> 24) & 0x1f, (info & 0xffff) as usize);
        if kind == 1 && u32_at(btf, at) == name_off {
            btf[at + 8..at + 12].copy_from_slice(&size.to_ne_bytes());
            return;
        }
        at += 12
            + match kind {
                1 | 14 | 17 => 4,
                3 => 12,
                4 | 5 | 15 | 19 => 12 * vlen,
                6 | 13 => 8 * vlen,
                _ => 0,
            };
    }
    panic!("no integer type {name}");
}

/// With one member damaged in a copy of the BTF (`RLSOF_BTF`), the one
/// program that reads it is not built (`RLSOF_DEBUG=1` says why) and its
/// question is answered from /proc, the other programs still answer
/// theirs, and every listing is lsof's.
#[test]
fn a_damaged_member_disables_only_the_program_that_reads_it() {
    if !require_lsof() || !require_root() {
        return;
    }
    if expected().len() < PROGRAMS.len() {
        eprintln!("skipped: not every program loads on this kernel");
        return;
    }
    let mut big = many_files();
    let net = NetFixture::start();
    let pids = format!("{},{}", big.id(), net.pids());
    let port = format!(":{}", net.ports["tcp4"]);
    let listing = ["-n", "-P", "-F", "-p", &pids];
    let renamed = DamagedBtf::new("renamed", |btf| {
        rename(btf, "close_on_exec", "close_on_exeX")
    });
    let env = [
        renamed.env(),
        ("RLSOF_SOCKET_BATCH", "4"),
        ("RLSOF_KERNEL_LISTING", "1"),
    ];
    let debug = debug_of(&listing, &env);
    for program in ["rlsof_files", "rlsof_listing"] {
        let why = format!("{program}: not built: fdtable.close_on_exec: not in the kernel's BTF");
        assert!(debug.contains(&why), "{debug}");
    }
    assert!(debug.contains("descriptors: /proc"), "{debug}");
    assert!(debug.contains("descriptor flags and positions: /proc"));
    assert!(debug.contains("socket descriptions: the kernel (rlsof_described)"));
    let held = debug_of(&["-n", "-P", "-i", &port], &[renamed.env()]);
    assert!(
        held.contains("who holds sockets: the kernel (rlsof_sockets)"),
        "{held}"
    );

    // `_Bool` (C's `bool`) 4 bytes wide: netlink_sock.bound, which the
    // program reads as a byte, no longer is one.
    let resized = DamagedBtf::new("resized", |btf| resize_int(btf, "_Bool", 4));
    let env = [
        resized.env(),
        ("RLSOF_SOCKET_BATCH", "4"),
        ("RLSOF_KERNEL_LISTING", "1"),
    ];
    let debug = debug_of(&listing, &env);
    let why = "rlsof_described: not built: netlink_sock.bound: 4 bytes in this kernel";
    assert!(debug.contains(why), "{debug}");
    assert!(debug.contains("socket descriptions: /proc/net"));
    assert!(debug.contains("descriptors: the kernel (rlsof_listing)"));
    let held = debug_of(&["-n", "-P", "-i", &port], &[resized.env()]);
    assert!(
        held.contains("who holds sockets: the kernel (rlsof_sockets)"),
        "{held}"
    );

    // A member only the listing reads: the files program gives positions
    // and flags, /proc the rest.
    let renamed = DamagedBtf::new("magic", |btf| rename(btf, "s_magic", "s_magiX"));
    let env = [
        renamed.env(),
        ("RLSOF_SOCKET_BATCH", "4"),
        ("RLSOF_KERNEL_LISTING", "1"),
    ];
    let debug = debug_of(&listing, &env);
    let why = "rlsof_listing: not built: super_block.s_magic: not in the kernel's BTF";
    assert!(debug.contains(why), "{debug}");
    assert!(debug.contains("descriptors: /proc"), "{debug}");
    assert!(debug.contains("descriptor flags and positions: the kernel (rlsof_files)"));
    assert!(debug.contains("socket descriptions: the kernel (rlsof_described)"));

    // A member only the mappings program reads: maps gives the mappings,
    // the listing the descriptors.
    let renamed = DamagedBtf::new("d_hash", |btf| rename(btf, "d_hash", "d_hasX"));
    let env = [renamed.env(), ("RLSOF_KERNEL_LISTING", "1")];
    let debug = debug_of(&listing, &env);
    let why = "rlsof_mappings: not built: dentry.d_hash: not in the kernel's BTF";
    assert!(debug.contains(why), "{debug}");
    assert!(debug.contains("mappings: /proc/PID/maps"), "{debug}");
    assert!(debug.contains("descriptors: the kernel (rlsof_listing)"));
    let _ = big.kill();
    let _ = big.wait();
}
