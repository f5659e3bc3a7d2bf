//! `/proc/PID/maps`: the mapped files lsof lists as `mem` and `DEL`.

use crate::model::Dev;
use std::collections::HashSet;

/// A mapped file, once per (device, inode), in maps order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Mapping {
    pub dev: Dev,
    pub inode: u64,
    /// The path, without a trailing " (deleted)".
    pub path: Vec<u8>,
    /// The kernel marked the path " (deleted)".
    pub deleted: bool,
    /// The first mapping's addresses (see [`Mapping::map_file`]).
    pub start: u64,
    pub end: u64,
}

impl Mapping {
    /// The name of the `/proc/PID/map_files/` link to the file: the first
    /// mapping's addresses, `start-end`, hexadecimal, unpadded. Made when
    /// asked (rarely: most mappings are stat'ed by path).
    pub(crate) fn map_file(&self) -> String {
        format!("{:x}-{:x}", self.start, self.end)
    }

    /// `map_files/START-END`, the link's path under `/proc/PID`.
    pub(crate) fn map_files_link(&self) -> std::ffi::CString {
        let path = format!("map_files/{}", self.map_file());
        std::ffi::CString::new(path).expect("hexadecimal digits hold no NUL")
    }
}

/// Parses maps text, skipping anonymous mappings and de-duplicating by
/// device and inode as lsof does.
pub(crate) fn parse_maps(text: &[u8]) -> Vec<Mapping> {
    let mut out: Vec<Mapping> = Vec::new();
    let mut seen: HashSet<(Dev, u64)> = HashSet::new();
    for line in text.split(|&c| c == b'\n') {
        let Some(m) = parse_line(line) else { continue };
        // A file is mapped several times in a row (text, data, ...): the
        // path is copied only for its first mapping.
        let same_as_last = out
            .last()
            .is_some_and(|o| o.dev == m.dev && o.inode == m.inode);
        if same_as_last || !seen.insert((m.dev, m.inode)) {
            continue;
        }
        out.push(Mapping {
            dev: m.dev,
            inode: m.inode,
            path: m.path.to_vec(),
            deleted: m.deleted,
            start: m.start,
            end: m.end,
        });
    }
    out
}

/// A maps line's file, its path still in the text.
struct LineMapping<'t> {
    start: u64,
    end: u64,
    dev: Dev,
    inode: u64,
    path: &'t [u8],
    deleted: bool,
}

fn parse_line(line: &[u8]) -> Option<LineMapping<'_>> {
    // address perms offset dev inode   path
    let mut rest = line;
    let mut fields: [&[u8]; 5] = [&[]; 5];
    for slot in fields.iter_mut() {
        rest = trim_start(rest);
        let end = rest.iter().position(|&c| c == b' ').unwrap_or(rest.len());
        *slot = &rest[..end];
        rest = &rest[end..];
    }
    let path = trim_start(rest);
    if path.is_empty() {
        return None;
    }
    let mut dev = fields[3].split(|&c| c == b':');
    let major = hex(dev.next()?)?;
    let minor = hex(dev.next()?)?;
    let inode = std::str::from_utf8(fields[4]).ok()?.parse::<u64>().ok()?;
    if major == 0 && minor == 0 && inode == 0 {
        return None;
    }
    let (start, end) = std::str::from_utf8(fields[0]).ok()?.split_once('-')?;
    let start = u64::from_str_radix(start, 16).ok()?;
    let end = u64::from_str_radix(end, 16).ok()?;
    let (path, deleted) = match path.strip_suffix(b" (deleted)") {
        Some(p) if !p.is_empty() => (p, true),
        _ => (path, false),
    };
    Some(LineMapping {
        start,
        end,
        dev: Dev { major, minor },
        inode,
        path,
        deleted,
    })
}

fn trim_start(b: &[u8]) -> &[u8] {
    let n = b.iter().take_while(|&&c| c == b' ').count();
    &b[n..]
}

fn hex(b: &[u8]) -> Option<u32> {
    u32::from_str_radix(std::str::from_utf8(b).ok()?, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_once_each_in_order() {
        let text =
            b"00000055-00000056 r--p 00000000 fe:00 247282                     /usr/bin/head\n\
56-57 r-xp 00002000 fe:00 247282                     /usr/bin/head\n\
58-59 rw-p 00000000 00:00 0 \n\
60-61 rw-p 00000000 00:00 0                          [heap]\n\
62-63 r--p 00000000 00:1a 99                         /tmp/a b (deleted)\n\
64-65 r--p 00000000 fe:01 12                         /lib/x.so\n";
        let m = parse_maps(text);
        assert_eq!(m.len(), 3);
        assert_eq!(m[0].path, b"/usr/bin/head");
        assert_eq!(m[0].map_file(), "55-56");
        assert_eq!(
            m[0].dev,
            Dev {
                major: 254,
                minor: 0
            }
        );
        assert_eq!(m[1].path, b"/tmp/a b");
        assert!(m[1].deleted);
        assert_eq!(
            m[2].dev,
            Dev {
                major: 254,
                minor: 1
            }
        );
    }

    #[test]
    fn malformed_lines_are_skipped() {
        assert!(parse_maps(b"x\n\n55-56 r--p 0 zz:00 1 /a\n55-56 r--p 0 fe:00 q /a\n").is_empty());
    }
}
