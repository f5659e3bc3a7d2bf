//! rlsof's own long options: the deleted-files report and recovery.

use super::output::{FirstFailure, Stdout};
use super::output_failed;
use super::FAILURE;
use crate::cli;
use crate::cli::options::{Extra, Options, Output};
use crate::deleted;
use crate::scan::Scanner;
use crate::select::Selection;
use std::io::{self, Write};
use std::path::Path;

/// Runs `--deleted`, `--recover` or `--recover-all`; returns the exit status.
pub(super) fn run_extra(
    extra: &Extra,
    opts: &Options,
    scanner: &Scanner,
    selection: &Selection,
    pids: &[i32],
) -> i32 {
    let recovery = |out: &mut dyn io::Write, err: &mut dyn io::Write| match extra {
        Extra::Recover { pid, fd, to, force } => {
            let Some(stop) = catch_signals(err) else {
                return FAILURE;
            };
            let how = deleted::Recovery {
                to: Path::new(to),
                force: *force,
                stop: &stop,
            };
            deleted::recover(scanner.proc_root(), *pid, *fd, &how, out, err)
        }
        Extra::RecoverAll { to, force } => {
            let Some(stop) = catch_signals(err) else {
                return FAILURE;
            };
            let how = deleted::Recovery {
                to: Path::new(to),
                force: *force,
                stop: &stop,
            };
            deleted::recover_all(scanner, selection, pids, &how, out, err)
        }
        Extra::DeletedReport => {
            let json = matches!(opts.output, Output::Json | Output::JsonLines);
            match deleted::deleted_report(scanner, selection, pids, opts, json, out) {
                Ok(status) => status,
                Err(e) => output_failed(&e),
            }
        }
        // Run by `app::fleet` before this is reached.
        Extra::Summary(_) | Extra::Metrics { .. } | Extra::Serve { .. } => FAILURE,
    };
    // Recovery copies every file even when its report cannot be written;
    // the report stops at its first failed write.
    let mut out = FirstFailure::new(Stdout::lock());
    let status = recovery(&mut out, &mut io::stderr().lock());
    match out.finish() {
        Some(e) if !matches!(extra, Extra::DeletedReport) => output_failed(&e).max(status),
        _ => status,
    }
}

/// From here on SIGINT, SIGTERM and SIGHUP stop the copy cleanly.
fn catch_signals(err: &mut dyn Write) -> Option<deleted::Interrupts> {
    match deleted::Interrupts::install() {
        Ok(stop) => Some(stop),
        Err(e) => {
            let _ = writeln!(err, "{}: cannot catch signals: {e}", cli::PROGRAM);
            None
        }
    }
}
