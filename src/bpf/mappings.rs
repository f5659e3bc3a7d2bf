//! Each file a process maps, as the kernel holds it: what a listing
//! otherwise reads from `/proc/PID/maps`, which the kernel formats for
//! every mapping, anonymous ones and each of a library's several mappings
//! included, making each file's path with `d_path` and escaping it
//! character by character. With them, the process's working directory,
//! root and executable (`super::task_files`), which a listing otherwise
//! reads and stats through `/proc/PID/cwd`, `root` and `exe`.
//!
//! The program runs on `iter/task_vma` over one process. For each mapping
//! of a file it writes a record of `RECORD` bytes (below): the addresses,
//! the inode maps prints, and a [`super::PathKey`], what the path is made
//! from; with the first, the task's record.
//! No path: the verifier takes `bpf_d_path` only for a pointer the
//! iterator hands over (the mapping), not for one read from it (its file).
//! The caller makes each path once a run from the mapping's
//! `/proc/PID/map_files/` link (see `crate::scan::process`), for
//! all the processes that map the same file through the same mount.
//! The device, inode and key are those maps prints the line of: the
//! mapped file's own, or since Linux 6.8 a backing file's user path's
//! (an overlay's; see [`FMODE_NOACCOUNT`]).

use std::os::fd::{AsRawFd, OwnedFd};

use super::asm::{Asm, If, Width, FP, R0, R1, R3, R6, R7, R8, R9};
use super::btf::Found;
use super::debug::say;
use super::program::seq_write;
use super::program::{long, word, Program, Reports, CTX_META, CTX_TASK};
use super::task_files::{self, identity_at, Attributes, NODE, TASK, TASK_RECORD};
use super::{MappedFile, ProcessFiles};

/// The members the program reads besides the ones every program does
/// (and `task_files::STRUCTS`).
pub(super) const STRUCTS: &[(&str, &[&str])] = &[
    ("vm_area_struct", &["vm_start", "vm_end", "vm_file"]),
    ("file", &["f_path", "f_mode", "f_inode"]),
    ("bpf_iter_meta", &["seq_num"]),
    // Since Linux 6.8 (see `task_files::write_node_read_past`).
    ("backing_file", &["file", "user_path"]),
];

/// The task_vma iterator's context: meta, task, vma (8 bytes each).
const CTX_VMA: i16 = 16;
/// tgid, tid, `FILE_MAPPING` (the record's kind), the file's `f_mode`
/// (u32 each); the mapping's start and end (u64 each); the file's node
/// (`task_files::NODE`: the path's key, the inode's fields).
const RECORD: usize = 32 + NODE;
const FILE_MAPPING: u32 = 1;
const AT: i16 = -(RECORD as i16);
/// `FMODE_NOACCOUNT` (bit 29 since Linux 4.19): set on every file the
/// kernel opens for itself on a user's behalf, among them (since 6.8)
/// every "backing file": the real file behind an overlayfs or
/// FUSE-passthrough mapping, which maps shows by the user's path and
/// inode, kept in the `struct backing_file` around it.
const FMODE_NOACCOUNT: u32 = 1 << 29;

/// The program: r6 = ctx, r7 = the mapping, r8 = the task, r9 = its file;
/// the record at the stack's bottom, the task's record below it.
pub(super) fn program(found: &Found) -> Result<Vec<u8>, String> {
    let f = |s, m| found.field(s, m);
    let mut a = Asm::new();
    let out = a.label();
    let r = AT;
    a.mov(R6, R1);
    a.load(Width::DW, R7, R6, CTX_VMA);
    a.jump_if(If::Eq, R7, 0, out);
    a.load(Width::DW, R8, R6, CTX_TASK);
    a.jump_if(If::Eq, R8, 0, out);
    // With the iteration's first mapping, the task's own files.
    let mapping = a.label();
    a.load(Width::DW, R1, R6, CTX_META);
    a.load_field(Width::DW, R3, R1, f("bpf_iter_meta", "seq_num")?);
    a.jump_if(If::Ne, R3, 0, mapping);
    task_files::write_record(&mut a, found)?;
    a.put(mapping);
    a.load_field(Width::DW, R9, R7, f("vm_area_struct", "vm_file")?);
    a.jump_if(If::Eq, R9, 0, out);
    for at in (0..RECORD as i16).step_by(8) {
        a.store_imm(Width::DW, FP, r + at, 0);
    }
    let fields = [
        (Width::W, R8, f("task_struct", "tgid")?, 0),
        (Width::W, R8, f("task_struct", "pid")?, 4),
        (Width::W, R9, f("file", "f_mode")?, 12),
        (Width::DW, R7, f("vm_area_struct", "vm_start")?, 16),
        (Width::DW, R7, f("vm_area_struct", "vm_end")?, 24),
    ];
    for (width, from, field, at) in fields {
        a.load_field(width, R3, from, field);
        a.store(width, FP, r + at, R3);
    }
    a.store_imm(Width::W, FP, r + 8, FILE_MAPPING as i32);
    let write = a.label();
    if let Ok(user_path) = found.field("backing_file", "user_path") {
        // Since Linux 6.8 maps shows a backing file (an overlay's, FUSE
        // passthrough's; all are FMODE_NOACCOUNT) by its user path, kept
        // past the file in its `struct backing_file`.
        let plain = a.label();
        a.load(Width::W, R3, FP, r + 12);
        a.and_imm(R3, FMODE_NOACCOUNT as i32);
        a.jump_if(If::Eq, R3, 0, plain);
        task_files::write_node_read_past(&mut a, found, user_path, r + 32)?;
        a.jump(write);
        a.put(plain);
    }
    let f_path = a.offset_of(f("file", "f_path")?, 16);
    task_files::write_node(&mut a, found, f_path, r + 32, Attributes::KeyOnly)?;
    // The identity maps prints: the file's own inode (`file_inode`), which
    // before Linux 6.8 is not the path's for a file opened with a "fake"
    // path (an overlayfs mapping's).
    a.load_field(Width::DW, R1, R9, f("file", "f_inode")?);
    a.load_field(Width::DW, R3, R1, f("inode", "i_ino")?);
    a.store(Width::DW, FP, r + 32 + 40, R3);
    a.load_field(Width::DW, R1, R1, f("inode", "i_sb")?);
    a.load_field(Width::W, R3, R1, f("super_block", "s_dev")?);
    a.store(Width::W, FP, r + 32 + 64, R3);
    a.put(write);
    seq_write(&mut a, r, RECORD);
    a.put(out);
    a.mov_imm(R0, 0);
    a.exit();
    a.finish()
}

/// Why the program's output over a process cannot stand for its maps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Untold {
    /// Cut short, or a record of no known kind.
    Damaged,
    /// No task record: not visited (a kernel thread, no mappings, gone).
    NotVisited,
}

/// What `bytes` (the program's output over one process) tells of
/// process `pid` itself.
fn parse(bytes: &[u8], pid: u32) -> Result<ProcessFiles, Untold> {
    let mut files = ProcessFiles {
        task: None,
        mappings: Vec::new(),
    };
    let mut visited = false;
    let mut rest = bytes;
    while !rest.is_empty() {
        let kind = rest.get(..12).map(|h| word(h, 8));
        let size = match kind {
            Some(TASK) => TASK_RECORD,
            Some(FILE_MAPPING) => RECORD,
            _ => return Err(Untold::Damaged),
        };
        let r = rest.get(..size).ok_or(Untold::Damaged)?;
        rest = &rest[size..];
        // Threads share the process's mappings: its own id only.
        if word(r, 0) != pid || word(r, 4) != pid {
            continue;
        }
        if size == TASK_RECORD {
            visited = true;
            files.task = task_files::task_files(r);
            continue;
        }
        let Some(node) = identity_at(r, 32) else {
            continue;
        };
        files.mappings.push(MappedFile {
            start: long(r, 16),
            end: long(r, 24),
            inode: node.inode,
            dev: node.dev,
            path_key: node.path_key,
        });
    }
    if !visited {
        return Err(Untold::NotVisited);
    }
    Ok(files)
}

/// The mappings program, loaded.
pub struct MappingsProgram {
    program: Program,
}

static SHARED: std::sync::OnceLock<Option<MappingsProgram>> = std::sync::OnceLock::new();

impl MappingsProgram {
    /// The program, loaded once for the whole run; None when the kernel
    /// cannot run it (see `crate::bpf`). The caller has checked that the
    /// kernel may be asked, and checks what it tells against maps.
    pub fn shared() -> Option<&'static MappingsProgram> {
        SHARED.get_or_init(MappingsProgram::load).as_ref()
    }

    fn load() -> Option<MappingsProgram> {
        let program = MappingsProgram::load_checked();
        match program {
            Some(_) => say(format_args!(
                "mappings: the kernel (rlsof_mappings), each file's path once from map_files; maps where it cannot tell"
            )),
            None => say(format_args!("mappings: /proc/PID/maps (no program)")),
        }
        program
    }

    fn load_checked() -> Option<MappingsProgram> {
        let program = MappingsProgram {
            program: Program::load(Reports::Mappings)?,
        };
        if let Err(why) = program.program.iterates_by_process() {
            say(format_args!("rlsof_mappings: {why}"));
            return None;
        }
        // A mapping of ours on no overlay (rlsof's own files may all be
        // mapped through one, as in a VM sharing its host's root).
        let (probe, _) = super::files::written_probe_file()?;
        let mapped = ProbeMapping::of(&probe)?;
        let pid = std::process::id();
        let ours = program
            .program
            .output_over(Some(pid), |bytes| Some(parse(bytes, pid)));
        let ours = match ours {
            Some(Ok(ours)) => ours,
            Some(Err(why)) => {
                say(format_args!(
                    "rlsof_mappings: our own mappings untold: {why:?}"
                ));
                return None;
            }
            None => {
                say(format_args!(
                    "rlsof_mappings: no iteration over our own mappings"
                ));
                return None;
            }
        };
        let told = ours.mappings.iter().find(|m| m.start == mapped.start);
        if !told.is_some_and(|m| mapped.is_told_as(m)) {
            say(format_args!(
                "rlsof_mappings: our probe mapping not reported as stat tells it ({told:?})"
            ));
            return None;
        }
        let ours = ours.task.unwrap_or_default();
        let told = [
            (c"/proc/self/cwd", ours.cwd),
            (c"/proc/self/root", ours.root),
            (c"/proc/self/exe", ours.exe),
        ];
        for (link, node) in told {
            let Some(node) = node else {
                say(format_args!("rlsof_mappings: no {link:?} reported for us"));
                return None;
            };
            // Where stat says what the inode holds (an overlay's or a
            // network file system's stat may not): by the attributes the
            // kernel holds, as rlsof may run from a directory on a file
            // system that does not answer.
            if node.generic_stat().is_none() {
                continue;
            }
            let stat = crate::sys::block::stat_cached_at(libc::AT_FDCWD, link);
            if !stat.is_ok_and(|st| (node.user_dev(), node.inode) == (st.st_dev, st.st_ino)) {
                say(format_args!(
                    "rlsof_mappings: our {link:?} not reported as stat tells it"
                ));
                return None;
            }
        }
        Some(program)
    }

    /// Process `pid`'s file mappings, working directory, root and
    /// executable; None when the kernel could not tell them all.
    pub fn files_of(&self, pid: i32) -> Option<ProcessFiles> {
        self.program
            .output_over(Some(pid as u32), |bytes| parse(bytes, pid as u32).ok())
    }
}

/// A page of the probe file mapped for the load check; unmapped when
/// dropped.
struct ProbeMapping {
    start: u64,
    st: libc::stat,
}

const PAGE: usize = 4096;

impl ProbeMapping {
    fn of(probe: &OwnedFd) -> Option<ProbeMapping> {
        // SAFETY: all-zero is a valid stat (plain integers).
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: fstat writes into `st`, for a descriptor we own.
        if unsafe { libc::fstat(probe.as_raw_fd(), &mut st) } != 0 {
            return None;
        }
        // SAFETY: a new read-only shared mapping of our own file, at an
        // address the kernel picks; never read (it ends past the file's
        // bytes), unmapped in drop.
        let at = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                PAGE,
                libc::PROT_READ,
                libc::MAP_SHARED,
                probe.as_raw_fd(),
                0,
            )
        };
        (at != libc::MAP_FAILED).then(|| ProbeMapping {
            start: at as u64,
            st,
        })
    }

    /// Whether `m` is this mapping of this file, as maps would show it.
    fn is_told_as(&self, m: &MappedFile) -> bool {
        let (major, minor) = m.device();
        m.end == self.start + PAGE as u64
            && libc::makedev(major, minor) == self.st.st_dev
            && m.inode == self.st.st_ino
    }
}

impl Drop for ProbeMapping {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `of`, unmapped once.
        unsafe { libc::munmap(self.start as *mut libc::c_void, PAGE) };
    }
}

#[cfg(test)]
#[path = "mappings_tests.rs"]
mod tests;
