//! As root, the descriptors come from the kernel (src/bpf/listing.rs): a
//! process's whole table in one iteration, with the path `readlink` gives
//! and the inode's fields `stat` gives, where `/proc` pays two or three
//! system calls a descriptor. What the program cannot tell (a path longer
//! than its buffer, a file system whose `stat` says more than the inode)
//! is read from `/proc` for that file alone. Either way the listing is
//! lsof's, and the one without the kernel's help (`RLSOF_NO_BPF=1`).
//! Loading the program costs about what reading 2,000 descriptors from
//! `/proc` does, so a listing asks for it only then; these tests ask for
//! it from the first (`RLSOF_KERNEL_LISTING=1`).

use std::path::Path;
use std::process::{Child, Command, Stdio};

use super::syscalls::{have, kernel_iterators_testable, marginal, Fixture};
use crate::common::{assert_same_as_lsof, require_lsof};

/// Whether this kernel should run the kernel listing: where the kernel
/// matrix says so (`RLSOF_EXPECT_PROGRAMS`), else wherever the kernel has
/// BTF (and the caller is root).
pub(super) fn listing_expected() -> bool {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let loads_here = match std::env::var("RLSOF_EXPECT_PROGRAMS") {
        Ok(names) => names.split_whitespace().any(|p| p == "rlsof_listing"),
        Err(_) => Path::new("/sys/kernel/btf/vmlinux").exists(),
    };
    root && loads_here
}

/// Whether the kernel listing can be tested here; says why not.
fn testable() -> bool {
    if !kernel_iterators_testable() {
        return false;
    }
    if !listing_expected() {
        eprintln!("skipped: the kernel listing does not load on this kernel");
        return false;
    }
    true
}

/// Bound on the system calls per extra open file on the kernel path: its
/// output is read a few hundred descriptors at a time.
const MAX_CALLS_PER_FILE: f64 = 0.25;

#[test]
fn the_kernel_listing_spends_well_under_one_call_per_open_file() {
    let _alone = crate::common::machine::alone();
    if !testable() {
        return;
    }
    let small = Fixture::start("listing-small", 0, 1, 1);
    let large = Fixture::start("listing-large", 400, 13, 12);
    let report = std::env::temp_dir().join(format!("rlsof-listing-{}.strace", std::process::id()));
    let rlsof = Path::new(env!("CARGO_BIN_EXE_rlsof"));
    let at_once = [("RLSOF_KERNEL_LISTING", "1")];
    let (per_file, listed) = marginal(rlsof, &small, &large, &at_once, &report);
    let _ = std::fs::remove_file(&report);
    assert!(
        listed.lines > 400 + 2 * 25,
        "{} lines: the files are not listed",
        listed.lines
    );
    assert!(
        per_file <= MAX_CALLS_PER_FILE,
        "rlsof spends {per_file:.2} system calls per open file on the kernel path \
         (bound {MAX_CALLS_PER_FILE})"
    );
    let pid = large.pid().to_string();
    for args in [
        vec!["-n", "-P", "-p", &pid],
        vec!["-F", "-p", &pid],
        vec!["+L1", "-a", "-p", &pid],
    ] {
        if require_lsof() {
            assert_same_as_lsof(&args);
        }
    }
}

/// A file whose path does not fit the program's buffer: its link is read
/// from `/proc`, the others' are not, and the listing is lsof's.
#[test]
fn a_path_longer_than_the_programs_buffer_is_read_from_proc_alone() {
    let _alone = crate::common::machine::alone();
    if !testable() {
        return;
    }
    let mut deep = std::env::temp_dir().join(format!("rlsof-long-{}", std::process::id()));
    let top = deep.clone();
    while deep.as_os_str().len() < 600 {
        deep.push("a-directory-name-of-some-length");
    }
    std::fs::create_dir_all(&deep).expect("deep directories");
    let long = deep.join("the-file");
    std::fs::write(&long, b"held").expect("the file");
    let short = top.join("short");
    std::fs::write(&short, b"held").expect("the file");
    let mut holder = holding_open(&[long.as_path(), short.as_path()]);
    let pid = holder.id().to_string();

    let args = ["-n", "-P", "-p", &pid];
    let listing = if require_lsof() {
        assert_same_as_lsof(&args)
    } else {
        crate::common::run(crate::common::rlsof(), &args)
    };
    let text = String::from_utf8_lossy(&listing.stdout);
    assert!(text.contains(&*long.to_string_lossy()), "{text}");
    let links = calls_on_links_of(&pid, &args, "readlinkat");
    // One to check the table may be read, one for the long path.
    assert!(links <= 2, "{links} links of {pid} read");
    let _ = holder.kill();
    let _ = holder.wait();
    let _ = std::fs::remove_dir_all(&top);
}

/// A process holding `paths` open for reading (descriptors 3 on, in
/// order), started and ready; it exits when its stdin closes.
fn holding_open(paths: &[&Path]) -> Child {
    let script = "import os, sys\nfs = [os.open(p, os.O_RDONLY) for p in sys.argv[1:]]\nprint('ready', flush=True)\nsys.stdin.read()\n";
    let mut holder = Command::new("python3")
        .args(["-c", script])
        .args(paths)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3");
    let mut line = String::new();
    let out = holder.stdout.take().expect("stdout");
    std::io::BufRead::read_line(&mut std::io::BufReader::new(out), &mut line).expect("ready");
    assert_eq!(line, "ready\n", "the holder could not open {paths:?}");
    holder
}

/// What `strace -f -y -e trace=CALLS` shows of `rlsof ARGS` with the
/// kernel's programs asked for from the first process
/// (`RLSOF_KERNEL_LISTING=1`).
pub(super) fn traced_at_once(args: &[&str], calls: &str) -> String {
    let report = std::env::temp_dir().join(format!("rlsof-traced-{}.strace", std::process::id()));
    Command::new("strace")
        .args(["-f", "-y", "-e", &format!("trace={calls}"), "-o"])
        .arg(&report)
        .arg(env!("CARGO_BIN_EXE_rlsof"))
        .args(args)
        .env("RLSOF_KERNEL_LISTING", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("strace");
    let text = std::fs::read_to_string(&report).unwrap_or_default();
    let _ = std::fs::remove_file(&report);
    text
}

/// On how many `/proc/PID/fd` links rlsof makes system call `call` for
/// `args` (0 where strace cannot trace).
fn calls_on_links_of(pid: &str, args: &[&str], call: &str) -> usize {
    if !have("strace", &["-c", "-o", "/dev/null", "true"]) {
        return 0;
    }
    let text = traced_at_once(args, call);
    // A long link is read again into a larger buffer: count descriptors.
    let dir = format!("</proc/{pid}/fd>, \"");
    let mut named: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split_once(&dir))
        .filter_map(|(_, rest)| rest.split('"').next())
        .collect();
    named.sort_unstable();
    named.dedup();
    named.len()
}

/// Files on file systems whose `stat` the kernel's inode cannot stand for
/// (sysfs, cgroups: kernfs) are stat'ed through `/proc`; the listing is
/// lsof's either way.
#[test]
fn files_on_other_file_systems_are_stated_through_proc() {
    let _alone = crate::common::machine::alone();
    if !testable() || !require_lsof() {
        return;
    }
    let held = ["/sys", "/sys/kernel", "/dev/null", "/proc/self/stat"].map(Path::new);
    let mut holder = holding_open(&held);
    let pid = holder.id().to_string();
    assert_same_as_lsof(&["-n", "-P", "-p", &pid]);
    assert_same_as_lsof(&["-F", "-p", &pid]);
    // The two kernfs directories, and nothing else.
    let stats = calls_on_links_of(&pid, &["-n", "-P", "-p", &pid], "newfstatat");
    if have("strace", &["-c", "-o", "/dev/null", "true"]) {
        assert_eq!(stats, 2, "descriptors of {pid} stat'ed");
    }
    let _ = holder.kill();
    let _ = holder.wait();
}
