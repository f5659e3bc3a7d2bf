//! The TCP and UDP tables from NETLINK_SOCK_DIAG (inet_diag) instead of
//! `/proc/net/{tcp,tcp6,udp,udp6}`: the same sockets and fields, but the
//! kernel fills fixed binary records rather than formatting a text line
//! per socket for us to parse back (on a machine with many sockets, the
//! text tables are a large share of a whole-machine listing's CPU time).
//!
//! The kernel walks the same hash tables for both, with the same queue
//! figures, except for a listening TCP socket's send queue: inet_diag
//! reports its backlog limit there, `/proc/net/tcp` the unsent bytes of a
//! socket that has sent nothing (0). Only sockets that have an inode are
//! asked for: TIME_WAIT and embryonic (SYN_RECV request) sockets have none
//! in either, and bound-but-inactive sockets are not in the text tables.

use super::netlink::{read_u32, DiagSocket, DumpEnd, SOCK_DIAG_BY_FAMILY, TCPDIAG_GETSOCK};
use super::store::{InodeSet, IpRecord, Table};
use super::tables::SocketTable;
use crate::model::IpProto;

/// Length of `struct inet_diag_msg`.
const MESSAGE_LEN: usize = 72;
/// Length of `struct inet_diag_sockid`; zero in a request: a dump of all.
const SOCKET_ID_LEN: usize = 48;
const TCP_LISTEN: u8 = 10;
/// Every TCP state that a socket with an inode can be in: 1 (ESTABLISHED)
/// to 11 (CLOSING) without 6 (TIME_WAIT); not 12 (NEW_SYN_RECV) nor 13
/// (BOUND_INACTIVE).
const STATES_WITH_INODES: u32 = 0b1111_1011_1110;

/// A UDP table from inet_diag in the calling thread's network namespace,
/// or None (not a UDP table, no sock_diag, an error mid-dump): then the
/// text table is to be read instead. With `only`, just those sockets.
pub(crate) fn dump_udp_table(table: SocketTable, only: Option<&InodeSet>) -> Option<Table> {
    let family = match table {
        SocketTable::Udp => libc::AF_INET,
        SocketTable::Udp6 => libc::AF_INET6,
        _ => return None,
    };
    let mut request = vec![family as u8, libc::IPPROTO_UDP as u8, 0, 0];
    request.extend_from_slice(&STATES_WITH_INODES.to_ne_bytes());
    request.extend_from_slice(&[0u8; SOCKET_ID_LEN]);
    let [v4, v6] = dump(SOCK_DIAG_BY_FAMILY, &request, IpProto::Udp, only)?;
    Some(if family == libc::AF_INET { v4 } else { v6 })
}

/// Both TCP tables, IPv4 and IPv6, from one walk of the kernel's hash
/// tables: the legacy request asks for every family at once (a v2 request
/// names one, and each walk of the established table, whose buckets grow
/// with the machine's memory, is costly). `only`: as for [`dump_udp_table`].
pub(crate) fn dump_tcp_tables(only: Option<&InodeSet>) -> Option<[Table; 2]> {
    // struct inet_diag_req: family (any), address lengths, extensions,
    // socket id, states, dbs.
    let mut request = vec![0u8; 4 + SOCKET_ID_LEN];
    request.extend_from_slice(&STATES_WITH_INODES.to_ne_bytes());
    request.extend_from_slice(&0u32.to_ne_bytes());
    dump(TCPDIAG_GETSOCK, &request, IpProto::Tcp, only)
}

/// The IPv4 and IPv6 tables of one dump.
fn dump(kind: u16, request: &[u8], proto: IpProto, only: Option<&InodeSet>) -> Option<[Table; 2]> {
    let socket = DiagSocket::open()?;
    let (mut v4, mut v6) = (Vec::new(), Vec::new());
    let kept = |inode: u64| InodeSet::keeps(only, inode);
    let end = socket.dump(kind, request, |message| {
        match message.first().map(|&f| i32::from(f)) {
            Some(libc::AF_INET) => v4.extend(parse_message::<4>(message).filter(|r| kept(r.inode))),
            Some(libc::AF_INET6) => {
                v6.extend(parse_message::<16>(message).filter(|r| kept(r.inode)))
            }
            _ => {}
        }
    });
    if end != DumpEnd::Complete {
        return None;
    }
    let mut tables = [Table::Ip4(proto, v4), Table::Ip6(proto, v6)];
    tables.iter_mut().for_each(Table::finish);
    Some(tables)
}

/// One `struct inet_diag_msg` as the record `/proc/net` would give.
fn parse_message<const N: usize>(message: &[u8]) -> Option<IpRecord<N>> {
    if message.len() < MESSAGE_LEN {
        return None;
    }
    let state = message[1];
    let port = |at: usize| u16::from_be_bytes([message[at], message[at + 1]]);
    let address = |at: usize| -> [u8; N] {
        let mut bytes = [0u8; N];
        bytes.copy_from_slice(&message[at..at + N]);
        bytes
    };
    let inode = u64::from(read_u32(message, 68)?);
    if inode == 0 {
        return None;
    }
    let send_queue = if state == TCP_LISTEN {
        0
    } else {
        read_u32(message, 60)?
    };
    Some(IpRecord {
        inode,
        send_queue,
        recv_queue: read_u32(message, 56)?,
        local: address(8),
        remote: address(24),
        local_port: port(4),
        remote_port: port(6),
        state,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(family: u8, state: u8, inode: u32) -> Vec<u8> {
        let mut m = vec![0u8; MESSAGE_LEN];
        m[0] = family;
        m[1] = state;
        m[4..6].copy_from_slice(&8080u16.to_be_bytes());
        m[6..8].copy_from_slice(&443u16.to_be_bytes());
        m[8..12].copy_from_slice(&[127, 0, 0, 1]);
        m[24..28].copy_from_slice(&[10, 1, 2, 3]);
        m[56..60].copy_from_slice(&5u32.to_ne_bytes());
        m[60..64].copy_from_slice(&128u32.to_ne_bytes());
        m[68..72].copy_from_slice(&inode.to_ne_bytes());
        m
    }

    #[test]
    fn a_message_becomes_the_record_the_text_table_gives() {
        let r = parse_message::<4>(&message(libc::AF_INET as u8, 1, 77)).expect("record");
        assert_eq!((r.inode, r.state), (77, 1));
        assert_eq!((r.local, r.local_port), ([127, 0, 0, 1], 8080));
        assert_eq!((r.remote, r.remote_port), ([10, 1, 2, 3], 443));
        assert_eq!((r.recv_queue, r.send_queue), (5, 128));
    }

    #[test]
    fn a_listener_has_no_send_queue_and_damaged_messages_are_skipped() {
        let listen = message(libc::AF_INET as u8, TCP_LISTEN, 9);
        let r = parse_message::<4>(&listen).expect("record");
        assert_eq!((r.recv_queue, r.send_queue), (5, 0));
        assert!(parse_message::<4>(&listen[..40]).is_none());
        let no_inode = message(libc::AF_INET as u8, 1, 0);
        assert!(parse_message::<4>(&no_inode).is_none());
    }
}
