//! rlsof's own long options: the deleted-files report and recovery.

use super::output::{FirstFailure, Stdout};
use super::output_failed;
use crate::cli::options::{Extra, Options, Output};
use crate::deleted;
use crate::scan::Scanner;
use crate::select::Selection;
use std::io;
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
        Extra::Recover { pid, fd, to } => {
            deleted::recover(scanner.proc_root(), *pid, *fd, Path::new(to), out, err)
        }
        Extra::RecoverAll { to } => {
            deleted::recover_all(scanner, selection, pids, Path::new(to), out, err)
        }
        Extra::DeletedReport => {
            let json = matches!(opts.output, Output::Json | Output::JsonLines);
            match deleted::deleted_report(scanner, selection, pids, opts, json, out) {
                Ok(status) => status,
                Err(e) => output_failed(&e),
            }
        }
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
