//! What rlsof was built from: its version and, when known, the git commit
//! (recorded by build.rs).

/// rlsof's own version (Cargo.toml).
pub(crate) const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The lsof release whose options and output rlsof reproduces, as lsof
/// prints its own version (`-v`, the usage text) and as the JSON output
/// names it.
pub(crate) const LSOF_VERSION: &str = "4.95.0";

/// The git commit this binary was built from (40 hex digits, with
/// `-dirty` when tracked files had changes), or None when built outside a
/// checkout without one recorded.
pub(crate) fn commit() -> Option<&'static str> {
    option_env!("RLSOF_GIT_COMMIT")
}

/// One line naming the build: `rlsof 0.1.0 (git commit 3ad6572…)`, or
/// `rlsof 0.1.0` when the commit is unknown.
pub(crate) fn version_line() -> String {
    match commit() {
        Some(commit) => format!("rlsof {VERSION} (git commit {commit})"),
        None => format!("rlsof {VERSION}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_is_a_hash_when_known() {
        if let Some(commit) = commit() {
            // RLSOF_BUILD_COMMIT may name it otherwise; git names it in full.
            if option_env!("RLSOF_BUILD_COMMIT").is_none() {
                let hash = commit.strip_suffix("-dirty").unwrap_or(commit);
                assert_eq!(hash.len(), 40, "{commit}");
                assert!(hash.bytes().all(|b| b.is_ascii_hexdigit()), "{commit}");
            }
            assert!(version_line().ends_with(&format!("(git commit {commit})")));
        } else {
            assert_eq!(version_line(), format!("rlsof {VERSION}"));
        }
    }
}
