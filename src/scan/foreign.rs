//! Sockets of a network namespace other than their holder's, possibly one
//! no process is in (a socket passed on, or opened by a thread that then
//! left the namespace). Their holder's tables do not have them; the
//! kernel describer (src/bpf/sockets.rs) reads them from the socket
//! itself. So that every path gives one answer, the scan reaches the
//! socket's own namespace from the socket, as util-linux's lsfd does: a
//! copy of the descriptor (`pidfd_getfd`), its namespace (`SIOCGSKNS`),
//! whose tables a thread that joins it reads. Root only: without it the
//! socket shows as lsof shows it (`protocol: UNIX`), as does lsof.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::PoisonError;

use super::socket::Tables;
use super::Scanner;
use crate::model::SocketInfo;

/// ioctl on a socket: a descriptor of its network namespace.
const SIOCGSKNS: libc::c_ulong = 0x894C;

impl Scanner {
    /// The socket of descriptor `fd` of process `pid` (inode `inode`)
    /// that the tables of the process's namespace `netns` lack, looked up
    /// in its own namespace's `tables`; None when that is the process's,
    /// or cannot be reached.
    pub(super) fn foreign_socket(
        &self,
        pid: i32,
        fd: u32,
        inode: u64,
        netns: u64,
        tables: Tables,
    ) -> Option<SocketInfo> {
        // rlsof's own sockets are its namespace's; scanning itself, it
        // holds `copies` already.
        if !self.may_reach_other_namespaces() || self.is_rlsof(pid) {
            return None;
        }
        // Under `-i` alone every UNIX socket is missing from the tables
        // searched: its protocol (one call) rules it out before the
        // descriptor is copied.
        if tables == Tables::TcpUdp && !self.may_be_tcp_or_udp(pid, fd) {
            return None;
        }
        let _copying = self.copies.read().unwrap_or_else(PoisonError::into_inner);
        let socket = descriptor_of(pid, fd)?;
        if inode_of(&socket)? != inode {
            return None;
        }
        // SAFETY: an ioctl without argument on a descriptor we own; the
        // result is checked before use.
        let raw = unsafe { libc::ioctl(socket.as_raw_fd(), SIOCGSKNS as _) };
        if raw < 0 {
            return None;
        }
        // SAFETY: `raw` is a fresh descriptor we own.
        let namespace = unsafe { OwnedFd::from_raw_fd(raw) };
        let own = inode_of(&namespace)?;
        if own == netns {
            return None;
        }
        self.sockets.describe_joined(own, &namespace, inode, tables)
    }

    /// The tables a socket is searched in (as `lookup_socket` does): a
    /// sockets-only process under `-i` alone needs TCP and UDP ones only.
    pub(super) fn searched_tables(&self, sockets_only: bool) -> Tables {
        let ip_only = self.socket_filter.as_ref().is_some_and(|f| f.ip_only());
        if self.cfg.skip_tcp_udp {
            Tables::WithoutTcpUdp
        } else if sockets_only && ip_only {
            Tables::TcpUdp
        } else {
            Tables::All
        }
    }

    /// Whether descriptor `fd` of process `pid` may be a TCP or UDP socket,
    /// by its protocol name (see [`crate::net::SocketTable::for_protocol_name`]).
    fn may_be_tcp_or_udp(&self, pid: i32, fd: u32) -> bool {
        use crate::net::SocketTable;
        let path = format!("/proc/{pid}/fd/{fd}");
        let Some(name) = super::process::socket_protocol_name(path.as_bytes()) else {
            return true;
        };
        SocketTable::for_protocol_name(name.as_bytes())
            .is_none_or(|table| SocketTable::TCP_UDP.contains(&table))
    }

    /// Root, on the machine's /proc: another process's descriptor may be
    /// copied and any namespace joined.
    fn may_reach_other_namespaces(&self) -> bool {
        // SAFETY: geteuid has no preconditions.
        let root = unsafe { libc::geteuid() } == 0;
        root && self.on_procfs && self.cfg.proc_root == std::path::Path::new("/proc")
    }
}

/// A copy of descriptor `fd` of process `pid`.
fn descriptor_of(pid: i32, fd: u32) -> Option<OwnedFd> {
    // SAFETY: plain system calls; each result is checked before use.
    let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if pidfd < 0 {
        return None;
    }
    // SAFETY: `pidfd` is a fresh descriptor we own.
    let pidfd = unsafe { OwnedFd::from_raw_fd(pidfd as i32) };
    // SAFETY: as above.
    let copy = unsafe { libc::syscall(libc::SYS_pidfd_getfd, pidfd.as_raw_fd(), fd, 0) };
    if copy < 0 {
        return None;
    }
    // SAFETY: `copy` is a fresh descriptor we own.
    Some(unsafe { OwnedFd::from_raw_fd(copy as i32) })
}

fn inode_of(fd: &OwnedFd) -> Option<u64> {
    // SAFETY: all-zero is a valid stat (plain integers).
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: fstat writes into `st`, for a descriptor we own.
    (unsafe { libc::fstat(fd.as_raw_fd(), &mut st) } == 0).then_some(st.st_ino)
}
