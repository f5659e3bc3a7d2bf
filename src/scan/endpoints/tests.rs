use super::*;
use crate::model::{Access, IpSocket, TcpState, UnixSocket};

#[test]
fn socket_links() {
    assert_eq!(socket_inode(b"socket:[12345]"), Some(12345));
    assert_eq!(socket_inode(b"socket:[]"), None);
    assert_eq!(socket_inode(b"socket:[12a]"), None);
    assert_eq!(socket_inode(b"pipe:[12]"), None);
    assert_eq!(socket_inode(b"/tmp/socket:[1]"), None);
    assert_eq!(socket_inode(b"socket:[99999999999999999999999]"), None);
}

fn file(fd: u32, access: Access, file_type: FileType) -> OpenFile {
    OpenFile {
        fd: Some(FdName::Num(fd)),
        access,
        file_type: Some(file_type),
        ..OpenFile::default()
    }
}

fn pipe(fd: u32, access: Access, inode: u64) -> OpenFile {
    OpenFile {
        inode: Some(inode),
        ..file(fd, access, FileType::Fifo)
    }
}

fn process(pid: i32, command: &str, files: Vec<OpenFile>) -> Process {
    Process {
        pid,
        command: command.as_bytes().to_vec(),
        files,
        ..Process::default()
    }
}

fn texts(strings: &[Vec<u8>]) -> Vec<String> {
    strings
        .iter()
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect()
}

#[test]
fn ptmx_index_from_fdinfo() {
    let ptmx = OpenFile {
        rdev: Some(PTMX),
        ..file(3, Access::ReadWrite, FileType::Chr)
    };
    let info = b"pos:\t0\nflags:\t02\nmnt_id:\t30\nino:\t91\ntty-index:\t7\n";
    assert_eq!(ptmx_tty_index(&ptmx, info), Some(7));
    let tty = OpenFile {
        rdev: Some(Dev {
            major: 136,
            minor: 7,
        }),
        ..ptmx.clone()
    };
    assert_eq!(ptmx_tty_index(&tty, info), None);
}

#[test]
fn pipe_ends_in_reading_order_without_self() {
    let processes = vec![
        process(
            10,
            "writer-with-a-long-name",
            vec![pipe(3, Access::Read, 77), pipe(4, Access::Write, 77)],
        ),
        process(20, "reader", vec![pipe(0, Access::Read, 77)]),
    ];
    let index = EndpointIndex::new(&processes, 9, None);
    let (strings, ends) = index.ends_of(At {
        process: 0,
        file: 0,
    });
    assert_eq!(texts(&strings), ["10,writer-wi,4w", "20,reader,0r"]);
    assert_eq!(ends.len(), 2);
    let narrow = EndpointIndex::new(&processes, 0, Some(20));
    let (strings, _) = narrow.ends_of(At {
        process: 1,
        file: 0,
    });
    assert_eq!(texts(&strings), ["10,,3r", "10,,4w"]);
}

#[test]
fn unix_peers_in_reverse_reading_order() {
    let unix = |fd: u32, inode: u64, peer: u64| OpenFile {
        inode: Some(inode),
        socket: Some(Box::new(SocketInfo::Unix(UnixSocket {
            addr: 0,
            sock_type: 1,
            state: 3,
            flags: 0,
            path: None,
            peer: Some(peer),
        }))),
        ..file(fd, Access::ReadWrite, FileType::Unix)
    };
    let processes = vec![
        process(1, "a", vec![unix(5, 100, 101), unix(6, 101, 100)]),
        process(2, "b", vec![unix(6, 101, 100)]),
    ];
    let index = EndpointIndex::new(&processes, 9, None);
    let (strings, ends) = index.ends_of(At {
        process: 0,
        file: 0,
    });
    assert_eq!(texts(&strings), ["->INO=101", "2,b,6u", "1,a,6u"]);
    assert_eq!(ends.len(), 2);
}

#[test]
fn loopback_connections_and_ptys() {
    let tcp = |fd: u32, inode: u64, peer: u64| OpenFile {
        inode: Some(inode),
        peer_inode: Some(peer),
        socket: Some(Box::new(SocketInfo::Ip(IpSocket {
            proto: IpProto::Tcp,
            v6: false,
            local: ("127.0.0.1".parse().expect("ip"), 1),
            remote: Some(("127.0.0.1".parse().expect("ip"), 2)),
            state: Some(TcpState(1)),
            recv_queue: 0,
            send_queue: 0,
            raw_proto: None,
        }))),
        ..file(fd, Access::ReadWrite, FileType::Ipv4)
    };
    let master = OpenFile {
        rdev: Some(PTMX),
        tty_index: Some(3),
        ..file(7, Access::ReadWrite, FileType::Chr)
    };
    let slave = OpenFile {
        rdev: Some(Dev {
            major: 136,
            minor: 3,
        }),
        ..file(8, Access::ReadWrite, FileType::Chr)
    };
    let processes = vec![process(
        4,
        "x",
        vec![tcp(3, 50, 51), tcp(4, 51, 50), master, slave],
    )];
    let index = EndpointIndex::new(&processes, 9, None);
    let ends = |file| texts(&index.ends_of(At { process: 0, file }).0);
    assert_eq!(ends(0), ["4,x,4u"]);
    assert_eq!(ends(2), ["->/dev/pts/3 4,x,8u"]);
    assert_eq!(ends(3), ["4,x,7u"]);
}

#[test]
fn eventfds_by_id() {
    let eventfd = |fd: u32, name: &str| OpenFile {
        name: name.as_bytes().to_vec(),
        ..file(fd, Access::ReadWrite, FileType::AnonInode)
    };
    let processes = vec![
        process(
            1,
            "a",
            vec![eventfd(3, "[eventfd:9]"), eventfd(4, "[eventpoll:3]")],
        ),
        process(2, "b", vec![eventfd(5, "[eventfd:9]")]),
    ];
    let index = EndpointIndex::new(&processes, 9, None);
    assert!(has_endpoints(&processes[0].files[0]));
    assert!(!has_endpoints(&processes[0].files[1]));
    let (strings, _) = index.ends_of(At {
        process: 1,
        file: 0,
    });
    assert_eq!(texts(&strings), ["1,a,3u"]);
}
