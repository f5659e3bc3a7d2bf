//! What `lsof +L1` leaves open: how much space deleted-but-open files hold,
//! where, and by whom (`--deleted`), and getting their bytes back while a
//! process still holds them (`--recover`, `--recover-all`).
//!
//! A deleted file cannot be linked back into a directory, but while it is
//! open its contents can be read through `/proc/PID/fd/N` (or, for a file
//! that is only mapped, `/proc/PID/map_files/...`).

pub(crate) mod collect;
mod commands;
pub(crate) mod interrupt;
pub(crate) mod links;
mod progress;
pub mod recover;
pub(crate) mod report;
mod room;
mod sparse;
mod stage;

pub use commands::{destination_name, recover, recover_all, Recovery};
pub use interrupt::Interrupts;

use crate::cli::options::Options;
use crate::scan::Scanner;
use crate::select::Selection;
use crate::users::Users;
use collect::{group, Collector, Report};
use std::io::{self, Write};

/// Scans the selected processes and builds the report: deleted files, one
/// per inode, measured through /proc, grouped by filesystem.
pub fn scan_report(scanner: &Scanner, selection: &Selection, pids: &[i32]) -> io::Result<Report> {
    let mut collector = Collector::default();
    let threads = crate::sys::cpus().min(4);
    crate::run::scan_in_order(scanner, selection, pids, threads, &mut |p| {
        collector.add_process(&p);
        Ok(())
    })?;
    let mut files = collector.into_files();
    links::measure(scanner.proc_root(), &mut files);
    let mut report = group(files, scanner.mounts());
    // Without root, other users' processes cannot be read (their
    // descriptors, and so their deleted files, are not seen).
    // SAFETY: geteuid has no preconditions.
    report.partial = unsafe { libc::geteuid() } != 0;
    Ok(report)
}

/// `rlsof [selection] --deleted [-J]`: prints the report (text, or one
/// JSON object with `json`) and returns the exit status: 0, or 1 when a
/// search item (`-p`, `-u`, `-c` ...) matched nothing (unless `-Q`).
pub fn deleted_report(
    scanner: &Scanner,
    selection: &Selection,
    pids: &[i32],
    opts: &Options,
    json: bool,
    out: &mut dyn Write,
) -> io::Result<i32> {
    let report = scan_report(scanner, selection, pids)?;
    let users = Users::default();
    let label = |uid: u32| -> String {
        if opts.numeric_users {
            return uid.to_string();
        }
        users.name_of(uid).unwrap_or_else(|| uid.to_string())
    };
    if json {
        report::write_json(&report, &label, out)?;
    } else {
        report::write_text(&report, &label, out)?;
    }
    out.flush()?;
    let missing = crate::select::report::not_found(selection);
    Ok(crate::select::report::exit_status(
        &missing,
        opts.quiet_failures,
        false,
    ))
}
