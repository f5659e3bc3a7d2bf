//! The NAME column: path, notes, and socket descriptions as lsof 4.95
//! (Linux) writes them. Text is built raw (unescaped); the table and `-F`
//! escape it, JSON carries it as is.

use std::borrow::Cow;
use std::io::Write as _;
use std::net::IpAddr;

use super::columns::Render;
use crate::model::{
    IpProto, IpSocket, NetlinkSocket, OpenFile, PacketSocket, SocketInfo, UnixSocket,
};

/// Socket states (`/proc/net/unix` `St`) as lsof names them.
const UNIX_STATE_NAMES: [&str; 5] = [
    "UNKNOWN",
    "UNCONNECTED",
    "CONNECTING",
    "CONNECTED",
    "DISCONNECTING",
];

/// TCP/TPI information lsof attaches to a socket (`-T`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TcpInfo {
    pub(crate) state: Option<String>,
    pub(crate) recv_queue: Option<u64>,
    pub(crate) send_queue: Option<u64>,
}

impl Render<'_> {
    /// The NAME text. `with_tcp` adds the `(STATE QR=.. QS=..)` suffix the
    /// table prints (`-F` prints it as `T` fields instead).
    pub(crate) fn name_text(&self, f: &OpenFile, with_tcp: bool, out: &mut Vec<u8>) {
        let start = out.len();
        match f.socket.as_deref() {
            Some(SocketInfo::Ip(ip)) if is_raw(ip) => raw_text(ip, out),
            Some(SocketInfo::Ip(ip)) => self.inet_text(ip, out),
            Some(SocketInfo::Unix(u)) => unix_text(u, out),
            Some(SocketInfo::Netlink(n)) => netlink_text(n, out),
            Some(SocketInfo::Packet(p)) => packet_text(p, out),
            Some(SocketInfo::Protocol(p)) => {
                out.extend_from_slice(b"protocol: ");
                out.extend_from_slice(p.as_bytes());
            }
            None => {
                out.extend_from_slice(&f.name);
                if f.deleted {
                    out.extend_from_slice(b" (deleted)");
                }
            }
        }
        if let Some(note) = &f.note {
            if out.len() > start {
                out.push(b' ');
            }
            out.push(b'(');
            out.extend_from_slice(note.as_bytes());
            out.push(b')');
        }
        for ep in &f.endpoints {
            if out.len() > start {
                out.push(b' ');
            }
            out.extend_from_slice(ep);
        }
        if with_tcp && self.settings.tcp_info.any && has_tcp_info(f) {
            if out.len() > start {
                out.push(b' ');
            }
            if let Some(info) = self.tcp_info(f) {
                let mut parts: Vec<String> = Vec::new();
                parts.extend(info.state);
                parts.extend(info.recv_queue.map(|q| format!("QR={q}")));
                parts.extend(info.send_queue.map(|q| format!("QS={q}")));
                if !parts.is_empty() {
                    let _ = write!(out, "({})", parts.join(" "));
                }
            }
        }
    }

    /// The `-T` parts for a socket lsof keeps TCP/TPI data for (TCP, UDP,
    /// UDPLITE, UNIX), as `-T` selects them.
    pub(crate) fn tcp_info(&self, f: &OpenFile) -> Option<TcpInfo> {
        match f.socket.as_deref()? {
            SocketInfo::Ip(ip) if !is_raw(ip) => Some(TcpInfo {
                state: match (self.settings.tcp_info.state, ip.proto, ip.state) {
                    (true, IpProto::Tcp, Some(s)) => Some(s.name().into_owned()),
                    _ => None,
                },
                recv_queue: self.settings.tcp_info.queues.then_some(ip.recv_queue),
                send_queue: self.settings.tcp_info.queues.then_some(ip.send_queue),
            }),
            SocketInfo::Unix(u) => Some(TcpInfo {
                state: self
                    .settings
                    .tcp_info
                    .state
                    .then(|| unix_state_name(u).to_string()),
                recv_queue: None,
                send_queue: None,
            }),
            _ => None,
        }
    }

    fn inet_text(&self, ip: &IpSocket, out: &mut Vec<u8>) {
        let local = Some(ip.local).filter(|&(a, p)| !a.is_unspecified() || p != 0);
        let remote = ip.remote.filter(|&(a, p)| !a.is_unspecified() || p != 0);
        // lsof shows an IPv4-mapped pair in IPv4 form.
        let mapped = [local, remote]
            .iter()
            .flatten()
            .any(|(a, _)| matches!(a, IpAddr::V6(v6) if v6.to_ipv4_mapped().is_some()));
        if let Some((addr, port)) = local {
            self.endpoint(addr, port, mapped, ip.proto, out);
        }
        if let Some((addr, port)) = remote {
            out.extend_from_slice(b"->");
            self.endpoint(addr, port, mapped, ip.proto, out);
        }
    }

    fn endpoint(&self, addr: IpAddr, port: u16, mapped: bool, proto: IpProto, out: &mut Vec<u8>) {
        let addr = match addr {
            IpAddr::V6(v6) if mapped => {
                let o = v6.octets();
                IpAddr::V4(std::net::Ipv4Addr::new(o[12], o[13], o[14], o[15]))
            }
            a => a,
        };
        if addr.is_unspecified() {
            out.push(b'*');
        } else {
            match self
                .settings
                .host_names
                .then(|| self.names.host(addr))
                .flatten()
            {
                Some(h) => out.extend_from_slice(h.as_bytes()),
                None => match addr {
                    IpAddr::V4(a) => {
                        let _ = write!(out, "{a}");
                    }
                    IpAddr::V6(a) => {
                        out.push(b'[');
                        ipv6_text(a, out);
                        out.push(b']');
                    }
                },
            }
        }
        out.push(b':');
        if port == 0 {
            out.push(b'*');
            return;
        }
        let service = if self.settings.port_names && matches!(proto, IpProto::Tcp | IpProto::Udp) {
            self.names.service(port, proto).filter(|s| !s.is_empty())
        } else {
            None
        };
        match service {
            Some(s) => out.extend_from_slice(s.as_bytes()),
            None => {
                let _ = write!(out, "{port}");
            }
        }
    }
}

/// An IPv6 address as glibc's `inet_ntop` writes it: Rust's form, except
/// that an IPv4-compatible address (`::a.b.c.d`) keeps its dotted tail.
fn ipv6_text(a: std::net::Ipv6Addr, out: &mut Vec<u8>) {
    let seg = a.segments();
    if seg[..6].iter().all(|&s| s == 0) && seg[6] != 0 {
        let o = a.octets();
        let _ = write!(out, "::{}.{}.{}.{}", o[12], o[13], o[14], o[15]);
    } else {
        let _ = write!(out, "{a}");
    }
}

pub(crate) fn is_raw(ip: &IpSocket) -> bool {
    ip.raw_proto.is_some() || matches!(ip.proto, IpProto::Raw | IpProto::Icmp)
}

/// Sockets for which lsof records TCP/TPI data (its `lts.type >= 0`).
fn has_tcp_info(f: &OpenFile) -> bool {
    match f.socket.as_deref() {
        Some(SocketInfo::Ip(ip)) => !is_raw(ip),
        Some(SocketInfo::Unix(_)) => true,
        _ => false,
    }
}

fn unix_state_name(u: &UnixSocket) -> &'static str {
    if u.is_listening() {
        return "LISTEN";
    }
    usize::try_from(u.state)
        .ok()
        .and_then(|i| UNIX_STATE_NAMES.get(i))
        .copied()
        .unwrap_or("UNKNOWN")
}

fn sock_type_name(t: u32) -> Option<&'static str> {
    Some(match t {
        1 => "STREAM",
        2 => "DGRAM",
        3 => "RAW",
        4 => "RDM",
        5 => "SEQPACKET",
        6 => "DCCP",
        10 => "PACKET",
        _ => return None,
    })
}

fn unix_text(u: &UnixSocket, out: &mut Vec<u8>) {
    if let Some(path) = &u.path {
        out.extend_from_slice(path);
        out.push(b' ');
    }
    out.extend_from_slice(b"type=");
    out.extend_from_slice(sock_type_name(u.sock_type).unwrap_or("unknown").as_bytes());
}

fn packet_text(p: &PacketSocket, out: &mut Vec<u8>) {
    match sock_type_name(p.sock_type) {
        Some(t) => {
            let _ = write!(out, "type=SOCK_{t}");
        }
        None => out.extend_from_slice(b"type=unknown"),
    }
}

fn netlink_text(n: &NetlinkSocket, out: &mut Vec<u8>) {
    const NAMES: [&str; 23] = [
        "ROUTE",
        "UNUSED",
        "USERSOCK",
        "FIREWALL",
        "INET_DIAG",
        "NFLOG",
        "XFRM",
        "SELINUX",
        "ISCSI",
        "AUDIT",
        "FIB_LOOKUP",
        "CONNECTOR",
        "NETFILTER",
        "IP6_FW",
        "DNRTMSG",
        "KOBJECT_UEVENT",
        "GENERIC",
        "",
        "SCSITRANSPORT",
        "ECRYPTFS",
        "RDMA",
        "CRYPTO",
        "SMC",
    ];
    match usize::try_from(n.protocol).ok().and_then(|i| NAMES.get(i)) {
        Some(name) if !name.is_empty() => out.extend_from_slice(name.as_bytes()),
        _ => {
            let _ = write!(out, "unknown protocol: {}", n.protocol);
        }
    }
}

/// The kernel's `/proc/net/raw` spelling of an address: each 32-bit word of
/// the network-order address read in host order, as `%08X`.
fn kernel_hex(addr: IpAddr, port: u16, out: &mut Vec<u8>) {
    match addr {
        IpAddr::V4(a) => {
            let _ = write!(out, "{:08X}", u32::from_ne_bytes(a.octets()));
        }
        IpAddr::V6(a) => {
            for w in a.octets().chunks_exact(4) {
                let word = [w[0], w[1], w[2], w[3]];
                let _ = write!(out, "{:08X}", u32::from_ne_bytes(word));
            }
        }
    }
    let _ = write!(out, ":{port:04X}");
}

/// Raw and ICMP sockets: lsof copies the kernel's hex columns.
fn raw_text(ip: &IpSocket, out: &mut Vec<u8>) {
    kernel_hex(ip.local.0, ip.local.1, out);
    let unspecified = if ip.v6 {
        IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED)
    } else {
        IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)
    };
    let (raddr, rport) = ip.remote.unwrap_or((unspecified, 0));
    out.extend_from_slice(b"->");
    kernel_hex(raddr, rport, out);
    if ip.proto != IpProto::Icmp {
        let _ = write!(out, " st={:02X}", ip.state.map_or(0, |s| s.0));
    }
}

/// lsof's names for Ethernet protocols of packet sockets (NODE column).
pub(crate) fn ether_proto(proto: u16) -> Cow<'static, str> {
    const NAMES: [(u16, &str); 50] = [
        (0x0060, "LOOP"),
        (0x0200, "PUP"),
        (0x0201, "PUPAT"),
        (0x0800, "IP"),
        (0x0805, "X25"),
        (0x0806, "ARP"),
        (0x08FF, "BPQ"),
        (0x0a00, "I3EPUP"),
        (0x0a01, "I3EPUPA"),
        (0x6000, "DEC"),
        (0x6001, "DNA_DL"),
        (0x6002, "DNA_RC"),
        (0x6003, "DNA_RT"),
        (0x6004, "LAT"),
        (0x6005, "DIAG"),
        (0x6006, "CUST"),
        (0x6007, "SCA"),
        (0x8035, "RARP"),
        (0x809B, "ATALK"),
        (0x80F3, "AARP"),
        (0x8100, "8021Q"),
        (0x8137, "IPX"),
        (0x86DD, "IPV6"),
        (0x8809, "SLOW"),
        (0x883E, "WCCP"),
        (0x8863, "PPP_DIS"),
        (0x8864, "PPP_SES"),
        (0x8847, "MPLS_UC"),
        (0x884c, "ATMMPOA"),
        (0x8848, "MPLS_MC"),
        (0x8884, "ATMFATE"),
        (0x88A2, "AOE"),
        (0x88CA, "TIPC"),
        (0x0001, "802.3"),
        (0x0002, "AX25"),
        (0x0003, "ALL"),
        (0x0004, "802.2"),
        (0x0005, "SNAP"),
        (0x0006, "DDCMP"),
        (0x0007, "WAN_PPP"),
        (0x0008, "PPP MP"),
        (0x0009, "LCLTALK"),
        (0x0010, "PPPTALK"),
        (0x0011, "802.2"),
        (0x0015, "MOBITEX"),
        (0x0016, "CONTROL"),
        (0x0017, "IRDA"),
        (0x0018, "ECONET"),
        (0x0019, "HDLC"),
        (0x001A, "ARCNET"),
    ];
    match NAMES.iter().find(|(v, _)| *v == proto) {
        Some((_, name)) => Cow::Borrowed(name),
        None => Cow::Owned(proto.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::ipv6_text;

    #[test]
    fn ipv6_like_inet_ntop() {
        let text = |s: &str| {
            let mut out = Vec::new();
            ipv6_text(s.parse().unwrap(), &mut out);
            String::from_utf8(out).unwrap()
        };
        assert_eq!(text("::1"), "::1");
        assert_eq!(text("::"), "::");
        assert_eq!(text("::102:304"), "::1.2.3.4");
        assert_eq!(text("::ffff:1.2.3.4"), "::ffff:1.2.3.4");
        assert_eq!(text("fe80::1:0:0:1"), "fe80::1:0:0:1");
        assert_eq!(text("2001:db8:0:1:1:1:1:1"), "2001:db8:0:1:1:1:1:1");
    }
}
