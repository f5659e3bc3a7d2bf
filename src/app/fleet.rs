//! `--summary`, `--metrics` and `--serve`: the selected processes scanned
//! into a `fleet::Snapshot`, then reported, printed or served.

use super::output::Stdout;
use super::{output_failed, pids_to_scan, FAILURE, SUCCESS};
use crate::cli::options::{Feature, FleetSettings, Options, Output};
use crate::cli::PROGRAM;
use crate::fleet::metrics::{render, MetricsLimits};
use crate::fleet::serve::{bind, serve, SharedScan};
use crate::fleet::{summary, take_snapshot, Snapshot, UserNames};
use crate::scan::{ScanConfig, Scanner};
use crate::select::Selection;
use std::ffi::OsStr;
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Runs a fleet mode; returns the exit status.
pub(super) fn run_fleet(
    extra: &Feature,
    opts: &Options,
    scanner: &Scanner,
    selection: &Arc<Selection>,
) -> i32 {
    let cfg = fleet_config(scanner.config());
    let result = match extra {
        Feature::Summary(settings) => {
            one_snapshot(&cfg, selection).and_then(|s| print_summary(&s, settings, opts))
        }
        Feature::Metrics { settings, file } => one_snapshot(&cfg, selection).and_then(|s| {
            let text = render(
                &s,
                &metrics_limits(settings),
                &UserNames::new(opts.numeric_users),
            );
            match file {
                Some(path) => write_atomically(Path::new(path), text.as_bytes()),
                None => Stdout::lock().write_all(text.as_bytes()),
            }
        }),
        Feature::Serve { settings, addr } => {
            return serve_metrics(cfg, selection, settings, opts, *addr);
        }
        _ => return FAILURE,
    };
    match result {
        Ok(()) if selection.all_found() || opts.quiet_failures => SUCCESS,
        Ok(()) => FAILURE,
        Err(e) => output_failed(&e),
    }
}

/// What the fleet view reads: every descriptor row, including the NOFD
/// row that tells a process could not be read; no offsets or flags.
fn fleet_config(listing: &ScanConfig) -> ScanConfig {
    ScanConfig {
        warnings: true,
        offsets: false,
        file_flags: false,
        endpoints: false,
        terse: false,
        ..listing.clone()
    }
}

fn one_snapshot(cfg: &ScanConfig, selection: &Arc<Selection>) -> io::Result<Snapshot> {
    let sockets = Box::new(crate::net::NetTables::new(&cfg.proc_root));
    let mut scanner = Scanner::new(cfg.clone(), sockets)?;
    scanner.set_socket_filter(selection.network.clone());
    let pids = pids_to_scan(&scanner, selection)?;
    take_snapshot(&scanner, selection, &pids)
}

fn print_summary(snapshot: &Snapshot, settings: &FleetSettings, opts: &Options) -> io::Result<()> {
    let users = UserNames::new(opts.numeric_users);
    let top = settings.top.unwrap_or(10);
    let mut out = io::BufWriter::new(Stdout::lock());
    if opts.output == Output::Json {
        serde_json::to_writer_pretty(&mut out, &summary::json(snapshot, top, &users))?;
        writeln!(out)?;
    } else if opts.output == Output::JsonLines {
        serde_json::to_writer(&mut out, &summary::json(snapshot, top, &users))?;
        writeln!(out)?;
    } else {
        summary::write_text(snapshot, top, &users, &mut out)?;
    }
    out.flush()
}

fn metrics_limits(settings: &FleetSettings) -> MetricsLimits {
    MetricsLimits {
        top_processes: settings.top.unwrap_or(20),
        listeners: settings.listeners,
        deleted_paths: settings.deleted_paths,
    }
}

/// Writes `path` whole or not at all: a new file beside it (a name the
/// textfile collector ignores, not ending in `.prom`), synced, then
/// renamed over it.
fn write_atomically(path: &Path, text: &[u8]) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path.file_name().unwrap_or(OsStr::new("metrics"));
    let mut temp_name = std::ffi::OsString::from(".");
    temp_name.push(name);
    temp_name.push(format!(".rlsof-{}.tmp", std::process::id()));
    let temp = dir.join(temp_name);
    let describe =
        |e: io::Error, what: &Path| io::Error::new(e.kind(), format!("{}: {e}", what.display()));
    let written = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o644)
            .open(&temp)?;
        file.write_all(text)?;
        file.sync_all()
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(describe(e, &temp));
    }
    std::fs::rename(&temp, path).map_err(|e| {
        let _ = std::fs::remove_file(&temp);
        describe(e, path)
    })
}

fn serve_metrics(
    cfg: ScanConfig,
    selection: &Arc<Selection>,
    settings: &FleetSettings,
    opts: &Options,
    addr: std::net::SocketAddr,
) -> i32 {
    let listener = match bind(addr) {
        Ok(l) => l,
        Err(message) => {
            eprintln!("{PROGRAM}: {message}");
            return FAILURE;
        }
    };
    let limits = metrics_limits(settings);
    let numeric = opts.numeric_users;
    let selection = Arc::clone(selection);
    let scan = Box::new(move || {
        let snapshot = one_snapshot(&cfg, &selection).map_err(|e| e.to_string())?;
        Ok(render(&snapshot, &limits, &UserNames::new(numeric)))
    });
    let shared = SharedScan::new(scan, Duration::from_secs(settings.cache_age_secs));
    if let Ok(bound) = listener.local_addr() {
        eprintln!("{PROGRAM}: serving metrics on http://{bound}/metrics");
    }
    match serve(listener, shared) {
        Ok(()) => SUCCESS,
        Err(message) => {
            eprintln!("{PROGRAM}: {message}");
            FAILURE
        }
    }
}
