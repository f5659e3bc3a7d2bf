//! rlsof's own long options: the deleted-files report and recovery, and
//! the live views (`--top`, `--changes`).

use super::{FAILURE, SUCCESS};
use crate::cli;
use crate::cli::options::{Extra, Options, Output};
use crate::deleted;
use crate::live;
use crate::model::Process;
use crate::names::SystemNames;
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
        // The caller gives these to `run_live`, which owns the scanner.
        Extra::Top { .. } | Extra::Changes { .. } => FAILURE,
    }
}

/// Runs `--top` or `--changes`; returns the exit status (`status` gives
/// a listing's, once the cycles are over).
pub(super) fn run_live(
    opts: &Options,
    scanner: Scanner,
    fresh_sockets: &live::FreshSockets,
    mut scan: impl FnMut(&mut Scanner, &mut dyn FnMut(Process) -> io::Result<()>) -> io::Result<()>,
    status: impl Fn() -> io::Result<i32>,
) -> i32 {
    let names = SystemNames::default();
    let result = match (&opts.extra, &opts.repeat) {
        (Some(Extra::Top { leak_cycles }), repeat) => {
            let how = live::top::Top {
                opts,
                repeat: repeat.as_ref(),
                leak_cycles: *leak_cycles,
                names: &names,
            };
            live::top::run(&how, scanner, fresh_sockets, &mut scan)
        }
        (Some(Extra::Changes { leak_cycles }), Some(repeat)) => {
            let how = live::changes::Changes {
                opts,
                repeat,
                leak_cycles: *leak_cycles,
                names: &names,
            };
            let mut out = io::BufWriter::new(io::stdout().lock());
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
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => SUCCESS,
        Err(e) => {
            eprintln!("{}: {e}", cli::PROGRAM);
            FAILURE
        }
    }
}
