//! Watching live: `--changes` (what opened and closed between `-r`
//! cycles, and which processes leak descriptors) and `--top` (a
//! full-screen view of the processes holding the most descriptors).
//!
//! Both scan as a listing does (the caller hands in one cycle's scan) and
//! compare cycles; neither keeps more than two cycles' worth of state.

pub(crate) mod changes;
mod identity;
mod leak;
pub(crate) mod top;

use crate::model::{Dev, FdName, OpenFile, Process};
use crate::scan::socket::SocketLookup;
use std::io;

/// One cycle's scan: every selected process (with its selected files),
/// handed to the sink in PID order.
pub(crate) type ScanOnce<'a> = dyn FnMut(&mut crate::scan::Scanner, &mut dyn FnMut(Process) -> io::Result<()>) -> io::Result<()>
    + 'a;

/// Makes the socket tables for a new cycle.
pub(crate) type FreshSockets<'a> = dyn Fn() -> Box<dyn SocketLookup + Send> + 'a;

/// What tells one open file from another within a process: a descriptor
/// number reused for another file is another file.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct FileKey {
    fd: Option<FdName>,
    dev: Option<Dev>,
    inode: Option<u64>,
    /// Only for files without an inode (error rows): their text.
    name: Option<Vec<u8>>,
}

impl FileKey {
    pub(crate) fn of(f: &OpenFile) -> FileKey {
        FileKey {
            fd: f.fd,
            dev: f.dev,
            inode: f.inode,
            name: f.inode.is_none().then(|| f.name.clone()),
        }
    }
}

/// A process's numbered descriptors (no cwd, txt, mappings).
pub(crate) fn descriptor_count(p: &Process) -> usize {
    p.files
        .iter()
        .filter(|f| matches!(f.fd, Some(FdName::Num(_))))
        .count()
}

/// The order the table lists a process's files in: named ones (cwd, rtd,
/// txt, mappings) as found, then descriptors by number. Sorting files
/// from two cycles by it (stably) interleaves them as one listing would.
pub(crate) fn listing_rank(f: &OpenFile) -> (u8, u32) {
    match f.fd {
        Some(FdName::Num(n)) => (1, n),
        _ => (0, 0),
    }
}

/// The open file the live views' tests list: descriptor `fd` on inode
/// `inode`, named `name`.
#[cfg(test)]
fn test_file(fd: u32, inode: u64, name: &str) -> OpenFile {
    OpenFile {
        fd: Some(FdName::Num(fd)),
        inode: Some(inode),
        name: name.as_bytes().to_vec(),
        ..OpenFile::default()
    }
}
