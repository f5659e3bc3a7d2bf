//! Each socket of a process described by the kernel's own structures,
//! with what `/proc/net/*` would print of it, read when the process is
//! scanned: a listing then holds one process's sockets at a time, never a
//! table of the machine's (the tables are in socket order, the listing in
//! process order, and joining the two without holding one costs a reading
//! of every table per batch of processes).
//!
//! The program copies raw bytes (the start of `struct sock_common`, the
//! socket's type and protocol, and per family the UNIX name, the netlink
//! port and bound flag, the packet protocol) at the offsets this kernel's
//! BTF gives; [`crate::net::kernel`] turns them into what the tables
//! would say. A UNIX, netlink or packet socket's record is followed by
//! its address printed by the kernel's `%pK`, as those tables print it
//! (a hashed value unless `kptr_restrict` says otherwise), ended by a
//! newline.

use super::btf::{find, Wanted};
use super::program::*;
use crate::net::kernel::{RawQueues, RawSocket};

/// Bytes of a record before any `%pK` text: see [`instructions`].
const RECORD: usize = 304;
const AT_PROTOCOL: usize = 16;
const AT_COMMON: usize = 24;
/// Room for the start of `struct sock_common`.
const COMMON_ROOM: usize = 160;
const AT_TAIL: usize = AT_COMMON + COMMON_ROOM;
/// The largest `struct unix_address`: 8 bytes of header, a sockaddr_un.
const UNIX_ADDRESS_ROOM: usize = 8 + 110;
/// Stack slots below the record: the socket pointer, the format, the
/// UNIX address pointer.
const SLOT_SK: i16 = -(RECORD as i16) - 8;
const SLOT_FORMAT: i16 = -(RECORD as i16) - 16;
const SLOT_ADDRESS: i16 = -(RECORD as i16) - 24;

const AF_UNIX: i32 = libc::AF_UNIX;
const AF_INET: i32 = libc::AF_INET;
const AF_INET6: i32 = libc::AF_INET6;
const AF_NETLINK: i32 = libc::AF_NETLINK;
const AF_PACKET: i32 = libc::AF_PACKET;

/// Where this kernel keeps what the socket tables print.
#[derive(Debug, PartialEq, Eq)]
pub struct SocketOffsets {
    file_private_data: i16,
    socket_sk: i16,
    /// The lower of `sk_protocol` and `sk_type` (two adjacent u16).
    sock_protocol_type: i16,
    protocol_first: bool,
    common: Common,
    /// Bytes of `struct sock_common` copied: up to the last one wanted.
    common_len: usize,
    unix_addr: i16,
    unix_address_len: usize,
    unix_address_name: usize,
    netlink_portid: i16,
    netlink_bound: i16,
    packet_num: i16,
    queues: Queues,
}

/// Where the queue sizes the tables print are computed from.
#[derive(Debug, PartialEq, Eq)]
struct Queues {
    ack_backlog: i16,
    /// `sk_backlog`, whose first member is `rmem_alloc`.
    rmem_alloc: i16,
    wmem_alloc: i16,
    tcp_rcv_nxt: i16,
    tcp_copied_seq: i16,
    tcp_write_seq: i16,
    tcp_snd_una: i16,
    udp_forward_deficit: i16,
}

/// Offsets in `struct sock_common`.
#[derive(Debug, PartialEq, Eq)]
struct Common {
    daddr: usize,
    rcv_saddr: usize,
    dport: usize,
    num: usize,
    family: usize,
    state: usize,
    v6_daddr: usize,
    v6_rcv_saddr: usize,
    /// `skc_node`, whose `pprev` is set while the socket is in a table.
    node: usize,
}

impl SocketOffsets {
    /// The running kernel's, read from its BTF once per run; None when a
    /// member is missing or not where a copy of fixed size reaches.
    pub fn of_running_kernel() -> Option<&'static SocketOffsets> {
        static FOUND: std::sync::OnceLock<Option<SocketOffsets>> = std::sync::OnceLock::new();
        FOUND.get_or_init(SocketOffsets::read).as_ref()
    }

    fn read() -> Option<SocketOffsets> {
        let vmlinux = std::fs::File::open(super::btf::VMLINUX).ok()?;
        let wanted = Wanted {
            structs: &[
                ("file", &["private_data"]),
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
            ],
            funcs: &[],
        };
        let found = find(&vmlinux, &wanted)?;
        let at = |s: &str, m: &str| found.offset(s, m).map(|o| o as usize);
        let small = |s: &str, m: &str| i16::try_from(found.offset(s, m)?).ok();
        let common = Common {
            daddr: at("sock_common", "skc_daddr")?,
            rcv_saddr: at("sock_common", "skc_rcv_saddr")?,
            dport: at("sock_common", "skc_dport")?,
            num: at("sock_common", "skc_num")?,
            family: at("sock_common", "skc_family")?,
            state: at("sock_common", "skc_state")?,
            v6_daddr: at("sock_common", "skc_v6_daddr")?,
            v6_rcv_saddr: at("sock_common", "skc_v6_rcv_saddr")?,
            node: at("sock_common", "skc_node")?,
        };
        let common_len = [
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
        .max()?;
        let (protocol, sock_type) = (small("sock", "sk_protocol")?, small("sock", "sk_type")?);
        let unix_address_len = at("unix_address", "len")?;
        let unix_address_name = at("unix_address", "name")?;
        let fits = common_len <= COMMON_ROOM
            && protocol.abs_diff(sock_type) == 2
            && unix_address_len + 4 <= 8
            && unix_address_name <= 8;
        fits.then_some(SocketOffsets {
            file_private_data: small("file", "private_data")?,
            socket_sk: small("socket", "sk")?,
            sock_protocol_type: protocol.min(sock_type),
            protocol_first: protocol < sock_type,
            common,
            common_len,
            unix_addr: small("unix_sock", "addr")?,
            unix_address_len,
            unix_address_name,
            netlink_portid: small("netlink_sock", "portid")?,
            netlink_bound: small("netlink_sock", "bound")?,
            packet_num: small("packet_sock", "num")?,
            queues: Queues {
                ack_backlog: small("sock", "sk_ack_backlog")?,
                rmem_alloc: small("sock", "sk_backlog")?,
                wmem_alloc: small("sock", "sk_wmem_alloc")?,
                tcp_rcv_nxt: small("tcp_sock", "rcv_nxt")?,
                tcp_copied_seq: small("tcp_sock", "copied_seq")?,
                tcp_write_seq: small("tcp_sock", "write_seq")?,
                tcp_snd_una: small("tcp_sock", "snd_una")?,
                udp_forward_deficit: small("udp_sock", "forward_deficit")?,
            },
        })
    }
}

const R: i16 = RECORD as i16;

/// `bpf_probe_read_kernel(stack[to..], len, r3 + from)` with the source
/// pointer already in r3.
fn read_kernel(to: i16, len: i32, from: i16) -> Vec<[u8; 8]> {
    vec![
        insn(ADD64_K, 3, 0, 0, i32::from(from)),
        insn(MOV64_X, 1, 10, 0, 0),
        insn(ADD64_K, 1, 0, 0, i32::from(to)),
        insn(MOV64_K, 2, 0, 0, len),
        insn(CALL, 0, 0, 0, BPF_FUNC_PROBE_READ_KERNEL),
    ]
}

/// The same from the socket (`struct sock *` in r9).
fn read_sock(to: i16, len: i32, from: i16) -> Vec<[u8; 8]> {
    let mut code = vec![insn(MOV64_X, 3, 9, 0, 0)];
    code.extend(read_kernel(to, len, from));
    code
}

/// Runs the first block whose value `reg` holds, then goes on after the
/// last block.
fn switch(reg: u8, cases: Vec<(i32, Vec<[u8; 8]>)>) -> Vec<[u8; 8]> {
    let lens: Vec<usize> = cases.iter().map(|(_, b)| b.len() + 2).collect();
    let mut code = Vec::new();
    for (n, (value, block)) in cases.into_iter().enumerate() {
        let rest: usize = lens[n + 1..].iter().sum();
        code.push(insn(JNE_K, reg, 0, (block.len() + 1) as i16, value));
        code.extend(block);
        // A jump of 0 would return: skip nothing with a no-op move.
        code.push(match rest {
            0 => insn(MOV64_X, 0, 0, 0, 0),
            _ => insn(JA, 0, 0, rest as i16, 0),
        });
    }
    code
}

/// An IP socket's queue figures, to the tail: `sk_ack_backlog`,
/// `rmem_alloc`, `sk_wmem_alloc` (u32 each); for a TCP socket `rcv_nxt`,
/// `copied_seq`, `write_seq`, `snd_una`; for UDP and UDP-Lite
/// `forward_deficit`.
fn inet_queues(s: &SocketOffsets, tail: i16) -> Vec<[u8; 8]> {
    let q = &s.queues;
    let (protocol_at, type_at) = protocol_and_type_at(s);
    let mut code = read_sock(tail, 4, q.ack_backlog);
    code.extend(read_sock(tail + 4, 4, q.rmem_alloc));
    code.extend(read_sock(tail + 8, 4, q.wmem_alloc));
    let mut tcp = Vec::new();
    for (n, at) in [
        q.tcp_rcv_nxt,
        q.tcp_copied_seq,
        q.tcp_write_seq,
        q.tcp_snd_una,
    ]
    .into_iter()
    .enumerate()
    {
        tcp.extend(read_sock(tail + 12 + 4 * n as i16, 4, at));
    }
    let udp = read_sock(tail + 28, 4, q.udp_forward_deficit);
    code.extend([
        insn(LDX_H, 2, 10, -R + type_at as i16, 0), // r2 = sk_type
        insn(JNE_K, 2, 0, tcp.len() as i16 + 1, libc::SOCK_STREAM),
    ]);
    code.extend(tcp);
    code.extend([
        insn(JA, 0, 0, udp.len() as i16 + 3, 0),
        insn(LDX_H, 2, 10, -R + protocol_at as i16, 0), // r2 = sk_protocol
        insn(JEQ_K, 2, 0, 1, libc::IPPROTO_UDP),
        insn(JNE_K, 2, 0, udp.len() as i16, libc::IPPROTO_UDPLITE),
    ]);
    code.extend(udp);
    code
}

/// Where `sk_protocol` and `sk_type` are in a record.
fn protocol_and_type_at(s: &SocketOffsets) -> (usize, usize) {
    if s.protocol_first {
        (AT_PROTOCOL, AT_PROTOCOL + 2)
    } else {
        (AT_PROTOCOL + 2, AT_PROTOCOL)
    }
}

/// The record, RECORD bytes below the stack top: tgid (u32), fd (u32),
/// inode (u64); at AT_PROTOCOL the 4 bytes holding `sk_protocol` and
/// `sk_type`; at AT_COMMON the start of `struct sock_common`; at AT_TAIL,
/// by family: an IP socket's queue figures (see `inet_queues`), or the
/// `struct unix_address` (its length first, then that many bytes), or the
/// netlink port id (u32) and bound flag (u8), or the packet protocol
/// (big-endian u16). A UNIX, netlink or packet socket's
/// record is followed by its address as `%pK` prints it, and a newline.
pub(super) fn instructions(o: &Offsets, s: &SocketOffsets) -> Vec<[u8; 8]> {
    let family_at = -R + (AT_COMMON + s.common.family) as i16;
    let tail = -R + AT_TAIL as i16;
    let mut body = vec![
        insn(LDX_H, 2, 1, o.inode_mode, 0),          // r2 = inode->i_mode
        insn(AND64_K, 2, 0, 0, libc::S_IFMT as i32), // r2 &= S_IFMT
        insn(JNE_K, 2, 0, 0, libc::S_IFSOCK as i32), // not a socket: out
    ];
    // The verifier wants every byte written out initialised.
    body.extend((0..RECORD / 8).map(|k| insn(ST_DW, 10, 0, -R + 8 * k as i16, 0)));
    body.extend([
        insn(LDX_DW, 3, 1, o.inode_ino, 0),         // r3 = inode->i_ino
        insn(STX_DW, 10, 3, -R + 8, 0),             // record[8] = ino
        insn(LDX_W, 4, 8, o.task_tgid, 0),          // r4 = task->tgid
        insn(STX_W, 10, 4, -R, 0),                  // record[0] = tgid
        insn(LDX_W, 5, 6, CTX_FD, 0),               // r5 = ctx->fd
        insn(STX_W, 10, 5, -R + 4, 0),              // record[4] = fd
        insn(LDX_DW, 3, 7, s.file_private_data, 0), // r3 = file->private_data
        insn(JEQ_K, 3, 0, 0, 0),                    // no socket: out
    ]);
    body.extend(read_kernel(SLOT_SK, 8, s.socket_sk)); // slot = socket->sk
    body.extend([
        insn(LDX_DW, 9, 10, SLOT_SK, 0), // r9 = sk
        insn(JEQ_K, 9, 0, 0, 0),         // no sock: out
    ]);
    body.extend(read_sock(-R + AT_COMMON as i16, s.common_len as i32, 0));
    body.extend(read_sock(-R + AT_PROTOCOL as i16, 4, s.sock_protocol_type));
    let mut unix = read_sock(SLOT_ADDRESS, 8, s.unix_addr);
    let len_at = tail + s.unix_address_len as i16;
    let read_rest = vec![
        insn(MOV64_X, 1, 10, 0, 0),
        insn(ADD64_K, 1, 0, 0, i32::from(tail)),
        insn(CALL, 0, 0, 0, BPF_FUNC_PROBE_READ_KERNEL),
    ];
    unix.extend([
        insn(LDX_DW, 3, 10, SLOT_ADDRESS, 0), // r3 = u->addr
        insn(JEQ_K, 3, 0, 12, 0),             // unnamed: skip the rest
    ]);
    unix.extend(read_kernel(tail, 8, 0)); // its header (5 instructions)
    unix.extend([
        insn(LDX_W, 2, 10, len_at, 0),        // r2 = addr->len
        insn(JGT_K, 2, 0, 5, 110),            // longer than a sockaddr_un: skip
        insn(ADD64_K, 2, 0, 0, 8),            // r2 = header and name
        insn(LDX_DW, 3, 10, SLOT_ADDRESS, 0), // r3 = u->addr
    ]);
    unix.extend(read_rest);
    let mut netlink = read_sock(tail, 4, s.netlink_portid);
    netlink.extend(read_sock(tail + 4, 1, s.netlink_bound));
    let packet = read_sock(tail, 2, s.packet_num);
    let inet = inet_queues(s, tail);
    body.push(insn(LDX_H, 2, 10, family_at, 0)); // r2 = family
    body.extend(switch(
        2,
        vec![
            (AF_INET, inet.clone()),
            (AF_INET6, inet),
            (AF_UNIX, unix),
            (AF_NETLINK, netlink),
            (AF_PACKET, packet),
        ],
    ));
    let format = i32::from_le_bytes(*b"%pK\n");
    let after = vec![
        insn(LDX_H, 2, 10, family_at, 0), // r2 = family
        insn(JEQ_K, 2, 0, 0, AF_INET),    // IP sockets: no address text
        insn(JEQ_K, 2, 0, 0, AF_INET6),
        insn(ST_W, 10, 0, SLOT_FORMAT, format), // "%pK\n"
        insn(ST_W, 10, 0, SLOT_FORMAT + 4, 0),  // and its NUL
        insn(LDX_DW, 1, 6, CTX_META, 0),        // r1 = ctx->meta
        insn(LDX_DW, 1, 1, 0, 0),               // r1 = meta->seq
        insn(MOV64_X, 2, 10, 0, 0),
        insn(ADD64_K, 2, 0, 0, i32::from(SLOT_FORMAT)), // r2 = the format
        insn(MOV64_K, 3, 0, 0, 8),
        insn(MOV64_X, 4, 10, 0, 0),
        insn(ADD64_K, 4, 0, 0, i32::from(SLOT_SK)), // r4 = &sk
        insn(MOV64_K, 5, 0, 0, 8),
        insn(CALL, 0, 0, 0, BPF_FUNC_SEQ_PRINTF),
    ];
    for_each_file(o, body, RECORD, after)
}

/// One socket file of a process, as the program reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescribedSocket {
    pub fd: u32,
    pub inode: u64,
    pub raw: RawSocket,
}

/// The records of `bytes`, all found under tgid `pid`; None when they do
/// not parse as such (a record cut short, an address that is not hex
/// digits): the caller then reads the tables rather than trust them.
fn records(s: &SocketOffsets, pid: u32, mut bytes: &[u8]) -> Option<Vec<DescribedSocket>> {
    let mut sockets = Vec::new();
    while !bytes.is_empty() {
        let record = bytes.get(..RECORD)?;
        bytes = &bytes[RECORD..];
        if word(record, 0) != pid {
            return None;
        }
        let mut socket = decode(s, record);
        if !matches!(i32::from(socket.raw.family), AF_INET | AF_INET6) {
            let end = bytes.iter().take(ADDRESS_TEXT).position(|&b| b == b'\n')?;
            socket.raw.kernel_addr = parse_hex(&bytes[..end])?;
            bytes = &bytes[end + 1..];
        }
        sockets.push(socket);
    }
    Some(sockets)
}

/// `%pK` prints 16 hex digits on a 64-bit kernel; a newline follows.
const ADDRESS_TEXT: usize = 2 * std::mem::size_of::<u64>() + 1;

fn parse_hex(text: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(text).ok()?;
    u64::from_str_radix(text, 16).ok()
}

/// `N` bytes of `from` at `at` (a record's parts are sized to hold them).
fn array<const N: usize>(from: &[u8], at: usize) -> [u8; N] {
    from[at..at + N].try_into().unwrap_or([0; N])
}

fn decode(s: &SocketOffsets, r: &[u8]) -> DescribedSocket {
    let common = &r[AT_COMMON..AT_COMMON + COMMON_ROOM];
    let c = &s.common;
    let u16_at = |from: &[u8], at: usize| u16::from_ne_bytes([from[at], from[at + 1]]);
    let (protocol_at, type_at) = protocol_and_type_at(s);
    let tail = &r[AT_TAIL..AT_TAIL + UNIX_ADDRESS_ROOM];
    let name_len = (word(tail, s.unix_address_len) as usize).min(110);
    let name = &tail[s.unix_address_name..s.unix_address_name + name_len];
    DescribedSocket {
        fd: word(r, 4),
        inode: long(r, 8),
        raw: RawSocket {
            family: u16_at(common, c.family),
            sock_type: u16_at(r, type_at),
            protocol: u16_at(r, protocol_at),
            state: common[c.state],
            in_table: long(common, c.node + 8) != 0,
            local_v4: array(common, c.rcv_saddr),
            remote_v4: array(common, c.daddr),
            local_v6: array(common, c.v6_rcv_saddr),
            remote_v6: array(common, c.v6_daddr),
            local_port: u16_at(common, c.num),
            remote_port: u16::from_be(u16_at(common, c.dport)),
            // sockaddr_un: the family (2 bytes), then sun_path.
            unix_name: name.get(2..).map(<[u8]>::to_vec).unwrap_or_default(),
            netlink_port: word(tail, 0),
            netlink_bound: tail[4] != 0,
            packet_protocol: u16::from_be(u16_at(tail, 0)),
            queues: RawQueues {
                ack_backlog: word(tail, 0),
                rmem_alloc: word(tail, 4),
                wmem_alloc: word(tail, 8),
                tcp_rcv_nxt: word(tail, 12),
                tcp_copied_seq: word(tail, 16),
                tcp_write_seq: word(tail, 20),
                tcp_snd_una: word(tail, 24),
                udp_forward_deficit: word(tail, 28),
            },
            kernel_addr: 0,
        },
    }
}

/// The described-sockets program, loaded and checked.
pub struct SocketsProgram {
    program: Program,
    offsets: &'static SocketOffsets,
}

impl SocketsProgram {
    /// None when the kernel cannot run it (see `crate::bpf`), or when it
    /// does not describe a listening TCP socket and a bound UNIX socket
    /// of ours as they are.
    pub fn load() -> Option<SocketsProgram> {
        let offsets = SocketOffsets::of_running_kernel()?;
        let program = Program::load(Offsets::of_running_kernel()?, Reports::Described(offsets))?;
        let program = SocketsProgram { program, offsets };
        let listener = std::net::TcpListener::bind("127.0.0.1:0").ok()?;
        let port = listener.local_addr().ok()?.port();
        let name = format!("rlsof-probe-{}", std::process::id());
        let address =
            <std::os::unix::net::SocketAddr as std::os::linux::net::SocketAddrExt>::from_abstract_name(name.as_bytes()).ok()?;
        let unix = std::os::unix::net::UnixDatagram::bind_addr(&address).ok()?;
        let mine = program.sockets_of(std::process::id() as i32)?;
        let described = |fd: i32| {
            let socket = mine.iter().find(|s| s.fd == fd as u32)?;
            socket.raw.describe()
        };
        use std::os::fd::AsRawFd;
        let tcp_right = matches!(
            described(listener.as_raw_fd()),
            Some(crate::model::SocketInfo::Ip(ip))
                if ip.local == (std::net::Ipv4Addr::LOCALHOST.into(), port)
                    && ip.remote.is_none()
                    && ip.state.map(|s| s.0) == Some(10)
        );
        let unix_right = matches!(
            described(unix.as_raw_fd()),
            Some(crate::model::SocketInfo::Unix(u))
                if u.path.as_deref() == Some(format!("@{name}").as_bytes())
                    && u.sock_type == libc::SOCK_DGRAM as u32
        );
        (tcp_right && unix_right).then_some(program)
    }

    /// The sockets process `pid` (its threads too) holds, described; None
    /// when the kernel could not be asked.
    pub fn sockets_of(&self, pid: i32) -> Option<Vec<DescribedSocket>> {
        let bytes = self.program.output_over(Some(pid as u32))?;
        records(self.offsets, pid as u32, &bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SocketInfo;
    use std::os::fd::AsRawFd;

    fn offsets() -> SocketOffsets {
        SocketOffsets {
            file_private_data: 200,
            socket_sk: 24,
            sock_protocol_type: 532,
            protocol_first: true,
            common: Common {
                daddr: 0,
                rcv_saddr: 4,
                dport: 12,
                num: 14,
                family: 16,
                state: 18,
                v6_daddr: 56,
                v6_rcv_saddr: 72,
                node: 104,
            },
            common_len: 120,
            unix_addr: 784,
            unix_address_len: 4,
            unix_address_name: 8,
            netlink_portid: 792,
            netlink_bound: 864,
            packet_num: 1294,
            queues: Queues {
                ack_backlog: 600,
                rmem_alloc: 192,
                wmem_alloc: 380,
                tcp_rcv_nxt: 1664,
                tcp_copied_seq: 1464,
                tcp_write_seq: 1576,
                tcp_snd_una: 1672,
                udp_forward_deficit: 1176,
            },
        }
    }

    /// A record as the program writes it for process `pid`.
    fn record(pid: u32, fd: u32, family: i32, tail: &[u8]) -> Vec<u8> {
        let mut r = vec![0u8; RECORD];
        r[0..4].copy_from_slice(&pid.to_ne_bytes());
        r[4..8].copy_from_slice(&fd.to_ne_bytes());
        r[8..16].copy_from_slice(&(1000 + u64::from(fd)).to_ne_bytes());
        r[AT_COMMON + 16..AT_COMMON + 18].copy_from_slice(&(family as u16).to_ne_bytes());
        r[AT_COMMON + 112] = 1; // in its table
        r[AT_TAIL..AT_TAIL + tail.len()].copy_from_slice(tail);
        r
    }

    #[test]
    fn records_with_and_without_address_text() {
        let s = offsets();
        let mut name = vec![0u8; 8];
        // `len`: the family (2 bytes) and "/tmp/s\0".
        name[4..8].copy_from_slice(&9u32.to_ne_bytes());
        name.extend_from_slice(&(libc::AF_UNIX as u16).to_ne_bytes());
        name.extend_from_slice(b"/tmp/s\0");
        let mut bytes = record(7, 3, libc::AF_UNIX, &name);
        bytes.extend_from_slice(b"00000000deadbeef\n");
        bytes.extend(record(7, 4, libc::AF_INET, &[]));
        let got = records(&s, 7, &bytes).expect("parsed");
        assert_eq!(got.len(), 2);
        assert_eq!((got[0].fd, got[0].inode), (3, 1003));
        assert_eq!(got[0].raw.kernel_addr, 0xdead_beef);
        assert_eq!(got[0].raw.unix_name, b"/tmp/s\0");
        assert!(got[0].raw.in_table);
        assert_eq!(got[1].raw.family, libc::AF_INET as u16);
        // Another process's record, an address that is not hex, a cut.
        assert!(records(&s, 8, &bytes).is_none());
        let mut bad = record(7, 3, libc::AF_NETLINK, &[]);
        bad.extend_from_slice(b"pK-error\n");
        assert!(records(&s, 7, &bad).is_none());
        assert!(records(&s, 7, &bytes[..bytes.len() - 1]).is_none());
        assert!(records(&s, 7, &bytes[..RECORD + 5]).is_none());
    }

    #[test]
    fn every_jump_lands_ahead_within_the_program() {
        let (Some(o), Some(s)) = (
            Offsets::of_running_kernel(),
            SocketOffsets::of_running_kernel(),
        ) else {
            eprintln!("skipped: no kernel BTF here");
            return;
        };
        let program = instructions(o, s);
        let out = program.len() - 2;
        let mut to_out = 0;
        for (at, i) in program.iter().enumerate() {
            if matches!(i[0], JEQ_K | JNE_K | JGT_K | JA) {
                let off = i16::from_le_bytes([i[2], i[3]]);
                assert!(off > 0, "instruction {at} jumps back or nowhere");
                let target = at + 1 + off as usize;
                assert!(target <= out, "instruction {at} jumps out of the program");
                to_out += usize::from(target == out);
            }
        }
        assert!(to_out >= 5, "the checks that end early return");
    }

    #[test]
    fn describes_our_sockets_as_the_tables_do_when_the_kernel_lets_it() {
        let Some(program) = SocketsProgram::load() else {
            eprintln!("skipped: no BPF iterator here");
            return;
        };
        let udp = std::net::UdpSocket::bind("[::1]:0").expect("bind");
        udp.connect("[::1]:9").expect("connect");
        let unbound = std::net::TcpStream::connect("127.0.0.1:1").err();
        let path = std::env::temp_dir().join(format!("rlsof-described-{}", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let listener = std::os::unix::net::UnixListener::bind(&path).expect("bind");
        let (a, _b) = std::os::unix::net::UnixStream::pair().expect("pair");
        let mine = program
            .sockets_of(std::process::id() as i32)
            .expect("sockets");
        let _ = std::fs::remove_file(&path);
        let find = |fd: i32| {
            let s = mine.iter().find(|s| s.fd == fd as u32).expect("reported");
            (s.raw.table(), s.raw.describe())
        };
        let tables = crate::net::NetTables::new(std::path::Path::new("/proc"));
        let own = tables.own_netns();
        for fd in [udp.as_raw_fd(), listener.as_raw_fd(), a.as_raw_fd()] {
            let socket = mine.iter().find(|s| s.fd == fd as u32).expect("reported");
            assert_eq!(
                find(fd).1,
                tables.lookup(own, 0, socket.inode),
                "fd {fd}: as the tables say"
            );
        }
        let (table, info) = find(udp.as_raw_fd());
        assert_eq!(table, Some(crate::net::SocketTable::Udp6));
        assert!(matches!(info, Some(SocketInfo::Ip(ip)) if ip.remote.is_some()));
        assert!(
            matches!(find(listener.as_raw_fd()).1, Some(SocketInfo::Unix(u)) if u.flags == 0x10000 && u.addr != 0)
        );
        drop(unbound);
    }
}
