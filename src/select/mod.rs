//! lsof's selection rules: which processes and files are listed.
//!
//! lsof gives each process and each file a set of "selected by" flags; a
//! file is listed when its flags (with its process's) meet any selection
//! (OR, the default) or all of them (`-a`). Exclusions (`^`) are applied
//! first and always win.

use crate::cli::options::{CommandSpec, Item, Options, Tasks, UserSpec};
use crate::model::OpenFile;
use crate::scan::process::Header;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

pub mod inet;
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
pub struct Wanted<T> {
    pub value: T,
    pub excluded: bool,
    pub found: AtomicBool,
}

impl<T> Wanted<T> {
    fn new(item: &Item<T>) -> Wanted<T>
    where
        T: Clone,
    {
        Wanted {
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
    pub pids: Vec<Wanted<i32>>,
    pub pgids: Vec<Wanted<i32>>,
    pub users: Vec<Wanted<UserSel>>,
    pub commands: Vec<Wanted<CommandSpec>>,
    pub ignore_tasks: bool,
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
        if opts.commands.iter().any(|c| !c.excluded) {
            flags |= SEL_CMD;
        }
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
            pids: opts.pids.iter().map(Wanted::new).collect(),
            pgids: opts.pgids.iter().map(Wanted::new).collect(),
            users: users.iter().map(Wanted::new).collect(),
            commands: opts.commands.iter().map(Wanted::new).collect(),
            ignore_tasks,
            network: Arc::default(),
        }
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
            sf | self.command_flags(&h.stat.command)
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

    fn command_flags(&self, command: &[u8]) -> u32 {
        let mut sf = 0;
        for c in self.commands.iter().filter(|c| !c.excluded) {
            if command_matches(&c.value, command) {
                c.mark();
                sf = SEL_CMD;
            }
        }
        sf
    }

    /// Whether a file of a process selected with `process_flags` is listed.
    pub fn file(&self, process_flags: u32, file: &OpenFile) -> bool {
        let Some(network_flags) = self.network.file_flags(file) else {
            return false;
        };
        let sf = process_flags | network_flags;
        if self.all {
            return true;
        }
        if sf == 0 {
            return false;
        }
        !(self.and && sf & self.flags != self.flags)
    }

    /// The PIDs to scan when nothing but `-p` PIDs can select a process
    /// (so the rest of /proc need not be read); None otherwise.
    pub fn only_pids(&self) -> Option<Vec<i32>> {
        if self.all || self.flags != SEL_PID {
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

    /// True when every search item found something (lsof's exit status 0).
    pub fn all_found(&self) -> bool {
        let found = |f: &AtomicBool| f.load(Ordering::Relaxed);
        self.pids.iter().all(|p| p.excluded || found(&p.found))
            && self.pgids.iter().all(|p| p.excluded || found(&p.found))
            && self.users.iter().all(|u| u.excluded || found(&u.found))
            && self.commands.iter().all(|c| c.excluded || found(&c.found))
            && self.network.all_found()
    }
}

fn command_matches(spec: &CommandSpec, command: &[u8]) -> bool {
    match spec {
        CommandSpec::Prefix(p) => command.starts_with(p),
        CommandSpec::Regex { .. } => false,
    }
}
