//! What rlsof tells of its choices under `RLSOF_DEBUG=1`: for each
//! question the kernel could answer (who holds which socket, each
//! descriptor's flags and position, each socket's description), whether
//! a BPF program answers it or `/proc` does, and why; for each program,
//! whether it was built and loaded, with the kernel verifier's last word.

/// Whether [`crate::knobs::DEBUG`] is set.
pub(crate) fn on() -> bool {
    crate::knobs::knobs().debug
}

/// Tells `what` on standard error under [`crate::knobs::DEBUG`].
pub(crate) fn say(what: std::fmt::Arguments) {
    if on() {
        eprintln!("rlsof: debug: {what}");
    }
}

/// [`say`], the first time only.
pub(crate) fn say_once(what: std::fmt::Arguments) {
    static SAID: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if on() && !SAID.swap(true, std::sync::atomic::Ordering::Relaxed) {
        say(what);
    }
}
