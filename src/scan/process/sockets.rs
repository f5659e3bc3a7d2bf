//! A socket descriptor: its table entry looked up (in the process's
//! network namespace, or the socket's own), its type, device and peer.

use super::{proc_path, ProcEntry};
use crate::model::OpenFile;
use crate::scan::procfs::parse_decimal;
use crate::scan::Scanner;
use std::ffi::CStr;

impl Scanner {
    /// In a sockets-only process: whether descriptor `name`, whose link
    /// text is `link`, is a socket that selection could list (no stat
    /// needed).
    pub(super) fn may_list_socket(&self, place: &ProcEntry, name: &CStr, link: &[u8]) -> bool {
        let Some(inode) = crate::scan::endpoints::socket_inode(link) else {
            return false;
        };
        let Some(filter) = &self.socket_filter else {
            return true;
        };
        let info = self
            .netns(place)
            .and_then(|ns| self.lookup_socket_anywhere(place, name, ns, inode));
        filter.may_select(info.as_ref())
    }

    /// [`Scanner::lookup_socket`], then in the socket's own namespace when
    /// that is not the process's (see `foreign`).
    pub(super) fn lookup_socket_anywhere(
        &self,
        place: &ProcEntry,
        name: &CStr,
        netns: u64,
        inode: u64,
    ) -> Option<crate::model::SocketInfo> {
        self.lookup_socket(place, netns, inode).or_else(|| {
            let fd = parse_decimal(name.to_bytes())?;
            let tables = self.searched_tables(place.sockets_only.get());
            self.foreign_socket(place.pid, u32::try_from(fd).ok()?, inode, netns, tables)
        })
    }

    /// The socket's table entry; in a sockets-only process under `-i`
    /// alone, from the TCP and UDP tables only (nothing else can be listed).
    pub(super) fn lookup_socket(
        &self,
        place: &ProcEntry,
        netns: u64,
        inode: u64,
    ) -> Option<crate::model::SocketInfo> {
        if let Some(described) = self.kernel_socket(place.pid, &place.kernel_sockets, inode) {
            return described;
        }
        if place.sockets_only.get() {
            self.lookup_in_sockets_only(netns, place.pid, inode)
        } else {
            self.lookup_with(false, netns, place.pid, inode)
        }
    }

    /// [`Scanner::lookup_socket`] for a process of which only sockets can
    /// be listed.
    pub(in crate::scan) fn lookup_in_sockets_only(
        &self,
        netns: u64,
        pid: i32,
        inode: u64,
    ) -> Option<crate::model::SocketInfo> {
        let ip_only = self.socket_filter.as_ref().is_some_and(|f| f.ip_only());
        self.lookup_with(ip_only, netns, pid, inode)
    }

    pub(super) fn lookup_with(
        &self,
        ip_only: bool,
        netns: u64,
        pid: i32,
        inode: u64,
    ) -> Option<crate::model::SocketInfo> {
        if self.cfg.skip_tcp_udp {
            self.sockets.describe_without_tcp_udp(netns, pid, inode)
        } else if ip_only {
            self.sockets.describe_ip(netns, pid, inode)
        } else {
            self.sockets.describe(netns, pid, inode)
        }
    }

    pub(super) fn netns(&self, place: &ProcEntry) -> Option<u64> {
        *place
            .netns
            .get_or_init(|| crate::sys::netns::of_pid_dir(place.dir.raw()))
    }

    pub(super) fn describe_socket(
        &self,
        place: &ProcEntry,
        name: &CStr,
        inode: u64,
        file: &mut OpenFile,
    ) {
        let netns = self.netns(place);
        let info = netns.and_then(|ns| self.lookup_socket_anywhere(place, name, ns, inode));
        let info = match info {
            Some(info) => info,
            None if self.cfg.skip_tcp_udp => {
                file.name = b"can't identify protocol (-X specified)".to_vec();
                return;
            }
            None => {
                let mut rel = b"fd/".to_vec();
                rel.extend_from_slice(name.to_bytes());
                let path = proc_path(place, &rel);
                match socket_protocol_name(&path) {
                    Some(proto) => crate::model::SocketInfo::Protocol(proto),
                    None => return,
                }
            }
        };
        file.file_type = Some(crate::scan::socket::socket_file_type(&info));
        file.device = crate::scan::socket::socket_device(&info, inode);
        let mut info = info;
        if self.cfg.endpoints {
            if let Some(ns) = netns {
                let peer = self.sockets.peer(ns, place.pid, inode, &info);
                match &mut info {
                    crate::model::SocketInfo::Unix(u) => u.peer = peer,
                    _ => file.peer_inode = peer,
                }
            }
        }
        file.socket = Some(Box::new(info));
    }
}

/// The `system.sockprotoname` attribute: what lsof shows as `protocol: X`
/// for a socket it found in no table.
pub(in crate::scan) fn socket_protocol_name(path: &[u8]) -> Option<String> {
    let c = std::ffi::CString::new(path).ok()?;
    let mut buf = [0u8; 64];
    // SAFETY: both names are NUL-terminated; getxattr writes at most
    // `buf.len()` bytes into `buf`.
    let n = unsafe {
        libc::getxattr(
            c.as_ptr(),
            c"system.sockprotoname".as_ptr(),
            buf.as_mut_ptr() as *mut libc::c_void,
            buf.len(),
        )
    };
    if n <= 0 {
        return None;
    }
    let text = &buf[..n as usize];
    let text = text.strip_suffix(b"\0").unwrap_or(text);
    Some(String::from_utf8_lossy(text).into_owned())
}
