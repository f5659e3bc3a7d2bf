//! Parsers for `/proc/net/netlink` and `/proc/net/packet`.
//!
//! ```text
//! sk               Eth Pid        Groups   Rmem     Wmem     Dump  Locks    Drops    Inode
//! 00000000243905fb 0   0          00000000 0        0        0     2        0        4
//!
//! sk               RefCnt Type Proto  Iface R Rmem   User   Inode
//! 000000006a3d35bb 3      3    0003   0     1 22960  0      12777
//! ```
//!
//! As in lsof: netlink's protocol is the decimal `Eth` column; a packet
//! socket's type is decimal and its protocol hex (host byte order).

use super::inet::{dec_u64, hex_u64};
use super::store::{NetlinkRecord, PacketRecord};

/// One line of `/proc/net/netlink`; None for the header, damaged lines and
/// sockets without an inode.
pub(crate) fn parse_netlink_line(line: &[u8]) -> Option<NetlinkRecord> {
    let mut fields = fields(line);
    let addr = hex_u64(fields.next()?)?;
    let protocol = u32::try_from(dec_u64(fields.next()?)?).ok()?;
    let inode = dec_u64(fields.nth(7)?)?;
    (inode != 0).then_some(NetlinkRecord {
        inode,
        addr,
        protocol,
    })
}

/// One line of `/proc/net/packet`, as [`parse_netlink_line`].
pub(crate) fn parse_packet_line(line: &[u8]) -> Option<PacketRecord> {
    let mut fields = fields(line);
    let addr = hex_u64(fields.next()?)?;
    let sock_type = u32::try_from(dec_u64(fields.nth(1)?)?).ok()?;
    let protocol = u16::try_from(hex_u64(fields.next()?)?).ok()?;
    let inode = dec_u64(fields.nth(4)?)?;
    (inode != 0).then_some(PacketRecord {
        inode,
        addr,
        sock_type,
        protocol,
    })
}

fn fields(line: &[u8]) -> impl Iterator<Item = &[u8]> {
    line.split(|b| b.is_ascii_whitespace())
        .filter(|field| !field.is_empty())
}

#[cfg(test)]
mod tests {
    use crate::model::{NetlinkSocket, PacketSocket, SocketInfo};
    use crate::net::SocketTable;

    fn parse_netlink_table(text: &[u8]) -> crate::net::store::Table {
        SocketTable::Netlink.parse(text)
    }

    fn parse_packet_table(text: &[u8]) -> crate::net::store::Table {
        SocketTable::Packet.parse(text)
    }

    #[test]
    fn netlink_rows() {
        let text = b"sk               Eth Pid        Groups   Rmem     Wmem     Dump  Locks    Drops    Inode
00000000243905fb 0   0          00000000 0        0        0     2        0        4
0000000078938e57 6   0          00000000 0        0        0     2        0        1432
0000000078938e58 x   0          00000000 0        0        0     2        0        1433
0000000078938e59 16  0          00000000 0        0        0     2        0
";
        let table = parse_netlink_table(text);
        assert_eq!(table.len(), 2);
        assert_eq!(
            table.get(1432),
            Some(SocketInfo::Netlink(NetlinkSocket {
                addr: 0x78938e57,
                protocol: 6
            }))
        );
    }

    #[test]
    fn packet_rows() {
        let text = b"sk               RefCnt Type Proto  Iface R Rmem   User   Inode
000000006a3d35bb 3      3    0003   0     1 22960  0      12777
000000002e44abc6 3      2    0800   0     1 17136  0      12778
000000002e44abc7 3      2    08000000 0     1 17136  0      12779
000000002e44abc8 3      2    0800
";
        let table = parse_packet_table(text);
        assert_eq!(table.len(), 2);
        assert_eq!(
            table.get(12778),
            Some(SocketInfo::Packet(PacketSocket {
                addr: 0x2e44abc6,
                sock_type: 2,
                protocol: 0x0800
            }))
        );
        assert!(matches!(
            table.get(12777),
            Some(SocketInfo::Packet(PacketSocket {
                sock_type: 3,
                protocol: 3,
                ..
            }))
        ));
    }

    #[test]
    fn garbage_does_not_panic() {
        for text in [&b""[..], b"\n \n", b"\xff \xff", b"1 2 3 4 5 6 7 8 9 10 11"] {
            let _ = parse_netlink_table(text);
            let _ = parse_packet_table(text);
        }
    }
}
