//! `-V` reports the network items that found nothing, as lsof does (after
//! the file names, before the NFS and process items), and they fail the
//! exit status.

use crate::common::{assert_lsof_shows, assert_same_as_lsof, require_lsof, Output};

/// lsof prints `-V` lines on stdout: check that the case shows them.
fn compare_verbose(args: &[&str], lines: &[&str]) {
    if !require_lsof() {
        return;
    }
    let output: Output = assert_same_as_lsof(args);
    assert_lsof_shows(&output, lines);
}

#[test]
fn v_internet_address_not_located() {
    compare_verbose(
        &["-V", "-i", ":1"],
        &["lsof: Internet address not located: :1\n"],
    );
}

#[test]
fn v_internet_addresses_once_each_last_given_first() {
    compare_verbose(
        &[
            "-V",
            "-i",
            ":1",
            "-i",
            ":2",
            "-i",
            "TCP:1",
            "-i",
            ":1",
            "-i",
            "@localhost:3",
        ],
        &["lsof: Internet address not located: @localhost:3\n\
             lsof: Internet address not located: :1\n\
             lsof: Internet address not located: TCP:1\n\
             lsof: Internet address not located: :2\n"],
    );
}

#[test]
fn v_no_internet_files_located() {
    // PID 2 (kthreadd) has no sockets.
    compare_verbose(
        &["-V", "-a", "-p", "2", "-i"],
        &["lsof: no Internet files located\n"],
    );
    compare_verbose(
        &["-V", "-a", "-p", "2", "-i4"],
        &["no Internet files located"],
    );
}

#[test]
fn v_tcp_states_not_located_by_number() {
    compare_verbose(
        &["-V", "-a", "-p", "2", "-i", ":1", "-s", "TCP:LISTEN,CLOSED"],
        &["lsof: Internet address not located: :1\n\
             lsof: TCP state not located: CLOSED\n\
             lsof: TCP state not located: LISTEN\n"],
    );
}

#[test]
fn v_network_lines_among_the_others() {
    compare_verbose(
        &[
            "-V",
            "-a",
            "-p",
            "2",
            "-i",
            ":1",
            "-c",
            "nosuchcmd",
            "-p",
            "999999999",
        ],
        &["command not located: nosuchcmd\nlsof: Internet address not located: :1\n"],
    );
}
