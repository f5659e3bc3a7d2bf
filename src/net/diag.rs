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
use std::os::fd::AsRawFd;
use std::path::Path;

use super::netlink::{for_each_attribute, read_u32, DiagSocket, SOCK_DIAG_BY_FAMILY};

/// What unix_diag told us, keyed by socket inode.
#[derive(Debug, Default, Clone)]
pub(crate) struct UnixDiag {
    /// Socket inode → its peer's inode, filled both ways as lsof does
    /// (a datagram socket's peer need not name it back).
    pub peers: HashMap<u64, u64>,
    /// Listening socket inode → inodes of its not yet accepted connections,
    /// in the kernel's order.
    pub incoming: HashMap<u64, Vec<u64>>,
}

const UDIAG_SHOW_PEER: u32 = 0x4;
const UDIAG_SHOW_ICONS: u32 = 0x8;
const UNIX_DIAG_PEER: u16 = 2;
const UNIX_DIAG_ICONS: u16 = 3;
const UNIX_DIAG_MSG_LEN: usize = 16;

/// Queries unix_diag in the caller's network namespace. An error mid-dump
/// keeps what was received: peers are a help to naming, not a listing.
pub(crate) fn query_unix_diag() -> Option<UnixDiag> {
    let socket = DiagSocket::open()?;
    let mut request = Vec::with_capacity(24);
    // struct unix_diag_req
    request.push(libc::AF_UNIX as u8);
    request.push(0); // protocol
    request.extend_from_slice(&0u16.to_ne_bytes()); // pad
    request.extend_from_slice(&u32::MAX.to_ne_bytes()); // all states
    request.extend_from_slice(&0u32.to_ne_bytes()); // ino
    request.extend_from_slice(&(UDIAG_SHOW_PEER | UDIAG_SHOW_ICONS).to_ne_bytes());
    request.extend_from_slice(&[0u8; 8]); // cookie
    let mut diag = UnixDiag::default();
    socket.dump(SOCK_DIAG_BY_FAMILY, &request, |message| {
        parse_message(message, &mut diag)
    });
    Some(diag)
}

/// Queries unix_diag in the network namespace named by `ns_path` (e.g.
/// `/proc/PID/ns/net`), from a thread that joins it. None when the
/// namespace cannot be joined (no CAP_SYS_ADMIN, process gone).
pub(crate) fn query_unix_diag_in(ns_path: &Path) -> Option<UnixDiag> {
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
    for_each_attribute(&message[UNIX_DIAG_MSG_LEN..], |kind, payload| match kind {
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
    });
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
