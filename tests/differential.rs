//! rlsof against /usr/bin/lsof 4.95, byte for byte, on processes of the
//! fixture (tests/fixture/holder.py). One test per option and per kind of
//! file, so that the name of a failing test says what is wrong.

mod common;

use common::stable::assert_same_on_stable_processes;
use common::{assert_lsof_shows, assert_same_as_lsof, require_lsof, vanished_pid, Fixture, Output};

/// Files of many kinds, for the tests of options that change every row.
const MIXED: &[&str] = &[
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
const NETWORK: &[&str] = &[
    "tcp_ipv4",
    "tcp_ipv6",
    "udp_ipv4",
    "udp_ipv6",
    "ipv4_mapped",
];

/// Compares `lsof OPTIONS -p PID` on a fixture holding `kinds`, and checks
/// that lsof's output shows each of `markers`. Skipped without lsof 4.95.
fn compare_on(kinds: &[&str], options: &[&str], markers: &[&str]) {
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
}

/// A kind of file on its own; network kinds numerically, so that socket
/// decoding is tested apart from name lookups.
fn kind(kind: &str, markers: &[&str]) {
    if NETWORK.contains(&kind) {
        compare_on(&[kind], &["-n", "-P"], markers);
    } else {
        compare_on(&[kind], &[], markers);
    }
}

// ---- -p and the process selection -----------------------------------------

#[test]
fn baseline_interpreter_only() {
    compare_on(&[], &[], &["cwd", "rtd", "txt", "mem"]);
}

#[test]
fn p_one_pid_every_kind() {
    compare_on(&["all"], &["-n", "-P"], &[]);
}

#[test]
fn p_two_pids() {
    if !require_lsof() {
        return;
    }
    let fixture = Fixture::start(&["regular", "pipes", "child"]);
    let pids = format!("{},{}", fixture.pid, fixture.child_pid());
    assert_same_as_lsof(&["-p", &pids]);
}

#[test]
fn p_included_and_excluded() {
    if !require_lsof() {
        return;
    }
    let fixture = Fixture::start(&["regular", "child"]);
    let pids = format!("{},^{}", fixture.pid, fixture.child_pid());
    assert_same_as_lsof(&["-p", &pids]);
}

#[test]
fn p_same_pid_included_and_excluded_is_an_error() {
    if !require_lsof() {
        return;
    }
    let fixture = Fixture::start(&[]);
    let pids = format!("{},^{}", fixture.pid, fixture.pid);
    assert_same_as_lsof(&["-p", &pids]);
}

#[test]
fn p_excluded_only_lists_everything_else() {
    if !require_lsof() {
        return;
    }
    let fixture = Fixture::start(&["regular", "child"]);
    let excluded = format!("^{}", fixture.child_pid());
    assert_same_on_stable_processes(&["-n", "-P", "-p", &excluded], &[fixture.pid]);
}

#[test]
fn p_and_selection_with_a() {
    if !require_lsof() {
        return;
    }
    let fixture = Fixture::start(&["regular", "child"]);
    let (pid, child) = (fixture.pid.to_string(), format!("^{}", fixture.child_pid()));
    assert_same_as_lsof(&["-a", "-p", &pid, "-p", &child]);
}

#[test]
fn p_nonexistent_pid() {
    if !require_lsof() {
        return;
    }
    assert_same_as_lsof(&["-p", &vanished_pid().to_string()]);
}

#[test]
fn p_one_existing_one_nonexistent() {
    if !require_lsof() {
        return;
    }
    let fixture = Fixture::start(&["regular"]);
    let pids = format!("{},{}", fixture.pid, vanished_pid());
    assert_same_as_lsof(&["-p", &pids]);
}

#[test]
fn p_unreadable_init_process() {
    if !require_lsof() {
        return;
    }
    assert_same_as_lsof(&["-p", "1"]);
}

// ---- options that change the rows ------------------------------------------

#[test]
fn name_lookups_default() {
    compare_on(NETWORK, &[], &[]);
}

#[test]
fn option_n() {
    compare_on(NETWORK, &["-n"], &["127.0.0.1:"]);
}

#[test]
fn option_capital_p() {
    compare_on(NETWORK, &["-P"], &[]);
}

#[test]
fn option_n_capital_p_clustered() {
    compare_on(NETWORK, &["-nP"], &["127.0.0.1:"]);
}

#[test]
fn option_l() {
    compare_on(MIXED, &["-l"], &[]);
}

#[test]
fn option_w() {
    compare_on(MIXED, &["-w"], &[]);
}

#[test]
fn option_plus_w() {
    compare_on(MIXED, &["+w"], &[]);
}

#[test]
fn option_o() {
    compare_on(MIXED, &["-o"], &[" OFFSET "]);
}

#[test]
fn option_o_with_digits() {
    compare_on(MIXED, &["-o", "4"], &[]);
}

#[test]
fn option_o_with_digits_clustered() {
    compare_on(MIXED, &["-o4"], &[]);
}

#[test]
fn option_s() {
    compare_on(MIXED, &["-s"], &[" SIZE "]);
}

#[test]
fn option_plus_c_0() {
    compare_on(
        &["regular", "long_command"],
        &["+c", "0"],
        &["rlsof-fixture-h "],
    );
}

#[test]
fn option_plus_c_15() {
    compare_on(
        &["regular", "long_command"],
        &["+c", "15"],
        &["rlsof-fixture-h "],
    );
}

#[test]
fn option_plus_c_5() {
    compare_on(&["regular", "long_command"], &["+c", "5"], &["rlsof-f "]);
}

#[test]
fn option_capital_r() {
    if !require_lsof() {
        return;
    }
    let fixture = Fixture::start(&["regular", "child"]);
    let pids = format!("{},{}", fixture.pid, fixture.child_pid());
    assert_same_as_lsof(&["-R", "-p", &pids]);
}

#[test]
fn option_capital_k_and_p() {
    let kinds: Vec<&str> = MIXED.iter().copied().chain(["thread"]).collect();
    compare_on(&kinds, &["-K", "-a"], &[" TID ", "fx-worker"]);
}

/// lsof 4.95 with `-K` and without `-a` also lists other processes' tasks.
#[test]
fn option_capital_k_or_p() {
    if !require_lsof() {
        return;
    }
    let fixture = Fixture::start(&["regular", "thread"]);
    assert_same_on_stable_processes(
        &["-K", "-n", "-P", "-p", &fixture.pid_arg()],
        &[fixture.pid],
    );
}

#[test]
fn option_capital_k_i() {
    compare_on(&["regular", "thread"], &["-K", "i"], &[]);
}

#[test]
fn option_h() {
    if require_lsof() {
        assert_same_as_lsof(&["-h"]);
    }
}

#[test]
fn option_question_mark() {
    if require_lsof() {
        assert_same_as_lsof(&["-?"]);
    }
}

// ---- one kind of file at a time ---------------------------------------------

#[test]
fn regular_files() {
    kind("regular", &["/read.txt", "/write.txt", "/readwrite.txt"]);
}

#[test]
fn regular_file_offsets() {
    compare_on(&["regular"], &["-o"], &["0t7 ", "0t123456 "]);
}

#[test]
fn deleted_file() {
    kind("deleted", &["/deleted.txt (deleted)"]);
}

#[test]
fn directory_fd() {
    kind("directory", &["r   DIR"]);
}

#[test]
fn devices() {
    kind("devices", &["/dev/null", "/dev/zero", "/dev/full"]);
}

#[test]
fn pipes() {
    kind("pipes", &[" pipe"]);
}

#[test]
fn fifo() {
    kind("fifo", &["/fifo"]);
}

#[test]
fn unix_sockets() {
    kind(
        "unix_sockets",
        &[
            "type=SEQPACKET",
            "type=DGRAM",
            "stream.sock type=STREAM (LISTEN)",
            "@rlsof-fixture-",
        ],
    );
}

#[test]
fn tcp_ipv4() {
    kind("tcp_ipv4", &["IPv4", "(LISTEN)", "(ESTABLISHED)"]);
}

#[test]
fn tcp_ipv6() {
    kind("tcp_ipv6", &["IPv6", "TCP [::1]:", "(ESTABLISHED)"]);
}

#[test]
fn udp_ipv4_connected_and_not() {
    kind("udp_ipv4", &["UDP 127.0.0.1:", "->127.0.0.1:"]);
}

#[test]
fn udp_ipv6_connected_and_not() {
    kind("udp_ipv6", &["UDP [::1]:", "->[::1]:"]);
}

#[test]
fn ipv4_mapped_ipv6() {
    kind("ipv4_mapped", &["IPv6", "TCP 127.0.0.1:", "UDP 127.0.0.1:"]);
}

#[test]
fn eventfd() {
    kind("eventfd", &["[eventfd"]);
}

#[test]
fn epoll() {
    kind("epoll", &["[eventpoll"]);
}

#[test]
fn inotify() {
    kind("inotify", &[" inotify"]);
}

#[test]
fn signalfd() {
    kind("signalfd", &["[signalfd]"]);
}

#[test]
fn timerfd() {
    kind("timerfd", &["[timerfd]"]);
}

#[test]
fn pidfd() {
    kind("pidfd", &["[pidfd:"]);
}

#[test]
fn mmap_and_deleted_mmap() {
    kind(
        "mmaps",
        &["mem ", "/mapped.bin", "DEL ", "/mapped-deleted.bin"],
    );
}

#[test]
fn locks_posix_whole() {
    kind("locks_posix_whole", &["uW ", "rR "]);
}

#[test]
fn locks_posix_partial() {
    kind("locks_posix_partial", &["uw ", "rr "]);
}

#[test]
fn locks_flock() {
    kind("locks_flock", &["/flock-shared", "/flock-exclusive"]);
}

#[test]
fn locks_ofd() {
    kind("locks_ofd", &["/ofd-write-whole", "/ofd-read-part"]);
}

#[test]
fn odd_names() {
    kind(
        "odd_names",
        &[
            "/with space",
            "/new\\nline",
            "/esc^[[0m",
            "/bad\\xff",
            "/tab\\there",
        ],
    );
}

#[test]
fn odd_command_name() {
    kind("odd_command", &["fx\\x20^[o "]);
}

#[test]
fn odd_command_name_in_full() {
    compare_on(&["odd_command"], &["+c", "0"], &["fx\\x20^[odd\\tc "]);
}

#[test]
fn long_command_name() {
    kind("long_command", &["rlsof-fix "]);
}

/// lsof 4.95 lists tasks only with -K.
#[test]
fn threads() {
    compare_on(&["thread"], &["-K", "-a"], &["fx-worker"]);
}

#[test]
fn child_sharing_descriptors() {
    if !require_lsof() {
        return;
    }
    let fixture = Fixture::start(&["regular", "pipes", "unix_sockets", "child"]);
    assert_same_as_lsof(&["-p", &fixture.child_pid().to_string()]);
}

// ---- the whole machine --------------------------------------------------------

#[test]
fn whole_system_numeric() {
    if !require_lsof() {
        return;
    }
    let fixture = Fixture::start(&["all"]);
    assert_same_on_stable_processes(&["-n", "-P"], &[fixture.pid, fixture.child_pid()]);
}
