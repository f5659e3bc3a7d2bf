//! The deleted-files report and recovery, against real processes holding
//! real deleted files. The report's bytes are checked against what `df`
//! and `du` disagree by on a tmpfs mounted for the test (root only: the
//! test says so and skips when it cannot mount).

mod cli;
mod recover_interrupt;
mod support;

use rlsof::cli::options::{Item, Options};
use rlsof::deleted::{deleted_report, recover, recover_all, Interrupts, Recovery};
use rlsof::scan::socket::NoSockets;
use rlsof::scan::{ScanConfig, Scanner};
use rlsof::select::Selection;
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use support::*;

fn scanner() -> Scanner {
    Scanner::new(ScanConfig::default(), Box::new(NoSockets)).expect("open /proc")
}

fn options_for(pids: &[i32]) -> Options {
    let mut opts = Options::new();
    opts.pids = pids
        .iter()
        .map(|&p| Item {
            value: p,
            excluded: false,
        })
        .collect();
    opts
}

fn report(pids: &[i32], json: bool) -> (i32, String) {
    let scanner = scanner();
    let opts = options_for(pids);
    let selection = Selection::new(&opts, Vec::new());
    let all = scanner.pids().expect("list pids");
    let mut out = Vec::new();
    let status = deleted_report(&scanner, &selection, &all, &opts, json, &mut out).expect("report");
    (status, String::from_utf8(out).expect("utf-8 report"))
}

#[test]
fn report_bytes_equal_df_minus_du() {
    let Some(fs) = Tmpfs::mount("report", "32m") else {
        return;
    };
    let dir = fs.dir.to_str().expect("utf-8 path").to_string();
    let first = Holder::spawn(HOLD_LOG_AND_MAPPING, &[&dir]);
    let log_fd = first.word(0).to_string();
    let second = Holder::spawn(HOLD_OTHERS_FD, &[&first.pid.to_string(), &log_fd]);

    let expected = fs.df_minus_du();
    let (status, text) = report(&[first.pid, second.pid], true);
    assert_eq!(status, 0);
    let v: Value = serde_json::from_str(&text).expect("one JSON object");
    let ours = v["filesystems"]
        .as_array()
        .expect("filesystems")
        .iter()
        .find(|f| f["mount_point"] == dir.as_str())
        .unwrap_or_else(|| panic!("no entry for {dir} in {text}"));
    assert_eq!(ours["fs_type"], "tmpfs");
    assert_eq!(ours["device"], "tmpfs");
    assert_eq!(
        ours["bytes_held"].as_u64(),
        Some(expected),
        "df - du = {expected}; report: {text}"
    );

    let files = ours["files"].as_array().expect("files");
    assert_eq!(files.len(), 2, "{text}");
    let log = &files[0];
    assert_eq!(log["name"], format!("{dir}/app.log"));
    assert_eq!(log["size"], 3 * 1024 * 1024 + 1234);
    let holders: Vec<(i64, String)> = log["holders"]
        .as_array()
        .expect("holders")
        .iter()
        .map(|h| (h["pid"].as_i64().unwrap_or(0), h["fd"].to_string()))
        .collect();
    assert_eq!(
        holders,
        vec![
            (first.pid as i64, format!("\"{log_fd}\"")),
            (second.pid as i64, format!("\"{}\"", second.word(0)))
        ]
    );
    let mapped = &files[1];
    assert_eq!(mapped["name"], format!("{dir}/lib.bin"));
    assert_eq!(mapped["size"], 300000);
    assert_eq!(mapped["holders"][0]["fd"], "DEL");

    let (status, text) = report(&[first.pid, second.pid], false);
    assert_eq!(status, 0);
    assert!(text.contains(&format!("{dir} (tmpfs tmpfs")), "{text}");
    assert!(text.contains(&format!("({expected} bytes)")), "{text}");
    drop((first, second));
}

#[test]
fn nothing_deleted_is_one_line_and_success() {
    let dir = scratch_dir("none");
    let holder = Holder::spawn(HOLD_LINKED, &[dir.join("linked").to_str().unwrap_or("")]);
    let (status, text) = report(&[holder.pid], false);
    assert_eq!(
        (status, text.as_str()),
        (0, "No deleted files are held open.\n")
    );
    let (status, text) = report(&[holder.pid], true);
    assert_eq!(status, 0);
    let v: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(v["bytes_held"], 0);
    drop(holder);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_missing_pid_selection_exits_one() {
    let (status, text) = report(&[0x3fff_fff0], false);
    assert_eq!(
        (status, text.as_str()),
        (1, "No deleted files are held open.\n")
    );
}

/// `--recover PID:FD --to TO --force` (the tests' scratch files and their
/// copies share the temp dir's filesystem).
fn run_recover(pid: i32, fd: u32, to: &Path) -> (i32, String, String) {
    run_recover_forced(pid, fd, to, true)
}

fn run_recover_forced(pid: i32, fd: u32, to: &Path, force: bool) -> (i32, String, String) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let stop = Interrupts::none();
    let how = Recovery {
        to,
        force,
        stop: &stop,
    };
    let status = recover(Path::new("/proc"), pid, fd, &how, &mut out, &mut err);
    (
        status,
        String::from_utf8_lossy(&out).into_owned(),
        String::from_utf8_lossy(&err).into_owned(),
    )
}

#[test]
fn recover_copies_the_contents() {
    let dir = scratch_dir("copy");
    let holder = Holder::spawn(
        HOLD_PATTERN,
        &[dir.join("gone.bin").to_str().unwrap_or(""), "4000"],
    );
    let dest = dir.join("back.bin");
    let (status, out, err) = run_recover(holder.pid, fd_of(&holder), &dest);
    assert_eq!(status, 0, "{err}");
    let expected = pattern(4000);
    assert_eq!(std::fs::read(&dest).expect("recovered file"), expected);
    assert!(
        out.contains(&format!("({} bytes long", expected.len())),
        "{out}"
    );
    assert!(out.contains("gone.bin (deleted)"), "{out}");
    let mode = std::fs::metadata(&dest).expect("meta").permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    drop(holder);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn recover_never_overwrites() {
    let dir = scratch_dir("exists");
    let holder = Holder::spawn(
        HOLD_PATTERN,
        &[dir.join("gone.bin").to_str().unwrap_or(""), "10"],
    );
    let dest = dir.join("precious");
    std::fs::write(&dest, b"keep me").expect("write");
    let (status, _, err) = run_recover(holder.pid, fd_of(&holder), &dest);
    assert_eq!(status, 1);
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(std::fs::read(&dest).expect("still there"), b"keep me");
    drop(holder);
    let _ = std::fs::remove_dir_all(dir);
}

/// A destination too small for the copy: refused before a byte is
/// written, for `--recover` and for `--recover-all`.
#[test]
fn a_destination_too_small_is_refused_before_writing() {
    let Some(small) = Tmpfs::mount("full", "1m") else {
        return;
    };
    let dir = scratch_dir("full-src");
    let holder = Holder::spawn(
        HOLD_PATTERN,
        &[dir.join("big.bin").to_str().unwrap_or(""), "16384"],
    );
    let used = used_bytes(&small.dir);
    let dest = small.dir.join("big.bin");
    let (status, out, err) = run_recover_forced(holder.pid, fd_of(&holder), &dest, false);
    assert_eq!(status, 1, "{out}{err}");
    assert!(
        err.contains("does not fit: the copy needs 4.1M (4198400 bytes)"),
        "{err}"
    );
    assert!(err.contains("nothing was written"), "{err}");
    assert_eq!(names_in(&small.dir), Vec::<std::ffi::OsString>::new());
    assert_eq!(used_bytes(&small.dir), used);

    let scanner = scanner();
    let opts = options_for(&[holder.pid]);
    let selection = Selection::new(&opts, Vec::new());
    let all = scanner.pids().expect("pids");
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let stop = Interrupts::none();
    let to = small.dir.join("all");
    let how = Recovery {
        to: &to,
        force: false,
        stop: &stop,
    };
    let status = recover_all(&scanner, &selection, &all, &how, &mut out, &mut err);
    let (out, err) = (text(&out), text(&err));
    assert_eq!(status, 1, "{out}{err}");
    assert!(err.contains("does not fit"), "{err}");
    assert!(
        out.contains("Total: recovered 0 (0 bytes), failed 1 (1 does not fit), skipped 0, of 1 deleted file into "),
        "{out}"
    );
    assert_eq!(names_in(&to), Vec::<std::ffi::OsString>::new());
    drop(holder);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_growing_file_is_copied_up_to_its_size_at_the_start() {
    let dir = scratch_dir("grow");
    let holder = Holder::spawn(HOLD_GROWING, &[dir.join("live.log").to_str().unwrap_or("")]);
    let dest = dir.join("live.copy");
    let (status, out, err) = run_recover(holder.pid, fd_of(&holder), &dest);
    assert_eq!(status, 0, "{err}");
    let copied = std::fs::read(&dest).expect("copy");
    assert!(copied.len() >= 8 * 1024 * 1024);
    assert!(copied.iter().all(|&b| b == b'L'));
    assert!(
        out.contains(&format!("({} bytes long", copied.len())),
        "{out}"
    );
    if out.contains("grew to") {
        assert!(out.contains("bytes it had when the copy started"), "{out}");
    }
    drop(holder);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn recover_errors_are_clear() {
    let dir = scratch_dir("errors");
    let holder = Holder::spawn(HOLD_LINKED, &[dir.join("linked").to_str().unwrap_or("")]);
    let dest = dir.join("out");

    let (status, _, err) = run_recover(holder.pid, 0, &dest);
    assert_eq!(status, 1);
    assert!(err.contains("not a regular file but a pipe"), "{err}");

    let (status, _, err) = run_recover(holder.pid, 999, &dest);
    assert_eq!(status, 1);
    assert!(err.contains("has no fd 999"), "{err}");

    let (status, _, err) = run_recover(0x3fff_fff0, 3, &dest);
    assert_eq!(status, 1);
    assert!(err.contains("no such process: 1073741808"), "{err}");

    assert!(!dest.exists());
    drop(holder);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn recover_all_takes_each_inode_once() {
    let dir = scratch_dir("all");
    let first = Holder::spawn(
        HOLD_PATTERN,
        &[dir.join("one.bin").to_str().unwrap_or(""), "100"],
    );
    let second = Holder::spawn(HOLD_OTHERS_FD, &[&first.pid.to_string(), first.word(0)]);
    let third = Holder::spawn(
        HOLD_PATTERN,
        &[dir.join("two.bin").to_str().unwrap_or(""), "7"],
    );
    let to = dir.join("recovered/nested");

    let scanner = scanner();
    let opts = options_for(&[first.pid, second.pid, third.pid]);
    let selection = Selection::new(&opts, Vec::new());
    let all = scanner.pids().expect("pids");
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let stop = Interrupts::none();
    let how = Recovery {
        to: &to,
        force: true,
        stop: &stop,
    };
    let status = recover_all(&scanner, &selection, &all, &how, &mut out, &mut err);
    let out = String::from_utf8_lossy(&out).into_owned();
    let err = String::from_utf8_lossy(&err).into_owned();
    assert_eq!(status, 0, "{out}{err}");

    let mut names: Vec<String> = std::fs::read_dir(&to)
        .expect("destination dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut expected = vec![
        format!("{}-{}-one.bin", first.pid, first.word(0)),
        format!("{}-{}-two.bin", third.pid, third.word(0)),
    ];
    expected.sort();
    assert_eq!(names, expected, "{out}");
    let one = to.join(format!("{}-{}-one.bin", first.pid, first.word(0)));
    assert_eq!(std::fs::read(one).expect("one"), pattern(100));
    let two = to.join(format!("{}-{}-two.bin", third.pid, third.word(0)));
    assert_eq!(std::fs::read(two).expect("two"), pattern(7));
    assert!(
        out.contains(
            "Total: recovered 2 (27398 bytes), failed 0, skipped 0, of 2 deleted files into "
        ),
        "{out}"
    );
    drop((first, second, third));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn recover_all_reads_mapped_only_files_through_map_files() {
    let dir = scratch_dir("mapped");
    let holder = Holder::spawn(
        HOLD_PATTERN,
        &[
            dir.join("lib.bin").to_str().unwrap_or(""),
            "33",
            "mapped-only",
        ],
    );
    let to = dir.join("out");
    let scanner = scanner();
    let opts = options_for(&[holder.pid]);
    let selection = Selection::new(&opts, Vec::new());
    let all = scanner.pids().expect("pids");
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let stop = Interrupts::none();
    let how = Recovery {
        to: &to,
        force: true,
        stop: &stop,
    };
    let status = recover_all(&scanner, &selection, &all, &how, &mut out, &mut err);
    let out = String::from_utf8_lossy(&out).into_owned();
    let err = String::from_utf8_lossy(&err).into_owned();
    assert_eq!(status, 0, "{out}{err}");
    let copy = to.join(format!("{}-DEL-lib.bin", holder.pid));
    assert_eq!(std::fs::read(copy).expect("copy"), pattern(33), "{out}");
    assert!(
        out.contains(
            "Total: recovered 1 (8451 bytes), failed 0, skipped 0, of 1 deleted file into "
        ),
        "{out}"
    );
    drop(holder);
    let _ = std::fs::remove_dir_all(dir);
}

/// The destination fills up after the checks (another writer): the copy
/// fails with ENOSPC and nothing is left, not even the space it used.
#[test]
fn a_destination_that_fills_during_the_copy_keeps_nothing() {
    use rlsof::deleted::recover::{plan, Source, Target};
    let Some(small) = Tmpfs::mount("fills", "1m") else {
        return;
    };
    let dir = scratch_dir("fills-src");
    let holder = Holder::spawn(
        HOLD_PATTERN,
        &[dir.join("big.bin").to_str().unwrap_or(""), "2400"],
    );
    let source = Source {
        pid: holder.pid,
        what: format!("fd {}", fd_of(&holder)),
        link: format!("/proc/{}/fd/{}", holder.pid, fd_of(&holder)).into(),
    };
    let proc_dir = Path::new("/proc").join(holder.pid.to_string());
    let dest = small.dir.join("copy");
    let ready = plan(&source, &proc_dir, Target::Given(&dest), false).expect("fits at first");
    std::fs::write(small.dir.join("filler"), vec![1u8; 700 * 1024]).expect("filler");
    let used = used_bytes(&small.dir);
    let err = ready
        .copy(&Interrupts::none(), &mut |_, _| {})
        .expect_err("the destination is full")
        .to_string();
    assert!(err.contains("No space left on device"), "{err}");
    assert!(
        err.contains("the destination's filesystem is full"),
        "{err}"
    );
    assert!(err.contains("was not created"), "{err}");
    assert_eq!(names_in(&small.dir), ["filler"]);
    assert_eq!(used_bytes(&small.dir), used);
    drop(holder);
    let _ = std::fs::remove_dir_all(dir);
}
