//! `-c`: command-name prefixes and `/regex/[bix]`, matched as lsof does
//! (prefix compare; POSIX `regexec` on the whole command name).

use crate::cli::options::{CommandSpec, Item};
use crate::cli::regex_flags;
use std::ffi::CString;
use std::sync::atomic::{AtomicBool, Ordering};

/// A compiled `-c /regex/`.
pub struct CommandRegex {
    /// The expression as written between the slashes, for `-V`.
    pub pattern: String,
    compiled: Box<libc::regex_t>,
    pub found: AtomicBool,
}

// SAFETY: a compiled regex_t is only read by regexec, which POSIX makes
// safe to call from several threads at once; it is freed only in Drop.
unsafe impl Send for CommandRegex {}
unsafe impl Sync for CommandRegex {}

impl std::fmt::Debug for CommandRegex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CommandRegex({:?})", self.pattern)
    }
}

impl CommandRegex {
    /// None when the expression does not compile (the parser has already
    /// refused such expressions with lsof's message).
    pub fn compile(pattern: &str, modifiers: &str) -> Option<CommandRegex> {
        let c = CString::new(pattern).ok()?;
        // SAFETY: regex_t is plain data that regcomp fills in.
        let mut compiled: Box<libc::regex_t> = Box::new(unsafe { std::mem::zeroed() });
        // SAFETY: valid pointers; on success the regex is freed in Drop.
        let rc = unsafe { libc::regcomp(&mut *compiled, c.as_ptr(), regex_flags(modifiers)) };
        if rc != 0 {
            return None;
        }
        Some(CommandRegex {
            pattern: pattern.to_string(),
            compiled,
            found: AtomicBool::new(false),
        })
    }

    pub fn matches(&self, command: &[u8]) -> bool {
        let Ok(c) = CString::new(command) else {
            return false;
        };
        // SAFETY: the regex was compiled with REG_NOSUB; no match array.
        let rc = unsafe { libc::regexec(&*self.compiled, c.as_ptr(), 0, std::ptr::null_mut(), 0) };
        rc == 0
    }

    pub fn mark(&self) {
        self.found.store(true, Ordering::Relaxed);
    }
}

impl Drop for CommandRegex {
    fn drop(&mut self) {
        // SAFETY: compiled by a successful regcomp, freed once.
        unsafe { libc::regfree(&mut *self.compiled) };
    }
}

/// The regexes of a `-c` list, in the order given.
pub fn compile_all(items: &[Item<CommandSpec>]) -> Vec<CommandRegex> {
    items
        .iter()
        .filter_map(|i| match &i.value {
            CommandSpec::Regex { pattern, modifiers } => CommandRegex::compile(pattern, modifiers),
            CommandSpec::Prefix(_) => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extended_by_default_basic_and_case_modifiers() {
        let r = CommandRegex::compile("^(sl|ba)", "").expect("compiles");
        assert!(r.matches(b"sleep"));
        assert!(r.matches(b"bash"));
        assert!(!r.matches(b"zsh"));
        let i = CommandRegex::compile("^SLE", "i").expect("compiles");
        assert!(i.matches(b"sleep"));
        let b = CommandRegex::compile("a+", "b").expect("compiles");
        assert!(b.matches(b"xa+"));
        assert!(!b.matches(b"xaa"));
    }

    #[test]
    fn bad_expression_does_not_compile() {
        assert!(CommandRegex::compile("(", "").is_none());
    }
}
