//! Wiring: options → selection → parallel scan in PID order → printer.

use crate::model::Process;
use crate::scan::process::Header;
use crate::scan::{Buffers, Scanner};
use crate::select::Selection;
use std::collections::BTreeMap;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Condvar, Mutex, PoisonError};

/// Scans `pids` (ascending) with up to `threads` workers and hands each
/// selected process to `sink` in PID order. Only a small window of scanned
/// processes waits for its turn, so memory stays bounded by a few
/// processes, not by the machine.
pub fn scan_in_order(
    scanner: &Scanner,
    selection: &Selection,
    pids: &[i32],
    threads: usize,
    sink: &mut dyn FnMut(Process) -> io::Result<()>,
) -> io::Result<()> {
    let wanted = |h: &Header| selection.process(h);
    if threads <= 1 || pids.len() < 8 {
        let mut bufs = Buffers::default();
        for &pid in pids {
            for (flags, mut p) in scanner.scan_pid(pid, &mut bufs, &wanted) {
                if keep_selected_files(selection, flags, &mut p) {
                    sink(p)?;
                }
            }
        }
        return Ok(());
    }
    let next = AtomicUsize::new(0);
    let window = Window::new(threads * 4);
    let (tx, rx) = mpsc::sync_channel::<(usize, Vec<Process>)>(threads * 4);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            let tx = tx.clone();
            let next = &next;
            let window = &window;
            let wanted = &wanted;
            scope.spawn(move || {
                let mut bufs = Buffers::default();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&pid) = pids.get(i) else { break };
                    window.wait_for(i);
                    let procs: Vec<Process> = scanner
                        .scan_pid(pid, &mut bufs, wanted)
                        .into_iter()
                        .filter_map(|(flags, mut p)| {
                            keep_selected_files(selection, flags, &mut p).then_some(p)
                        })
                        .collect();
                    if tx.send((i, procs)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        let mut waiting: BTreeMap<usize, Vec<Process>> = BTreeMap::new();
        let mut turn = 0usize;
        let mut result = Ok(());
        for (i, procs) in rx.iter() {
            waiting.insert(i, procs);
            while let Some(procs) = waiting.remove(&turn) {
                turn += 1;
                window.advance(turn);
                for p in procs {
                    if result.is_ok() {
                        result = sink(p);
                    }
                }
            }
            if result.is_err() {
                // Stop the workers: they see the closed channel.
                next.store(pids.len(), Ordering::Relaxed);
                window.advance(usize::MAX / 2);
                break;
            }
        }
        drop(rx);
        result
    })
}

/// Keeps workers at most `size` processes ahead of the one printed next,
/// so that a slow process does not make the others pile up in memory.
struct Window {
    size: usize,
    turn: Mutex<usize>,
    advanced: Condvar,
}

impl Window {
    fn new(size: usize) -> Window {
        Window {
            size,
            turn: Mutex::new(0),
            advanced: Condvar::new(),
        }
    }

    /// Blocks until process `i` is inside the window.
    fn wait_for(&self, i: usize) {
        let mut turn = self.turn.lock().unwrap_or_else(PoisonError::into_inner);
        while i >= turn.saturating_add(self.size) {
            turn = self
                .advanced
                .wait(turn)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    fn advance(&self, turn: usize) {
        *self.turn.lock().unwrap_or_else(PoisonError::into_inner) = turn;
        self.advanced.notify_all();
    }
}

/// Drops the files selection does not list; false when none is left.
fn keep_selected_files(selection: &Selection, flags: u32, p: &mut Process) -> bool {
    p.files.retain_mut(|f| selection.file(flags, f));
    !p.files.is_empty()
}
