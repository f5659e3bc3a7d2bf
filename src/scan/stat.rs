//! `/proc/PID/stat`: the command name, state, parent and process group.

/// What lsof takes from a stat line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatLine {
    pub command: Vec<u8>,
    pub state: u8,
    pub ppid: i32,
    pub pgid: i32,
}

impl StatLine {
    pub fn is_zombie(&self) -> bool {
        self.state == b'Z'
    }
}

/// Parses a stat line. The command sits in parentheses and may itself hold
/// parentheses, spaces and newlines; the fields after it hold none, so the
/// last `)` ends it. (lsof balances parentheses instead, and misreads a
/// command with an unbalanced `)`: see DIVERGENCES.md.)
pub(crate) fn parse_stat(line: &[u8], id: i32) -> Option<StatLine> {
    let open = line.iter().position(|&c| c == b'(')?;
    let close = line.iter().rposition(|&c| c == b')')?;
    if close < open {
        return None;
    }
    let first = std::str::from_utf8(&line[..open]).ok()?.trim();
    if first.parse::<i32>().ok()? != id {
        return None;
    }
    let command = line[open + 1..close].to_vec();
    let rest = std::str::from_utf8(&line[close + 1..]).ok()?;
    let mut fields = rest.split_ascii_whitespace();
    let state = fields.next()?.bytes().next()?;
    let ppid = fields.next()?.parse().ok()?;
    let pgid = fields.next()?.parse().ok()?;
    Some(StatLine {
        command,
        state,
        ppid,
        pgid,
    })
}

/// The number of threads (the 20th field of a stat line).
pub(crate) fn thread_count(line: &[u8]) -> Option<u64> {
    let close = line.iter().rposition(|&c| c == b')')?;
    let rest = std::str::from_utf8(&line[close + 1..]).ok()?;
    // The fields after the command start with the 3rd, the state.
    rest.split_ascii_whitespace().nth(20 - 3)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain() {
        let s = parse_stat(b"42 (bash) S 1 42 42 0 -1", 42).unwrap();
        assert_eq!(s.command, b"bash");
        assert_eq!((s.state, s.ppid, s.pgid), (b'S', 1, 42));
    }

    #[test]
    fn parentheses_and_spaces_in_command() {
        let s = parse_stat(b"7 (a (b) c)) R 3 9 9", 7).unwrap();
        assert_eq!(s.command, b"a (b) c)");
        let s = parse_stat(b"7 (x y) Z 3 9 9", 7).unwrap();
        assert_eq!(s.command, b"x y");
        assert!(s.is_zombie());
    }

    #[test]
    fn newline_in_command() {
        let s = parse_stat(b"7 (a\nb) S 1 7 7", 7).unwrap();
        assert_eq!(s.command, b"a\nb");
    }

    #[test]
    fn threads() {
        let line = b"7 (a) b) S 1 7 7 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 3 0 55 1000 50";
        assert_eq!(thread_count(line), Some(3));
        assert_eq!(thread_count(b"7 (x) S 1 7 7"), None);
    }

    #[test]
    fn wrong_id_or_truncated() {
        assert!(parse_stat(b"8 (x) S 1 1 1", 7).is_none());
        assert!(parse_stat(b"7 (x", 7).is_none());
        assert!(parse_stat(b"7 (x) S", 7).is_none());
        assert!(parse_stat(b"", 7).is_none());
    }
}
