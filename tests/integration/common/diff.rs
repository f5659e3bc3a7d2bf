//! A line diff for failure messages: expected (lsof) against got (rlsof),
//! with line numbers, a little context, and bytes shown escaped so that
//! control characters and invalid UTF-8 are visible.

use std::fmt::Write as _;

const CONTEXT: usize = 2;
/// Above this many cells the quadratic diff is skipped and the differing
/// middle is shown as one replaced block.
const MAX_CELLS: usize = 4_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Edit {
    Same(usize, usize),
    Removed(usize),
    Added(usize),
}

/// Splits into lines, keeping a final unterminated line visible as such.
pub fn lines(bytes: &[u8]) -> Vec<&[u8]> {
    let mut lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    if lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines
}

pub fn escape(line: &[u8]) -> String {
    line.escape_ascii().to_string()
}

/// A unified-style diff of two byte texts; empty when they are equal.
pub fn unified(expected: &[u8], got: &[u8]) -> String {
    if expected == got {
        return String::new();
    }
    let (old, new) = (lines(expected), lines(got));
    let edits = edit_script(&old, &new);
    let mut out = String::new();
    let changed: Vec<usize> = (0..edits.len())
        .filter(|&i| !matches!(edits[i], Edit::Same(..)))
        .collect();
    let mut shown_until = 0;
    let mut i = 0;
    while i < changed.len() {
        let start = changed[i].saturating_sub(CONTEXT).max(shown_until);
        let mut end = changed[i] + 1;
        while i + 1 < changed.len() && changed[i + 1] <= end + 2 * CONTEXT {
            i += 1;
            end = changed[i] + 1;
        }
        let end = (end + CONTEXT).min(edits.len());
        let _ = writeln!(
            out,
            "@@ expected line {} @@",
            first_old_line(&edits[start..])
        );
        for edit in &edits[start..end] {
            let _ = match *edit {
                Edit::Same(o, _) => writeln!(out, "  {:5} | {}", o + 1, escape(old[o])),
                Edit::Removed(o) => writeln!(out, "- {:5} | {}", o + 1, escape(old[o])),
                Edit::Added(n) => writeln!(out, "+ {:5} | {}", n + 1, escape(new[n])),
            };
        }
        shown_until = end;
        i += 1;
    }
    if expected.last() != got.last() && (expected.ends_with(b"\n") || got.ends_with(b"\n")) {
        out.push_str("(the two texts differ in their final newline)\n");
    }
    out
}

fn first_old_line(edits: &[Edit]) -> usize {
    edits
        .iter()
        .find_map(|e| match *e {
            Edit::Same(o, _) | Edit::Removed(o) => Some(o + 1),
            Edit::Added(_) => None,
        })
        .unwrap_or(0)
}

fn edit_script(old: &[&[u8]], new: &[&[u8]]) -> Vec<Edit> {
    let prefix = old.iter().zip(new).take_while(|(a, b)| a == b).count();
    let suffix = old[prefix..]
        .iter()
        .rev()
        .zip(new[prefix..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let (old_mid, new_mid) = (
        &old[prefix..old.len() - suffix],
        &new[prefix..new.len() - suffix],
    );
    let mut edits: Vec<Edit> = (0..prefix).map(|i| Edit::Same(i, i)).collect();
    edits.extend(middle(old_mid, new_mid, prefix));
    let (old_tail, new_tail) = (old.len() - suffix, new.len() - suffix);
    edits.extend((0..suffix).map(|i| Edit::Same(old_tail + i, new_tail + i)));
    edits
}

/// Longest-common-subsequence alignment of the part between the common
/// prefix and suffix; `offset` is where that part starts in both texts.
fn middle(old: &[&[u8]], new: &[&[u8]], offset: usize) -> Vec<Edit> {
    let (n, m) = (old.len(), new.len());
    if n.saturating_mul(m) > MAX_CELLS {
        let removed = (0..n).map(|i| Edit::Removed(offset + i));
        return removed
            .chain((0..m).map(|j| Edit::Added(offset + j)))
            .collect();
    }
    // common[i][j]: LCS length of old[i..] and new[j..].
    let mut common = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            common[i][j] = if old[i] == new[j] {
                common[i + 1][j + 1] + 1
            } else {
                common[i + 1][j].max(common[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut edits) = (0, 0, Vec::new());
    while i < n || j < m {
        if i < n && j < m && old[i] == new[j] {
            edits.push(Edit::Same(offset + i, offset + j));
            i += 1;
            j += 1;
        } else if i < n && (j == m || common[i + 1][j] >= common[i][j + 1]) {
            edits.push(Edit::Removed(offset + i));
            i += 1;
        } else {
            edits.push(Edit::Added(offset + j));
            j += 1;
        }
    }
    edits
}
