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
        Extra::Recover { pid, fd, to } => deleted::recover(
            scanner.proc_root(),
            *pid,
            *fd,
            Path::new(to),
            &mut out,
            &mut err,
        ),
        Extra::RecoverAll { to } => {
            deleted::recover_all(scanner, selection, pids, Path::new(to), &mut out, &mut err)
        }
        // Run by `app::fleet` before this is reached.
        Extra::Summary(_) | Extra::Metrics { .. } | Extra::Serve { .. } => FAILURE,
    }
}
