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
//! BTF gives; [`crate::net::raw_socket`] turns them into what the tables
//! would say. A UNIX, netlink or packet socket's record is followed by
//! its address printed by the kernel's `%pK`, as those tables print it
//! (a hashed value unless `kptr_restrict` says otherwise), ended by a
//! newline.

use super::asm::{Asm, If, Label, Width, FP, R1, R2, R3, R4, R5, R6, R9};
use super::btf::{Field, Found};
use super::debug::say;
use super::program::*;
pub(super) use super::socket_layout::{SocketOffsets, STRUCTS};
use super::DescribedSocket;
use crate::net::raw_socket::{RawQueues, RawSocket};

/// Bytes of a record before any `%pK` text: see [`program`].
const RECORD: usize = 304;
const AT_PROTOCOL: usize = 16;
const AT_COMMON: usize = 24;
/// Room for the start of `struct sock_common`.
pub(super) const COMMON_ROOM: usize = 160;
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

const R: i16 = RECORD as i16;

/// `bpf_probe_read_kernel(stack[to..], len, r3 + from)` with the source
/// pointer already in r3.
fn read_kernel(a: &mut Asm, to: i16, len: i32, from: i32) {
    a.add_imm(R3, from);
    a.mov(R1, FP);
    a.add_imm(R1, i32::from(to));
    a.mov_imm(R2, len);
    a.call(BPF_FUNC_PROBE_READ_KERNEL);
}

/// The same from the socket (`struct sock *` in r9): `from` read whole,
/// its size in this kernel being `len`.
fn read_sock(a: &mut Asm, to: i16, len: u32, from: Field) {
    let at = a.offset_of(from, len);
    a.mov(R3, R9);
    read_kernel(a, to, len as i32, i32::from(at));
}

/// Code written into a program where it is called.
type Block<'a> = &'a dyn Fn(&mut Asm);

/// Runs the first block whose value `reg` holds, then goes on after the
/// last block.
fn switch(a: &mut Asm, reg: u8, cases: Vec<(i32, Block)>) {
    let end = a.label();
    for (value, block) in cases {
        let next = a.label();
        a.jump_if(If::Ne, reg, value, next);
        block(a);
        a.jump(end);
        a.put(next);
    }
    a.put(end);
}

/// An IP socket's queue figures, to the tail: `sk_ack_backlog`,
/// `rmem_alloc`, `sk_wmem_alloc` (u32 each); for a TCP socket `rcv_nxt`,
/// `copied_seq`, `write_seq`, `snd_una`; for UDP and UDP-Lite
/// `forward_deficit`.
fn inet_queues(a: &mut Asm, s: &SocketOffsets, tail: i16) {
    let q = &s.queues;
    let (protocol_at, type_at) = protocol_and_type_at(s);
    read_sock(a, tail, 4, q.ack_backlog);
    read_sock(a, tail + 4, 4, q.rmem_alloc);
    read_sock(a, tail + 8, 4, q.wmem_alloc);
    let (not_tcp, udp, done) = (a.label(), a.label(), a.label());
    a.load(Width::H, R2, FP, -R + type_at as i16); // sk_type
    a.jump_if(If::Ne, R2, libc::SOCK_STREAM, not_tcp);
    let tcp = [
        q.tcp_rcv_nxt,
        q.tcp_copied_seq,
        q.tcp_write_seq,
        q.tcp_snd_una,
    ];
    for (n, field) in tcp.into_iter().enumerate() {
        read_sock(a, tail + 12 + 4 * n as i16, 4, field);
    }
    a.jump(done);
    a.put(not_tcp);
    a.load(Width::H, R2, FP, -R + protocol_at as i16); // sk_protocol
    a.jump_if(If::Eq, R2, libc::IPPROTO_UDP, udp);
    a.jump_if(If::Ne, R2, libc::IPPROTO_UDPLITE, done);
    a.put(udp);
    read_sock(a, tail + 28, 4, q.udp_forward_deficit);
    a.put(done);
}

/// A UNIX socket's `struct unix_address` (its length first, then that
/// many bytes), to the tail; nothing for an unnamed one.
fn unix_address(a: &mut Asm, s: &SocketOffsets, tail: i16) {
    let done = a.label();
    read_sock(a, SLOT_ADDRESS, 8, s.unix_addr);
    a.load(Width::DW, R3, FP, SLOT_ADDRESS); // u->addr
    a.jump_if(If::Eq, R3, 0, done); // unnamed
    read_kernel(a, tail, 8, 0); // its header
    a.load(Width::W, R2, FP, tail + s.unix_address_len as i16); // addr->len
    a.jump_if(If::Gt, R2, 110, done); // longer than a sockaddr_un
    a.add_imm(R2, 8); // header and name
    a.load(Width::DW, R3, FP, SLOT_ADDRESS);
    a.mov(R1, FP);
    a.add_imm(R1, i32::from(tail));
    a.call(BPF_FUNC_PROBE_READ_KERNEL);
    a.put(done);
}

/// Where `sk_protocol` and `sk_type` are in a record.
fn protocol_and_type_at(s: &SocketOffsets) -> (usize, usize) {
    if s.protocol_first {
        (AT_PROTOCOL, AT_PROTOCOL + 2)
    } else {
        (AT_PROTOCOL + 2, AT_PROTOCOL)
    }
}

/// The program. Its record, RECORD bytes below the stack top: tgid
/// (u32), fd (u32), inode (u64); at AT_PROTOCOL the 4 bytes holding
/// `sk_protocol` and `sk_type`; at AT_COMMON the start of `struct
/// sock_common`; at AT_TAIL, by family: an IP socket's queue figures (see
/// `inet_queues`), or the `struct unix_address` (see `unix_address`), or
/// the netlink port id (u32) and bound flag (u8), or the packet protocol
/// (big-endian u16). A UNIX, netlink or packet socket's record is
/// followed by its address as `%pK` prints it, and a newline.
pub(super) fn program(found: &Found, s: &SocketOffsets) -> Result<Vec<u8>, String> {
    let family_at = -R + (AT_COMMON + s.common.family) as i16;
    let tail = -R + AT_TAIL as i16;
    let (ino, tgid) = (
        found.field("inode", "i_ino")?,
        found.field("task_struct", "tgid")?,
    );
    let body = |a: &mut Asm, inode: u8, out: Label| {
        only_sockets(a, found, inode, out)?;
        // The verifier wants every byte written out initialised.
        for k in 0..RECORD / 8 {
            a.store_imm(Width::DW, FP, -R + 8 * k as i16, 0);
        }
        a.load_field(Width::DW, R3, inode, ino);
        a.store(Width::DW, FP, -R + 8, R3);
        a.load_field(Width::W, R4, super::asm::R8, tgid);
        a.store(Width::W, FP, -R, R4);
        a.load(Width::W, R5, R6, CTX_FD);
        a.store(Width::W, FP, -R + 4, R5);
        a.load_field(Width::DW, R3, super::asm::R7, s.file_private_data);
        a.jump_if(If::Eq, R3, 0, out); // no socket
        let sk = a.offset_of(s.socket_sk, 8);
        read_kernel(a, SLOT_SK, 8, i32::from(sk));
        a.load(Width::DW, R9, FP, SLOT_SK);
        a.jump_if(If::Eq, R9, 0, out); // no sock
        a.mov(R3, R9);
        read_kernel(a, -R + AT_COMMON as i16, s.common_len as i32, 0);
        a.mov(R3, R9);
        read_kernel(
            a,
            -R + AT_PROTOCOL as i16,
            4,
            i32::from(s.sock_protocol_type),
        );
        a.load(Width::H, R2, FP, family_at);
        switch(
            a,
            R2,
            vec![
                (AF_INET, &|a: &mut Asm| inet_queues(a, s, tail)),
                (AF_INET6, &|a: &mut Asm| inet_queues(a, s, tail)),
                (AF_UNIX, &|a: &mut Asm| unix_address(a, s, tail)),
                (AF_NETLINK, &|a: &mut Asm| {
                    read_sock(a, tail, 4, s.netlink_portid);
                    read_sock(a, tail + 4, 1, s.netlink_bound);
                }),
                (AF_PACKET, &|a: &mut Asm| {
                    read_sock(a, tail, 2, s.packet_num)
                }),
            ],
        );
        Ok(())
    };
    let after = |a: &mut Asm, out: Label| {
        a.load(Width::H, R2, FP, family_at);
        a.jump_if(If::Eq, R2, AF_INET, out); // IP sockets: no address text
        a.jump_if(If::Eq, R2, AF_INET6, out);
        a.store_imm(Width::W, FP, SLOT_FORMAT, i32::from_le_bytes(*b"%pK\n"));
        a.store_imm(Width::W, FP, SLOT_FORMAT + 4, 0); // its NUL
        a.load(Width::DW, R1, R6, CTX_META);
        a.load(Width::DW, R1, R1, 0); // meta->seq
        a.mov(R2, FP);
        a.add_imm(R2, i32::from(SLOT_FORMAT));
        a.mov_imm(R3, 8);
        a.mov(R4, FP);
        a.add_imm(R4, i32::from(SLOT_SK)); // &sk
        a.mov_imm(R5, 8);
        a.call(BPF_FUNC_SEQ_PRINTF);
        Ok(())
    };
    for_each_file(found, RECORD, body, after)
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

/// Readings of the probe sockets before a mismatch counts.
const PROBE_ATTEMPTS: usize = 3;

/// The described-sockets program, loaded and checked.
pub struct SocketsProgram {
    program: Program,
    offsets: &'static SocketOffsets,
}

impl SocketsProgram {
    /// None when the kernel cannot run it (see `crate::bpf`), or when it
    /// does not describe sockets of ours of every kind as the tables do
    /// (see `super::probe`).
    pub fn load() -> Option<SocketsProgram> {
        let program = SocketsProgram::load_checked();
        match program {
            Some(_) => say(format_args!(
                "socket descriptions: the kernel (rlsof_described)"
            )),
            None => say(format_args!("socket descriptions: /proc/net (no program)")),
        }
        program
    }

    fn load_checked() -> Option<SocketsProgram> {
        let offsets = match SocketOffsets::of_running_kernel() {
            Ok(offsets) => offsets,
            Err(why) => {
                say(format_args!("rlsof_described: not built: {why}"));
                return None;
            }
        };
        let program = Program::load(Reports::Described(offsets))?;
        if let Err(why) = program.iterates_by_process() {
            say(format_args!("rlsof_described: {why}"));
            return None;
        }
        let program = SocketsProgram { program, offsets };
        let probes = match super::probe::Probes::make() {
            Ok(probes) => probes,
            Err(e) => {
                say(format_args!("rlsof_described: no probe sockets: {e}"));
                return None;
            }
        };
        // A probe's state may change between the program's reading and the
        // tables' (an acknowledgement arriving): a mismatch is read again.
        let mut why = String::new();
        for _ in 0..PROBE_ATTEMPTS {
            let Some(mine) = program.sockets_of(std::process::id() as i32) else {
                say(format_args!(
                    "rlsof_described: no iteration over our own sockets"
                ));
                return None;
            };
            match probes.check(&mine) {
                Ok(()) => return Some(program),
                Err(e) => why = e,
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        say(format_args!("rlsof_described: {why}"));
        None
    }

    /// The sockets process `pid` (its threads too) holds, described; None
    /// when the kernel could not be asked.
    pub fn sockets_of(&self, pid: i32) -> Option<Vec<DescribedSocket>> {
        self.program.output_over(Some(pid as u32), |bytes| {
            records(self.offsets, pid as u32, bytes)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SocketInfo;
    use std::os::fd::AsRawFd;

    /// Members where a 6.18 kernel has them.
    fn fields() -> Vec<(&'static str, &'static str, u32, u32)> {
        vec![
            ("file", "f_inode", 32, 8),
            ("file", "private_data", 200, 8),
            ("inode", "i_mode", 0, 2),
            ("inode", "i_ino", 64, 8),
            ("task_struct", "tgid", 1000, 4),
            ("socket", "sk", 24, 8),
            ("sock", "sk_protocol", 532, 2),
            ("sock", "sk_type", 534, 2),
            ("sock", "sk_ack_backlog", 600, 4),
            ("sock", "sk_backlog", 192, 24),
            ("sock", "sk_wmem_alloc", 380, 4),
            ("tcp_sock", "rcv_nxt", 1664, 4),
            ("tcp_sock", "copied_seq", 1464, 4),
            ("tcp_sock", "write_seq", 1576, 4),
            ("tcp_sock", "snd_una", 1672, 4),
            ("udp_sock", "forward_deficit", 1176, 4),
            ("sock_common", "skc_daddr", 0, 4),
            ("sock_common", "skc_rcv_saddr", 4, 4),
            ("sock_common", "skc_dport", 12, 2),
            ("sock_common", "skc_num", 14, 2),
            ("sock_common", "skc_family", 16, 2),
            ("sock_common", "skc_state", 18, 1),
            ("sock_common", "skc_v6_daddr", 56, 16),
            ("sock_common", "skc_v6_rcv_saddr", 72, 16),
            ("sock_common", "skc_node", 104, 16),
            ("unix_sock", "addr", 784, 8),
            ("unix_address", "len", 4, 4),
            ("unix_address", "name", 8, 0),
            ("netlink_sock", "portid", 792, 4),
            ("netlink_sock", "bound", 864, 1),
            ("packet_sock", "num", 1294, 2),
        ]
    }

    fn offsets() -> SocketOffsets {
        SocketOffsets::from_btf(&Found::made_of(&fields(), &[])).expect("offsets")
    }

    #[test]
    fn a_member_missing_or_resized_is_named() {
        let without = |member: &str| {
            let mut fields = fields();
            fields.retain(|f| f.1 != member);
            SocketOffsets::from_btf(&Found::made_of(&fields, &[])).expect_err(member)
        };
        assert!(without("portid").contains("netlink_sock.portid"));
        let mut fields = fields();
        fields
            .iter_mut()
            .find(|f| f.1 == "skc_num")
            .expect("there")
            .3 = 4;
        let why = SocketOffsets::from_btf(&Found::made_of(&fields, &[])).expect_err("resized");
        assert!(why.contains("sock_common.skc_num: 4 bytes"), "{why}");
        let mut fields = self::fields();
        fields.iter_mut().find(|f| f.1 == "bound").expect("there").3 = 4;
        let found = Found::made_of(&fields, &[]);
        let s = SocketOffsets::from_btf(&found).expect("copied as the program reads it");
        let why = program(&found, &s).expect_err("bound read as a byte");
        assert!(why.contains("netlink_sock.bound"), "{why}");
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
    fn builds_for_a_kernel_as_its_btf_says() {
        let found = Found::made_of(&fields(), &[]);
        let code = program(&found, &offsets()).expect("built");
        assert_eq!(code.len() % 8, 0);
        if let (Ok(found), Ok(s)) = (kernel_btf(), SocketOffsets::of_running_kernel()) {
            program(found, s).expect("built for this kernel");
        }
    }

    #[test]
    fn describes_our_sockets_as_the_tables_do_when_the_kernel_lets_it() {
        let Some(program) = SocketsProgram::load() else {
            crate::test_need::program_did_not_load("rlsof_described");
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
