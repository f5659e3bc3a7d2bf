//! One pass over the selected processes, keeping only what `--summary`
//! and `--metrics` report: per process its numbered descriptors, per
//! machine open files by type, listening sockets, inotify descriptors and
//! the deleted-but-open files (`deleted::collect`).

use crate::deleted::collect::{Collector, DeletedFile};
use crate::model::{FdName, FileType, IpProto, OpenFile, Process, SocketInfo};
use std::collections::{BTreeMap, HashSet};
use std::net::IpAddr;

/// What one process holds, as far as descriptor limits go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ProcessFds {
    pub pid: i32,
    pub uid: u32,
    pub command: Vec<u8>,
    /// Numbered descriptors (no cwd/txt/mem rows).
    pub fds: u64,
    /// RLIMIT_NOFILE from /proc/PID/limits; None when unreadable;
    /// `u64::MAX` for "unlimited".
    pub soft_limit: Option<u64>,
    pub hard_limit: Option<u64>,
}

impl ProcessFds {
    /// Descriptors over the soft limit (0 when the limit is not known).
    pub(crate) fn ratio(&self) -> f64 {
        match self.soft_limit {
            Some(limit) if limit > 0 && limit != u64::MAX => self.fds as f64 / limit as f64,
            _ => 0.0,
        }
    }
}

/// A listening TCP socket or a bound, unconnected UDP socket.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Listener {
    /// "tcp" or "udp".
    pub protocol: &'static str,
    pub address: IpAddr,
    pub port: u16,
    pub command: Vec<u8>,
}

/// An inotify descriptor, to be measured (watches) after the scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct InotifyFd {
    pub pid: i32,
    pub uid: u32,
    pub fd: u32,
}

/// Everything the pass keeps.
#[derive(Debug, Default)]
pub(crate) struct Facts {
    pub processes: Vec<ProcessFds>,
    /// Processes whose descriptor table could not be read (another user's,
    /// without root), by PID.
    pub unreadable: Vec<i32>,
    /// Numbered descriptors by lsof's TYPE label.
    pub fds_by_type: BTreeMap<String, u64>,
    /// Listening sockets, each with the socket inodes seen (a socket shared
    /// by several processes of one command counts once).
    pub listeners: BTreeMap<Listener, HashSet<u64>>,
    pub inotify: Vec<InotifyFd>,
}

/// Accumulates `Facts` from processes as the scan hands them on.
#[derive(Default)]
pub(crate) struct FactsCollector {
    facts: Facts,
    deleted: Collector,
}

impl FactsCollector {
    pub(crate) fn add_process(&mut self, process: &Process) {
        // Threads listed on their own rows repeat their process's table;
        // kernel threads (kthreadd, PID 2, and its children) hold no
        // descriptors and have names that change (kworker/0:1-events).
        if process.tid.is_some() || process.pid == 2 || process.ppid == 2 {
            return;
        }
        self.deleted.add_process(process);
        let mut fds = 0u64;
        let mut readable = true;
        for file in &process.files {
            match file.fd {
                Some(FdName::Num(n)) => {
                    fds += 1;
                    self.add_descriptor(process, n, file);
                }
                Some(FdName::NoFd) => readable = false,
                _ => {}
            }
        }
        if !readable {
            self.facts.unreadable.push(process.pid);
            return;
        }
        self.facts.processes.push(ProcessFds {
            pid: process.pid,
            uid: process.uid,
            command: process.command.clone(),
            fds,
            soft_limit: None,
            hard_limit: None,
        });
    }

    fn add_descriptor(&mut self, process: &Process, fd: u32, file: &OpenFile) {
        let label = file.file_type.as_ref().map_or("unknown", FileType::label);
        match self.facts.fds_by_type.get_mut(label) {
            Some(count) => *count += 1,
            None => {
                self.facts.fds_by_type.insert(label.to_string(), 1);
            }
        }
        if file.file_type == Some(FileType::AnonInode) && file.name == b"inotify" {
            self.facts.inotify.push(InotifyFd {
                pid: process.pid,
                uid: process.uid,
                fd,
            });
        }
        if let Some(listener) = listener_of(file, &process.command) {
            let inode = file.inode.unwrap_or(0);
            self.facts
                .listeners
                .entry(listener)
                .or_default()
                .insert(inode);
        }
    }

    /// The facts, with the deleted files grouped by filesystem (not yet
    /// measured: see `deleted::links::measure`).
    pub(crate) fn finish(self) -> (Facts, Vec<DeletedFile>) {
        (self.facts, self.deleted.into_files())
    }
}

/// TCP in LISTEN, or UDP bound to a port and not connected.
fn listener_of(file: &OpenFile, command: &[u8]) -> Option<Listener> {
    let Some(SocketInfo::Ip(ip)) = file.socket.as_deref() else {
        return None;
    };
    const TCP_LISTEN: u8 = 10;
    let protocol = match ip.proto {
        IpProto::Tcp if ip.state.map(|s| s.0) == Some(TCP_LISTEN) => "tcp",
        IpProto::Udp if ip.remote.is_none() && ip.local.1 != 0 => "udp",
        _ => return None,
    };
    Some(Listener {
        protocol,
        address: ip.local.0,
        port: ip.local.1,
        command: command.to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{IpSocket, TcpState};
    use std::net::Ipv4Addr;

    fn socket(proto: IpProto, state: u8, remote: bool, inode: u64) -> OpenFile {
        OpenFile {
            fd: Some(FdName::Num(3)),
            file_type: Some(FileType::Ipv4),
            inode: Some(inode),
            socket: Some(Box::new(SocketInfo::Ip(IpSocket {
                proto,
                v6: false,
                local: (IpAddr::V4(Ipv4Addr::LOCALHOST), 8080),
                remote: remote.then_some((IpAddr::V4(Ipv4Addr::LOCALHOST), 5000)),
                state: Some(TcpState(state)),
                recv_queue: 0,
                send_queue: 0,
                raw_proto: None,
            }))),
            ..Default::default()
        }
    }

    fn process(pid: i32, files: Vec<OpenFile>) -> Process {
        Process {
            pid,
            command: b"srv".to_vec(),
            files,
            ..Default::default()
        }
    }

    #[test]
    fn counts_numbered_descriptors_once_per_process() {
        let mut c = FactsCollector::default();
        let cwd = OpenFile {
            fd: Some(FdName::Cwd),
            file_type: Some(FileType::Dir),
            ..Default::default()
        };
        let listening = socket(IpProto::Tcp, 10, false, 7);
        let connected = socket(IpProto::Tcp, 1, true, 8);
        let udp = socket(IpProto::Udp, 7, false, 9);
        c.add_process(&process(1, vec![cwd, listening.clone(), connected, udp]));
        // The same listening socket, inherited by a worker.
        c.add_process(&process(3, vec![listening.clone()]));
        let mut thread = process(1, vec![listening]);
        thread.tid = Some(5);
        c.add_process(&thread);
        let (facts, _) = c.finish();
        assert_eq!(facts.processes.len(), 2);
        assert_eq!(facts.processes[0].fds, 3);
        assert_eq!(facts.fds_by_type.get("IPv4"), Some(&4));
        assert_eq!(facts.listeners.len(), 2);
        let tcp = facts.listeners.iter().find(|(l, _)| l.protocol == "tcp");
        assert_eq!(tcp.map(|(_, inodes)| inodes.len()), Some(1));
    }

    #[test]
    fn kernel_threads_are_left_out() {
        let mut c = FactsCollector::default();
        let mut kworker = process(40, vec![]);
        kworker.ppid = 2;
        c.add_process(&kworker);
        c.add_process(&process(2, vec![]));
        let (facts, _) = c.finish();
        assert!(facts.processes.is_empty() && facts.unreadable.is_empty());
    }

    #[test]
    fn unreadable_processes_are_set_apart() {
        let mut c = FactsCollector::default();
        let nofd = OpenFile {
            fd: Some(FdName::NoFd),
            ..Default::default()
        };
        c.add_process(&process(9, vec![nofd]));
        let (facts, _) = c.finish();
        assert!(facts.processes.is_empty());
        assert_eq!(facts.unreadable, vec![9]);
    }

    #[test]
    fn ratio_ignores_unknown_and_unlimited() {
        let mut p = ProcessFds {
            pid: 1,
            uid: 0,
            command: vec![],
            fds: 512,
            soft_limit: Some(1024),
            hard_limit: None,
        };
        assert_eq!(p.ratio(), 0.5);
        p.soft_limit = Some(u64::MAX);
        assert_eq!(p.ratio(), 0.0);
        p.soft_limit = None;
        assert_eq!(p.ratio(), 0.0);
    }
}
