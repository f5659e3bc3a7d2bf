//! Messages for the checks lsof makes while parsing that need I/O, which
//! rlsof's caller makes after `parse` (users, hosts, services, directories,
//! `-e` mounts). Each returns the complete stderr line(s); pass them to
//! `usage_error`. Where lsof prints only with warnings enabled, the caller
//! must still fail (exit 1) but print no line when `Options::no_warnings`.

use super::state::PROGRAM;
use crate::escape::safe_str;

/// `-u name` that `getpwnam` does not know.
pub(crate) fn unknown_login(login: &str) -> String {
    format!("{PROGRAM}: can't get UID for {}\n", safe_str(login))
}

/// A UID (from a name or a number) both included and excluded by `-u`.
pub(crate) fn uid_included_and_excluded(uid: u32) -> String {
    format!(
        "{PROGRAM}: UID {} has been included and excluded.\n",
        uid as i32
    )
}

/// A `-i` list error found while parsing and reported once the service
/// names before it resolved (`problem` ends with a colon).
pub(crate) fn inet_problem(problem: &str, spec: &str) -> String {
    format!("{PROGRAM}: {problem} -i {}\n", safe_str(spec))
}

/// `-i @host` that does not resolve; `spec` is `InetSpec::text`.
pub(crate) fn unknown_host(host: &str, spec: &str) -> String {
    format!(
        "{PROGRAM}: unknown host name ({host}) in: -i {}\n",
        safe_str(spec)
    )
}

/// `-i :name` with no such service; `protocol` is the lower-case protocol
/// given in the spec (lsof then looks only there), None for both.
pub(crate) fn unknown_service(name: &str, protocol: Option<&str>, spec: &str) -> String {
    match protocol {
        Some(p) => format!(
            "{PROGRAM}: unknown service {name} for {p} in: -i {}\n",
            safe_str(spec)
        ),
        None => format!(
            "{PROGRAM}: unknown service {name} in: -i {}\n",
            safe_str(spec)
        ),
    }
}

/// `-i :name` without a protocol, where TCP and UDP ports differ.
pub(crate) fn service_ports_conflict(tcp: u16, udp: u16, name: &str, spec: &str) -> String {
    format!(
        "{PROGRAM}: TCP={tcp} and UDP={udp} {name} ports conflict;\n      \
         specify \"tcp:{name}\" or \"udp:{name}\": -i {}\n",
        safe_str(spec)
    )
}

/// `-i :N-name` where the service's port is below N.
pub(crate) fn bad_port_range(spec: &str) -> String {
    format!(
        "{PROGRAM}: unacceptable port specification in: -i {}\n",
        safe_str(spec)
    )
}
