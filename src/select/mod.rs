//! lsof's selection rules: which processes and files are listed.
//!
//! lsof gives each process and each file a set of "selected by" flags; a
//! file is listed when its flags (with its process's) meet any selection
//! (OR, the default) or all of them (`-a`). Exclusions (`^`) are applied
//! first and always win.

pub(crate) mod command;
pub(crate) mod fds;
pub(crate) mod file_args;
pub(crate) mod report;
#[cfg(test)]
mod tests_fuzz;
#[cfg(test)]
mod tests_listing_filter;

use crate::cli::options::{CommandSpec, Item, LinkCount, Options, Tasks, UserSpec};
use crate::model::{FdName, OpenFile};
use crate::scan::process::Header;
use command::CommandRegex;
use fds::FdFilter;
use file_args::NameSet;
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

pub(crate) mod inet;
mod inet_resolve;
pub use inet::NetworkSelection;

pub const SEL_CMD: u32 = 0x0001;
pub const SEL_FD: u32 = 0x0004;
pub const SEL_NA: u32 = 0x0008;
pub const SEL_NET: u32 = 0x0010;
pub const SEL_NFS: u32 = 0x0020;
pub const SEL_NLINK: u32 = 0x0040;
pub const SEL_NM: u32 = 0x0080;
pub const SEL_PGID: u32 = 0x0100;
pub const SEL_PID: u32 = 0x0200;
pub const SEL_UID: u32 = 0x0400;
pub const SEL_UNX: u32 = 0x0800;
pub const SEL_TASK: u32 = 0x4000;

const SEL_ALL: u32 =
    SEL_CMD | SEL_FD | SEL_NA | SEL_NET | SEL_NM | SEL_NFS | SEL_PID | SEL_UID | SEL_UNX | SEL_TASK;
const SEL_PROC_IDS: u32 = SEL_PGID | SEL_PID | SEL_UID | SEL_TASK;

/// A search item (a PID, a user, a command ...) and whether anything
/// matched it, for the exit status and `-V`.
#[derive(Debug)]
pub struct SearchItem<T> {
    pub value: T,
    pub excluded: bool,
    pub found: AtomicBool,
}

impl<T> SearchItem<T> {
    fn new(item: &Item<T>) -> SearchItem<T>
    where
        T: Clone,
    {
        SearchItem {
            value: item.value.clone(),
            excluded: item.excluded,
            found: AtomicBool::new(false),
        }
    }

    fn mark(&self) {
        self.found.store(true, Ordering::Relaxed);
    }
}

/// A user selection resolved to its UID (names are looked up by the caller).
#[derive(Debug, Clone)]
pub struct UserSel {
    pub spec: UserSpec,
    pub uid: u32,
}

#[derive(Debug)]
pub struct Selection {
    /// lsof's Selflags.
    pub flags: u32,
    /// Nothing was selected: list everything.
    pub all: bool,
    pub and: bool,
    pub pids: Vec<SearchItem<i32>>,
    pub pgids: Vec<SearchItem<i32>>,
    pub users: Vec<SearchItem<UserSel>>,
    pub commands: Vec<SearchItem<CommandSpec>>,
    pub regexes: Vec<CommandRegex>,
    pub ignore_tasks: bool,
    pub fds: FdFilter,
    /// `+L n`: files with fewer than n links.
    pub nlink_below: Option<u64>,
    /// `-N`: devices of NFS mounts; `nfs_found` for the exit status.
    pub nfs: Option<HashSet<u64>>,
    pub nfs_found: AtomicBool,
    /// `-K` given (lsof's Ftask), and whether some thread had a file with
    /// selection flags (Ftask 2).
    pub tasks_wanted: bool,
    pub tasks_found: AtomicBool,
    /// File arguments, `+d`, `+D`.
    pub names: NameSet,
    /// `-i`, `-U`, `-s TCP:`: resolved by the caller ([`NetworkSelection::new`]).
    pub network: Arc<NetworkSelection>,
}

impl Selection {
    /// Builds the selection; `users` are the `-u` items with UIDs resolved.
    pub fn new(opts: &Options, users: Vec<Item<UserSel>>) -> Selection {
        let mut flags = 0;
        if opts.pids.iter().any(|p| !p.excluded) {
            flags |= SEL_PID;
        }
        if opts.pgids.iter().any(|p| !p.excluded) {
            flags |= SEL_PGID;
        }
        if users.iter().any(|u| !u.excluded) {
            flags |= SEL_UID;
        }
        let regexes = command::compile_all(&opts.commands);
        if opts.commands.iter().any(|c| !c.excluded) {
            flags |= SEL_CMD;
        }
        if !opts.fds.is_empty() {
            flags |= SEL_FD;
        }
        if opts.nfs {
            flags |= SEL_NFS;
        }
        let nlink_below = match opts.link_count {
            LinkCount::Below(n) => {
                flags |= SEL_NLINK;
                Some(n)
            }
            _ => None,
        };
        if opts.tasks == Tasks::List {
            flags |= SEL_TASK;
        }
        if !opts.names.is_empty() || !opts.dirs.is_empty() {
            flags |= SEL_NM;
        }
        flags |= inet::selection_flags(opts);
        let ignore_tasks = opts.tasks == Tasks::Ignore;
        let all = flags == 0;
        if all {
            flags = if ignore_tasks {
                SEL_ALL & !SEL_TASK
            } else {
                SEL_ALL
            };
        }
        Selection {
            flags,
            all,
            and: opts.and,
            pids: opts.pids.iter().map(SearchItem::new).collect(),
            pgids: opts.pgids.iter().map(SearchItem::new).collect(),
            users: users.iter().map(SearchItem::new).collect(),
            commands: opts
                .commands
                .iter()
                .filter(|c| matches!(c.value, CommandSpec::Prefix(_)))
                .map(SearchItem::new)
                .collect(),
            regexes,
            ignore_tasks,
            fds: FdFilter::new(&opts.fds),
            nlink_below,
            nfs: opts.nfs.then(HashSet::new),
            nfs_found: AtomicBool::new(false),
            tasks_wanted: opts.tasks == Tasks::List,
            tasks_found: AtomicBool::new(false),
            names: NameSet::default(),
            network: Arc::default(),
        }
    }

    /// Adds the resolved file arguments and directories.
    pub fn with_names(mut self, names: NameSet) -> Selection {
        self.names = names;
        self
    }

    /// Adds the devices of NFS mounts (for `-N`).
    pub fn with_nfs_devices(mut self, devs: impl IntoIterator<Item = u64>) -> Selection {
        if let Some(set) = &mut self.nfs {
            set.extend(devs);
        }
        self
    }

    /// Threads get row sets of their own when tasks are a selection (the
    /// bare listing, or `-K`) and not ignored.
    pub fn lists_tasks(&self) -> bool {
        !self.ignore_tasks && self.flags & SEL_TASK != 0
    }

    /// lsof's process test: None when the process is excluded, else the
    /// flags it was selected by (possibly none; its files may still be).
    pub fn process(&self, h: &Header) -> Option<u32> {
        if self
            .users
            .iter()
            .any(|u| u.excluded && u.value.uid == h.uid)
            || self
                .pgids
                .iter()
                .any(|p| p.excluded && p.value == h.stat.pgid)
            || self.pids.iter().any(|p| p.excluded && p.value == h.pid)
        {
            return None;
        }
        let sf = if self.all {
            self.flags
        } else {
            let sf = self.process_flags(h)?;
            if self.command_excluded(&h.stat.command) {
                return None;
            }
            let cf = self.command_flags(&h.stat.command);
            // lsof: a command selection that fails excludes the process
            // when it is the only selection or selections are ANDed.
            if self.flags & SEL_CMD != 0 && cf == 0 && (self.flags == SEL_CMD || self.and) {
                return None;
            }
            sf | cf
        };
        if self.all && self.command_excluded(&h.stat.command) {
            return None;
        }
        Some(sf)
    }

    fn process_flags(&self, h: &Header) -> Option<u32> {
        let mut sf = 0;
        if let Some(p) = self
            .pgids
            .iter()
            .find(|p| !p.excluded && p.value == h.stat.pgid)
        {
            p.mark();
            sf |= SEL_PGID;
        }
        if let Some(p) = self.pids.iter().find(|p| !p.excluded && p.value == h.pid) {
            p.mark();
            sf |= SEL_PID;
        }
        if let Some(u) = self
            .users
            .iter()
            .find(|u| !u.excluded && u.value.uid == h.uid)
        {
            u.mark();
            sf |= SEL_UID;
        }
        if self.flags & SEL_TASK != 0 && h.tid.is_some() {
            sf |= SEL_TASK;
        }
        let ids = self.flags & SEL_PROC_IDS;
        if self.flags == ids && ids.count_ones() == 1 && sf == 0 {
            return None;
        }
        if self.and && ids != 0 && sf & ids != ids {
            return None;
        }
        Some(sf)
    }

    fn command_excluded(&self, command: &[u8]) -> bool {
        self.commands
            .iter()
            .any(|c| c.excluded && command_matches(&c.value, command))
    }

    /// lsof credits one `-c` name that matches (the last given: it keeps
    /// them newest first), else the first regex that does.
    fn command_flags(&self, command: &[u8]) -> u32 {
        if self.flags & SEL_CMD == 0 {
            return 0;
        }
        if let Some(c) = self
            .commands
            .iter()
            .rev()
            .find(|c| !c.excluded && command_matches(&c.value, command))
        {
            c.mark();
            return SEL_CMD;
        }
        if let Some(r) = self.regexes.iter().find(|r| r.matches(command)) {
            r.mark();
            return SEL_CMD;
        }
        0
    }

    /// Whether a file of a process selected with `process_flags` is listed.
    /// A file named by a file argument takes the argument's name.
    pub fn file(&self, process_flags: u32, file: &mut OpenFile) -> bool {
        // A TCP state excluded by `-s` hides the file from every listing.
        let Some(network_flags) = self.network.file_flags(file) else {
            return false;
        };
        if self.all {
            return true;
        }
        let sf = process_flags | self.file_flags(file) | network_flags;
        if sf == 0 {
            return false;
        }
        if sf & SEL_TASK != 0 {
            self.tasks_found.store(true, Ordering::Relaxed);
        }
        !(self.and && sf & self.flags != self.flags)
    }

    /// The flags a file earns by itself (lsof's Lf->sf bits).
    fn file_flags(&self, file: &mut OpenFile) -> u32 {
        let mut sf = 0;
        if self.fds.selects(file.fd) {
            sf |= SEL_FD;
        }
        if let Some(below) = self.nlink_below {
            if has_fewer_links(file, below) {
                sf |= SEL_NLINK;
            }
        }
        if let (Some(devs), Some(dev)) = (&self.nfs, file.dev) {
            if devs.contains(&dev.raw()) && !file.file_type.as_ref().is_some_and(|t| t.is_socket())
            {
                self.nfs_found.store(true, Ordering::Relaxed);
                sf |= SEL_NFS;
            }
        }
        if !self.names.is_empty() && self.names.select(file) {
            sf |= SEL_NM;
        }
        sf
    }

    /// The scan's early test: false when descriptor `fd` of a process
    /// given `process_flags` cannot be listed whatever it turns out to be,
    /// so it need not be read at all. Only `-d` can tell that early.
    pub fn fd_may_be_listed(&self, process_flags: u32, fd: FdName) -> bool {
        if self.all || !self.fds.is_active() || self.fds.selects(Some(fd)) {
            return true;
        }
        // Reading such a file may credit a search item (exit status, -V).
        if self.flags & (SEL_NA | SEL_NET | SEL_NFS | SEL_NM) != 0 {
            return true;
        }
        if self.and {
            return false;
        }
        // Without -a another selection may still pick the file.
        process_flags != 0 || self.flags & (SEL_NLINK | SEL_UNX) != 0
    }

    /// What every descriptor a listing can show has in common, as the
    /// kernel's listing can tell before the file crosses into user space
    /// (see [`crate::scan::ListingFilter`]). Only where every listed file
    /// must earn the selection itself (it alone is given, or `-a`), and no
    /// file may credit a search item without being listed.
    pub fn listing_filter(&self) -> crate::scan::ListingFilter {
        let credits_items = self.flags & (SEL_NA | SEL_NET | SEL_NFS | SEL_NM) != 0;
        let required = |flag: u32| {
            !self.all
                && !credits_items
                && self.flags & flag != 0
                && (self.and || self.flags & !flag == 0)
        };
        crate::scan::ListingFilter {
            sockets_only: self.sockets_only_unless() == Some(0),
            nlink_below: self
                .nlink_below
                .filter(|_| required(SEL_NLINK))
                .map(|n| u32::try_from(n).unwrap_or(u32::MAX)),
            fds: required(SEL_FD).then(|| self.fds.number_bounds()).flatten(),
        }
    }

    /// The PIDs to scan when nothing but `-p` PIDs can select a process
    /// (so the rest of /proc need not be read); None otherwise.
    pub fn only_pids(&self) -> Option<Vec<i32>> {
        let pids_required = self.flags == SEL_PID || (self.and && self.flags & SEL_PID != 0);
        if self.all || !pids_required {
            return None;
        }
        Some(
            self.pids
                .iter()
                .filter(|p| !p.excluded)
                .map(|p| p.value)
                .collect(),
        )
    }

    /// Whether the process test can exclude a process or record a search
    /// item (`-p`, `-g`, `-u`, `-c`, their exclusions, `-K`): then every
    /// process's header must be tested, whatever files it holds.
    pub fn tests_processes(&self) -> bool {
        !(self.pids.is_empty()
            && self.pgids.is_empty()
            && self.users.is_empty()
            && self.commands.is_empty()
            && self.regexes.is_empty()
            && self.flags & SEL_TASK == 0)
    }

    /// True when every search item found something (lsof's exit status 0).
    pub fn all_found(&self) -> bool {
        report::not_found(self).is_empty()
    }
}

/// lsof counts the links of files it could stat; a `DEL` mapping (a
/// mapped file since deleted) has none left, which rlsof counts too.
fn has_fewer_links(file: &OpenFile, below: u64) -> bool {
    if file.fd == Some(FdName::Del) {
        return true;
    }
    if file.socket.is_some() || file.file_type.as_ref().is_some_and(|t| t.is_socket()) {
        return false;
    }
    file.nlink.is_some_and(|n| n < below)
}

fn command_matches(spec: &CommandSpec, command: &[u8]) -> bool {
    match spec {
        CommandSpec::Prefix(p) => command.starts_with(p),
        CommandSpec::Regex { .. } => false,
    }
}
