//! Under a selection that can list nothing but sockets (`-i` alone, `-t -i
//! :PORT`), the processes worth reading: those that hold a socket it could
//! list, as the kernel tells in one pass over every open file (see
//! [`crate::bpf`]), rather than by the link of every descriptor of the
//! machine. Each socket is tested as the scan tests it in a sockets-only
//! process (same tables, same filter), so the listing is the same; the
//! scan of such a process then reads the links of those sockets'
//! descriptors only.

use std::collections::HashMap;

use super::Scanner;

impl Scanner {
    /// Of `pids`, those that hold a socket the selection could list. None
    /// when every process must be read: the selection may list other
    /// files, the proc root is not the machine's, or the kernel cannot
    /// tell (not root, no BPF iterator, rlsof in a PID namespace of its
    /// own).
    pub fn socket_holders_among(&self, pids: &[i32]) -> Option<Vec<i32>> {
        let filter = self.socket_filter.as_ref()?;
        if self.cfg.sockets_only_unless != Some(0) || !self.kernel_can_be_asked() {
            return None;
        }
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let held = std::thread::scope(|scope| {
            // The tables the test needs, and the locks the listing will
            // show, are read meanwhile.
            scope.spawn(|| self.preload_sockets());
            scope.spawn(|| self.preload_locks());
            crate::bpf::held_sockets(pids, threads)
        })?;
        let mut by_pid: HashMap<i32, Vec<(u32, u64)>> = HashMap::new();
        for socket in held.sockets {
            by_pid
                .entry(socket.pid)
                .or_default()
                .push((socket.fd, socket.inode));
        }
        let mut listable = HashMap::new();
        let mut wanted = Vec::new();
        for &pid in pids {
            if held.unknown.contains(&pid) {
                wanted.push(pid);
                continue;
            }
            let Some(sockets) = by_pid.get(&pid) else {
                continue;
            };
            let Some(netns) = crate::net::netns_of(&self.cfg.proc_root, pid) else {
                // Gone or unreadable: the scan says what lsof says of it.
                wanted.push(pid);
                continue;
            };
            let mut fds: Vec<u32> = sockets
                .iter()
                .filter(|&&(_, inode)| {
                    let info = self.lookup_in_sockets_only(netns, pid, inode);
                    filter.may_select(info.as_ref())
                })
                .map(|&(fd, _)| fd)
                .collect();
            if !fds.is_empty() {
                fds.sort_unstable();
                fds.dedup();
                listable.insert(pid, fds);
                wanted.push(pid);
            }
        }
        let _ = self.listable_sockets.set(listable);
        Some(wanted)
    }

    /// The descriptors of process `pid` that hold a socket the selection
    /// could list, when the kernel told them (under
    /// [`Scanner::socket_holders_among`]); None: read them all.
    pub(super) fn listable_sockets_of(&self, pid: i32) -> Option<&[u32]> {
        self.listable_sockets.get()?.get(&pid).map(Vec::as_slice)
    }
}
