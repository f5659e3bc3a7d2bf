//! Where a listing's socket descriptions come from, decided in one place:
//! the socket tables read whole (what lsof does), read a batch of
//! processes at a time (`batches`), or the kernel describing each
//! process's sockets as it is scanned (`kernel_sockets`). Under
//! `RLSOF_DEBUG=1` the choice and its reason are told.

use super::batches::{Batches, HeldInOrder};
use super::Scanner;

/// See the module's documentation.
pub enum SocketSource<'p> {
    /// Every socket table read once, before the scan needs it.
    WholeTables,
    /// The tables read again for each batch, keeping its sockets only.
    Batches(Batches<'p, Box<dyn HeldInOrder + 'p>>),
    /// No table: the kernel describes each process's sockets.
    Kernel,
}

impl Scanner {
    /// The socket source for a listing of `pids`. Only streaming outputs
    /// (`-F`, `-j`, `-J`) can use another than whole tables: the others
    /// keep every row until the end anyway.
    pub fn choose_socket_source<'p>(
        &mut self,
        streaming: bool,
        pids: &'p [i32],
    ) -> SocketSource<'p> {
        let (source, why) = if !streaming {
            (SocketSource::WholeTables, "the output keeps every row")
        } else if self.whole_tables_needed() {
            (SocketSource::WholeTables, "every socket may be needed")
        } else if self.describe_sockets_from_kernel() {
            (SocketSource::Kernel, "many sockets, and the kernel answers")
        } else if !self.on_machine_unrefused() {
            (
                SocketSource::WholeTables,
                "RLSOF_NO_BPF, or not this machine's /proc",
            )
        } else if let Some(batches) = self.socket_batches(pids) {
            (SocketSource::Batches(batches), "many sockets")
        } else {
            (SocketSource::WholeTables, "few sockets")
        };
        let name = match source {
            SocketSource::WholeTables => "whole socket tables",
            SocketSource::Batches(_) => "socket tables per batch of processes",
            SocketSource::Kernel => "the kernel, process by process",
        };
        crate::bpf::debug::say(format_args!("socket descriptions: {name} ({why})"));
        source
    }
}
