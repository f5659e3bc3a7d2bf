//! Records the git commit rlsof is built from, for `-v` and `--version`
//! (`RLSOF_GIT_COMMIT`, read by `src/build_info.rs`).
//!
//! From a git checkout: `git rev-parse HEAD`, with `-dirty` when the files
//! the binary is built from (src, Cargo.toml, Cargo.lock, build.rs) differ
//! from it. From a published crate: the commit cargo wrote
//! into `.cargo_vcs_info.json`. `RLSOF_BUILD_COMMIT` overrides both (for
//! builds from a tarball); with none of them the commit is left unknown.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=RLSOF_BUILD_COMMIT");
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let commit = std::env::var("RLSOF_BUILD_COMMIT")
        .ok()
        .filter(|c| !c.is_empty() && !c.contains(char::is_whitespace))
        .or_else(|| checkout_commit(&manifest_dir))
        .or_else(|| published_commit(&manifest_dir));
    if let Some(commit) = commit {
        println!("cargo:rustc-env=RLSOF_GIT_COMMIT={commit}");
    }
}

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .arg("--no-optional-locks")
        .args(args)
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    out.status.success().then(|| text.trim().to_string())
}

/// The commit of the checkout this crate is the top of; None when the
/// crate is not a checkout's top (a tarball unpacked inside another
/// repository must not take that repository's commit).
fn checkout_commit(dir: &Path) -> Option<String> {
    let top = git(dir, &["rev-parse", "--show-toplevel"])?;
    if Path::new(&top).canonicalize().ok()? != dir.canonicalize().ok()? {
        return None;
    }
    // Build again when HEAD moves (a commit, a checkout) or the sources
    // change (which may make the tree dirty or clean).
    let mut watched = vec!["HEAD".to_string(), "packed-refs".to_string()];
    if let Some(branch) = git(dir, &["symbolic-ref", "-q", "HEAD"]) {
        watched.push(branch);
    }
    for name in watched {
        if let Some(path) = git(dir, &["rev-parse", "--git-path", &name]) {
            println!("cargo:rerun-if-changed={}", dir.join(path).display());
        }
    }
    let built_from = ["src", "Cargo.toml", "Cargo.lock", "build.rs"];
    for path in built_from {
        println!("cargo:rerun-if-changed={path}");
    }
    let commit = git(dir, &["rev-parse", "HEAD"])?;
    let clean = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["--no-optional-locks", "diff", "--quiet", "HEAD", "--"])
        .args(built_from)
        .status()
        .is_ok_and(|s| s.success());
    Some(if clean {
        commit
    } else {
        format!("{commit}-dirty")
    })
}

/// The commit `cargo package` recorded, in a crate unpacked from a .crate.
fn published_commit(dir: &Path) -> Option<String> {
    let info = std::fs::read_to_string(dir.join(".cargo_vcs_info.json")).ok()?;
    let at = info.find("\"sha1\"")?;
    let value = info[at + "\"sha1\"".len()..].split('"').nth(1)?;
    let is_hash = value.len() == 40 && value.bytes().all(|b| b.is_ascii_hexdigit());
    is_hash.then(|| value.to_string())
}
