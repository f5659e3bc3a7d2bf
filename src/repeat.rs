//! `-r [t[cN][m<fmt>]]` and `+r`: list again every t seconds.
//!
//! As lsof 4.95 (main.c's repeat loop): after each cycle the marker line is
//! written and the program sleeps t seconds, also after the last of `cN`
//! cycles; `+r` stops, without a marker, at the first cycle that lists
//! nothing. `t` = 0 means no repeat mode at all.
//!
//! What does not change between cycles is kept (the name caches, the mount
//! table, the proc root); what does (locks, socket tables) is read afresh by
//! a new scanner per cycle.

use std::ffi::CString;
use std::io;
use std::time::Duration;

use crate::cli::options::Repeat;
use crate::model::Process;
use crate::print::Printer;
use crate::scan::socket::SocketLookup;
use crate::scan::Scanner;

/// How a repeated listing went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Outcome {
    /// Some cycle listed a process (what `+r` needs for exit status 0).
    pub listed: bool,
}

/// Runs `list_once` once per cycle with a fresh scanner, ending each
/// cycle with the printer's marker.
///
/// `fresh_sockets` makes the socket tables for a new cycle; `list_once`
/// scans with the scanner it is given and hands each selected process to
/// the printer (then calls `finish`).
pub(crate) fn run(
    repeat: &Repeat,
    mut scanner: Scanner,
    printer: &mut dyn Printer,
    fresh_sockets: &dyn Fn() -> Box<dyn SocketLookup + Send>,
    list_once: &mut dyn FnMut(&mut Scanner, &mut dyn Printer) -> io::Result<()>,
) -> io::Result<Outcome> {
    let mut outcome = Outcome::default();
    let mut cycles_done: u32 = 0;
    loop {
        let mut counting = Counting {
            inner: &mut *printer,
            listed: 0,
        };
        list_once(&mut scanner, &mut counting)?;
        let listed = counting.listed > 0;
        if repeat.seconds == 0 {
            // lsof's `-r0`: one listing, no marker; `+r0` never counts it.
            return Ok(outcome);
        }
        if repeat.until_empty {
            if !listed {
                return Ok(outcome);
            }
            outcome.listed = true;
        }
        let marker = repeat.marker.as_deref().map(format_marker);
        printer.end_cycle(marker.as_deref())?;
        std::thread::sleep(Duration::from_secs(u64::from(repeat.seconds)));
        cycles_done = cycles_done.saturating_add(1);
        if repeat
            .cycles
            .is_some_and(|max| max > 0 && cycles_done >= max)
        {
            return Ok(outcome);
        }
        scanner = scanner.next_cycle(fresh_sockets());
    }
}

/// Counts the processes a cycle lists.
struct Counting<'p> {
    inner: &'p mut dyn Printer,
    listed: usize,
}

impl Printer for Counting<'_> {
    fn process(&mut self, p: &Process) -> io::Result<()> {
        if !p.files.is_empty() {
            self.listed += 1;
        }
        self.inner.process(p)
    }

    fn finish(&mut self) -> io::Result<()> {
        self.inner.finish()
    }

    fn end_cycle(&mut self, marker: Option<&[u8]>) -> io::Result<()> {
        self.inner.end_cycle(marker)
    }
}

extern "C" {
    /// POSIX; the libc crate does not declare it.
    fn tzset();
}

/// The `m<fmt>` marker for now: strftime(3) in local time, as lsof
/// formats it. lsof's result buffer holds 8 bytes per format byte.
pub(crate) fn format_marker(format: &str) -> Vec<u8> {
    let Ok(c_format) = CString::new(format) else {
        return Vec::new();
    };
    let mut buf = vec![0u8; (format.len() + 1) * 8];
    // SAFETY: tzset and time(NULL) have no preconditions; localtime_r writes only into
    // `tm`; strftime writes at most `buf.len()` bytes into `buf` and reads a
    // NUL-terminated format and a filled-in `tm`.
    let written = unsafe {
        tzset();
        let now = libc::time(std::ptr::null_mut());
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&now, &mut tm).is_null() {
            return Vec::new();
        }
        libc::strftime(buf.as_mut_ptr().cast(), buf.len(), c_format.as_ptr(), &tm)
    };
    buf.truncate(written);
    buf
}

#[cfg(test)]
mod tests {
    use super::format_marker;

    #[test]
    fn marker_formats_with_strftime() {
        assert_eq!(format_marker("at %%"), b"at %");
        let year = format_marker("%Y");
        assert_eq!(year.len(), 4);
        assert!(year.iter().all(u8::is_ascii_digit));
        assert_eq!(format_marker("plain text"), b"plain text");
    }
}
