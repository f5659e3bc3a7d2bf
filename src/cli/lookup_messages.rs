//! Messages for the checks lsof makes while parsing that need I/O, which
//! rlsof's caller makes after `parse` (users, hosts, services, directories,
//! `-e` mounts). Each returns the complete stderr line(s); pass them to
//! `usage_error`. Where lsof prints only with warnings enabled, the caller
//! must still fail (exit 1) but print no line when `Options::no_warnings`.

use super::state::PROGRAM;
use crate::escape::{safe_str, safe_text};

/// `-u name` that `getpwnam` does not know.
pub fn unknown_login(login: &str) -> String {
    format!("{PROGRAM}: can't get UID for {}\n", safe_str(login))
}

/// A UID (from a name or a number) both included and excluded by `-u`.
pub fn uid_included_and_excluded(uid: u32) -> String {
    format!(
        "{PROGRAM}: UID {} has been included and excluded.\n",
        uid as i32
    )
}

/// A `-i` list error found while parsing and reported once the service
/// names before it resolved (`problem` ends with a colon).
pub fn inet_problem(problem: &str, spec: &str) -> String {
    format!("{PROGRAM}: {problem} -i {}\n", safe_str(spec))
}

/// `-i @host` that does not resolve; `spec` is `InetSpec::text`.
pub fn unknown_host(host: &str, spec: &str) -> String {
    format!(
        "{PROGRAM}: unknown host name ({host}) in: -i {}\n",
        safe_str(spec)
    )
}

/// `-i :name` with no such service; `protocol` is the lower-case protocol
/// given in the spec (lsof then looks only there), None for both.
pub fn unknown_service(name: &str, protocol: Option<&str>, spec: &str) -> String {
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
pub fn service_ports_conflict(tcp: u16, udp: u16, name: &str, spec: &str) -> String {
    format!(
        "{PROGRAM}: TCP={tcp} and UDP={udp} {name} ports conflict;\n      \
         specify \"tcp:{name}\" or \"udp:{name}\": -i {}\n",
        safe_str(spec)
    )
}

/// `-i :N-name` where the service's port is below N.
pub fn bad_port_range(spec: &str) -> String {
    format!(
        "{PROGRAM}: unacceptable port specification in: -i {}\n",
        safe_str(spec)
    )
}

/// `+d`/`+D` path that cannot be stat'ed (after readlink); only printed
/// with warnings enabled.
pub fn directory_stat_failed(path: &[u8], error: &str) -> String {
    format!(
        "{PROGRAM}: WARNING: can't stat({}): {error}\n",
        safe_text(path, false)
    )
}

/// `+d`/`+D` path that is not a directory; only printed with warnings
/// enabled.
pub fn not_a_directory(path: &[u8]) -> String {
    format!(
        "{PROGRAM}: WARNING: not a directory: {}\n",
        safe_text(path, false)
    )
}

/// `-e`/`+e` path (after readlink for `-e`, trailing slashes removed) that
/// is no mount point.
pub fn exempt_not_mounted(path: &[u8]) -> String {
    format!(
        "{PROGRAM}: \"-e {}\" is not a mounted file system.\n",
        String::from_utf8_lossy(path)
    )
}
