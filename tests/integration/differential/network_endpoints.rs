//! `+E` and `-E`: endpoint strings of pipes, ptys, UNIX sockets, loopback
//! TCP/UDP connections and eventfds, and the other ends that `+E` lists.
//! The network fixture and its child share every such file.

use super::network_fixture::NetFixture;
use crate::common::{assert_lsof_shows, assert_same_as_lsof, require_lsof};

fn compare(options: &[&str], one_pid: bool, markers: &[&str]) {
    if !require_lsof() {
        return;
    }
    let fixture = NetFixture::start();
    let pids = if one_pid {
        fixture.pid.to_string()
    } else {
        fixture.pids()
    };
    let mut args: Vec<&str> = options.to_vec();
    args.extend(["-a", "-p", &pids]);
    let output = assert_same_as_lsof(&args);
    if fixture.unavailable.is_empty() {
        assert_lsof_shows(&output, markers);
    }
}

#[test]
fn e_minus_endpoint_strings() {
    compare(
        &["-n", "-P", "-E"],
        false,
        &[
            "pipe ",
            ",python3,",
            "->INO=",
            "->/dev/pts/",
            "[eventfd:",
            "(ESTABLISHED)",
        ],
    );
}

#[test]
fn e_plus_lists_the_other_ends() {
    compare(&["-n", "-P", "+E"], true, &["->INO=", "->/dev/pts/"]);
}

#[test]
fn e_with_names_and_command_widths() {
    compare(&["+E"], true, &["localhost:"]);
    compare(&["-n", "-P", "+c", "0", "-E"], true, &[",,"]);
    compare(&["-n", "-P", "+c", "3", "+E"], true, &[",pyt,"]);
}

#[test]
fn e_with_network_selections() {
    compare(&["-n", "-P", "-i", "+E"], true, &["(ESTABLISHED)"]);
    compare(&["-n", "-P", "-U", "+E"], true, &["->INO="]);
    compare(&["-n", "-P", "-U", "-E"], false, &["->INO="]);
    compare(&["-n", "-P", "-i", "TCP", "-E"], false, &["TCP"]);
}

#[test]
fn e_with_fields() {
    compare(&["-n", "-P", "-F", "pcfn", "+E"], true, &["n"]);
}

#[test]
fn e_with_tcp_info() {
    compare(&["-n", "-P", "-T", "qs", "-E"], true, &["QR="]);
}

/// lsof 4.95 under `+E`/`-E` with `-p PID` ORed with `-i` or `-U` reads only
/// the sockets of every process, so the selected process's other files
/// (cwd, txt, pipes...) are missing; rlsof lists them (DIVERGENCES.md).
#[test]
fn e_with_pid_or_network_lists_the_whole_process() {
    if !require_lsof() {
        return;
    }
    // Endpoint annotations (+E) name whatever holds the other end at the
    // moment each tool looks: other tests' sockets, opened and closed
    // between the two runs, would make them differ.
    let _alone = crate::common::machine::alone();
    let fixture = NetFixture::start();
    let pid = fixture.pid.to_string();
    let args = ["-n", "-P", "-p", &pid, "-i", "+E"];
    let rows = |output: &crate::common::Output| -> Vec<String> {
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter(|l| l.split_whitespace().nth(1) == Some(pid.as_str()))
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect()
    };
    let lsof = rows(&crate::common::run(crate::common::LSOF, &args));
    let ours = rows(&crate::common::rlsof_on_every_path(None, &args));
    assert!(!lsof.iter().any(|r| r.contains(" cwd ")), "{lsof:#?}");
    assert!(ours.iter().any(|r| r.contains(" cwd ")), "{ours:#?}");
    let sockets = |rows: &[String]| -> Vec<String> {
        rows.iter()
            .filter(|r| r.contains(" TCP ") || r.contains(" UDP ") || r.contains(" unix "))
            .cloned()
            .collect()
    };
    assert_eq!(sockets(&lsof), sockets(&ours));
}
