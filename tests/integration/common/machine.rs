//! Tests share one machine, and all of them run in one process, two or more
//! at a time. Most look only at processes they started, or at the whole
//! machine through the stable-process rule (`stable`), so they may run
//! side by side. A few change what a listing of the whole machine shows:
//! a FUSE daemon that stops answering (lsof waits on it and warns), sockets
//! in a network namespace (lsof shows them otherwise, DIVERGENCES.md),
//! threads with descriptor tables of their own, system calls counted per
//! file while other tests open sockets. Those hold [`alone`] for their whole
//! run; every tool run of the harness ([`super::run_as`] and the helpers
//! built on it) holds a shared [`turn`], so none of them overlaps.

use std::cell::Cell;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

static MACHINE: RwLock<()> = RwLock::new(());

thread_local! {
    /// Whether this thread's test holds the machine alone: its own tool
    /// runs then need no turn (asking for one would wait on itself).
    static HOLDS_IT_ALONE: Cell<bool> = const { Cell::new(false) };
}

/// The machine to this test alone until dropped: declare it first in the
/// test, so that it outlives the fixtures the test starts.
pub struct Alone {
    _held: RwLockWriteGuard<'static, ()>,
}

pub fn alone() -> Alone {
    // A test that failed while holding the machine poisons the lock; the
    // machine itself is fine (its fixtures were dropped), so go on.
    let held = MACHINE
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    HOLDS_IT_ALONE.with(|alone| alone.set(true));
    Alone { _held: held }
}

impl Drop for Alone {
    fn drop(&mut self) {
        HOLDS_IT_ALONE.with(|alone| alone.set(false));
    }
}

/// A turn to run a tool beside other tests' tool runs, never beside a test
/// that holds the machine alone (None when this thread's test is that one).
pub fn turn() -> Option<RwLockReadGuard<'static, ()>> {
    if HOLDS_IT_ALONE.with(Cell::get) {
        return None;
    }
    Some(
        MACHINE
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner()),
    )
}
