//! `-F` and `-t` over the whole machine: every process that lsof lists the
//! same way before and after rlsof runs must be listed by rlsof with the
//! same process set and file sets, byte for byte. (Field output has no
//! column widths, so process sets compare exactly.)

use crate::common::{diff, require_lsof, rlsof, run, run_with_env, shell_words, LSOF};
use std::collections::BTreeMap;

const ATTEMPTS: usize = 3;
const MAX_REPORTED: usize = 5;

/// Process sets by PID (a set runs from its `p` field to the next one).
/// With NUL terminators every field ends in NUL and each set line in a
/// newline, so sets still start at a line beginning with `p`.
fn sets_by_pid(stdout: &[u8]) -> BTreeMap<u32, Vec<u8>> {
    let mut sets: BTreeMap<u32, Vec<u8>> = BTreeMap::new();
    let mut current: Option<u32> = None;
    for line in stdout.split_inclusive(|&b| b == b'\n') {
        if let Some(rest) = line.strip_prefix(b"p") {
            let digits: Vec<u8> = rest
                .iter()
                .copied()
                .take_while(u8::is_ascii_digit)
                .collect();
            current = std::str::from_utf8(&digits)
                .ok()
                .and_then(|d| d.parse().ok());
        }
        if let Some(pid) = current {
            sets.entry(pid).or_default().extend_from_slice(line);
        }
    }
    for set in sets.values_mut() {
        *set = without_proc_link_count(set);
    }
    sets
}

/// `/proc`'s link count is the number of processes plus a few: any
/// process starting or ending between two listings changes it, so a
/// process holding `/proc` open never lists the same `k` twice on a busy
/// machine. Its `k` line is left out of the comparison.
fn without_proc_link_count(set: &[u8]) -> Vec<u8> {
    let lines: Vec<&[u8]> = set.split_inclusive(|&b| b == b'\n').collect();
    let mut kept = Vec::with_capacity(set.len());
    for (i, line) in lines.iter().enumerate() {
        let names_proc = || {
            lines[i + 1..]
                .iter()
                .take_while(|l| !l.starts_with(b"f"))
                .any(|l| *l == b"n/proc\n")
        };
        if line.starts_with(b"k") && names_proc() {
            continue;
        }
        kept.extend_from_slice(line);
    }
    kept
}

fn compare_stable(args: &[&str]) {
    compare_stable_with_env(args, &[]);
}

/// The same, rlsof running with these variables set.
fn compare_stable_with_env(args: &[&str], env: &[(&str, &str)]) {
    if !require_lsof() {
        return;
    }
    for path in crate::common::paths() {
        let env: Vec<(&str, &str)> = env.iter().chain(path.env).copied().collect();
        compare_stable_on(args, &env, path.name);
    }
}

/// One comparison of [`compare_stable_with_env`], on rlsof's `path`.
fn compare_stable_on(args: &[&str], env: &[(&str, &str)], path: &str) {
    let mut last = String::new();
    for _ in 0..ATTEMPTS {
        let before = sets_by_pid(&run(LSOF, args).stdout);
        let got = sets_by_pid(&run_with_env(rlsof(), args, env).stdout);
        let after = sets_by_pid(&run(LSOF, args).stdout);
        let mut problems = Vec::new();
        let mut stable = 0;
        for (pid, set) in &before {
            if after.get(pid) != Some(set) || crate::common::names_a_kernel_worker(set) {
                continue;
            }
            stable += 1;
            match got.get(pid) {
                Some(ours) if ours == set => {}
                Some(ours) => {
                    problems.push(format!("process {pid}:\n{}", diff::unified(set, ours)))
                }
                None => problems.push(format!("process {pid}: not listed by rlsof")),
            }
        }
        assert!(stable > 0, "no process was stable");
        if problems.is_empty() {
            return;
        }
        problems.truncate(MAX_REPORTED);
        last = problems.join("\n");
        eprintln!("rlsof differs on stable processes; comparing again");
    }
    panic!(
        "rlsof ({path}) differs from lsof for: lsof {}\n{last}",
        shell_words(args)
    );
}

#[test]
fn whole_machine_bare_fields() {
    compare_stable(&["-F", "-n", "-P"]);
}

/// As root on a machine with many sockets (which `RLSOF_SOCKET_BATCH`
/// makes this one), field output has the kernel describe each process's
/// sockets (src/scan/kernel_sockets.rs) and reads no socket table.
#[test]
fn whole_machine_fields_with_sockets_described_by_the_kernel() {
    compare_stable_with_env(&["-F", "-n", "-P"], &[("RLSOF_SOCKET_BATCH", "16")]);
}

/// Where the kernel does not describe sockets (`RLSOF_SOCKET_TABLES`),
/// field output reads the tables a batch of processes at a time
/// (src/scan/batches.rs); batches of 16 sockets make many here.
#[test]
fn whole_machine_fields_in_small_socket_batches() {
    compare_stable_with_env(
        &["-F", "-n", "-P"],
        &[("RLSOF_SOCKET_BATCH", "16"), ("RLSOF_SOCKET_TABLES", "1")],
    );
}

#[test]
fn whole_machine_nul_fields() {
    compare_stable(&["-F0", "-n", "-P"]);
}

#[test]
fn whole_machine_every_letter_with_names() {
    compare_stable(&["-FpcgRuLKMfaltGdDrsoikPnT"]);
}

#[test]
fn whole_machine_terse() {
    if !require_lsof() {
        return;
    }
    for path in crate::common::paths() {
        terse_on(path.env);
    }
}

fn terse_on(env: &[(&str, &str)]) {
    // PIDs alive before and after both lsof runs must be listed alike.
    let before = run(LSOF, &["-t"]);
    let got = run_with_env(rlsof(), &["-t"], env);
    let after = run(LSOF, &["-t"]);
    let pids = |o: &[u8]| -> Vec<u32> {
        String::from_utf8_lossy(o)
            .lines()
            .filter_map(|l| l.parse().ok())
            .collect()
    };
    let (b, g, a) = (pids(&before.stdout), pids(&got.stdout), pids(&after.stdout));
    let mut sorted = g.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(g, sorted, "rlsof -t: PIDs not unique and ascending");
    for pid in b.iter().filter(|p| a.contains(p)) {
        assert!(g.contains(pid), "rlsof -t lacks {pid}");
    }
    assert_eq!(got.status, before.status);
}
