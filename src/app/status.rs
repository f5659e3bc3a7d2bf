//! lsof's exit status, with the `-V` report of what was not found.

use crate::cli::options::Options;
use crate::select::{report, Selection};
use std::io::{self, Write};

/// lsof's end: `-V` lines for what was not found, then the status (a
/// search failure is forgiven by `-Q`, an unusable file argument is not).
pub(super) fn exit_status(
    opts: &Options,
    selection: &Selection,
    args_failed: bool,
) -> io::Result<i32> {
    let missing = report::not_found(selection);
    if opts.verbose_failures && !missing.is_empty() {
        let mut out = super::output::Stdout::lock();
        out.write_all(report::verbose_text(&missing).as_bytes())?;
        out.flush()?;
    }
    Ok(report::exit_status(
        &missing,
        opts.quiet_failures,
        args_failed,
    ))
}
