//! `-F` field selection (and its `-F?` list) and `-r` repeat mode.

use super::options::Repeat;
use super::state::*;

/// lsof 4.95's field letters, in `-F?` order, with their descriptions, as
/// listed on this system.
const FIELD_HELP: &[(char, &str)] = &[
    ('a', "access: r = read; w = write; u = read/write"),
    ('c', "command name"),
    ('d', "device character code"),
    ('D', "major/minor device number as 0x<hex>"),
    ('f', "file descriptor"),
    ('G', "file flaGs"),
    ('i', "inode number"),
    ('k', "link count"),
    ('K', "task ID (TID)"),
    ('l', "lock: r/R = read; w/W = write; u = read/write"),
    ('L', "login name"),
    ('m', "marker between repeated output"),
    ('M', "task comMand name"),
    ('n', "comment, name, Internet addresses"),
    ('o', "file offset as 0t<dec> or 0x<hex>"),
    ('p', "process ID (PID)"),
    ('g', "process group ID (PGID)"),
    ('P', "protocol name"),
    ('r', "raw device number as 0x<hex>"),
    ('R', "paRent PID"),
    ('s', "file size"),
    ('S', "stream module and device names"),
    ('t', "file type"),
    ('T', "TCP/TPI info"),
    ('u', "user ID (UID)"),
    ('0', "(zero) use NUL field terminator instead of NL"),
];

/// Letters `-F` accepts without listing them: lsof's file-struct count,
/// address and node (never printed on Linux), zone and SELinux context.
const UNLISTED_FIELDS: &str = "CFNzZ";

/// The letters `-F` alone selects (all but `r`, `z`, `Z`), spelled out when
/// another `-F` adds to them. The NUL terminator is separate (`-F0`).
pub(super) const DEFAULT_FIELDS: &str = "acCdDfFGiklLmMnNopgPRsStTuK";

/// What `lsof -F?` prints (on stderr).
pub fn field_help_text() -> String {
    let mut text = format!("{PROGRAM}:\tID    field description\n");
    for (letter, description) in FIELD_HELP {
        text.push_str(&format!("\t {letter}    {description}\n"));
    }
    text
}

fn is_field(letter: u8) -> bool {
    FIELD_HELP
        .iter()
        .any(|(l, _)| *l as u32 == u32::from(letter))
        || UNLISTED_FIELDS.as_bytes().contains(&letter)
}

const TCP_ALL: u8 = TCP_FLAGS | TCP_QUEUES | TCP_STATE;

/// `-F [f]`.
pub(super) fn select(state: &mut State, _: u8, value: Option<&[u8]>) -> ValueUse {
    if no_value(value) || value == Some(b"0") {
        if value == Some(b"0") {
            state.nul_terminator = true;
        }
        state.fields_given = true;
        state.default_fields = true;
        state.flags_column = true;
        state.flags_hex = true;
        state.file_struct_extras = "CFN".to_string();
        state.link_column = true;
        state.opts.show_pgid = true;
        state.opts.ppid = true;
        state.tcp_bits = Some(state.tcp_bits.unwrap_or(TCP_STATE) | TCP_ALL);
        return refused_if_any(value.filter(|v| *v != b"0"));
    }
    let Some(letters) = value else {
        return ValueUse::Taken;
    };
    if letters == b"?" {
        state.opts.field_help = true;
        return ValueUse::Taken;
    }
    for &letter in letters {
        if !is_field(letter) {
            state.error(format!(
                "unknown field: {}",
                String::from_utf8_lossy(&[letter])
            ));
            continue;
        }
        match letter {
            b'G' => {
                state.flags_column = true;
                state.flags_hex = true;
            }
            b'C' | b'F' | b'N' if !state.file_struct_extras.contains(char::from(letter)) => {
                state.file_struct_extras.push(char::from(letter));
            }
            b'k' => state.link_column = true,
            b'g' => state.opts.show_pgid = true,
            b'R' => state.opts.ppid = true,
            b'T' => state.tcp_bits = Some(state.tcp_bits.unwrap_or(TCP_STATE) | TCP_ALL),
            b'0' => state.nul_terminator = true,
            b'o' => state.offset_flag = true,
            _ => {}
        }
        let letter = char::from(letter);
        if !state.field_letters.contains(letter) {
            state.field_letters.push(letter);
        }
    }
    state.fields_given = true;
    ValueUse::Taken
}

/// The letters chosen by all `-F` options together ("" for the default set).
pub(super) fn chosen_letters(state: &State) -> String {
    if !state.default_fields {
        return state.field_letters.clone();
    }
    if state.field_letters.is_empty() {
        return String::new();
    }
    let mut letters = DEFAULT_FIELDS.to_string();
    for letter in state.field_letters.chars() {
        if !letters.contains(letter) {
            letters.push(letter);
        }
    }
    letters
}

/// lsof's default repeat interval.
const REPEAT_DEFAULT: u32 = 15;

/// `+|-r [t[c<n>][m<fmt>]]`.
pub(super) fn repeat(state: &mut State, prefix: u8, value: Option<&[u8]>) -> ValueUse {
    let repeat = state.opts.repeat.get_or_insert(Repeat {
        seconds: REPEAT_DEFAULT,
        until_empty: false,
        cycles: None,
        marker: None,
    });
    repeat.until_empty |= prefix == b'+';
    let Some(text) = value.filter(|_| !no_value(value)) else {
        repeat.seconds = REPEAT_DEFAULT;
        return refused_if_any(value);
    };
    let (seconds, digits) = leading_number(text);
    repeat.seconds = if digits > 0 {
        u32::try_from(seconds).unwrap_or(0)
    } else {
        REPEAT_DEFAULT
    };
    let mut at = digits;
    if at == text.len() {
        return ValueUse::Taken;
    }
    while text.get(at) == Some(&b' ') {
        at += 1;
    }
    if text.get(at) == Some(&b'c') {
        let (cycles, count_digits) = leading_number(&text[at + 1..]);
        repeat.cycles = Some(u32::try_from(cycles).unwrap_or(0));
        at += 1 + count_digits;
    }
    if text.get(at) != Some(&b'm') {
        // lsof re-reads everything after the seconds as options.
        return ValueUse::Prefix(digits);
    }
    let format = &text[at + 1..];
    let format_text = String::from_utf8_lossy(format).into_owned();
    if format.is_empty() {
        state.error(format!("illegal <fmt>: \"{format_text}\""));
    } else {
        repeat.marker = Some(format_text.clone());
        state.marker = Some(format_text);
    }
    ValueUse::Taken
}
