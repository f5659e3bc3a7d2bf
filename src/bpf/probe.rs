//! The described-sockets program's check when it is loaded: sockets of
//! every kind it describes, made here so that each member it reads has a
//! known value (IPv4 and IPv6 addresses and ports, both ends of a
//! connection, TCP states, a listener's backlog, unread TCP bytes and an
//! unread UDP datagram, a UNIX name, a netlink port, a packet protocol),
//! described by the program exactly as `/proc/net`'s tables describe them.
//! A member misread on some kernel then disables the program rather than
//! a listing's bytes.

use std::io::Write;
use std::net::{Ipv4Addr, Ipv6Addr, TcpListener, TcpStream, UdpSocket};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use super::DescribedSocket;
use crate::net::store::InodeSet;
use crate::net::NetTables;

/// Sockets held while they are described.
#[derive(Default)]
pub(super) struct Probes {
    /// Each probe's descriptor, with what it is for the reasons.
    sockets: Vec<(RawFd, &'static str)>,
    _tcp: Vec<TcpStream>,
    _listeners: Vec<TcpListener>,
    _udp: Vec<UdpSocket>,
    _other: Vec<OwnedFd>,
    _unix: Vec<std::os::unix::net::UnixDatagram>,
}

impl Probes {
    /// Makes the probe sockets (IPv6 and packet ones only where this
    /// machine has them: where it has not, no socket of theirs is misread).
    pub(super) fn make() -> std::io::Result<Probes> {
        let mut probes = Probes::default();
        probes.tcp(Ipv4Addr::LOCALHOST.into(), "TCP over IPv4")?;
        if TcpListener::bind((Ipv6Addr::LOCALHOST, 0)).is_ok() {
            probes.tcp(Ipv6Addr::LOCALHOST.into(), "TCP over IPv6")?;
            probes.udp(Ipv6Addr::LOCALHOST.into(), "UDP over IPv6")?;
        }
        probes.udp(Ipv4Addr::LOCALHOST.into(), "UDP over IPv4")?;
        probes.unix()?;
        probes.netlink()?;
        // Without CAP_NET_RAW (or the packet family) there is none to read.
        let ip = i32::from((libc::ETH_P_IP as u16).to_be());
        if let Some(packet) = socket(libc::AF_PACKET, libc::SOCK_DGRAM, ip) {
            probes.keep(packet, "packet");
        }
        Ok(probes)
    }

    fn keep(&mut self, fd: OwnedFd, what: &'static str) {
        self.sockets.push((fd.as_raw_fd(), what));
        self._other.push(fd);
    }

    /// A listener with a connection it has not accepted (its backlog),
    /// another accepted one whose peer sent bytes not yet read (a receive
    /// queue), and the clients (remote address and port, ESTABLISHED).
    fn tcp(&mut self, host: std::net::IpAddr, what: &'static str) -> std::io::Result<()> {
        let listener = TcpListener::bind((host, 0))?;
        let address = listener.local_addr()?;
        let mut sender = TcpStream::connect(address)?;
        let (accepted, _) = listener.accept()?;
        sender.write_all(b"probe")?;
        let waiting = TcpStream::connect(address)?;
        for socket in [&sender, &accepted, &waiting] {
            self.sockets.push((socket.as_raw_fd(), what));
        }
        self.sockets.push((listener.as_raw_fd(), what));
        self._tcp.extend([sender, accepted, waiting]);
        self._listeners.push(listener);
        Ok(())
    }

    /// Two connected sockets, one with a datagram it has not read.
    fn udp(&mut self, host: std::net::IpAddr, what: &'static str) -> std::io::Result<()> {
        let (a, b) = (UdpSocket::bind((host, 0))?, UdpSocket::bind((host, 0))?);
        a.connect(b.local_addr()?)?;
        b.connect(a.local_addr()?)?;
        a.send(b"probe")?;
        self.sockets.push((a.as_raw_fd(), what));
        self.sockets.push((b.as_raw_fd(), what));
        self._udp.extend([a, b]);
        Ok(())
    }

    /// A datagram socket with an abstract name.
    fn unix(&mut self) -> std::io::Result<()> {
        use std::os::linux::net::SocketAddrExt;
        let name = format!("rlsof-probe-{}", std::process::id());
        let address = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())?;
        let unix = std::os::unix::net::UnixDatagram::bind_addr(&address)?;
        self.sockets.push((unix.as_raw_fd(), "UNIX"));
        self._unix.push(unix);
        Ok(())
    }

    /// A routing socket bound to a port the kernel picks.
    fn netlink(&mut self) -> std::io::Result<()> {
        let fd = socket(libc::AF_NETLINK, libc::SOCK_RAW, libc::NETLINK_ROUTE)
            .ok_or_else(std::io::Error::last_os_error)?;
        // SAFETY: a zeroed sockaddr_nl is valid (port 0: the kernel picks).
        let mut address: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        address.nl_family = libc::AF_NETLINK as u16;
        let size = std::mem::size_of::<libc::sockaddr_nl>() as u32;
        // SAFETY: bind(2) on our socket with an address of the given size.
        let bound = unsafe { libc::bind(fd.as_raw_fd(), (&raw const address).cast(), size) };
        if bound != 0 {
            return Err(std::io::Error::last_os_error());
        }
        self.keep(fd, "netlink");
        Ok(())
    }

    /// Checks `described` (the program's output for our process) against
    /// the tables: each probe described, and as its table says.
    pub(super) fn check(&self, described: &[DescribedSocket]) -> Result<(), String> {
        let mut found = Vec::new();
        for &(fd, what) in &self.sockets {
            let socket = described
                .iter()
                .find(|s| s.fd == fd as u32)
                .ok_or_else(|| format!("{what} socket (fd {fd}) not reported"))?;
            found.push((socket, what));
        }
        let inodes: Vec<u64> = found.iter().map(|(s, _)| s.inode).collect();
        let proc = std::path::Path::new("/proc");
        let tables = NetTables::only(proc, InodeSet::from(inodes));
        let own = tables.own_netns();
        for (socket, what) in found {
            let table = socket
                .raw
                .table()
                .ok_or_else(|| format!("{what} socket: no table for its kind"))?;
            let says = tables.lookup_in(own, 0, socket.inode, &[table]);
            let described = socket.raw.describe();
            if says.is_none() || described != says {
                return Err(format!(
                    "{what} socket (fd {}): described as {described:?}, its table says {says:?}",
                    socket.fd
                ));
            }
        }
        Ok(())
    }
}

/// A fresh close-on-exec socket, or None.
fn socket(family: i32, kind: i32, protocol: i32) -> Option<OwnedFd> {
    // SAFETY: plain socket(2); the result is checked before use.
    let raw = unsafe { libc::socket(family, kind | libc::SOCK_CLOEXEC, protocol) };
    // SAFETY: `raw` is a fresh descriptor we own.
    (raw >= 0).then(|| unsafe { OwnedFd::from_raw_fd(raw) })
}
