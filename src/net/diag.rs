//! UNIX socket peers from the kernel's NETLINK_SOCK_DIAG (unix_diag), as
//! lsof's `+E`/`-E` uses them: one dump per network namespace, asking for
//! each socket's peer (`UDIAG_SHOW_PEER`) and, for a listening socket, the
//! connections waiting to be accepted (`UDIAG_SHOW_ICONS`).
//!
//! A netlink socket only sees the namespace it was created in, so for
//! another namespace a short-lived thread joins it (`setns`, which affects
//! only that thread) and makes the query there.

use std::collections::HashMap;
use std::fs::File;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;
use std::time::Duration;

/// What unix_diag told us, keyed by socket inode.
#[derive(Debug, Default, Clone)]
pub struct UnixDiag {
    /// Socket inode → its peer's inode, filled both ways as lsof does
    /// (a datagram socket's peer need not name it back).
    pub peers: HashMap<u64, u64>,
    /// Listening socket inode → inodes of its not yet accepted connections,
    /// in the kernel's order.
    pub incoming: HashMap<u64, Vec<u64>>,
}

const SOCK_DIAG_BY_FAMILY: u16 = 20;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_DUMP: u16 = 0x300;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const UDIAG_SHOW_PEER: u32 = 0x4;
const UDIAG_SHOW_ICONS: u32 = 0x8;
const UNIX_DIAG_PEER: u16 = 2;
const UNIX_DIAG_ICONS: u16 = 3;
const NLMSG_HEADER_LEN: usize = 16;
const UNIX_DIAG_MSG_LEN: usize = 16;

/// Queries unix_diag in the caller's network namespace.
pub fn query_unix_diag() -> Option<UnixDiag> {
    // SAFETY: plain socket(2); the result is checked before use.
    let raw = unsafe {
        libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_DGRAM | libc::SOCK_CLOEXEC,
            libc::NETLINK_SOCK_DIAG,
        )
    };
    if raw < 0 {
        return None;
    }
    // SAFETY: `raw` is a fresh descriptor we own.
    let socket = unsafe { OwnedFd::from_raw_fd(raw) };
    set_receive_timeout(&socket, Duration::from_secs(5));
    send_request(&socket)?;
    receive_dump(&socket)
}

/// Queries unix_diag in the network namespace named by `ns_path` (e.g.
/// `/proc/PID/ns/net`), from a thread that joins it. None when the
/// namespace cannot be joined (no CAP_SYS_ADMIN, process gone).
pub fn query_unix_diag_in(ns_path: &Path) -> Option<UnixDiag> {
    let namespace = File::open(ns_path).ok()?;
    std::thread::spawn(move || {
        // SAFETY: setns on a namespace fd we hold; it changes only this
        // thread's network namespace, and the thread ends right after.
        let joined = unsafe { libc::setns(namespace.as_raw_fd(), libc::CLONE_NEWNET) };
        if joined != 0 {
            return None;
        }
        query_unix_diag()
    })
    .join()
    .ok()
    .flatten()
}

fn set_receive_timeout(socket: &OwnedFd, timeout: Duration) {
    let value = libc::timeval {
        tv_sec: timeout.as_secs() as libc::time_t,
        tv_usec: 0,
    };
    // SAFETY: setsockopt with a correctly sized timeval.
    unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            (&value as *const libc::timeval).cast(),
            std::mem::size_of::<libc::timeval>() as libc::socklen_t,
        );
    }
}

fn send_request(socket: &OwnedFd) -> Option<()> {
    let mut request = Vec::with_capacity(40);
    request.extend_from_slice(&40u32.to_ne_bytes()); // nlmsg_len
    request.extend_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
    request.extend_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes());
    request.extend_from_slice(&1u32.to_ne_bytes()); // seq
    request.extend_from_slice(&0u32.to_ne_bytes()); // pid
                                                    // struct unix_diag_req
    request.push(libc::AF_UNIX as u8);
    request.push(0); // protocol
    request.extend_from_slice(&0u16.to_ne_bytes()); // pad
    request.extend_from_slice(&u32::MAX.to_ne_bytes()); // all states
    request.extend_from_slice(&0u32.to_ne_bytes()); // ino
    request.extend_from_slice(&(UDIAG_SHOW_PEER | UDIAG_SHOW_ICONS).to_ne_bytes());
    request.extend_from_slice(&[0u8; 8]); // cookie
                                          // SAFETY: zeroed sockaddr_nl with the family set addresses the kernel.
    let mut kernel: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
    kernel.nl_family = libc::AF_NETLINK as libc::sa_family_t;
    // SAFETY: buffer and address are valid for the lengths given.
    let sent = unsafe {
        libc::sendto(
            socket.as_raw_fd(),
            request.as_ptr().cast(),
            request.len(),
            0,
            (&kernel as *const libc::sockaddr_nl).cast(),
            std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
        )
    };
    (sent == request.len() as isize).then_some(())
}

fn receive_dump(socket: &OwnedFd) -> Option<UnixDiag> {
    let mut diag = UnixDiag::default();
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        // SAFETY: recv into a buffer we own, bounded by its length.
        let received = unsafe {
            libc::recv(
                socket.as_raw_fd(),
                buffer.as_mut_ptr().cast(),
                buffer.len(),
                0,
            )
        };
        if received <= 0 {
            // Error or timeout mid-dump: keep what we have.
            return Some(diag);
        }
        let mut data = &buffer[..received as usize];
        while data.len() >= NLMSG_HEADER_LEN {
            let length = read_u32(data, 0)? as usize;
            let kind = read_u16(data, 4)?;
            if length < NLMSG_HEADER_LEN || length > data.len() {
                return Some(diag);
            }
            match kind {
                NLMSG_DONE | NLMSG_ERROR => return Some(diag),
                SOCK_DIAG_BY_FAMILY => parse_message(&data[NLMSG_HEADER_LEN..length], &mut diag),
                _ => {}
            }
            data = &data[align4(length).min(data.len())..];
        }
    }
}

/// One `unix_diag_msg` and its attributes.
fn parse_message(message: &[u8], diag: &mut UnixDiag) {
    if message.len() < UNIX_DIAG_MSG_LEN || i32::from(message[0]) != libc::AF_UNIX {
        return;
    }
    let Some(inode) = read_u32(message, 4).map(u64::from) else {
        return;
    };
    if inode == 0 {
        return;
    }
    let mut attributes = &message[UNIX_DIAG_MSG_LEN..];
    while attributes.len() >= 4 {
        let (Some(length), Some(kind)) = (read_u16(attributes, 0), read_u16(attributes, 2)) else {
            return;
        };
        let length = length as usize;
        if length < 4 || length > attributes.len() {
            return;
        }
        let payload = &attributes[4..length];
        match kind {
            UNIX_DIAG_PEER => {
                if let Some(peer) = read_u32(payload, 0).map(u64::from).filter(|&p| p != 0) {
                    diag.peers.entry(inode).or_insert(peer);
                    diag.peers.entry(peer).or_insert(inode);
                }
            }
            UNIX_DIAG_ICONS => {
                let waiting = payload
                    .chunks_exact(4)
                    .map(|c| u64::from(u32::from_ne_bytes([c[0], c[1], c[2], c[3]])))
                    .collect();
                diag.incoming.insert(inode, waiting);
            }
            _ => {}
        }
        attributes = &attributes[align4(length).min(attributes.len())..];
    }
}

fn align4(length: usize) -> usize {
    (length + 3) & !3
}

fn read_u32(data: &[u8], at: usize) -> Option<u32> {
    let bytes = data.get(at..at + 4)?;
    Some(u32::from_ne_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
}

fn read_u16(data: &[u8], at: usize) -> Option<u16> {
    let bytes = data.get(at..at + 2)?;
    Some(u16::from_ne_bytes([bytes[0], bytes[1]]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::linux::fs::MetadataExt;
    use std::os::unix::net::UnixStream;

    fn inode_of(stream: &UnixStream) -> u64 {
        let path = format!("/proc/self/fd/{}", stream.as_raw_fd());
        std::fs::metadata(path).map(|m| m.st_ino()).unwrap_or(0)
    }

    #[test]
    fn finds_the_peer_of_a_socket_pair() {
        let (a, b) = UnixStream::pair().expect("socketpair");
        let diag = query_unix_diag().expect("unix_diag");
        let (ia, ib) = (inode_of(&a), inode_of(&b));
        assert_eq!(diag.peers.get(&ia), Some(&ib));
        assert_eq!(diag.peers.get(&ib), Some(&ia));
        let joined = query_unix_diag_in(Path::new("/proc/self/ns/net")).expect("setns");
        assert_eq!(joined.peers.get(&ia), Some(&ib));
    }

    #[test]
    fn malformed_messages_are_ignored() {
        let mut diag = UnixDiag::default();
        parse_message(&[], &mut diag);
        parse_message(&[1; 15], &mut diag);
        let mut message = vec![
            libc::AF_UNIX as u8,
            1,
            1,
            0,
            7,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
        ];
        message.extend_from_slice(&[200, 0, 2, 0, 9, 0, 0, 0]); // overlong attribute
        parse_message(&message, &mut diag);
        assert!(diag.peers.is_empty());
    }
}
