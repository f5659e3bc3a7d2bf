//! Wiring: options → selection → parallel scan in PID order → printer.
//!
//! The calling thread scans too: with one thread per CPU and no thread
//! that only waits, no scanning thread is put aside for a printing one
//! woken at every process (on two CPUs, three busy threads cost about a
//! context switch per process). Between two of its own processes the
//! calling thread hands on, in PID order, what the others have scanned.

use crate::model::{OpenFile, Process};
use crate::scan::process::{EarlyTest, Header};
use crate::scan::{Buffers, Scanner};
use crate::select::{Selection, SEL_NA, SEL_NET, SEL_NM, SEL_UNX};
use std::collections::BTreeMap;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

/// Scanned processes that may wait for their turn before the other
/// threads pause: memory stays bounded by a few processes, not by the
/// machine, even when the sink is slow (a `-F` reader on a pipe). A
/// larger window scanned no faster (see bench/RESULTS.md).
const WINDOW: usize = 4;

/// Scans `pids` (ascending) on up to `threads` threads, the calling one
/// included, and hands each selected process to `sink` in PID order.
pub(crate) fn scan_in_order(
    scanner: &Scanner,
    selection: &Selection,
    pids: &[i32],
    threads: usize,
    sink: &mut dyn FnMut(Process) -> io::Result<()>,
) -> io::Result<()> {
    let wanted = |h: &Header| selection.process(h);
    // Files selection drops are dropped as soon as it can tell: when not
    // everything is listed (and no thread reuses its leader's rows).
    let file_test = |flags: u32, f: &mut OpenFile| selection.file(flags, f);
    let socket_selections = SEL_NA | SEL_NET | SEL_UNX | SEL_NM;
    let keep = (!selection.all).then_some(EarlyTest {
        test: &file_test,
        sockets_too: selection.flags & socket_selections == 0 && selection.names.is_empty(),
    });
    let scan = |i: usize, bufs: &mut Buffers| -> Vec<Process> {
        let Some(&pid) = pids.get(i) else {
            return Vec::new();
        };
        scanner
            .scan_pid_selecting(pid, bufs, &wanted, keep)
            .into_iter()
            .filter_map(|(flags, mut p)| keep_selected_files(selection, flags, &mut p).then_some(p))
            .collect()
    };
    if threads <= 1 || pids.len() < 8 {
        return scan_on_this_thread(scanner, pids.len(), &scan, sink);
    }
    let preload_sockets = selection.all || scanner.config().sockets_only_unless.is_some();
    scan_on_threads(scanner, pids.len(), threads, preload_sockets, &scan, sink)
}

/// What scans the `i`th process to list (its rows selected), for
/// `scan_on_*`.
type ScanOne<'a> = dyn Fn(usize, &mut Buffers) -> Vec<Process> + Sync + 'a;

fn scan_on_this_thread(
    scanner: &Scanner,
    count: usize,
    scan: &ScanOne,
    sink: &mut dyn FnMut(Process) -> io::Result<()>,
) -> io::Result<()> {
    let mut bufs = Buffers::default();
    std::thread::scope(|scope| {
        if count > 0 {
            scope.spawn(|| scanner.preload_locks());
        }
        for i in 0..count {
            for p in scan(i, &mut bufs) {
                sink(p)?;
            }
        }
        Ok(())
    })
}

/// Scans processes `0..count` on `threads` threads, the calling one
/// included, which also hands them to `sink` in order.
fn scan_on_threads(
    scanner: &Scanner,
    count: usize,
    threads: usize,
    preload_sockets: bool,
    scan: &ScanOne,
    sink: &mut dyn FnMut(Process) -> io::Result<()>,
) -> io::Result<()> {
    let next = AtomicUsize::new(0);
    let order = Order::new(threads - 1);
    std::thread::scope(|scope| {
        scope.spawn(|| scanner.preload_locks());
        // Every process, or every socket, is looked at: the socket tables
        // will be read; one more thread reads them meanwhile, so that no
        // CPU idles while a scanning thread waits for one.
        if preload_sockets {
            scope.spawn(|| scanner.preload_sockets());
        }
        for _ in 1..threads {
            let (next, order) = (&next, &order);
            scope.spawn(move || {
                let _leaving = Leaving(order);
                let mut bufs = Buffers::default();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= count || !order.put(i, scan(i, &mut bufs), true) {
                        break;
                    }
                }
            });
        }
        hand_on_in_order(count, &next, &order, scan, sink)
    })
}

/// The calling thread's part of `scan_on_threads`: hands on, in order,
/// what the others scanned, and scans too between two of its turns.
fn hand_on_in_order(
    count: usize,
    next: &AtomicUsize,
    order: &Order,
    scan: &ScanOne,
    sink: &mut dyn FnMut(Process) -> io::Result<()>,
) -> io::Result<()> {
    let mut bufs = Buffers::default();
    let mut turn = 0usize;
    let mut result = Ok(());
    while turn < count {
        for procs in order.take_ready(&mut turn) {
            for p in procs {
                if result.is_ok() {
                    result = sink(p);
                }
            }
        }
        if result.is_err() {
            next.store(count, Ordering::Relaxed);
            order.stop();
            break;
        }
        if turn >= count {
            break;
        }
        // While the window is full, this thread waits for the process
        // whose turn it is rather than scan further ahead: behind one
        // slow process, it would otherwise hold every process it scans.
        let i = if order.is_full() {
            count
        } else {
            next.fetch_add(1, Ordering::Relaxed)
        };
        if i < count {
            order.put(i, scan(i, &mut bufs), false);
        } else if !order.wait_for(turn) {
            break;
        }
    }
    result
}

/// Scanned processes waiting for their turn, shared by the threads.
struct Order {
    state: Mutex<State>,
    changed: Condvar,
}

struct State {
    ready: BTreeMap<usize, Vec<Process>>,
    /// Scanning threads other than the caller still running.
    helpers: usize,
    /// Threads waiting for a change: only then is one announced.
    sleepers: usize,
    stopped: bool,
}

impl Order {
    fn new(helpers: usize) -> Order {
        Order {
            state: Mutex::new(State {
                ready: BTreeMap::new(),
                helpers,
                sleepers: 0,
                stopped: false,
            }),
            changed: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn announce(&self, state: &State) {
        if state.sleepers > 0 {
            self.changed.notify_all();
        }
    }

    fn sleep<'a>(&self, mut state: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        state.sleepers += 1;
        let mut state = self
            .changed
            .wait(state)
            .unwrap_or_else(PoisonError::into_inner);
        state.sleepers -= 1;
        state
    }

    /// Files process `i`; a helper (`wait`) then pauses while the window
    /// is full. False when the listing was stopped.
    fn put(&self, i: usize, procs: Vec<Process>, wait: bool) -> bool {
        let mut state = self.lock();
        state.ready.insert(i, procs);
        self.announce(&state);
        while wait && !state.stopped && state.ready.len() > WINDOW {
            state = self.sleep(state);
        }
        !state.stopped
    }

    /// Whether as many processes wait for their turn as the window holds.
    fn is_full(&self) -> bool {
        self.lock().ready.len() >= WINDOW
    }

    /// The processes whose turn has come, advancing `turn` past them.
    fn take_ready(&self, turn: &mut usize) -> Vec<Vec<Process>> {
        let mut state = self.lock();
        let mut out = Vec::new();
        while let Some(procs) = state.ready.remove(turn) {
            out.push(procs);
            *turn += 1;
        }
        if !out.is_empty() {
            self.announce(&state);
        }
        out
    }

    /// Waits until process `turn` is scanned; false if it never will be
    /// (every helper has left without it).
    fn wait_for(&self, turn: usize) -> bool {
        let mut state = self.lock();
        loop {
            if state.ready.contains_key(&turn) {
                return true;
            }
            if state.helpers == 0 || state.stopped {
                return false;
            }
            state = self.sleep(state);
        }
    }

    fn stop(&self) {
        let mut state = self.lock();
        state.stopped = true;
        self.announce(&state);
    }
}

/// Counts a helper out when it returns (or unwinds), so the caller never
/// waits for a process nobody scans.
struct Leaving<'a>(&'a Order);

impl Drop for Leaving<'_> {
    fn drop(&mut self) {
        let mut state = self.0.lock();
        state.helpers = state.helpers.saturating_sub(1);
        self.0.announce(&state);
    }
}

/// Drops the files selection does not list; false when none is left.
fn keep_selected_files(selection: &Selection, flags: u32, p: &mut Process) -> bool {
    p.files.retain_mut(|f| selection.file(flags, f));
    !p.files.is_empty()
}

/// How glibc's allocator is set up for a run; decided once, before any
/// thread starts (`tune_allocator`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AllocatorUse {
    /// The table: rows are kept until the columns' widths are known.
    Table,
    /// Field output, JSON, `-t` and the long-running views: each process
    /// is freed once written, often on another thread than scanned it.
    Streaming,
}

/// Sets glibc's allocator for `use_`. Call once, before any thread starts.
///
/// glibc serves a block above a threshold with a mapping of its own,
/// which `realloc` can grow in place and `free` gives back, but raises
/// that threshold to the size of every such block freed: after the first
/// large block is dropped, later ones come from the heap, whose pages
/// stay resident however it is cut up later. A fixed threshold keeps
/// large blocks mapped: the table printer's growing buffers (128 KiB and
/// more), and for streaming outputs a process's rows and read buffers
/// (32 KiB and more).
///
/// Streaming outputs also get one arena for every thread: a process
/// scanned on one thread and printed and freed on another goes back to
/// the scanning thread's arena only in part, so with an arena per thread
/// the arenas grow with the number of processes listed.
pub(crate) fn tune_allocator(use_: AllocatorUse) {
    let threshold: libc::c_int = match use_ {
        AllocatorUse::Table => 128 * 1024,
        AllocatorUse::Streaming => 32 * 1024,
    };
    // SAFETY: mallopt only tunes the allocator (no pointer is passed, and
    // no thread allocates yet); a refusal changes nothing.
    unsafe {
        if use_ == AllocatorUse::Streaming {
            libc::mallopt(libc::M_ARENA_MAX, 1);
        }
        libc::mallopt(libc::M_MMAP_THRESHOLD, threshold);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_fills_and_empties_in_turn() {
        let order = Order::new(0);
        // Processes 1.. are scanned while process 0, whose turn it is, is not.
        for i in 1..=WINDOW {
            assert!(!order.is_full());
            assert!(order.put(i, Vec::new(), false));
        }
        assert!(order.is_full(), "the printing thread waits now");
        let mut turn = 0;
        assert!(order.take_ready(&mut turn).is_empty());
        assert!(order.put(0, Vec::new(), false));
        assert!(order.wait_for(0));
        assert_eq!(order.take_ready(&mut turn).len(), WINDOW + 1);
        assert_eq!(turn, WINDOW + 1);
        assert!(!order.is_full());
        // No helper is left to scan the next one.
        assert!(!order.wait_for(turn));
    }
}
