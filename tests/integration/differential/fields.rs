//! `-F` field output and `-t`, against lsof 4.95: every field letter, the
//! NUL mode, the letters that switch options on (and the options that take
//! them back), and field output combined with other options.

use super::{compare_on, MIXED};
use crate::common::{assert_lsof_shows, assert_same_as_lsof, require_lsof, Fixture};

/// The field letters lsof 4.95 knows on Linux, in `-F?` order.
const LETTERS: &str = "acdDfGikKlLmMnopgPrRsStTu";

/// Files of every kind the fields describe (threads and a child for
/// `K`/`M`, locks for `l`, sockets for `P`/`T`, devices for `r`).
const KINDS: &[&str] = &[
    "regular",
    "deleted",
    "directory",
    "devices",
    "odd_names",
    "pipes",
    "fifo",
    "unix_sockets",
    "tcp_ipv4",
    "tcp_ipv6",
    "udp_ipv4",
    "eventfd",
    "mmaps",
    "locks_posix_whole",
    "locks_posix_partial",
    "child",
    "thread",
];

/// Runs lsof and rlsof with each option list followed by `-p PID,CHILD`
/// on one fixture.
fn compare_each(kinds: &[&str], option_lists: &[&[&str]]) {
    if !require_lsof() {
        return;
    }
    let fixture = Fixture::start(kinds);
    let pids = match fixture.child {
        Some(child) => format!("{},{child}", fixture.pid),
        None => fixture.pid_arg(),
    };
    for options in option_lists {
        let args: Vec<&str> = options.iter().copied().chain(["-p", &pids]).collect();
        assert_same_as_lsof(&args);
    }
}

#[test]
fn each_letter_alone() {
    let options: Vec<String> = LETTERS.chars().map(|c| format!("-F{c}")).collect();
    let lists: Vec<[&str; 1]> = options.iter().map(|o| [o.as_str()]).collect();
    let lists: Vec<&[&str]> = lists.iter().map(|l| &l[..]).collect();
    compare_each(KINDS, &lists);
}

#[test]
fn each_letter_alone_nul_terminated() {
    let options: Vec<String> = LETTERS.chars().map(|c| format!("-F0{c}")).collect();
    let lists: Vec<[&str; 1]> = options.iter().map(|o| [o.as_str()]).collect();
    let lists: Vec<&[&str]> = lists.iter().map(|l| &l[..]).collect();
    compare_each(KINDS, &lists);
}

#[test]
fn every_letter_at_once_in_any_order() {
    compare_each(
        KINDS,
        &[
            &["-F", LETTERS],
            &["-FuTtSsRrPgponMnLlKkiGfDdca"],
            &["-F0acdDfGikKlLmMnopgPrRsStTu"],
            &["-Fpcfn"],
            &["-Fnfcp"],
            &["-F", "pcfn", "-F", "tsn"],
        ],
    );
}

#[test]
fn bare_f_is_every_field_but_r() {
    compare_on(KINDS, &["-F"], &["fcwd\n", "tREG\n", "G0x", "TST=", "k1\n"]);
}

#[test]
fn bare_f_nul_terminated() {
    compare_on(KINDS, &["-F0"], &["p", "\0\n", "fcwd\0"]);
}

#[test]
fn nul_letter_among_others() {
    compare_on(KINDS, &["-Fpn0"], &["\0\n"]);
}

#[test]
fn field_list_goes_to_stderr() {
    if !require_lsof() {
        return;
    }
    let output = assert_same_as_lsof(&["-F?"]);
    assert!(output.stdout.is_empty());
    assert!(String::from_utf8_lossy(&output.stderr).contains("ID    field description"));
}

#[test]
fn unknown_letter_is_an_error() {
    compare_on(&["regular"], &["-Fpx"], &[]);
}

#[test]
fn letters_that_switch_options_on() {
    // g: PGID, R: PPID, k: link count, T: all TCP/TPI info, G: flags in hex,
    // o: offsets.
    compare_each(
        KINDS,
        &[
            &["-Fpg"],
            &["-FpR"],
            &["-Fpk"],
            &["-FpT"],
            &["-FpG"],
            &["-Fpo"],
            &["-FpgRkTGo"],
        ],
    );
}

#[test]
fn later_options_take_switched_on_options_back() {
    compare_each(
        KINDS,
        &[
            &["-F", "-L"],
            &["-L", "-F"],
            &["-Fk", "-L"],
            &["-F", "-T"],
            &["-F", "-Tq"],
            &["-F", "-Tf"],
            &["-FT", "-Ts"],
            &["-F", "-fg"],
            &["-FG", "-fg"],
        ],
    );
}

#[test]
fn file_flags_column_and_field() {
    compare_each(
        KINDS,
        &[
            &["+fg"],
            &["+fG"],
            &["-F", "+fg"],
            &["+fg", "-F"],
            &["-FG", "+fg"],
            &["+fg", "-FG"],
            &["-F", "+fG"],
            &["-FpfG"],
        ],
    );
}

#[test]
fn fields_with_offsets_and_sizes() {
    compare_each(
        KINDS,
        &[
            &["-F", "-o"],
            &["-F", "-s"],
            &["-F", "-o3"],
            &["-Fso", "-o"],
            &["-Fso", "-s"],
            &["-Fpfso"],
            &["-F0", "-o", "1"],
        ],
    );
}

#[test]
fn fields_with_name_and_user_options() {
    compare_each(
        KINDS,
        &[
            &["-F", "-n", "-P"],
            &["-F", "-l"],
            &["-F", "+c", "0"],
            &["-F", "-R", "-g"],
            &["-F", "+L"],
            &["-F", "-w"],
            &["-F", "-a", "-K"],
        ],
    );
}

#[test]
fn fields_with_internet_selection() {
    compare_each(
        KINDS,
        &[
            &["-F", "-a", "-i", "-n", "-P"],
            &["-Fpcfn", "-a", "-i4", "-n", "-P"],
            &["-F0", "-a", "-i", "TCP", "-n", "-P"],
            &["-FT", "-a", "-i", "-n", "-P", "-T", "qs"],
        ],
    );
}

#[test]
fn fields_with_unix_selection() {
    compare_each(KINDS, &[&["-F", "-a", "-U"], &["-F0pfn", "-a", "-U"]]);
}

#[test]
fn fields_with_endpoints() {
    compare_each(
        &["pipes", "unix_sockets", "child"],
        &[&["-F", "+E"], &["-F", "-E"], &["-Fpfn", "+E"]],
    );
}

#[test]
fn fields_of_an_unreadable_process() {
    if require_lsof() {
        for options in [&["-F"][..], &["-F0"], &["-Fpcfn"], &["-t"]] {
            let args: Vec<&str> = options.iter().copied().chain(["-p", "1"]).collect();
            assert_same_as_lsof(&args);
        }
    }
}

#[test]
fn terse_lists_each_pid_once() {
    compare_each(
        KINDS,
        &[
            &["-t"],
            &["-t", "-a", "-d", "3"],
            &["-t", "-a", "-u", "root"],
            &["-t", "+w"],
            &["-F", "-t"],
            &["-t", "-F"],
        ],
    );
}

#[test]
fn terse_with_threads_shows_the_pid_once() {
    if !require_lsof() {
        return;
    }
    let fixture = Fixture::start(&["regular", "thread"]);
    let tid = fixture.tid.expect("the fixture has a thread").to_string();
    let pid = fixture.pid_arg();
    let output = assert_same_as_lsof(&["-t", "-a", "-K", "-p", &pid]);
    assert_eq!(output.stdout, format!("{pid}\n").into_bytes());
    let fields = assert_same_as_lsof(&["-FpK", "-a", "-K", "-p", &pid]);
    assert_lsof_shows(&fields, &[&format!("K{tid}")[..]]);
}

#[test]
fn terse_exit_status_when_nothing_is_found() {
    if !require_lsof() {
        return;
    }
    let gone = crate::common::vanished_pid().to_string();
    let output = assert_same_as_lsof(&["-t", "-p", &gone]);
    assert_eq!(output.status, "exit 1");
    assert!(output.stdout.is_empty() && output.stderr.is_empty());
}

#[test]
fn fields_match_on_mixed_kinds_with_the_default_options() {
    compare_on(MIXED, &["-F"], &["fmem\n"]);
}

#[test]
fn odd_command_and_task_names() {
    compare_each(
        &["odd_command", "regular", "thread"],
        &[
            &["-F"],
            &["-F0"],
            &["-FpcKM", "-a", "-K"],
            &["-Fc", "+c", "0"],
        ],
    );
}
