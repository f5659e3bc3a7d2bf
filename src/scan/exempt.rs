//! `-e`/`+e` exempt file systems: files there are never stat'ed (nor their
//! links' modes read); lsof lists them with what the link and `maps` say,
//! a type of `UNKN...` and a note naming the exemption.

use crate::model::{Device, FileType, OpenFile};

/// One exempt file system path (links resolved for `-e`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExemptPath {
    pub path: Vec<u8>,
    /// Given with `+e` (used as written).
    pub literal: bool,
}

/// The exempt path that `path` starts with, if any. lsof compares plain
/// prefixes (so `/mnt` also exempts `/mntx/...`); the newest entry wins.
pub(crate) fn exempt_for<'a>(list: &'a [ExemptPath], path: &[u8]) -> Option<&'a ExemptPath> {
    list.iter().rev().find(|e| path.starts_with(&e.path))
}

/// The row lsof prints for a cwd, rtd, txt or fd on an exempt file
/// system; `kind` is lsof's suffix (`cwd`, `rtd`, `txt`, `fd`).
pub(crate) fn exempt_link(file: &mut OpenFile, link: &[u8], kind: &str, e: &ExemptPath) {
    file.file_type = Some(FileType::Other(format!("UNKN{kind}")));
    file.device = Device::Unknown;
    file.name = link.to_vec();
    file.note = Some(note(e));
}

/// A mapping on an exempt file system: the device and inode of `maps`.
pub(crate) fn exempt_mapping(file: &mut OpenFile, deleted: bool, e: &ExemptPath) {
    let kind = if deleted { "UNKNdel" } else { "UNKNmem" };
    file.file_type = Some(FileType::Other(kind.to_string()));
    file.note = Some(note(e));
}

fn note(e: &ExemptPath) -> String {
    let sign = if e.literal { '+' } else { '-' };
    format!("{sign}e {}", String::from_utf8_lossy(&e.path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_prefixes_newest_first() {
        let list = vec![
            ExemptPath {
                path: b"/mnt".to_vec(),
                literal: false,
            },
            ExemptPath {
                path: b"/mnt/a".to_vec(),
                literal: true,
            },
        ];
        assert!(exempt_for(&list, b"/mnt/a/x").is_some_and(|e| e.literal));
        assert!(exempt_for(&list, b"/mntx/y").is_some_and(|e| !e.literal));
        assert!(exempt_for(&list, b"/other").is_none());
    }
}
