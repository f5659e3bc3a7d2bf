//! Endpoints (`+E`/`-E`): which open files are the ends of one pipe, pty,
//! UNIX socket connection, loopback TCP/UDP connection, POSIX message queue
//! or eventfd, and the `PID,command,FDmode` strings lsof appends to the NAME
//! of a listed file for each other end.
//!
//! lsof lists the holders of a pipe, pty, message queue or eventfd in the
//! order it read them (PID, then descriptor), and those of a socket in the
//! reverse order; a UNIX socket's list starts with `->INO=PEER`, a pty
//! master's first entry with `->/dev/pts/N `.

mod listing;
pub(crate) use listing::{list_with_endpoints, EndpointListing};

use std::collections::HashMap;

use crate::model::{Dev, FdName, FileType, IpProto, OpenFile, Process, SocketInfo};

/// The inode of a `socket:[INODE]` link text.
pub(crate) fn socket_inode(link: &[u8]) -> Option<u64> {
    let digits = link.strip_prefix(b"socket:[")?.strip_suffix(b"]")?;
    if digits.is_empty() || digits.len() > 20 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// The pty master clone device, `/dev/ptmx` (5,2).
const PTMX: Dev = Dev { major: 5, minor: 2 };
/// Majors of UNIX98 pty slaves (`/dev/pts/N`).
const PTY_SLAVE_MAJORS: std::ops::Range<u32> = 136..144;

/// fdinfo's `tty-index` of a `/dev/ptmx` descriptor, from fdinfo's text.
pub(crate) fn ptmx_tty_index(file: &OpenFile, fdinfo: &[u8]) -> Option<u32> {
    if file.file_type != Some(FileType::Chr) || file.rdev != Some(PTMX) {
        return None;
    }
    fdinfo.split(|&b| b == b'\n').find_map(|line| {
        let value = line.strip_prefix(b"tty-index:")?;
        std::str::from_utf8(value).ok()?.trim().parse().ok()
    })
}

/// What ties the ends of one endpoint together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Key {
    Pipe(u64),
    Mqueue(u64),
    EventFd(u64),
    /// A pty index: a master's `tty-index`, a slave's minor number.
    Pty(u32),
    Socket(u64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Shared,
    PtyMaster,
    PtySlave,
    UnixSocket,
    IpSocket,
}

fn key_of(file: &OpenFile) -> Option<(Key, Kind)> {
    let inode = file.inode;
    match (&file.file_type, file.socket.as_deref()) {
        (_, Some(SocketInfo::Unix(_))) => Some((Key::Socket(inode?), Kind::UnixSocket)),
        (_, Some(SocketInfo::Ip(ip)))
            if ip.raw_proto.is_none()
                && matches!(ip.proto, IpProto::Tcp | IpProto::Udp | IpProto::UdpLite) =>
        {
            Some((Key::Socket(inode?), Kind::IpSocket))
        }
        (Some(FileType::Fifo), _) => Some((Key::Pipe(inode?), Kind::Shared)),
        (Some(FileType::PosixMq), _) => Some((Key::Mqueue(inode?), Kind::Shared)),
        (Some(FileType::Chr), _) => {
            let rdev = file.rdev?;
            if rdev == PTMX {
                Some((Key::Pty(file.tty_index?), Kind::PtyMaster))
            } else if PTY_SLAVE_MAJORS.contains(&rdev.major) {
                Some((Key::Pty(rdev.minor), Kind::PtySlave))
            } else {
                None
            }
        }
        (Some(FileType::AnonInode), _) => {
            let id = file.name.strip_prefix(b"[eventfd:")?.strip_suffix(b"]")?;
            let id = std::str::from_utf8(id).ok()?.parse().ok()?;
            Some((Key::EventFd(id), Kind::Shared))
        }
        _ => None,
    }
}

/// Whether a file can have endpoints (so a scan keeps it).
pub(crate) fn has_endpoints(file: &OpenFile) -> bool {
    key_of(file).is_some()
}

/// A file at index `file` of process record `process`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct At {
    pub process: usize,
    pub file: usize,
}

/// The ends of every endpoint among some processes' files.
pub(crate) struct EndpointIndex<'a> {
    processes: &'a [Process],
    holders: HashMap<Key, Vec<(At, Kind)>>,
    command_width: usize,
}

impl<'a> EndpointIndex<'a> {
    /// Indexes the files of `processes` (in PID order); `command_width` is
    /// lsof's command length limit (`+c`), which the strings obey too.
    /// Descriptors above 2 of `own_pid` (this program) are left out: lsof
    /// closes those it inherits before it looks, and the others are its
    /// own workings.
    pub(crate) fn new(
        processes: &'a [Process],
        command_width: usize,
        own_pid: Option<i32>,
    ) -> EndpointIndex<'a> {
        let mut holders: HashMap<Key, Vec<(At, Kind)>> = HashMap::new();
        let mut seen = std::collections::HashSet::new();
        for (p, process) in processes.iter().enumerate() {
            for (f, file) in process.files.iter().enumerate() {
                let Some((key, kind)) = key_of(file) else {
                    continue;
                };
                if Some(process.pid) == own_pid && matches!(file.fd, Some(FdName::Num(n)) if n > 2)
                {
                    continue;
                }
                // A thread's rows repeat its process's descriptors: once.
                if !seen.insert((key, process.pid, file.fd)) {
                    continue;
                }
                holders.entry(key).or_default().push((
                    At {
                        process: p,
                        file: f,
                    },
                    kind,
                ));
            }
        }
        EndpointIndex {
            processes,
            holders,
            command_width,
        }
    }

    /// The strings lsof appends to the NAME of the file at `at`, and the
    /// files they name (the other ends, which `+E` lists too).
    pub(crate) fn ends_of(&self, at: At) -> (Vec<Vec<u8>>, Vec<At>) {
        let mut strings = Vec::new();
        let mut ends = Vec::new();
        let process = &self.processes[at.process];
        let file = &process.files[at.file];
        let Some((key, kind)) = key_of(file) else {
            return (strings, ends);
        };
        let list = |key: Key| self.holders.get(&key).map(Vec::as_slice).unwrap_or(&[]);
        match kind {
            Kind::Shared => {
                for &(other, _) in list(key) {
                    let o = &self.processes[other.process];
                    if o.pid != process.pid || o.files[other.file].fd != file.fd {
                        strings.push(self.holder_text(other));
                        ends.push(other);
                    }
                }
            }
            Kind::PtyMaster | Kind::PtySlave => {
                let wanted = if kind == Kind::PtyMaster {
                    Kind::PtySlave
                } else {
                    Kind::PtyMaster
                };
                for &(other, other_kind) in list(key) {
                    if other_kind != wanted {
                        continue;
                    }
                    let mut text = Vec::new();
                    if kind == Kind::PtyMaster && ends.is_empty() {
                        let index = file.tty_index.unwrap_or_default();
                        text.extend_from_slice(format!("->/dev/pts/{index} ").as_bytes());
                    }
                    text.extend_from_slice(&self.holder_text(other));
                    strings.push(text);
                    ends.push(other);
                }
            }
            Kind::UnixSocket | Kind::IpSocket => {
                let peer = match file.socket.as_deref() {
                    Some(SocketInfo::Unix(u)) => u.peer,
                    _ => file.peer_inode,
                };
                let Some(peer) = peer.filter(|&p| p != 0) else {
                    return (strings, ends);
                };
                if kind == Kind::UnixSocket {
                    strings.push(format!("->INO={peer}").into_bytes());
                }
                for &(other, other_kind) in list(Key::Socket(peer)).iter().rev() {
                    if other_kind == kind {
                        strings.push(self.holder_text(other));
                        ends.push(other);
                    }
                }
            }
        }
        (strings, ends)
    }

    /// `PID,COMMAND,FDmode`.
    fn holder_text(&self, at: At) -> Vec<u8> {
        let process = &self.processes[at.process];
        let file = &process.files[at.file];
        let command = &process.command[..process.command.len().min(self.command_width)];
        let mut text = format!("{},", process.pid).into_bytes();
        text.extend_from_slice(command);
        text.push(b',');
        if let Some(fd) = file.fd {
            text.extend_from_slice(fd.label().as_bytes());
        }
        text.push(file.access.as_char().map_or(b' ', |c| c as u8));
        text
    }
}

#[cfg(test)]
mod tests;
