//! Before the scan: users, `-i` names, `-e`, `+m`, `+d`/`+D` and file
//! arguments resolved into a `Selection`, with lsof's messages.

use super::{FAILURE, SUCCESS};
use crate::cli;
use crate::cli::options::{Item, MountSupplement, Options, UserSpec};
use crate::scan::exempt::ExemptPath;
use crate::scan::resolve::{
    mount_supplement, resolve_exempt, resolve_file_args, ArgKind, Crossing, DirArg, FileArgs,
    Messages, Request,
};
use crate::select::file_args::NameSet;
use crate::select::{NetworkSelection, Selection, UserSel};
use crate::sys::block::BlockGuard;
use crate::sys::mounts::MountTable;
use std::ffi::OsString;
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
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
                    unknown += &cli::lookup_messages::unknown_login(name);
                    continue;
                }
            },
        };
        // lsof compares UIDs as it enters them: a repeat is dropped, an
        // inclusion and an exclusion of one UID is an error.
        if let Some(known) = users.iter().find(|k: &&Item<UserSel>| k.value.uid == uid) {
            if known.excluded != u.excluded {
                unknown += &cli::lookup_messages::uid_included_and_excluded(uid);
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
    // The one mount table of the run: read on first need, shared by the
    // argument resolution, the guard and the scan.
    let guard = Arc::new(BlockGuard::new(
        Duration::from_secs(opts.timeout_secs.into()),
        opts.avoid_blocking,
        Arc::new(MountTable::own()),
    ));
    let mut msgs = Messages::new(cli::PROGRAM.as_str(), !opts.no_warnings);
    let exempt = resolve_exempt(
        &bytes_of(&opts.exempt_fs),
        &bytes_of(&opts.exempt_fs_literal),
        opts.avoid_blocking,
        &guard,
        &mut msgs,
    );
    let Some(exempt) = exempt else {
        eprint!("{}{}", msgs.take(), cli::usage_text(false));
        return Ok(Err(FAILURE));
    };
    if opts.mount_supplement == Some(MountSupplement::Create) {
        let text = mount_supplement(&guard, opts.avoid_blocking, &exempt, &mut msgs);
        eprint!("{}", msgs.take());
        super::output::Stdout::lock().write_all(text.as_bytes())?;
        return Ok(Err(SUCCESS));
    }
    let selection = Selection::new(opts, users);
    let listing_filter = selection.listing_filter();
    let file_args = resolve_files(opts, &guard, &exempt, listing_filter, &mut msgs);
    eprint!("{}", msgs.take());
    let (names, args_failed) = match file_args {
        FileArgs::Ready { files, failed } => (NameSet::new(files), failed),
        FileArgs::Usage => {
            eprint!("{}", cli::usage_text(false));
            return Ok(Err(FAILURE));
        }
        FileArgs::Stop => return Ok(Err(FAILURE)),
    };
    let nfs_devs = guard
        .mounts()
        .iter()
        .filter(|m| matches!(m.fs_type.as_str(), "nfs" | "nfs3" | "nfs4"))
        .map(|m| m.dev.raw());
    let mut selection = selection.with_names(names).with_nfs_devices(nfs_devs);
    selection.network = Arc::new(network);
    Ok(Ok(Prepared {
        selection: Arc::new(selection),
        guard,
        exempt,
        args_failed,
    }))
}

/// `+d`/`+D` and the file arguments, resolved on the file system.
fn resolve_files(
    opts: &Options,
    guard: &BlockGuard,
    exempt: &[ExemptPath],
    listing_filter: crate::scan::ListingFilter,
    msgs: &mut Messages,
) -> FileArgs {
    let dirs: Vec<DirArg> = opts
        .dirs
        .iter()
        .map(|d| DirArg {
            path: d.path.as_bytes().to_vec(),
            recursive: d.recursive,
        })
        .collect();
    let names = bytes_of(&opts.names);
    let request = Request {
        dirs: &dirs,
        names: &names,
        cross: opts.cross.map_or(Crossing::default(), |c| Crossing {
            file_systems: c.file_systems,
            symlinks: c.symlinks,
        }),
        kind: match opts.file_system_names {
            None => ArgKind::Either,
            Some(true) => ArgKind::FileSystemsOnly,
            Some(false) => ArgKind::FilesOnly,
        },
        quiet: opts.quiet_failures,
        avoid: opts.avoid_blocking,
        no_warnings: opts.no_warnings,
        kernel_describes_files: &|| {
            crate::scan::kernel_files::kernel_lists_descriptors(
                std::path::Path::new("/proc"),
                listing_filter,
            )
        },
    };
    resolve_file_args(&request, guard, exempt, msgs)
}

fn bytes_of(list: &[OsString]) -> Vec<Vec<u8>> {
    list.iter().map(|p| p.as_bytes().to_vec()).collect()
}
