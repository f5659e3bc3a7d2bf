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
//! The device and inode are the mapped inode's, as maps prints them for
//! any file that is not a "backing" file; see [`MappingsProgram::files_of`]
//! for those.

use super::asm::{Asm, If, Width, FP, R0, R1, R3, R6, R7, R8, R9};
use super::btf::Found;
use super::debug::say;
use super::program::{long, word, Program, Reports, CTX_META, CTX_TASK};
use super::task_files::{self, identity_at, seq_write, Attributes, NODE, TASK, TASK_RECORD};
use super::{MappedFile, ProcessFiles};

/// The members the program reads besides the ones every program does
/// (and `task_files::STRUCTS`).
pub(super) const STRUCTS: &[(&str, &[&str])] = &[
    ("vm_area_struct", &["vm_start", "vm_end", "vm_file"]),
    ("file", &["f_path", "f_mode"]),
    ("bpf_iter_meta", &["seq_num"]),
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
/// kernel opens for itself on a user's behalf: the real file behind an
/// overlayfs or FUSE-passthrough mapping (a "backing file", 6.6 and
/// later), or behind overlayfs's fake path (before). maps shows such a
/// mapping under its user-visible path and inode, not the real file's
/// the program reads: those processes are read from maps.
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
    let f_path = a.offset_of(f("file", "f_path")?, 16);
    task_files::write_node(&mut a, found, f_path, r + 32, Attributes::Identity)?;
    seq_write(&mut a, r, RECORD);
    a.put(out);
    a.mov_imm(R0, 0);
    a.exit();
    a.finish()
}

/// What `bytes` (the program's output over one process) tells of
/// process `pid` itself; None when the output is cut short, when the
/// process was not visited (no task record: a kernel thread, no
/// mappings), or when maps would not show a mapping as the program read
/// it (`FMODE_NOACCOUNT`).
fn parse(bytes: &[u8], pid: u32) -> Option<ProcessFiles> {
    let mut files = ProcessFiles {
        task: None,
        mappings: Vec::new(),
    };
    let mut visited = false;
    let mut rest = bytes;
    while !rest.is_empty() {
        let size = match word(rest.get(..12)?, 8) {
            TASK => TASK_RECORD,
            FILE_MAPPING => RECORD,
            _ => return None,
        };
        let r = rest.get(..size)?;
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
        if word(r, 12) & FMODE_NOACCOUNT != 0 {
            return None;
        }
        let node = identity_at(r, 32)?;
        files.mappings.push(MappedFile {
            start: long(r, 16),
            end: long(r, 24),
            inode: node.inode,
            dev: node.dev,
            path_key: node.path_key,
        });
    }
    visited.then_some(files)
}

/// The mappings program, loaded.
pub struct MappingsProgram(Program);

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
        let program = MappingsProgram(Program::load(Reports::Mappings)?);
        if let Err(why) = program.0.iterates_by_process() {
            say(format_args!("rlsof_mappings: {why}"));
            return None;
        }
        let ours = program.files_of(std::process::id() as i32)?;
        let right = ours
            .mappings
            .first()
            .is_some_and(first_file_mapping_in_maps);
        if !right {
            say(format_args!(
                "rlsof_mappings: our first file mapping not reported as maps tells it"
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
            // By the attributes the kernel holds: rlsof may run from a
            // directory on a file system that does not answer.
            let stat = crate::sys::block::stat_cached_at(libc::AT_FDCWD, link);
            let same = |st: &libc::stat| {
                node.is_some_and(|n| (n.user_dev(), n.inode) == (st.st_dev, st.st_ino))
            };
            if !stat.is_ok_and(|st| same(&st)) {
                let link = link.to_string_lossy();
                say(format_args!(
                    "rlsof_mappings: our {link} not reported as stat tells it"
                ));
                return None;
            }
        }
        Some(program)
    }

    /// Process `pid`'s file mappings, working directory, root and
    /// executable; None when the kernel could not tell them all.
    pub fn files_of(&self, pid: i32) -> Option<ProcessFiles> {
        self.0
            .output_over(Some(pid as u32), |bytes| parse(bytes, pid as u32))
    }
}

/// Whether `told` is the first file mapping (our executable's, which
/// nothing maps or unmaps while rlsof runs) that our own maps lists:
/// addresses, device and inode.
fn first_file_mapping_in_maps(told: &MappedFile) -> bool {
    let Ok(maps) = std::fs::read("/proc/self/maps") else {
        return false;
    };
    let first_file = maps
        .split(|&c| c == b'\n')
        .map(|line| line.split(|&c| c == b' ').take(5).collect::<Vec<_>>())
        .find(|fields| fields.len() == 5 && fields[4] != b"0");
    let Some(fields) = first_file else {
        return false;
    };
    let (major, minor) = told.device();
    let addresses = format!("{:x}-{:x}", told.start, told.end);
    let device = format!("{major:02x}:{minor:02x}");
    fields[0] == addresses.as_bytes()
        && fields[3] == device.as_bytes()
        && fields[4] == told.inode.to_string().as_bytes()
}

#[cfg(test)]
#[path = "mappings_tests.rs"]
mod tests;
