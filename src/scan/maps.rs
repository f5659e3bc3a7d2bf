//! `/proc/PID/maps`: the mapped files lsof lists as `mem` and `DEL`.

use crate::model::Dev;
use std::collections::HashSet;
use std::hash::BuildHasherDefault;

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
    /// `map_files/START-END`, the link to the file under `/proc/PID`, by
    /// its first mapping's addresses. Made when asked (rarely: most
    /// mappings are stat'ed by path).
    pub(crate) fn map_files_link(&self) -> std::ffi::CString {
        map_files_link(self.start, self.end)
    }
}

/// `map_files/START-END`, the link under `/proc/PID` to the file mapped
/// from `start` to `end` (hexadecimal, unpadded).
pub(crate) fn map_files_link(start: u64, end: u64) -> std::ffi::CString {
    let path = format!("map_files/{start:x}-{end:x}");
    std::ffi::CString::new(path).expect("hexadecimal digits hold no NUL")
}

/// Parses maps text, skipping anonymous mappings and de-duplicating by
/// device and inode as lsof does.
pub(crate) fn parse_maps(text: &[u8]) -> Vec<Mapping> {
    let mut unique = UniqueMappings::default();
    for line in text.split(|&c| c == b'\n') {
        let Some(m) = parse_line(line) else { continue };
        if unique.is_new(m.dev, m.inode) {
            unique.push(Mapping {
                dev: m.dev,
                inode: m.inode,
                path: m.path.to_vec(),
                deleted: m.deleted,
                start: m.start,
                end: m.end,
            });
        }
    }
    unique.mappings
}

/// Mapped files, once per (device, inode), in the order first met.
#[derive(Default)]
pub(crate) struct UniqueMappings {
    pub mappings: Vec<Mapping>,
    seen: HashSet<(Dev, u64), BuildHasherDefault<DevInodeHasher>>,
}

impl UniqueMappings {
    /// Whether file (`dev`, `inode`) is met for the first time.
    pub(crate) fn is_new(&mut self, dev: Dev, inode: u64) -> bool {
        // A file is mapped several times in a row (text, data, ...): the
        // path is copied only for its first mapping.
        let same_as_last = self
            .mappings
            .last()
            .is_some_and(|o| o.dev == dev && o.inode == inode);
        !same_as_last && self.seen.insert((dev, inode))
    }

    pub(crate) fn push(&mut self, m: Mapping) {
        self.mappings.push(m);
    }
}

/// Whether a mapping of device `dev` and inode `inode` is anonymous to
/// maps (as `[heap]`, or a mapping of no file): device 00:00, inode 0.
pub(crate) fn is_anonymous(dev: Dev, inode: u64) -> bool {
    dev.major == 0 && dev.minor == 0 && inode == 0
}

/// A path as maps prints it, split from its " (deleted)" mark.
pub(crate) fn split_deleted(path: &[u8]) -> (&[u8], bool) {
    match path.strip_suffix(b" (deleted)") {
        Some(p) if !p.is_empty() => (p, true),
        _ => (path, false),
    }
}

/// A path as `readlink` gives it (`d_path`), as maps prints it: maps
/// escapes a newline, the one character that would end its line, as
/// `\012` (the kernel's `mangle_path`).
pub(crate) fn as_maps_prints(path: &[u8]) -> Vec<u8> {
    let mut shown = Vec::with_capacity(path.len());
    for &c in path {
        if c == b'\n' {
            shown.extend_from_slice(b"\\012");
        } else {
            shown.push(c);
        }
    }
    shown
}

/// The de-duplicating set's hash: a multiply-rotate over the device and
/// inode numbers. The set is filled for every process of a listing, and
/// SipHash (the standard one, made to resist chosen keys, which these
/// are not) showed as a share of the whole listing's time.
#[derive(Default)]
struct DevInodeHasher(u64);

impl std::hash::Hasher for DevInodeHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x517c_c1b7_2722_0a95);
    }

    fn finish(&self) -> u64 {
        self.0
    }
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

/// `address perms offset dev inode   path`: None for an anonymous
/// mapping (no path, or device 00:00 and inode 0, as `[heap]`) or a
/// malformed line. Most lines of most processes are anonymous: they are
/// told by their fields' text before any number is parsed.
fn parse_line(line: &[u8]) -> Option<LineMapping<'_>> {
    let mut rest = line;
    let mut fields: [&[u8]; 5] = [&[]; 5];
    for slot in fields.iter_mut() {
        rest = trim_start(rest);
        let end = rest.iter().position(|&c| c == b' ').unwrap_or(rest.len());
        *slot = &rest[..end];
        rest = &rest[end..];
    }
    let path = trim_start(rest);
    if path.is_empty() || (fields[3] == b"00:00" && fields[4] == b"0") {
        return None;
    }
    let (major, minor) = split_at_byte(fields[3], b':')?;
    let dev = Dev {
        major: hex(major)?,
        minor: hex(minor)?,
    };
    let inode = decimal(fields[4])?;
    if is_anonymous(dev, inode) {
        return None;
    }
    let (start, end) = split_at_byte(fields[0], b'-')?;
    let (start, end) = (hex(start)?, hex(end)?);
    let (path, deleted) = split_deleted(path);
    Some(LineMapping {
        start,
        end,
        dev,
        inode,
        path,
        deleted,
    })
}

fn trim_start(b: &[u8]) -> &[u8] {
    let n = b.iter().take_while(|&&c| c == b' ').count();
    &b[n..]
}

fn split_at_byte(b: &[u8], sep: u8) -> Option<(&[u8], &[u8])> {
    let at = b.iter().position(|&c| c == sep)?;
    Some((&b[..at], &b[at + 1..]))
}

/// A hexadecimal number of maps (unsigned, at most 16 digits; maps
/// writes lowercase, either case is read).
fn hex<T: TryFrom<u64>>(b: &[u8]) -> Option<T> {
    if b.is_empty() || b.len() > 16 {
        return None;
    }
    let mut n = 0u64;
    for &c in b {
        let digit = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => return None,
        };
        n = n << 4 | u64::from(digit);
    }
    T::try_from(n).ok()
}

/// A decimal number of maps (unsigned, within u64).
fn decimal(b: &[u8]) -> Option<u64> {
    if b.is_empty() {
        return None;
    }
    b.iter().try_fold(0u64, |n, &c| {
        let digit = c.checked_sub(b'0').filter(|&d| d < 10)?;
        n.checked_mul(10)?.checked_add(u64::from(digit))
    })
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
        assert_eq!(m[0].map_files_link().to_bytes(), b"map_files/55-56");
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
    fn a_readlink_path_as_maps_prints_it() {
        assert_eq!(as_maps_prints(b"/tmp/a\nb c"), b"/tmp/a\\012b c");
        assert_eq!(split_deleted(b"/x (deleted)"), (&b"/x"[..], true));
        assert_eq!(split_deleted(b" (deleted)"), (&b" (deleted)"[..], false));
        assert_eq!(map_files_link(0x55, 0x5a).to_bytes(), b"map_files/55-5a");
    }

    #[test]
    fn malformed_lines_are_skipped() {
        assert!(parse_maps(b"x\n\n55-56 r--p 0 zz:00 1 /a\n55-56 r--p 0 fe:00 q /a\n").is_empty());
    }

    #[test]
    fn full_width_addresses_and_large_numbers_parse() {
        let text = b"7ffd4a1b2000-7ffd4a1b4000 r--p 00000000 103:0a 18446744073709551615 /x\n\
ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n";
        let m = parse_maps(text);
        assert_eq!(m.len(), 1);
        assert_eq!((m[0].start, m[0].end), (0x7ffd_4a1b_2000, 0x7ffd_4a1b_4000));
        assert_eq!(
            m[0].dev,
            Dev {
                major: 0x103,
                minor: 0xa
            }
        );
        assert_eq!(m[0].inode, u64::MAX);
    }

    #[test]
    fn numbers_out_of_range_or_not_numbers_are_refused() {
        assert_eq!(hex::<u32>(b"100000000"), None);
        assert_eq!(hex::<u64>(b"fffffffffffffffff"), None);
        assert_eq!(hex::<u32>(b""), None);
        assert_eq!(hex::<u32>(b"+1"), None);
        assert_eq!(hex::<u32>(b"fE"), Some(0xfe));
        assert_eq!(decimal(b"18446744073709551616"), None);
        assert_eq!(decimal(b"12a"), None);
        assert_eq!(decimal(b""), None);
        assert_eq!(decimal(b"007"), Some(7));
    }

    #[test]
    fn a_file_mapped_apart_twice_is_listed_once_at_its_first_place() {
        let text = b"1-2 r--p 0 08:01 5 /a\n3-4 r--p 0 08:01 6 /b\n5-6 r--p 0 08:01 5 /a\n";
        let m = parse_maps(text);
        let paths: Vec<&[u8]> = m.iter().map(|m| &m.path[..]).collect();
        assert_eq!(paths, [&b"/a"[..], &b"/b"[..]]);
        assert_eq!(m[0].start, 1);
    }
}
