//! lsof's command-line grammar, turned into typed `Options` without I/O.
//!
//! `parse` takes the arguments after argv[0]. On success the caller prints
//! `Options::notices` to stderr; then, if `help`, `version` or
//! `field_help` is set, prints `info_text` to stderr and exits 0. Bad input
//! gives a `CliError` with lsof's exact stderr text and exit status.
//! Lookups (login names, hosts, services, directories, `-e` mounts) are
//! left to the caller; `usage_error` formats its failures lsof's way.

mod fields;
mod flags;
mod fleet;
mod inet;
mod lists;
pub(crate) mod lookup_messages;
pub mod options;
mod parser;
mod regex;
mod state;
mod tokenizer;
mod updates;
mod usage;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_flags;
#[cfg(test)]
mod tests_fuzz;
#[cfg(test)]
mod tests_oracle;
#[cfg(test)]
mod tests_values;

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

pub use fields::field_help_text;
pub use flags::{FlagDef, LongDef, FLAGS, LONG_FLAGS};
pub use lists::UDP_STATES;
pub use options::Options;
pub use regex::regex_flags;
pub use state::PROGRAM;

/// Bad command line: print `message` to stderr and exit with `status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliError {
    /// The exact text for stderr; may be several lines; ends with '\n'.
    pub message: String,
    pub status: i32,
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CliError {}

/// Parse the arguments after argv[0].
pub fn parse<I: IntoIterator<Item = OsString>>(args: I) -> Result<Options, CliError> {
    let args: Vec<Vec<u8>> = args.into_iter().map(OsString::into_vec).collect();
    parser::parse_args(&args)
}

/// lsof's usage: the short form printed after errors (`full == false`:
/// header, usage lines, and the "Use the ``-h'' option" line), or the
/// full `-h` help.
pub fn usage_text(full: bool) -> String {
    if full {
        usage::short_usage() + &usage::full_help(&usage::FileStructNote::default())
    } else {
        usage::short_usage() + usage::MORE_HELP
    }
}

/// What `-h`, `-?`, `-v`, `-F?` print (stderr, exit 0).
pub fn info_text(options: &Options) -> String {
    options.info_message.clone()
}

/// The `-v` report.
pub fn version_text() -> String {
    usage::version_text()
}

/// A failure found by the caller after parsing (unknown login name, host,
/// service, directory...): `messages` are complete stderr lines (see
/// `later`), possibly empty; lsof follows them with the short usage and
/// exits 1.
pub fn usage_error(messages: &str) -> CliError {
    CliError {
        message: format!("{messages}{}", usage_text(false)),
        status: 1,
    }
}
