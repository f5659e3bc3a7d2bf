//! Stopping a recovery cleanly on SIGINT, SIGTERM or SIGHUP.
//!
//! The default action of those signals kills the process wherever it is,
//! which for a copy means a half-written temporary and a progress bar left
//! mid-line. While a recovery runs, the signals only raise a flag (through
//! signal-hook, which keeps the handler async-signal-safe); the copy loop
//! looks at the flag between chunks, discards its temporary, and the
//! command exits with 128 + the signal's number, as a shell expects.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// The signals that stop a recovery.
const STOPPING: [libc::c_int; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

/// Whether a stopping signal has arrived, and which.
#[derive(Debug, Clone, Default)]
pub struct Interrupts {
    /// The last stopping signal's number, 0 while none came.
    signal: Arc<AtomicUsize>,
}

impl Interrupts {
    /// Catches SIGINT, SIGTERM and SIGHUP from now on (for the life of the
    /// process: a recovery is the last thing it does).
    pub fn install() -> std::io::Result<Interrupts> {
        let stop = Interrupts::default();
        for signal in STOPPING {
            signal_hook::flag::register_usize(signal, Arc::clone(&stop.signal), signal as usize)?;
        }
        Ok(stop)
    }

    /// A flag no signal sets (library callers, tests); `raise` sets it.
    pub fn none() -> Interrupts {
        Interrupts::default()
    }

    /// Sets the flag as if `signal` had arrived.
    pub fn raise(&self, signal: libc::c_int) {
        self.signal.store(signal as usize, Ordering::SeqCst);
    }

    /// The stopping signal that arrived, if any.
    pub fn pending(&self) -> Option<libc::c_int> {
        match self.signal.load(Ordering::SeqCst) {
            0 => None,
            n => libc::c_int::try_from(n).ok(),
        }
    }
}

/// The exit status of a command stopped by `signal`: 128 + its number
/// (130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP).
pub(crate) fn exit_status(signal: libc::c_int) -> i32 {
    128 + signal
}

/// "SIGINT", "SIGTERM", "SIGHUP", or "signal N".
pub(crate) fn signal_name(signal: libc::c_int) -> String {
    match signal {
        libc::SIGINT => "SIGINT".into(),
        libc::SIGTERM => "SIGTERM".into(),
        libc::SIGHUP => "SIGHUP".into(),
        n => format!("signal {n}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raised_flag_and_statuses() {
        let stop = Interrupts::none();
        assert_eq!(stop.pending(), None);
        stop.raise(libc::SIGTERM);
        assert_eq!(stop.pending(), Some(libc::SIGTERM));
        assert_eq!(exit_status(libc::SIGINT), 130);
        assert_eq!(exit_status(libc::SIGTERM), 143);
        assert_eq!(signal_name(libc::SIGHUP), "SIGHUP");
    }
}
