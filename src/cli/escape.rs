//! lsof's "safe string" form for user text echoed in messages: printable
//! characters as they are, control bytes as `^X` or `\n`-style escapes,
//! other bytes as `\xNN`, and `\` doubled.

/// The text as lsof's `safestrprt` prints it. `space_is_unprintable` makes a
/// space print as `\x20`, which lsof does for the `-c` length message.
pub fn safe_text(bytes: &[u8], space_is_unprintable: bool) -> String {
    let mut out = String::with_capacity(bytes.len());
    let mut rest = bytes;
    while let Some(&byte) = rest.first() {
        if byte >= 0x80 {
            if let Some((ch, len)) = printable_multibyte(rest) {
                out.push(ch);
                rest = &rest[len..];
                continue;
            }
        }
        push_byte(&mut out, byte, space_is_unprintable);
        rest = &rest[1..];
    }
    out
}

/// Like `safe_text`, for text lsof stores as a plain C string.
pub fn safe_str(text: &str) -> String {
    safe_text(text.as_bytes(), false)
}

/// A printable UTF-8 character at the start of `bytes`: lsof runs in the
/// user's (UTF-8) locale and prints such characters unchanged.
fn printable_multibyte(bytes: &[u8]) -> Option<(char, usize)> {
    let len = match bytes[0] {
        0xc2..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf4 => 4,
        _ => return None,
    };
    let chunk = bytes.get(..len)?;
    let ch = std::str::from_utf8(chunk).ok()?.chars().next()?;
    (!ch.is_control()).then_some((ch, len))
}

fn push_byte(out: &mut String, byte: u8, space_is_unprintable: bool) {
    match byte {
        b'\\' => out.push_str("\\\\"),
        b' ' if space_is_unprintable => out.push_str("\\x20"),
        0x20..=0x7e => out.push(char::from(byte)),
        0x08 => out.push_str("\\b"),
        0x0c => out.push_str("\\f"),
        b'\n' => out.push_str("\\n"),
        b'\r' => out.push_str("\\r"),
        b'\t' => out.push_str("\\t"),
        0x00..=0x1f => {
            out.push('^');
            out.push(char::from(byte + 0x40));
        }
        _ => out.push_str(&format!("\\x{byte:02x}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_lsof() {
        assert_eq!(safe_text(b"a\\b", false), "a\\\\b");
        assert_eq!(safe_text(b"a\x01\n\x7f\xff", false), "a^A\\n\\x7f\\xff");
        assert_eq!(safe_text(b"a b", true), "a\\x20b");
        assert_eq!(safe_text("é".as_bytes(), false), "é");
        assert_eq!(safe_text(b"\xc3", false), "\\xc3");
    }
}
