//! A progress bar on stderr for long copies, and putting the terminal
//! line back when the copy ends, however it ends.

use super::report::human_size;
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// Files at least this large get a progress bar on a terminal.
const PROGRESS_MIN_BYTES: u64 = 32 << 20;

/// A progress bar on stderr for large files, when stderr is a terminal.
pub(super) struct ProgressBar {
    enabled: bool,
    last: Option<Instant>,
    drawn: bool,
}

impl ProgressBar {
    pub(super) fn for_stderr() -> ProgressBar {
        ProgressBar {
            enabled: std::io::stderr().is_terminal(),
            last: None,
            drawn: false,
        }
    }

    pub(super) fn update(&mut self, copied: u64, total: u64, err: &mut dyn Write) {
        if !self.enabled || total < PROGRESS_MIN_BYTES {
            return;
        }
        let now = Instant::now();
        if self
            .last
            .is_some_and(|t| now.duration_since(t) < Duration::from_millis(100))
            && copied < total
        {
            return;
        }
        self.last = Some(now);
        let width = 30u64;
        let filled = (copied.saturating_mul(width) / total.max(1)).min(width) as usize;
        let percent = copied.saturating_mul(100) / total.max(1);
        let _ = write!(
            err,
            "\r[{}{}] {percent:>3}% {} / {}",
            "#".repeat(filled),
            " ".repeat(width as usize - filled),
            human_size(copied),
            human_size(total)
        );
        let _ = err.flush();
        self.drawn = true;
    }

    pub(super) fn finish(&mut self, err: &mut dyn Write) {
        if self.drawn {
            let _ = write!(err, "\r\x1b[K");
            let _ = err.flush();
            self.drawn = false;
        }
    }
}
