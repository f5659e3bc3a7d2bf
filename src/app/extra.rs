//! rlsof's own long options: the deleted-files report and recovery.

use super::{FAILURE, SUCCESS};
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
    let mut out = io::stdout().lock();
    let mut err = io::stderr().lock();
    match extra {
        Extra::DeletedReport => {
            let json = matches!(opts.output, Output::Json | Output::JsonLines);
            match deleted::deleted_report(scanner, selection, pids, opts, json, &mut out) {
                Ok(status) => status,
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => SUCCESS,
                Err(e) => {
                    let _ = writeln!(err, "{}: {e}", cli::PROGRAM);
                    FAILURE
                }
            }
        }
        Extra::Recover { pid, fd, to, force } => {
            let Some(stop) = catch_signals(&mut err) else {
                return FAILURE;
            };
            let how = deleted::Recovery {
                to: Path::new(to),
                force: *force,
                stop: &stop,
            };
            deleted::recover(scanner.proc_root(), *pid, *fd, &how, &mut out, &mut err)
        }
        Extra::RecoverAll { to, force } => {
            let Some(stop) = catch_signals(&mut err) else {
                return FAILURE;
            };
            let how = deleted::Recovery {
                to: Path::new(to),
                force: *force,
                stop: &stop,
            };
            deleted::recover_all(scanner, selection, pids, &how, &mut out, &mut err)
        }
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
