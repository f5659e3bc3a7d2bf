//! `-i [46][proto][@host|addr][:svc_list|port_list]`. Host and service
//! names are kept as names; the caller resolves them.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::options::{InetSpec, PortSpec};
use super::state::{shown, State};

/// lsof's limit on address entries (one per port item).
const MAX_ADDRESS_ENTRIES: usize = 100;

/// `-i` with a value that is not an option.
pub(super) fn enter_inet(state: &mut State, text: &[u8]) {
    let mut spec = InetSpec {
        text: String::from_utf8_lossy(text).into_owned(),
        ..InetSpec::default()
    };
    let mut rest = text;
    let mut family = 0u8;
    if let Some(&digit @ (b'4' | b'6')) = text.first() {
        family = digit - b'0';
        rest = &text[1..];
        if rest.is_empty() {
            select_family(state, family);
            return;
        }
    } else if state.inet_any {
        family = state.inet_family;
    }
    spec.family = (family != 0).then_some(family);
    match parse_spec(&mut spec, rest, family) {
        Ok(()) => {
            let entries: usize = state.opts.inet.iter().map(entry_count).sum();
            if spec.protocol.is_none()
                && spec.host.is_none()
                && spec.addr.is_none_or(|a| a.is_unspecified())
                && spec.ports.is_empty()
            {
                state.error(format!(
                    "incomplete Internet address specification: -i {}",
                    shown(text)
                ));
            } else if entries + entry_count(&spec) > MAX_ADDRESS_ENTRIES {
                state.error(format!(
                    "network address limit ({MAX_ADDRESS_ENTRIES}) exceeded: -i {}",
                    shown(text)
                ));
            } else {
                state.opts.inet.push(spec);
            }
        }
        Err(problem) => state.error(format!("{problem} -i {}", shown(text))),
    }
}

fn entry_count(spec: &InetSpec) -> usize {
    spec.ports.len().max(1)
}

/// `-i4`, `-i6`: lsof combines them with earlier `-i` options this way.
fn select_family(state: &mut State, family: u8) {
    if !state.inet_any {
        state.inet_any = true;
        state.inet_family = family;
    } else if state.inet_family == 0 {
        state.inet_family = family;
    } else if state.inet_family != family {
        state.inet_family = 0;
    }
}

/// Fills `spec` from the text after the IP version; the error is the start
/// of lsof's message.
fn parse_spec(spec: &mut InetSpec, text: &[u8], family: u8) -> Result<(), String> {
    let mut rest = text;
    let proto_len = rest
        .iter()
        .position(|&b| b == b'@' || b == b':')
        .unwrap_or(rest.len());
    if proto_len > 0 {
        let proto = String::from_utf8_lossy(&rest[..proto_len]).into_owned();
        if !["tcp", "udp", "udplite"]
            .iter()
            .any(|p| p.eq_ignore_ascii_case(&proto))
        {
            return Err(format!("unknown protocol name ({proto}) in:"));
        }
        spec.protocol = Some(proto.to_ascii_uppercase());
        rest = &rest[proto_len..];
    }
    if let Some(after_at) = rest.strip_prefix(b"@") {
        rest = parse_host(spec, after_at, family)?;
    }
    if rest.is_empty() {
        return Ok(());
    }
    match rest.strip_prefix(b":") {
        Some(list) if !list.is_empty() => parse_ports(spec, list),
        _ => Err(BAD_PORT.to_string()),
    }
}

const BAD_ADDRESS: &str = "unacceptable Internet address in:";
const BAD_PORT: &str = "unacceptable port specification in:";

/// The host part after `@`; returns what follows it.
fn parse_host<'a>(spec: &mut InetSpec, text: &'a [u8], family: u8) -> Result<&'a [u8], String> {
    if text.is_empty() || text[0] == b':' {
        return Err(BAD_ADDRESS.to_string());
    }
    if let Some((addr, rest)) = ipv4_literal(text) {
        if family == 6 {
            return Err("IPv4 addresses are prohibited:".to_string());
        }
        spec.addr = Some(IpAddr::V4(addr));
        return Ok(rest);
    }
    if let Some(inner) = text.strip_prefix(b"[") {
        if family == 4 {
            return Err("IPv6 addresses are prohibited:".to_string());
        }
        let close = inner
            .iter()
            .rposition(|&b| b == b']')
            .ok_or_else(|| BAD_ADDRESS.to_string())?;
        let addr: Ipv6Addr = std::str::from_utf8(&inner[..close])
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| BAD_ADDRESS.to_string())?;
        if addr.is_unspecified() {
            return Err(BAD_ADDRESS.to_string());
        }
        let mapped = addr.to_ipv4_mapped();
        if mapped.is_some() && family == 6 {
            return Err("IPv4 addresses are prohibited:".to_string());
        }
        spec.addr = Some(mapped.map_or(IpAddr::V6(addr), IpAddr::V4));
        return Ok(&inner[close + 1..]);
    }
    let end = text.iter().position(|&b| b == b':').unwrap_or(text.len());
    spec.host = Some(String::from_utf8_lossy(&text[..end]).into_owned());
    Ok(&text[end..])
}

/// lsof's dotted-quad test: four decimal octets up to a `:` or the end.
fn ipv4_literal(text: &[u8]) -> Option<(Ipv4Addr, &[u8])> {
    if !text.first()?.is_ascii_digit() {
        return None;
    }
    let end = text.iter().position(|&b| b == b':').unwrap_or(text.len());
    let mut octets = [0u8; 4];
    let mut count = 0;
    for part in text[..end].split(|&b| b == b'.') {
        if count == 4 || part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let value = part.iter().try_fold(0u32, |acc, &d| {
            acc.checked_mul(10)?.checked_add(u32::from(d - b'0'))
        })?;
        octets[count] = u8::try_from(value).ok()?;
        count += 1;
    }
    (count == 4).then(|| (Ipv4Addr::from(octets), &text[end..]))
}

/// The list after `:`: ports, `lo-hi` ranges, service names, `lo-name`.
fn parse_ports(spec: &mut InetSpec, list: &[u8]) -> Result<(), String> {
    let result = parse_port_items(spec, list);
    let service_before = spec
        .ports
        .iter()
        .any(|p| matches!(p, PortSpec::Service(_) | PortSpec::RangeToService(..)));
    match result {
        Err(problem) if service_before => {
            spec.ports.push(PortSpec::Unparsable(problem));
            Ok(())
        }
        other => other,
    }
}

fn parse_port_items(spec: &mut InetSpec, list: &[u8]) -> Result<(), String> {
    let mut i = 0;
    while i < list.len() {
        let mut start = 0u64;
        let mut end = 0u64;
        let mut is_range = false;
        let mut start_name = None;
        let mut end_name = None;
        while i < list.len() {
            if !list[i].is_ascii_digit() {
                let from = i;
                while i < list.len() && list[i] != b',' {
                    i += 1;
                }
                if i == from {
                    return Err("invalid service name:".to_string());
                }
                let name = String::from_utf8_lossy(&list[from..i]).into_owned();
                if is_range {
                    end_name = Some(name);
                } else {
                    start_name = Some(name);
                }
            } else {
                while i < list.len() && list[i] != b',' {
                    let byte = list[i];
                    if byte == b'-' {
                        if is_range {
                            return Err(BAD_PORT.to_string());
                        }
                        is_range = true;
                        break;
                    }
                    if !byte.is_ascii_digit() {
                        return Err(BAD_PORT.to_string());
                    }
                    let number = if is_range { &mut end } else { &mut start };
                    *number = number
                        .saturating_mul(10)
                        .saturating_add(u64::from(byte - b'0'));
                    i += 1;
                }
            }
            if i >= list.len() || list[i] == b',' {
                break;
            }
            if !is_range {
                return Err(BAD_PORT.to_string());
            }
            i += 1;
        }
        let port = match (start_name, end_name) {
            (Some(name), _) => PortSpec::Service(name),
            (None, Some(name)) => PortSpec::RangeToService(clamp_port(start), name),
            (None, None) => {
                if !is_range {
                    end = start;
                }
                if end < start {
                    return Err(BAD_PORT.to_string());
                }
                if start > u64::from(u16::MAX) {
                    PortSpec::Range(u16::MAX, 0)
                } else {
                    PortSpec::Range(clamp_port(start), clamp_port(end))
                }
            }
        };
        spec.ports.push(port);
        i += 1;
    }
    Ok(())
}

fn clamp_port(port: u64) -> u16 {
    u16::try_from(port).unwrap_or(u16::MAX)
}
