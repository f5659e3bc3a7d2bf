//! The program: parse, resolve, scan, print, and the exit status.

mod config;
mod features;
mod fleet;
mod output;
mod prepare;
mod print_settings;
mod status;

use crate::cli::options::{Feature, Options};
use crate::cli::{self, CliError};
use crate::model::Process;
use crate::print::{printer_for, NameLookup, Printer};
use crate::run::{scan_in_order, tune_allocator};
use crate::scan::endpoints::{list_with_endpoints, EndpointListing};
use crate::scan::socket::SocketLookup;
use crate::scan::socket_source::SocketSource;
use crate::scan::Scanner;
use crate::select::Selection;
use crate::system_names::SystemNames;
use config::Config;
use features::run_feature;
use prepare::{prepare, Prepared};
use print_settings::print_settings;
use status::exit_status;
use std::ffi::OsString;
use std::io::{self, Write};

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
    crate::bpf::debug::say(format_args!(
        "environment: {}",
        crate::knobs::knobs().describe()
    ));
    // Before any thread starts (resolving names may start some).
    tune_allocator(config::allocator_use(opts));
    let Prepared {
        selection,
        guard,
        exempt,
        args_failed,
    } = match prepare(opts)? {
        Ok(p) => p,
        Err(status) => return Ok(status),
    };
    let config = Config::new(opts, &selection, guard, exempt);
    let proc_root = config.scan.proc_root.clone();
    let fresh_sockets =
        || -> Box<dyn SocketLookup + Send> { Box::new(crate::net::NetTables::new(&proc_root)) };
    let mut scanner = Scanner::new(config.scan.clone(), fresh_sockets())?;
    if opts.endpoints.is_none() {
        scanner.set_socket_filter(selection.network.clone());
    }
    if let Some(extra @ (Feature::Summary(_) | Feature::Metrics { .. } | Feature::Serve { .. })) =
        &opts.feature
    {
        return Ok(fleet::run_fleet(extra, opts, &scanner, &selection));
    }
    let print = print_settings(opts, config.threads);
    if matches!(
        opts.feature,
        Some(Feature::Top { .. } | Feature::Changes { .. })
    ) {
        let scan = |scanner: &mut Scanner, sink: &mut dyn FnMut(Process) -> io::Result<()>| {
            scan_each(opts, &config, scanner, &selection, sink)
        };
        let status = || exit_status(opts, &selection, args_failed);
        return Ok(features::run_live(
            opts,
            &print,
            scanner,
            &fresh_sockets,
            scan,
            status,
        ));
    }
    if let Some(extra) = &opts.feature {
        let pids = pids_to_scan(&scanner, &selection)?;
        return Ok(run_feature(extra, opts, &scanner, &selection, &pids));
    }
    let names = SystemNames::default();
    let out = io::BufWriter::with_capacity(64 * 1024, output::Stdout::lock());
    let lookup: &dyn NameLookup = &names;
    let mut printer = printer_for(&print, lookup, out);
    let mut list_once = |scanner: &mut Scanner, printer: &mut dyn Printer| -> io::Result<()> {
        scan_and_print(opts, &config, scanner, &selection, printer)?;
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
    config: &Config,
    scanner: &mut Scanner,
    selection: &Selection,
    printer: &mut dyn Printer,
) -> io::Result<()> {
    scan_each(opts, config, scanner, selection, &mut |p| {
        printer.process(&p)
    })
}

/// One listing: the selected processes, in PID order, to `sink`.
fn scan_each(
    opts: &Options,
    config: &Config,
    scanner: &mut Scanner,
    selection: &Selection,
    sink: &mut dyn FnMut(Process) -> io::Result<()>,
) -> io::Result<()> {
    let threads = config.threads;
    let Some(list_ends) = opts.endpoints else {
        let pids = pids_to_scan(scanner, selection)?;
        let SocketSource::Batches(batches) = scanner.choose_socket_source(config.streaming, &pids)
        else {
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
