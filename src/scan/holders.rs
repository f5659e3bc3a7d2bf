//! Under a selection that can list nothing but sockets (`-i` alone, `-t -i
//! :PORT`), the processes worth reading: those that hold a socket it could
//! list, as the kernel tells in one pass over every open file (see
//! [`crate::bpf`]), rather than by the link of every descriptor of the
//! machine. Each socket is tested as the scan tests it in a sockets-only
//! process (same tables, same filter), so the listing is the same; the
//! scan of such a process then reads the links of those sockets'
//! descriptors only.

use std::collections::{HashMap, HashSet};

use super::Scanner;

/// What the kernel told of the sockets of the processes to scan.
#[derive(Debug, Default)]
pub(super) struct ListableSockets {
    /// Per process, the descriptors to read (none: the process holds no
    /// socket to read).
    by_pid: HashMap<i32, Vec<u32>>,
    /// Processes the kernel could not tell of: read every descriptor.
    unknown: HashSet<i32>,
}

impl Scanner {
    /// Of `pids`, those to scan, as the kernel tells which of them hold a
    /// socket the selection could list. None when every process must be
    /// read: the selection may list other files, the proc root is not the
    /// machine's, or the kernel cannot tell (not root, no BPF iterator,
    /// rlsof in a PID namespace of its own).
    ///
    /// `every_process`: selection tests processes (`-p`, `-u`, `-c`, `-g`,
    /// `-K` or their exclusions, under `-a`), which also records the search
    /// items they meet for the exit status and `-V`. Every process is then
    /// scanned as without the kernel's help, its header tested, only the
    /// descriptors the kernel names as sockets read, and each socket
    /// tested by the scan; a socket is never tested here for a process the
    /// process test would exclude. Without process tests every process
    /// passes, so testing the sockets here is what the scan would do.
    pub fn socket_holders_among(&self, pids: &[i32], every_process: bool) -> Option<Vec<i32>> {
        let filter = self.socket_filter.as_ref()?;
        if self.cfg.sockets_only_unless != Some(0) || !self.kernel_can_be_asked() {
            return None;
        }
        let threads = crate::sys::cpus();
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
        let mut listable = ListableSockets {
            unknown: held.unknown.iter().copied().collect(),
            ..ListableSockets::default()
        };
        let mut wanted = Vec::new();
        for &pid in pids {
            if listable.unknown.contains(&pid) {
                wanted.push(pid);
                continue;
            }
            let sockets = by_pid.get(&pid).map_or(&[][..], Vec::as_slice);
            if every_process {
                let mut fds: Vec<u32> = sockets.iter().map(|&(fd, _)| fd).collect();
                fds.sort_unstable();
                fds.dedup();
                listable.by_pid.insert(pid, fds);
                wanted.push(pid);
                continue;
            }
            if sockets.is_empty() {
                continue;
            }
            let Some(netns) = crate::sys::netns::of_pid(&self.cfg.proc_root, pid) else {
                // Gone or unreadable: the scan says what lsof says of it.
                listable.unknown.insert(pid);
                wanted.push(pid);
                continue;
            };
            let mut fds: Vec<u32> = sockets
                .iter()
                .filter(|&&(fd, inode)| {
                    let info = self.lookup_in_sockets_only(netns, pid, inode).or_else(|| {
                        let tables = self.searched_tables(true);
                        self.foreign_socket(pid, fd, inode, netns, tables)
                    });
                    filter.may_select(info.as_ref())
                })
                .map(|&(fd, _)| fd)
                .collect();
            if !fds.is_empty() {
                fds.sort_unstable();
                fds.dedup();
                listable.by_pid.insert(pid, fds);
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
        let listable = self.listable_sockets.get()?;
        if listable.unknown.contains(&pid) {
            return None;
        }
        Some(listable.by_pid.get(&pid).map_or(&[], Vec::as_slice))
    }
}
