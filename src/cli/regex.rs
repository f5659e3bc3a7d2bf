//! `-c /regex/[bix]`: lsof's checks of the form and of the expression
//! itself (POSIX `regcomp`, which is what lsof and rlsof's selection use):
//! compiled here, once, and kept for the selection.

use std::sync::Arc;

use super::options::CommandSpec;
use super::state::{item, shown, State};
use crate::sys::regex::PosixRegex;

/// `-c` value that starts with `/`.
pub(super) fn enter_command_regex(state: &mut State, text: &[u8]) {
    let body = &text[1..];
    let Some(close) = body.iter().position(|&b| b == b'/') else {
        state.error(format!("regexp doesn't end with '/': {}", shown(text)));
        return;
    };
    let pattern = &body[..close];
    let modifiers = &body[close + 1..];
    let Some(flags) = modifier_flags(state, text, modifiers) else {
        return;
    };
    let compiled = match PosixRegex::compile(pattern, flags) {
        Ok(compiled) => Arc::new(compiled),
        Err(problem) => {
            state.error(format!("regexp error: {}: {problem}", shown(text)));
            return;
        }
    };
    let spec = CommandSpec::Regex {
        pattern: String::from_utf8_lossy(pattern).into_owned(),
        modifiers: String::from_utf8_lossy(modifiers).into_owned(),
        compiled,
    };
    state.opts.commands.push(item(spec, false));
}

/// The `regcomp` flags for `b`, `i`, `x` modifiers, as lsof reads them:
/// extended by default, `b` basic; each at most once, `b` and `x` not both.
pub fn regex_flags(modifiers: &str) -> libc::c_int {
    let mut flags = libc::REG_NOSUB | libc::REG_EXTENDED;
    for m in modifiers.chars() {
        match m {
            'b' => flags &= !libc::REG_EXTENDED,
            'i' => flags |= libc::REG_ICASE,
            _ => {}
        }
    }
    flags
}

fn modifier_flags(state: &mut State, text: &[u8], modifiers: &[u8]) -> Option<libc::c_int> {
    let (mut basic, mut icase, mut extended, mut conflicts) = (0, 0, 0, 0);
    let mut bad = false;
    for &m in modifiers {
        let conflict = match m {
            b'b' => bump(&mut basic, 'b', extended > 0),
            b'i' => bump(&mut icase, 'i', false),
            b'x' => bump(&mut extended, 'x', basic > 0),
            _ => {
                state.error(format!("invalid regexp modifier: {}", char::from(m)));
                bad = true;
                continue;
            }
        };
        match conflict {
            Bump::Fine => {}
            Bump::Repeated(letter) => {
                bad = true;
                let count = match letter {
                    'b' => basic,
                    'i' => icase,
                    _ => extended,
                };
                if count == 2 {
                    state.error(format!(
                        "{letter} regexp modifier already used: {}",
                        shown(text)
                    ));
                }
            }
            Bump::Conflict => {
                bad = true;
                conflicts += 1;
                if conflicts == 1 {
                    state.error(format!(
                        "b and x regexp modifiers conflict: {}",
                        shown(text)
                    ));
                }
            }
        }
    }
    (!bad).then(|| regex_flags(&String::from_utf8_lossy(modifiers)))
}

enum Bump {
    Fine,
    Repeated(char),
    Conflict,
}

fn bump(count: &mut u32, letter: char, other_used: bool) -> Bump {
    *count += 1;
    if *count > 1 {
        Bump::Repeated(letter)
    } else if other_used {
        Bump::Conflict
    } else {
        Bump::Fine
    }
}
