//! Walking a descriptor table, `/proc/PID/fd`, in ascending order.
//!
//! Listing the directory costs the kernel a dentry lookup per descriptor
//! before we read a single link. Since Linux 6.2 a stat of the directory
//! gives the number of open descriptors, and tables are nearly always
//! dense from 0: reading the links 0, 1, 2, ... until that many are found
//! learns the same without the listing. A sparse table (too many misses),
//! or a miss when only a few descriptors are left to find (a table that
//! ends with a lone high descriptor), falls back to the listing, from the
//! first number not yet tried.

use super::procfs::{number_cstr, parse_decimal, Dir};
use super::Buffers;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};

/// Missing descriptors tolerated before the directory is listed instead:
/// a failed lookup costs more than an entry of the listing, so probing
/// through a wide gap costs more than listing the directory once.
const MISS_BUDGET: u64 = 16;

/// Descriptors left to find below which a miss turns to the listing: the
/// listing from there costs a system call and an entry per descriptor
/// left, less than probing on through a gap of unknown length.
const FEW_LEFT: u64 = 4;

/// How many descriptors are open, by the fd directory's size; None when
/// the kernel does not tell (before 6.2, or no stat). A kernel that tells
/// gives a size to every table with a descriptor in it: once one has been
/// seen (`counted`), a size of 0 means an empty table (kernel threads).
pub(crate) fn open_count(fd_dir: &Dir, counted: &AtomicBool) -> Option<u64> {
    let size = fd_dir.stat_self().ok()?.st_size.max(0) as u64;
    if size > 0 {
        counted.store(true, Ordering::Relaxed);
        Some(size)
    } else if counted.load(Ordering::Relaxed) {
        Some(0)
    } else {
        None
    }
}

/// Calls `each(n, link, bufs)` for every descriptor in `fd_dir`, ascending,
/// where `link` is the outcome of reading link `n` into `bufs.link`;
/// `count` is [`open_count`]. With a `filter` (selection's early answer,
/// e.g. `-d 0-2`) only the numbers it passes are read: probing goes on
/// while it passes them (it passes every number unless `-d` is given),
/// the listing takes over at the first it refuses. `on_procfs`: the
/// directory is the kernel's, where descriptor n is at position n + 2, so
/// a listing can start where probing stopped.
pub(crate) fn for_each_descriptor(
    fd_dir: &Dir,
    on_procfs: bool,
    count: Option<u64>,
    filter: Option<&dyn Fn(u32) -> bool>,
    bufs: &mut Buffers,
    mut each: impl FnMut(u32, io::Result<()>, &mut Buffers),
) {
    if count == Some(0) {
        return;
    }
    let count = count.unwrap_or(0);
    let passes = |n: u32| filter.is_none_or(|wanted| wanted(n));
    let mut found = 0u64;
    let mut misses = 0u64;
    let mut next = 0u32;
    // Permission to read links is the kernel's per table (ptrace's rule),
    // not per descriptor: once refused, every other link of the table
    // would be refused too, and only which descriptors exist is read.
    let mut refused = None;
    // An older kernel says nothing (0): then only the listing tells.
    while found < count && misses <= MISS_BUDGET && passes(next) {
        let link = read_link(fd_dir, next, bufs);
        if let Err(e) = &link {
            refused = e
                .raw_os_error()
                .filter(|&e| e == libc::EACCES || e == libc::EPERM);
        }
        if refused.is_some() {
            found += 1;
            each(next, link, bufs);
            next += 1;
            break;
        }
        if is_missing(&link) {
            misses += 1;
            if count - found <= FEW_LEFT {
                next += 1;
                break;
            }
        } else {
            found += 1;
            each(next, link, bufs);
        }
        next += 1;
    }
    if count > 0 && found >= count {
        return;
    }
    let mut numbers = Vec::new();
    let start = if on_procfs { u64::from(next) + 2 } else { 0 };
    let _ = fd_dir.for_each_entry_from(start, |name| {
        if let Some(n) = parse_decimal(name.to_bytes()) {
            let Ok(n) = u32::try_from(n) else { return };
            if n >= next && passes(n) {
                numbers.push(n);
            }
        }
    });
    numbers.sort_unstable();
    for n in numbers {
        let link = match refused {
            Some(errno) => Err(io::Error::from_raw_os_error(errno)),
            None => read_link(fd_dir, n, bufs),
        };
        each(n, link, bufs);
    }
}

/// Calls `each(n, link, bufs)` for the descriptors `listed` (ascending),
/// skipping those no longer open.
pub(crate) fn for_each_listed(
    fd_dir: &Dir,
    listed: &[u32],
    bufs: &mut Buffers,
    mut each: impl FnMut(u32, io::Result<()>, &mut Buffers),
) {
    for &n in listed {
        let link = read_link(fd_dir, n, bufs);
        if !is_missing(&link) {
            each(n, link, bufs);
        }
    }
}

/// Puts in `bufs.link` the link text of descriptor `listed`, as the
/// kernel listing told it or, where it could not (a path too long for
/// it), as `/proc` does; None when the descriptor is no longer open.
pub(crate) fn link_of_listed(
    fd_dir: &Dir,
    listed: &crate::bpf::ListedFile,
    bufs: &mut Buffers,
) -> Option<io::Result<()>> {
    let link = match &listed.path {
        Some(path) => {
            bufs.link.clear();
            bufs.link.extend_from_slice(path);
            Ok(())
        }
        None => read_link(fd_dir, listed.fd, bufs),
    };
    (!is_missing(&link)).then_some(link)
}

/// Whether the kernel's listing `listed` of a table may stand for
/// `/proc`'s: when this process may read the table's links (permission is
/// the same for every descriptor of a table: reading one tells). An empty
/// listing never does: a table with no descriptor costs `/proc` little,
/// and the kernel's iterator does not visit every task `/proc` shows
/// (some are hidden from it).
pub(crate) fn links_readable(
    fd_dir: &Dir,
    listed: &[crate::bpf::ListedFile],
    bufs: &mut Buffers,
) -> bool {
    let Some(first) = listed.first() else {
        return false;
    };
    !matches!(
        read_link(fd_dir, first.fd, bufs),
        Err(e) if matches!(e.raw_os_error(), Some(libc::EACCES | libc::EPERM))
    )
}

fn read_link(fd_dir: &Dir, n: u32, bufs: &mut Buffers) -> io::Result<()> {
    let name = number_cstr(n as u64, &mut bufs.num);
    fd_dir.readlink(name, &mut bufs.link)
}

fn is_missing(link: &io::Result<()>) -> bool {
    matches!(link, Err(e) if e.raw_os_error() == Some(libc::ENOENT))
}
