//! `--changes` with `-r`/`+r`: each cycle after the first lists only what
//! changed since the one before: files opened (`+`) and closed (`-`),
//! processes started (`>`, then their files opened) and exited (`<`,
//! which closes all their files: they are not listed again), and processes whose
//! descriptor count grew in each of the last K cycles (`!`). The format is
//! in docs/changes.md.

use super::identity::{now_ticks, start_time};
use super::leak::LeakWatch;
use super::{descriptor_count, FileKey, FreshSockets, ScanOnce};
use crate::cli::options::Repeat;
use crate::model::{OpenFile, Process};
use crate::print::{
    JsonPrinter, NameLookup, OutputKind, PrintSettings, Printer, Render, TablePrinter,
};
use crate::repeat::{format_marker, Outcome};
use crate::scan::Scanner;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io::{self, Write};
use std::path::Path;
use std::time::Duration;

/// The TIME cell's format unless `-r ...m<fmt>` gives one.
const TIME_FORMAT: &str = "%H:%M:%S";
/// The `time` key's format in JSON.
const JSON_TIME_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%z";

/// A listed process (or thread, `-K`), by PID and TID (0 for a process).
type ProcessKey = (i32, i32);

/// One cycle's listed processes.
type Listing = BTreeMap<ProcessKey, Listed>;

struct Listed {
    /// Start time in clock ticks since boot (0: unknown).
    start: u64,
    process: Process,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Open,
    Close,
    Start,
    Exit,
    /// The descriptor counts of the last K+1 cycles.
    Leak(Vec<usize>),
}

impl Kind {
    fn mark(&self) -> char {
        match self {
            Kind::Open => '+',
            Kind::Close => '-',
            Kind::Start => '>',
            Kind::Exit => '<',
            Kind::Leak(_) => '!',
        }
    }

    fn word(&self) -> &'static str {
        match self {
            Kind::Open => "open",
            Kind::Close => "close",
            Kind::Start => "start",
            Kind::Exit => "exit",
            Kind::Leak(_) => "leak",
        }
    }
}

/// One change, with the process and file it is about.
struct Event<'c> {
    kind: Kind,
    process: &'c Process,
    file: Option<&'c OpenFile>,
}

/// What `--changes` needs besides the scan.
pub(crate) struct Changes<'a> {
    pub print: &'a PrintSettings,
    pub repeat: &'a Repeat,
    pub leak_cycles: u32,
    pub names: &'a dyn NameLookup,
}

/// Runs the cycles; `scan` lists one cycle with the scanner it is given.
pub(crate) fn run(
    how: &Changes,
    mut scanner: Scanner,
    fresh_sockets: &FreshSockets,
    scan: &mut ScanOnce,
    out: &mut dyn Write,
) -> io::Result<Outcome> {
    let mut outcome = Outcome::default();
    let mut leaks = LeakWatch::new(how.leak_cycles);
    let mut previous: Option<(Listing, u64)> = None;
    let mut cycle: u64 = 0;
    loop {
        cycle += 1;
        let began = now_ticks();
        let stamp = format_marker(how.repeat.marker.as_deref().unwrap_or(TIME_FORMAT));
        let json_time = format_marker(JSON_TIME_FORMAT);
        let current = list_cycle(&mut scanner, scan)?;
        if let Some((before, since)) = &previous {
            let events = diff(before, &current, *since, scanner.proc_root(), &mut leaks);
            let stamps = Stamps {
                table: &stamp,
                json: &json_time,
                cycle,
            };
            write_events(how, &events, &stamps, out)?;
        } else {
            diff(
                &Listing::new(),
                &current,
                u64::MAX,
                scanner.proc_root(),
                &mut leaks,
            );
        }
        out.flush()?;
        let listed = current.values().any(|l| !l.process.files.is_empty());
        if how.repeat.until_empty && !listed {
            return Ok(outcome);
        }
        outcome.listed |= listed;
        if how
            .repeat
            .cycles
            .is_some_and(|max| max > 0 && cycle >= u64::from(max))
        {
            return Ok(outcome);
        }
        previous = Some((current, began));
        std::thread::sleep(Duration::from_secs(u64::from(how.repeat.seconds)));
        scanner = scanner.next_cycle(fresh_sockets());
    }
}

fn list_cycle(scanner: &mut Scanner, scan: &mut ScanOnce) -> io::Result<Listing> {
    let root = scanner.proc_root().to_path_buf();
    let mut listing = Listing::new();
    scan(scanner, &mut |process| {
        if !process.files.is_empty() {
            let start = start_time(&root, process.pid).unwrap_or(0);
            let key = (process.pid, process.tid.unwrap_or(0));
            listing.insert(key, Listed { start, process });
        }
        Ok(())
    })?;
    Ok(listing)
}

/// The changes from `before` to `now`, process by process in PID order.
/// `since`: when the scan of `before` began (a process started later is
/// new). Records descriptor counts in `leaks` and reports its leaks.
fn diff<'c>(
    before: &'c Listing,
    now: &'c Listing,
    since: u64,
    proc_root: &Path,
    leaks: &mut LeakWatch,
) -> Vec<Event<'c>> {
    let keys: BTreeSet<&ProcessKey> = before.keys().chain(now.keys()).collect();
    let mut events = Vec::new();
    for key in keys {
        match (before.get(key), now.get(key)) {
            (Some(old), Some(new)) if old.start == new.start => {
                file_changes(&old.process, &new.process, &mut events);
            }
            (Some(old), Some(new)) => {
                events.push(process_event(Kind::Exit, &old.process));
                came(new, &mut events);
            }
            (Some(old), None) if start_time(proc_root, old.process.pid) != Some(old.start) => {
                events.push(process_event(Kind::Exit, &old.process))
            }
            (Some(old), None) => every_file(Kind::Close, &old.process, &mut events),
            (None, Some(new)) if new.start >= since => came(new, &mut events),
            (None, Some(new)) => every_file(Kind::Open, &new.process, &mut events),
            (None, None) => {}
        }
        if let Some(new) = now.get(key).filter(|l| l.process.tid.is_none()) {
            let count = descriptor_count(&new.process);
            if let Some(counts) = leaks.record((new.process.pid, new.start), count) {
                events.push(process_event(Kind::Leak(counts), &new.process));
            }
        }
    }
    let seen: HashSet<(i32, u64)> = now.values().map(|l| (l.process.pid, l.start)).collect();
    leaks.keep_only(|k| seen.contains(k));
    events
}

fn came<'c>(new: &'c Listed, events: &mut Vec<Event<'c>>) {
    events.push(process_event(Kind::Start, &new.process));
    every_file(Kind::Open, &new.process, events);
}

fn process_event(kind: Kind, process: &Process) -> Event<'_> {
    Event {
        kind,
        process,
        file: None,
    }
}

fn every_file<'c>(kind: Kind, p: &'c Process, events: &mut Vec<Event<'c>>) {
    for f in &p.files {
        events.push(Event {
            kind: kind.clone(),
            process: p,
            file: Some(f),
        });
    }
}

/// Closes first, then opens, each in listing order: a descriptor number
/// reused for another file shows its old file closed, then the new one.
fn file_changes<'c>(old: &'c Process, new: &'c Process, events: &mut Vec<Event<'c>>) {
    let old_keys: HashSet<FileKey> = old.files.iter().map(FileKey::of).collect();
    let new_keys: HashSet<FileKey> = new.files.iter().map(FileKey::of).collect();
    for (kind, p, other) in [(Kind::Close, old, &new_keys), (Kind::Open, new, &old_keys)] {
        for f in &p.files {
            if !other.contains(&FileKey::of(f)) {
                events.push(Event {
                    kind: kind.clone(),
                    process: p,
                    file: Some(f),
                });
            }
        }
    }
}

/// When a cycle was listed, as each output shows it.
struct Stamps<'s> {
    table: &'s [u8],
    json: &'s [u8],
    cycle: u64,
}

fn write_events(
    how: &Changes,
    events: &[Event],
    stamps: &Stamps,
    out: &mut dyn Write,
) -> io::Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    let render = Render::new(how.print, how.names);
    if matches!(how.print.output, OutputKind::Json { lines: true, .. }) {
        let mut printer = JsonPrinter::new(render, true, &mut *out);
        let time = String::from_utf8_lossy(stamps.json).into_owned();
        for e in events {
            let head = [
                ("event", Value::from(e.kind.word())),
                ("time", Value::from(time.as_str())),
                ("cycle", Value::from(stamps.cycle)),
            ];
            let tail = match &e.kind {
                Kind::Leak(counts) => vec![("descriptors", Value::from(counts.clone()))],
                _ => Vec::new(),
            };
            printer.event_line(&head, e.process, e.file, &tail)?;
        }
        return Ok(());
    }
    write_table(render, events, stamps.table, out)
}

/// The events as table rows, sized together as one listing, each row
/// after the cycle's time and the event's mark.
fn write_table(
    render: Render,
    events: &[Event],
    stamp: &[u8],
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut text = Vec::new();
    {
        let mut printer = TablePrinter::new(render, &mut text);
        for e in events {
            printer.process(&row_of(e))?;
        }
        printer.finish()?;
    }
    let mut lines = text.split(|&b| b == b'\n');
    let header = lines.next().unwrap_or_default();
    let width = stamp.len().max("TIME".len());
    let mut buf = Vec::with_capacity(text.len() + events.len() * (width + 3) + 16);
    let _ = write!(buf, "{:<width$}   ", "TIME");
    buf.extend_from_slice(header);
    buf.push(b'\n');
    for (e, row) in events.iter().zip(lines) {
        buf.extend_from_slice(stamp);
        buf.resize(buf.len() + width - stamp.len(), b' ');
        let _ = write!(buf, " {} ", e.kind.mark());
        buf.extend_from_slice(row);
        buf.push(b'\n');
    }
    out.write_all(&buf)
}

/// The process with just the event's row: its file, or for a process
/// event a row whose NAME says what happened.
fn row_of(e: &Event) -> Process {
    let p = e.process;
    let file = match (&e.kind, e.file) {
        (_, Some(f)) => f.clone(),
        (kind, None) => OpenFile {
            note: Some(process_note(kind)),
            ..OpenFile::default()
        },
    };
    Process {
        pid: p.pid,
        tid: p.tid,
        task_cmd: p.task_cmd.clone(),
        pgid: p.pgid,
        ppid: p.ppid,
        uid: p.uid,
        command: p.command.clone(),
        files: vec![file],
    }
}

fn process_note(kind: &Kind) -> String {
    match kind {
        Kind::Start => "process started".into(),
        Kind::Exit => "process exited".into(),
        Kind::Leak(counts) => {
            let counts: Vec<String> = counts.iter().map(usize::to_string).collect();
            format!(
                "descriptors grew in each of the last {} cycles: {}",
                counts.len() - 1,
                counts.join(" ")
            )
        }
        Kind::Open | Kind::Close => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::test_file as file;

    fn listing(entries: &[(i32, u64, Vec<OpenFile>)]) -> Listing {
        entries
            .iter()
            .map(|(pid, start, files)| {
                let process = Process {
                    pid: *pid,
                    command: b"cmd".to_vec(),
                    files: files.clone(),
                    ..Process::default()
                };
                let listed = Listed {
                    start: *start,
                    process,
                };
                ((*pid, 0), listed)
            })
            .collect()
    }

    fn summary(events: &[Event]) -> Vec<String> {
        events
            .iter()
            .map(|e| {
                let name = e.file.map_or(String::new(), |f| {
                    String::from_utf8_lossy(&f.name).into_owned()
                });
                format!("{}{} {}", e.kind.mark(), e.process.pid, name)
            })
            .collect()
    }

    #[test]
    fn a_reused_descriptor_is_a_close_and_an_open() {
        let before = listing(&[(5, 1, vec![file(3, 10, "a"), file(4, 11, "b")])]);
        let now = listing(&[(5, 1, vec![file(3, 12, "c"), file(4, 11, "b")])]);
        let mut leaks = LeakWatch::new(3);
        let events = diff(&before, &now, 100, Path::new("/proc"), &mut leaks);
        assert_eq!(summary(&events), ["-5 a", "+5 c"]);
    }

    #[test]
    fn a_new_pid_with_a_later_start_is_a_started_process() {
        let before = listing(&[]);
        let now = listing(&[
            (7, 200, vec![file(0, 1, "x")]),
            (8, 50, vec![file(0, 2, "y")]),
        ]);
        let mut leaks = LeakWatch::new(3);
        let events = diff(&before, &now, 100, Path::new("/proc"), &mut leaks);
        assert_eq!(summary(&events), [">7 ", "+7 x", "+8 y"]);
    }

    #[test]
    fn a_reused_pid_is_an_exit_and_a_start() {
        let before = listing(&[(9, 1, vec![file(0, 1, "old")])]);
        let now = listing(&[(9, 300, vec![file(0, 1, "old")])]);
        let mut leaks = LeakWatch::new(3);
        let events = diff(&before, &now, 100, Path::new("/proc"), &mut leaks);
        assert_eq!(summary(&events), ["<9 ", ">9 ", "+9 old"]);
    }
}
