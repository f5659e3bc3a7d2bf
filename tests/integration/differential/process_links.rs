//! The working directory, root directory and executable (lsof's cwd, rtd
//! and txt) of processes that make them odd: a removed working
//! directory, two processes in one directory (the second is told from
//! what the first was: src/scan/process/from_kernel.rs), a chroot, a
//! removed and a renamed executable. The same as lsof on every path, as
//! root and as nobody.

use super::odd_processes::{same_as_lsof_everywhere, Holder};
use crate::common::{require_lsof, require_root};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};

/// A directory of the test's own, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("rlsof-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch dir");
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `sleep` copied to `path` and started from there; killed when dropped.
struct CopiedSleep(Child);

impl CopiedSleep {
    fn start(path: &Path) -> CopiedSleep {
        std::fs::copy("/bin/sleep", path).expect("copy sleep");
        let child = Command::new(path).arg("120").spawn().expect("start sleep");
        // Started once its executable is no longer the shell's.
        let exe = format!("/proc/{}/exe", child.id());
        for _ in 0..200 {
            if std::fs::read_link(&exe).is_ok_and(|p| p == path) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        CopiedSleep(child)
    }

    fn pid(&self) -> String {
        self.0.id().to_string()
    }
}

impl Drop for CopiedSleep {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn python_str(path: &Path) -> String {
    format!("{:?}", path.to_str().expect("a UTF-8 path"))
}

#[test]
fn odd_working_directories_roots_and_executables() {
    if !require_lsof() || !require_root() {
        return;
    }
    let scratch = Scratch::new("links");
    let (shared, gone, jail) = (
        scratch.0.join("shared dir"),
        scratch.0.join("removed dir"),
        scratch.0.join("jail"),
    );
    for dir in [&shared, &gone, &jail] {
        std::fs::create_dir(dir).expect("dir");
    }
    let in_shared = format!("os.chdir({})", python_str(&shared));
    let first = Holder::start(&in_shared, false);
    let second = Holder::start(&in_shared, false);
    let removed = Holder::start(
        &format!("os.chdir({0}); os.rmdir({0})", python_str(&gone)),
        false,
    );
    let jailed = Holder::start(
        &format!("os.chroot({}); os.chdir('/')", python_str(&jail)),
        false,
    );
    let deleted_exe = CopiedSleep::start(&scratch.0.join("sleep copy"));
    std::fs::remove_file(scratch.0.join("sleep copy")).expect("remove");
    let renamed_exe = CopiedSleep::start(&scratch.0.join("sleep a"));
    std::fs::rename(scratch.0.join("sleep a"), scratch.0.join("sleep b")).expect("rename");
    let pids = [
        first.pid.clone(),
        second.pid.clone(),
        removed.pid.clone(),
        jailed.pid.clone(),
        deleted_exe.pid(),
        renamed_exe.pid(),
    ]
    .join(",");
    let output = same_as_lsof_everywhere(&["-p", &pids]);
    let text = String::from_utf8_lossy(&output.stdout);
    let shown = |s: &str| assert!(text.contains(s), "no {s:?} in:\n{text}");
    shown(&format!("{} (deleted)", gone.display()));
    shown(&format!("{}\n", jail.display()));
    shown(&format!(
        "{} (deleted)",
        scratch.0.join("sleep copy").display()
    ));
    shown(&format!("{}\n", scratch.0.join("sleep b").display()));
    let in_shared_rows = text
        .lines()
        .filter(|l| l.contains(" cwd ") && l.ends_with(&*shared.to_string_lossy()))
        .count();
    assert_eq!(in_shared_rows, 2, "{text}");
    // The links alone, and with the mappings (which bring the kernel's
    // view of the links along).
    same_as_lsof_everywhere(&["-a", "-p", &pids, "-d", "cwd,rtd,txt"]);
    same_as_lsof_everywhere(&["-a", "-p", &pids, "-d", "cwd,rtd,txt,mem,DEL"]);
}

/// Runs `mount ARGS`; false (and says why) where it fails.
fn mount(args: &[&str]) -> bool {
    let out = Command::new("mount").args(args).output().expect("mount");
    if !out.status.success() {
        eprintln!(
            "skipped: mount {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    out.status.success()
}

/// A process working in an overlay and mapping files through it (its
/// maps lines are the overlay's paths; since Linux 6.8 the mapped file
/// is a "backing file" around the real one): the same as lsof on every
/// path.
#[test]
fn a_process_in_an_overlay_mapping_files_through_it() {
    if !require_lsof() || !require_root() {
        return;
    }
    let scratch = Scratch::new("overlay-links");
    let base = scratch.0.join("layers");
    std::fs::create_dir(&base).expect("dir");
    let on = |s: &Path| s.to_str().expect("UTF-8").to_string();
    if !mount(&["-t", "tmpfs", "rlsof-layers", &on(&base)]) {
        return;
    }
    for dir in ["lower", "upper", "work", "merged"] {
        std::fs::create_dir(base.join(dir)).expect("layer");
    }
    std::fs::write(base.join("lower/lower.bin"), [1u8; 8192]).expect("file");
    let options = format!(
        "lowerdir={0}/lower,upperdir={0}/upper,workdir={0}/work",
        on(&base)
    );
    let merged = base.join("merged");
    let mounted = mount(&["-t", "overlay", "overlay", "-o", &options, &on(&merged)]);
    if mounted {
        std::fs::write(merged.join("upper.bin"), [2u8; 8192]).expect("file");
        let mapping = format!(
            "import mmap\nos.chdir({0})\nopened = [open(n, 'rb') for n in ('lower.bin', 'upper.bin')]\nkept = [mmap.mmap(f.fileno(), 4096, prot=mmap.PROT_READ) for f in opened]",
            python_str(&merged)
        );
        let holder = Holder::start(&mapping, false);
        let output = same_as_lsof_everywhere(&["-p", &holder.pid]);
        let text = String::from_utf8_lossy(&output.stdout);
        for name in ["lower.bin", "upper.bin"] {
            let shown = format!("{}\n", merged.join(name).display());
            assert!(text.contains(&shown), "no {shown:?} in:\n{text}");
        }
        drop(holder);
        let _ = Command::new("umount").arg(&merged).status();
    }
    let _ = Command::new("umount").arg(&base).status();
}
