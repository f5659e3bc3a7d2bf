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
//! or colon; [`lsof_path`] reproduces that cut for the printer to choose.

use std::collections::HashMap;

use super::inet::{dec_u64, hex_u64};
use crate::model::{SocketInfo, UnixSocket};

/// Parses `/proc/net/unix` into sockets keyed by inode (first line wins).
pub fn parse_unix_table(text: &[u8]) -> HashMap<u64, SocketInfo> {
    let mut sockets: HashMap<u64, UnixSocket> = HashMap::new();
    let mut last_inode: Option<u64> = None;
    let text = text.strip_suffix(b"\n").unwrap_or(text);
    for line in text.split(|&b| b == b'\n') {
        if !looks_like_record(line) {
            // A newline inside the previous record's path.
            let previous = last_inode.and_then(|inode| sockets.get_mut(&inode));
            if let Some(path) = previous.and_then(|socket| socket.path.as_mut()) {
                path.push(b'\n');
                path.extend_from_slice(line);
            } else {
                last_inode = None;
            }
            continue;
        }
        match parse_unix_line(line) {
            Some((inode, socket)) => {
                let fresh = !sockets.contains_key(&inode);
                sockets.entry(inode).or_insert(socket);
                last_inode = fresh.then_some(inode);
            }
            None => last_inode = None,
        }
    }
    sockets
        .into_iter()
        .map(|(inode, mut socket)| {
            if socket.path.as_ref().is_some_and(|path| path.is_empty()) {
                socket.path = None;
            }
            (inode, SocketInfo::Unix(socket))
        })
        .collect()
}

/// A record starts with the socket's kernel address: hex digits and ':'.
fn looks_like_record(line: &[u8]) -> bool {
    let first = line.split(|&b| b == b' ').next().unwrap_or_default();
    first.len() > 1
        && first.ends_with(b":")
        && first[..first.len() - 1].iter().all(u8::is_ascii_hexdigit)
}

fn parse_unix_line(line: &[u8]) -> Option<(u64, UnixSocket)> {
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
    // An empty path after the space can only be a path starting with '\n';
    // the next line continues it (emptiness is cleared after parsing).
    let path = rest.strip_prefix(b" ");
    let socket = UnixSocket {
        addr,
        sock_type,
        state,
        path: path.map(<[u8]>::to_vec),
        peer: None,
        flags,
    };
    Some((inode, socket))
}

/// The part of a path lsof 4.95 shows: it splits `/proc/net/unix` lines at
/// blanks and colons, so `/tmp/a b.sock` shows as `/tmp/a`. Empty means lsof
/// shows no path at all.
pub fn lsof_path(path: &[u8]) -> &[u8] {
    let end = path
        .iter()
        .position(|&b| matches!(b, b' ' | b'\t' | b':' | b'\n'))
        .unwrap_or(path.len());
    &path[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unix(table: &HashMap<u64, SocketInfo>, inode: u64) -> &UnixSocket {
        match table.get(&inode) {
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
    fn lsof_cuts_paths_at_blanks_and_colons() {
        assert_eq!(lsof_path(b"/tmp/nettest/a b.sock"), b"/tmp/nettest/a");
        assert_eq!(lsof_path(b"/tmp/nettest/c:d.sock"), b"/tmp/nettest/c");
        assert_eq!(lsof_path(b"/tmp/nettest/t\tab"), b"/tmp/nettest/t");
        assert_eq!(lsof_path(b"/tmp/e\nf"), b"/tmp/e");
        assert_eq!(lsof_path(b"@abs name"), b"@abs");
        assert_eq!(lsof_path(b"/run/dbus/socket"), b"/run/dbus/socket");
        assert_eq!(lsof_path(b":x"), b"");
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
