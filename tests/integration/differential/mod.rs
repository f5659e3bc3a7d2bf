//! rlsof against /usr/bin/lsof 4.95, byte for byte, on processes of the
//! fixture (tests/fixture/holder.py). One test per option and per kind of
//! file, so that the name of a failing test says what is wrong.

mod fields;
mod fields_machine;
mod fields_repeat;
mod file_kinds;
mod kernel_smoke;
mod kernel_threads;
mod locale;
mod network;
mod network_endpoints;
mod network_fixture;
mod odd_processes;
mod option_errors;
mod options;
mod own_messages;
mod process_links;
mod selection;
mod selection_options;
mod verbose_network;

use crate::common;
use crate::common::{assert_lsof_shows, assert_same_as_lsof, require_lsof, Fixture, Output};

/// Files of many kinds, for the tests of options that change every row.
pub const MIXED: &[&str] = &[
    "regular",
    "deleted",
    "directory",
    "devices",
    "pipes",
    "unix_sockets",
    "tcp_ipv4",
    "tcp_ipv6",
    "udp_ipv4",
    "eventfd",
    "mmaps",
    "locks_posix_whole",
];
pub const NETWORK: &[&str] = &[
    "tcp_ipv4",
    "tcp_ipv6",
    "udp_ipv4",
    "udp_ipv6",
    "ipv4_mapped",
];

/// Compares `lsof OPTIONS -p PID` on a fixture holding `kinds`, and checks
/// that lsof's output shows each of `markers`. Skipped without lsof 4.95.
pub fn compare_on(kinds: &[&str], options: &[&str], markers: &[&str]) {
    if !require_lsof() {
        return;
    }
    let fixture = Fixture::start(kinds);
    let pid = fixture.pid_arg();
    let args: Vec<&str> = options.iter().copied().chain(["-p", &pid]).collect();
    let output: Output = assert_same_as_lsof(&args);
    if fixture.unavailable.is_empty() {
        assert_lsof_shows(&output, markers);
    } else {
        eprintln!(
            "not checked: this machine cannot hold {:?}",
            fixture.unavailable
        );
    }
    drop(fixture);
    compare_as_nobody(kinds, options, markers);
}

/// [`compare_on`] as user nobody (as root): the fixture and both tools
/// run as nobody, the path a user's rlsof takes. Not for `-u` selections,
/// which name the fixture's user (root), and whose report lsof leaves to
/// chance (DIVERGENCES.md 10).
fn compare_as_nobody(kinds: &[&str], options: &[&str], markers: &[&str]) {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 || options.contains(&"-u") {
        return;
    }
    let fixture = Fixture::start_as(Some(common::NOBODY), kinds);
    let pid = fixture.pid_arg();
    let args: Vec<&str> = options.iter().copied().chain(["-p", &pid]).collect();
    let output = common::assert_same_as_lsof_as(Some(common::NOBODY), &args, &[], "as nobody");
    if fixture.unavailable.is_empty() {
        assert_lsof_shows(&output, markers);
    }
}

/// A kind of file on its own; network kinds numerically, so that socket
/// decoding is tested apart from name lookups.
pub fn kind(kind: &str, markers: &[&str]) {
    if NETWORK.contains(&kind) {
        compare_on(&[kind], &["-n", "-P"], markers);
    } else {
        compare_on(&[kind], &[], markers);
    }
}
