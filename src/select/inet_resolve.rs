//! `-i` arguments resolved into address entries: host names looked up
//! and service names turned into ports as lsof does, with its messages.

use std::net::{IpAddr, Ipv4Addr};

use crate::cli::lookup_messages;
use crate::cli::options::{InetSpec, PortSpec};
use crate::model::IpProto;
use crate::net::resolve::host_addresses;
use crate::net::Names;

/// One resolved `-i` address entry (a port range of one host address).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Address {
    /// Index of the first `-i` argument with the same text.
    pub arg: usize,
    pub proto: Option<IpProto>,
    /// 4 or 6, when a version or an address was given.
    pub family: Option<u8>,
    pub addr: Option<IpAddr>,
    /// Inclusive port range; None for any port.
    pub ports: Option<(u32, u32)>,
}

/// The address entries of one `-i` argument, in the order lsof enters them.
pub(super) fn resolve(spec: &InetSpec, arg: usize, names: &Names) -> Result<Vec<Address>, String> {
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
        hosts = answer.ok_or_else(|| lookup_messages::unknown_host(name, &spec.text))?;
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
                return Err(lookup_messages::bad_port_range(&spec.text));
            }
            (u32::from(*lo), hi)
        }
        PortSpec::Unparsable(problem) => {
            return Err(lookup_messages::inet_problem(problem, &spec.text))
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
            .ok_or_else(|| lookup_messages::unknown_service(name, Some(&lower), &spec.text));
    }
    let tcp = names.port_by_name(name, IpProto::Tcp);
    let udp = names.port_by_name(name, IpProto::Udp);
    match (tcp, udp) {
        (None, None) => Err(lookup_messages::unknown_service(name, None, &spec.text)),
        (Some(t), Some(u)) if t != u => Err(lookup_messages::service_ports_conflict(
            t, u, name, &spec.text,
        )),
        (Some(p), _) | (None, Some(p)) => Ok(u32::from(p)),
    }
}
