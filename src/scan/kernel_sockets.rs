//! Streaming listings of a machine with many sockets, as root: each
//! process's sockets described by the kernel when the process is scanned
//! (see [`crate::bpf::SocketsProgram`]), so that what is held at once is
//! one process's sockets, whatever the machine's. No socket table is read.

use std::cell::RefCell;

use crate::bpf::DescribedSocket;
use crate::model::SocketInfo;
use crate::net::SocketTable;

use super::batches::SOCKETS_PER_BATCH;
use super::Scanner;

/// The sockets of the machine, every network namespace's (containers'
/// too, which `/proc/net/sockstat` does not count), as the kernel's
/// socket inode cache counts them in `/proc/slabinfo` (root only; objects
/// the allocator keeps at hand count too, so a little more).
fn sockets_of_every_namespace(proc_root: &std::path::Path) -> Option<usize> {
    let text = std::fs::read_to_string(proc_root.join("slabinfo")).ok()?;
    parse_slab_objects(&text, "sock_inode_cache")
}

/// The `<active_objs>` of `cache` in `/proc/slabinfo`'s text.
fn parse_slab_objects(slabinfo: &str, cache: &str) -> Option<usize> {
    let line = slabinfo
        .lines()
        .find(|l| l.split_whitespace().next() == Some(cache))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// A process's sockets as the kernel described them, asked for when its
/// first socket is met; asked again once if a socket is not among them
/// (opened meanwhile).
#[derive(Default)]
pub(super) struct ProcessSockets(RefCell<Option<(Vec<DescribedSocket>, bool)>>);

impl Scanner {
    /// Makes a streaming listing that needs not every socket (asked by
    /// `choose_socket_source` first) describe sockets from the kernel,
    /// process by process, where whole tables would hold more sockets than
    /// a batch (`-F`, `-j`, `-J` as root). Whether it does.
    pub(super) fn describe_sockets_from_kernel(&mut self) -> bool {
        let tables_asked_for = crate::knobs::knobs().socket_tables;
        if tables_asked_for || !self.kernel_can_be_asked() {
            return false;
        }
        if self.kernel_sockets.is_some() {
            return true;
        }
        let many = |n: Option<usize>| n.is_some_and(|n| n > SOCKETS_PER_BATCH);
        let many = crate::knobs::knobs().socket_batch.is_some()
            || many(super::batches::sockets_in_use(&self.cfg.proc_root))
            || many(sockets_of_every_namespace(&self.cfg.proc_root));
        if !many {
            return false;
        }
        self.kernel_sockets = crate::bpf::SocketsProgram::load();
        self.kernel_sockets.is_some()
    }

    /// What the socket tables would say of socket `inode` of the process
    /// at `sockets`: Some(None) when no table lsof searches lists it;
    /// None when the kernel is not asked (or could not answer).
    pub(super) fn kernel_socket(
        &self,
        pid: i32,
        sockets: &ProcessSockets,
        inode: u64,
    ) -> Option<Option<SocketInfo>> {
        let program = self.kernel_sockets.as_ref()?;
        let mut held = sockets.0.borrow_mut();
        // By inode: a process may hold many thousands.
        let known = |held: &Option<(Vec<DescribedSocket>, bool)>| {
            let (all, _) = held.as_ref()?;
            all.binary_search_by_key(&inode, |s| s.inode).ok()
        };
        let mut found = known(&held);
        if found.is_none() && !held.as_ref().is_some_and(|(_, asked_again)| *asked_again) {
            let asked_again = held.is_some();
            let mut all = program.sockets_of(pid)?;
            all.sort_unstable_by_key(|s| s.inode);
            *held = Some((all, asked_again));
            found = known(&held);
        }
        let socket = found.and_then(|at| held.as_ref().map(|(all, _)| &all[at]));
        let Some(socket) = socket else {
            // Closed, or opened after the kernel was asked twice: as lsof
            // shows a socket its tables do not have.
            return Some(None);
        };
        let searched: &[SocketTable] = if self.cfg.skip_tcp_udp {
            &SocketTable::WITHOUT_TCP_UDP
        } else {
            SocketTable::LSOF
        };
        Some(
            socket
                .raw
                .table()
                .filter(|t| searched.contains(t))
                .and_then(|_| socket.raw.describe()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_objects_from_slabinfo() {
        let text = "slabinfo - version: 2.1\n\
            # name            <active_objs> <num_objs> <objsize>\n\
            sock_inode_cache_x 5 5 832\n\
            sock_inode_cache     224    323    832   19    4 : tunables 0 0 0\n";
        assert_eq!(parse_slab_objects(text, "sock_inode_cache"), Some(224));
        assert_eq!(parse_slab_objects(text, "TCP"), None);
        assert_eq!(
            parse_slab_objects("sock_inode_cache many\n", "sock_inode_cache"),
            None
        );
    }
}
