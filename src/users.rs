//! Login names for UIDs and back, from the system's user database, cached:
//! a listing asks about the same few users thousands of times.

use std::collections::HashMap;
use std::ffi::{CStr, CString};
use std::sync::Mutex;

#[derive(Default)]
pub(crate) struct Users {
    names: Mutex<HashMap<u32, Option<String>>>,
}

impl Users {
    pub(crate) fn name_of(&self, uid: u32) -> Option<String> {
        let mut names = self.names.lock().unwrap_or_else(|e| e.into_inner());
        names.entry(uid).or_insert_with(|| lookup_name(uid)).clone()
    }
}

fn lookup_name(uid: u32) -> Option<String> {
    with_passwd(
        // SAFETY: with_passwd passes a passwd to fill, a buffer of `len`
        // bytes and a result pointer, all valid for the call.
        |pwd, buf, len, result| unsafe { libc::getpwuid_r(uid, pwd, buf, len, result) },
        |pwd| {
            // SAFETY: a successful lookup sets pw_name to a NUL-terminated
            // string in the buffer, alive while `read` runs.
            unsafe { CStr::from_ptr(pwd.pw_name) }
                .to_string_lossy()
                .into_owned()
        },
    )
}

/// The UID of a login name, if the user database knows it.
pub(crate) fn uid_of(name: &str) -> Option<u32> {
    let c = CString::new(name).ok()?;
    with_passwd(
        // SAFETY: `c` is NUL-terminated; with_passwd passes a passwd to
        // fill, a buffer of `len` bytes and a result pointer.
        |pwd, buf, len, result| unsafe { libc::getpwnam_r(c.as_ptr(), pwd, buf, len, result) },
        |pwd| pwd.pw_uid,
    )
}

/// Runs a reentrant passwd lookup, growing its buffer while the library
/// asks for more room, and reads the answer with `read`.
fn with_passwd<T>(
    lookup: impl Fn(*mut libc::passwd, *mut libc::c_char, usize, *mut *mut libc::passwd) -> libc::c_int,
    read: impl Fn(&libc::passwd) -> T,
) -> Option<T> {
    let mut buf = vec![0u8; 1024];
    loop {
        let mut pwd = std::mem::MaybeUninit::<libc::passwd>::uninit();
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        let rc = lookup(
            pwd.as_mut_ptr(),
            buf.as_mut_ptr() as *mut libc::c_char,
            buf.len(),
            &mut result,
        );
        if rc == libc::ERANGE && buf.len() < 1 << 20 {
            buf.resize(buf.len() * 2, 0);
            continue;
        }
        if rc != 0 || result.is_null() {
            return None;
        }
        // SAFETY: on success `result` points at `pwd`, filled in, whose
        // strings live in `buf`, which outlives this call.
        return Some(read(unsafe { &*result }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_both_ways() {
        assert_eq!(Users::default().name_of(0).as_deref(), Some("root"));
        assert_eq!(uid_of("root"), Some(0));
        assert_eq!(uid_of("no-such-user-rlsof"), None);
    }
}
