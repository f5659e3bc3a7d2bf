//! `/proc/locks`, read once per run, keyed by (pid, device, inode).

use crate::model::{Dev, Lock};
use std::collections::HashMap;

#[derive(Debug, Default)]
pub struct Locks {
    by_file: HashMap<(i32, Dev, u64), Lock>,
}

impl Locks {
    pub fn parse(text: &[u8]) -> Locks {
        let mut by_file = HashMap::new();
        for line in text.split(|&c| c == b'\n') {
            if let Some((key, lock)) = parse_line(line) {
                // lsof keeps the last lock listed for a file.
                by_file.insert(key, lock);
            }
        }
        Locks { by_file }
    }

    pub fn lock_of(&self, pid: i32, dev: Dev, inode: u64) -> Lock {
        if self.by_file.is_empty() {
            return Lock::None;
        }
        self.by_file
            .get(&(pid, dev, inode))
            .copied()
            .unwrap_or(Lock::None)
    }
}

/// `1: POSIX  ADVISORY  WRITE 1234 fe:00:5678 0 EOF`; waiters (`->`) and
/// lines that do not parse are skipped.
fn parse_line(line: &[u8]) -> Option<((i32, Dev, u64), Lock)> {
    let text = std::str::from_utf8(line).ok()?;
    let mut f = text.split_ascii_whitespace();
    f.next()?; // "1:"
    let class = f.next()?;
    if class == "->" {
        return None;
    }
    f.next()?; // ADVISORY / MANDATORY
    let write = match f.next()?.as_bytes().first()? {
        b'R' => false,
        b'W' => true,
        _ => return None,
    };
    let pid: i32 = f.next()?.parse().ok()?;
    let mut id = f.next()?.split(':');
    let major = u32::from_str_radix(id.next()?, 16).ok()?;
    let minor = u32::from_str_radix(id.next()?, 16).ok()?;
    let inode: u64 = id.next()?.parse().ok()?;
    let start: u64 = f.next()?.parse().ok()?;
    let end = f.next()?;
    let whole = start == 0 && end == "EOF";
    if end != "EOF" {
        end.parse::<u64>().ok()?;
    }
    let lock = match (write, whole) {
        (true, true) => Lock::WriteWhole,
        (true, false) => Lock::WritePart,
        (false, true) => Lock::ReadWhole,
        (false, false) => Lock::ReadPart,
    };
    Some(((pid, Dev { major, minor }, inode), lock))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &[u8] = b"1: POSIX  ADVISORY  WRITE 100 fe:00:77 0 EOF\n\
2: POSIX  ADVISORY  READ 100 fe:00:78 10 19\n\
2: -> POSIX  ADVISORY  WRITE 101 fe:00:78 10 19\n\
3: FLOCK  ADVISORY  READ 102 00:2a:9 0 EOF\n\
4: OFDLCK ADVISORY  WRITE -1 fe:00:80 0 EOF\n\
garbage\n";

    #[test]
    fn kinds() {
        let l = Locks::parse(TEXT);
        let fe = Dev {
            major: 254,
            minor: 0,
        };
        assert_eq!(l.lock_of(100, fe, 77), Lock::WriteWhole);
        assert_eq!(l.lock_of(100, fe, 78), Lock::ReadPart);
        assert_eq!(l.lock_of(101, fe, 78), Lock::None);
        assert_eq!(
            l.lock_of(
                102,
                Dev {
                    major: 0,
                    minor: 42
                },
                9
            ),
            Lock::ReadWhole
        );
        assert_eq!(l.lock_of(-1, fe, 80), Lock::WriteWhole);
    }

    #[test]
    fn last_lock_wins() {
        let l = Locks::parse(
            b"1: POSIX ADVISORY READ 5 fe:00:1 0 EOF\n2: POSIX ADVISORY WRITE 5 fe:00:1 0 4\n",
        );
        assert_eq!(
            l.lock_of(
                5,
                Dev {
                    major: 254,
                    minor: 0
                },
                1
            ),
            Lock::WritePart
        );
    }
}
