//! Tests of the test harness itself: the diff, the parsing of listings and
//! the rule for which processes the whole-machine comparison looks at.

use crate::common::stable::{compare, Table};
use crate::common::{diff, Output};
use std::collections::BTreeSet;

fn output(stdout: &str) -> Output {
    Output {
        stdout: stdout.as_bytes().to_vec(),
        stderr: Vec::new(),
        status: "exit 0".to_string(),
    }
}

#[test]
fn diff_of_equal_texts_is_empty() {
    assert_eq!(diff::unified(b"a\nb\n", b"a\nb\n"), "");
}

#[test]
fn diff_shows_line_numbers_and_escapes() {
    let text = diff::unified(b"a\nb\nc\n", b"a\nB\xff\nc\n");
    assert!(text.contains("-     2 | b\n"), "{text}");
    assert!(text.contains("+     2 | B\\xff\n"), "{text}");
    assert!(text.contains("      1 | a\n"), "{text}");
}

#[test]
fn diff_reports_a_missing_final_newline() {
    let text = diff::unified(b"a\n", b"a");
    assert!(text.contains("final newline"), "{text}");
}

#[test]
fn diff_of_an_inserted_line_keeps_the_rest_aligned() {
    let text = diff::unified(b"1\n2\n3\n4\n", b"1\n2\nnew\n3\n4\n");
    assert_eq!(
        text.lines().filter(|l| l.starts_with('+')).count(),
        1,
        "{text}"
    );
    assert_eq!(
        text.lines().filter(|l| l.starts_with('-')).count(),
        0,
        "{text}"
    );
}

const LISTING: &str = "\
COMMAND     PID USER   FD   TYPE DEVICE SIZE/OFF NODE NAME
sh            7 root  cwd    DIR  254,0     4096    2 /
Web Conte  1234 root  cwd    DIR  254,0     4096    2 /
Web Conte  1234 root    0r   CHR    1,3      0t0    3 /dev/null
";

#[test]
fn table_groups_rows_by_pid_even_with_spaces_in_the_command() {
    let table = Table::parse(LISTING.as_bytes());
    assert_eq!(
        table.rows.keys().copied().collect::<Vec<_>>(),
        vec![7, 1234]
    );
    assert_eq!(table.rows[&1234].len(), 2);
    assert_eq!(
        table.rows[&7][0],
        b"sh 7 root cwd DIR 254,0 4096 2 /".to_vec()
    );
}

#[test]
fn stable_processes_must_match() {
    let lsof = output(LISTING);
    let changed = LISTING.replace("/dev/null", "/dev/zero");
    let none = BTreeSet::new();
    assert!(compare(&lsof, &lsof, &lsof, &none, &[7, 1234]).is_ok());
    let error = compare(&lsof, &output(&changed), &lsof, &none, &[]).unwrap_err();
    assert!(
        error.contains("PID 1234") && error.contains("/dev/zero"),
        "{error}"
    );
}

#[test]
fn processes_that_changed_between_lsof_runs_are_not_compared() {
    let first = output(LISTING);
    let second = output(&LISTING.replace("/dev/null", "/dev/zero"));
    let mine = output(&LISTING.replace("/dev/null", "/dev/full"));
    let none = BTreeSet::new();
    assert!(compare(&first, &mine, &second, &none, &[7]).is_ok());
    assert!(compare(&first, &mine, &second, &none, &[1234]).is_err());
}

#[test]
fn a_process_alive_throughout_that_lsof_never_lists_must_not_be_listed() {
    let lsof = output(LISTING);
    let extra = format!("{LISTING}extra        99 root  cwd    DIR  254,0     4096    2 /\n");
    let alive: BTreeSet<u32> = [7, 99, 1234].into();
    let error = compare(&lsof, &output(&extra), &lsof, &alive, &[]).unwrap_err();
    assert!(error.contains("PID 99"), "{error}");
    // Not alive throughout: it started or ended during the runs.
    assert!(compare(&lsof, &output(&extra), &lsof, &BTreeSet::new(), &[]).is_ok());
}
