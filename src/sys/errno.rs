//! errno as lsof prints it: strerror's text alone.

use std::io;
use std::sync::OnceLock;

/// The text of `e` as lsof prints it (`strerror(errno)`), without the
/// " (os error N)" that `io::Error`'s Display adds. The text comes from
/// the standard library, which asks the thread-safe `strerror_r`:
/// scanning threads call this at once.
pub(crate) fn errno_text(e: &io::Error) -> String {
    let Some(code) = e.raw_os_error() else {
        return e.to_string();
    };
    // A listing may meet the same refusal for thousands of descriptors
    // (a process whose links may not be read): each code's text is made
    // once a run.
    static TEXTS: [OnceLock<Box<str>>; CODES] = [const { OnceLock::new() }; CODES];
    match usize::try_from(code).ok().and_then(|i| TEXTS.get(i)) {
        Some(text) => text.get_or_init(|| strerror_text(code).into()).to_string(),
        None => strerror_text(code),
    }
}

/// Linux's errno codes, 0 to EHWPOISON (133); a code beyond is formatted
/// each time.
const CODES: usize = 134;

fn strerror_text(code: i32) -> String {
    let text = io::Error::from_raw_os_error(code).to_string();
    match text.strip_suffix(&format!(" (os error {code})")) {
        Some(bare) => bare.to_string(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strerror_text_alone() {
        let text = |code| errno_text(&io::Error::from_raw_os_error(code));
        assert_eq!(text(libc::ENOENT), "No such file or directory");
        assert_eq!(text(libc::ETIMEDOUT), "Connection timed out");
        assert_eq!(text(libc::EACCES), "Permission denied");
        assert_eq!(text(9999), "Unknown error 9999");
        let other = io::Error::other("plain");
        assert_eq!(errno_text(&other), "plain");
    }
}
