//! The comma-separated selection lists: PIDs and PGIDs (`-p`, `-g`), file
//! descriptors (`-d`), users (`-u`), command names (`-c`) and TCP states
//! (`-s`), with lsof's checks and messages.

use super::options::{CommandSpec, FdSpec, StateSpec, UserSpec};
use super::state::{item, leading_number, shown, split_exclusion, State};
use crate::escape::{safe_text, safe_text_limited};
use crate::model::TcpState;

/// Longest command name the kernel keeps (lsof's MAXSYSCMDL).
pub(super) const MAX_COMMAND_LEN: usize = 15;
/// Longest login name (lsof's LOGINML, the utmp field).
const MAX_LOGIN_LEN: usize = 32;

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum IdKind {
    Process,
    Group,
}

/// `-p` / `-g` list.
pub(super) fn enter_ids(state: &mut State, kind: IdKind, value: Option<&[u8]>) {
    let noun = match kind {
        IdKind::Process => "process",
        IdKind::Group => "process group",
    };
    let Some(text) = value else {
        state.error(format!("no {noun} ID specified"));
        return;
    };
    for piece in list_items(text) {
        let (excluded, digits) = split_exclusion(piece);
        if !digits.iter().all(u8::is_ascii_digit) {
            state.error(format!("illegal {noun} ID: {}", shown(text)));
            return;
        }
        let id = leading_number(digits).0 as i32;
        let list = match kind {
            IdKind::Process => &mut state.opts.pids,
            IdKind::Group => &mut state.opts.pgids,
        };
        if list.iter().any(|i| i.value == id && i.excluded == excluded) {
            continue;
        }
        if list.iter().any(|i| i.value == id) {
            let letter = if kind == IdKind::Group { "G" } else { "" };
            state.error(format!("P{letter}ID {id} has been included and excluded."));
            continue;
        }
        list.push(item(id, excluded));
    }
}

/// Comma-separated items as lsof walks them: an empty item counts (as 0),
/// except after a trailing comma or in an empty list.
fn list_items(text: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut pieces: Vec<&[u8]> = text.split(|&b| b == b',').collect();
    if pieces.last().is_some_and(|p| p.is_empty()) {
        pieces.pop();
    }
    pieces.into_iter()
}

/// `-d` list.
pub(super) fn enter_fds(state: &mut State, value: Option<&[u8]>) {
    let Some(text) = value.filter(|v| !v.is_empty()) else {
        state.error("no file descriptor specified");
        return;
    };
    let mut rest = text;
    while !rest.is_empty() {
        let (excluded, after) = split_exclusion(rest);
        let end = after.iter().position(|&b| b == b',').unwrap_or(after.len());
        let piece = &after[..end];
        if !piece.is_empty() {
            match piece.iter().rposition(|&b| b == b'-') {
                Some(dash) => match fd_range(piece, dash) {
                    Ok((lo, hi)) => enter_fd(state, FdSpec::Range(lo, hi), excluded),
                    Err(message) => state.error(message),
                },
                None => enter_fd(state, fd_name(piece), excluded),
            }
        }
        if end == after.len() {
            break;
        }
        rest = &after[end + 1..];
    }
}

fn fd_range(piece: &[u8], dash: usize) -> Result<(u32, u32), String> {
    if dash == 0 {
        return Err(format!("illegal FD range for -d: {}", shown(piece)));
    }
    let (low, high) = (&piece[..dash], &piece[dash + 1..]);
    if !low.iter().chain(high).all(u8::is_ascii_digit) {
        return Err(format!("non-digit in -d FD range: {}", shown(piece)));
    }
    let (lo, hi) = (leading_number(low).0, leading_number(high).0);
    if lo >= hi {
        return Err(format!("-d FD range's low >= its high: {}", shown(piece)));
    }
    Ok((lo as u32, hi as u32))
}

fn fd_name(piece: &[u8]) -> FdSpec {
    if piece.iter().all(u8::is_ascii_digit) {
        let n = leading_number(piece).0 as u32;
        FdSpec::Range(n, n)
    } else if piece == b"fd" {
        FdSpec::Range(0, i32::MAX as u32)
    } else {
        FdSpec::Name(String::from_utf8_lossy(piece).into_owned())
    }
}

fn enter_fd(state: &mut State, spec: FdSpec, excluded: bool) {
    if let Some(list_excludes) = state.fd_list_excludes {
        if list_excludes != excluded {
            let shown_item = match &spec {
                FdSpec::Name(name) => name.clone(),
                FdSpec::Range(lo, hi) if lo == hi => format!("{}", *lo as i32),
                FdSpec::Range(lo, hi) => format!("{}-{}", *lo as i32, *hi as i32),
            };
            let kind = |x: bool| if x { "exclude" } else { "include" };
            let text = format!(
                "{} in an {} -d list: {}{}",
                kind(excluded),
                kind(list_excludes),
                if excluded { "^" } else { "" },
                shown_item
            );
            state.warning_error(text);
            return;
        }
    }
    state.fd_list_excludes = Some(excluded);
    if !state.opts.fds.iter().any(|i| i.value == spec) {
        state.opts.fds.push(item(spec, excluded));
    }
}

/// `-u` list. Login names stay names: the caller resolves them.
pub(super) fn enter_users(state: &mut State, value: Option<&[u8]>) {
    let Some(text) = value else {
        state.error("no UIDs specified");
        return;
    };
    for piece in list_items(text) {
        let (excluded, name) = split_exclusion(piece);
        if name.len() > MAX_LOGIN_LEN {
            state.error(format!(
                "-u login name > {MAX_LOGIN_LEN} characters: {}",
                safe_text_limited(piece, name.len())
            ));
            continue;
        }
        let spec = if name.iter().all(u8::is_ascii_digit) {
            UserSpec::Uid(name.iter().fold(0u32, |acc, &d| {
                acc.wrapping_mul(10).wrapping_add(u32::from(d - b'0'))
            }))
        } else {
            UserSpec::Name(String::from_utf8_lossy(name).into_owned())
        };
        let users = &mut state.opts.users;
        if users
            .iter()
            .any(|i| i.value == spec && i.excluded == excluded)
        {
            continue;
        }
        // A login name before it may stand for the same UID: lsof meets
        // the conflicts in list order, so the caller reports them all once
        // the names are resolved.
        let names_before = users.iter().any(|i| matches!(i.value, UserSpec::Name(_)));
        let conflict = users.iter().any(|i| i.value == spec);
        if let (UserSpec::Uid(uid), true, false) = (&spec, conflict, names_before) {
            state.error(format!(
                "UID {} has been included and excluded.",
                *uid as i32
            ));
            continue;
        }
        users.push(item(spec, excluded));
    }
}

/// `-c name` (not a regular expression).
pub(super) fn enter_command_name(state: &mut State, value: Option<&[u8]>) {
    let Some(text) = value.filter(|v| !matches!(v.first(), Some(b'-' | b'+'))) else {
        state.error("missing -c option value");
        return;
    };
    let (excluded, name) = split_exclusion(text);
    state
        .opts
        .commands
        .push(item(CommandSpec::Prefix(name.to_vec()), excluded));
    if name.len() > MAX_COMMAND_LEN {
        state.error(format!(
            "\"-c {}\" length ({}) > what system provides ({MAX_COMMAND_LEN})",
            safe_text(name, true),
            name.len()
        ));
    }
}

/// The UDP states Linux's socket tables tell apart, named as upstream lsof
/// names them: a connected UDP socket is ESTABLISHED. (lsof 4.95 knows no
/// UDP state names on Linux and refuses `-s UDP:...`; DIVERGENCES.md.)
pub const UDP_STATES: [&str; 1] = ["ESTABLISHED"];

/// `-s UDP:states`: each name must be one of `UDP_STATES`.
fn enter_udp_states(state: &mut State, names: &[u8], shown_all: &str) {
    let mut spec = StateSpec {
        protocol: "UDP".to_string(),
        states: Vec::new(),
    };
    for part in names.split(|&b| b == b',') {
        let (excluded, name) = split_exclusion(part);
        let name_text = String::from_utf8_lossy(name);
        if name.is_empty() {
            state.error(format!("NULL UDP state name in: {shown_all}"));
            continue;
        }
        let Some(known) = UDP_STATES
            .iter()
            .find(|s| s.eq_ignore_ascii_case(&name_text))
        else {
            state.error(format!("unknown UDP state name: {name_text}"));
            continue;
        };
        if spec.states.iter().any(|s| s.value == *known) {
            state.error(format!("UDP state {known} given twice in: {shown_all}"));
            continue;
        }
        spec.states.push(item(known.to_string(), excluded));
    }
    state.opts.states.push(spec);
}

/// `-s p:s` with a protocol and states.
pub(super) fn enter_states(state: &mut State, text: &[u8]) {
    let shown_all = String::from_utf8_lossy(text).into_owned();
    let protocol = match text.get(..4).map(|p| p.to_ascii_lowercase()) {
        Some(p) if p == b"tcp:" => "TCP",
        Some(p) if p == b"udp:" => "UDP",
        _ => {
            state.error(format!("unknown -s protocol: \"{shown_all}\""));
            return;
        }
    };
    let names = &text[4..];
    if names.is_empty() {
        state.error(format!("no {protocol} state names in: {shown_all}"));
        return;
    }
    if protocol == "UDP" {
        enter_udp_states(state, names, &shown_all);
        return;
    }
    let mut spec = StateSpec {
        protocol: protocol.to_string(),
        states: Vec::new(),
    };
    let mut rest = names;
    while !rest.is_empty() {
        let (excluded, after) = split_exclusion(rest);
        let end = after.iter().position(|&b| b == b',').unwrap_or(after.len());
        let name = &after[..end];
        rest = after.get(end + 1..).unwrap_or(&[]);
        let name_text = String::from_utf8_lossy(name);
        if name.is_empty() {
            state.error(format!("NULL TCP state name in: {shown_all}"));
            continue;
        }
        let Some(index) = TcpState::named(&name_text).map(|s| usize::from(s.0)) else {
            state.error(format!("unknown TCP state name: {name_text}"));
            continue;
        };
        let table = if excluded {
            &mut state.tcp_excluded
        } else {
            &mut state.tcp_included
        };
        if std::mem::replace(&mut table[index], true) {
            let kind = if excluded { "ex" } else { "in" };
            state.error(format!("duplicate TCP {kind}clusion: {name_text}"));
            continue;
        }
        spec.states
            .push(item(TcpState::NAMES[index].to_string(), excluded));
    }
    state.opts.states.push(spec);
}
