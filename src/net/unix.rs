//! Parser for `/proc/net/unix`:
//!
//! ```text
//! Num       RefCount Protocol Flags    Type St Inode Path
//! 00000000f1249bc7: 00000002 00000000 00010000 0001 01 15921 /run/a b.sock
//! ```
//!
//! The kernel prints the path raw after one space: it may hold spaces, tabs,
//! colons and even newlines (abstract names start with `@`, their NUL bytes
//! shown as `@`). A line that is not a record continues the previous record's
//! path after a newline. lsof 4.95 instead cuts the path at the first blank
//! or colon; rlsof shows it whole (DIVERGENCES.md).

use super::inet::{dec_u64, hex_u64};
use super::store::{InodeSet, UnixRecord};

/// `/proc/net/unix` as it is read, line by line: records and the buffer of
/// their paths.
#[derive(Debug, Default)]
pub(crate) struct UnixLines {
    pub records: Vec<UnixRecord>,
    pub paths: Vec<u8>,
    /// The last record has a path that a following line may continue.
    path_open: bool,
}

impl UnixLines {
    /// One line; a record whose inode is not in `only` (when given) is
    /// skipped, the lines continuing its path too.
    pub(crate) fn line(&mut self, line: &[u8], only: Option<&InodeSet>) {
        if !looks_like_record(line) {
            // A newline inside the previous record's path: it is the last
            // record's and its path ends the buffer.
            match self.records.last_mut() {
                Some(last) if self.path_open => {
                    let grown = line.len() + 1;
                    match u32::try_from(grown)
                        .ok()
                        .and_then(|g| last.path_len.checked_add(g))
                    {
                        Some(len) if fits(self.paths.len() + grown) => {
                            self.paths.push(b'\n');
                            self.paths.extend_from_slice(line);
                            last.path_len = len;
                        }
                        _ => self.path_open = false,
                    }
                }
                _ => self.path_open = false,
            }
            return;
        }
        self.path_open = false;
        let Some((mut record, path)) = parse_unix_line(line) else {
            return;
        };
        if !InodeSet::keeps(only, record.inode) {
            return;
        }
        if let Some(path) = path {
            let start = self.paths.len();
            if let (Ok(path_start), Ok(path_len), true) = (
                u32::try_from(start),
                u32::try_from(path.len()),
                fits(start + path.len()),
            ) {
                self.paths.extend_from_slice(path);
                record.path_start = path_start;
                record.path_len = path_len;
                // An empty path after the space can only be a path starting
                // with a newline: the next line continues it.
                self.path_open = true;
            }
        }
        self.records.push(record);
    }
}

/// Paths are found by 32-bit offsets into their buffer.
fn fits(len: usize) -> bool {
    u32::try_from(len).is_ok()
}

/// A record starts with the socket's kernel address: hex digits and ':'.
fn looks_like_record(line: &[u8]) -> bool {
    let first = line.split(|&b| b == b' ').next().unwrap_or_default();
    first.len() > 1
        && first.ends_with(b":")
        && first[..first.len() - 1].iter().all(u8::is_ascii_hexdigit)
}

/// One record line, and the path after the space that follows the inode.
fn parse_unix_line(line: &[u8]) -> Option<(UnixRecord, Option<&[u8]>)> {
    let mut rest = line;
    let mut next_field = || -> Option<&[u8]> {
        let start = rest.iter().position(|&b| b != b' ')?;
        let tail = &rest[start..];
        let end = tail.iter().position(|&b| b == b' ').unwrap_or(tail.len());
        let field = &tail[..end];
        rest = &tail[end..];
        Some(field)
    };
    let num = next_field()?.strip_suffix(b":")?;
    let addr = hex_u64(num)?;
    hex_u64(next_field()?)?; // RefCount
    hex_u64(next_field()?)?; // Protocol
    let flags = u32::try_from(hex_u64(next_field()?)?).ok()?;
    let sock_type = u32::try_from(hex_u64(next_field()?)?).ok()?;
    let state = u32::try_from(hex_u64(next_field()?)?).ok()?;
    let inode = dec_u64(next_field()?)?;
    let record = UnixRecord {
        inode,
        addr,
        sock_type,
        state,
        flags,
        path_start: 0,
        path_len: 0,
    };
    Some((record, rest.strip_prefix(b" ")))
}

#[cfg(test)]
mod tests {
    use crate::model::{SocketInfo, UnixSocket};
    use crate::net::store::Table;
    use crate::net::SocketTable;

    fn parse_unix_table(text: &[u8]) -> Table {
        SocketTable::Unix.parse(text)
    }

    fn unix(table: &Table, inode: u64) -> UnixSocket {
        match table.get(inode) {
            Some(SocketInfo::Unix(socket)) => socket,
            other => panic!("inode {inode}: {other:?}"),
        }
    }

    const TEXT: &[u8] = b"Num       RefCount Protocol Flags    Type St Inode Path
00000000f1249bc7: 00000003 00000000 00000000 0005 03 12756
00000000ed795f81: 00000002 00000000 00010000 0001 01 15921 /tmp/nettest/a b.sock
000000004b54a69d: 00000002 00000000 00010000 0001 01 15922 /tmp/nettest/c:d.sock
00000000b60ec0b3: 00000002 00000000 00010000 0001 01 15923 /tmp/nettest/e
f.sock
000000006920a7ad: 00000002 00000000 00010000 0001 01 15926 /tmp/nettest/t\tab
00000000250f7343: 00000002 00000000 00010000 0001 01 15925 @x@y
00000000b15ebf3e: 00000002 00000000 00010000 0001 01 15924 @abs name
00000000b15ebf3f: 00000002 00000000 zz 0001 01 15999 /bad/flags
00000000b15ebf40: 00000002 00000000 00000000 0002 01
";

    #[test]
    fn records_and_odd_paths() {
        let table = parse_unix_table(TEXT);
        assert_eq!(table.len(), 7, "{table:?}");
        let plain = unix(&table, 12756);
        assert_eq!(plain.addr, 0xf1249bc7);
        assert_eq!((plain.sock_type, plain.state, plain.flags), (5, 3, 0));
        assert_eq!(plain.path, None);
        let spaced = unix(&table, 15921);
        assert_eq!(spaced.path.as_deref(), Some(&b"/tmp/nettest/a b.sock"[..]));
        assert_eq!(spaced.flags, 0x10000);
        assert_eq!(
            unix(&table, 15922).path.as_deref(),
            Some(&b"/tmp/nettest/c:d.sock"[..])
        );
        assert_eq!(
            unix(&table, 15923).path.as_deref(),
            Some(&b"/tmp/nettest/e\nf.sock"[..])
        );
        assert_eq!(
            unix(&table, 15926).path.as_deref(),
            Some(&b"/tmp/nettest/t\tab"[..])
        );
        assert_eq!(unix(&table, 15924).path.as_deref(), Some(&b"@abs name"[..]));
        assert_eq!(unix(&table, 15925).path.as_deref(), Some(&b"@x@y"[..]));
    }

    #[test]
    fn path_starting_with_newline() {
        let text = b"0000000000000001: 00000002 00000000 00000000 0001 01 7 \nx\n0000000000000002: 00000002 00000000 00000000 0001 01 8 \n";
        let table = parse_unix_table(text);
        assert_eq!(unix(&table, 7).path.as_deref(), Some(&b"\nx"[..]));
        assert_eq!(unix(&table, 8).path, None);
    }

    #[test]
    fn continuation_without_record_is_dropped() {
        let text = b"stray line\n0000000000000001: 00000002 00000000 00000000 0001 01 7\nmore\n";
        let table = parse_unix_table(text);
        assert_eq!(table.len(), 1);
        assert_eq!(unix(&table, 7).path, None);
    }

    #[test]
    fn garbage_does_not_panic() {
        for text in [
            &b""[..],
            b":",
            b"\n: : : :",
            b"\xff\xff: 1 2 3 4 5 6 7",
            b"   \n  ",
        ] {
            let _ = parse_unix_table(text);
        }
    }
}
