use super::*;
use crate::cli::options::Item;
use crate::model::{TcpState, UnixSocket};

fn parse(args: &[&str]) -> Options {
    let args = args.iter().map(std::ffi::OsString::from);
    crate::cli::parse(args).expect("valid options")
}

fn selection(args: &[&str]) -> NetworkSelection {
    NetworkSelection::new(&parse(args), &Names::new()).expect("resolvable")
}

fn ip(proto: IpProto, local: &str, remote: Option<&str>, state: u8) -> OpenFile {
    let end = |text: &str| -> (std::net::IpAddr, u16) {
        let (addr, port) = text.rsplit_once(':').expect("addr:port");
        let addr = addr.trim_start_matches('[').trim_end_matches(']');
        (addr.parse().expect("address"), port.parse().expect("port"))
    };
    let local = end(local);
    OpenFile {
        socket: Some(Box::new(SocketInfo::Ip(IpSocket {
            proto,
            v6: local.0.is_ipv6(),
            local,
            remote: remote.map(end),
            state: Some(TcpState(state)),
            recv_queue: 0,
            send_queue: 0,
            raw_proto: None,
        }))),
        ..OpenFile::default()
    }
}

const LISTEN: u8 = 10;
const ESTABLISHED: u8 = 1;
const UDP_UNCONNECTED: u8 = 7;

#[test]
fn flags_from_options() {
    assert_eq!(selection_flags(&parse(&["-i"])), SEL_NET);
    assert_eq!(selection_flags(&parse(&["-i", ":80"])), SEL_NA);
    assert_eq!(selection_flags(&parse(&["-U", "-i4"])), SEL_UNX | SEL_NET);
    assert_eq!(selection_flags(&parse(&["-p", "1"])), 0);
}

#[test]
fn all_internet_files_by_family() {
    let tcp4 = ip(IpProto::Tcp, "127.0.0.1:80", None, LISTEN);
    let udp6 = ip(IpProto::Udp, "[::1]:53", None, UDP_UNCONNECTED);
    let both = selection(&["-i"]);
    assert!(!both.all_found());
    assert_eq!(both.file_flags(&tcp4), Some(SEL_NET));
    assert_eq!(both.file_flags(&udp6), Some(SEL_NET));
    assert!(both.all_found());
    let v6 = selection(&["-i6"]);
    assert_eq!(v6.file_flags(&tcp4), Some(0));
    assert_eq!(v6.file_flags(&udp6), Some(SEL_NET));
    let raw = OpenFile {
        socket: Some(Box::new(SocketInfo::Ip(IpSocket {
            raw_proto: Some(1),
            proto: IpProto::Raw,
            ..match *ip(IpProto::Raw, "0.0.0.0:1", None, 7).socket.unwrap() {
                SocketInfo::Ip(s) => s,
                _ => unreachable!(),
            }
        }))),
        ..OpenFile::default()
    };
    assert_eq!(both.file_flags(&raw), Some(0), "lsof -i skips raw sockets");
}

#[test]
fn addresses_ports_and_protocols() {
    let s = selection(&["-i", "tcp@127.0.0.1:79-81"]);
    let hit = ip(IpProto::Tcp, "127.0.0.1:80", None, LISTEN);
    let udp = ip(IpProto::Udp, "127.0.0.1:80", None, UDP_UNCONNECTED);
    let other_host = ip(IpProto::Tcp, "10.0.0.1:80", None, LISTEN);
    let remote = ip(
        IpProto::Tcp,
        "10.0.0.1:5555",
        Some("127.0.0.1:81"),
        ESTABLISHED,
    );
    assert!(!s.all_found());
    assert_eq!(s.file_flags(&udp), Some(0));
    assert_eq!(s.file_flags(&other_host), Some(0));
    assert!(!s.all_found());
    assert_eq!(s.file_flags(&hit), Some(SEL_NA));
    assert_eq!(s.file_flags(&remote), Some(SEL_NA));
    assert!(s.all_found());
}

#[test]
fn mapped_addresses_match_as_ipv4() {
    let mapped = ip(
        IpProto::Tcp,
        "[::ffff:127.0.0.1]:8080",
        Some("[::ffff:127.0.0.1]:40000"),
        ESTABLISHED,
    );
    assert_eq!(
        selection(&["-i", "@127.0.0.1:8080"]).file_flags(&mapped),
        Some(SEL_NA)
    );
    assert_eq!(
        selection(&["-i", "@[::ffff:127.0.0.1]"]).file_flags(&mapped),
        Some(SEL_NA)
    );
    assert_eq!(
        selection(&["-i", "6:8080"]).file_flags(&mapped),
        Some(0),
        "a mapped pair is IPv4 to lsof's address match"
    );
    assert_eq!(
        selection(&["-i6"]).file_flags(&mapped),
        Some(SEL_NET),
        "but an IPv6 file to -i6"
    );
}

#[test]
fn service_names_and_errors() {
    let names = Names::new();
    if names.port_by_name("ssh", IpProto::Tcp) != Some(22) {
        crate::test_need::cannot_run("/etc/services lacks ssh");
        return;
    }
    let ssh = ip(IpProto::Tcp, "0.0.0.0:22", None, LISTEN);
    assert_eq!(selection(&["-i", ":ssh"]).file_flags(&ssh), Some(SEL_NA));
    let err = NetworkSelection::new(&parse(&["-i", ":no-such-service"]), &names);
    assert_eq!(
        err.err().as_deref(),
        Some("lsof: unknown service no-such-service in: -i :no-such-service\n")
    );
    let err = NetworkSelection::new(&parse(&["-i", "udplite:ssh"]), &names);
    assert_eq!(
        err.err().as_deref(),
        Some("lsof: unknown service ssh for udplite in: -i udplite:ssh\n")
    );
    let err = NetworkSelection::new(&parse(&["-i", "@no-such-host.invalid"]), &names);
    assert!(err.is_err());
}

#[test]
fn first_matching_item_is_the_one_found() {
    // lsof searches the last -i first and stops at the first match.
    let s = selection(&["-i", ":80", "-i", "tcp:80"]);
    let tcp = ip(IpProto::Tcp, "127.0.0.1:80", None, LISTEN);
    assert_eq!(s.file_flags(&tcp), Some(SEL_NA));
    assert!(!s.all_found(), ":80 was not the first match");
    let udp = ip(IpProto::Udp, "127.0.0.1:80", None, UDP_UNCONNECTED);
    assert_eq!(s.file_flags(&udp), Some(SEL_NA));
    assert!(s.all_found());
}

#[test]
fn tcp_states_apply_to_tcp_only() {
    let mut opts = parse(&["-i"]);
    opts.states = vec![crate::cli::options::StateSpec {
        protocol: "TCP".into(),
        states: vec![Item {
            value: "LISTEN".into(),
            excluded: false,
        }],
    }];
    let s = NetworkSelection::new(&opts, &Names::new()).expect("no names");
    let listen = ip(IpProto::Tcp, "127.0.0.1:80", None, LISTEN);
    let est = ip(
        IpProto::Tcp,
        "127.0.0.1:80",
        Some("127.0.0.1:9"),
        ESTABLISHED,
    );
    let udp = ip(IpProto::Udp, "127.0.0.1:53", None, UDP_UNCONNECTED);
    assert_eq!(s.file_flags(&est), None);
    assert!(!s.all_found());
    assert_eq!(s.file_flags(&listen), Some(SEL_NET));
    assert_eq!(s.file_flags(&udp), Some(SEL_NET), "lsof 4.95 excludes it");
    assert!(s.all_found());
}

#[test]
fn unix_sockets_and_the_scan_filter() {
    let unix = OpenFile {
        socket: Some(Box::new(SocketInfo::Unix(UnixSocket {
            addr: 0,
            sock_type: 1,
            state: 3,
            flags: 0,
            path: None,
            peer: None,
        }))),
        ..OpenFile::default()
    };
    assert_eq!(selection(&["-U"]).file_flags(&unix), Some(SEL_UNX));
    assert_eq!(selection(&["-i"]).file_flags(&unix), Some(0));
    let s = selection(&["-a", "-i", ":80", "-U"]);
    let info = unix.socket.as_deref();
    assert!(!s.may_select_socket(info), "-a needs every network flag");
    assert!(selection(&["-i", ":80", "-U"]).may_select_socket(info));
    assert!(!selection(&["-i"]).may_select_socket(None));
}

#[test]
fn verbose_lines_for_what_found_nothing() {
    let s = selection(&["-i", ":1", "-i", ":2", "-i", ":1", "-s", "UDP:ESTABLISHED"]);
    assert_eq!(
        s.not_found(),
        [
            "Internet address not located: :1",
            "Internet address not located: :2",
            "UDP state not located: ESTABLISHED",
        ]
    );
    let connected = ip(
        IpProto::Udp,
        "127.0.0.1:2",
        Some("127.0.0.1:9"),
        ESTABLISHED,
    );
    assert_eq!(s.file_flags(&connected), Some(SEL_NA));
    assert_eq!(s.not_found(), ["Internet address not located: :1"]);
}
