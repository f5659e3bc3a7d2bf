//! The listing under `+E`/`-E`. The other end of a listed file may be held
//! by any process, so every process is read (as lsof does); of each, only
//! the files that are listed or could be an end are kept. Then the listed
//! files get their endpoint strings and, under `+E`, the other ends are
//! listed too, with theirs. Output stays in PID order.

use std::collections::HashMap;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use super::{has_endpoints, At, EndpointIndex};
use crate::model::{OpenFile, Process};
use crate::scan::process::Header;
use crate::scan::{Buffers, Scanner};

/// What the endpoint listing needs from its caller.
pub(crate) struct EndpointListing<'a> {
    pub scanner: &'a Scanner,
    /// Ascending.
    pub pids: &'a [i32],
    pub threads: usize,
    /// The selection's process test: None when the process is excluded.
    pub process: &'a (dyn Fn(&Header) -> Option<u32> + Sync),
    /// The selection's file test, for a file of a process it did not
    /// exclude, with that process's flags.
    pub file: &'a (dyn Fn(u32, &mut OpenFile) -> bool + Sync),
    /// lsof's command length limit (`+c`), which the strings obey too.
    pub command_width: usize,
    /// `+E`: list the other ends too.
    pub list_ends: bool,
}

/// The flag given to a process the selection excludes: it is read for the
/// ends it holds, and none of its files is selected.
const EXCLUDED: u32 = 1 << 31;

/// A process as read, with which of its files the selection lists.
type Kept = (Process, Vec<bool>);

pub(crate) fn list_with_endpoints(
    listing: &EndpointListing,
    sink: &mut dyn FnMut(Process) -> io::Result<()>,
) -> io::Result<()> {
    let kept = read_all(listing);
    let (processes, mut listed): (Vec<Process>, Vec<Vec<bool>>) = kept.into_iter().unzip();
    let mut strings: HashMap<(usize, usize), Vec<Vec<u8>>> = HashMap::new();
    {
        let index = EndpointIndex::new(
            &processes,
            listing.command_width,
            i32::try_from(std::process::id()).ok(),
        );
        let mut ends = Vec::new();
        for (p, files) in listed.iter().enumerate() {
            for (f, _) in files.iter().enumerate().filter(|(_, &l)| l) {
                let (texts, other_ends) = index.ends_of(At {
                    process: p,
                    file: f,
                });
                if !texts.is_empty() {
                    strings.insert((p, f), texts);
                }
                if listing.list_ends {
                    ends.extend(other_ends);
                }
            }
        }
        for at in ends {
            if std::mem::replace(&mut listed[at.process][at.file], true) {
                continue;
            }
            let (texts, _) = index.ends_of(at);
            if !texts.is_empty() {
                strings.insert((at.process, at.file), texts);
            }
        }
    }
    for (p, mut process) in processes.into_iter().enumerate() {
        let keep = &listed[p];
        if !keep.iter().any(|&k| k) {
            continue;
        }
        let files = std::mem::take(&mut process.files);
        process.files = files
            .into_iter()
            .enumerate()
            .filter(|(f, _)| keep[*f])
            .map(|(f, mut file)| {
                if let Some(texts) = strings.remove(&(p, f)) {
                    file.endpoints = texts;
                }
                file
            })
            .collect();
        sink(process)?;
    }
    Ok(())
}

/// Every process (threads only when selected), in PID order, with the
/// files that are listed or hold an end.
fn read_all(listing: &EndpointListing) -> Vec<Kept> {
    let wanted = |h: &Header| match (listing.process)(h) {
        Some(flags) => Some(flags),
        None if h.tid.is_none() => Some(EXCLUDED),
        None => None,
    };
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, Vec<Kept>)>> = Mutex::new(Vec::new());
    let workers = listing.threads.max(1).min(listing.pids.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                let mut bufs = Buffers::default();
                let mut mine = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&pid) = listing.pids.get(i) else {
                        break;
                    };
                    let kept: Vec<Kept> = listing
                        .scanner
                        .scan_pid(pid, &mut bufs, &wanted)
                        .into_iter()
                        .filter_map(|(flags, process)| keep(listing, flags, process))
                        .collect();
                    if !kept.is_empty() {
                        mine.push((i, kept));
                    }
                }
                results
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .extend(mine);
            });
        }
    });
    let mut results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    results.sort_unstable_by_key(|(i, _)| *i);
    results.into_iter().flat_map(|(_, kept)| kept).collect()
}

fn keep(listing: &EndpointListing, flags: u32, mut process: Process) -> Option<Kept> {
    let selected: Vec<bool> = process
        .files
        .iter_mut()
        .map(|f| flags & EXCLUDED == 0 && (listing.file)(flags, f))
        .collect();
    let mut listed = Vec::new();
    let mut i = 0;
    process.files.retain(|f| {
        let keep = selected[i] || has_endpoints(f);
        if keep {
            listed.push(selected[i]);
        }
        i += 1;
        keep
    });
    process.files.shrink_to_fit();
    (!process.files.is_empty()).then_some((process, listed))
}
