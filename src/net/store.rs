//! Socket tables held compactly: one small fixed-size record per socket,
//! sorted by inode, and the bound paths of UNIX sockets in one buffer.
//!
//! A whole-machine listing meets every socket of the machine, so the tables
//! are read whole; what they cost in memory is what one record per socket
//! costs (32 bytes for an IPv4 socket, 40 for a UNIX one, 56 for IPv6),
//! not a full description each. The text is read in fixed-size chunks and
//! parsed line by line, never held whole.

use std::io::{self, Read};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::model::{
    IpProto, IpSocket, NetlinkSocket, PacketSocket, SocketInfo, TcpState, UnixSocket,
};

/// How much of a table's text is read at a time.
const CHUNK: usize = 32 * 1024;

/// Socket inodes: the sockets a batch of processes holds. A sorted list,
/// 8 bytes a socket (a hash set takes about three times that), searched
/// once per table line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InodeSet(Vec<u64>);

impl InodeSet {
    pub fn contains(&self, inode: &u64) -> bool {
        self.0.binary_search(inode).is_ok()
    }

    /// Whether a table read keeping `only` (None: every socket) keeps the
    /// socket with this inode.
    pub fn keeps(only: Option<&InodeSet>, inode: u64) -> bool {
        only.is_none_or(|set| set.contains(&inode))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<Vec<u64>> for InodeSet {
    fn from(mut inodes: Vec<u64>) -> Self {
        inodes.sort_unstable();
        inodes.dedup();
        inodes.shrink_to_fit();
        InodeSet(inodes)
    }
}

impl<const N: usize> From<[u64; N]> for InodeSet {
    fn from(inodes: [u64; N]) -> Self {
        InodeSet::from(inodes.to_vec())
    }
}

impl FromIterator<u64> for InodeSet {
    fn from_iter<I: IntoIterator<Item = u64>>(inodes: I) -> Self {
        InodeSet::from(inodes.into_iter().collect::<Vec<u64>>())
    }
}

/// One IP socket: `N` is 4 (IPv4) or 16 (IPv6) address bytes.
#[derive(Debug, Clone, Copy)]
pub struct IpRecord<const N: usize> {
    pub inode: u64,
    /// The kernel prints both queues as 32-bit numbers.
    pub send_queue: u32,
    pub recv_queue: u32,
    pub local: [u8; N],
    pub remote: [u8; N],
    pub local_port: u16,
    pub remote_port: u16,
    pub state: u8,
}

#[derive(Debug, Clone, Copy)]
pub struct UnixRecord {
    pub inode: u64,
    pub addr: u64,
    pub sock_type: u32,
    pub state: u32,
    pub flags: u32,
    /// The path's bytes in the table's path buffer; empty for none.
    pub path_start: u32,
    pub path_len: u32,
}

#[derive(Debug, Clone, Copy)]
pub struct NetlinkRecord {
    pub inode: u64,
    pub addr: u64,
    pub protocol: u32,
}

#[derive(Debug, Clone, Copy)]
pub struct PacketRecord {
    pub inode: u64,
    pub addr: u64,
    pub sock_type: u32,
    pub protocol: u16,
}

trait Keyed {
    fn inode(&self) -> u64;
}

macro_rules! keyed {
    ($($t:ty),*) => {$(
        impl Keyed for $t {
            fn inode(&self) -> u64 {
                self.inode
            }
        }
    )*};
}
keyed!(
    IpRecord<4>,
    IpRecord<16>,
    UnixRecord,
    NetlinkRecord,
    PacketRecord
);

/// The sockets of one table, sorted by inode (the first line for an inode
/// wins, as in lsof).
#[derive(Debug)]
pub enum Table {
    Ip4(IpProto, Vec<IpRecord<4>>),
    Ip6(IpProto, Vec<IpRecord<16>>),
    /// Records and the buffer their paths are in.
    Unix(Vec<UnixRecord>, Vec<u8>),
    Netlink(Vec<NetlinkRecord>),
    Packet(Vec<PacketRecord>),
}

impl Table {
    pub fn len(&self) -> usize {
        match self {
            Table::Ip4(_, r) => r.len(),
            Table::Ip6(_, r) => r.len(),
            Table::Unix(r, _) => r.len(),
            Table::Netlink(r) => r.len(),
            Table::Packet(r) => r.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The socket with this inode, described in full.
    pub fn get(&self, inode: u64) -> Option<SocketInfo> {
        match self {
            Table::Ip4(proto, r) => find(r, inode).map(|s| ip_info(*proto, s)),
            Table::Ip6(proto, r) => find(r, inode).map(|s| ip_info(*proto, s)),
            Table::Unix(r, paths) => find(r, inode).map(|s| unix_info(s, paths)),
            Table::Netlink(r) => find(r, inode).map(netlink_info),
            Table::Packet(r) => find(r, inode).map(packet_info),
        }
    }

    /// Every socket, described in full, in inode order.
    pub fn for_each(&self, each: &mut dyn FnMut(u64, SocketInfo)) {
        match self {
            Table::Ip4(proto, r) => r.iter().for_each(|s| each(s.inode, ip_info(*proto, s))),
            Table::Ip6(proto, r) => r.iter().for_each(|s| each(s.inode, ip_info(*proto, s))),
            Table::Unix(r, paths) => r.iter().for_each(|s| each(s.inode, unix_info(s, paths))),
            Table::Netlink(r) => r.iter().for_each(|s| each(s.inode, netlink_info(s))),
            Table::Packet(r) => r.iter().for_each(|s| each(s.inode, packet_info(s))),
        }
    }

    /// Sorts by inode and drops later lines for the same inode; the
    /// records' spare capacity is returned.
    pub(super) fn finish(&mut self) {
        match self {
            Table::Ip4(_, r) => sort_records(r),
            Table::Ip6(_, r) => sort_records(r),
            Table::Unix(r, paths) => {
                sort_records(r);
                paths.shrink_to_fit();
            }
            Table::Netlink(r) => sort_records(r),
            Table::Packet(r) => sort_records(r),
        }
    }
}

fn sort_records<R: Keyed>(records: &mut Vec<R>) {
    // Stable, so the first line for an inode stays first.
    records.sort_by_key(Keyed::inode);
    records.dedup_by_key(|r| r.inode());
    records.shrink_to_fit();
}

fn find<R: Keyed>(records: &[R], inode: u64) -> Option<&R> {
    let at = records.binary_search_by_key(&inode, Keyed::inode).ok()?;
    records.get(at)
}

fn ip_addr(bytes: &[u8]) -> IpAddr {
    match <[u8; 4]>::try_from(bytes) {
        Ok(v4) => IpAddr::V4(Ipv4Addr::from(v4)),
        Err(_) => {
            let mut v6 = [0u8; 16];
            let n = bytes.len().min(16);
            v6[..n].copy_from_slice(&bytes[..n]);
            IpAddr::V6(Ipv6Addr::from(v6))
        }
    }
}

pub(super) fn ip_info<const N: usize>(proto: IpProto, s: &IpRecord<N>) -> SocketInfo {
    let remote = (ip_addr(&s.remote), s.remote_port);
    let unconnected = remote.0.is_unspecified() && remote.1 == 0;
    SocketInfo::Ip(IpSocket {
        proto,
        v6: N == 16,
        local: (ip_addr(&s.local), s.local_port),
        remote: (!unconnected).then_some(remote),
        state: Some(TcpState(s.state)),
        recv_queue: u64::from(s.recv_queue),
        send_queue: u64::from(s.send_queue),
        raw_proto: (proto == IpProto::Raw).then_some(u32::from(s.local_port)),
    })
}

fn unix_info(s: &UnixRecord, paths: &[u8]) -> SocketInfo {
    let start = s.path_start as usize;
    let path = paths.get(start..start + s.path_len as usize);
    SocketInfo::Unix(UnixSocket {
        addr: s.addr,
        sock_type: s.sock_type,
        state: s.state,
        flags: s.flags,
        path: path.filter(|p| !p.is_empty()).map(<[u8]>::to_vec),
        peer: None,
    })
}

fn netlink_info(s: &NetlinkRecord) -> SocketInfo {
    SocketInfo::Netlink(NetlinkSocket {
        addr: s.addr,
        protocol: s.protocol,
    })
}

fn packet_info(s: &PacketRecord) -> SocketInfo {
    SocketInfo::Packet(PacketSocket {
        addr: s.addr,
        sock_type: s.sock_type,
        protocol: s.protocol,
    })
}

/// Hands `each` every line of `input` (without its newline; a last line
/// without one too), reading a chunk at a time: memory is one chunk and
/// the longest line, whatever the size of the input. A read error ends
/// the input.
pub(crate) fn for_each_line(input: &mut impl Read, mut each: impl FnMut(&[u8])) {
    let mut buf = vec![0u8; CHUNK];
    // buf[start..end] is read and not yet handed on.
    let (mut start, mut end) = (0usize, 0usize);
    loop {
        if end == buf.len() {
            if start > 0 {
                buf.copy_within(start..end, 0);
                end -= start;
                start = 0;
            } else {
                // One line fills the buffer: make room for the rest of it.
                buf.resize(buf.len() * 2, 0);
            }
        }
        let read = match input.read(&mut buf[end..]) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        let scan_from = end;
        end += read;
        let mut from = scan_from;
        while let Some(at) = buf[from..end].iter().position(|&b| b == b'\n') {
            let newline = from + at;
            each(&buf[start..newline]);
            start = newline + 1;
            from = start;
        }
    }
    if start < end {
        each(&buf[start..end]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::test_io::Trickle;

    fn lines_of(text: &[u8], step: usize) -> Vec<Vec<u8>> {
        let mut lines = Vec::new();
        for_each_line(&mut Trickle { text, step }, |l| lines.push(l.to_vec()));
        lines
    }

    #[test]
    fn lines_across_chunk_boundaries() {
        let mut text = Vec::new();
        for i in 0..5000 {
            text.extend_from_slice(format!("line {i} {}\n", "x".repeat(i % 97)).as_bytes());
        }
        let expected: Vec<Vec<u8>> = text[..text.len() - 1]
            .split(|&b| b == b'\n')
            .map(<[u8]>::to_vec)
            .collect();
        for step in [1, 7, 4096, CHUNK, usize::MAX] {
            assert_eq!(lines_of(&text, step), expected, "step {step}");
        }
    }

    #[test]
    fn long_lines_empty_lines_and_no_final_newline() {
        let long = vec![b'y'; CHUNK * 3 + 5];
        let mut text = b"a\n\n".to_vec();
        text.extend_from_slice(&long);
        text.extend_from_slice(b"\nlast");
        let got = lines_of(&text, 5000);
        assert_eq!(got, vec![b"a".to_vec(), Vec::new(), long, b"last".to_vec()]);
        assert!(lines_of(b"", 10).is_empty());
        assert_eq!(lines_of(b"\n", 10), vec![Vec::<u8>::new()]);
    }
}
