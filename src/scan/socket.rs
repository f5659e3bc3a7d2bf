//! How a socket's kernel description maps to lsof's TYPE, and the seam
//! through which the scan asks the socket tables about an inode.

use crate::model::{Device, FileType, IpProto, SocketInfo};
use crate::net::store::InodeSet;

/// Answers "what is socket inode N of this process?".
pub trait SocketLookup: Sync {
    /// `netns` is the inode of the process's network namespace: each
    /// namespace has its own socket tables.
    fn describe(&self, netns: u64, pid: i32, inode: u64) -> Option<SocketInfo>;

    /// The same in the TCP and UDP tables only (a socket `-i` could select).
    fn describe_ip(&self, netns: u64, pid: i32, inode: u64) -> Option<SocketInfo> {
        self.describe(netns, pid, inode)
    }

    /// The same without the TCP, UDP, UDPLITE and raw IPv6 tables, which
    /// lsof does not read under `-X`.
    fn describe_without_tcp_udp(&self, netns: u64, pid: i32, inode: u64) -> Option<SocketInfo> {
        self.describe(netns, pid, inode)
    }

    /// The socket with this inode in network namespace `namespace` (an
    /// open namespace file, inode `netns`), which may have no process in
    /// it, searching `tables` (see [`crate::net::NetTables::lookup_joined`]).
    fn describe_joined(
        &self,
        _netns: u64,
        _namespace: &std::os::fd::OwnedFd,
        _inode: u64,
        _tables: Tables,
    ) -> Option<SocketInfo> {
        None
    }

    /// Reads now, for our own network namespace, the tables that
    /// `describe` (`All`), `describe_ip` or `describe_without_tcp_udp`
    /// search, so that the scan finds them read.
    fn preload(&self, _tables: Tables) {}

    /// A fresh lookup of the same kind whose tables keep only these
    /// sockets (None: all of them), for a batch of processes; None when
    /// this lookup cannot be narrowed.
    fn for_sockets(&self, _only: Option<InodeSet>) -> Option<Box<dyn SocketLookup + Send>> {
        None
    }

    /// For `+E`/`-E`: the inode of the socket at the other end of `info`
    /// (inode `inode`): a UNIX socket's peer (or, for a listening socket,
    /// its first connection waiting to be accepted), the other end of an
    /// established TCP/UDP connection in the same namespace.
    fn peer(&self, _netns: u64, _pid: i32, _inode: u64, _info: &SocketInfo) -> Option<u64> {
        None
    }
}

/// Which socket tables the scan searches (see [`SocketLookup::preload`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tables {
    All,
    TcpUdp,
    WithoutTcpUdp,
}

/// Tells the scan, before it stats a socket descriptor of a process whose
/// other files cannot be listed, whether the socket could be (so `-i :PORT`
/// reads only the sockets that match). `info` is None for a socket found
/// in no table.
pub trait SocketFilter: Send + Sync {
    fn may_select(&self, info: Option<&SocketInfo>) -> bool;

    /// Only TCP and UDP sockets can be selected (no `-U`): the scan need
    /// not read the other socket tables.
    fn ip_only(&self) -> bool {
        false
    }
}

/// A lookup that knows nothing: every socket is shown by protocol name.
pub struct NoSockets;

impl SocketLookup for NoSockets {
    fn describe(&self, _: u64, _: i32, _: u64) -> Option<SocketInfo> {
        None
    }
}

impl SocketLookup for crate::net::NetTables {
    fn describe(&self, netns: u64, pid: i32, inode: u64) -> Option<SocketInfo> {
        self.lookup(netns, pid, inode)
    }

    fn peer(&self, netns: u64, pid: i32, inode: u64, info: &SocketInfo) -> Option<u64> {
        self.endpoint_peer(netns, pid, inode, info)
    }

    fn describe_ip(&self, netns: u64, pid: i32, inode: u64) -> Option<SocketInfo> {
        self.lookup_in(netns, pid, inode, &crate::net::SocketTable::TCP_UDP)
    }

    fn describe_without_tcp_udp(&self, netns: u64, pid: i32, inode: u64) -> Option<SocketInfo> {
        self.lookup_in(netns, pid, inode, &crate::net::SocketTable::WITHOUT_TCP_UDP)
    }

    fn for_sockets(&self, only: Option<InodeSet>) -> Option<Box<dyn SocketLookup + Send>> {
        Some(Box::new(self.next_batch(only)))
    }

    fn describe_joined(
        &self,
        netns: u64,
        namespace: &std::os::fd::OwnedFd,
        inode: u64,
        tables: Tables,
    ) -> Option<SocketInfo> {
        self.lookup_joined(netns, namespace, inode, tables.list())
    }

    fn preload(&self, tables: Tables) {
        self.preload(tables.list());
    }
}

impl Tables {
    /// The tables searched, in order.
    pub fn list(self) -> &'static [crate::net::SocketTable] {
        use crate::net::SocketTable;
        match self {
            Tables::All => SocketTable::LSOF,
            Tables::TcpUdp => &SocketTable::TCP_UDP,
            Tables::WithoutTcpUdp => &SocketTable::WITHOUT_TCP_UDP,
        }
    }
}

/// The DEVICE column lsof shows for a socket: the kernel address of a
/// UNIX socket, the inode of a TCP, UDP or packet socket, nothing else.
pub fn socket_device(info: &SocketInfo, inode: u64) -> Device {
    match info {
        SocketInfo::Unix(u) => Device::KernelAddr(u.addr),
        SocketInfo::Ip(ip) if matches!(ip.proto, IpProto::Raw | IpProto::Icmp) => Device::None,
        SocketInfo::Ip(_) | SocketInfo::Packet(_) => Device::Decimal(inode),
        SocketInfo::Netlink(_) | SocketInfo::Protocol(_) => Device::None,
    }
}

pub fn socket_file_type(info: &SocketInfo) -> FileType {
    match info {
        SocketInfo::Ip(ip) if ip.proto == IpProto::Raw => {
            FileType::Other(if ip.v6 { "raw6" } else { "raw" }.into())
        }
        SocketInfo::Ip(ip) if ip.proto == IpProto::Icmp => FileType::Other("icmp".into()),
        SocketInfo::Ip(ip) if ip.v6 => FileType::Ipv6,
        SocketInfo::Ip(_) => FileType::Ipv4,
        SocketInfo::Unix(_) => FileType::Unix,
        SocketInfo::Netlink(_) => FileType::Netlink,
        SocketInfo::Packet(_) => FileType::Packet,
        SocketInfo::Protocol(_) => FileType::Sock,
    }
}

impl super::Scanner {
    /// Reads now the socket tables of our own network namespace that the
    /// scan searches, so that scanning threads do not wait for one another
    /// to read them: for a thread of its own, when the scan will meet
    /// sockets.
    pub fn preload_sockets(&self) {
        if self.cfg.terse || self.kernel_sockets.is_some() {
            return;
        }
        let ip_only = self.socket_filter.as_ref().is_some_and(|f| f.ip_only());
        let tables = if self.cfg.skip_tcp_udp {
            Tables::WithoutTcpUdp
        } else if ip_only && self.cfg.sockets_only_unless == Some(0) {
            Tables::TcpUdp
        } else {
            Tables::All
        };
        self.sockets.preload(tables);
    }
}
