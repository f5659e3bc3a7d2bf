//! A socket table's text, line by line, into its compact [`Table`].

use std::sync::Arc;

use super::inet::parse_ip_line;
use super::link::{parse_netlink_line, parse_packet_line};
use super::store::{InodeSet, IpRecord, NetlinkRecord, PacketRecord, Table};
use super::tables::SocketTable;
use super::unix::UnixLines;
use crate::model::IpProto;

/// One table being read: feed it lines with [`TableParser::line`].
pub(crate) struct TableParser {
    lines: Lines,
    /// Only these sockets are kept (see [`TableParser::keeping_only`]).
    only: Option<Arc<InodeSet>>,
}

enum Lines {
    Ip4(IpProto, Vec<IpRecord<4>>),
    Ip6(IpProto, Vec<IpRecord<16>>),
    Unix(UnixLines),
    Netlink(Vec<NetlinkRecord>),
    Packet(Vec<PacketRecord>),
}

impl TableParser {
    pub(crate) fn new(table: SocketTable) -> TableParser {
        let ip4 = |proto| Lines::Ip4(proto, Vec::new());
        let ip6 = |proto| Lines::Ip6(proto, Vec::new());
        let lines = match table {
            SocketTable::Unix => Lines::Unix(UnixLines::default()),
            SocketTable::Netlink => Lines::Netlink(Vec::new()),
            SocketTable::Packet => Lines::Packet(Vec::new()),
            SocketTable::Tcp => ip4(IpProto::Tcp),
            SocketTable::Tcp6 => ip6(IpProto::Tcp),
            SocketTable::Udp => ip4(IpProto::Udp),
            SocketTable::Udp6 => ip6(IpProto::Udp),
            SocketTable::UdpLite => ip4(IpProto::UdpLite),
            SocketTable::UdpLite6 => ip6(IpProto::UdpLite),
            SocketTable::Raw => ip4(IpProto::Raw),
            SocketTable::Raw6 => ip6(IpProto::Raw),
            SocketTable::Icmp => ip4(IpProto::Icmp),
            SocketTable::Icmp6 => ip6(IpProto::Icmp),
        };
        TableParser { lines, only: None }
    }

    /// Keeps only the sockets with these inodes (None: every socket), so
    /// that a table holds what a batch of processes needs, not the machine.
    pub(crate) fn keeping_only(mut self, only: Option<Arc<InodeSet>>) -> TableParser {
        self.only = only;
        self
    }

    /// One line, without its newline. Lines that do not parse (headers,
    /// damaged lines) are skipped; so are IP, netlink and packet sockets
    /// with inode 0 (e.g. TIME_WAIT), which no file can refer to.
    pub(crate) fn line(&mut self, line: &[u8]) {
        let only = self.only.as_deref();
        let kept = |inode: u64| inode != 0 && InodeSet::keeps(only, inode);
        match &mut self.lines {
            Lines::Ip4(_, r) => r.extend(parse_ip_line::<4>(line).filter(|s| kept(s.inode))),
            Lines::Ip6(_, r) => r.extend(parse_ip_line::<16>(line).filter(|s| kept(s.inode))),
            Lines::Unix(u) => u.line(line, only),
            Lines::Netlink(r) => r.extend(parse_netlink_line(line).filter(|s| kept(s.inode))),
            Lines::Packet(r) => r.extend(parse_packet_line(line).filter(|s| kept(s.inode))),
        }
    }

    pub(crate) fn finish(self) -> Table {
        let mut table = match self.lines {
            Lines::Ip4(proto, r) => Table::Ip4(proto, r),
            Lines::Ip6(proto, r) => Table::Ip6(proto, r),
            Lines::Unix(u) => Table::Unix(u.records, u.paths),
            Lines::Netlink(r) => Table::Netlink(r),
            Lines::Packet(r) => Table::Packet(r),
        };
        table.finish();
        table
    }
}
