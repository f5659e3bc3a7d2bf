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

use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};

use super::inet_resolve::{resolve, Address};
use super::{SEL_NA, SEL_NET, SEL_UNX};
use crate::cli::options::Options;
use crate::cli::UDP_STATES;
use crate::escape::safe_str;
use crate::model::{IpProto, IpSocket, OpenFile, SocketInfo, TcpState};
use crate::net::{lsof_endpoints, Names};

/// TCP states lsof can select, by kernel number.
const STATES: usize = TcpState::NAMES.len();

/// The selection flags `opts` asks for (no I/O).
pub(crate) fn selection_flags(opts: &Options) -> u32 {
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

#[derive(Debug, Default)]
pub struct NetworkSelection {
    /// `-i`, `-i4`, `-i6`: Some(family), None for both families.
    all_inet: Option<Option<u8>>,
    inet_found: AtomicBool,
    /// In lsof's search order: the last given first.
    addresses: Vec<Address>,
    arg_found: Vec<AtomicBool>,
    /// The `-i` arguments as given, for `-V`.
    arg_texts: Vec<String>,
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
        selection.arg_texts = opts.inet.iter().map(|s| s.text.clone()).collect();
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
        self.not_found().is_empty()
    }

    /// lsof's `-V` lines (without the program name) for the network items
    /// that found nothing, in its order: each `-i` address argument once
    /// (last given first), all Internet files, TCP states by number, the
    /// UDP state.
    pub fn not_found(&self) -> Vec<String> {
        let found = |f: &AtomicBool| f.load(Ordering::Relaxed);
        let mut lines = Vec::new();
        let mut reported = Vec::new();
        for address in &self.addresses {
            let missed = self.arg_found.get(address.arg).is_some_and(|f| !found(f));
            if missed && !reported.contains(&address.arg) {
                reported.push(address.arg);
                let text = self.arg_texts.get(address.arg).map_or("", String::as_str);
                lines.push(format!("Internet address not located: {}", safe_str(text)));
            }
        }
        if self.all_inet.is_some() && !found(&self.inet_found) {
            lines.push("no Internet files located".to_string());
        }
        for (state, name) in TcpState::NAMES.iter().enumerate() {
            if self.included[state] && !found(&self.state_found[state]) {
                lines.push(format!("TCP state not located: {name}"));
            }
        }
        if self.udp_connected == Some(true) && !found(&self.udp_found) {
            lines.push(format!("UDP state not located: {}", UDP_STATES[0]));
        }
        lines
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
