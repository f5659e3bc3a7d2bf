//! lsof's escaping of bytes that a terminal should not see raw: one
//! module for names, command names and the user text echoed in messages.
//!
//! lsof 4.95 prints `\b \f \n \r \t` as such, other control bytes as `^X`,
//! a backslash as `\\`, and any other unprintable byte as `\xNN`. In a
//! UTF-8 locale a valid multibyte character is printed raw when the C
//! library calls it printable (`iswprint`), else each of its bytes as
//! `\xNN`. Command names, and lsof's other width-limited texts, are escaped
//! without multibyte support; command names count the space as unprintable
//! (`\x20`) and are cut to the column width.
//!
//! [`init_locale`] must run at start, before the options are parsed (lsof
//! calls `setlocale` first thing), or every byte >= 0x80 is escaped as in
//! the C locale.

use std::sync::atomic::{AtomicBool, Ordering};

static MULTIBYTE: AtomicBool = AtomicBool::new(false);

extern "C" {
    fn iswprint(wc: u32) -> libc::c_int;
}

/// Sets the character-type locale from the environment, as lsof does at
/// start, and records whether it is a multibyte (UTF-8) one. Call once,
/// early, before threads start.
pub(crate) fn init_locale() -> bool {
    init_locale_named(b"\0")
}

/// Like [`init_locale`] with an explicit locale name (tests use "C.UTF-8").
pub(crate) fn init_locale_named(name_nul: &[u8]) -> bool {
    if name_nul.last() != Some(&0) {
        return false;
    }
    // SAFETY: the name is NUL-terminated; setlocale copies what it needs.
    let set = unsafe { libc::setlocale(libc::LC_CTYPE, name_nul.as_ptr().cast()) };
    let multibyte = !set.is_null() && codeset_is_utf8();
    MULTIBYTE.store(multibyte, Ordering::Relaxed);
    multibyte
}

fn codeset_is_utf8() -> bool {
    // SAFETY: nl_langinfo returns a pointer to a static NUL-terminated string.
    let cs = unsafe { libc::nl_langinfo(libc::CODESET) };
    if cs.is_null() {
        return false;
    }
    // SAFETY: non-null, NUL-terminated per nl_langinfo's contract.
    let name = unsafe { std::ffi::CStr::from_ptr(cs) }.to_bytes();
    name.eq_ignore_ascii_case(b"UTF-8") || name.eq_ignore_ascii_case(b"utf8")
}

fn multibyte() -> bool {
    MULTIBYTE.load(Ordering::Relaxed)
}

fn wide_printable(c: char) -> bool {
    // SAFETY: iswprint is a pure lookup in the current locale's tables.
    unsafe { iswprint(c as u32) != 0 }
}

fn ascii_printable(b: u8) -> bool {
    (0x20..0x7f).contains(&b)
}

/// The escape for one byte lsof will not print raw.
fn push_byte_escape(out: &mut Vec<u8>, b: u8) {
    let simple: Option<&[u8]> = match b {
        0x08 => Some(b"\\b"),
        0x0c => Some(b"\\f"),
        b'\n' => Some(b"\\n"),
        b'\r' => Some(b"\\r"),
        b'\t' => Some(b"\\t"),
        b'\\' => Some(b"\\\\"),
        _ => None,
    };
    if let Some(s) = simple {
        out.extend_from_slice(s);
    } else if b < 0x20 {
        out.extend_from_slice(&[b'^', b + 0x40]);
    } else {
        // lsof passes a signed char here, so even 0xff takes this form.
        const HEX: &[u8; 16] = b"0123456789abcdef";
        out.extend_from_slice(&[
            b'\\',
            b'x',
            HEX[usize::from(b >> 4)],
            HEX[usize::from(b & 15)],
        ]);
    }
}

fn byte_escape_len(b: u8) -> usize {
    match b {
        0x08 | 0x0c | b'\n' | b'\r' | b'\t' | b'\\' => 2,
        b if b < 0x20 => 2,
        _ => 4,
    }
}

/// A byte printed as it is (outside a multibyte character).
fn prints_raw(b: u8, space_is_unprintable: bool) -> bool {
    b != b'\\' && ascii_printable(b) && !(space_is_unprintable && b == b' ')
}

/// Length of the UTF-8 sequence starting at `s[0]` if it is one valid
/// multibyte character.
fn multibyte_char(s: &[u8]) -> Option<(char, usize)> {
    let len = match s.first()? {
        0xc2..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf4 => 4,
        _ => return None,
    };
    let seq = s.get(..len)?;
    let c = std::str::from_utf8(seq).ok()?.chars().next()?;
    Some((c, len))
}

/// lsof's `safestrprt`: `s` escaped whole; multibyte characters are
/// recognised when `mb` (a UTF-8 locale).
fn escape_all(out: &mut Vec<u8>, s: &[u8], mb: bool, space_is_unprintable: bool) {
    if s.iter().all(|&b| prints_raw(b, space_is_unprintable)) {
        out.extend_from_slice(s);
        return;
    }
    let mut i = 0;
    while i < s.len() {
        let b = s[i];
        if mb && b >= 0x80 {
            if let Some((c, len)) = multibyte_char(&s[i..]) {
                if wide_printable(c) {
                    out.extend_from_slice(&s[i..i + len]);
                } else {
                    for &x in &s[i..i + len] {
                        push_byte_escape(out, x);
                    }
                }
                i += len;
                continue;
            }
        }
        if prints_raw(b, space_is_unprintable) {
            out.push(b);
        } else {
            push_byte_escape(out, b);
        }
        i += 1;
    }
}

/// lsof's `safestrprtn` without its padding: bytes escaped one by one (no
/// multibyte characters) while they fit in `width` columns; returns the
/// columns used. An escape that does not fit whole ends the text.
fn escape_limited(out: &mut Vec<u8>, s: &[u8], width: usize, space_is_unprintable: bool) -> usize {
    let mut used = 0;
    for &b in s {
        let len = if prints_raw(b, space_is_unprintable) {
            1
        } else {
            byte_escape_len(b)
        };
        if used + len > width {
            break;
        }
        if len == 1 {
            out.push(b);
        } else {
            push_byte_escape(out, b);
        }
        used += len;
    }
    used
}

/// Appends `s` escaped as lsof prints names (NAME column, `-F n`, `-F c`).
pub(crate) fn escape_into(out: &mut Vec<u8>, s: &[u8]) {
    escape_with(out, s, multibyte());
}

/// `escape_into` for a given locale kind (multibyte: UTF-8).
pub(crate) fn escape_with(out: &mut Vec<u8>, s: &[u8], mb: bool) {
    escape_all(out, s, mb, false);
}

/// `escape_into` returning a new buffer.
#[cfg(test)]
pub(crate) fn escape(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    escape_into(&mut out, s);
    out
}

/// User text echoed in a message, as lsof's `safestrprt` prints it.
/// `space_is_unprintable` makes a space print as `\x20`, which lsof does for
/// the `-c` length message.
pub(crate) fn safe_text(bytes: &[u8], space_is_unprintable: bool) -> String {
    let mut out = Vec::with_capacity(bytes.len());
    escape_all(&mut out, bytes, multibyte(), space_is_unprintable);
    into_string(out)
}

/// Like `safe_text`, for text lsof stores as a plain C string.
pub(crate) fn safe_str(text: &str) -> String {
    safe_text(text.as_bytes(), false)
}

/// lsof's `safestrprtn` for a message: `width` columns of escaped text,
/// no multibyte characters, padded with spaces when an escape did not fit.
pub(crate) fn safe_text_limited(bytes: &[u8], width: usize) -> String {
    let mut out = Vec::with_capacity(width);
    let used = escape_limited(&mut out, bytes, width, false);
    out.resize(out.len() + (width - used), b' ');
    into_string(out)
}

/// Escaped text is UTF-8: raw bytes are ASCII or whole UTF-8 characters.
fn into_string(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// The width lsof reserves for a command name (space unprintable).
///
/// lsof counts bytes >= 0x80 as two columns here although it prints them as
/// four; the column is sized with this count, so we keep it.
pub(crate) fn command_width(s: &[u8]) -> usize {
    s.iter()
        .map(|&b| {
            if prints_raw(b, true) {
                1
            } else if !(0x20..0x80).contains(&b) || b == b'\\' {
                2
            } else {
                4
            }
        })
        .sum()
}

/// Appends a command name escaped (space as `\x20`), cut so that no escape
/// is split and the result fits `width`, then padded with spaces to `width`.
pub(crate) fn command_padded(out: &mut Vec<u8>, s: &[u8], width: usize) {
    let used = escape_limited(out, s, width, true);
    out.resize(out.len() + (width - used), b' ');
}

#[cfg(test)]
pub(crate) fn init_for_tests() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        init_locale_named(b"C.UTF-8\0");
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn esc(s: &[u8]) -> String {
        init_for_tests();
        String::from_utf8_lossy(&escape(s)).into_owned()
    }

    #[test]
    fn names_as_lsof_prints_them() {
        // Expected strings copied from lsof 4.95 output (LANG=C.UTF-8).
        assert_eq!(esc(b"/tmp/pr/files/sp ace"), "/tmp/pr/files/sp ace");
        assert_eq!(esc(b"nl\nx"), "nl\\nx");
        assert_eq!(esc(b"tab\tx"), "tab\\tx");
        assert_eq!(esc(b"esc\x1bx"), "esc^[x");
        assert_eq!(esc(b"bs\\x"), "bs\\\\x");
        assert_eq!(esc(b"del\x7fx"), "del\\x7fx");
        assert_eq!(esc(b"cr\rx"), "cr\\rx");
        assert_eq!(esc(b"bell\x07x"), "bell^Gx");
        assert_eq!(esc(b"bad\xffx\x80y"), "bad\\xffx\\x80y");
        assert_eq!(esc("utféx".as_bytes()), "utféx");
        assert_eq!(esc("cjk中".as_bytes()), "cjk中");
        assert_eq!(esc("emo😀".as_bytes()), "emo😀");
        assert_eq!(esc("nbsp\u{a0}x".as_bytes()), "nbsp\u{a0}x");
        assert_eq!(esc("zw\u{200b}x".as_bytes()), "zw\u{200b}x");
        assert_eq!(esc(b"@abstract\x01name"), "@abstract^Aname");
        // A truncated sequence is not a character.
        assert_eq!(esc(b"a\xc3"), "a\\xc3");
    }

    #[test]
    fn single_byte_locale_escapes_every_high_byte() {
        // From lsof 4.95 run with LANG=C.
        let mut out = Vec::new();
        escape_with(&mut out, "utféx cjk中".as_bytes(), false);
        assert_eq!(out, b"utf\\xc3\\xa9x cjk\\xe4\\xb8\\xad");
    }

    #[test]
    fn commands_are_cut_at_whole_escapes() {
        let cmd = |s: &[u8], limit: usize| {
            let w = command_width(s).min(limit).max(7);
            let mut out = Vec::new();
            command_padded(&mut out, s, w);
            String::from_utf8_lossy(&out).into_owned()
        };
        // From lsof 4.95: comm "pythön", "a\x01b", "ab\\c", "xööö yz".
        assert_eq!(cmd("pythön".as_bytes(), 9), "pyth\\xc3 ");
        assert_eq!(cmd(b"a\x01b", 9), "a^Ab   ");
        assert_eq!(cmd(b"ab\\c", 9), "ab\\\\c  ");
        assert_eq!(cmd("xöööyz".as_bytes(), 9), "x\\xc3\\xb6");
        assert_eq!(cmd(b"worker one", 9), "worker   ");
        assert_eq!(cmd(b"process_api", 9), "process_a");
    }

    #[test]
    fn messages_as_lsof_prints_them() {
        init_for_tests();
        assert_eq!(safe_text(b"a\\b", false), "a\\\\b");
        assert_eq!(safe_text(b"a\x01\n\x7f\xff", false), "a^A\\n\\x7f\\xff");
        assert_eq!(safe_text(b"a b", true), "a\\x20b");
        assert_eq!(safe_text("é".as_bytes(), false), "é");
        assert_eq!(safe_text(b"\xc3", false), "\\xc3");
    }

    #[test]
    fn limited_messages_are_padded_like_lsof() {
        // lsof 4.95, `-u` with 32 letters and ^A: the escape does not fit.
        let name = [&[b'a'; 32][..], b"\x01"].concat();
        assert_eq!(safe_text_limited(&name, 33), format!("{} ", "a".repeat(32)));
        assert_eq!(safe_text_limited(b"ab\x01c", 4), "ab^A");
    }
}
