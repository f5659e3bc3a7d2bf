//! `--recover` and `--recover-all`: what they print and the status they
//! end with.
//!
//! Messages go to `err`, results to `out`; every name is escaped as the
//! table escapes it. A stopping signal ends the command with 128 + its
//! number after the copy in progress was discarded and the terminal line
//! was put back.

use super::collect::DeletedFile;
use super::interrupt::{exit_status, signal_name, Interrupts};
use super::progress::ProgressBar;
use super::recover::{describe_copy, plan, shown, RecoverError, Source, Target};
use super::report::{self, printable};
use super::{links, scan_report};
use crate::cli::PROGRAM;
use crate::scan::Scanner;
use crate::select::Selection;
use std::ffi::OsString;
use std::io::Write;
use std::os::unix::ffi::OsStringExt;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

/// Where and how to recover.
#[derive(Debug, Clone, Copy)]
pub struct Recovery<'a> {
    /// `--to`.
    pub to: &'a Path,
    /// `--force`: copy onto the filesystem the deleted file fills.
    pub force: bool,
    pub stop: &'a Interrupts,
}

/// `rlsof --recover PID:FD --to PATH`: copies what descriptor `fd` of
/// `pid` holds (deleted or not) to PATH, or to PATH/NAME when PATH is a
/// directory. Returns the exit status: 0, 1, or 128 + a stopping signal.
pub fn recover(
    proc_root: &Path,
    pid: i32,
    fd: u32,
    how: &Recovery,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    let proc_dir = proc_root.join(pid.to_string());
    let source = Source {
        pid,
        what: format!("fd {fd}"),
        link: proc_dir.join("fd").join(fd.to_string()),
    };
    match copy_one(&source, &proc_dir, Target::Given(how.to), how, out, err) {
        Ok(_) => 0,
        Err(e) => {
            let _ = writeln!(err, "{PROGRAM}: {e}");
            match e {
                RecoverError::Interrupted { signal, .. } => exit_status(signal),
                _ => 1,
            }
        }
    }
}

/// Plans and copies one file with a progress bar; prints warnings to
/// `err` and the result line to `out`. Returns the bytes copied.
fn copy_one(
    source: &Source,
    proc_dir: &Path,
    target: Target,
    how: &Recovery,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<u64, RecoverError> {
    let ready = plan(source, proc_dir, target, how.force)?;
    for warning in &ready.warnings {
        let _ = writeln!(err, "{PROGRAM}: {warning}");
    }
    let dest = ready.dest.clone();
    let mut bar = ProgressBar::for_stderr();
    let result = ready.copy(how.stop, &mut |copied, total| {
        bar.update(copied, total, err)
    });
    bar.finish(err);
    let copied = result?;
    let _ = writeln!(out, "{}", describe_copy(source, &dest, &copied));
    Ok(copied.length)
}

/// What `--recover-all` did, for its summary.
#[derive(Default)]
struct Tally {
    recovered: usize,
    bytes: u64,
    /// Why each failed or skipped file was, in order of first appearance.
    failed: Vec<(&'static str, usize)>,
    skipped: Vec<(&'static str, usize)>,
    interrupted: Option<libc::c_int>,
    /// Files not tried because a signal came first.
    not_attempted: usize,
}

fn count(reasons: &mut Vec<(&'static str, usize)>, reason: &'static str) {
    match reasons.iter_mut().find(|(r, _)| *r == reason) {
        Some((_, n)) => *n += 1,
        None => reasons.push((reason, 1)),
    }
}

fn total(reasons: &[(&'static str, usize)]) -> usize {
    reasons.iter().map(|(_, n)| n).sum()
}

/// "2 (1 does not fit, 1 holder gone)", or "0".
fn with_reasons(reasons: &[(&'static str, usize)]) -> String {
    if reasons.is_empty() {
        return "0".into();
    }
    let why: Vec<String> = reasons.iter().map(|(r, n)| format!("{n} {r}")).collect();
    format!("{} ({})", total(reasons), why.join(", "))
}

/// `rlsof [selection] --recover-all --to DIR`: recovers each deleted file
/// the selection lists (each inode once) into DIR (created, mode 0700, if
/// missing) as `PID-FD-originalname`. Prints a line per file and a
/// summary; returns 0 when every file was recovered or skipped, 1 when
/// one failed (or a search item matched nothing), 128 + a stopping signal.
pub fn recover_all(
    scanner: &Scanner,
    selection: &Selection,
    pids: &[i32],
    how: &Recovery,
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
    if report.is_empty() && report.empty.is_empty() {
        let _ = writeln!(
            out,
            "{}; nothing to recover.",
            report::NOTHING_DELETED.trim_end_matches('.')
        );
        write_partial_note(report.partial, out);
        return not_found;
    }
    let to_dir = how.to;
    if let Err(e) = std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(to_dir)
    {
        let _ = writeln!(
            err,
            "{PROGRAM}: cannot create directory {}: {e}",
            shown(to_dir)
        );
        return 1;
    }
    let mut tally = Tally::default();
    let files: Vec<&DeletedFile> = report.filesystems.iter().flat_map(|fs| &fs.files).collect();
    for (done, file) in files.iter().enumerate() {
        if tally.interrupted.is_none() {
            tally.interrupted = how.stop.pending();
        }
        if tally.interrupted.is_some() {
            tally.not_attempted = files.len() - done;
            break;
        }
        recover_one(scanner.proc_root(), file, how, &mut tally, out, err);
    }
    for file in &report.empty {
        let _ = writeln!(
            out,
            "skipped {}: empty (truncated to 0 bytes, holds no blocks)",
            printable(&file.name)
        );
        count(&mut tally.skipped, "empty");
    }
    let _ = writeln!(
        out,
        "Total: recovered {} ({} bytes), failed {}, skipped {}, of {} into {}",
        tally.recovered,
        tally.bytes,
        with_reasons(&tally.failed),
        with_reasons(&tally.skipped),
        plural(files.len() + report.empty.len(), "deleted file"),
        shown(to_dir)
    );
    if let Some(signal) = tally.interrupted {
        let _ = writeln!(
            out,
            "Interrupted by {}: the copy in progress was discarded (no partial file is left); {} not attempted.",
            signal_name(signal),
            plural(tally.not_attempted, "deleted file")
        );
    }
    write_partial_note(report.partial, out);
    match tally.interrupted {
        Some(signal) => exit_status(signal),
        None if !tally.failed.is_empty() => 1,
        None => not_found,
    }
}

fn write_partial_note(partial: bool, out: &mut dyn Write) {
    if partial {
        let _ = writeln!(out, "{}", report::PARTIAL_NOTE);
    }
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
    how: &Recovery,
    tally: &mut Tally,
    out: &mut dyn Write,
    err: &mut dyn Write,
) {
    let name = printable(&file.name);
    if file.file_type != Some(crate::model::FileType::Reg) {
        let kind = file.file_type.as_ref().map_or("unknown", |t| t.label());
        let _ = writeln!(out, "skipped {name}: not a regular file ({kind})");
        count(&mut tally.skipped, "not a regular file");
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
        let dest = how
            .to
            .join(destination_name(holder.pid, holder.fd, &file.name));
        let proc_dir = proc_root.join(holder.pid.to_string());
        match copy_one(&source, &proc_dir, Target::Exact(&dest), how, out, err) {
            Ok(bytes) => {
                tally.recovered += 1;
                tally.bytes += bytes;
                return;
            }
            Err(e) if e.try_another_holder() => last_error = Some(e),
            Err(RecoverError::Interrupted { dest, signal }) => {
                let _ = writeln!(
                    err,
                    "{PROGRAM}: interrupted by {} while recovering {name}: the partial copy was discarded and {} was not created",
                    signal_name(signal),
                    shown(&dest)
                );
                tally.interrupted = Some(signal);
                return;
            }
            Err(e) => {
                last_error = Some(e);
                break;
            }
        }
    }
    let (why, reason) = last_error.map_or_else(
        || {
            let why = "no holder has a /proc link to read it through".to_string();
            (why, "holder gone")
        },
        |e| (e.to_string(), e.reason()),
    );
    let _ = writeln!(err, "{PROGRAM}: cannot recover {name}: {why}");
    count(&mut tally.failed, reason);
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

    #[test]
    fn reasons_are_counted() {
        let mut reasons = Vec::new();
        assert_eq!(with_reasons(&reasons), "0");
        count(&mut reasons, "does not fit");
        count(&mut reasons, "holder gone");
        count(&mut reasons, "does not fit");
        assert_eq!(with_reasons(&reasons), "3 (2 does not fit, 1 holder gone)");
    }
}
