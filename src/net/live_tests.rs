//! Tests against this machine's kernel: real tables, real sockets.

use std::net::{TcpListener, UdpSocket};
use std::os::fd::AsRawFd;
use std::os::linux::fs::MetadataExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;

use super::store::InodeSet;
use super::*;
use crate::model::{IpProto, SocketInfo, TcpState};

fn inode_of(fd: &impl AsRawFd) -> u64 {
    let path = format!("/proc/self/fd/{}", fd.as_raw_fd());
    std::fs::metadata(path).map(|m| m.st_ino()).unwrap_or(0)
}

fn own() -> (NetTables, u64, i32) {
    let proc_root = Path::new("/proc");
    let tables = NetTables::new(proc_root);
    let pid = std::process::id() as i32;
    let netns = crate::sys::netns::of_pid(proc_root, pid).expect("own netns");
    assert_eq!(netns, tables.own_netns());
    (tables, netns, pid)
}

#[test]
fn every_real_table_parses() {
    for table in SocketTable::ALL {
        let Ok(text) = std::fs::read(Path::new("/proc/self/net").join(table.file_name())) else {
            continue;
        };
        let parsed = table.parse(&text);
        let rows = text
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .count();
        assert!(
            parsed.len() < rows.max(1),
            "{table:?}: {} of {rows}",
            parsed.len()
        );
    }
}

#[test]
fn finds_a_tcp_listener_by_inode() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let (tables, netns, pid) = own();
    let found = tables.lookup(netns, pid, inode_of(&listener));
    let Some(SocketInfo::Ip(socket)) = found else {
        panic!("not found: {found:?}");
    };
    assert_eq!(socket.proto, IpProto::Tcp);
    assert_eq!(socket.local, ("127.0.0.1".parse().unwrap(), port));
    assert_eq!(socket.state, Some(TcpState(10)));
}

#[test]
fn finds_a_connected_udp6_socket_and_its_peer() {
    let Ok(a) = UdpSocket::bind("[::1]:0") else {
        return; // no IPv6 here
    };
    let b = UdpSocket::bind("[::1]:0").expect("bind");
    a.connect(b.local_addr().expect("addr")).expect("connect");
    b.connect(a.local_addr().expect("addr")).expect("connect");
    let (tables, netns, pid) = own();
    let found = tables.lookup(netns, pid, inode_of(&a));
    let Some(SocketInfo::Ip(socket)) = found else {
        panic!("not found: {found:?}");
    };
    assert!(socket.v6);
    assert_eq!(socket.proto, IpProto::Udp);
    assert_eq!(tables.ip_peer(netns, pid, inode_of(&a)), Some(inode_of(&b)));
}

#[test]
fn finds_unix_sockets_and_their_peers() {
    let dir = std::env::temp_dir().join(format!("rlsof-net-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join("odd name:x.sock");
    let _ = std::fs::remove_file(&path);
    let listener = UnixListener::bind(&path).expect("bind");
    let client = UnixStream::connect(&path).expect("connect");
    let (tables, netns, pid) = own();
    let found = tables.lookup(netns, pid, inode_of(&listener));
    let Some(SocketInfo::Unix(socket)) = found else {
        panic!("not found: {found:?}");
    };
    assert_eq!(
        socket.path.as_deref(),
        Some(path.as_os_str().as_encoded_bytes())
    );
    assert_eq!(socket.flags, 0x10000);
    // Not yet accepted: the listener names the connecting client.
    let incoming = tables.unix_incoming(netns, pid, inode_of(&listener));
    assert_eq!(incoming, vec![inode_of(&client)]);
    let (server, _) = listener.accept().expect("accept");
    let fresh = NetTables::new(Path::new("/proc"));
    assert_eq!(
        fresh.unix_peer(netns, pid, inode_of(&client)),
        Some(inode_of(&server))
    );
    let (pair_a, pair_b) = UnixStream::pair().expect("pair");
    // Created after the first read of this namespace's tables: not seen,
    // as in lsof (tables are read once per run).
    assert_eq!(tables.lookup(netns, pid, inode_of(&pair_a)), None);
    let fresh = NetTables::new(Path::new("/proc"));
    assert_eq!(
        fresh.unix_peer(netns, 0, inode_of(&pair_a)),
        Some(inode_of(&pair_b))
    );
    drop(listener);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn unknown_inode_and_vanished_pid() {
    let (tables, netns, _) = own();
    assert_eq!(tables.lookup(netns, i32::MAX, 1), None);
    assert_eq!(tables.lookup(netns, 0, u64::MAX), None);
    assert_eq!(
        crate::sys::netns::of_pid(Path::new("/proc"), i32::MAX),
        None
    );
    let dir = std::fs::File::open("/proc/self").expect("open");
    assert_eq!(crate::sys::netns::of_pid_dir(dir.as_raw_fd()), Some(netns));
}

#[test]
fn fake_proc_tree() {
    let root = std::env::temp_dir().join(format!("rlsof-fakeproc-{}", std::process::id()));
    let net = root.join("42/net");
    std::fs::create_dir_all(&net).expect("mkdir");
    std::fs::write(
        net.join("tcp"),
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 0100007F:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1\n",
    )
    .expect("write");
    let tables = NetTables::new(&root);
    // unix is missing: an empty table, then tcp is searched.
    let found = tables.lookup(7, 42, 4242);
    assert!(
        matches!(found, Some(SocketInfo::Ip(ref s)) if s.local.1 == 22),
        "{found:?}"
    );
    assert_eq!(tables.lookup(7, 42, 1), None);
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn tables_are_shared_across_threads() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let inode = inode_of(&listener);
    let (tables, netns, pid) = own();
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| assert!(tables.lookup(netns, pid, inode).is_some()));
        }
    });
}

/// A thread that moves to a new network namespace (root only) holds a UDP
/// socket and a UNIX pair there; they are found through /proc/TID/net and
/// the pair's peers through a thread that joins that namespace.
#[test]
fn sockets_of_another_network_namespace() {
    use std::sync::mpsc;
    let (ready_tx, ready_rx) = mpsc::channel();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let holder = std::thread::spawn(move || {
        // SAFETY: unshare of this thread's network namespace only.
        if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
            let _ = ready_tx.send(None);
            return;
        }
        // SAFETY: gettid has no preconditions.
        let tid = unsafe { libc::gettid() };
        let udp = UdpSocket::bind("0.0.0.0:0").expect("bind");
        let (a, b) = UnixStream::pair().expect("pair");
        let _ = ready_tx.send(Some((tid, inode_of(&udp), inode_of(&a), inode_of(&b))));
        let _ = done_rx.recv();
    });
    let Ok(Some((tid, udp, a, b))) = ready_rx.recv() else {
        let _ = holder.join();
        crate::test_need::cannot_run("cannot unshare the network namespace");
        return;
    };
    let (tables, own_netns, pid) = own();
    let netns = crate::sys::netns::of_pid(Path::new("/proc"), tid).expect("netns of thread");
    assert_ne!(netns, own_netns);
    assert_eq!(tables.lookup(own_netns, pid, udp), None);
    assert!(matches!(
        tables.lookup(netns, tid, udp),
        Some(SocketInfo::Ip(ref s)) if s.proto == IpProto::Udp
    ));
    assert_eq!(tables.unix_peer(netns, tid, a), Some(b));
    assert_eq!(tables.unix_peer(own_netns, pid, a), None);
    let _ = done_tx.send(());
    let _ = holder.join();
}

/// inet_diag and the text tables describe the same sockets alike: a
/// listener with a connection waiting, a connection with unread bytes,
/// bound and connected UDP sockets, IPv6 ones.
#[test]
fn kernel_dumps_match_the_text_tables() {
    use std::io::Write;
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let mut client = std::net::TcpStream::connect(addr).expect("connect");
    let waiting = std::net::TcpStream::connect(addr).expect("connect");
    let (server, _) = listener.accept().expect("accept");
    client.write_all(&[7u8; 1000]).expect("write");
    let udp = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let connected = UdpSocket::bind("127.0.0.1:0").expect("bind");
    connected
        .connect(udp.local_addr().expect("addr"))
        .expect("connect");
    connected.send(&[1u8; 100]).expect("send");
    let v6 = TcpListener::bind("[::1]:0").ok();
    let v6_udp = UdpSocket::bind("[::1]:0").ok();
    std::thread::sleep(std::time::Duration::from_millis(50));
    let mut inodes = vec![
        (SocketTable::Tcp, inode_of(&listener)),
        (SocketTable::Tcp, inode_of(&client)),
        (SocketTable::Tcp, inode_of(&waiting)),
        (SocketTable::Tcp, inode_of(&server)),
        (SocketTable::Udp, inode_of(&udp)),
        (SocketTable::Udp, inode_of(&connected)),
    ];
    inodes.extend(v6.as_ref().map(|s| (SocketTable::Tcp6, inode_of(s))));
    inodes.extend(v6_udp.as_ref().map(|s| (SocketTable::Udp6, inode_of(s))));
    let [tcp, tcp6] = super::inet_diag::dump_tcp_tables(None).expect("inet_diag (TCP)");
    for (table, inode) in inodes {
        let text =
            std::fs::read(Path::new("/proc/self/net").join(table.file_name())).expect("read");
        let udp = super::inet_diag::dump_udp_table(table, None);
        let dumped = match table {
            SocketTable::Tcp => &tcp,
            SocketTable::Tcp6 => &tcp6,
            _ => udp.as_ref().expect("inet_diag (UDP)"),
        };
        let from_text = table.parse(&text).get(inode);
        assert!(from_text.is_some(), "{table:?} {inode}");
        assert_eq!(dumped.get(inode), from_text, "{table:?} {inode}");
    }
    let queued = tcp.get(inode_of(&server));
    assert!(
        matches!(queued, Some(SocketInfo::Ip(ref s)) if s.recv_queue == 1000),
        "{queued:?}"
    );
}

#[test]
fn tables_kept_for_a_batch_hold_its_sockets_and_still_find_a_few_others() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let (kept, other) = UnixStream::pair().expect("socketpair");
    let strays: Vec<UdpSocket> = (0..super::tables::STRAY_LOOKUPS + 1)
        .map(|_| UdpSocket::bind("127.0.0.1:0").expect("bind udp"))
        .collect();
    let (_, netns, pid) = own();
    let batch = InodeSet::from([inode_of(&listener), inode_of(&kept)]);
    let tables = NetTables::only(Path::new("/proc"), batch);
    assert!(tables.lookup(netns, pid, inode_of(&listener)).is_some());
    assert!(tables.lookup(netns, pid, inode_of(&kept)).is_some());
    let own_tables = |t: SocketTable| tables.sockets_in(netns, pid, t);
    assert_eq!(
        own_tables(SocketTable::Tcp),
        Some(1),
        "only the batch's TCP socket"
    );
    assert_eq!(
        own_tables(SocketTable::Unix),
        Some(1),
        "only the batch's UNIX socket"
    );
    // Outside the batch: found by a pass of its own, a few times.
    assert!(tables.lookup(netns, pid, inode_of(&other)).is_some());
    let found = strays
        .iter()
        .filter(|s| tables.lookup(netns, pid, inode_of(*s)).is_some())
        .count();
    assert_eq!(found, super::tables::STRAY_LOOKUPS - 1);
    // The next batch of the listing shares what is left: nothing.
    let next = tables.next_batch(Some(InodeSet::from([inode_of(&listener)])));
    assert!(next.lookup(netns, pid, inode_of(&listener)).is_some());
    assert!(next.lookup(netns, pid, inode_of(&strays[0])).is_none());
}

#[test]
fn a_unix_path_continued_on_the_next_line_goes_with_a_skipped_record() {
    let text = b"Num       RefCount Protocol Flags    Type St Inode Path\n\
        0000000000000000: 00000002 00000000 00010000 0001 01 11 /tmp/a\n\
        0000000000000000: 00000002 00000000 00010000 0001 01 12 /tmp/b\n\
        with newline\n\
        0000000000000000: 00000002 00000000 00010000 0001 01 13 /tmp/c\n";
    let mut parser = super::parse::TableParser::new(SocketTable::Unix)
        .keeping_only(Some(std::sync::Arc::new(InodeSet::from([11, 13]))));
    super::store::for_each_line(&mut &text[..], |line| parser.line(line));
    let table = parser.finish();
    assert_eq!(table.len(), 2);
    let path = |inode| match table.get(inode) {
        Some(SocketInfo::Unix(u)) => u.path,
        other => panic!("{other:?}"),
    };
    assert_eq!(path(11).as_deref(), Some(&b"/tmp/a"[..]));
    assert_eq!(path(13).as_deref(), Some(&b"/tmp/c"[..]));
    assert!(table.get(12).is_none());
}
