//! rlsof's name for itself, its long options `--help` and `--version`, and
//! what it does when standard output cannot be written.

use crate::common::{assert_same_as_lsof, require_lsof, rlsof, rlsof_as_itself, run};

fn stderr_of(program: &std::path::Path, args: &[&str]) -> String {
    String::from_utf8_lossy(&run(program, args).stderr).into_owned()
}

/// Messages begin with argv[0]'s base name, as lsof's do: run as `lsof`
/// (a link) they are lsof's bytes; run as `rlsof`, `rlsof:`. The same for
/// lsof's messages, rlsof's long options and recovery errors.
#[test]
fn messages_are_signed_with_argv0s_base_name() {
    if require_lsof() {
        assert_same_as_lsof(&["-Z"]);
        assert_same_as_lsof(&["-p", "x"]);
    }
    let itself = rlsof_as_itself();
    assert!(stderr_of(&itself, &["-Z"]).starts_with("rlsof: -Z limited to SELinux\n"));
    let to_alone = ["--to", "/nonexistent"];
    assert!(stderr_of(&itself, &to_alone).starts_with("rlsof: --to goes only with"));
    assert!(stderr_of(&rlsof(), &to_alone).starts_with("lsof: --to goes only with"));
    // A descriptor this test process does not have: a recovery error.
    let target = format!("{}:999999", std::process::id());
    let dir = std::env::temp_dir().join(format!("rlsof-name-{}", std::process::id()));
    let to = dir.join("out");
    let args = [
        "--recover",
        &target,
        "--to",
        to.to_str().expect("utf-8 path"),
    ];
    let recovery = run(&itself, &args);
    assert_eq!(recovery.status, "exit 1");
    let text = String::from_utf8_lossy(&recovery.stderr);
    assert!(text.starts_with("rlsof: "), "{text}");
    assert!(!to.exists());
}

/// `--help` and `--version` print rlsof's help and version on stdout,
/// status 0, whatever else the command line holds (lsof 4.95 refuses both:
/// `illegal option character: -`).
#[test]
fn help_and_version_long_options() {
    let itself = rlsof_as_itself();
    for args in [&["--help"][..], &["-p", "1", "--help"]] {
        let help = run(&itself, args);
        assert_eq!(help.status, "exit 0", "{args:?}");
        assert!(help.stderr.is_empty(), "{args:?}");
        let text = String::from_utf8_lossy(&help.stdout);
        assert!(text.starts_with("usage: rlsof "), "{text}");
        for line in [
            "  -p s: exclude(^)|select PIDs\n",
            "  --deleted  ",
            "  --version  ",
        ] {
            assert!(text.contains(line), "{line:?} missing from:\n{text}");
        }
    }
    let version = run(&itself, &["--version"]);
    assert_eq!(version.status, "exit 0");
    let text = String::from_utf8_lossy(&version.stdout);
    let named = format!("rlsof {}", env!("CARGO_PKG_VERSION"));
    assert!(
        text == format!("{named}\n") || text.starts_with(&format!("{named} (git commit ")),
        "{text}"
    );
    let v = String::from_utf8_lossy(&run(&itself, &["-v"]).stderr).into_owned();
    assert!(
        v.contains(&format!("constructed as: {named} (Rust)")),
        "{v}"
    );
}

/// A misspelt long option is named, followed by lsof's short usage, status
/// 1 as lsof's; forms lsof reads otherwise (`--` ends options, `-` is a
/// name, `--x` is letters) stay lsof's byte for byte.
#[test]
fn misspelt_long_option_is_named() {
    if !require_lsof() {
        return;
    }
    let ours = run(rlsof(), &["--delted"]);
    let lsof = run(crate::common::LSOF, &["-Z"]);
    assert_eq!(ours.status, "exit 1");
    let usage = &lsof.stderr["lsof: -Z limited to SELinux\n".len()..];
    assert_eq!(
        String::from_utf8_lossy(&ours.stderr),
        format!(
            "lsof: unknown option --delted\n{}",
            String::from_utf8_lossy(usage)
        )
    );
    for args in [
        &["--x"][..],
        &["--2"],
        &["---x"],
        &["--", "--delted"],
        &["-", "--delted"],
    ] {
        assert_same_as_lsof(args);
    }
}

/// Runs `program args` with stdout on /dev/full: (status, stderr).
fn to_full_disk(program: &std::path::Path, args: &[&str]) -> (Option<i32>, String) {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("open /dev/full");
    let out = std::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(full)
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.code(), stderr)
}

/// Standard output that cannot be written (a full disk): every mode says
/// so once on stderr and exits 1, where lsof 4.95 exits 0 silently (and
/// with `-r` loops on); recovery still copies the file (DIVERGENCES.md).
#[test]
fn a_failed_write_on_stdout_says_so_and_fails_in_every_mode() {
    let fixture = crate::common::Fixture::start(&["regular", "deleted"]);
    let pid = fixture.pid_arg();
    if require_lsof() {
        let (status, stderr) =
            to_full_disk(std::path::Path::new(crate::common::LSOF), &["-p", &pid]);
        assert_eq!(
            (status, stderr.as_str()),
            (Some(0), ""),
            "lsof's own ending changed"
        );
    }
    let deleted_fd = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("fixture's descriptors")
        .flatten()
        .find(|e| {
            std::fs::read_link(e.path()).is_ok_and(|l| l.to_string_lossy().ends_with(" (deleted)"))
        })
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .expect("the fixture holds a deleted file");
    // Recovery refuses the filesystem the deleted file (in the temporary
    // directory) fills: the copies go to a tmpfs of their own.
    let dir = std::path::Path::new("/dev/shm").join(format!("rlsof-full-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch directory");
    let one = dir.join("one").to_string_lossy().into_owned();
    let all = dir.join("all").to_string_lossy().into_owned();
    let target = format!("{pid}:{deleted_fd}");
    let modes: &[&[&str]] = &[
        &["-p", &pid],
        &["-t", "-p", &pid],
        &["-F", "-p", &pid],
        &["-J", "-p", &pid],
        &["-j", "-p", &pid],
        &["-r1c3", "-p", &pid],
        &["-F", "-r1c3", "-p", &pid],
        &["-V", "-c", "no-such-command", "-a", "-p", &pid],
        &["--deleted", "-p", &pid],
        &["--recover", &target, "--to", &one],
        &["-p", &pid, "--recover-all", "--to", &all],
        &["+m"],
        &["--help"],
        &["--version"],
    ];
    for args in modes {
        let (status, stderr) = to_full_disk(&rlsof_as_itself(), args);
        let expected =
            "rlsof: can't write to standard output: No space left on device (os error 28)\n";
        assert_eq!(
            (status, stderr.as_str()),
            (Some(1), expected),
            "rlsof {args:?}"
        );
    }
    assert!(dir.join("one").exists() && std::fs::read_dir(&all).expect("recovered").count() == 1);
    // `-r` stops at the first failed cycle (lsof loops on): ten cycles a
    // second apart take nine seconds at least, one takes none.
    for args in [&["-r1c10", "-p", &pid][..], &["-F", "-r1c10", "-p", &pid]] {
        let start = std::time::Instant::now();
        let (status, _) = to_full_disk(&rlsof_as_itself(), args);
        let took = start.elapsed();
        assert_eq!(status, Some(1), "rlsof {args:?}");
        assert!(
            took < std::time::Duration::from_secs(5),
            "rlsof {args:?} went on after a failed write: {took:?}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
