//! The program: parse, resolve, scan, print, and the exit status.

use crate::cli::options::{Extra, Item, Options, Output, UserSpec};
use crate::cli::{self, CliError};
use crate::deleted;
use crate::names::SystemNames;
use crate::print::{printer_for, NameLookup};
use crate::run::scan_in_order;
use crate::scan::{ScanConfig, Scanner};
use crate::select::{Selection, UserSel};
use std::ffi::OsString;
use std::io::{self, Write};
use std::path::Path;

/// lsof's exit statuses.
pub const SUCCESS: i32 = 0;
pub const FAILURE: i32 = 1;

/// Runs rlsof with the arguments after argv[0]; returns the exit status.
pub fn main_with_args<I: IntoIterator<Item = OsString>>(args: I) -> i32 {
    let opts = match cli::parse(args) {
        Ok(o) => o,
        Err(CliError { message, status }) => {
            let _ = io::stderr().write_all(message.as_bytes());
            return status;
        }
    };
    let mut err = io::stderr().lock();
    for notice in &opts.notices {
        let _ = err.write_all(notice.as_bytes());
    }
    if opts.help || opts.version || opts.field_help {
        let _ = err.write_all(cli::info_text(&opts).as_bytes());
        return SUCCESS;
    }
    drop(err);
    match list(&opts) {
        Ok(status) => status,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => SUCCESS,
        Err(e) => {
            eprintln!("{}: {}", cli::PROGRAM, e);
            FAILURE
        }
    }
}

/// Resolves `-u` names to UIDs; lsof stops at the first unknown name.
fn resolve_users(opts: &Options) -> Result<Vec<Item<UserSel>>, String> {
    opts.users
        .iter()
        .map(|u| {
            let uid = match &u.value {
                UserSpec::Uid(uid) => *uid,
                UserSpec::Name(name) => crate::users::uid_of(name)
                    .ok_or_else(|| format!("{}: can't get UID for {}\n", cli::PROGRAM, name))?,
            };
            Ok(Item {
                value: UserSel {
                    spec: u.value.clone(),
                    uid,
                },
                excluded: u.excluded,
            })
        })
        .collect()
}

fn list(opts: &Options) -> io::Result<i32> {
    let users = match resolve_users(opts) {
        Ok(u) => u,
        Err(message) => {
            eprint!("{message}");
            return Ok(FAILURE);
        }
    };
    let selection = Selection::new(opts, users);
    let cfg = ScanConfig {
        warnings: !opts.no_warnings,
        offsets: opts.offset.is_some() || !matches!(opts.output, Output::Table | Output::Terse),
        file_flags: opts.file_flags.is_some(),
        list_tasks: selection.lists_tasks(),
        and_tasks: opts.and && selection.lists_tasks(),
        ..Default::default()
    };
    let tables = crate::net::NetTables::new(&cfg.proc_root);
    let scanner = Scanner::new(cfg, Box::new(tables))?;
    let pids = pids_to_scan(&scanner, &selection)?;
    if let Some(extra) = &opts.extra {
        return Ok(run_extra(extra, opts, &scanner, &selection, &pids));
    }
    let names = SystemNames::default();
    let stdout = io::stdout().lock();
    let out = io::BufWriter::with_capacity(64 * 1024, stdout);
    let lookup: &dyn NameLookup = &names;
    let mut printer = printer_for(opts, lookup, out);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    scan_in_order(&scanner, &selection, &pids, threads, &mut |p| {
        printer.process(&p)
    })?;
    printer.finish()?;
    Ok(if selection.all_found() {
        SUCCESS
    } else {
        FAILURE
    })
}

/// rlsof's own long options: the deleted-files report and recovery.
fn run_extra(
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
    }
}

/// With only PIDs selected (no `-a` tricks needed), scan just those.
fn pids_to_scan(scanner: &Scanner, selection: &Selection) -> io::Result<Vec<i32>> {
    if let Some(mut pids) = selection.only_pids() {
        pids.sort_unstable();
        pids.dedup();
        return Ok(pids);
    }
    scanner.pids()
}
