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
