//! Streaming listings (`-F`, `-j`, `-J`) of the whole machine, where the
//! kernel does not describe each process's sockets itself (not root, or
//! a kernel that refuses that program: see `kernel_sockets`), describe
//! sockets a batch of processes at a time, so that memory does not grow
//! with the machine's sockets: which socket each process holds comes in
//! PID order (the kernel's iterator as root, the descriptors' links
//! otherwise, see [`crate::bpf::SocketsInPidOrder`]); processes are taken
//! in PID order until their sockets fill a batch, and the socket tables
//! are read for that batch keeping only those sockets.
//!
//! Each batch after the first reads the tables again (CPU time for every
//! socket of the machine), so batching has a price that grows with
//! the square of the sockets; it is capped: a batch holds
//! [`SOCKETS_PER_BATCH`] sockets, or a [`MAX_BATCHES`]th of the machine's
//! when that is more. A machine whose sockets fit one batch reads the
//! tables once, without asking the kernel anything more.

use crate::bpf::HeldSocket;
use crate::net::store::InodeSet;

use super::Scanner;

/// Sockets described at once: about 200 KiB of tables and set.
pub(crate) const SOCKETS_PER_BATCH: usize = 4096;

/// At most this many readings of the socket tables per listing.
pub(crate) const MAX_BATCHES: usize = 4;

/// Processes to scan together, and the sockets they hold.
#[derive(Debug, PartialEq, Eq)]
pub struct Batch {
    /// Ascending, a run of the listing's PIDs.
    pub pids: Vec<i32>,
    /// None: unknown (the kernel's list broke off), read whole tables.
    pub sockets: Option<InodeSet>,
}

/// What tells the sockets of every process in PID order.
pub trait HeldInOrder: Iterator<Item = HeldSocket> {
    /// Whether the list broke off before its end.
    fn failed(&self) -> bool;
}

impl HeldInOrder for crate::bpf::SocketsInPidOrder {
    fn failed(&self) -> bool {
        crate::bpf::SocketsInPidOrder::failed(self)
    }
}

impl<H: HeldInOrder + ?Sized> HeldInOrder for Box<H> {
    fn failed(&self) -> bool {
        (**self).failed()
    }
}

/// Without the kernel's iterator (not root): the sockets of the processes
/// whose descriptors can be read (the user's own; others' fail at once),
/// from their descriptors' links, process by process. Their links are
/// read twice, which only a user's own processes cost.
pub(crate) struct SocketLinksInPidOrder<'p> {
    /// The proc root, opened again: the scanner's is lent to the scan.
    root: super::procfs::Dir,
    on_procfs: bool,
    fd_counts_seen: std::sync::atomic::AtomicBool,
    pids: std::slice::Iter<'p, i32>,
    ready: std::vec::IntoIter<HeldSocket>,
    bufs: super::Buffers,
}

impl Iterator for SocketLinksInPidOrder<'_> {
    type Item = HeldSocket;

    fn next(&mut self) -> Option<HeldSocket> {
        loop {
            if let Some(socket) = self.ready.next() {
                return Some(socket);
            }
            let &pid = self.pids.next()?;
            self.ready = self.socket_links_of(pid).into_iter();
        }
    }
}

impl SocketLinksInPidOrder<'_> {
    /// The sockets process `pid` holds, from its descriptors' links
    /// (none when they cannot be read).
    fn socket_links_of(&mut self, pid: i32) -> Vec<HeldSocket> {
        let mut held = Vec::new();
        let bufs = &mut self.bufs;
        let Ok(dir) = self
            .root
            .open(super::procfs::number_cstr(pid as u64, &mut bufs.num))
        else {
            return held;
        };
        let Ok(fd_dir) = dir.open(c"fd") else {
            return held;
        };
        let count = super::fdtable::open_count(&fd_dir, &self.fd_counts_seen);
        let each = |fd: u32, link: std::io::Result<()>, bufs: &mut super::Buffers| {
            let socket = link
                .ok()
                .and_then(|()| super::pseudo::parse_link(&bufs.link));
            if let Some(p) = socket.filter(|p| p.kind == super::pseudo::Kind::Socket) {
                held.push(HeldSocket {
                    pid,
                    fd,
                    inode: p.inode,
                });
            }
        };
        super::fdtable::for_each_descriptor(&fd_dir, self.on_procfs, count, None, bufs, each);
        held
    }
}

impl HeldInOrder for SocketLinksInPidOrder<'_> {
    fn failed(&self) -> bool {
        false
    }
}

/// The listing's PIDs cut into batches as the held sockets come.
pub struct Batches<'p, H> {
    held: H,
    pids: &'p [i32],
    at: usize,
    /// The first socket of the next batch's first process.
    pending: Option<HeldSocket>,
    per_batch: usize,
}

impl<'p, H: HeldInOrder> Batches<'p, H> {
    pub fn new(held: H, pids: &'p [i32], per_batch: usize) -> Self {
        Batches {
            held,
            pids,
            at: 0,
            pending: None,
            per_batch: per_batch.max(1),
        }
    }
}

impl<H: HeldInOrder> Iterator for Batches<'_, H> {
    type Item = Batch;

    fn next(&mut self) -> Option<Batch> {
        if self.at >= self.pids.len() {
            return None;
        }
        let mut sockets = Vec::new();
        let mut last: Option<i32> = None;
        let upto = loop {
            let Some(socket) = self.pending.take().or_else(|| self.held.next()) else {
                if self.held.failed() {
                    let pids = self.pids[self.at..].to_vec();
                    self.at = self.pids.len();
                    return Some(Batch {
                        pids,
                        sockets: None,
                    });
                }
                break i32::MAX;
            };
            // A batch ends between two processes; a thread with its own
            // descriptors, met out of order, adds to the batch at hand.
            let next_process = last.is_some_and(|l| socket.pid > l);
            if next_process && sockets.len() >= self.per_batch {
                self.pending = Some(socket);
                break last.unwrap_or(i32::MAX);
            }
            sockets.push(socket.inode);
            if last.is_none_or(|l| socket.pid > l) {
                last = Some(socket.pid);
            }
        };
        let rest = &self.pids[self.at..];
        let end = self.at + rest.partition_point(|&pid| pid <= upto);
        let pids = self.pids[self.at..end].to_vec();
        self.at = end;
        Some(Batch {
            pids,
            sockets: Some(InodeSet::from(sockets)),
        })
    }
}

impl Scanner {
    /// The batches in which a streaming listing of `pids` is to be
    /// scanned, or None to scan them at once with whole tables (see
    /// `choose_socket_source` for when it is asked). Which sockets a process holds comes from the
    /// kernel's iterator as root, from the descriptors' links otherwise
    /// (only the user's own processes' can be read); as root where the
    /// iterator fails, whole tables (reading every link twice would cost
    /// more than they do).
    pub(super) fn socket_batches<'p>(
        &self,
        pids: &'p [i32],
    ) -> Option<Batches<'p, Box<dyn HeldInOrder + 'p>>> {
        // `choose_socket_source` asked the rest first: not every socket is
        // needed, and this is the machine's /proc, not refused.
        if pids.len() < 2 {
            return None;
        }
        // RLSOF_SOCKET_BATCH: tests that want batches on a small machine.
        let per_batch = match crate::knobs::knobs().socket_batch {
            Some(set) => set?,
            None => {
                let sockets = sockets_in_use(&self.cfg.proc_root)?;
                let per_batch = SOCKETS_PER_BATCH.max(sockets.div_ceil(MAX_BATCHES));
                if sockets <= per_batch {
                    return None;
                }
                per_batch
            }
        };
        let held: Box<dyn HeldInOrder> = if self.kernel_can_be_asked() {
            Box::new(crate::bpf::SocketsInPidOrder::start()?)
        } else {
            Box::new(SocketLinksInPidOrder {
                root: super::procfs::Dir::open_path(&self.cfg.proc_root).ok()?,
                on_procfs: self.on_procfs,
                fd_counts_seen: std::sync::atomic::AtomicBool::new(false),
                pids: pids.iter(),
                ready: Vec::new().into_iter(),
                bufs: super::Buffers::default(),
            })
        };
        Some(Batches::new(held, pids, per_batch))
    }

    /// Whether a listing must see every socket table whole, or none
    /// (then neither batches nor the kernel's descriptions apply): `+E`
    /// needs every socket, `-t` reads no table, `-i`/`-U` have their own
    /// pass (`holders`; `sockets_only_unless` is set then).
    pub(super) fn whole_tables_needed(&self) -> bool {
        self.cfg.endpoints || self.cfg.terse || self.cfg.sockets_only_unless.is_some()
    }

    /// From now on, socket tables keep only these sockets (None: all).
    pub fn describe_only(&mut self, sockets: Option<InodeSet>) {
        if let Some(lookup) = self.sockets.for_sockets(sockets) {
            self.sockets = lookup;
        }
    }
}

/// The sockets of our network namespace, as `/proc/net/sockstat` counts
/// them ("sockets: used N"): what the tables would hold at once.
pub(super) fn sockets_in_use(proc_root: &std::path::Path) -> Option<usize> {
    let text = std::fs::read_to_string(proc_root.join("net/sockstat")).ok()?;
    parse_sockets_used(&text)
}

fn parse_sockets_used(sockstat: &str) -> Option<usize> {
    let line = sockstat.lines().find(|l| l.starts_with("sockets:"))?;
    let mut words = line.split_whitespace();
    words.find(|&w| w == "used")?;
    words.next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Listed(std::vec::IntoIter<HeldSocket>, bool);

    impl Iterator for Listed {
        type Item = HeldSocket;
        fn next(&mut self) -> Option<HeldSocket> {
            self.0.next()
        }
    }

    impl HeldInOrder for Listed {
        fn failed(&self) -> bool {
            self.1
        }
    }

    fn held(sockets: &[(i32, u64)], failed: bool) -> Listed {
        let sockets: Vec<HeldSocket> = sockets
            .iter()
            .map(|&(pid, inode)| HeldSocket { pid, fd: 3, inode })
            .collect();
        Listed(sockets.into_iter(), failed)
    }

    fn batch(pids: &[i32], sockets: &[u64]) -> Batch {
        Batch {
            pids: pids.to_vec(),
            sockets: Some(sockets.iter().copied().collect()),
        }
    }

    #[test]
    fn batches_end_between_processes_once_full() {
        let pids = [1, 2, 5, 7, 9, 12];
        let sockets = [(1, 10), (2, 20), (2, 21), (2, 22), (7, 70), (9, 90)];
        let got: Vec<Batch> = Batches::new(held(&sockets, false), &pids, 2).collect();
        assert_eq!(
            got,
            [
                batch(&[1, 2], &[10, 20, 21, 22]),
                batch(&[5, 7, 9, 12], &[70, 90]),
            ]
        );
    }

    #[test]
    fn one_batch_when_the_sockets_fit() {
        let pids = [1, 2, 3];
        let got: Vec<Batch> = Batches::new(held(&[(2, 5)], false), &pids, 10).collect();
        assert_eq!(got, [batch(&[1, 2, 3], &[5])]);
        let none: Vec<Batch> = Batches::new(held(&[], false), &pids, 10).collect();
        assert_eq!(none, [batch(&[1, 2, 3], &[])]);
    }

    #[test]
    fn a_thread_out_of_order_joins_the_batch_at_hand() {
        // Process 3's thread 8 has descriptors of its own: it comes after 5.
        let pids = [3, 5, 9];
        let sockets = [(3, 30), (5, 50), (3, 31), (9, 90)];
        let got: Vec<Batch> = Batches::new(held(&sockets, false), &pids, 2).collect();
        assert_eq!(got, [batch(&[3, 5], &[30, 50, 31]), batch(&[9], &[90])]);
    }

    #[test]
    fn after_a_broken_list_the_rest_reads_whole_tables() {
        let pids = [1, 2, 3, 4];
        let got: Vec<Batch> = Batches::new(held(&[(1, 10), (2, 20)], true), &pids, 1).collect();
        assert_eq!(
            got,
            [
                batch(&[1], &[10]),
                Batch {
                    pids: vec![2, 3, 4],
                    sockets: None
                },
            ]
        );
    }

    #[test]
    fn sockets_in_use_from_sockstat() {
        let text = "sockets: used 15808\nTCP: inuse 6401 orphan 0 tw 0 alloc 6402 mem 1\n";
        assert_eq!(parse_sockets_used(text), Some(15808));
        assert_eq!(parse_sockets_used("TCP: inuse 3\n"), None);
        assert_eq!(parse_sockets_used("sockets: used many\n"), None);
    }
}
