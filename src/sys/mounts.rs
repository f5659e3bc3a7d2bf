//! The mount table (`/proc/self/mountinfo`): one parser, and one
//! [`MountTable`] per run, read once when first needed and shared by
//! everything that asks (argument resolution, the blocking guard, the scan).

use crate::model::Dev;
use std::path::PathBuf;
use std::sync::OnceLock;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    pub mnt_id: u32,
    pub dev: Dev,
    /// The mount point, with the kernel's octal escapes (`\040`) undone.
    pub mount_point: Vec<u8>,
    pub fs_type: String,
    /// The mount source (device path or server:path).
    pub source: Vec<u8>,
}

/// A mount table read from `path` on first use, then kept: share it (in
/// an `Arc`) so that a run reads `mountinfo` at most once.
#[derive(Debug)]
pub struct MountTable {
    path: PathBuf,
    mounts: OnceLock<Vec<Mount>>,
}

impl MountTable {
    /// The table of rlsof's own mount namespace (`/proc/self/mountinfo`).
    pub fn own() -> MountTable {
        MountTable::at("/proc/self/mountinfo")
    }

    /// The table in file `path` (`<proc root>/self/mountinfo`).
    pub fn at(path: impl Into<PathBuf>) -> MountTable {
        MountTable {
            path: path.into(),
            mounts: OnceLock::new(),
        }
    }

    /// A table given outright, never read (tests).
    pub fn of(mounts: Vec<Mount>) -> MountTable {
        MountTable {
            path: PathBuf::new(),
            mounts: OnceLock::from(mounts),
        }
    }

    /// The mounts, oldest first; empty when the file cannot be read.
    pub fn get(&self) -> &[Mount] {
        self.mounts.get_or_init(|| {
            std::fs::read(&self.path)
                .map(|text| parse_mountinfo(&text))
                .unwrap_or_default()
        })
    }
}

pub(crate) fn parse_mountinfo(text: &[u8]) -> Vec<Mount> {
    text.split(|&c| c == b'\n').filter_map(parse_line).collect()
}

/// `36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw`
fn parse_line(line: &[u8]) -> Option<Mount> {
    let fields: Vec<&[u8]> = line.split(|&c| c == b' ').collect();
    let mnt_id = std::str::from_utf8(fields.first()?).ok()?.parse().ok()?;
    let dev_text = std::str::from_utf8(fields.get(2)?).ok()?;
    let (major, minor) = dev_text.split_once(':')?;
    let dev = Dev {
        major: major.parse().ok()?,
        minor: minor.parse().ok()?,
    };
    let mount_point = unescape(fields.get(4)?);
    let dash = fields.iter().position(|f| *f == b"-")?;
    let fs_type = String::from_utf8_lossy(fields.get(dash + 1)?).into_owned();
    let source = unescape(fields.get(dash + 2)?);
    Some(Mount {
        mnt_id,
        dev,
        mount_point,
        fs_type,
        source,
    })
}

/// Undoes the kernel's `\ooo` escaping of space, tab, newline and backslash.
pub(crate) fn unescape(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            let v = (b[i + 1] - b'0') as u32 * 64
                + (b[i + 2] - b'0') as u32 * 8
                + (b[i + 3] - b'0') as u32;
            if v <= 255 {
                out.push(v as u8);
                i += 4;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lines() {
        let m = parse_mountinfo(
            b"24 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n\
30 24 0:25 / /dev/mqueue rw - mqueue mqueue rw\n\
31 24 0:26 / /mnt/a\\040b rw - tmpfs tmp\\040fs rw\nbad line\n",
        );
        assert_eq!(m.len(), 3);
        assert_eq!(
            m[0].dev,
            Dev {
                major: 254,
                minor: 0
            }
        );
        assert_eq!(m[1].fs_type, "mqueue");
        assert_eq!(m[2].mount_point, b"/mnt/a b");
        assert_eq!(m[2].source, b"tmp fs");
    }
}
