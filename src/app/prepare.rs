//! Before the scan: users, `-i` names, `-e`, `+m`, `+d`/`+D` and file
//! arguments resolved into a `Selection`, with lsof's messages.

use super::{FAILURE, SUCCESS};
use crate::cli;
use crate::cli::options::{Item, MountSupplement, Options, UserSpec};
use crate::scan::exempt::ExemptPath;
use crate::scan::timeout::BlockGuard;
use crate::select::args::{resolve_exempt, resolve_file_args, FileArgs};
use crate::select::mounts::mount_supplement;
use crate::select::{Messages, NetworkSelection, Selection, UserSel};
use std::io::{self, Write};
use std::sync::Arc;
use std::time::Duration;

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
pub(super) struct Prepared {
    pub selection: Arc<Selection>,
    pub guard: Arc<BlockGuard>,
    pub exempt: Vec<ExemptPath>,
    /// A file argument could not be used (exit 1 at the end).
    pub args_failed: bool,
}

/// Resolves users, `-e`, `+m`, `+d`/`+D` and file arguments, printing
/// lsof's messages; Err(status) when lsof would stop here.
pub(super) fn prepare(opts: &Options) -> io::Result<Result<Prepared, i32>> {
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
        super::output::Stdout::lock().write_all(text.as_bytes())?;
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

fn read_mounts() -> Vec<crate::scan::mounts::Mount> {
    std::fs::read("/proc/self/mountinfo")
        .map(|t| crate::scan::mounts::parse_mountinfo(&t))
        .unwrap_or_default()
}
