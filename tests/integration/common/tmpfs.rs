//! A tmpfs mounted for one test: the deleted-files and fleet tests measure
//! what `df` and `du` say of it, and fill it up on purpose.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::need::need;

/// Unmounted and removed when dropped.
pub struct Tmpfs {
    pub dir: PathBuf,
}

impl Tmpfs {
    /// A tmpfs of `size` (`mount`'s `size=` value) on a fresh directory;
    /// None (see [`need`]) where it cannot be mounted (not root).
    pub fn mount(tag: &str, size: &str) -> Option<Tmpfs> {
        let dir = std::env::temp_dir().join(format!("rlsof-mnt-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create a mount point");
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&dir)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        let why = format!("cannot mount a tmpfs at {} (needs root)", dir.display());
        if !need(mounted, &why) {
            let _ = std::fs::remove_dir(&dir);
            return None;
        }
        Some(Tmpfs { dir })
    }

    /// What `df` counts as used minus what `du` finds: the space of files
    /// deleted but still open.
    pub fn df_minus_du(&self) -> u64 {
        df_minus_du(&self.dir)
    }
}

/// [`Tmpfs::df_minus_du`] of the file system mounted on `dir`.
pub fn df_minus_du(dir: &Path) -> u64 {
    let number = |program: &str, args: &[&str], line: usize, field: usize| -> u64 {
        let out = Command::new(program).args(args).arg(dir).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let line = text.lines().nth(line).unwrap_or_default();
        let word = line.split_whitespace().nth(field).unwrap_or_default();
        word.parse()
            .unwrap_or_else(|_| panic!("{program} {args:?} {}: {text:?}", dir.display()))
    };
    number("df", &["-B1", "--output=used"], 1, 0) - number("du", &["-s", "-B1"], 0, 0)
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let unmounted = Command::new("umount")
            .arg(&self.dir)
            .status()
            .is_ok_and(|s| s.success());
        if !unmounted {
            // Still busy (a child not yet reaped): detach it lazily.
            let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
        }
        let _ = std::fs::remove_dir(&self.dir);
    }
}
