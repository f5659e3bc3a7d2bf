//! What a test needs to do its job (root, lsof 4.95, a tool, a kernel
//! feature). Where it is missing a test may skip, saying so, on a
//! developer's machine; under CI (`CI` set: .ci/run, the kernel matrix)
//! everything is provided, so a missing need fails the test with the
//! reason instead of letting it pass without checking anything.

use std::path::Path;
use std::process::Command;

use super::{run, LSOF};

const ORACLE_VERSION: &str = "revision: 4.95";

/// True when `met`. Otherwise false with `why` on stderr (the test then
/// returns without checking anything), or under CI a failure with `why`.
pub fn need(met: bool, why: &str) -> bool {
    if !met {
        cannot_run(why);
    }
    met
}

/// The test cannot do its job here, for `why`: under CI a failure, else
/// said on stderr (the caller then returns).
pub fn cannot_run(why: &str) {
    assert!(
        std::env::var_os("CI").is_none(),
        "cannot run under CI: {why}"
    );
    eprintln!("skipped: {why}");
}

pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// [`need`] root.
pub fn require_root() -> bool {
    need(is_root(), "needs root")
}

/// [`need`] the oracle, lsof 4.95.
pub fn require_lsof() -> bool {
    if !need(Path::new(LSOF).exists(), "/usr/bin/lsof is not installed") {
        return false;
    }
    let version = run(LSOF, &["-v"]);
    let text = [version.stdout, version.stderr].concat();
    need(
        String::from_utf8_lossy(&text).contains(ORACLE_VERSION),
        "/usr/bin/lsof is not lsof 4.95, the version rlsof matches",
    )
}

/// [`need`] `tool` on the PATH (.ci/run installs every tool a test uses).
pub fn have(tool: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success());
    need(found, &format!("{tool} is not installed"))
}
