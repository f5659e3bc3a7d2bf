//! Every open socket of the machine, process after process in PID order:
//! one iteration of the program over all tasks, read a block at a time as
//! the listing goes, so that what is held at once is a block, not the
//! machine's sockets.

use std::io::Read;

use super::program::{record, Iteration, Program, RECORD};
use super::HeldSocket;

/// Records read from the kernel at a time (16 KiB).
const BLOCK: usize = 1024 * RECORD;

pub struct SocketsInPidOrder {
    iteration: Iteration,
    _program: Program,
    block: Vec<u8>,
    start: usize,
    end: usize,
    done: bool,
    failed: bool,
}

impl SocketsInPidOrder {
    /// None when the kernel cannot tell (see the module text of
    /// `crate::bpf`). The kernel visits tasks by ascending thread id and
    /// skips threads that share their leader's descriptors: a process's
    /// sockets come together, processes in PID order, except a thread
    /// with descriptors of its own, which comes at its thread id.
    pub fn start() -> Option<SocketsInPidOrder> {
        let Some(program) = super::checked_program() else {
            super::debug::say(format_args!("sockets in PID order: /proc (no program)"));
            return None;
        };
        let iteration = program.iterate(None).ok()?;
        super::debug::say(format_args!(
            "sockets in PID order: the kernel (rlsof_sockets)"
        ));
        Some(SocketsInPidOrder {
            iteration,
            _program: program,
            block: vec![0; BLOCK],
            start: 0,
            end: 0,
            done: false,
            failed: false,
        })
    }

    /// Whether reading stopped on an error: the sockets not yet returned
    /// are unknown.
    pub fn failed(&self) -> bool {
        self.failed
    }
}

impl Iterator for SocketsInPidOrder {
    type Item = HeldSocket;

    fn next(&mut self) -> Option<HeldSocket> {
        loop {
            if self.end - self.start >= RECORD {
                let socket = record(&self.block[self.start..self.start + RECORD]);
                self.start += RECORD;
                return Some(socket);
            }
            if self.done || self.failed {
                return None;
            }
            // A record may straddle two reads: keep its first part.
            self.block.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
            match (&self.iteration.file).read(&mut self.block[self.end..]) {
                Ok(0) => {
                    self.done = true;
                    self.failed = self.end != 0;
                }
                Ok(n) => self.end += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => self.failed = true,
            }
        }
    }
}
