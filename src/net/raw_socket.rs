//! What the socket tables would say of a socket, from the fields of the
//! kernel's `struct sock` that they print (read by `crate::bpf`'s
//! described-sockets program): the same rules the kernel follows to list
//! a socket in `/proc/net/*` and to print its line.

use crate::model::{IpProto, NetlinkSocket, PacketSocket, SocketInfo, UnixSocket};

use super::store::{ip_info, IpRecord};
use super::SocketTable;

/// A socket's fields, as raw as the kernel keeps them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawSocket {
    pub family: u16,
    pub sock_type: u16,
    pub protocol: u16,
    /// `sk_state`: a TCP state number (UDP: 1 connected, 7 not).
    pub state: u8,
    /// In its family's table (hashed): a TCP socket that neither listens
    /// nor connects, a UDP or ping socket not bound, is in none.
    pub in_table: bool,
    /// Addresses in network byte order, as the kernel keeps them.
    pub local_v4: [u8; 4],
    pub remote_v4: [u8; 4],
    pub local_v6: [u8; 16],
    pub remote_v6: [u8; 16],
    pub local_port: u16,
    pub remote_port: u16,
    /// A UNIX socket's `sun_path` bytes, as long as its bound address
    /// says (empty: not bound).
    pub unix_name: Vec<u8>,
    pub netlink_port: u32,
    /// A netlink socket is in `/proc/net/netlink` once bound.
    pub netlink_bound: bool,
    /// Ethernet protocol of a packet socket, host order.
    pub packet_protocol: u16,
    /// The address `/proc/net/{unix,netlink,packet}` print (`%pK`).
    pub kernel_addr: u64,
    pub queues: RawQueues,
}

/// What an IP socket's queue sizes are computed from, as the kernel's
/// table code computes them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RawQueues {
    pub ack_backlog: u32,
    pub rmem_alloc: u32,
    /// A reference count: one more than the bytes queued.
    pub wmem_alloc: u32,
    pub tcp_rcv_nxt: u32,
    pub tcp_copied_seq: u32,
    pub tcp_write_seq: u32,
    pub tcp_snd_una: u32,
    pub udp_forward_deficit: u32,
}

impl RawQueues {
    /// (receive, send) as rlsof's table readers give them: inet_diag's
    /// for TCP and UDP (a listener's send queue left at 0, as
    /// `/proc/net/tcp` shows it), the text tables' for the others.
    fn sizes(&self, proto: IpProto, state: u8) -> (u32, u32) {
        let send = self.wmem_alloc.wrapping_sub(1);
        match proto {
            IpProto::Tcp if state == TCP_LISTEN => (self.ack_backlog, 0),
            IpProto::Tcp => {
                let received = self.tcp_rcv_nxt.wrapping_sub(self.tcp_copied_seq) as i32;
                let unsent = self.tcp_write_seq.wrapping_sub(self.tcp_snd_una);
                (received.max(0) as u32, unsent)
            }
            IpProto::Udp | IpProto::UdpLite => {
                (self.rmem_alloc.wrapping_sub(self.udp_forward_deficit), send)
            }
            IpProto::Raw | IpProto::Icmp => (self.rmem_alloc, send),
        }
    }
}

const TCP_ESTABLISHED: u8 = 1;
const TCP_LISTEN: u8 = 10;
/// `/proc/net/unix`'s St column: SS_UNCONNECTED, SS_CONNECTED.
const SS_UNCONNECTED: u32 = 1;
const SS_CONNECTED: u32 = 3;
/// Its Flags column for a listening socket.
const SO_ACCEPTCON: u32 = 0x10000;

impl RawSocket {
    /// The table whose kind of socket this is, listed there or not.
    pub fn table(&self) -> Option<SocketTable> {
        let v6 = match i32::from(self.family) {
            libc::AF_UNIX => return Some(SocketTable::Unix),
            libc::AF_NETLINK => return Some(SocketTable::Netlink),
            libc::AF_PACKET => return Some(SocketTable::Packet),
            libc::AF_INET => false,
            libc::AF_INET6 => true,
            _ => return None,
        };
        let pick = |v4: SocketTable, v6_table: SocketTable| Some(if v6 { v6_table } else { v4 });
        match (i32::from(self.sock_type), i32::from(self.protocol)) {
            (libc::SOCK_STREAM, libc::IPPROTO_TCP) => pick(SocketTable::Tcp, SocketTable::Tcp6),
            (libc::SOCK_DGRAM, libc::IPPROTO_UDP) => pick(SocketTable::Udp, SocketTable::Udp6),
            (libc::SOCK_DGRAM, libc::IPPROTO_UDPLITE) => {
                pick(SocketTable::UdpLite, SocketTable::UdpLite6)
            }
            (libc::SOCK_DGRAM, libc::IPPROTO_ICMP) if !v6 => Some(SocketTable::Icmp),
            (libc::SOCK_DGRAM, libc::IPPROTO_ICMPV6) if v6 => Some(SocketTable::Icmp6),
            (libc::SOCK_RAW, _) => pick(SocketTable::Raw, SocketTable::Raw6),
            _ => None,
        }
    }

    /// What its table says of it; None when no table lists it.
    pub fn describe(&self) -> Option<SocketInfo> {
        let table = self.table()?;
        let listed = match table {
            SocketTable::Netlink => self.netlink_bound,
            _ => self.in_table,
        };
        if !listed {
            return None;
        }
        let proto = match table {
            SocketTable::Unix => return Some(self.unix()),
            SocketTable::Netlink => {
                return Some(SocketInfo::Netlink(NetlinkSocket {
                    addr: self.kernel_addr,
                    protocol: u32::from(self.protocol),
                }))
            }
            SocketTable::Packet => {
                return Some(SocketInfo::Packet(PacketSocket {
                    addr: self.kernel_addr,
                    sock_type: u32::from(self.sock_type),
                    protocol: self.packet_protocol,
                }))
            }
            SocketTable::Tcp | SocketTable::Tcp6 => IpProto::Tcp,
            SocketTable::Udp | SocketTable::Udp6 => IpProto::Udp,
            SocketTable::UdpLite | SocketTable::UdpLite6 => IpProto::UdpLite,
            SocketTable::Raw | SocketTable::Raw6 => IpProto::Raw,
            SocketTable::Icmp | SocketTable::Icmp6 => IpProto::Icmp,
        };
        // The raw tables print the protocol as the local port and no
        // remote port.
        let remote_port = if proto == IpProto::Raw {
            0
        } else {
            self.remote_port
        };
        Some(if i32::from(self.family) == libc::AF_INET6 {
            ip_info(
                proto,
                &self.ip_record(proto, self.local_v6, self.remote_v6, remote_port),
            )
        } else {
            ip_info(
                proto,
                &self.ip_record(proto, self.local_v4, self.remote_v4, remote_port),
            )
        })
    }

    fn ip_record<const N: usize>(
        &self,
        proto: IpProto,
        local: [u8; N],
        remote: [u8; N],
        remote_port: u16,
    ) -> IpRecord<N> {
        let (recv_queue, send_queue) = self.queues.sizes(proto, self.state);
        IpRecord {
            inode: 0,
            send_queue,
            recv_queue,
            local,
            remote,
            local_port: self.local_port,
            remote_port,
            state: self.state,
        }
    }

    fn unix(&self) -> SocketInfo {
        SocketInfo::Unix(UnixSocket {
            addr: self.kernel_addr,
            sock_type: u32::from(self.sock_type),
            state: if self.state == TCP_ESTABLISHED {
                SS_CONNECTED
            } else {
                SS_UNCONNECTED
            },
            flags: if self.state == TCP_LISTEN {
                SO_ACCEPTCON
            } else {
                0
            },
            path: unix_path(&self.unix_name),
            peer: None,
        })
    }
}

/// A bound name as `/proc/net/unix` prints it: a path without its
/// closing NUL, an abstract name with `@` for its leading NUL; any other
/// NUL shows as `@` too.
fn unix_path(name: &[u8]) -> Option<Vec<u8>> {
    let (&first, _) = name.split_first()?;
    let shown = if first == 0 {
        name
    } else {
        &name[..name.len() - 1]
    };
    Some(
        shown
            .iter()
            .map(|&b| if b == 0 { b'@' } else { b })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{IpSocket, TcpState};
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

    fn tcp4(state: u8, in_table: bool) -> RawSocket {
        RawSocket {
            family: libc::AF_INET as u16,
            sock_type: libc::SOCK_STREAM as u16,
            protocol: libc::IPPROTO_TCP as u16,
            state,
            in_table,
            local_v4: [127, 0, 0, 1],
            remote_v4: [10, 0, 0, 2],
            local_port: 8080,
            remote_port: 40000,
            ..RawSocket::default()
        }
    }

    #[test]
    fn a_connected_tcp_socket_as_its_table_says() {
        let Some(SocketInfo::Ip(ip)) = tcp4(TCP_ESTABLISHED, true).describe() else {
            panic!("described");
        };
        assert_eq!(
            ip,
            IpSocket {
                proto: IpProto::Tcp,
                v6: false,
                local: (IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1)), 8080),
                remote: Some((IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)), 40000)),
                state: Some(TcpState(1)),
                recv_queue: 0,
                send_queue: 0,
                raw_proto: None,
            }
        );
    }

    #[test]
    fn sockets_in_no_table_are_not_described() {
        assert_eq!(tcp4(7, false).describe(), None);
        let unbound_netlink = RawSocket {
            family: libc::AF_NETLINK as u16,
            in_table: true,
            ..RawSocket::default()
        };
        assert_eq!(unbound_netlink.describe(), None);
        let sctp = RawSocket {
            protocol: libc::IPPROTO_SCTP as u16,
            ..tcp4(1, true)
        };
        assert_eq!((sctp.table(), sctp.describe()), (None, None));
    }

    #[test]
    fn raw_sockets_show_their_protocol_and_no_remote_port() {
        let raw = RawSocket {
            family: libc::AF_INET6 as u16,
            sock_type: libc::SOCK_RAW as u16,
            protocol: 58,
            in_table: true,
            local_port: 58,
            remote_port: 9,
            local_v6: Ipv6Addr::LOCALHOST.octets(),
            state: 7,
            ..RawSocket::default()
        };
        assert_eq!(raw.table(), Some(SocketTable::Raw6));
        let Some(SocketInfo::Ip(ip)) = raw.describe() else {
            panic!("described");
        };
        assert_eq!((ip.raw_proto, ip.remote, ip.v6), (Some(58), None, true));
    }

    #[test]
    fn unix_names_as_proc_net_unix_prints_them() {
        assert_eq!(unix_path(b""), None);
        assert_eq!(unix_path(b"/run/a b\0"), Some(b"/run/a b".to_vec()));
        assert_eq!(unix_path(b"\0abs\0x"), Some(b"@abs@x".to_vec()));
        let listening = RawSocket {
            family: libc::AF_UNIX as u16,
            sock_type: libc::SOCK_STREAM as u16,
            state: TCP_LISTEN,
            in_table: true,
            unix_name: b"/tmp/s\0".to_vec(),
            kernel_addr: 0xabc,
            ..RawSocket::default()
        };
        assert_eq!(
            listening.describe(),
            Some(SocketInfo::Unix(UnixSocket {
                addr: 0xabc,
                sock_type: 1,
                state: SS_UNCONNECTED,
                flags: SO_ACCEPTCON,
                path: Some(b"/tmp/s".to_vec()),
                peer: None,
            }))
        );
    }
}
