//! Host names of `-i @host`, resolved as lsof 4.95 resolves them: with
//! `gethostbyname2`, one address family at a time, taking every address of
//! the answer.

use std::ffi::CString;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The C library's `struct hostent`.
#[repr(C)]
struct HostEntry {
    _h_name: *mut libc::c_char,
    _h_aliases: *mut *mut libc::c_char,
    h_addrtype: libc::c_int,
    h_length: libc::c_int,
    h_addr_list: *mut *mut libc::c_char,
}

extern "C" {
    // In the C library; the libc crate does not declare it.
    fn gethostbyname2(name: *const libc::c_char, af: libc::c_int) -> *mut HostEntry;
}

/// The addresses of `name` in one family (4 or 6), in the resolver's
/// order; None when the name has none. Not reentrant (the C library's
/// static answer): call it before starting threads, as lsof does while
/// reading its options.
pub(crate) fn host_addresses(name: &str, family: u8) -> Option<Vec<IpAddr>> {
    let af = if family == 6 {
        libc::AF_INET6
    } else {
        libc::AF_INET
    };
    let name = CString::new(name).ok()?;
    // SAFETY: a NUL-terminated name; the answer is read before any other
    // resolver call, within its advertised lengths.
    unsafe {
        let entry = gethostbyname2(name.as_ptr(), af);
        if entry.is_null() || (*entry).h_addrtype != af || (*entry).h_addr_list.is_null() {
            return None;
        }
        let length = usize::try_from((*entry).h_length).ok()?;
        let mut addresses = Vec::new();
        let mut slot = (*entry).h_addr_list;
        while !(*slot).is_null() {
            let bytes = std::slice::from_raw_parts((*slot).cast::<u8>(), length);
            addresses.extend(address_of(bytes));
            slot = slot.add(1);
        }
        (!addresses.is_empty()).then_some(addresses)
    }
}

fn address_of(bytes: &[u8]) -> Option<IpAddr> {
    match bytes.len() {
        4 => Some(IpAddr::V4(Ipv4Addr::new(
            bytes[0], bytes[1], bytes[2], bytes[3],
        ))),
        16 => {
            let mut octets = [0u8; 16];
            octets.copy_from_slice(bytes);
            Some(IpAddr::V6(Ipv6Addr::from(octets)))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_and_unknown_names() {
        assert_eq!(
            host_addresses("127.0.0.1", 4),
            Some(vec!["127.0.0.1".parse().unwrap()])
        );
        assert_eq!(host_addresses("no-such-host.invalid", 4), None);
        assert_eq!(host_addresses("a\0b", 4), None);
    }
}
