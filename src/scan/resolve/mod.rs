//! The file-system work lsof does before the scan, so that selection only
//! decides: `-e`/`+e` paths, `+d`/`+D` directories walked and the file
//! arguments resolved (links read, mount points found, files stat'ed) into
//! search files, with lsof's messages and its early exits. Called from
//! `app::prepare`; `select::file_args::NameSet` consumes the result.

mod args;
mod dirs;
mod links;
mod messages;
mod mount_points;

pub(crate) use args::ArgKind;
pub(crate) use dirs::Crossing;
pub(crate) use messages::Messages;
pub(crate) use mount_points::mount_supplement;

use crate::scan::exempt::ExemptPath;
use crate::sys::block::{may_block_type, BlockGuard};
use crate::sys::mounts::Mount;
use args::resolve_args;
use dirs::walk_dir;
use links::{resolve_links, trim_trailing_slashes};
use mount_points::read_mount_points;
use std::os::unix::ffi::OsStrExt;
use std::sync::atomic::{AtomicBool, Ordering};

/// One search item (lsof's `struct sfile`).
#[derive(Debug)]
pub struct SearchFile {
    /// The argument as given, for `-V`.
    pub arg: Vec<u8>,
    /// The NAME shown for a file matched by device and inode.
    pub name: Vec<u8>,
    /// A whole file system (matched by device), not one file.
    pub file_system: bool,
    pub dev: u64,
    pub inode: u64,
    pub mode: u32,
    pub found: AtomicBool,
}

impl SearchFile {
    pub(crate) fn mark(&self) {
        self.found.store(true, Ordering::Relaxed);
    }

    pub fn was_found(&self) -> bool {
        self.found.load(Ordering::Relaxed)
    }
}

/// A `+d` (one level) or `+D` (whole tree) directory.
#[derive(Debug, Clone)]
pub(crate) struct DirArg {
    pub path: Vec<u8>,
    pub recursive: bool,
}

/// What the options ask to resolve, and how.
#[derive(Clone)]
pub(crate) struct Request<'a> {
    /// `+d`/`+D`, in the order given.
    pub dirs: &'a [DirArg],
    /// The file name arguments.
    pub names: &'a [Vec<u8>],
    /// `-x` letters.
    pub cross: Crossing,
    /// `+f` / `-f`.
    pub kind: ArgKind,
    /// `-Q`: no message (and no failure) for a name that cannot be used.
    pub quiet: bool,
    /// `-b`: no call that may block.
    pub avoid: bool,
    /// `-w`: warnings are not printed.
    pub no_warnings: bool,
    /// Whether the scan will describe each descriptor from the kernel
    /// (`crate::scan::kernel_files`), never stat'ing a file on a file
    /// system that may block: asked only when the table has one.
    pub kernel_describes_files: &'a dyn Fn() -> bool,
}

/// How resolving the file arguments ended.
#[derive(Debug)]
pub(crate) enum FileArgs {
    /// Go on with these search files (oldest first); `failed` is lsof's
    /// ErrStat (exit 1 at the end unless something else already failed).
    Ready {
        files: Vec<SearchFile>,
        failed: bool,
    },
    /// A `+d`/`+D` directory was refused: print the usage, exit 1.
    Usage,
    /// No file argument was usable: exit 1 now.
    Stop,
}

/// The `-e` paths (links resolved) and `+e` paths (as written); None when
/// one is no mount point (lsof's message is in `msgs`; the caller prints
/// the usage and exits 1).
pub(crate) fn resolve_exempt(
    resolved: &[Vec<u8>],
    literal: &[Vec<u8>],
    avoid: bool,
    guard: &BlockGuard,
    msgs: &mut Messages,
) -> Option<Vec<ExemptPath>> {
    let mut list: Vec<ExemptPath> = Vec::new();
    let given = resolved
        .iter()
        .map(|p| (p, false))
        .chain(literal.iter().map(|p| (p, true)));
    for (path, literal) in given {
        let path = if literal {
            path.clone()
        } else {
            resolve_links(path, avoid, guard, msgs)?
        };
        let path = trim_trailing_slashes(&path).to_vec();
        if !list.iter().any(|e| e.path == path) {
            list.push(ExemptPath { path, literal });
        }
    }
    let mut ok = true;
    for e in &list {
        if !guard.mounts().iter().any(|m| m.mount_point == e.path) {
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
fn any_unstatable(mounts: &[&Mount]) -> bool {
    mounts.iter().any(|m| {
        let path = std::ffi::OsStr::from_bytes(&m.mount_point);
        std::fs::metadata(path).is_err()
    })
}

/// Resolves `+d`/`+D` (in the order given) and then the file arguments;
/// lsof's stderr lines go to `msgs`. The guard's mount table tells
/// whether some file system may block.
pub(crate) fn resolve_file_args(
    req: &Request,
    guard: &BlockGuard,
    exempt: &[ExemptPath],
    msgs: &mut Messages,
) -> FileArgs {
    let avoid = req.avoid;
    let kind = req.kind;
    let mut files = Vec::new();
    let mut refused = false;
    for dir in req.dirs {
        if walk_dir(dir, req.cross, avoid, guard, msgs, &mut files).is_err() {
            refused = true;
        }
    }
    if refused {
        return FileArgs::Usage;
    }
    let mut failed = false;
    let mut table_read = false;
    if !req.names.is_empty() {
        let out = resolve_args(req.names, kind, req.quiet, guard, avoid, exempt, msgs);
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
    // Where the kernel describes the files, none on a file system that may
    // block is stat'ed: its mount point is not either, so a daemon or
    // server that does not answer costs no wait (DIVERGENCES.md).
    let mounts = guard.mounts();
    let risky = mounts.iter().any(|m| may_block_type(&m.fs_type));
    let skip_risky = risky && !avoid && !table_read && (req.kernel_describes_files)();
    let statable: Vec<&Mount> = mounts
        .iter()
        .filter(|m| !skip_risky || !may_block_type(&m.fs_type))
        .collect();
    let warn = avoid || risky && !skip_risky || !req.no_warnings && any_unstatable(&statable);
    if !table_read && warn {
        let skip = |m: &Mount| skip_risky && may_block_type(&m.fs_type);
        read_mount_points(guard, avoid, exempt, &skip, msgs);
    }
    FileArgs::Ready { files, failed }
}
