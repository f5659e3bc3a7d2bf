//! `-c`: command-name prefixes and `/regex/[bix]`, matched as lsof does
//! (prefix compare; POSIX `regexec` on the whole command name).

use crate::cli::options::{CommandSpec, Item};
use crate::sys::regex::PosixRegex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A `-c /regex/`, compiled by the parser, with whether it matched.
#[derive(Debug)]
pub struct CommandRegex {
    /// The expression as written between the slashes, for `-V`.
    pub pattern: String,
    compiled: Arc<PosixRegex>,
    pub found: AtomicBool,
}

impl CommandRegex {
    pub fn new(pattern: &str, compiled: &Arc<PosixRegex>) -> CommandRegex {
        CommandRegex {
            pattern: pattern.to_string(),
            compiled: Arc::clone(compiled),
            found: AtomicBool::new(false),
        }
    }

    pub fn matches(&self, command: &[u8]) -> bool {
        self.compiled.is_match(command)
    }

    pub fn mark(&self) {
        self.found.store(true, Ordering::Relaxed);
    }
}

/// The regexes of a `-c` list, in the order given.
pub(crate) fn compile_all(items: &[Item<CommandSpec>]) -> Vec<CommandRegex> {
    items
        .iter()
        .filter_map(|i| match &i.value {
            CommandSpec::Regex {
                pattern, compiled, ..
            } => Some(CommandRegex::new(pattern, compiled)),
            CommandSpec::Prefix(_) => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::regex_flags;

    fn compile(pattern: &str, modifiers: &str) -> Option<CommandRegex> {
        let compiled = PosixRegex::compile(pattern.as_bytes(), regex_flags(modifiers)).ok()?;
        Some(CommandRegex::new(pattern, &Arc::new(compiled)))
    }

    #[test]
    fn extended_by_default_basic_and_case_modifiers() {
        let r = compile("^(sl|ba)", "").expect("compiles");
        assert!(r.matches(b"sleep"));
        assert!(r.matches(b"bash"));
        assert!(!r.matches(b"zsh"));
        let i = compile("^SLE", "i").expect("compiles");
        assert!(i.matches(b"sleep"));
        let b = compile("a+", "b").expect("compiles");
        assert!(b.matches(b"xa+"));
        assert!(!b.matches(b"xaa"));
    }

    #[test]
    fn bad_expression_does_not_compile() {
        assert!(compile("(", "").is_none());
    }
}
