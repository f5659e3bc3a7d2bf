//! Records mirroring what lsof 4.95 printed on the build machine for a
//! python3 process (PID 5005) holding files, pipes and sockets; the
//! expected outputs are lsof's own bytes in `testdata/*.txt`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::NameLookup;
use crate::model::*;

/// Names as this machine resolved them for lsof.
pub(crate) struct MachineNames;

impl NameLookup for MachineNames {
    fn host(&self, ip: IpAddr) -> Option<String> {
        (ip == IpAddr::V4(Ipv4Addr::LOCALHOST)).then(|| "localhost".to_string())
    }
    fn service(&self, port: u16, proto: IpProto) -> Option<String> {
        (port == 53 && proto == IpProto::Udp).then(|| "domain".to_string())
    }
    fn user(&self, uid: u32) -> Option<String> {
        (uid == 0).then(|| "root".to_string())
    }
}

const DISK: Dev = Dev {
    major: 254,
    minor: 0,
};
const SOCKFS: Dev = Dev { major: 0, minor: 9 };
const ANON: Dev = Dev {
    major: 0,
    minor: 16,
};

fn file(fd: FdName, access: Access, t: FileType, dev: Dev, inode: u64) -> OpenFile {
    OpenFile {
        fd: Some(fd),
        access,
        file_type: Some(t),
        dev: Some(dev),
        inode: Some(inode),
        nlink: Some(1),
        ..Default::default()
    }
}

fn reg(
    fd: u32,
    access: Access,
    size: u64,
    inode: u64,
    name: &[u8],
    pos: u64,
    flags: u32,
) -> OpenFile {
    OpenFile {
        size: Some(size),
        offset: Some(pos),
        flags: Some(flags),
        name: name.to_vec(),
        ..file(FdName::Num(fd), access, FileType::Reg, DISK, inode)
    }
}

fn socket(fd: u32, t: FileType, inode: u64, device: Device, info: SocketInfo) -> OpenFile {
    OpenFile {
        fd: Some(FdName::Num(fd)),
        access: Access::ReadWrite,
        file_type: Some(t),
        dev: Some(SOCKFS),
        device,
        offset: Some(0),
        inode: Some(inode),
        nlink: Some(1),
        flags: Some(0o2000002),
        name: format!("socket:[{inode}]").into_bytes(),
        socket: Some(Box::new(info)),
        ..Default::default()
    }
}

fn unix(
    fd: u32,
    inode: u64,
    addr: u64,
    ty: u32,
    state: u32,
    path: Option<&[u8]>,
    listening: bool,
) -> OpenFile {
    let info = SocketInfo::Unix(UnixSocket {
        addr,
        sock_type: ty,
        state,
        flags: if listening { UNIX_ACCEPTING } else { 0 },
        path: path.map(<[u8]>::to_vec),
        peer: None,
    });
    socket(fd, FileType::Unix, inode, Device::KernelAddr(addr), info)
}

fn inet(
    fd: u32,
    inode: u64,
    proto: IpProto,
    local: (IpAddr, u16),
    remote: Option<(IpAddr, u16)>,
    state: Option<u8>,
) -> OpenFile {
    let v6 = local.0.is_ipv6();
    let info = SocketInfo::Ip(IpSocket {
        proto,
        v6,
        local,
        remote,
        state: state.map(TcpState),
        recv_queue: 0,
        send_queue: 0,
        raw_proto: None,
    });
    let t = if v6 { FileType::Ipv6 } else { FileType::Ipv4 };
    socket(fd, t, inode, Device::Decimal(inode), info)
}

fn raw(fd: u32, inode: u64, v6: bool, proto: u16) -> OpenFile {
    let any = if v6 {
        IpAddr::V6(Ipv6Addr::UNSPECIFIED)
    } else {
        IpAddr::V4(Ipv4Addr::UNSPECIFIED)
    };
    let info = SocketInfo::Ip(IpSocket {
        proto: IpProto::Raw,
        v6,
        local: (any, proto),
        remote: None,
        state: Some(TcpState(7)),
        recv_queue: 0,
        send_queue: 0,
        raw_proto: Some(u32::from(proto)),
    });
    let t = FileType::Other(if v6 { "raw6" } else { "raw" }.to_string());
    socket(fd, t, inode, Device::None, info)
}

fn anon(fd: u32, access: Access, dev: Dev, inode: u64, name: &[u8], flags: u32) -> OpenFile {
    OpenFile {
        size: Some(0),
        offset: Some(0),
        flags: Some(flags),
        name: name.to_vec(),
        ..file(FdName::Num(fd), access, FileType::AnonInode, dev, inode)
    }
}

/// The files of PID 5005 that the fixtures list (`-d` set in the tests).
pub(crate) fn python_process() -> Process {
    use Access::{Read as R, ReadWrite as U, Write as W};
    let lo4 = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let lo6 = IpAddr::V6(Ipv6Addr::LOCALHOST);
    let any4 = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
    let mapped = IpAddr::V6(Ipv4Addr::LOCALHOST.to_ipv6_mapped());
    let dir = |fd, inode, nlink, name: &[u8]| OpenFile {
        size: Some(4096),
        nlink: Some(nlink),
        name: name.to_vec(),
        ..file(fd, Access::None, FileType::Dir, DISK, inode)
    };
    let files = vec![
        dir(FdName::Cwd, 10019170, 3, b"/tmp/pr"),
        dir(FdName::Rtd, 2, 21, b"/"),
        OpenFile {
            rdev: Some(Dev { major: 1, minor: 3 }),
            size: Some(0),
            offset: Some(0),
            flags: Some(0o100000),
            name: b"/dev/null".to_vec(),
            ..file(
                FdName::Num(0),
                R,
                FileType::Chr,
                Dev { major: 0, minor: 6 },
                3,
            )
        },
        reg(3, R, 5, 10019174, b"/tmp/pr/files/plain.txt", 0, 0o2100000),
        reg(4, R, 5, 10019175, b"/tmp/pr/files/sp ace", 0, 0o2100000),
        reg(5, R, 5, 10019176, b"/tmp/pr/files/nl\nx", 0, 0o2100000),
        reg(7, R, 5, 10019178, b"/tmp/pr/files/esc\x1bx", 0, 0o2100000),
        reg(
            9,
            R,
            5,
            10019180,
            "/tmp/pr/files/utféx".as_bytes(),
            0,
            0o2100000,
        ),
        reg(
            14,
            R,
            1,
            10019184,
            b"/tmp/pr/files/bad\xffx\x80y",
            0,
            0o2100000,
        ),
        reg(
            15,
            R,
            0,
            10019185,
            "/tmp/pr/files/cjk中".as_bytes(),
            0,
            0o2100000,
        ),
        reg(
            19,
            U,
            123456789012,
            10019189,
            b"/tmp/pr/files/big",
            987654321,
            0o2100002,
        ),
        OpenFile {
            deleted: true,
            nlink: Some(0),
            ..reg(21, W, 3, 10019191, b"/tmp/pr/files/gone", 3, 0o2100001)
        },
        OpenFile {
            lock: Lock::WriteWhole,
            ..reg(22, U, 10, 10019192, b"/tmp/pr/files/locked", 10, 0o2100002)
        },
        OpenFile {
            lock: Lock::WritePart,
            ..reg(23, U, 10, 10019193, b"/tmp/pr/files/rlocked", 10, 0o2100002)
        },
        reg(24, W, 0, 10019194, b"/tmp/pr/files/wonly", 0, 0o2100001),
        OpenFile {
            size: Some(0),
            offset: Some(0),
            flags: Some(0o2000000),
            name: b"pipe".to_vec(),
            ..file(
                FdName::Num(27),
                R,
                FileType::Fifo,
                Dev {
                    major: 0,
                    minor: 15,
                },
                12751,
            )
        },
        unix(29, 12752, 0x955a9e87, 1, 3, None, false),
        unix(31, 12754, 0x1df0f88b, 2, 3, None, false),
        unix(35, 12758, 0x70f2b915, 1, 1, Some(b"/tmp/pr/ul.sock"), true),
        unix(
            38,
            12761,
            0xb73b1676,
            2,
            1,
            Some(b"@abstract\x01name"),
            false,
        ),
        inet(39, 12762, IpProto::Tcp, (lo4, 41303), None, Some(10)),
        inet(
            40,
            12763,
            IpProto::Tcp,
            (lo4, 57342),
            Some((lo4, 41303)),
            Some(1),
        ),
        {
            // One connection waits in the backlog (rx_queue 1).
            let mut f = inet(43, 12766, IpProto::Tcp, (lo6, 57401), None, Some(10));
            if let Some(SocketInfo::Ip(ip)) = f.socket.as_deref_mut() {
                ip.recv_queue = 1;
            }
            f
        },
        inet(
            44,
            12767,
            IpProto::Tcp,
            (lo6, 56330),
            Some((lo6, 57401)),
            Some(1),
        ),
        inet(46, 12769, IpProto::Udp, (any4, 53531), None, None),
        inet(47, 12770, IpProto::Udp, (lo4, 36533), Some((lo4, 53)), None),
        inet(
            49,
            12772,
            IpProto::Udp,
            (mapped, 34536),
            Some((mapped, 80)),
            None,
        ),
        socket(
            50,
            FileType::Sock,
            12773,
            Device::None,
            SocketInfo::Protocol("TCP".into()),
        ),
        socket(
            54,
            FileType::Packet,
            12777,
            Device::Decimal(12777),
            SocketInfo::Packet(PacketSocket {
                addr: 0,
                sock_type: 3,
                protocol: 3,
            }),
        ),
        socket(
            55,
            FileType::Packet,
            12778,
            Device::Decimal(12778),
            SocketInfo::Packet(PacketSocket {
                addr: 0,
                sock_type: 2,
                protocol: 0x0800,
            }),
        ),
        raw(56, 12779, false, 1),
        raw(57, 12780, true, 0x3a),
        inet(58, 12782, IpProto::UdpLite, (any4, 5555), None, None),
        anon(59, U, ANON, 1038, b"[eventpoll]", 0o2000002),
        OpenFile {
            dev: Some(Dev { major: 0, minor: 1 }),
            deleted: true,
            nlink: Some(0),
            ..reg(61, U, 3, 1025, b"/memfd:mymemfd", 3, 0o2100002)
        },
        anon(63, R, ANON, 1038, b"inotify", 0),
        anon(
            65,
            U,
            Dev { major: 0, minor: 5 },
            5006,
            b"[pidfd:5005]",
            0o2000002,
        ),
    ];
    Process {
        pid: 5005,
        pgid: 5001,
        ppid: 1,
        uid: 0,
        command: b"python3".to_vec(),
        files,
        ..Default::default()
    }
}

/// PID 7198 and two threads (named "worker one" and "w2"), as `-K` lists
/// them.
pub(crate) fn threaded_processes() -> Vec<Process> {
    let files = vec![
        OpenFile {
            size: Some(4096),
            nlink: Some(3),
            name: b"/tmp/pr".to_vec(),
            ..file(FdName::Cwd, Access::None, FileType::Dir, DISK, 10019170)
        },
        OpenFile {
            rdev: Some(Dev { major: 1, minor: 3 }),
            size: Some(0),
            offset: Some(0),
            flags: Some(0o100000),
            name: b"/dev/null".to_vec(),
            ..file(
                FdName::Num(0),
                Access::Read,
                FileType::Chr,
                Dev { major: 0, minor: 6 },
                3,
            )
        },
        reg(
            1,
            Access::Write,
            5,
            10019591,
            b"/tmp/pr/thr.out",
            5,
            0o100001,
        ),
        OpenFile {
            deleted: true,
            nlink: Some(0),
            ..reg(
                2,
                Access::Write,
                0,
                10019587,
                b"/tmp/bash_jobs.0/b3fadeac766f/stderr",
                0,
                0o100001,
            )
        },
        reg(
            3,
            Access::Write,
            0,
            10019592,
            b"/tmp/pr/thr.txt",
            0,
            0o2100001,
        ),
    ];
    let leader = Process {
        pid: 7198,
        pgid: 7195,
        ppid: 1,
        uid: 0,
        command: b"python3".to_vec(),
        files,
        ..Default::default()
    };
    let thread = |tid, name: &[u8]| Process {
        tid: Some(tid),
        task_cmd: Some(name.to_vec()),
        ..leader.clone()
    };
    vec![
        leader.clone(),
        thread(7240, b"worker one"),
        thread(7241, b"w2"),
    ]
}

/// Two rows of PID 1, whose /proc entries we may not read.
pub(crate) fn unreadable_process() -> Process {
    let denied = |fd, name: &[u8]| OpenFile {
        fd: Some(fd),
        file_type: Some(FileType::Unknown),
        name: name.to_vec(),
        note: Some("readlink: Permission denied".into()),
        ..Default::default()
    };
    Process {
        pid: 1,
        command: b"process_api".to_vec(),
        files: vec![
            denied(FdName::Cwd, b"/proc/1/cwd"),
            denied(FdName::Num(0), b"/proc/1/fd/0"),
        ],
        ..Default::default()
    }
}
