//! Turning `+d`, `+D` and the file arguments into one search set, with
//! lsof's messages and its early exits.

use super::dirs::{walk_dir, Crossing};
use super::mounts::read_mount_points;
use super::names::{resolve_args, ArgKind, NameSet};
use super::paths::{resolve_links, trim_trailing_slashes};
use super::Messages;
use crate::cli::options::Options;
use crate::scan::exempt::ExemptPath;
use crate::scan::mounts::Mount;
use crate::scan::timeout::{may_block_type, BlockGuard};
use std::os::unix::ffi::OsStrExt;

/// How resolving the file arguments ended.
#[derive(Debug)]
pub enum FileArgs {
    /// Go on with this set; `failed` is lsof's ErrStat (exit 1 at the end
    /// unless something else already failed).
    Ready { names: NameSet, failed: bool },
    /// A `+d`/`+D` directory was refused: print the usage, exit 1.
    Usage,
    /// No file argument was usable: exit 1 now.
    Stop,
}

/// The `-e` paths (links resolved) and `+e` paths (as written); None when
/// one is no mount point (lsof's message is in `msgs`; the caller prints
/// the usage and exits 1).
pub fn resolve_exempt(
    opts: &Options,
    mounts: &[Mount],
    guard: &BlockGuard,
    msgs: &mut Messages,
) -> Option<Vec<ExemptPath>> {
    let mut list: Vec<ExemptPath> = Vec::new();
    let given = opts
        .exempt_fs
        .iter()
        .map(|p| (p, false))
        .chain(opts.exempt_fs_literal.iter().map(|p| (p, true)));
    for (path, literal) in given {
        let path = path.as_bytes();
        let path = if literal {
            path.to_vec()
        } else {
            resolve_links(path, opts.avoid_blocking, guard, msgs)?
        };
        let path = trim_trailing_slashes(&path).to_vec();
        if !list.iter().any(|e| e.path == path) {
            list.push(ExemptPath { path, literal });
        }
    }
    let mut ok = true;
    for e in &list {
        if !mounts.iter().any(|m| m.mount_point == e.path) {
            msgs.error(format!(
                "\"-e {}\" is not a mounted file system.",
                String::from_utf8_lossy(&e.path)
            ));
            ok = false;
        }
    }
    ok.then_some(list)
}

/// Whether some mount point cannot be stat'ed: a direct `stat` of each,
/// cheaper than reading the table lsof's way only to find none. Only for
/// tables where no mount may block.
fn any_unstatable(mounts: &[Mount]) -> bool {
    mounts.iter().any(|m| {
        let path = std::ffi::OsStr::from_bytes(&m.mount_point);
        std::fs::metadata(path).is_err()
    })
}

/// Resolves `+d`/`+D` (in the order given) and then the file arguments;
/// lsof's stderr lines go to `msgs`. `mounts` is the kernel's table, used
/// to tell whether some file system may block.
pub fn resolve_file_args(
    opts: &Options,
    guard: &BlockGuard,
    mounts: &[Mount],
    exempt: &[ExemptPath],
    msgs: &mut Messages,
) -> FileArgs {
    let avoid = opts.avoid_blocking;
    let cross = Crossing::from_letters(opts.cross.as_deref());
    let mut files = Vec::new();
    let mut refused = false;
    for dir in &opts.dirs {
        if walk_dir(dir, cross, avoid, guard, msgs, &mut files).is_err() {
            refused = true;
        }
    }
    if refused {
        return FileArgs::Usage;
    }
    let kind = match opts.file_system_names {
        None => ArgKind::Either,
        Some(true) => ArgKind::FileSystemsOnly,
        Some(false) => ArgKind::FilesOnly,
    };
    let args: Vec<Vec<u8>> = opts.names.iter().map(|n| n.as_bytes().to_vec()).collect();
    let mut failed = false;
    let mut table_read = false;
    if !args.is_empty() {
        let out = resolve_args(&args, kind, opts.quiet_failures, guard, avoid, exempt, msgs);
        if out.none_usable {
            return FileArgs::Stop;
        }
        table_read = kind != ArgKind::FilesOnly;
        failed = out.failed;
        files.extend(out.files);
    }
    // lsof reads the mount table on every run; its warnings matter when a
    // mount cannot be stat'ed (-b, a file system that hangs, or one under a
    // directory the user may not search: `can't stat() tmpfs file system`).
    let risky = mounts.iter().any(|m| may_block_type(&m.fs_type));
    if !table_read && (avoid || risky || !opts.no_warnings && any_unstatable(mounts)) {
        read_mount_points(guard, avoid, exempt, msgs);
    }
    FileArgs::Ready {
        names: NameSet::new(files),
        failed,
    }
}
