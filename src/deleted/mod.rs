//! What `lsof +L1` leaves open: how much space deleted-but-open files hold,
//! where, and by whom (`--deleted`), and getting their bytes back while a
//! process still holds them (`--recover`, `--recover-all`).
//!
//! A deleted file cannot be linked back into a directory, but while it is
//! open its contents can be read through `/proc/PID/fd/N` (or, for a file
//! that is only mapped, `/proc/PID/map_files/...`).

pub mod collect;
pub mod links;
pub mod recover;
pub mod report;

use crate::cli::options::Options;
use crate::cli::PROGRAM;
use crate::scan::Scanner;
use crate::select::Selection;
use crate::users::Users;
use collect::{group, Collector, DeletedFile, Report};
use recover::{copy_out, describe_copy, ProgressBar, RecoverError, Source};
use std::ffi::OsString;
use std::io::{self, Write};
use std::os::unix::ffi::OsStringExt;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

/// Scans the selected processes and builds the report: deleted files, one
/// per inode, measured through /proc, grouped by filesystem.
pub fn scan_report(scanner: &Scanner, selection: &Selection, pids: &[i32]) -> io::Result<Report> {
    let mut collector = Collector::default();
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(4);
    crate::run::scan_in_order(scanner, selection, pids, threads, &mut |p| {
        collector.add_process(&p);
        Ok(())
    })?;
    let mut files = collector.into_files();
    links::measure(scanner.proc_root(), &mut files);
    Ok(group(files, scanner.mounts()))
}

/// `rlsof [selection] --deleted [-J]`: prints the report (text, or one
/// JSON object with `json`) and returns the exit status: 0, or 1 when a
/// search item (`-p`, `-u`, `-c` ...) matched nothing (unless `-Q`).
pub fn deleted_report(
    scanner: &Scanner,
    selection: &Selection,
    pids: &[i32],
    opts: &Options,
    json: bool,
    out: &mut dyn Write,
) -> io::Result<i32> {
    let report = scan_report(scanner, selection, pids)?;
    let users = Users::default();
    let label = |uid: u32| -> String {
        if opts.numeric_users {
            return uid.to_string();
        }
        users.name_of(uid).unwrap_or_else(|| uid.to_string())
    };
    if json {
        report::write_json(&report, &label, out)?;
    } else {
        report::write_text(&report, &label, out)?;
    }
    out.flush()?;
    Ok(if selection.all_found() || opts.quiet_failures {
        0
    } else {
        1
    })
}

/// `rlsof --recover PID:FD --to PATH`: copies what descriptor `fd` of
/// `pid` holds (deleted or not) to `to`, created exclusively with mode
/// 0600. Prints the result to `out`, errors to `err`; returns the exit
/// status (0 or 1).
pub fn recover(
    proc_root: &Path,
    pid: i32,
    fd: u32,
    to: &Path,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    let proc_dir = proc_root.join(pid.to_string());
    let source = Source {
        pid,
        what: format!("fd {fd}"),
        link: proc_dir.join("fd").join(fd.to_string()),
    };
    let mut bar = ProgressBar::for_stderr();
    let result = copy_out(&source, &proc_dir, to, &mut |copied, total| {
        bar.update(copied, total, err)
    });
    bar.finish(err);
    match result {
        Ok(copied) => {
            let _ = writeln!(out, "{}", describe_copy(&source, to, &copied));
            0
        }
        Err(e) => {
            let _ = writeln!(err, "{PROGRAM}: {e}");
            1
        }
    }
}

/// `rlsof [selection] --recover-all --to DIR`: recovers each deleted file
/// the selection lists (each inode once) into `to_dir` (created, mode
/// 0700, if missing) as `PID-FD-originalname`. Prints a line per file and a
/// total; returns 0 when every file was recovered, else 1.
pub fn recover_all(
    scanner: &Scanner,
    selection: &Selection,
    pids: &[i32],
    to_dir: &Path,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    let report = match scan_report(scanner, selection, pids) {
        Ok(r) => r,
        Err(e) => {
            let _ = writeln!(err, "{PROGRAM}: cannot scan processes: {e}");
            return 1;
        }
    };
    let not_found = i32::from(!selection.all_found());
    if report.is_empty() {
        let _ = writeln!(
            out,
            "{}; nothing to recover.",
            report::NOTHING_DELETED.trim_end_matches('.')
        );
        return not_found;
    }
    if let Err(e) = std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(to_dir)
    {
        let _ = writeln!(err, "{PROGRAM}: cannot create {}: {e}", to_dir.display());
        return 1;
    }
    let mut tally = Tally::default();
    for file in report.filesystems.iter().flat_map(|fs| &fs.files) {
        recover_one(scanner.proc_root(), file, to_dir, &mut tally, out, err);
    }
    let _ = writeln!(
        out,
        "Total: recovered {} of {} ({} bytes) into {}{}{}",
        tally.recovered,
        plural(
            tally.recovered + tally.failed + tally.skipped,
            "deleted file"
        ),
        tally.bytes,
        to_dir.display(),
        if tally.failed > 0 {
            format!("; {} failed", tally.failed)
        } else {
            String::new()
        },
        if tally.skipped > 0 {
            format!("; {} skipped", tally.skipped)
        } else {
            String::new()
        },
    );
    if tally.failed > 0 {
        1
    } else {
        not_found
    }
}

#[derive(Default)]
struct Tally {
    recovered: usize,
    failed: usize,
    skipped: usize,
    bytes: u64,
}

fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// Recovers one file through the first holder that can still be read.
fn recover_one(
    proc_root: &Path,
    file: &DeletedFile,
    to_dir: &Path,
    tally: &mut Tally,
    out: &mut dyn Write,
    err: &mut dyn Write,
) {
    let name = report::printable(&file.name);
    if file.file_type != Some(crate::model::FileType::Reg) {
        let kind = file.file_type.as_ref().map_or("unknown", |t| t.label());
        let _ = writeln!(out, "skipped {name}: not a regular file ({kind})");
        tally.skipped += 1;
        return;
    }
    let mut last_error = None;
    for holder in &file.holders {
        let Some(link) = links::holder_link(proc_root, holder.pid, holder.fd, file.dev, file.inode)
        else {
            continue;
        };
        let source = Source {
            pid: holder.pid,
            what: describe_holder(holder.fd),
            link,
        };
        let dest = to_dir.join(destination_name(holder.pid, holder.fd, &file.name));
        let mut bar = ProgressBar::for_stderr();
        let result = copy_out(
            &source,
            &proc_root.join(holder.pid.to_string()),
            &dest,
            &mut |copied, total| bar.update(copied, total, err),
        );
        bar.finish(err);
        match result {
            Ok(copied) => {
                let _ = writeln!(out, "{}", describe_copy(&source, &dest, &copied));
                tally.recovered += 1;
                tally.bytes += copied.bytes;
                return;
            }
            // The holder went away or may not be read: another may do.
            Err(
                e @ (RecoverError::NoProcess(_)
                | RecoverError::NoDescriptor(_)
                | RecoverError::PermissionDenied(_)
                | RecoverError::Unreadable(..)),
            ) => last_error = Some(e),
            Err(e) => {
                last_error = Some(e);
                break;
            }
        }
    }
    tally.failed += 1;
    let why = last_error.map_or_else(
        || "no holder has a /proc link to read it through".to_string(),
        |e| e.to_string(),
    );
    let _ = writeln!(err, "{PROGRAM}: cannot recover {name}: {why}");
}

fn describe_holder(fd: crate::model::FdName) -> String {
    use crate::model::FdName;
    match fd {
        FdName::Num(n) => format!("fd {n}"),
        FdName::Txt => "program text (exe)".into(),
        FdName::Del | FdName::Mem => "mapping (map_files)".into(),
        other => other.label().into_owned(),
    }
}

/// `PID-FD-originalname`: the last component of the original path,
/// shortened to stay within a file name's 255 bytes.
pub fn destination_name(pid: i32, fd: crate::model::FdName, original: &[u8]) -> PathBuf {
    let base = original.rsplit(|&c| c == b'/').next().unwrap_or(b"");
    let base: &[u8] = if base.is_empty() || base == b"." || base == b".." {
        b"deleted"
    } else {
        base
    };
    let mut name = format!("{pid}-{}-", fd.label()).into_bytes();
    name.extend_from_slice(&base[..base.len().min(255 - name.len())]);
    PathBuf::from(OsString::from_vec(name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::FdName;

    #[test]
    fn destination_names() {
        assert_eq!(
            destination_name(12, FdName::Num(3), b"/var/log/app.log"),
            PathBuf::from("12-3-app.log")
        );
        assert_eq!(
            destination_name(12, FdName::Del, b"/"),
            PathBuf::from("12-DEL-deleted")
        );
        let long = vec![b'x'; 400];
        let name = destination_name(4_194_304, FdName::Num(1_000_000), &long);
        assert_eq!(name.as_os_str().len(), 255);
    }
}
