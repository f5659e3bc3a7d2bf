//! POSIX regular expressions (`regcomp`/`regexec`), which lsof's `-c
//! /regex/` uses: compiled once, while the options are read, and matched
//! from every scanning thread.

use std::ffi::{CStr, CString};

/// A compiled POSIX expression.
pub struct PosixRegex {
    /// The expression as written.
    pattern: Vec<u8>,
    flags: libc::c_int,
    compiled: Box<libc::regex_t>,
}

// SAFETY: a compiled regex_t is only read by regexec, which POSIX makes
// safe to call from several threads at once; it is freed only in Drop.
unsafe impl Send for PosixRegex {}
// SAFETY: as for Send: shared use is regexec only, which does not write it.
unsafe impl Sync for PosixRegex {}

impl PosixRegex {
    /// Compiles `pattern` with `regcomp` flags; Err holds regerror's text.
    pub fn compile(pattern: &[u8], flags: libc::c_int) -> Result<PosixRegex, String> {
        let c_pattern = CString::new(pattern).map_err(|_| "embedded NUL".to_string())?;
        // SAFETY: regex_t is plain data that regcomp fills in.
        let mut compiled: Box<libc::regex_t> = Box::new(unsafe { std::mem::zeroed() });
        // SAFETY: both pointers are valid; on success the regex is freed in
        // Drop, on failure regcomp leaves nothing to free.
        let code = unsafe { libc::regcomp(&mut *compiled, c_pattern.as_ptr(), flags) };
        if code != 0 {
            let mut buf = [0 as libc::c_char; 256];
            // SAFETY: regerror reads the failed regex_t (which regcomp
            // initialised) and writes at most `buf.len()` bytes, NUL-ended.
            let text = unsafe {
                libc::regerror(code, &*compiled, buf.as_mut_ptr(), buf.len());
                CStr::from_ptr(buf.as_ptr())
            };
            return Err(text.to_string_lossy().into_owned());
        }
        Ok(PosixRegex {
            pattern: pattern.to_vec(),
            flags,
            compiled,
        })
    }

    /// Whether the expression matches somewhere in `text`.
    pub fn is_match(&self, text: &[u8]) -> bool {
        let Ok(c) = CString::new(text) else {
            return false;
        };
        // SAFETY: a compiled regex and a NUL-terminated subject; with no
        // match array asked for, regexec writes nothing of ours.
        let rc = unsafe { libc::regexec(&*self.compiled, c.as_ptr(), 0, std::ptr::null_mut(), 0) };
        rc == 0
    }
}

impl Drop for PosixRegex {
    fn drop(&mut self) {
        // SAFETY: compiled by a successful regcomp, freed once.
        unsafe { libc::regfree(&mut *self.compiled) };
    }
}

impl std::fmt::Debug for PosixRegex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "PosixRegex({:?})",
            String::from_utf8_lossy(&self.pattern)
        )
    }
}

/// Two expressions are equal when written and compiled alike.
impl PartialEq for PosixRegex {
    fn eq(&self, other: &PosixRegex) -> bool {
        self.pattern == other.pattern && self.flags == other.flags
    }
}

impl Eq for PosixRegex {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiles_matches_and_reports() {
        let r = PosixRegex::compile(b"^(sl|ba)", libc::REG_EXTENDED | libc::REG_NOSUB).unwrap();
        assert!(r.is_match(b"sleep"));
        assert!(!r.is_match(b"zsh"));
        let e = PosixRegex::compile(b"(", libc::REG_EXTENDED).unwrap_err();
        assert!(!e.is_empty());
    }
}
