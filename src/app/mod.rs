//! The program: parse, resolve, scan, print, and the exit status.

mod extra;
mod fleet;
mod output;
mod prepare;
mod print_settings;
mod status;

use crate::cli::options::{Extra, Options, Output};
use crate::cli::{self, CliError};
use crate::model::Process;
use crate::names::SystemNames;
use crate::print::{printer_for, NameLookup, Printer};
use crate::run::scan_in_order;
use crate::scan::endpoints::{list_with_endpoints, EndpointListing};
use crate::scan::socket::SocketLookup;
use crate::scan::FdWanted;
use crate::scan::{ScanConfig, Scanner};
use crate::select::Selection;
use extra::run_extra;
use prepare::{prepare, Prepared};
use print_settings::print_settings;
use status::exit_status;
use std::ffi::OsString;
use std::io::{self, Write};
use std::sync::Arc;

/// lsof's exit statuses.
pub const SUCCESS: i32 = 0;
pub const FAILURE: i32 = 1;

/// Runs rlsof with the arguments after argv[0]; returns the exit status.
pub fn main_with_args<I: IntoIterator<Item = OsString>>(args: I) -> i32 {
    // lsof sets LC_CTYPE before it parses options: messages echo user text
    // escaped for the locale, as names are.
    crate::escape::init_locale();
    let opts = match cli::parse(args) {
        Ok(o) => o,
        Err(CliError { message, status }) => {
            let _ = io::stderr().write_all(message.as_bytes());
            return status;
        }
    };
    if !opts.long_info.is_empty() {
        let mut out = output::Stdout::lock();
        return match out
            .write_all(opts.long_info.as_bytes())
            .and_then(|()| out.flush())
        {
            Ok(()) => SUCCESS,
            Err(e) => output_failed(&e),
        };
    }
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
        Err(e) => output_failed(&e),
    }
}

/// The exit status when output (or the listing) failed with `e`, after
/// saying so on stderr. A reader that went away (`EPIPE`, only seen when
/// SIGPIPE is ignored) is lsof's silent success.
pub(super) fn output_failed(e: &io::Error) -> i32 {
    if e.kind() == io::ErrorKind::BrokenPipe {
        return SUCCESS;
    }
    eprintln!("{}: {}", cli::PROGRAM, e);
    FAILURE
}

fn list(opts: &Options) -> io::Result<i32> {
    let Prepared {
        selection,
        guard,
        exempt,
        args_failed,
    } = match prepare(opts)? {
        Ok(p) => p,
        Err(status) => return Ok(status),
    };
    let early = Arc::clone(&selection);
    let cfg = ScanConfig {
        warnings: !opts.no_warnings,
        offsets: opts.offset.is_some() || !matches!(opts.output, Output::Table | Output::Terse),
        file_flags: opts.file_flags.is_some(),
        list_tasks: selection.lists_tasks(),
        and_tasks: opts.and && selection.lists_tasks(),
        // Threads may reuse their leader's rows, so only skip early when
        // no thread is listed.
        fd_wanted: (!selection.lists_tasks())
            .then(|| FdWanted(Arc::new(move |flags, fd| early.fd_may_be_listed(flags, fd)))),
        guard: Some(guard),
        exempt,
        sockets_only_unless: selection.sockets_only_unless(),
        endpoints: opts.endpoints.is_some(),
        skip_tcp_udp: opts.skip_tcp_udp,
        terse: crate::run::terse_scan(opts, &selection),
        ..Default::default()
    };
    if streams(opts) || opts.output == Output::Terse {
        crate::run::one_arena_for_all_threads();
    }
    let proc_root = cfg.proc_root.clone();
    let fresh_sockets =
        || -> Box<dyn SocketLookup + Send> { Box::new(crate::net::NetTables::new(&proc_root)) };
    let mut scanner = Scanner::new(cfg, fresh_sockets())?;
    if opts.endpoints.is_none() {
        scanner.set_socket_filter(selection.network.clone());
    }
    if let Some(extra @ (Extra::Summary(_) | Extra::Metrics { .. } | Extra::Serve { .. })) =
        &opts.extra
    {
        return Ok(fleet::run_fleet(extra, opts, &scanner, &selection));
    }
    let print = print_settings(opts);
    if matches!(opts.extra, Some(Extra::Top { .. } | Extra::Changes { .. })) {
        let scan = |scanner: &mut Scanner, sink: &mut dyn FnMut(Process) -> io::Result<()>| {
            scan_each(opts, scanner, &selection, sink)
        };
        let status = || exit_status(opts, &selection, args_failed);
        return Ok(extra::run_live(
            opts,
            &print,
            scanner,
            &fresh_sockets,
            scan,
            status,
        ));
    }
    if let Some(extra) = &opts.extra {
        let pids = pids_to_scan(&scanner, &selection)?;
        return Ok(run_extra(extra, opts, &scanner, &selection, &pids));
    }
    let names = SystemNames::default();
    let out = io::BufWriter::with_capacity(64 * 1024, output::Stdout::lock());
    let lookup: &dyn NameLookup = &names;
    let mut printer = printer_for(&print, lookup, out);
    let mut list_once = |scanner: &mut Scanner, printer: &mut dyn Printer| -> io::Result<()> {
        scan_and_print(opts, scanner, &selection, printer)?;
        printer.finish()
    };
    let Some(repeat) = &opts.repeat else {
        list_once(&mut scanner, &mut *printer)?;
        drop(printer);
        return exit_status(opts, &selection, args_failed);
    };
    let outcome = crate::repeat::run(
        repeat,
        scanner,
        &mut *printer,
        &fresh_sockets,
        &mut list_once,
    )?;
    drop(printer);
    // lsof: a search failure wins; then `+r` fails unless a cycle listed.
    let status = exit_status(opts, &selection, args_failed)?;
    Ok(if repeat.until_empty && !outcome.listed {
        FAILURE
    } else {
        status
    })
}

/// One listing: the selected processes, in PID order, to the printer (not
/// finished); under `+E`/`-E` with the endpoints of their files.
fn scan_and_print(
    opts: &Options,
    scanner: &mut Scanner,
    selection: &Selection,
    printer: &mut dyn Printer,
) -> io::Result<()> {
    scan_each(opts, scanner, selection, &mut |p| printer.process(&p))
}

/// One listing: the selected processes, in PID order, to `sink`.
fn scan_each(
    opts: &Options,
    scanner: &mut Scanner,
    selection: &Selection,
    sink: &mut dyn FnMut(Process) -> io::Result<()>,
) -> io::Result<()> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let Some(list_ends) = opts.endpoints else {
        let pids = pids_to_scan(scanner, selection)?;
        let from_kernel = streams(opts) && scanner.describe_sockets_from_kernel();
        let batches = (streams(opts) && !from_kernel)
            .then(|| scanner.socket_batches(&pids))
            .flatten();
        let Some(batches) = batches else {
            return scan_in_order(scanner, selection, &pids, threads, sink);
        };
        for batch in batches {
            scanner.describe_only(batch.sockets);
            scan_in_order(scanner, selection, &batch.pids, threads, sink)?;
        }
        return Ok(());
    };
    // The other ends may be held by any process.
    let pids = scanner.pids()?;
    let listing = EndpointListing {
        scanner,
        pids: &pids,
        threads,
        process: &|h| selection.process(h),
        file: &|flags, f| selection.file(flags, f),
        command_width: opts.command_width,
        list_ends,
    };
    list_with_endpoints(&listing, sink)
}

/// Whether the output is written process by process, holding nothing
/// (field output and JSON): then socket tables are read in batches too.
fn streams(opts: &Options) -> bool {
    matches!(
        opts.output,
        Output::Fields { .. } | Output::Json | Output::JsonLines
    )
}

/// With only PIDs selected (no `-a` tricks needed), scan just those.
fn pids_to_scan(scanner: &Scanner, selection: &Selection) -> io::Result<Vec<i32>> {
    if let Some(mut pids) = selection.only_pids() {
        pids.sort_unstable();
        pids.dedup();
        return Ok(pids);
    }
    let pids = scanner.pids()?;
    let holders = scanner.socket_holders_among(&pids, selection.tests_processes());
    Ok(holders.unwrap_or(pids))
}
