//! The program: parse, resolve, scan, print, and the exit status.

use crate::cli::options::{Extra, Item, MountSupplement, Options, Output, UserSpec};
use crate::cli::{self, CliError};
use crate::deleted;
use crate::names::SystemNames;
use crate::print::{printer_for, NameLookup, Printer};
use crate::run::scan_in_order;
use crate::scan::endpoints::{list_with_endpoints, EndpointListing};
use crate::scan::exempt::ExemptPath;
use crate::scan::socket::SocketLookup;
use crate::scan::timeout::BlockGuard;
use crate::scan::FdWanted;
use crate::scan::{ScanConfig, Scanner};
use crate::select::args::{resolve_exempt, resolve_file_args, FileArgs};
use crate::select::mounts::mount_supplement;
use crate::select::{report, Messages, NetworkSelection, Selection, UserSel};
use std::ffi::OsString;
use std::io::{self, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

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

/// Resolves `-u` names to UIDs; lsof reports every unknown name.
fn resolve_users(opts: &Options) -> Result<Vec<Item<UserSel>>, String> {
    let mut unknown = String::new();
    let mut users = Vec::new();
    for u in &opts.users {
        let uid = match &u.value {
            UserSpec::Uid(uid) => *uid,
            UserSpec::Name(name) => match crate::users::uid_of(name) {
                Some(uid) => uid,
                None => {
                    unknown += &cli::later::unknown_login(name);
                    continue;
                }
            },
        };
        // lsof compares UIDs as it enters them: a repeat is dropped, an
        // inclusion and an exclusion of one UID is an error.
        if let Some(known) = users.iter().find(|k: &&Item<UserSel>| k.value.uid == uid) {
            if known.excluded != u.excluded {
                unknown += &cli::later::uid_included_and_excluded(uid);
            }
            continue;
        }
        users.push(Item {
            value: UserSel {
                spec: u.value.clone(),
                uid,
            },
            excluded: u.excluded,
        });
    }
    if unknown.is_empty() {
        Ok(users)
    } else {
        Err(unknown)
    }
}

/// What the selection options resolve to before the scan.
struct Prepared {
    selection: Arc<Selection>,
    guard: Arc<BlockGuard>,
    exempt: Vec<ExemptPath>,
    /// A file argument could not be used (exit 1 at the end).
    args_failed: bool,
}

/// Resolves users, `-e`, `+m`, `+d`/`+D` and file arguments, printing
/// lsof's messages; Err(status) when lsof would stop here.
fn prepare(opts: &Options) -> io::Result<Result<Prepared, i32>> {
    let users = match resolve_users(opts) {
        Ok(u) => u,
        Err(message) => {
            // lsof meets unknown names while parsing: usage follows.
            eprint!("{message}{}", cli::usage_text(false));
            return Ok(Err(FAILURE));
        }
    };
    // lsof resolves `-i` hosts and services while it parses the options.
    let network = match NetworkSelection::new(opts, &crate::net::Names::new()) {
        Ok(network) => network,
        Err(message) => {
            eprint!("{}", cli::usage_error(&message).message);
            return Ok(Err(FAILURE));
        }
    };
    let guard = Arc::new(BlockGuard::new(
        Duration::from_secs(opts.timeout_secs.into()),
        opts.avoid_blocking,
    ));
    let mounts = read_mounts();
    let mut msgs = Messages::new(!opts.no_warnings);
    let Some(exempt) = resolve_exempt(opts, &mounts, &guard, &mut msgs) else {
        eprint!("{}{}", msgs.take(), cli::usage_text(false));
        return Ok(Err(FAILURE));
    };
    if opts.mount_supplement == Some(MountSupplement::Create) {
        let text = mount_supplement(&guard, opts.avoid_blocking, &exempt, &mut msgs);
        eprint!("{}", msgs.take());
        io::stdout().lock().write_all(text.as_bytes())?;
        return Ok(Err(SUCCESS));
    }
    let file_args = resolve_file_args(opts, &guard, &mounts, &exempt, &mut msgs);
    eprint!("{}", msgs.take());
    let (names, args_failed) = match file_args {
        FileArgs::Ready { names, failed } => (names, failed),
        FileArgs::Usage => {
            eprint!("{}", cli::usage_text(false));
            return Ok(Err(FAILURE));
        }
        FileArgs::Stop => return Ok(Err(FAILURE)),
    };
    let nfs_devs = mounts
        .iter()
        .filter(|m| matches!(m.fs_type.as_str(), "nfs" | "nfs3" | "nfs4"))
        .map(|m| m.dev.raw());
    let mut selection = Selection::new(opts, users)
        .with_names(names)
        .with_nfs_devices(nfs_devs);
    selection.network = Arc::new(network);
    Ok(Ok(Prepared {
        selection: Arc::new(selection),
        guard,
        exempt,
        args_failed,
    }))
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
    let proc_root = cfg.proc_root.clone();
    let fresh_sockets =
        || -> Box<dyn SocketLookup + Send> { Box::new(crate::net::NetTables::new(&proc_root)) };
    let mut scanner = Scanner::new(cfg, fresh_sockets())?;
    if opts.endpoints.is_none() {
        scanner.set_socket_filter(selection.network.clone());
    }
    if let Some(extra) = &opts.extra {
        let pids = pids_to_scan(&scanner, &selection)?;
        return Ok(run_extra(extra, opts, &scanner, &selection, &pids));
    }
    let names = SystemNames::default();
    let stdout = io::stdout().lock();
    let out = io::BufWriter::with_capacity(64 * 1024, stdout);
    let lookup: &dyn NameLookup = &names;
    let mut printer = printer_for(opts, lookup, out);
    let mut list_once = |scanner: &Scanner, printer: &mut dyn Printer| -> io::Result<()> {
        scan_and_print(opts, scanner, &selection, printer)?;
        printer.finish()
    };
    let Some(repeat) = &opts.repeat else {
        list_once(&scanner, &mut *printer)?;
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

/// lsof's end: `-V` lines for what was not found, then the status (a
/// search failure is forgiven by `-Q`, an unusable file argument is not).
fn exit_status(opts: &Options, selection: &Selection, args_failed: bool) -> io::Result<i32> {
    let missing = report::not_found(selection);
    if opts.verbose_failures && !missing.is_empty() {
        let mut out = io::stdout().lock();
        out.write_all(report::verbose_text(&missing).as_bytes())?;
        out.flush()?;
    }
    let network_missed = !selection.network.all_found();
    let search_failed = (!missing.is_empty() || network_missed) && !opts.quiet_failures;
    Ok(if search_failed || args_failed {
        FAILURE
    } else {
        SUCCESS
    })
}

fn read_mounts() -> Vec<crate::scan::mounts::Mount> {
    std::fs::read("/proc/self/mountinfo")
        .map(|t| crate::scan::mounts::parse_mountinfo(&t))
        .unwrap_or_default()
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

/// One listing: the selected processes, in PID order, to the printer (not
/// finished); under `+E`/`-E` with the endpoints of their files.
fn scan_and_print(
    opts: &Options,
    scanner: &Scanner,
    selection: &Selection,
    printer: &mut dyn Printer,
) -> io::Result<()> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let Some(list_ends) = opts.endpoints else {
        let pids = pids_to_scan(scanner, selection)?;
        return scan_in_order(scanner, selection, &pids, threads, &mut |p| {
            printer.process(&p)
        });
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
    list_with_endpoints(&listing, &mut |p| printer.process(&p))
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
