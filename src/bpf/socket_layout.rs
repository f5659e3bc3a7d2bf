//! Where this kernel keeps what the socket tables print, as its BTF
//! says: the members the described-sockets program (`super::sockets`)
//! reads, each checked to be of the size the program copies and within a
//! copy's reach.

use super::btf::{Field, Found};
use super::program::kernel_btf;
use super::sockets::COMMON_ROOM;

/// The members the described-sockets program reads (with `file.f_inode`,
/// `inode.*` and `task_struct.tgid`).
pub(super) const STRUCTS: &[(&str, &[&str])] = &[
    ("socket", &["sk"]),
    (
        "sock",
        &[
            "sk_protocol",
            "sk_type",
            "sk_ack_backlog",
            "sk_backlog",
            "sk_wmem_alloc",
        ],
    ),
    (
        "tcp_sock",
        &["rcv_nxt", "copied_seq", "write_seq", "snd_una"],
    ),
    ("udp_sock", &["forward_deficit"]),
    (
        "sock_common",
        &[
            "skc_daddr",
            "skc_rcv_saddr",
            "skc_dport",
            "skc_num",
            "skc_family",
            "skc_state",
            "skc_v6_daddr",
            "skc_v6_rcv_saddr",
            "skc_node",
        ],
    ),
    ("unix_sock", &["addr"]),
    ("unix_address", &["len", "name"]),
    ("netlink_sock", &["portid", "bound"]),
    ("packet_sock", &["num"]),
];

/// Where this kernel keeps what the socket tables print.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct SocketOffsets {
    pub(super) file_private_data: Field,
    pub(super) socket_sk: Field,
    /// The lower of `sk_protocol` and `sk_type` (two adjacent u16).
    pub(super) sock_protocol_type: i16,
    pub(super) protocol_first: bool,
    pub(super) common: Common,
    /// Bytes of `struct sock_common` copied: up to the last one wanted.
    pub(super) common_len: usize,
    pub(super) unix_addr: Field,
    pub(super) unix_address_len: usize,
    pub(super) unix_address_name: usize,
    pub(super) netlink_portid: Field,
    pub(super) netlink_bound: Field,
    pub(super) packet_num: Field,
    pub(super) queues: Queues,
}

/// Where the queue sizes the tables print are computed from.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Queues {
    pub(super) ack_backlog: Field,
    /// `sk_backlog`, whose first member is `rmem_alloc` (an atomic_t).
    pub(super) rmem_alloc: Field,
    pub(super) wmem_alloc: Field,
    pub(super) tcp_rcv_nxt: Field,
    pub(super) tcp_copied_seq: Field,
    pub(super) tcp_write_seq: Field,
    pub(super) tcp_snd_una: Field,
    pub(super) udp_forward_deficit: Field,
}

/// Offsets in `struct sock_common`.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Common {
    pub(super) daddr: usize,
    pub(super) rcv_saddr: usize,
    pub(super) dport: usize,
    pub(super) num: usize,
    pub(super) family: usize,
    pub(super) state: usize,
    pub(super) v6_daddr: usize,
    pub(super) v6_rcv_saddr: usize,
    /// `skc_node`, whose `pprev` is set while the socket is in a table.
    pub(super) node: usize,
}

impl SocketOffsets {
    /// The running kernel's, read from its BTF once per run; or why they
    /// cannot be used (see [`SocketOffsets::from_btf`]).
    pub(super) fn of_running_kernel() -> Result<&'static SocketOffsets, String> {
        static FOUND: std::sync::OnceLock<Result<SocketOffsets, String>> =
            std::sync::OnceLock::new();
        FOUND
            .get_or_init(|| SocketOffsets::from_btf(kernel_btf()?))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Where `found` says the members are; an error when one is missing,
    /// not of the size the program copies, or not where a copy of fixed
    /// size reaches.
    pub(super) fn from_btf(found: &Found) -> Result<SocketOffsets, String> {
        let sized = |s, m, size| sized(found, s, m, size);
        let (common, common_len) = Common::from_btf(found)?;
        let (protocol, sock_type) = (
            sized("sock", "sk_protocol", 2)?,
            sized("sock", "sk_type", 2)?,
        );
        if protocol.offset.abs_diff(sock_type.offset) != 2 {
            return Err("sock.sk_protocol and sock.sk_type: not side by side".into());
        }
        let unix_address_len = sized("unix_address", "len", 4)?.offset as usize;
        let unix_address_name = found.field("unix_address", "name")?.offset as usize;
        if unix_address_len + 4 > 8 || unix_address_name > 8 {
            return Err("unix_address: len and name not in its first 8 bytes".into());
        }
        let backlog = found.field("sock", "sk_backlog")?;
        if backlog.size < 4 {
            return Err(format!("{backlog}: {} bytes, no rmem_alloc", backlog.size));
        }
        let lower = protocol.offset.min(sock_type.offset);
        Ok(SocketOffsets {
            file_private_data: found.field("file", "private_data")?,
            socket_sk: found.field("socket", "sk")?,
            sock_protocol_type: i16::try_from(lower).map_err(|_| "sock.sk_type: out of reach")?,
            protocol_first: protocol.offset < sock_type.offset,
            common,
            common_len,
            unix_addr: found.field("unix_sock", "addr")?,
            unix_address_len,
            unix_address_name,
            netlink_portid: found.field("netlink_sock", "portid")?,
            netlink_bound: found.field("netlink_sock", "bound")?,
            packet_num: found.field("packet_sock", "num")?,
            queues: Queues {
                ack_backlog: found.field("sock", "sk_ack_backlog")?,
                // Its first 4 bytes are read, as the atomic_t they are.
                rmem_alloc: Field { size: 4, ..backlog },
                wmem_alloc: found.field("sock", "sk_wmem_alloc")?,
                tcp_rcv_nxt: found.field("tcp_sock", "rcv_nxt")?,
                tcp_copied_seq: found.field("tcp_sock", "copied_seq")?,
                tcp_write_seq: found.field("tcp_sock", "write_seq")?,
                tcp_snd_una: found.field("tcp_sock", "snd_una")?,
                udp_forward_deficit: found.field("udp_sock", "forward_deficit")?,
            },
        })
    }
}

/// Member `m` of struct `s`, which the program copies as `size` bytes: an
/// error when this kernel's member has another size.
fn sized(found: &Found, s: &'static str, m: &'static str, size: u32) -> Result<Field, String> {
    let field = found.field(s, m)?;
    if field.size != size {
        return Err(format!(
            "{field}: {} bytes in this kernel, the program copies {size}",
            field.size
        ));
    }
    Ok(field)
}

impl Common {
    /// The members of `struct sock_common` the program reads, and how many
    /// of its first bytes it copies to reach them all.
    fn from_btf(found: &Found) -> Result<(Common, usize), String> {
        let in_common = |m: &'static str, size: u32| -> Result<usize, String> {
            let field = sized(found, "sock_common", m, size)?;
            let end = field.offset as usize + size as usize;
            if end > COMMON_ROOM {
                return Err(format!("{field}: beyond the {COMMON_ROOM} bytes copied"));
            }
            Ok(field.offset as usize)
        };
        let common = Common {
            daddr: in_common("skc_daddr", 4)?,
            rcv_saddr: in_common("skc_rcv_saddr", 4)?,
            dport: in_common("skc_dport", 2)?,
            num: in_common("skc_num", 2)?,
            family: in_common("skc_family", 2)?,
            state: in_common("skc_state", 1)?,
            v6_daddr: in_common("skc_v6_daddr", 16)?,
            v6_rcv_saddr: in_common("skc_v6_rcv_saddr", 16)?,
            node: in_common("skc_node", 16)?,
        };
        let len = [
            common.daddr + 4,
            common.rcv_saddr + 4,
            common.dport + 2,
            common.num + 2,
            common.family + 2,
            common.state + 1,
            common.v6_daddr + 16,
            common.v6_rcv_saddr + 16,
            common.node + 16,
        ]
        .into_iter()
        .max()
        .unwrap_or(COMMON_ROOM);
        Ok((common, len))
    }
}
