//! As root, mappings, cwd, rtd and txt come from the kernel
//! (src/bpf/mappings.rs): one walk of a process's mappings tells each
//! mapped file's inode and what its path is made from, and the process's
//! working directory, root and executable with their inodes. A path is
//! read from `/proc` once a run (src/scan/process/from_kernel.rs), so
//! processes that hold the same files cost no link read and no maps read
//! each. The listing is lsof's either way.

use std::collections::BTreeSet;
use std::process::{Child, Command, Stdio};

use super::kernel_listing::traced_at_once;
use super::syscalls::{have, kernel_iterators_testable};
use crate::common::{assert_same_as_lsof, require_lsof};

/// Whether the mappings program should load here (as the kernel matrix
/// says, else wherever the kernel has BTF), for root.
fn testable() -> bool {
    if !kernel_iterators_testable() || !have("strace", &["-c", "-o", "/dev/null", "true"]) {
        return false;
    }
    let loads_here = match std::env::var("RLSOF_EXPECT_PROGRAMS") {
        Ok(names) => names.split_whitespace().any(|p| p == "rlsof_mappings"),
        Err(_) => std::path::Path::new("/sys/kernel/btf/vmlinux").exists(),
    };
    if !loads_here {
        eprintln!("skipped: the mappings program does not load on this kernel");
    }
    loads_here
}

/// A python process in `dir`, started and ready; it exits when its stdin
/// closes.
fn sleeper(dir: &std::path::Path) -> Child {
    let mut child = Command::new("python3")
        .args([
            "-c",
            "import sys\nprint('ready', flush=True)\nsys.stdin.read()\n",
        ])
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3");
    let mut line = String::new();
    let out = child.stdout.take().expect("stdout");
    std::io::BufRead::read_line(&mut std::io::BufReader::new(out), &mut line).expect("ready");
    assert_eq!(line, "ready\n");
    child
}

/// The files process `pid` maps, by device and inode (maps' own lines).
fn mapped_files(pid: u32) -> BTreeSet<String> {
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).expect("maps");
    maps.lines()
        .filter_map(|l| {
            let fields: Vec<&str> = l.split_whitespace().collect();
            (fields.len() >= 6 && fields[4] != "0").then(|| format!("{} {}", fields[3], fields[4]))
        })
        .collect()
}

/// Whether process `pid` maps a file through an overlay (as every
/// process does in the kernel matrix's VMs, whose /usr is one): maps is
/// read for such a process (src/bpf/mappings.rs, `FMODE_NOACCOUNT`).
fn maps_through_an_overlay(pid: u32) -> bool {
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let overlays: Vec<&str> = mounts
        .lines()
        .filter(|l| {
            l.split(" - ")
                .nth(1)
                .is_some_and(|t| t.starts_with("overlay "))
        })
        .filter_map(|l| l.split(' ').nth(4))
        .collect();
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap_or_default();
    maps.lines()
        .filter_map(|l| l.split_whitespace().nth(5))
        .any(|path| {
            overlays
                .iter()
                .any(|m| *m == "/" || path.starts_with(&format!("{m}/")))
        })
}

#[test]
fn processes_holding_the_same_files_cost_no_link_or_maps_read_each() {
    let _alone = crate::common::machine::alone();
    if !testable() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("rlsof-same-files-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let mut sleepers: Vec<Child> = (0..12).map(|_| sleeper(&dir)).collect();
    if maps_through_an_overlay(sleepers[0].id()) {
        eprintln!("skipped: python's files are mapped through an overlay here");
        return;
    }
    let pids: Vec<String> = sleepers.iter().map(|c| c.id().to_string()).collect();
    let files = mapped_files(sleepers[0].id()).len();
    let args = ["-n", "-P", "-p", &pids.join(",")];
    let text = traced_at_once(&args, "readlinkat,openat");
    let of_a_sleeper = |l: &&str| pids.iter().any(|p| l.contains(&format!("</proc/{p}>, \"")));
    let calls: Vec<&str> = text.lines().filter(of_a_sleeper).collect();
    let count = |call: &str, names: &[&str]| {
        calls
            .iter()
            .filter(|l| l.contains(call) && names.iter().any(|n| l.contains(&format!(", \"{n}"))))
            .count()
    };
    let maps_reads = count("openat(", &["maps\""]);
    let links = count("readlinkat(", &["cwd\"", "root\"", "exe\""]);
    let map_files = count("readlinkat(", &["map_files/"]);
    // The first process or two (two scanning threads) read each path;
    // the others are told from what they read.
    assert_eq!(maps_reads, 0, "maps read:\n{}", calls.join("\n"));
    assert!(
        links <= 2 * 3,
        "{links} cwd, root and exe links read for 12 processes"
    );
    assert!(
        map_files <= 2 * files,
        "{map_files} map_files links read for 12 processes mapping {files} files each"
    );
    if require_lsof() {
        assert_same_as_lsof(&args);
    }
    for mut s in sleepers.drain(..) {
        let _ = s.kill();
        let _ = s.wait();
    }
    let _ = std::fs::remove_dir_all(&dir);
}
