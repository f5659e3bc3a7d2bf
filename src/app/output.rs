//! Standard output, written the same way by every mode (table, `-F`, `-t`,
//! JSON, `-r`, `-V`, `--deleted`, `--recover*`, `--help`, `--version`): a
//! failed write (a full disk, `> /dev/full`) says so on stderr and makes
//! the exit status 1, where lsof 4.95 ignores it and exits 0 (DIVERGENCES.md).
//! A reader that went away keeps lsof's ending (SIGPIPE, or with the signal
//! ignored a silent success).

use std::io::{self, Write};

/// Standard output whose failed writes name what failed.
pub(super) struct Stdout(io::StdoutLock<'static>);

impl Stdout {
    pub(super) fn lock() -> Stdout {
        Stdout(io::stdout().lock())
    }
}

impl Write for Stdout {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.write(bytes).map_err(labelled)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush().map_err(labelled)
    }
}

fn labelled(e: io::Error) -> io::Error {
    if e.kind() == io::ErrorKind::BrokenPipe {
        return e;
    }
    io::Error::new(e.kind(), format!("can't write to standard output: {e}"))
}

/// An output that goes on after a failed write (recovery copies every
/// file whatever happens to its report), remembering the first failure.
pub(super) struct FirstFailure<W> {
    inner: W,
    failure: Option<io::Error>,
}

impl<W: Write> FirstFailure<W> {
    pub(super) fn new(inner: W) -> FirstFailure<W> {
        FirstFailure {
            inner,
            failure: None,
        }
    }

    /// Flushes, then gives the first failure, if any.
    pub(super) fn finish(mut self) -> Option<io::Error> {
        let _ = self.flush();
        self.failure
    }

    fn keep<T>(&mut self, result: io::Result<T>) -> io::Result<T> {
        result.inspect_err(|e| {
            if self.failure.is_none() {
                self.failure = Some(io::Error::new(e.kind(), e.to_string()));
            }
        })
    }
}

impl<W: Write> Write for FirstFailure<W> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let result = self.inner.write(bytes);
        self.keep(result)
    }

    fn flush(&mut self) -> io::Result<()> {
        let result = self.inner.flush();
        self.keep(result)
    }
}
