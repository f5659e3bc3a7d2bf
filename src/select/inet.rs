//! lsof's network selections: `-i` (Internet files, all or by address),
//! `-U` (UNIX sockets) and `-s TCP:states`.
//!
//! Each socket file gets the flags lsof gives it: SEL_NET (a TCP, UDP or
//! UDPLITE socket under `-i`, `-i4`, `-i6`), SEL_NA (one of its ends matches
//! an `-i` address), SEL_UNX (a UNIX socket under `-U`); or it is excluded
//! outright by its TCP state. Which search items found something is
//! recorded for the exit status, as lsof does: an `-i` address counts as
//! found only when it is the first of the list (last given first) that an
//! end matches.
//!
//! Unlike lsof 4.95, the `-s TCP:` state list applies to TCP sockets only
//! (lsof applies it to UDP sockets too, reading their table state as a TCP
//! state: an unconnected UDP socket is "CLOSE").

use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicBool, Ordering};

use super::{SEL_NA, SEL_NET, SEL_UNX};
use crate::cli::later;
use crate::cli::options::{InetSpec, Options, PortSpec};
use crate::model::{IpProto, IpSocket, OpenFile, SocketInfo, TcpState};
use crate::net::resolve::host_addresses;
use crate::net::{lsof_endpoints, Names};

/// TCP states lsof can select, by kernel number.
const STATES: usize = TcpState::NAMES.len();

/// The selection flags `opts` asks for (no I/O).
pub fn selection_flags(opts: &Options) -> u32 {
    let mut flags = 0;
    if opts.inet_selected {
        flags |= SEL_NET;
    }
    if !opts.inet.is_empty() {
        flags |= SEL_NA;
    }
    if opts.unix_sockets {
        flags |= SEL_UNX;
    }
    flags
}

/// One resolved `-i` address entry (a port range of one host address).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Address {
    /// Index of the first `-i` argument with the same text.
    arg: usize,
    proto: Option<IpProto>,
    /// 4 or 6, when a version or an address was given.
    family: Option<u8>,
    addr: Option<IpAddr>,
    /// Inclusive port range; None for any port.
    ports: Option<(u32, u32)>,
}

#[derive(Debug, Default)]
pub struct NetworkSelection {
    /// `-i`, `-i4`, `-i6`: Some(family), None for both families.
    all_inet: Option<Option<u8>>,
    inet_found: AtomicBool,
    /// In lsof's search order: the last given first.
    addresses: Vec<Address>,
    arg_found: Vec<AtomicBool>,
    unix: bool,
    included: [bool; STATES],
    excluded: [bool; STATES],
    state_found: [AtomicBool; STATES],
    /// `-s UDP:ESTABLISHED` (connected UDP sockets): Some(true) selects
    /// them, Some(false) (`^ESTABLISHED`) excludes them.
    udp_connected: Option<bool>,
    udp_found: AtomicBool,
    /// Under `-a`: the network flags a file needs (for the scan's filter).
    required: Option<u32>,
}

impl NetworkSelection {
    /// Resolves host and service names of the `-i` addresses; the error is
    /// lsof's messages (the caller adds the short usage and exits 1).
    pub fn new(opts: &Options, names: &Names) -> Result<NetworkSelection, String> {
        let mut selection = NetworkSelection {
            all_inet: opts.inet_selected.then_some(opts.inet_family),
            unix: opts.unix_sockets,
            ..NetworkSelection::default()
        };
        // lsof reports every -i it cannot resolve, then fails.
        let mut errors = String::new();
        for (index, spec) in opts.inet.iter().enumerate() {
            let arg = opts
                .inet
                .iter()
                .position(|s| s.text == spec.text)
                .unwrap_or(index);
            match resolve(spec, arg, names) {
                Ok(addresses) => selection.addresses.extend(addresses),
                Err(message) => errors.push_str(&message),
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        if opts.skip_tcp_udp && (opts.inet_selected || !opts.inet.is_empty()) {
            return Err(format!(
                "{}: -i is useless when -X is specified.\n",
                crate::cli::PROGRAM
            ));
        }
        selection.addresses.reverse();
        selection.arg_found = opts.inet.iter().map(|_| AtomicBool::new(false)).collect();
        for spec in opts.states.iter().filter(|s| s.protocol == "TCP") {
            for state in &spec.states {
                let Some(number) = TcpState::named(&state.value).map(|s| usize::from(s.0)) else {
                    continue;
                };
                if state.excluded {
                    selection.excluded[number] = true;
                } else {
                    selection.included[number] = true;
                }
            }
        }
        for spec in opts.states.iter().filter(|s| s.protocol == "UDP") {
            for state in &spec.states {
                selection.udp_connected = Some(!state.excluded);
            }
        }
        let network = selection_flags(opts);
        if opts.and && network != 0 {
            selection.required = Some(network);
        }
        Ok(selection)
    }

    /// The network flags of a file, or None when its TCP state excludes it
    /// (from every listing, as lsof's SELEXCLF). Records what was found.
    pub fn file_flags(&self, file: &OpenFile) -> Option<u32> {
        match file.socket.as_deref() {
            Some(SocketInfo::Ip(ip)) => self.ip_flags(ip),
            Some(SocketInfo::Unix(_)) if self.unix => Some(SEL_UNX),
            _ => Some(0),
        }
    }

    fn ip_flags(&self, ip: &IpSocket) -> Option<u32> {
        if !matches!(ip.proto, IpProto::Tcp | IpProto::Udp | IpProto::UdpLite) {
            return Some(0);
        }
        if ip.proto != IpProto::Tcp {
            if let Some(wanted) = self.udp_connected {
                // The kernel's UDP table says 1 (TCP_ESTABLISHED) once connected.
                let connected = ip.state.is_some_and(|s| s.0 == 1);
                if connected != wanted {
                    return None;
                }
                if wanted {
                    self.udp_found.store(true, Ordering::Relaxed);
                }
            }
        }
        if ip.proto == IpProto::Tcp {
            if let Some(state) = ip.state.map(|s| usize::from(s.0)).filter(|&s| s < STATES) {
                if self.excluded[state] {
                    return None;
                }
                if self.included.iter().any(|&i| i) {
                    if !self.included[state] {
                        return None;
                    }
                    self.state_found[state].store(true, Ordering::Relaxed);
                }
            }
        }
        let mut flags = 0;
        if let Some(family) = self.all_inet {
            let other = if ip.v6 { 4 } else { 6 };
            if family != Some(other) {
                flags |= SEL_NET;
                self.inet_found.store(true, Ordering::Relaxed);
            }
        }
        if !self.addresses.is_empty() {
            let (local, remote) = lsof_endpoints(ip);
            let remote_match = remote.is_some_and(|end| self.match_end(ip.proto, end));
            let local_match = local.is_some_and(|end| self.match_end(ip.proto, end));
            if remote_match || local_match {
                flags |= SEL_NA;
            }
        }
        Some(flags)
    }

    /// lsof's is_nw_addr: the first address entry that matches is found.
    fn match_end(&self, proto: IpProto, (ip, port): (IpAddr, u16)) -> bool {
        let family = if ip.is_ipv4() { 4 } else { 6 };
        let port = u32::from(port);
        let hit = self.addresses.iter().find(|a| {
            a.proto.is_none_or(|p| p == proto)
                && a.family.is_none_or(|f| f == family)
                && a.addr.is_none_or(|addr| addr == ip)
                && a.ports.is_none_or(|(lo, hi)| lo <= port && port <= hi)
        });
        match hit {
            Some(address) => {
                if let Some(found) = self.arg_found.get(address.arg) {
                    found.store(true, Ordering::Relaxed);
                }
                true
            }
            None => false,
        }
    }

    /// Whether a socket the scan is about to skip could be listed: its
    /// network flags alone must select it (any of them, or under `-a` all
    /// the network selections). `info` is None for a socket in no table.
    pub fn may_select_socket(&self, info: Option<&SocketInfo>) -> bool {
        let file = OpenFile {
            socket: info.map(|i| Box::new(i.clone())),
            ..OpenFile::default()
        };
        match self.file_flags(&file) {
            None => false,
            Some(flags) => match self.required {
                Some(required) => flags & required == required,
                None => flags != 0,
            },
        }
    }

    /// True when every `-i` item and included TCP state found something.
    pub fn all_found(&self) -> bool {
        let found = |f: &AtomicBool| f.load(Ordering::Relaxed);
        let inet = self.all_inet.is_none() || found(&self.inet_found);
        let addresses = self
            .addresses
            .iter()
            .all(|a| self.arg_found.get(a.arg).is_none_or(found));
        let states = (0..STATES).all(|s| !self.included[s] || found(&self.state_found[s]));
        let udp = self.udp_connected != Some(true) || found(&self.udp_found);
        inet && addresses && states && udp
    }
}

/// The address entries of one `-i` argument, in the order lsof enters them.
fn resolve(spec: &InetSpec, arg: usize, names: &Names) -> Result<Vec<Address>, String> {
    let proto = match spec.protocol.as_deref() {
        Some("TCP") => Some(IpProto::Tcp),
        Some("UDP") => Some(IpProto::Udp),
        Some("UDPLITE") => Some(IpProto::UdpLite),
        _ => None,
    };
    let given = spec.family;
    let mut family = given;
    let mut hosts: Vec<IpAddr> = spec.addr.into_iter().collect();
    if let Some(addr) = spec.addr {
        family = Some(if addr.is_ipv4() { 4 } else { 6 });
    }
    let host_name = spec.host.as_deref();
    if let Some(name) = host_name {
        let mut answer = host_addresses(name, given.unwrap_or(6));
        family = Some(given.unwrap_or(6));
        if answer.is_none() && given.is_none() {
            family = Some(4);
            answer = host_addresses(name, 4);
        }
        hosts = answer.ok_or_else(|| later::unknown_host(name, &spec.text))?;
    }
    // Ports after the host, as lsof reads them (its first error wins).
    let mut ranges = Vec::new();
    for port in &spec.ports {
        ranges.push(Some(port_range(spec, port, proto, names)?));
    }
    if ranges.is_empty() {
        ranges.push(None);
    }
    let mut out = Vec::new();
    for ports in ranges {
        loop {
            let addrs: Vec<Option<IpAddr>> = if hosts.is_empty() {
                vec![None]
            } else {
                hosts.iter().map(|&h| as_family(h, family)).collect()
            };
            for addr in addrs {
                out.push(Address {
                    arg,
                    proto,
                    family,
                    addr,
                    ports,
                });
            }
            // lsof then looks the name up as IPv4 too; it keeps doing so
            // only while the family is still IPv6, i.e. for the first port.
            if let (Some(name), Some(6), false) = (host_name, family, given == Some(6)) {
                family = Some(4);
                match host_addresses(name, 4) {
                    Some(v4) => {
                        hosts = v4;
                        continue;
                    }
                    None => hosts.truncate(1),
                }
            }
            break;
        }
    }
    Ok(out)
}

/// An address as lsof compares it under `family`: its first 4 bytes when
/// an IPv6 answer is kept under IPv4; the unspecified address matches any.
fn as_family(host: IpAddr, family: Option<u8>) -> Option<IpAddr> {
    let addr = match (host, family) {
        (IpAddr::V6(v6), Some(4)) => {
            let o = v6.octets();
            IpAddr::V4(Ipv4Addr::new(o[0], o[1], o[2], o[3]))
        }
        (other, _) => other,
    };
    (!addr.is_unspecified()).then_some(addr)
}

fn port_range(
    spec: &InetSpec,
    port: &PortSpec,
    proto: Option<IpProto>,
    names: &Names,
) -> Result<(u32, u32), String> {
    Ok(match port {
        PortSpec::Range(lo, hi) => (u32::from(*lo), u32::from(*hi)),
        PortSpec::Service(name) => {
            let p = service_port(spec, name, proto, names)?;
            (p, p)
        }
        PortSpec::RangeToService(lo, name) => {
            let hi = service_port(spec, name, proto, names)?;
            if hi < u32::from(*lo) {
                return Err(later::bad_port_range(&spec.text));
            }
            (u32::from(*lo), hi)
        }
    })
}

/// lsof's getservbyname: the given protocol's port, or TCP's and UDP's,
/// which must then agree.
fn service_port(
    spec: &InetSpec,
    name: &str,
    proto: Option<IpProto>,
    names: &Names,
) -> Result<u32, String> {
    if let Some(proto) = proto {
        let lower = spec.protocol.as_deref().unwrap_or("").to_ascii_lowercase();
        return names
            .port_by_name(name, proto)
            .map(u32::from)
            .ok_or_else(|| later::unknown_service(name, Some(&lower), &spec.text));
    }
    let tcp = names.port_by_name(name, IpProto::Tcp);
    let udp = names.port_by_name(name, IpProto::Udp);
    match (tcp, udp) {
        (None, None) => Err(later::unknown_service(name, None, &spec.text)),
        (Some(t), Some(u)) if t != u => Err(later::service_ports_conflict(t, u, name, &spec.text)),
        (Some(p), _) | (None, Some(p)) => Ok(u32::from(p)),
    }
}

impl crate::scan::socket::SocketFilter for NetworkSelection {
    fn may_select(&self, info: Option<&SocketInfo>) -> bool {
        self.may_select_socket(info)
    }

    fn ip_only(&self) -> bool {
        !self.unix
    }
}

/// lsof's file selecters (SELFILE) and process selecters (SELPROC).
const FILE_SELECTIONS: u32 = super::SEL_FD | super::SEL_NFS | super::SEL_NLINK | super::SEL_NM;
const PROCESS_SELECTIONS: u32 =
    super::SEL_CMD | super::SEL_PGID | super::SEL_PID | super::SEL_UID | super::SEL_TASK;
const NETWORK_SELECTIONS: u32 = SEL_NA | SEL_NET | SEL_UNX;

impl super::Selection {
    /// When only socket files can be listed (lsof's Ckscko): Some(mask)
    /// means a process whose selection flags have no bit of `mask` needs
    /// only its socket descriptors read (no cwd, txt, maps, other files);
    /// Some(0): every process; None: read everything.
    pub fn sockets_only_unless(&self) -> Option<u32> {
        if self.all || self.flags & NETWORK_SELECTIONS == 0 {
            return None;
        }
        if self.and || self.flags & !NETWORK_SELECTIONS == 0 {
            return Some(0);
        }
        let process = if self.ignore_tasks {
            PROCESS_SELECTIONS & !super::SEL_TASK
        } else {
            PROCESS_SELECTIONS
        };
        if self.flags & FILE_SELECTIONS != 0 || self.flags & process == 0 {
            return None;
        }
        Some(process)
    }
}

#[cfg(test)]
#[path = "inet_tests.rs"]
mod tests;
