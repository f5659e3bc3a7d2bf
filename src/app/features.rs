//! rlsof's own long options: the deleted-files report and recovery, and
//! the live views (`--top`, `--changes`).

use super::output::{FirstFailure, Stdout};
use super::output_failed;
use super::FAILURE;
use crate::cli;
use crate::cli::options::{Feature, Options, Output};
use crate::deleted;
use crate::live;
use crate::model::Process;
use crate::print::PrintSettings;
use crate::scan::Scanner;
use crate::select::Selection;
use crate::system_names::SystemNames;
use std::io::{self, Write};
use std::path::Path;

/// Runs `--deleted`, `--recover` or `--recover-all`; returns the exit status.
pub(super) fn run_feature(
    extra: &Feature,
    opts: &Options,
    scanner: &Scanner,
    selection: &Selection,
    pids: &[i32],
) -> i32 {
    let recovery = |out: &mut dyn io::Write, err: &mut dyn io::Write| match extra {
        Feature::Recover { pid, fd, to, force } => recovering(to, *force, err, |how, err| {
            deleted::recover(scanner.proc_root(), *pid, *fd, how, out, err)
        }),
        Feature::RecoverAll { to, force } => recovering(to, *force, err, |how, err| {
            deleted::recover_all(scanner, selection, pids, how, out, err)
        }),
        Feature::DeletedReport => {
            let json = matches!(opts.output, Output::Json | Output::JsonLines);
            match deleted::deleted_report(scanner, selection, pids, opts, json, out) {
                Ok(status) => status,
                Err(e) => output_failed(&e),
            }
        }
        // Run by `app::fleet` before this is reached.
        Feature::Summary(_) | Feature::Metrics { .. } | Feature::Serve { .. } => FAILURE,
        // The caller gives these to `run_live`, which owns the scanner.
        Feature::Top { .. } | Feature::Changes { .. } => FAILURE,
    };
    // Recovery copies every file even when its report cannot be written;
    // the report stops at its first failed write.
    let mut out = FirstFailure::new(Stdout::lock());
    let status = recovery(&mut out, &mut io::stderr().lock());
    match out.finish() {
        Some(e) if !matches!(extra, Feature::DeletedReport) => output_failed(&e).max(status),
        _ => status,
    }
}

/// Runs one recovery to `to` with SIGINT, SIGTERM and SIGHUP caught.
fn recovering(
    to: &std::ffi::OsStr,
    force: bool,
    err: &mut dyn Write,
    copy: impl FnOnce(&deleted::Recovery, &mut dyn Write) -> i32,
) -> i32 {
    let Some(stop) = catch_signals(err) else {
        return FAILURE;
    };
    let how = deleted::Recovery {
        to: Path::new(to),
        force,
        stop: &stop,
    };
    copy(&how, err)
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

/// Runs `--top` or `--changes`; returns the exit status (`status` gives
/// a listing's, once the cycles are over).
pub(super) fn run_live(
    opts: &Options,
    print: &PrintSettings,
    scanner: Scanner,
    fresh_sockets: &live::FreshSockets,
    mut scan: impl FnMut(&mut Scanner, &mut dyn FnMut(Process) -> io::Result<()>) -> io::Result<()>,
    status: impl Fn() -> io::Result<i32>,
) -> i32 {
    let names = SystemNames::default();
    let result = match (&opts.feature, &opts.repeat) {
        (Some(Feature::Top { leak_cycles }), repeat) => {
            let how = live::top::Top {
                print,
                repeat: repeat.as_ref(),
                leak_cycles: *leak_cycles,
                names: &names,
            };
            live::top::run(&how, scanner, fresh_sockets, &mut scan)
        }
        (Some(Feature::Changes { leak_cycles }), Some(repeat)) => {
            let how = live::changes::Changes {
                print,
                repeat,
                leak_cycles: *leak_cycles,
                names: &names,
            };
            let mut out = io::BufWriter::new(Stdout::lock());
            live::changes::run(&how, scanner, fresh_sockets, &mut scan, &mut out).and_then(
                |outcome| {
                    let status = status()?;
                    Ok(if repeat.until_empty && !outcome.listed {
                        FAILURE
                    } else {
                        status
                    })
                },
            )
        }
        _ => Ok(FAILURE),
    };
    match result {
        Ok(status) => status,
        Err(e) => output_failed(&e),
    }
}
