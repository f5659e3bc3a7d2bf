//! Selections beyond `-p`: file names, `+d`/`+D`, `-d`, `-c`, `-u`, `-g`,
//! link counts, `-N`, their combinations under `-a` and with `^`, and the
//! exit status and `-V`/`-Q` reports for what was not found.

use super::compare_on;
use crate::common::stable::assert_same_on_stable_processes;
use crate::common::{assert_lsof_shows, assert_same_as_lsof, require_lsof, run, Fixture};

fn path_in(fixture: &Fixture, name: &str) -> String {
    fixture.dir.join(name).to_string_lossy().into_owned()
}

/// Runs `lsof ARGS` and rlsof with the fixture's paths substituted for
/// `{dir}` and its PID for `{pid}`.
fn compare_with(kinds: &[&str], args: &[&str], markers: &[&str]) {
    if !require_lsof() {
        return;
    }
    let fixture = Fixture::start(kinds);
    let dir = fixture.dir.to_string_lossy().into_owned();
    let pid = fixture.pid_arg();
    let args: Vec<String> = args
        .iter()
        .map(|a| a.replace("{dir}", &dir).replace("{pid}", &pid))
        .collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = assert_same_as_lsof(&args);
    let markers: Vec<String> = markers.iter().map(|m| m.replace("{dir}", &dir)).collect();
    let markers: Vec<&str> = markers.iter().map(String::as_str).collect();
    assert_lsof_shows(&output, &markers);
}

// ---- names -----------------------------------------------------------------

#[test]
fn name_regular_file() {
    compare_with(&["regular"], &["{dir}/read.txt"], &["read.txt"]);
}

#[test]
fn name_two_files() {
    compare_with(
        &["regular"],
        &["{dir}/read.txt", "{dir}/write.txt"],
        &["read.txt", "write.txt"],
    );
}

#[test]
fn name_missing_file_is_an_error() {
    compare_with(&["regular"], &["{dir}/read.txt", "{dir}/no-such-file"], &[]);
}

#[test]
fn name_only_missing_files_stop_at_once() {
    compare_with(&[], &["{dir}/no-such-file", "{dir}/nor-this"], &[]);
}

#[test]
fn name_quiet_and_verbose() {
    compare_with(&["regular"], &["-Q", "{dir}/no-such-file"], &[]);
    compare_with(
        &["regular"],
        &["-Q", "-V", "{dir}/read.txt", "{dir}/none"],
        &[],
    );
}

#[test]
fn name_not_open_with_v() {
    if !require_lsof() {
        return;
    }
    let fixture = Fixture::start(&["regular"]);
    let unopened = path_in(&fixture, "unopened.txt");
    std::fs::write(&unopened, b"x").expect("create a file");
    let read = path_in(&fixture, "read.txt");
    assert_same_as_lsof(&["-V", &read, &unopened]);
    assert_same_as_lsof(&["-V", &unopened, &read, &unopened]);
}

#[test]
fn name_directory_and_trailing_slash() {
    compare_with(&["directory"], &["-a", "-p", "{pid}", "{dir}/"], &["cwd"]);
}

#[test]
fn name_through_a_symbolic_link() {
    if !require_lsof() {
        return;
    }
    let fixture = Fixture::start(&["regular"]);
    let link = path_in(&fixture, "link-to-read");
    std::os::unix::fs::symlink(path_in(&fixture, "read.txt"), &link).expect("symlink");
    assert_same_as_lsof(&[&link]);
}

#[test]
fn name_and_pid_or_and() {
    compare_with(
        &["regular"],
        &["-p", "{pid}", "{dir}/read.txt"],
        &["read.txt"],
    );
    compare_with(
        &["regular"],
        &["-a", "-p", "{pid}", "{dir}/read.txt"],
        &["read.txt"],
    );
}

#[test]
fn name_unix_socket_path() {
    compare_with(&["unix_sockets"], &["{dir}/stream.sock"], &["stream.sock"]);
}

#[test]
fn name_mount_point_with_pid() {
    compare_with(&["devices"], &["-a", "-p", "{pid}", "/dev"], &["/dev/null"]);
}

#[test]
fn name_forced_file_or_file_system() {
    compare_with(&["regular"], &["-f", "--", "{dir}/read.txt"], &["read.txt"]);
    compare_with(&["regular"], &["+f", "--", "{dir}/read.txt"], &[]);
    compare_with(
        &["devices"],
        &["-a", "-p", "{pid}", "+f", "--", "/dev"],
        &["/dev/null"],
    );
}

#[test]
fn plus_d_one_level() {
    compare_with(&["regular", "directory"], &["+d", "{dir}"], &["read.txt"]);
}

#[test]
fn plus_cap_d_whole_tree_with_v() {
    compare_with(
        &["regular", "directory"],
        &["-V", "+D", "{dir}"],
        &["read.txt"],
    );
}

#[test]
fn plus_d_refused() {
    compare_with(&["regular"], &["+d", "{dir}/read.txt"], &[]);
    compare_with(&[], &["+D", "{dir}/no-such-dir"], &[]);
    compare_with(&[], &["-w", "+D", "{dir}/no-such-dir"], &[]);
}

#[test]
fn plus_cap_d_with_pid_and_x() {
    compare_with(
        &["regular"],
        &["-a", "-p", "{pid}", "-x", "+D", "{dir}"],
        &["read.txt"],
    );
}

// ---- -d ----------------------------------------------------------------------

#[test]
fn d_numbers_and_ranges_with_a() {
    compare_on(&["regular"], &["-a", "-d", "0-2,4"], &[" 0"]);
}

#[test]
fn d_names_with_a() {
    compare_on(
        &["regular", "mmaps"],
        &["-a", "-d", "cwd,txt,DEL"],
        &["cwd", "DEL"],
    );
}

#[test]
fn d_exclusions_with_a() {
    compare_on(&["regular", "mmaps"], &["-a", "-d", "^0-2,^mem"], &["txt"]);
}

#[test]
fn d_mixed_inclusion_and_exclusion_is_refused() {
    compare_on(&[], &["-d", "1,^2"], &[]);
}

#[test]
fn d_or_pid_whole_machine() {
    if !require_lsof() {
        return;
    }
    let fixture = Fixture::start(&["regular"]);
    let pid = fixture.pid_arg();
    assert_same_on_stable_processes(&["-n", "-P", "-p", &pid, "-d", "3"], &[fixture.pid]);
}

// ---- -c, -u, -g ------------------------------------------------------------------

#[test]
fn c_prefix_regex_and_exclusion() {
    compare_on(&["regular"], &["-a", "-c", "pyth"], &["python3"]);
    compare_on(&["regular"], &["-a", "-c", "/^PYTH/i"], &["python3"]);
    compare_on(&["regular"], &["-a", "-c", "/py(th)+on/x"], &["python3"]);
    compare_on(
        &["regular"],
        &["-a", "-c", "/py\\(th\\)\\{1\\}on/b"],
        &["python3"],
    );
    compare_on(&["regular"], &["-a", "-c", "^python"], &[]);
    compare_on(&["regular"], &["-V", "-a", "-c", "nomatch"], &[]);
}

#[test]
fn u_and_g_with_a() {
    compare_on(&["regular"], &["-a", "-u", "root"], &["read.txt"]);
    compare_on(&["regular"], &["-a", "-u", "^root"], &[]);
    compare_on(&["regular"], &["-a", "-u", "0,root"], &["read.txt"]);
}

#[test]
fn g_selects_and_adds_the_pgid_column() {
    if !require_lsof() {
        return;
    }
    let fixture = Fixture::start(&["regular"]);
    let pgid = unsafe { libc::getpgid(fixture.pid as i32) }.to_string();
    let pid = fixture.pid_arg();
    let out = assert_same_as_lsof(&["-a", "-g", &pgid, "-p", &pid]);
    assert_lsof_shows(&out, &["PGID"]);
    assert_same_as_lsof(&["-g", "-p", &pid]);
}

#[test]
fn user_errors() {
    if !require_lsof() {
        return;
    }
    assert_same_as_lsof(&["-u", "no-such-user-x,no-such-user-y"]);
    assert_same_as_lsof(&["-u", "root,^0"]);
}

#[test]
fn three_sets_and_exclusions() {
    compare_on(
        &["regular"],
        &["-a", "-u", "root", "-c", "python", "-d", "3-5"],
        &["read.txt"],
    );
    compare_on(
        &["regular", "child"],
        &["-a", "-u", "^4242", "-d", "^3"],
        &["cwd"],
    );
}

// ---- link counts, NFS, reports ------------------------------------------------------

#[test]
fn plus_l_shows_link_counts() {
    compare_on(&["regular", "deleted"], &["+L"], &["NLINK"]);
}

#[test]
fn plus_l1_unlinked_files() {
    compare_on(&["regular", "deleted"], &["-a", "+L1"], &["(deleted)"]);
    compare_on(&["regular", "deleted"], &["-a", "+L", "2"], &["read.txt"]);
    compare_on(&["regular"], &["-L"], &["read.txt"]);
}

/// Divergence: rlsof's `+L1` also lists `DEL` mappings (mapped files since
/// deleted); lsof 4.95 does not, having no link count for them.
#[test]
fn plus_l1_includes_del_mappings() {
    let fixture = Fixture::start(&["mmaps"]);
    let pid = fixture.pid_arg();
    let out = run(crate::common::rlsof(), &["-a", "+L1", "-p", &pid]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines()
            .any(|l| l.contains(" DEL ") && l.contains("mapped-deleted.bin")),
        "{text}"
    );
    assert!(!text.contains("mapped.bin\n"), "{text}");
}

#[test]
fn n_without_nfs() {
    compare_on(&["regular"], &["-V", "-a", "-N"], &[]);
}

#[test]
fn t_with_selections() {
    compare_on(&["regular"], &["-t", "-a", "-d", "3"], &[]);
}

#[test]
fn b_avoids_blocking_calls() {
    compare_on(&["regular"], &["-b", "-a", "-d", "3"], &[]);
    compare_on(&["regular"], &["-b", "-w", "-a", "-d", "3"], &[]);
}

#[test]
fn s_timeout_and_o() {
    compare_on(&["regular"], &["-S", "2", "-O"], &["read.txt"]);
}

/// `-e`: files on an exempt file system are listed unstat'ed. (lsof 4.95
/// also shows stale offsets and flags on other descriptors under `-e`, so
/// the comparison keeps to rows where it does not.)
#[test]
fn e_exempt_file_system() {
    compare_on(
        &["devices"],
        &["-e", "/dev", "-a", "-d", "3-200"],
        &["UNKNfd", "(-e /dev)"],
    );
    compare_on(
        &["devices"],
        &["+e", "/dev", "-a", "-d", "3-200"],
        &["(+e /dev)"],
    );
    compare_on(&["devices"], &["-e", "/tmp/not-a-mount"], &[]);
}

/// Divergence: lsof 4.95's report of `-u` users not found depends on
/// uninitialized memory; rlsof always reports them, as any search item.
#[test]
fn u_not_found_is_reported() {
    let out = run(crate::common::rlsof(), &["-V", "-u", "4243"]);
    assert_eq!(out.status, "exit 1");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "lsof: user ID not located: 4243\n"
    );
}

#[test]
fn k_without_threads_reports_no_tasks() {
    compare_on(&["regular"], &["-V", "-K", "-a", "-d", "3"], &[]);
}

#[test]
fn plus_m_mount_supplement() {
    if !require_lsof() {
        return;
    }
    assert_same_as_lsof(&["+m"]);
    assert_same_as_lsof(&["-b", "+m"]);
}

/// The FD column's width when only named descriptors are listed: lsof
/// spells `cwd` and `rtd` with a leading space, `txt` and `mem` without.
#[test]
fn d_named_descriptors_alone() {
    for names in ["cwd", "txt", "mem", "rtd,mem", "DEL"] {
        compare_on(&["mmaps"], &["-a", "-d", names], &[]);
    }
}

/// lsof credits only one of two `-c` names that both match: the last one.
#[test]
fn c_two_matching_prefixes() {
    compare_on(&["regular"], &["-V", "-a", "-c", "py", "-c", "pyt"], &[]);
    compare_on(&["regular"], &["-V", "-a", "-c", "pyt,py"], &[]);
}

/// `^` exclusions win over names, with and without `-a`.
#[test]
fn exclusions_and_names() {
    compare_with(&["regular"], &["-p", "^{pid}", "{dir}/read.txt"], &[]);
    compare_with(&["regular"], &["-a", "-p", "^{pid}", "{dir}/read.txt"], &[]);
    compare_with(&["regular"], &["-c", "^python", "{dir}/read.txt"], &[]);
    compare_with(
        &["regular", "directory"],
        &[
            "-a",
            "-u",
            "root",
            "-c",
            "python3",
            "-d",
            "3,cwd",
            "{dir}/read.txt",
            "{dir}",
        ],
        &["read.txt"],
    );
}

#[test]
fn b_with_names() {
    compare_with(&["regular"], &["-b", "{dir}/read.txt"], &[]);
    compare_with(&["regular"], &["-b", "-w", "{dir}/read.txt"], &[]);
}

/// `-V` names a `+d`/`+D` directory nobody has open as it was resolved,
/// trailing slashes included.
#[test]
fn plus_d_unused_directory_with_v() {
    if !require_lsof() {
        return;
    }
    let fixture = Fixture::start(&["regular"]);
    let empty = path_in(&fixture, "empty-dir");
    std::fs::create_dir_all(&empty).expect("create a directory");
    let with_slash = format!("{empty}/");
    assert_same_as_lsof(&["-V", "+D", &with_slash]);
    assert_same_as_lsof(&["-V", "+d", &empty]);
}

/// Whole machine: a mount point names every file on its file system, and
/// `-d` and `-c` select across all processes.
#[test]
fn whole_machine_selections() {
    if !require_lsof() {
        return;
    }
    let fixture = Fixture::start(&["regular"]);
    assert_same_on_stable_processes(&["-n", "-P", "/"], &[fixture.pid]);
    assert_same_on_stable_processes(&["-n", "-P", "-c", "python3"], &[fixture.pid]);
    assert_same_on_stable_processes(&["-n", "-P", "-d", "cwd,0-3"], &[fixture.pid]);
}

/// `-a` joining `-U` or `-i` with `-c` or `-u`: whether the command or the
/// user was found (exit status, `-V`) is decided by the processes, not by
/// which of them hold sockets (as root the kernel names the holders
/// first; a process holding none was once never tested).
#[test]
fn a_joins_sockets_with_command_or_user() {
    if !require_lsof() {
        return;
    }
    let quiet = Fixture::start(&["regular", "long_command"]);
    let sockets = Fixture::start(&["unix_sockets", "udp_ipv4"]);
    assert!(quiet.pid != sockets.pid);
    assert_same_as_lsof(&["-U", "-a", "-c", "rlsof-fixture-h"]);
    assert_same_as_lsof(&["-V", "-U", "-a", "-c", "rlsof-fixture-h"]);
    assert_same_as_lsof(&["-V", "-i", "UDP", "-a", "-c", "rlsof-fixture-h"]);
    if !crate::common::require_root() {
        return;
    }
    let _nobody = Fixture::start_as(Some(crate::common::NOBODY), &["regular"]);
    assert_same_as_lsof(&["-V", "-i", "UDP", "-a", "-u", "nobody"]);
    assert_same_as_lsof(&["-V", "-U", "-a", "-u", "nobody", "-c", "python"]);
}
