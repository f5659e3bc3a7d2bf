//! Address helpers shared by the printer and by `-i` selection, following
//! how lsof turns a table row into the addresses it shows and matches.

use std::net::{IpAddr, Ipv4Addr};

use crate::model::IpSocket;

/// The unspecified address (`0.0.0.0` or `::`), which lsof shows as `*`.
pub(crate) fn is_wildcard(ip: IpAddr) -> bool {
    ip.is_unspecified()
}

/// An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`).
pub(crate) fn is_v4_mapped(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(_) => false,
        IpAddr::V6(v6) => {
            let o = v6.octets();
            o[..10].iter().all(|&b| b == 0) && o[10] == 0xff && o[11] == 0xff
        }
    }
}

fn low_v4(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => {
            let o = v6.octets();
            IpAddr::V4(Ipv4Addr::new(o[12], o[13], o[14], o[15]))
        }
    }
}

/// An address and port.
pub(crate) type Endpoint = (IpAddr, u16);

/// The local and foreign ends lsof shows (and `-i` matches) for a TCP/UDP
/// socket: an end that is the wildcard with port 0 is absent; when either
/// present end of an IPv6 socket is IPv4-mapped, both are shown as IPv4
/// (lsof takes the low 4 bytes of both, mapped or not). The TYPE column
/// stays IPv6 (`socket.v6`), as does `-i 4`/`-i 6` selection.
pub(crate) fn lsof_endpoints(socket: &IpSocket) -> (Option<Endpoint>, Option<Endpoint>) {
    let present = |end: Endpoint| (!is_wildcard(end.0) || end.1 != 0).then_some(end);
    let local = present(socket.local);
    let remote = socket.remote.and_then(present);
    let mapped = local.is_some_and(|(ip, _)| is_v4_mapped(ip))
        || remote.is_some_and(|(ip, _)| is_v4_mapped(ip));
    if mapped {
        let unmap = |(ip, port): Endpoint| (low_v4(ip), port);
        (local.map(unmap), remote.map(unmap))
    } else {
        (local, remote)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{IpProto, TcpState};

    fn socket(local: (&str, u16), remote: Option<(&str, u16)>) -> IpSocket {
        IpSocket {
            proto: IpProto::Udp,
            v6: true,
            local: (local.0.parse().unwrap(), local.1),
            remote: remote.map(|(ip, port)| (ip.parse().unwrap(), port)),
            state: Some(TcpState(1)),
            recv_queue: 0,
            send_queue: 0,
            raw_proto: None,
        }
    }

    #[test]
    fn wildcards() {
        assert!(is_wildcard("0.0.0.0".parse().unwrap()));
        assert!(is_wildcard("::".parse().unwrap()));
        assert!(!is_wildcard("::1".parse().unwrap()));
    }

    #[test]
    fn mapped_addresses_show_as_ipv4() {
        let s = socket(("::ffff:127.0.0.1", 34536), Some(("::ffff:127.0.0.1", 80)));
        assert_eq!(
            lsof_endpoints(&s),
            (
                Some(("127.0.0.1".parse().unwrap(), 34536)),
                Some(("127.0.0.1".parse().unwrap(), 80))
            )
        );
        assert!(is_v4_mapped("::ffff:1.2.3.4".parse().unwrap()));
        assert!(!is_v4_mapped("::1".parse().unwrap()));
    }

    #[test]
    fn absent_ends() {
        let s = socket(("::", 0), None);
        assert_eq!(lsof_endpoints(&s), (None, None));
        let s = socket(("::", 53), None);
        assert_eq!(
            lsof_endpoints(&s),
            (Some(("::".parse().unwrap(), 53)), None)
        );
        let s = socket(("::1", 5), Some(("::1", 6)));
        assert_eq!(
            lsof_endpoints(&s),
            (
                Some(("::1".parse().unwrap(), 5)),
                Some(("::1".parse().unwrap(), 6))
            )
        );
    }
}
