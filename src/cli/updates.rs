//! The update functions of the options that take values, as lsof applies
//! them; the table in `flags.rs` points here.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

use super::inet::enter_inet;
use super::lists::{self, IdKind};
use super::options::{DirSearch, MountSupplement, Tasks};
use super::regex::enter_command_regex;
use super::state::*;

fn os(bytes: &[u8]) -> OsString {
    OsString::from_vec(bytes.to_vec())
}

pub(super) fn command(state: &mut State, prefix: u8, value: Option<&[u8]>) -> ValueUse {
    if prefix == b'+' {
        let Some(text) = value.filter(|v| v.first().is_some_and(u8::is_ascii_digit)) else {
            state.error("+c not followed by width number");
            return refused_if_any(value);
        };
        let width = leading_number(text).0;
        if width > lists::MAX_COMMAND_LEN as i64 {
            state.error(format!(
                "+c {width} > what system provides ({})",
                lists::MAX_COMMAND_LEN
            ));
        }
        state.opts.command_width = usize::try_from(width).unwrap_or(0);
        return ValueUse::Taken;
    }
    match value {
        Some(text) if text.first() == Some(&b'/') => enter_command_regex(state, text),
        _ => lists::enter_command_name(state, value),
    }
    ValueUse::Taken
}

pub(super) fn fd_or_directory(state: &mut State, prefix: u8, value: Option<&[u8]>) -> ValueUse {
    if prefix == b'+' {
        return directory(state, prefix, value, false);
    }
    lists::enter_fds(state, value);
    ValueUse::Taken
}

pub(super) fn directory(
    state: &mut State,
    prefix: u8,
    value: Option<&[u8]>,
    recursive: bool,
) -> ValueUse {
    if prefix == b'-' {
        // -D is lsof's device cache option, which Linux builds lack.
        state.error("unsupported option: -D");
        return ValueUse::Taken;
    }
    match value {
        Some(path) if !path.is_empty() && !no_value(value) => {
            state.opts.dirs.push(DirSearch {
                path: os(path),
                recursive,
            });
            state.dir_given = true;
        }
        _ => state.warning_error("+d not followed by a directory path"),
    }
    ValueUse::Taken
}

pub(super) fn exempt(state: &mut State, prefix: u8, value: Option<&[u8]>) -> ValueUse {
    let Some(path) = value.filter(|v| v.first() == Some(&b'/')) else {
        let shown = value.map_or("(null)".into(), String::from_utf8_lossy);
        state.warning_error(format!(
            "-e not followed by a file system path: \"{shown}\""
        ));
        return ValueUse::Taken;
    };
    let kept = path.len() - path.iter().rev().take_while(|&&b| b == b'/').count();
    let path = os(&path[..kept.max(1)]);
    let list = if prefix == b'+' {
        &mut state.opts.exempt_fs_literal
    } else {
        &mut state.opts.exempt_fs
    };
    if !list.contains(&path) {
        list.push(path);
    }
    ValueUse::Taken
}

pub(super) fn file_struct(state: &mut State, prefix: u8, value: Option<&[u8]>) -> ValueUse {
    let Some(letters) = value.filter(|_| !no_value(value)) else {
        state.opts.file_system_names = Some(prefix == b'+');
        return refused_if_any(value);
    };
    for &letter in letters {
        match letter {
            b'g' | b'G' => {
                state.flags_column = prefix == b'+';
                state.opts.file_flags_by_option |= prefix == b'+';
                state.flags_hex = letter == b'G';
            }
            _ => state.error(format!(
                "unknown file struct option: {}",
                String::from_utf8_lossy(&[letter])
            )),
        }
    }
    ValueUse::Taken
}

pub(super) fn pgids(state: &mut State, _: u8, value: Option<&[u8]>) -> ValueUse {
    state.opts.show_pgid = true;
    match value {
        None => ValueUse::Taken,
        Some(_) if no_value(value) => ValueUse::Refused,
        Some(_) => {
            lists::enter_ids(state, IdKind::Group, value);
            ValueUse::Taken
        }
    }
}

pub(super) fn inet(state: &mut State, _: u8, value: Option<&[u8]>) -> ValueUse {
    match value.filter(|_| !no_value(value)) {
        Some(text) => {
            enter_inet(state, text);
            ValueUse::Taken
        }
        None => {
            state.inet_any = true;
            state.inet_family = 0;
            refused_if_any(value)
        }
    }
}

pub(super) fn json(state: &mut State, prefix: u8, letter: u8) -> ValueUse {
    if prefix == b'+' {
        state.error(format!("+{} is not supported", char::from(letter)));
    } else if letter == b'J' {
        state.json = true;
    } else {
        state.json_lines = true;
    }
    ValueUse::Taken
}

pub(super) fn tasks(state: &mut State, _: u8, value: Option<&[u8]>) -> ValueUse {
    let Some(text) = value.filter(|_| !no_value(value)) else {
        state.opts.tasks = Tasks::List;
        state.task_selected = true;
        return refused_if_any(value);
    };
    if text.eq_ignore_ascii_case(b"i") {
        state.opts.tasks = Tasks::Ignore;
        state.task_selected = false;
    } else {
        state.error(format!(
            "-K not followed by i (but by {})",
            String::from_utf8_lossy(text)
        ));
    }
    ValueUse::Taken
}

pub(super) fn links(state: &mut State, prefix: u8, value: Option<&[u8]>) -> ValueUse {
    state.link_column = prefix == b'+';
    let Some(text) = value.filter(|_| !no_value(value)) else {
        state.link_limit = 0;
        return refused_if_any(value);
    };
    let (number, digits) = leading_number(text);
    state.link_limit = 0;
    if digits > 0 {
        if prefix == b'+' {
            state.link_limit = number as u64;
            state.link_selected = true;
        } else {
            state.error("no number may follow -L");
        }
    }
    partly(text, digits)
}

/// The value was used up to `used` bytes.
fn partly(text: &[u8], used: usize) -> ValueUse {
    if used < text.len() {
        ValueUse::Prefix(used)
    } else {
        ValueUse::Taken
    }
}

pub(super) fn mount_supplement(state: &mut State, prefix: u8, value: Option<&[u8]>) -> ValueUse {
    if prefix == b'-' {
        state.error("-m not supported");
        return ValueUse::Taken;
    }
    match value.filter(|_| !no_value(value)) {
        Some(path) => {
            state.opts.mount_supplement = Some(MountSupplement::Use(os(path)));
            ValueUse::Taken
        }
        None => {
            state.opts.mount_supplement = Some(MountSupplement::Create);
            refused_if_any(value)
        }
    }
}

pub(super) fn offset(state: &mut State, _: u8, value: Option<&[u8]>) -> ValueUse {
    let Some(text) = value.filter(|_| !no_value(value)) else {
        state.offset_flag = true;
        return refused_if_any(value);
    };
    let (digits_value, digits) = leading_number(text);
    if digits > 0 {
        state.opts.offset_digits = usize::try_from(digits_value).unwrap_or(0);
    } else {
        state.offset_flag = true;
    }
    partly(text, digits)
}

pub(super) fn size_or_states(state: &mut State, _: u8, value: Option<&[u8]>) -> ValueUse {
    match value.filter(|_| !no_value(value)) {
        Some(text) => {
            lists::enter_states(state, text);
            ValueUse::Taken
        }
        None => {
            state.size_flag = true;
            refused_if_any(value)
        }
    }
}

/// lsof's default and smallest `-S` timeouts.
const TIMEOUT_DEFAULT: u32 = 15;
const TIMEOUT_MIN: i64 = 2;

pub(super) fn timeout(state: &mut State, _: u8, value: Option<&[u8]>) -> ValueUse {
    let Some(text) = value.filter(|_| !no_value(value)) else {
        state.opts.timeout_secs = TIMEOUT_DEFAULT;
        return refused_if_any(value);
    };
    let (seconds, digits) = leading_number(text);
    let seconds = if digits > 0 {
        seconds
    } else {
        i64::from(TIMEOUT_DEFAULT)
    };
    let seconds = if seconds < TIMEOUT_MIN {
        state.say(format!(
            "WARNING: -S time ({seconds}) changed to {TIMEOUT_MIN}"
        ));
        TIMEOUT_MIN
    } else {
        seconds
    };
    state.opts.timeout_secs = u32::try_from(seconds).unwrap_or(u32::MAX);
    partly(text, digits)
}

pub(super) fn tcp_info(state: &mut State, prefix: u8, value: Option<&[u8]>) -> ValueUse {
    let Some(letters) = value.filter(|_| !no_value(value)) else {
        state.tcp_bits = Some(if prefix == b'-' { 0 } else { TCP_STATE });
        return refused_if_any(value);
    };
    let mut bits = 0;
    for &letter in letters {
        match letter {
            b'f' => bits |= TCP_FLAGS,
            b'q' => bits |= TCP_QUEUES,
            b's' => bits |= TCP_STATE,
            _ => state.error(format!(
                "unsupported TCP/TPI info selection: {}",
                String::from_utf8_lossy(&[letter])
            )),
        }
    }
    state.tcp_bits = Some(bits);
    ValueUse::Taken
}

pub(super) fn cross(state: &mut State, _: u8, value: Option<&[u8]>) -> ValueUse {
    let Some(letters) = value.filter(|_| !no_value(value)) else {
        state.cross = CROSS_FS | CROSS_LINKS;
        return refused_if_any(value);
    };
    for &letter in letters {
        match letter {
            b'f' => state.cross |= CROSS_FS,
            b'l' => state.cross |= CROSS_LINKS,
            _ => state.error(format!(
                "unknown cross-over option: {}",
                String::from_utf8_lossy(&[letter])
            )),
        }
    }
    ValueUse::Taken
}
