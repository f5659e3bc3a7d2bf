//! Typed records that flow from `scan` through `select` to `print`.
//!
//! Scanning fills these with numbers and raw bytes; nothing here is
//! preformatted for a column, so the table, `-F`, and JSON printers can each
//! render them their own way.

use std::net::IpAddr;

/// One listed process, or one thread of it (then `tid` is set).
#[derive(Debug, Clone, Default)]
pub struct Process {
    pub pid: i32,
    /// Set for a thread's own row set (lsof's TID column).
    pub tid: Option<i32>,
    /// The thread's own command name (lsof's TASKCMD column).
    pub task_cmd: Option<Vec<u8>>,
    pub pgid: i32,
    pub ppid: i32,
    pub uid: u32,
    /// The command name (`/proc/PID/stat` comm, or argv[0] base name for a
    /// long name), raw bytes: it may hold anything but NUL.
    pub command: Vec<u8>,
    pub files: Vec<OpenFile>,
}

/// The FD column's descriptor part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FdName {
    Cwd,
    Rtd,
    Txt,
    Mem,
    /// A mapping of a file deleted since it was mapped.
    Del,
    /// The fd directory could not be read.
    NoFd,
    Num(u32),
}

impl FdName {
    /// lsof's spelling, without access or lock characters.
    pub fn label(self) -> std::borrow::Cow<'static, str> {
        match self {
            FdName::Cwd => "cwd".into(),
            FdName::Rtd => "rtd".into(),
            FdName::Txt => "txt".into(),
            FdName::Mem => "mem".into(),
            FdName::Del => "DEL".into(),
            FdName::NoFd => "NOFD".into(),
            FdName::Num(n) => n.to_string().into(),
        }
    }
}

/// Open mode, from the permission bits of the `/proc/PID/fd/N` link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Access {
    #[default]
    None,
    Read,
    Write,
    ReadWrite,
}

impl Access {
    pub fn as_char(self) -> Option<char> {
        match self {
            Access::None => None,
            Access::Read => Some('r'),
            Access::Write => Some('w'),
            Access::ReadWrite => Some('u'),
        }
    }
}

/// Lock character of the FD column, as lsof defines it on Linux.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lock {
    #[default]
    None,
    /// `r`: read lock on part of the file.
    ReadPart,
    /// `R`: read lock on the entire file.
    ReadWhole,
    /// `w`: write lock on part of the file.
    WritePart,
    /// `W`: write lock on the entire file.
    WriteWhole,
    /// `u`: read and write lock of any length.
    ReadWrite,
    /// `U`: a lock of unknown type.
    Unknown,
}

impl Lock {
    pub fn as_char(self) -> Option<char> {
        match self {
            Lock::None => None,
            Lock::ReadPart => Some('r'),
            Lock::ReadWhole => Some('R'),
            Lock::WritePart => Some('w'),
            Lock::WriteWhole => Some('W'),
            Lock::ReadWrite => Some('u'),
            Lock::Unknown => Some('U'),
        }
    }
}

/// The TYPE column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileType {
    Reg,
    Dir,
    Chr,
    Blk,
    Fifo,
    Link,
    /// POSIX message queue.
    PosixMq,
    /// Anonymous inode (eventfd, epoll, inotify, signalfd, timerfd, pidfd, ...).
    AnonInode,
    /// A socket whose protocol family is not known ("sock").
    Sock,
    Unix,
    Ipv4,
    Ipv6,
    Netlink,
    Packet,
    /// Nothing could be learned ("unknown").
    Unknown,
    /// Any other lsof spelling (e.g. a mode printed in hex, "ax25").
    Other(String),
}

impl FileType {
    pub fn label(&self) -> &str {
        match self {
            FileType::Reg => "REG",
            FileType::Dir => "DIR",
            FileType::Chr => "CHR",
            FileType::Blk => "BLK",
            FileType::Fifo => "FIFO",
            FileType::Link => "LINK",
            FileType::PosixMq => "PSXMQ",
            FileType::AnonInode => "a_inode",
            FileType::Sock => "sock",
            FileType::Unix => "unix",
            FileType::Ipv4 => "IPv4",
            FileType::Ipv6 => "IPv6",
            FileType::Netlink => "netlink",
            FileType::Packet => "pack",
            FileType::Unknown => "unknown",
            FileType::Other(s) => s,
        }
    }

    pub fn is_socket(&self) -> bool {
        matches!(
            self,
            FileType::Sock
                | FileType::Unix
                | FileType::Ipv4
                | FileType::Ipv6
                | FileType::Netlink
                | FileType::Packet
        )
    }
}

/// A device number split as the kernel does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Dev {
    pub major: u32,
    pub minor: u32,
}

impl Dev {
    pub fn from_raw(raw: u64) -> Dev {
        Dev {
            major: libc::major(raw),
            minor: libc::minor(raw),
        }
    }

    pub fn raw(self) -> u64 {
        libc::makedev(self.major, self.minor)
    }
}

/// What the DEVICE column holds for a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Device {
    #[default]
    None,
    /// `major,minor`.
    Number(Dev),
    /// A kernel address, printed `0x...` (UNIX, netlink, packet sockets).
    KernelAddr(u64),
    /// A decimal number (an IP socket's inode, as lsof prints it).
    Decimal(u64),
    /// lsof's `UNKNOWN` (a file on an exempt file system, `-e`).
    Unknown,
}

/// One open file of a process: an fd, cwd, root, text, or a mapping.
#[derive(Debug, Clone, Default)]
pub struct OpenFile {
    pub fd: Option<FdName>,
    pub access: Access,
    pub lock: Lock,
    pub file_type: Option<FileType>,
    /// The device the file lives on (`st_dev`).
    pub dev: Option<Dev>,
    /// The device the file is (`st_rdev`, for CHR and BLK).
    pub rdev: Option<Dev>,
    /// Override of the DEVICE column (sockets); `Device::None` means derive
    /// it from `dev`/`rdev`.
    pub device: Device,
    pub size: Option<u64>,
    pub offset: Option<u64>,
    pub inode: Option<u64>,
    pub nlink: Option<u64>,
    /// `flags:` of fdinfo (octal open flags), when read.
    pub flags: Option<u32>,
    /// Mount id from fdinfo, when read.
    pub mnt_id: Option<u32>,
    /// The path or kernel-supplied name: a path, `pipe`, `[eventfd:5]`, ...
    pub name: Vec<u8>,
    /// The file was deleted: NAME gets " (deleted)".
    pub deleted: bool,
    /// Socket details when the file is a socket we could decode.
    pub socket: Option<Box<SocketInfo>>,
    /// Text lsof appends to the NAME in parentheses (e.g.
    /// `readlink: Permission denied`, `stat: ...`).
    pub note: Option<String>,
    /// Endpoint strings (`+E`/`-E`), each rendered as lsof prints it.
    pub endpoints: Vec<Vec<u8>>,
    /// `+E`/`-E` only: the pty index of a `/dev/ptmx` descriptor (fdinfo
    /// `tty-index`).
    pub tty_index: Option<u32>,
    /// `+E`/`-E` only: the inode of the socket at the other end of a TCP
    /// or UDP connection within the machine (UNIX peers are in
    /// `UnixSocket::peer`).
    pub peer_inode: Option<u64>,
}

/// Transport and address family of an IP socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IpProto {
    Tcp,
    Udp,
    UdpLite,
    Raw,
    Icmp,
}

impl IpProto {
    pub fn label(self) -> &'static str {
        match self {
            IpProto::Tcp => "TCP",
            IpProto::Udp => "UDP",
            IpProto::UdpLite => "UDPLITE",
            IpProto::Raw => "raw",
            IpProto::Icmp => "ICMP",
        }
    }
}

/// A TCP state as the kernel numbers it (1 = ESTABLISHED ... 12).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TcpState(pub u8);

impl TcpState {
    /// lsof's names of the states, by kernel number; 0 is lsof's own
    /// CLOSED (the kernel's TCP_CLOSE is 7, "CLOSE").
    pub const NAMES: [&'static str; 12] = [
        "CLOSED",
        "ESTABLISHED",
        "SYN_SENT",
        "SYN_RECV",
        "FIN_WAIT1",
        "FIN_WAIT2",
        "TIME_WAIT",
        "CLOSE",
        "CLOSE_WAIT",
        "LAST_ACK",
        "LISTEN",
        "CLOSING",
    ];

    /// The state as lsof prints it; a number it has no name for (such as
    /// the kernel's NEW_SYN_RECV, 12) as `UNKNOWN_TCP_STATE_n`.
    pub fn name(self) -> std::borrow::Cow<'static, str> {
        match TcpState::NAMES.get(usize::from(self.0)) {
            Some(name) => (*name).into(),
            None => format!("UNKNOWN_TCP_STATE_{}", self.0).into(),
        }
    }

    /// The state lsof calls `name` (`-s TCP:name`), ignoring case.
    pub fn named(name: &str) -> Option<TcpState> {
        let number = TcpState::NAMES
            .iter()
            .position(|n| n.eq_ignore_ascii_case(name))?;
        u8::try_from(number).ok().map(TcpState)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpSocket {
    pub proto: IpProto,
    pub v6: bool,
    pub local: (IpAddr, u16),
    /// None when unconnected (remote is the wildcard with port 0).
    pub remote: Option<(IpAddr, u16)>,
    /// The table's `st` byte, set for every protocol by `net` (UDP: 1 when
    /// connected, 7 otherwise); lsof shows it only for TCP, and for raw
    /// sockets as `st=XX` in NAME.
    pub state: Option<TcpState>,
    pub recv_queue: u64,
    pub send_queue: u64,
    /// Raw socket: the protocol number printed in NAME/NODE.
    pub raw_proto: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnixSocket {
    /// Kernel address from `/proc/net/unix` (often zero).
    pub addr: u64,
    /// SOCK_STREAM = 1, SOCK_DGRAM = 2, SOCK_SEQPACKET = 5 ...
    pub sock_type: u32,
    /// `/proc/net/unix` st column: 1 unconnected, 3 connected ...
    pub state: u32,
    /// `/proc/net/unix` Flags column; `0x10000` (`__SO_ACCEPTCON`) marks a
    /// listening socket, which lsof's `-T s` shows as `LISTEN`.
    pub flags: u32,
    /// Bound path or abstract name (leading `@`), raw bytes.
    pub path: Option<Vec<u8>>,
    /// Peer socket inode, from sock_diag, when known.
    pub peer: Option<u64>,
}

/// `__SO_ACCEPTCON` in `/proc/net/unix`'s Flags column.
pub const UNIX_ACCEPTING: u32 = 0x10000;

impl UnixSocket {
    /// A listening socket: lsof says LISTEN.
    pub fn is_listening(&self) -> bool {
        self.flags & UNIX_ACCEPTING != 0
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetlinkSocket {
    pub addr: u64,
    pub protocol: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PacketSocket {
    pub addr: u64,
    pub sock_type: u32,
    /// Ethernet protocol, host byte order.
    pub protocol: u16,
}

/// What we learned about a socket from the kernel's tables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SocketInfo {
    Ip(IpSocket),
    Unix(UnixSocket),
    Netlink(NetlinkSocket),
    Packet(PacketSocket),
    /// A socket not found in any table we read: lsof prints `protocol: X`.
    Protocol(String),
}
