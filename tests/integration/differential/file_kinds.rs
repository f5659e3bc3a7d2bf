//! One kind of open file at a time (the kinds of tests/fixture/holder.py).

use super::{compare_on, kind};
use crate::common::{assert_same_as_lsof, require_lsof, Fixture};

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

/// util-linux test_mkfds's memfd, sysvshm and io_uring kinds.
#[test]
fn memfd_sysv_shm_and_io_uring() {
    kind(
        "memfd_shm_uring",
        &[
            "/memfd:rlsof-memfd (deleted)",
            "DEL ",
            "/SYSV00000000",
            "[io_uring]",
        ],
    );
}

/// test_mkfds's bpf-map and tun kinds, which only root can make: as root
/// on both paths.
#[test]
fn bpf_map_and_tun() {
    if !require_lsof() || !crate::common::require_root() {
        return;
    }
    if !crate::common::need::need(
        std::path::Path::new("/dev/net/tun").exists(),
        "no /dev/net/tun",
    ) {
        return;
    }
    let fixture = Fixture::start(&["bpf_map_tun"]);
    let output = assert_same_as_lsof(&["-p", &fixture.pid_arg()]);
    crate::common::assert_lsof_shows(&output, &[" bpf-map\n", "/dev/net/tun"]);
}

#[test]
fn mmap_and_deleted_mmap() {
    kind(
        "mmaps",
        &["mem ", "/mapped.bin", "DEL ", "/mapped-deleted.bin"],
    );
}

#[test]
fn odd_mmaps() {
    kind(
        "odd_mmaps",
        &[
            "mapped\\\\012new line.bin",
            "DEL ",
            "/mapped literal\n",
            "/mapped twice.bin",
            "/mapped between.bin",
            "/mapped-after-rename.bin",
        ],
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
