//! The one table of options: each letter with whether it may take a value,
//! a line of help, and the function that applies it. The tokenizer finds
//! letters here; `usage.rs` prints lsof's own usage text.

use super::fields;
use super::inet::enter_inet;
use super::lists::{self, IdKind};
use super::options::{DirSearch, MountSupplement, Tasks};
use super::regex::enter_command_regex;
use super::state::*;
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

/// Apply an option: its prefix (`b'-'` or `b'+'`) and possible value.
pub type Update = fn(&mut State, u8, Option<&[u8]>) -> ValueUse;

#[derive(Debug)]
pub struct FlagDef {
    pub letter: u8,
    pub takes_value: bool,
    pub help: &'static str,
    pub update: Update,
}

/// rlsof's own long options (`--name` or `--name=value`).
#[derive(Debug)]
pub struct LongDef {
    pub name: &'static str,
    pub value_name: Option<&'static str>,
    pub help: &'static str,
}

const fn flag(letter: u8, takes_value: bool, help: &'static str, update: Update) -> FlagDef {
    FlagDef {
        letter,
        takes_value,
        help,
        update,
    }
}

pub static FLAGS: &[FlagDef] = &[
    flag(b'?', false, "list help", |s, _, _| set(&mut s.opts.help)),
    flag(b'a', false, "AND selections", |s, _, _| {
        set(&mut s.opts.and)
    }),
    flag(b'b', false, "avoid kernel blocks", |s, _, _| {
        set(&mut s.opts.avoid_blocking)
    }),
    flag(
        b'c',
        true,
        "-c c: command c ^c /c/[bix]; +c w: COMMAND width",
        command,
    ),
    flag(b'D', true, "+D D: dir D tree", |s, p, v| {
        directory(s, p, v, true)
    }),
    flag(
        b'd',
        true,
        "-d s: FD set; +d s: dir s files",
        fd_or_directory,
    ),
    flag(b'e', true, "+|-e s: exempt file system s", exempt),
    flag(
        b'E',
        false,
        "-E endpoint info, +E endpoints and files",
        |s, p, _| {
            s.opts.endpoints = Some(p == b'+');
            ValueUse::Taken
        },
    ),
    flag(
        b'f',
        true,
        "+f|-f names are file systems|files; +|-f[gG] flags",
        file_struct,
    ),
    flag(
        b'F',
        true,
        "-F [f]: select fields; -F? for help",
        fields::select,
    ),
    flag(
        b'g',
        true,
        "-g [s]: exclude(^)|select and print PGIDs",
        pgids,
    ),
    flag(b'h', false, "list help", |s, _, _| set(&mut s.opts.help)),
    flag(b'H', false, "human readable sizes", |s, _, _| {
        set(&mut s.opts.human_sizes)
    }),
    flag(
        b'i',
        true,
        "-i [i]: select IPv[46] files or addresses",
        inet,
    ),
    flag(b'J', false, "JSON output", |s, p, _| json(s, p, b'J')),
    flag(b'j', false, "JSON Lines output", |s, p, _| json(s, p, b'j')),
    flag(b'K', true, "-K [i]: list|(i)gnore tasks", tasks),
    flag(b'l', false, "list UID numbers", |s, _, _| {
        set(&mut s.opts.numeric_users)
    }),
    flag(
        b'L',
        true,
        "+|-L [l]: list (+) or suppress (-) link counts < l",
        links,
    ),
    flag(
        b'm',
        true,
        "+m [m]: use|create mount supplement",
        mount_supplement,
    ),
    flag(b'M', false, "+|-M portMap registration", |s, p, _| {
        s.opts.portmap = p == b'+';
        ValueUse::Taken
    }),
    flag(b'n', false, "no host names", |s, p, _| {
        s.opts.no_host_names = p == b'-';
        ValueUse::Taken
    }),
    flag(b'N', false, "select NFS files", |s, _, _| {
        set(&mut s.opts.nfs)
    }),
    flag(
        b'o',
        true,
        "-o [o]: list file offset; o 0t offset digits",
        offset,
    ),
    flag(b'O', false, "no overhead", |s, p, _| {
        s.opts.no_overhead = p == b'-';
        ValueUse::Taken
    }),
    flag(b'p', true, "-p s: exclude(^)|select PIDs", |s, _, v| {
        lists::enter_ids(s, IdKind::Process, v);
        ValueUse::Taken
    }),
    flag(b'P', false, "no port names", |s, p, _| {
        s.opts.no_port_names = p == b'-';
        ValueUse::Taken
    }),
    flag(b'Q', false, "allow failed search", |s, _, _| {
        set(&mut s.opts.quiet_failures)
    }),
    flag(
        b'r',
        true,
        "+|-r [t[c<n>][m<fmt>]]: repeat every t seconds",
        fields::repeat,
    ),
    flag(b'R', false, "list paRent PID", |s, _, _| {
        set(&mut s.opts.ppid)
    }),
    flag(
        b's',
        true,
        "-s: list file size; -s p:s select protocol states",
        size_or_states,
    ),
    flag(b'S', true, "-S [t]: t second stat timeout", timeout),
    flag(b't', false, "terse listing", |s, _, _| {
        s.terse = true;
        set(&mut s.opts.no_warnings)
    }),
    flag(b'T', true, "-T [fqs]: TCP/TPI info", tcp_info),
    flag(
        b'u',
        true,
        "-u s: exclude(^)|select login|UID set s",
        |s, _, v| {
            lists::enter_users(s, v);
            ValueUse::Taken
        },
    ),
    flag(b'U', false, "select Unix sockets", |s, _, _| {
        set(&mut s.opts.unix_sockets)
    }),
    flag(b'v', false, "list version info", |s, _, _| {
        set(&mut s.opts.version)
    }),
    flag(b'V', false, "verbose search", |s, _, _| {
        set(&mut s.opts.verbose_failures)
    }),
    flag(b'w', false, "+|-w warnings", |s, p, _| {
        s.opts.no_warnings = p == b'-';
        ValueUse::Taken
    }),
    flag(
        b'x',
        true,
        "-x [fl]: cross over +d|+D file systems or symbolic links",
        cross,
    ),
    flag(b'X', false, "skip TCP&UDP* files", |s, _, _| {
        s.opts.skip_tcp_udp = !s.opts.skip_tcp_udp;
        ValueUse::Taken
    }),
    flag(b'Z', true, "-Z [Z]: SELinux context", |s, _, _| {
        s.error("-Z limited to SELinux");
        ValueUse::Taken
    }),
];

pub static LONG_FLAGS: &[LongDef] = &[
    LongDef {
        name: "deleted",
        value_name: None,
        help: "report deleted files still held open and the space they hold",
    },
    LongDef {
        name: "recover",
        value_name: Some("PID:FD"),
        help: "copy an open deleted file back (with --to PATH)",
    },
    LongDef {
        name: "recover-all",
        value_name: None,
        help: "copy every open deleted file back (with --to DIR)",
    },
    LongDef {
        name: "to",
        value_name: Some("PATH"),
        help: "where --recover or --recover-all write",
    },
];

pub fn find(letter: u8) -> Option<&'static FlagDef> {
    FLAGS.iter().find(|f| f.letter == letter)
}

pub fn find_long(name: &[u8]) -> Option<&'static LongDef> {
    LONG_FLAGS.iter().find(|f| f.name.as_bytes() == name)
}

fn set(field: &mut bool) -> ValueUse {
    *field = true;
    ValueUse::Taken
}

fn os(bytes: &[u8]) -> OsString {
    OsString::from_vec(bytes.to_vec())
}

fn command(state: &mut State, prefix: u8, value: Option<&[u8]>) -> ValueUse {
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

fn fd_or_directory(state: &mut State, prefix: u8, value: Option<&[u8]>) -> ValueUse {
    if prefix == b'+' {
        return directory(state, prefix, value, false);
    }
    lists::enter_fds(state, value);
    ValueUse::Taken
}

fn directory(state: &mut State, prefix: u8, value: Option<&[u8]>, recursive: bool) -> ValueUse {
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

fn exempt(state: &mut State, prefix: u8, value: Option<&[u8]>) -> ValueUse {
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

fn file_struct(state: &mut State, prefix: u8, value: Option<&[u8]>) -> ValueUse {
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

fn pgids(state: &mut State, _: u8, value: Option<&[u8]>) -> ValueUse {
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

fn inet(state: &mut State, _: u8, value: Option<&[u8]>) -> ValueUse {
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

fn json(state: &mut State, prefix: u8, letter: u8) -> ValueUse {
    if prefix == b'+' {
        state.error(format!("+{} is not supported", char::from(letter)));
    } else if letter == b'J' {
        state.json = true;
    } else {
        state.json_lines = true;
    }
    ValueUse::Taken
}

fn tasks(state: &mut State, _: u8, value: Option<&[u8]>) -> ValueUse {
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

fn links(state: &mut State, prefix: u8, value: Option<&[u8]>) -> ValueUse {
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

fn mount_supplement(state: &mut State, prefix: u8, value: Option<&[u8]>) -> ValueUse {
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

fn offset(state: &mut State, _: u8, value: Option<&[u8]>) -> ValueUse {
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

fn size_or_states(state: &mut State, _: u8, value: Option<&[u8]>) -> ValueUse {
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

fn timeout(state: &mut State, _: u8, value: Option<&[u8]>) -> ValueUse {
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

fn tcp_info(state: &mut State, prefix: u8, value: Option<&[u8]>) -> ValueUse {
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

fn cross(state: &mut State, _: u8, value: Option<&[u8]>) -> ValueUse {
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
