//! Comparing listings of processes that other programs run beside the test:
//! the whole machine (`lsof -n -P`), or `-K` which lists every task.
//!
//! The machine changes while the tools run, so only what did not change is
//! compared. lsof runs before and after rlsof; a process is *stable* when its
//! rows are the same in both lsof runs, and rlsof must list a stable process
//! with exactly those rows. A process alive before the first run and after
//! the last that lsof never lists must not be listed by rlsof either. The
//! tools' own processes are never stable (each run has a new PID).
//!
//! Column widths depend on every row of the listing, so rows are compared
//! with runs of spaces collapsed; the exact layout is what the `-p` tests
//! compare.

use super::{diff, rlsof, run_as, shell_words, Output, ScanPath, ATTEMPTS, LSOF};
use std::collections::{BTreeMap, BTreeSet};

const MAX_REPORTED_PROCESSES: usize = 10;

/// Rows of a table listing grouped by PID, spaces collapsed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Table {
    pub header: Vec<u8>,
    pub rows: BTreeMap<u32, Vec<Vec<u8>>>,
}

impl Table {
    /// Rows whose PID cannot be read are grouped under PID 0.
    pub fn parse(stdout: &[u8]) -> Table {
        let mut lines = diff::lines(stdout).into_iter();
        let Some(header) = lines.next() else {
            return Table::default();
        };
        let pid_end = header.windows(3).position(|w| w == b"PID").map(|p| p + 3);
        let mut table = Table {
            header: collapse_spaces(header),
            rows: BTreeMap::new(),
        };
        for line in lines {
            let pid = pid_end.and_then(|end| pid_of(line, end)).unwrap_or(0);
            table
                .rows
                .entry(pid)
                .or_default()
                .push(collapse_spaces(line));
        }
        table
    }
}

/// The PID column is right-aligned under its header, so the PID is the word
/// that ends where the header's "PID" ends (command names may hold spaces).
fn pid_of(line: &[u8], pid_end: usize) -> Option<u32> {
    let field = line.get(..pid_end)?;
    let word = field.rsplit(|&b| b == b' ').next()?;
    std::str::from_utf8(word).ok()?.parse().ok()
}

fn collapse_spaces(line: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(line.len());
    for &b in line {
        if !(b == b' ' && out.last() == Some(&b' ')) {
            out.push(b);
        }
    }
    out
}

fn as_text(rows: &[Vec<u8>]) -> Vec<u8> {
    rows.iter()
        .flat_map(|row| row.iter().copied().chain([b'\n']))
        .collect()
}

fn live_pids() -> BTreeSet<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return BTreeSet::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect()
}

/// Compares `lsof ARGS` and `rlsof ARGS` on the processes that stayed the
/// same while they ran (see the module comment). Every PID in `must_compare`
/// has to be among the compared ones: the fixture's, typically.
///
/// As root, once per path of [`super::paths`].
pub fn assert_same_on_stable_processes(args: &[&str], must_compare: &[u32]) {
    for path in super::paths() {
        assert_same_on_stable_processes_on(None, args, must_compare, path);
    }
}

/// [`assert_same_on_stable_processes`] with both tools run as user `uid`
/// (root only): what a user sees of the machine.
pub fn assert_same_on_stable_processes_as(uid: u32, args: &[&str], must_compare: &[u32]) {
    assert_same_on_stable_processes_on(Some(uid), args, must_compare, &super::paths()[0]);
}

fn assert_same_on_stable_processes_on(
    uid: Option<u32>,
    args: &[&str],
    must_compare: &[u32],
    path: &ScanPath,
) {
    let mut last = String::new();
    for _ in 0..ATTEMPTS {
        let alive_before = live_pids();
        let before = run_as(uid, LSOF, args, &[]);
        let got = run_as(uid, rlsof(), args, path.env);
        let after = run_as(uid, LSOF, args, &[]);
        let alive_after = live_pids();
        let alive_throughout: BTreeSet<u32> =
            alive_before.intersection(&alive_after).copied().collect();
        let outcome = compare(&before, &got, &after, &alive_throughout, must_compare);
        match outcome {
            Ok(()) => return,
            Err(text) => {
                eprintln!("rlsof differs from lsof on stable processes; comparing again");
                last = text;
            }
        }
    }
    panic!(
        "rlsof ({}{}) differs from lsof for: lsof {} (tried {ATTEMPTS} times)\n{last}",
        path.name,
        uid.map_or(String::new(), |uid| format!(" as user {uid}")),
        shell_words(args)
    );
}

/// One attempt of the comparison; `Err` describes every difference found.
pub fn compare(
    before: &Output,
    got: &Output,
    after: &Output,
    alive_throughout: &BTreeSet<u32>,
    must_compare: &[u32],
) -> Result<(), String> {
    let mut problems = String::new();
    if before.status == after.status && got.status != before.status {
        problems += &format!("status: lsof {}, rlsof {}\n", before.status, got.status);
    }
    if before.stderr == after.stderr && got.stderr != before.stderr {
        problems += &format!(
            "--- stderr (- lsof, + rlsof)\n{}",
            diff::unified(&before.stderr, &got.stderr)
        );
    }
    let (first, mine, second) = (
        Table::parse(&before.stdout),
        Table::parse(&got.stdout),
        Table::parse(&after.stdout),
    );
    if first.header == second.header && mine.header != first.header {
        problems += &format!(
            "--- header (- lsof, + rlsof)\n{}",
            diff::unified(&first.header, &mine.header)
        );
    }
    let stable: Vec<u32> = first
        .rows
        .iter()
        .filter(|(pid, rows)| {
            **pid != 0
                && second.rows.get(pid) == Some(rows)
                && !rows.iter().any(|row| super::names_a_kernel_worker(row))
        })
        .map(|(pid, _)| *pid)
        .collect();
    let unstable_required: Vec<&u32> = must_compare
        .iter()
        .filter(|p| !stable.contains(p))
        .collect();
    if !unstable_required.is_empty() {
        problems += &format!(
            "lsof did not list these processes the same way twice: {unstable_required:?}\n"
        );
    }
    let mut reported = 0;
    for pid in &stable {
        let expected = &first.rows[pid];
        if mine.rows.get(pid) != Some(expected) && reported < MAX_REPORTED_PROCESSES {
            reported += 1;
            let got_rows = mine.rows.get(pid).map(|r| as_text(r)).unwrap_or_default();
            problems += &format!(
                "--- PID {pid} (- lsof, + rlsof; spaces collapsed{})\n{}",
                if mine.rows.contains_key(pid) {
                    ""
                } else {
                    "; rlsof did not list it"
                },
                diff::unified(&as_text(expected), &got_rows)
            );
        }
    }
    for (pid, rows) in &mine.rows {
        let never_listed = !first.rows.contains_key(pid) && !second.rows.contains_key(pid);
        if never_listed && alive_throughout.contains(pid) && reported < MAX_REPORTED_PROCESSES {
            reported += 1;
            problems += &format!("--- PID {pid}: lsof never listed it, rlsof did:\n");
            for row in rows {
                problems += &format!("+ {}\n", diff::escape(row));
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "compared {} stable processes\n{problems}",
            stable.len()
        ))
    }
}
