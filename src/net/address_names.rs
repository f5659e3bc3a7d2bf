//! Host and service names for IP addresses and ports, as lsof prints them
//! without `-n`/`-P`: `localhost:domain`, `*:ssh`, `[::1]:57401`.
//!
//! lsof asks the resolver (`gethostbyaddr`: /etc/hosts, then DNS) and, for
//! TCP and UDP only, the services database (the first entry for a port and
//! protocol wins). Other protocols (UDPLITE) always show port numbers.

use std::collections::HashMap;
use std::ffi::CStr;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock, PoisonError};

use super::addr::is_wildcard;
use crate::model::IpProto;

/// The services database, parsed once.
#[derive(Debug, Default)]
struct Services {
    by_port: HashMap<(u16, ServiceProto), String>,
    by_name: HashMap<(String, ServiceProto), u16>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum ServiceProto {
    Tcp,
    Udp,
}

impl ServiceProto {
    fn of(proto: IpProto) -> Option<ServiceProto> {
        match proto {
            IpProto::Tcp => Some(ServiceProto::Tcp),
            IpProto::Udp => Some(ServiceProto::Udp),
            _ => None,
        }
    }
}

fn parse_services(text: &[u8]) -> Services {
    let mut services = Services::default();
    for line in text.split(|&b| b == b'\n') {
        let line = line.split(|&b| b == b'#').next().unwrap_or_default();
        let Ok(line) = std::str::from_utf8(line) else {
            continue;
        };
        let mut words = line.split_ascii_whitespace();
        let (Some(name), Some(port_proto)) = (words.next(), words.next()) else {
            continue;
        };
        let Some((port, proto)) = port_proto.split_once('/') else {
            continue;
        };
        let proto = if proto.eq_ignore_ascii_case("tcp") {
            ServiceProto::Tcp
        } else if proto.eq_ignore_ascii_case("udp") {
            ServiceProto::Udp
        } else {
            continue;
        };
        let Ok(port) = port.parse::<u16>() else {
            continue;
        };
        services
            .by_port
            .entry((port, proto))
            .or_insert_with(|| name.to_string());
        for alias in std::iter::once(name).chain(words) {
            services
                .by_name
                .entry((alias.to_string(), proto))
                .or_insert(port);
        }
    }
    services
}

/// Name lookups for one run, cached; usable from several threads.
pub struct Names {
    services_path: PathBuf,
    services: OnceLock<Services>,
    hosts: Mutex<HashMap<IpAddr, String>>,
}

impl Default for Names {
    fn default() -> Self {
        Names::new()
    }
}

impl Names {
    /// Services from `/etc/services`, hosts from the system resolver.
    pub fn new() -> Names {
        Names::with_services_file(Path::new("/etc/services"))
    }

    pub fn with_services_file(path: &Path) -> Names {
        Names {
            services_path: path.to_path_buf(),
            services: OnceLock::new(),
            hosts: Mutex::new(HashMap::new()),
        }
    }

    fn services(&self) -> &Services {
        self.services.get_or_init(|| {
            std::fs::read(&self.services_path)
                .map(|text| parse_services(&text))
                .unwrap_or_default()
        })
    }

    /// The host name of an address (reverse lookup, cached), or its
    /// numeric form: `a.b.c.d`, or `[v6]` in brackets as lsof prints it.
    /// Wildcards are the caller's (lsof shows `*`, see [`Names::endpoint`]).
    pub fn host(&self, ip: IpAddr) -> String {
        if let Some(name) = self.lock_hosts().get(&ip) {
            return name.clone();
        }
        // Not holding the lock: a slow DNS answer must not stall other threads.
        let name = reverse_lookup(ip).unwrap_or_else(|| numeric_host(ip));
        self.lock_hosts().entry(ip).or_insert(name).clone()
    }

    fn lock_hosts(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, String>> {
        self.hosts.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The service name of a TCP or UDP port (None for other protocols,
    /// as in lsof).
    pub fn service(&self, port: u16, proto: IpProto) -> Option<&str> {
        let proto = ServiceProto::of(proto)?;
        self.services()
            .by_port
            .get(&(port, proto))
            .map(String::as_str)
    }

    /// The port of a service name or alias for `-i :name` (TCP or UDP).
    pub fn port_by_name(&self, name: &str, proto: IpProto) -> Option<u16> {
        let proto = ServiceProto::of(proto)?;
        self.services()
            .by_name
            .get(&(name.to_string(), proto))
            .copied()
    }

    /// One end as lsof prints it in NAME: `host:port`, `*` for the wildcard
    /// host and for port 0; names unless `-n` (`resolve_hosts` false) or
    /// `-P` (`resolve_ports` false).
    pub fn endpoint(
        &self,
        ip: IpAddr,
        port: u16,
        proto: IpProto,
        resolve_hosts: bool,
        resolve_ports: bool,
    ) -> String {
        let host = if is_wildcard(ip) {
            "*".to_string()
        } else if resolve_hosts {
            self.host(ip)
        } else {
            numeric_host(ip)
        };
        let service = resolve_ports.then(|| self.service(port, proto)).flatten();
        match (port, service) {
            (0, _) => format!("{host}:*"),
            (_, Some(name)) => format!("{host}:{name}"),
            (_, None) => format!("{host}:{port}"),
        }
    }
}

/// The numeric form lsof prints: dotted IPv4, bracketed IPv6 (`[::1]`).
pub(crate) fn numeric_host(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("[{}]", inet_ntop6(&v6.octets()).unwrap_or(v6.to_string())),
    }
}

extern "C" {
    // In the C library; the libc crate does not declare it.
    fn inet_ntop(
        af: libc::c_int,
        src: *const libc::c_void,
        dst: *mut libc::c_char,
        size: libc::socklen_t,
    ) -> *const libc::c_char;
}

/// glibc's spelling of an IPv6 address, which differs from Rust's for
/// IPv4-compatible addresses (`::1.2.3.4`).
fn inet_ntop6(octets: &[u8; 16]) -> Option<String> {
    let mut text = [0 as libc::c_char; 64];
    // SAFETY: in6_addr-sized input and a buffer larger than INET6_ADDRSTRLEN.
    let done = unsafe {
        inet_ntop(
            libc::AF_INET6,
            octets.as_ptr().cast(),
            text.as_mut_ptr(),
            text.len() as libc::socklen_t,
        )
    };
    if done.is_null() {
        return None;
    }
    // SAFETY: inet_ntop wrote a NUL-terminated string into `text`.
    let text = unsafe { CStr::from_ptr(text.as_ptr()) };
    Some(text.to_string_lossy().into_owned())
}

/// Reverse lookup through the system resolver; None when it has no name.
fn reverse_lookup(ip: IpAddr) -> Option<String> {
    let mut host = [0 as libc::c_char; 1025];
    // SAFETY: zeroed sockaddr structures of the right family and length,
    // and a host buffer of NI_MAXHOST bytes.
    let status = unsafe {
        match ip {
            IpAddr::V4(v4) => {
                let mut sa: libc::sockaddr_in = std::mem::zeroed();
                sa.sin_family = libc::AF_INET as libc::sa_family_t;
                sa.sin_addr.s_addr = u32::from_ne_bytes(v4.octets());
                libc::getnameinfo(
                    (&sa as *const libc::sockaddr_in).cast(),
                    std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
                    host.as_mut_ptr(),
                    host.len() as libc::socklen_t,
                    std::ptr::null_mut(),
                    0,
                    libc::NI_NAMEREQD,
                )
            }
            IpAddr::V6(v6) => {
                let mut sa: libc::sockaddr_in6 = std::mem::zeroed();
                sa.sin6_family = libc::AF_INET6 as libc::sa_family_t;
                sa.sin6_addr.s6_addr = v6.octets();
                libc::getnameinfo(
                    (&sa as *const libc::sockaddr_in6).cast(),
                    std::mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t,
                    host.as_mut_ptr(),
                    host.len() as libc::socklen_t,
                    std::ptr::null_mut(),
                    0,
                    libc::NI_NAMEREQD,
                )
            }
        }
    };
    if status != 0 {
        return None;
    }
    // SAFETY: getnameinfo succeeded and wrote a NUL-terminated name.
    let name = unsafe { CStr::from_ptr(host.as_ptr()) };
    let name = name.to_string_lossy().into_owned();
    (!name.is_empty()).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERVICES: &[u8] = b"# comment
tcpmux\t\t1/tcp\t\t\t\t# TCP port service multiplexer
ssh\t\t22/tcp\t\t\t\t# SSH Remote Login Protocol
domain\t\t53/tcp
domain\t\t53/udp
http\t\t80/tcp\t\twww\t\t# WorldWideWeb HTTP
second\t\t80/tcp
weird\t\t99999/tcp
sctponly\t\t9/sctp
broken
";

    fn names() -> Names {
        let names = Names::with_services_file(Path::new("/nonexistent"));
        let _ = names.services.set(parse_services(SERVICES));
        names
    }

    #[test]
    fn services_first_entry_wins_and_only_tcp_udp() {
        let names = names();
        assert_eq!(names.service(22, IpProto::Tcp), Some("ssh"));
        assert_eq!(names.service(22, IpProto::Udp), None);
        assert_eq!(names.service(53, IpProto::Udp), Some("domain"));
        assert_eq!(names.service(53, IpProto::UdpLite), None);
        assert_eq!(names.service(80, IpProto::Tcp), Some("http"));
        assert_eq!(names.port_by_name("www", IpProto::Tcp), Some(80));
        assert_eq!(names.port_by_name("http", IpProto::Udp), None);
        assert_eq!(names.port_by_name("sctponly", IpProto::Tcp), None);
    }

    #[test]
    fn endpoints_as_lsof_prints_them() {
        let names = names();
        let any4: IpAddr = "0.0.0.0".parse().unwrap();
        let lo6: IpAddr = "::1".parse().unwrap();
        assert_eq!(names.endpoint(any4, 22, IpProto::Tcp, true, true), "*:ssh");
        assert_eq!(names.endpoint(any4, 22, IpProto::Tcp, true, false), "*:22");
        assert_eq!(names.endpoint(any4, 0, IpProto::Udp, true, true), "*:*");
        assert_eq!(
            names.endpoint(lo6, 5555, IpProto::UdpLite, false, true),
            "[::1]:5555"
        );
        let lo4: IpAddr = "127.0.0.1".parse().unwrap();
        assert_eq!(
            names.endpoint(lo4, 53, IpProto::Udp, false, true),
            "127.0.0.1:domain"
        );
    }

    #[test]
    fn numeric_hosts() {
        assert_eq!(numeric_host("10.1.2.3".parse().unwrap()), "10.1.2.3");
        assert_eq!(numeric_host("::1".parse().unwrap()), "[::1]");
        assert_eq!(numeric_host("fe80::1".parse().unwrap()), "[fe80::1]");
        assert_eq!(
            numeric_host("::ffff:1.2.3.4".parse().unwrap()),
            "[::ffff:1.2.3.4]"
        );
    }

    /// This machine's /etc/hosts names 127.0.0.1 `localhost` and has no
    /// name for ::1 (lsof prints `localhost:41303` and `[::1]:57401`).
    #[test]
    fn system_resolver_for_loopback() {
        let names = Names::new();
        let lo4 = names.host("127.0.0.1".parse().unwrap());
        assert!(!lo4.is_empty());
        if std::fs::read_to_string("/etc/hosts").is_ok_and(|h| h.contains("127.0.0.1 localhost")) {
            assert_eq!(lo4, "localhost");
        }
        assert_eq!(names.host("127.0.0.1".parse().unwrap()), lo4, "cached");
    }

    #[test]
    fn garbage_services_file() {
        let services = parse_services(b"\xff\xfe 1/tcp\n/\n a/b/c\n x 1/\n y /tcp\n");
        assert!(services.by_port.is_empty());
    }
}
