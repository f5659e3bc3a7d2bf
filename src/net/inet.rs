//! Parsers for the IP socket tables: `/proc/net/{tcp,udp,udplite,raw,icmp}`
//! and their `6` twins, which all share one line layout:
//!
//! ```text
//!   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ...
//!    0: 0100007F:0035 00000000:0000 0A 00000000:00000000 00:00000000 00000000   101        0 18541 ...
//! ```
//!
//! Addresses are the kernel's 32-bit words printed `%08X` in host byte
//! order (four of them for IPv6), ports `%04X`. As lsof does, the send queue
//! is `tx_queue` and the receive queue `rx_queue`; the state byte is kept for
//! every protocol (UDP's is 1 when connected, 7 otherwise) though lsof prints
//! it only as a TCP state, or as `st=XX` for raw sockets.

use super::store::IpRecord;

/// One line of an IP table (`N` = 4 for the plain files, 16 for the `...6`
/// ones); None for the header and damaged lines.
pub(crate) fn parse_ip_line<const N: usize>(line: &[u8]) -> Option<IpRecord<N>> {
    let mut fields = line
        .split(|b| b.is_ascii_whitespace())
        .filter(|field| !field.is_empty());
    let slot = fields.next()?;
    if slot.last() != Some(&b':') {
        return None;
    }
    let (local, local_port) = parse_endpoint::<N>(fields.next()?)?;
    let (remote, remote_port) = parse_endpoint::<N>(fields.next()?)?;
    let state = u8::try_from(hex_u64(fields.next()?)?).ok()?;
    let (tx_queue, rx_queue) = split_pair(fields.next()?)?;
    let send_queue = queue(hex_u64(tx_queue)?);
    let recv_queue = queue(hex_u64(rx_queue)?);
    // tr:tm->when, retrnsmt, uid, timeout
    for _ in 0..4 {
        fields.next()?;
    }
    let inode = dec_u64(fields.next()?)?;
    Some(IpRecord {
        inode,
        send_queue,
        recv_queue,
        local,
        remote,
        local_port,
        remote_port,
        state,
    })
}

/// The kernel prints queue sizes from 32-bit counters (`%08X`).
fn queue(value: u64) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

/// `ADDR:PORT` in the kernel's hex form: the address is N/4 words printed
/// `%08X` in host byte order.
fn parse_endpoint<const N: usize>(field: &[u8]) -> Option<([u8; N], u16)> {
    let (addr, port) = split_pair(field)?;
    let port = u16::try_from(hex_u64(port)?).ok()?;
    if addr.len() != 2 * N {
        return None;
    }
    let mut bytes = [0u8; N];
    for (chunk, out) in addr.chunks(8).zip(bytes.chunks_mut(4)) {
        let word = u32::try_from(hex_u64(chunk)?).ok()?;
        out.copy_from_slice(&word.to_ne_bytes());
    }
    Some((bytes, port))
}

fn split_pair(field: &[u8]) -> Option<(&[u8], &[u8])> {
    let colon = field.iter().position(|&b| b == b':')?;
    Some((&field[..colon], &field[colon + 1..]))
}

pub(crate) fn hex_u64(text: &[u8]) -> Option<u64> {
    if text.is_empty() || text.len() > 16 {
        return None;
    }
    text.iter().try_fold(0u64, |value, &b| {
        let digit = char::from(b).to_digit(16)?;
        Some(value << 4 | u64::from(digit))
    })
}

pub(crate) fn dec_u64(text: &[u8]) -> Option<u64> {
    if text.is_empty() {
        return None;
    }
    text.iter().try_fold(0u64, |value, &b| {
        let digit = char::from(b).to_digit(10)?;
        value.checked_mul(10)?.checked_add(u64::from(digit))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{IpProto, IpSocket};
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

    /// (What print::name_column writes for raw sockets, kept here to check
    /// the parsed fields against the kernel's text.)
    /// The kernel's own text for an address and port (`0100007F:0035`), which
    /// lsof prints verbatim in the NAME of raw and ICMP sockets.
    fn kernel_hex(ip: IpAddr, port: u16) -> String {
        match ip {
            IpAddr::V4(v4) => format!("{:08X}:{port:04X}", u32::from_ne_bytes(v4.octets())),
            IpAddr::V6(v6) => {
                let mut text = String::with_capacity(37);
                for word in v6.octets().chunks(4) {
                    let word = u32::from_ne_bytes([word[0], word[1], word[2], word[3]]);
                    text.push_str(&format!("{word:08X}"));
                }
                text.push_str(&format!(":{port:04X}"));
                text
            }
        }
    }

    /// The NAME lsof prints for a raw (`LOCAL->REMOTE st=XX`) or ICMP
    /// (`LOCAL->REMOTE`) socket: the table's text, not host names.
    fn lsof_raw_name(socket: &IpSocket) -> String {
        let unspecified = if socket.v6 {
            IpAddr::V6(Ipv6Addr::UNSPECIFIED)
        } else {
            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        };
        let (remote_ip, remote_port) = socket.remote.unwrap_or((unspecified, 0));
        let mut name = format!(
            "{}->{}",
            kernel_hex(socket.local.0, socket.local.1),
            kernel_hex(remote_ip, remote_port)
        );
        if socket.proto == IpProto::Raw {
            if let Some(state) = socket.state {
                name.push_str(&format!(" st={:02X}", state.0));
            }
        }
        name
    }
    use crate::model::{SocketInfo, TcpState};
    use crate::net::SocketTable;

    fn parse_ip_table(text: &[u8], proto: IpProto, v6: bool) -> crate::net::store::Table {
        let table = match (proto, v6) {
            (IpProto::Tcp, false) => SocketTable::Tcp,
            (IpProto::Tcp, true) => SocketTable::Tcp6,
            (IpProto::Udp, false) => SocketTable::Udp,
            (IpProto::Udp, true) => SocketTable::Udp6,
            (IpProto::Raw, false) => SocketTable::Raw,
            (IpProto::Raw, true) => SocketTable::Raw6,
            (IpProto::Icmp, _) => SocketTable::Icmp,
            (IpProto::UdpLite, _) => SocketTable::UdpLite,
        };
        table.parse(text)
    }

    const TCP: &[u8] = b"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:A157 00000000:0000 0A 00000002:00000080 00:00000000 00000000     0        0 12762 1 000000004c9a91d4 100 0 0 10 0
   1: 0100007F:DF7E 0100007F:A157 01 00000000:00000000 00:00000000 00000000     0        0 12763 1 000000000e5dff77 20 4 30 10 -1
   2: 0100007F:DF7F 0100007F:A157 06 00000000:00000000 03:00001234 00000000     0        0 0 3 0000000000000000
   3: garbage line
   4: 0100007F:ZZZZ 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 777 1
   5: 0100007F:0016 00000000:0000 0A 00000000:00000000 00:00000000
";

    #[test]
    fn tcp_listen_and_established() {
        let table = parse_ip_table(TCP, IpProto::Tcp, false);
        assert_eq!(table.len(), 2, "{table:?}");
        let Some(SocketInfo::Ip(listen)) = table.get(12762) else {
            panic!("missing 12762");
        };
        assert_eq!(listen.local, ("127.0.0.1".parse().unwrap(), 41303));
        assert_eq!(listen.remote, None);
        assert_eq!(listen.state, Some(TcpState(10)));
        assert_eq!((listen.send_queue, listen.recv_queue), (2, 0x80));
        assert_eq!(listen.raw_proto, None);
        let Some(SocketInfo::Ip(est)) = table.get(12763) else {
            panic!("missing 12763");
        };
        assert_eq!(est.remote, Some(("127.0.0.1".parse().unwrap(), 41303)));
        assert_eq!(est.state, Some(TcpState(1)));
    }

    #[test]
    fn ipv6_and_mapped_addresses() {
        let text = b"  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
 5298: 00000000000000000000000000000000:C296 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 12771 2 00000000ec8dde15 0
 6404: 0000000000000000FFFF00000100007F:86E8 0000000000000000FFFF00000100007F:0050 01 00000000:00000000 00:00000000 00000000     0        0 12772 2 000000007cf4517c 0
    0: 00000000000000000000000001000000:E039 00000000000000000000000000000000:0000 0A 00000000:00000001 00:00000000 00000000     0        0 12766 2 00000000b6ccdf5d 100 0 0 10 0
    1: 000000000000000000000000010000:E039 00000000000000000000000000000000:0000 0A 00000000:00000001 00:00000000 00000000     0        0 999 2
";
        let table = parse_ip_table(text, IpProto::Udp, true);
        assert_eq!(table.len(), 3);
        let Some(SocketInfo::Ip(mapped)) = table.get(12772) else {
            panic!("missing mapped");
        };
        assert!(mapped.v6);
        assert_eq!(mapped.local, ("::ffff:127.0.0.1".parse().unwrap(), 34536));
        assert_eq!(
            mapped.remote,
            Some(("::ffff:127.0.0.1".parse().unwrap(), 80))
        );
        let Some(SocketInfo::Ip(lo)) = table.get(12766) else {
            panic!("missing ::1");
        };
        assert_eq!(lo.local, ("::1".parse().unwrap(), 57401));
        let Some(SocketInfo::Ip(any)) = table.get(12771) else {
            panic!("missing wildcard");
        };
        assert_eq!(any.local, ("::".parse().unwrap(), 49814));
        assert_eq!(any.state, Some(TcpState(7)));
    }

    #[test]
    fn raw_and_icmp_names_are_the_kernel_text() {
        let raw = b"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  88: 00000000:0001 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 12779 2 000000006209950e 0
";
        let table = parse_ip_table(raw, IpProto::Raw, false);
        let Some(SocketInfo::Ip(socket)) = table.get(12779) else {
            panic!("missing raw");
        };
        assert_eq!(socket.raw_proto, Some(1));
        assert_eq!(lsof_raw_name(&socket), "00000000:0001->00000000:0000 st=07");

        let raw6 = b"  200: 00000000000000000000000000000000:003A 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 12780 2 000000009fd73647 0\n";
        let table = parse_ip_table(raw6, IpProto::Raw, true);
        let Some(SocketInfo::Ip(socket)) = table.get(12780) else {
            panic!("missing raw6");
        };
        assert_eq!(
            lsof_raw_name(&socket),
            "00000000000000000000000000000000:003A->00000000000000000000000000000000:0000 st=07"
        );

        let icmp = b"   14: 0100007F:8072 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 15927 2 00000000ed2070f8 0\n";
        let table = parse_ip_table(icmp, IpProto::Icmp, false);
        let Some(SocketInfo::Ip(socket)) = table.get(15927) else {
            panic!("missing icmp");
        };
        assert_eq!(lsof_raw_name(&socket), "0100007F:8072->00000000:0000");
    }

    #[test]
    fn kernel_hex_round_trips_ipv6() {
        let ip: IpAddr = "fe80::1234:5678".parse().unwrap();
        let text = kernel_hex(ip, 0x1f90);
        let (addr, port) = parse_endpoint::<16>(text.as_bytes()).unwrap();
        assert_eq!((IpAddr::V6(Ipv6Addr::from(addr)), port), (ip, 0x1f90));
    }

    #[test]
    fn garbage_does_not_panic() {
        for text in [
            &b""[..],
            b"\n\n\n",
            b"0:",
            b"0: 1:2 3:4",
            b"0: 0100007F:0035 00000000:0000 FFF 0:0 0:0 0 0 0 1",
            b"0: 0100007F:0035 00000000:0000 01 0:0 0:0 0 0 0 -1",
            b"\xff\xfe: \x00\x01",
        ] {
            assert!(parse_ip_table(text, IpProto::Tcp, false).is_empty());
            assert!(parse_ip_table(text, IpProto::Tcp, true).is_empty());
        }
    }
}
