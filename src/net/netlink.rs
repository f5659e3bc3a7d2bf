//! NETLINK_SOCK_DIAG plumbing shared by the UNIX and INET dumps: one
//! socket, one dump request, and a reader that hands on each message.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::Duration;

pub(crate) const SOCK_DIAG_BY_FAMILY: u16 = 20;
/// The first inet_diag request type, kept by the kernel: it dumps TCP
/// sockets of every family in one walk.
pub(crate) const TCPDIAG_GETSOCK: u16 = 18;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_DUMP: u16 = 0x300;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const NLMSG_HEADER_LEN: usize = 16;
/// The kernel fills a dump buffer with at most this much (its cap on the
/// size it learns from our reads); a larger buffer would only sit idle.
const RECEIVE_BUFFER: usize = 32 * 1024;

/// A sock_diag socket in the calling thread's network namespace.
pub(crate) struct DiagSocket(OwnedFd);

/// How a dump ended.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum DumpEnd {
    /// NLMSG_DONE: every socket was handed on.
    Complete,
    /// An error message, a timeout or a damaged message: what was handed
    /// on is a part only.
    Broken,
}

impl DiagSocket {
    pub(crate) fn open() -> Option<DiagSocket> {
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
        let socket = DiagSocket(unsafe { OwnedFd::from_raw_fd(raw) });
        socket.set_receive_timeout(Duration::from_secs(5));
        Some(socket)
    }

    /// Sends a dump request of type `kind` (SOCK_DIAG_BY_FAMILY, or the
    /// legacy TCPDIAG_GETSOCK) whose body is `request` (a `unix_diag_req`,
    /// `inet_diag_req_v2` or `inet_diag_req`), then hands `each` the body
    /// of every answer.
    pub(crate) fn dump(&self, kind: u16, request: &[u8], mut each: impl FnMut(&[u8])) -> DumpEnd {
        if self.send(kind, request).is_none() {
            return DumpEnd::Broken;
        }
        let mut buffer = vec![0u8; RECEIVE_BUFFER];
        loop {
            // SAFETY: recv into a buffer we own, bounded by its length.
            let received = unsafe {
                libc::recv(
                    self.0.as_raw_fd(),
                    buffer.as_mut_ptr().cast(),
                    buffer.len(),
                    0,
                )
            };
            if received <= 0 {
                return DumpEnd::Broken;
            }
            let mut data = &buffer[..received as usize];
            while data.len() >= NLMSG_HEADER_LEN {
                let (Some(length), Some(kind)) = (read_u32(data, 0), read_u16(data, 4)) else {
                    return DumpEnd::Broken;
                };
                let length = length as usize;
                if length < NLMSG_HEADER_LEN || length > data.len() {
                    return DumpEnd::Broken;
                }
                match kind {
                    NLMSG_DONE => return DumpEnd::Complete,
                    NLMSG_ERROR => return DumpEnd::Broken,
                    answer if answer == kind => each(&data[NLMSG_HEADER_LEN..length]),
                    _ => {}
                }
                data = &data[align4(length).min(data.len())..];
            }
        }
    }

    fn send(&self, kind: u16, body: &[u8]) -> Option<()> {
        let length = u32::try_from(NLMSG_HEADER_LEN + body.len()).ok()?;
        let mut message = Vec::with_capacity(length as usize);
        message.extend_from_slice(&length.to_ne_bytes());
        message.extend_from_slice(&kind.to_ne_bytes());
        message.extend_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes());
        message.extend_from_slice(&1u32.to_ne_bytes()); // sequence number
        message.extend_from_slice(&0u32.to_ne_bytes()); // port id: the kernel fills it
        message.extend_from_slice(body);
        // SAFETY: zeroed sockaddr_nl with the family set addresses the kernel.
        let mut kernel: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        kernel.nl_family = libc::AF_NETLINK as libc::sa_family_t;
        // SAFETY: buffer and address are valid for the lengths given.
        let sent = unsafe {
            libc::sendto(
                self.0.as_raw_fd(),
                message.as_ptr().cast(),
                message.len(),
                0,
                (&kernel as *const libc::sockaddr_nl).cast(),
                std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
            )
        };
        (sent == message.len() as isize).then_some(())
    }

    fn set_receive_timeout(&self, timeout: Duration) {
        let value = libc::timeval {
            tv_sec: timeout.as_secs() as libc::time_t,
            tv_usec: 0,
        };
        // SAFETY: setsockopt with a correctly sized timeval.
        unsafe {
            libc::setsockopt(
                self.0.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                (&value as *const libc::timeval).cast(),
                std::mem::size_of::<libc::timeval>() as libc::socklen_t,
            );
        }
    }
}

/// The attributes after a message's fixed part: (type, payload) pairs;
/// a damaged one ends the list.
pub(crate) fn for_each_attribute(mut attributes: &[u8], mut each: impl FnMut(u16, &[u8])) {
    while attributes.len() >= 4 {
        let (Some(length), Some(kind)) = (read_u16(attributes, 0), read_u16(attributes, 2)) else {
            return;
        };
        let length = length as usize;
        if length < 4 || length > attributes.len() {
            return;
        }
        each(kind, &attributes[4..length]);
        attributes = &attributes[align4(length).min(attributes.len())..];
    }
}

fn align4(length: usize) -> usize {
    (length + 3) & !3
}

pub(crate) fn read_u32(data: &[u8], at: usize) -> Option<u32> {
    let bytes = data.get(at..at + 4)?;
    Some(u32::from_ne_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
}

pub(crate) fn read_u16(data: &[u8], at: usize) -> Option<u16> {
    let bytes = data.get(at..at + 2)?;
    Some(u16::from_ne_bytes([bytes[0], bytes[1]]))
}
