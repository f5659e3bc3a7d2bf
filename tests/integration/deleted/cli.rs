//! `--deleted`, `--recover` and `--recover-all` through the rlsof binary:
//! files truncated to nothing, the note without root, options refused,
//! names escaped, `--to DIR`, sparse copies, the same-filesystem guard.

use super::support::*;
use crate::common::need::is_root;
use crate::common::NOBODY;
use serde_json::Value;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;

fn link_of(holder: &Holder) -> PathBuf {
    PathBuf::from(format!("/proc/{}/fd/{}", holder.pid, fd_of(holder)))
}

/// `truncate -s 0 /proc/PID/fd/N`: the file is still open but holds
/// nothing. The report lists it apart and counts nothing for it;
/// `--recover-all` skips it.
#[test]
fn a_file_truncated_to_nothing_is_not_held() {
    let dir = scratch_dir("cli-trunc");
    let holder = Holder::spawn(
        HOLD_PATTERN,
        &[dir.join("emptied.log").as_os_str(), "400".as_ref()],
    );
    std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(link_of(&holder))
        .expect("truncate through /proc");
    let pid = holder.pid.to_string();
    let out = rlsof(&["-p", &pid, "--deleted"]);
    let shown = text(&out.stdout);
    assert!(out.status.success(), "{shown}");
    let name = dir.join("emptied.log");
    assert!(
        shown.starts_with(
            "No deleted file holds any space.\n\
             Still open but empty (truncated to 0 bytes, no blocks held; not counted above): 1 deleted file\n"
        ),
        "{shown}"
    );
    assert!(
        shown.contains(&format!("  {}\n", name.display())),
        "{shown}"
    );
    assert!(shown.contains(&format!(" {pid} python3 ")), "{shown}");
    assert!(!shown.contains("held by"), "{shown}");

    let out = rlsof(&["-p", &pid, "--deleted", "-J"]);
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["bytes_held"], 0);
    assert_eq!(v["filesystems"].as_array().map(Vec::len), Some(0));
    assert_eq!(v["empty_files"][0]["name"], name.to_str().expect("utf-8"));
    assert_eq!(v["empty_files"][0]["size"], 0);

    let to = dir.join("out");
    let out = rlsof(&[
        "-p",
        &pid,
        "--recover-all",
        "--to",
        to.to_str().expect("utf-8"),
    ]);
    let shown = text(&out.stdout);
    assert!(out.status.success(), "{shown}{}", text(&out.stderr));
    assert!(
        shown.contains("skipped 1 (1 empty), of 1 deleted file"),
        "{shown}"
    );
    assert_eq!(names_in(&to), Vec::<OsString>::new());
    drop(holder);
    let _ = std::fs::remove_dir_all(dir);
}

/// Without root, other users' processes cannot be read: the report says
/// its total may be partial. As root it does not.
#[test]
fn without_root_the_report_says_it_may_be_partial() {
    let note = "Note: not run as root, so other users' processes were not seen; \
                their deleted files are not listed and the total may be partial.\n";
    let out = rlsof(&["--deleted"]);
    let as_me = text(&out.stdout);
    if !is_root() {
        assert!(as_me.ends_with(note), "{as_me}");
        return;
    }
    assert!(!as_me.contains("Note: not run as root"), "{as_me}");
    // A copy nobody can run.
    let shared = scratch_dir("cli-nobody");
    let chmod = |path: &Path, mode: u32| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    };
    chmod(&shared, 0o777);
    let binary = shared.join("rlsof");
    std::fs::copy(rlsof_binary(), &binary).expect("copy rlsof");
    chmod(&binary, 0o755);
    let as_nobody = |args: &[&str]| {
        let mut command = Command::new(&binary);
        std::os::unix::process::CommandExt::uid(&mut command, NOBODY);
        std::os::unix::process::CommandExt::gid(&mut command, NOBODY);
        command.args(args).output().expect("run rlsof as nobody")
    };
    let out = as_nobody(&["--deleted"]);
    let shown = text(&out.stdout);
    assert!(out.status.success(), "{shown}{}", text(&out.stderr));
    assert!(shown.ends_with(note), "{shown}");
    let out = as_nobody(&["--deleted", "-J"]);
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["partial"], true);
    let _ = std::fs::remove_dir_all(shared);
}

/// Options that do not apply are refused with status 1, one error.
#[test]
fn options_that_do_not_apply_are_refused() {
    let refused: &[(&[&str], &str)] = &[
        (
            &["--deleted", "-F", "pcfn"],
            "does not take -F (field output)",
        ),
        (&["--deleted", "-t"], "does not take -t (PIDs only)"),
        (&["--deleted", "-r1"], "does not take -r/+r (repeat mode)"),
        (
            &["--recover", "1:3", "--to", "/nonexistent/x", "/etc/passwd"],
            "names its file itself",
        ),
        (
            &["-p", "1", "--recover", "1:3", "--to", "/nonexistent/x"],
            "names its file itself",
        ),
        (
            &["--recover-all", "--to", "/nonexistent/x", "-j"],
            "does not take -J/-j",
        ),
        (
            &["--recover", "1:3", "--to", ""],
            "--to needs a path, not an empty string",
        ),
    ];
    for (args, message) in refused {
        let out = rlsof(args);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}");
        let first = err.lines().next().unwrap_or_default();
        assert!(first.contains(message), "{args:?}: {err}");
        // One error, then lsof's usage.
        let errors = err.lines().filter(|l| l.contains(": --")).count();
        assert_eq!(errors, 1, "{args:?}: {err}");
    }
}

/// Selection options, names, `-a`, `-J`, `-l` keep working with
/// `--deleted`.
#[test]
fn options_that_apply_keep_working() {
    let dir = scratch_dir("cli-apply");
    let holder = Holder::spawn(
        HOLD_PATTERN,
        &[dir.join("kept.bin").as_os_str(), "10".as_ref()],
    );
    let pid = holder.pid.to_string();
    let df = Command::new("df")
        .args(["--output=target"])
        .arg(&dir)
        .output()
        .expect("df");
    let mount_point = text(&df.stdout)
        .lines()
        .nth(1)
        .unwrap_or("/")
        .trim()
        .to_string();
    let user = if is_root() {
        "root".to_string()
    } else {
        unsafe { libc::geteuid() }.to_string()
    };
    for args in [
        vec!["-p", &pid, "--deleted", "-J"],
        vec![
            "-u",
            &user,
            "-a",
            "-p",
            &pid,
            "-c",
            "python",
            "--deleted",
            "-l",
        ],
        // A file system name: every file on it.
        vec!["-p", &pid, "-a", "--deleted", &mount_point],
    ] {
        let out = rlsof(&args);
        let shown = text(&out.stdout);
        assert!(
            out.status.success(),
            "{args:?}: {shown}{}",
            text(&out.stderr)
        );
        assert!(shown.contains("kept.bin"), "{args:?}: {shown}");
    }
    drop(holder);
    let _ = std::fs::remove_dir_all(dir);
}

/// A name with a newline, bytes that are not UTF-8 and an ESC sequence
/// is printed escaped as the table escapes it, in the report and in the
/// destination paths; JSON carries its exact bytes; the copy gets the
/// exact name.
#[test]
fn names_are_escaped_everywhere() {
    let dir = scratch_dir("cli-escape");
    let raw: &[u8] = b"a\nb\xff\xfe\x1b[31mc";
    let path = dir.join(OsStr::from_bytes(raw));
    let holder = Holder::spawn(HOLD_PATTERN, &[path.as_os_str(), "3".as_ref()]);
    let pid = holder.pid.to_string();
    let escaped = "a\\nb\\xff\\xfe^[[31mc";

    let out = rlsof(&["-p", &pid, "--deleted"]);
    assert!(out.status.success());
    assert!(
        !out.stdout.contains(&0x1b),
        "a raw ESC reached the terminal"
    );
    let shown = text(&out.stdout);
    assert!(
        shown.contains(&format!("{}/{escaped}\n", dir.display())),
        "{shown}"
    );

    let out = rlsof(&["-p", &pid, "--deleted", "-J"]);
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let file = &v["filesystems"][0]["files"][0];
    let mut exact = dir.clone().into_os_string().into_vec();
    exact.push(b'/');
    exact.extend_from_slice(raw);
    assert_eq!(file["name_bytes"], rlsof::print::base64(&exact), "{v}");

    let to = dir.join("out");
    let out = rlsof(&[
        OsStr::new("-p"),
        OsStr::new(&pid),
        OsStr::new("--recover-all"),
        OsStr::new("--force"),
        OsStr::new("--to"),
        to.as_os_str(),
    ]);
    let shown = text(&out.stdout);
    assert!(out.status.success(), "{shown}{}", text(&out.stderr));
    assert!(!out.stdout.contains(&0x1b) && !out.stderr.contains(&0x1b));
    let dest_name = format!("{pid}-{}-{escaped}", fd_of(&holder));
    assert!(
        shown.contains(&format!(" to {}/{dest_name}\n", to.display())),
        "{shown}"
    );
    let mut name = format!("{pid}-{}-", fd_of(&holder)).into_bytes();
    name.extend_from_slice(raw);
    assert_eq!(names_in(&to), [OsString::from_vec(name.clone())]);
    assert_eq!(
        std::fs::read(to.join(OsStr::from_bytes(&name))).expect("copy"),
        pattern(3)
    );

    // `--recover` into a directory: the copy takes the original's exact
    // name; the line names source and destination escaped.
    let into = dir.join("into");
    std::fs::create_dir(&into).expect("mkdir");
    let target = format!("{pid}:{}", fd_of(&holder));
    let out = rlsof(&[
        OsStr::new("--recover"),
        OsStr::new(&target),
        OsStr::new("--force"),
        OsStr::new("--to"),
        into.as_os_str(),
    ]);
    let shown = text(&out.stdout);
    assert!(out.status.success(), "{shown}{}", text(&out.stderr));
    assert!(!out.stdout.contains(&0x1b) && !out.stderr.contains(&0x1b));
    assert!(
        shown.contains(&format!("({}/{escaped} (deleted))", dir.display())),
        "{shown}"
    );
    assert!(
        shown.ends_with(&format!(" to {}/{escaped}\n", into.display())),
        "{shown}"
    );
    assert_eq!(
        std::fs::read(into.join(OsStr::from_bytes(raw))).expect("copy"),
        pattern(3)
    );
    drop(holder);
    let _ = std::fs::remove_dir_all(dir);
}

/// `--to` an existing directory writes DIR/NAME, never over a file.
#[test]
fn recover_into_an_existing_directory() {
    let dir = scratch_dir("cli-todir");
    let holder = Holder::spawn(
        HOLD_PATTERN,
        &[dir.join("gone.bin").as_os_str(), "50".as_ref()],
    );
    let target = format!("{}:{}", holder.pid, fd_of(&holder));
    let into = dir.join("into");
    std::fs::create_dir(&into).expect("mkdir");
    let to = into.to_str().expect("utf-8");
    let out = rlsof(&["--recover", &target, "--to", to, "--force"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let dest = into.join("gone.bin");
    assert!(text(&out.stdout).contains(&format!(" to {}\n", dest.display())));
    assert_eq!(std::fs::read(&dest).expect("copy"), pattern(50));
    std::fs::write(&dest, b"keep me").expect("write");
    let out = rlsof(&["--recover", &target, "--to", to, "--force"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("already exists"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(std::fs::read(&dest).expect("kept"), b"keep me");
    drop(holder);
    let _ = std::fs::remove_dir_all(dir);
}

/// Onto the filesystem the deleted file fills: refused without --force,
/// a warning with it.
#[test]
fn the_same_filesystem_needs_force() {
    let dir = scratch_dir("cli-samefs");
    let holder = Holder::spawn(
        HOLD_PATTERN,
        &[dir.join("gone.bin").as_os_str(), "5".as_ref()],
    );
    let target = format!("{}:{}", holder.pid, fd_of(&holder));
    let dest = dir.join("copy");
    let to = dest.to_str().expect("utf-8");
    let out = rlsof(&["--recover", &target, "--to", to]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("is on the filesystem the deleted file is filling"),
        "{err}"
    );
    assert!(err.contains("--force"), "{err}");
    assert!(!dest.exists());
    let out = rlsof(&["--recover", &target, "--to", to, "--force"]);
    assert!(out.status.success());
    assert!(
        text(&out.stderr).contains("warning: "),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(std::fs::read(&dest).expect("copy"), pattern(5));
    drop(holder);
    let _ = std::fs::remove_dir_all(dir);
}

/// A sparse file (20 MiB long, 4 KiB of data) is copied with its holes:
/// the copy allocates no more than the original plus one block.
#[test]
fn sparse_files_stay_sparse() {
    let Some(source_fs) = Tmpfs::mount("sparse-src", "32m") else {
        return;
    };
    let Some(dest_fs) = Tmpfs::mount("sparse-dst", "32m") else {
        return;
    };
    let holder = Holder::spawn(HOLD_SPARSE, &[source_fs.dir.join("sparse.img")]);
    let link = link_of(&holder);
    let original = std::fs::metadata(&link).expect("held file");
    assert_eq!(original.len(), 20 << 20);
    let dest = dest_fs.dir.join("copy.img");
    let target = format!("{}:{}", holder.pid, fd_of(&holder));
    let out = rlsof(&[
        OsStr::new("--recover"),
        OsStr::new(&target),
        OsStr::new("--to"),
        dest.as_os_str(),
    ]);
    let shown = text(&out.stdout);
    assert!(out.status.success(), "{shown}{}", text(&out.stderr));
    let copy = std::fs::metadata(&dest).expect("copy");
    assert_eq!(copy.len(), original.len());
    assert!(
        copy.blocks() <= original.blocks() + 8,
        "copy {} blocks, original {}",
        copy.blocks(),
        original.blocks()
    );
    assert!(
        shown.contains("recovered 20M (20971520 bytes long, 4.0K allocated)"),
        "{shown}"
    );
    assert_eq!(sha256(&dest), sha256(&link));
    drop(holder);
}
