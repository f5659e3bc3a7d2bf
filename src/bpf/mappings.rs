//! Each file a process maps, as the kernel holds it: what a listing
//! otherwise reads from `/proc/PID/maps`, which the kernel formats for
//! every mapping, anonymous ones and each of a library's several mappings
//! included, making each file's path with `d_path` and escaping it
//! character by character.
//!
//! The program runs on `iter/task_vma` over one process. For each mapping
//! of a file it writes a record of `RECORD` bytes (below): the addresses,
//! the inode maps prints, and a [`PathKey`], what the path is made from.
//! No path: the verifier takes `bpf_d_path` only for a pointer the
//! iterator hands over (the mapping), not for one read from it (its file).
//! The caller makes each path once a run from the mapping's
//! `/proc/PID/map_files/` link (see `crate::scan::process`), for
//! all the processes that map the same file through the same mount.
//! The device and inode are the mapped inode's, as maps prints them for
//! any file that is not a "backing" file; see [`MappingsProgram::mappings_of`]
//! for those.

use super::asm::{Asm, If, Width, FP, R1, R2, R3, R6, R7, R8, R9};
use super::btf::Found;
use super::debug::say;
use super::program::{long, word, Program, Reports, BPF_FUNC_SEQ_WRITE, CTX_META, CTX_TASK};
use super::{MappedFile, PathKey};

/// The members the program reads besides the ones every program does.
pub(super) const STRUCTS: &[(&str, &[&str])] = &[
    ("vm_area_struct", &["vm_start", "vm_end", "vm_file"]),
    ("file", &["f_path", "f_inode", "f_mode"]),
    ("inode", &["i_ino", "i_sb"]),
    ("super_block", &["s_dev"]),
    ("dentry", &["d_hash", "d_parent", "d_name"]),
    ("bpf_iter_meta", &["seq_num"]),
];

/// The task_vma iterator's context: meta, task, vma (8 bytes each).
const CTX_VMA: i16 = 16;
/// tgid, tid (u32 each); the mapping's start and end, the inode number
/// (u64 each); the device (the kernel's encoding), the file's `f_mode`,
/// `FILE_MAPPING` or 0 (u32 each, then 4 bytes unused); the path's key:
/// the mount, the dentry, its parent, its name's hash and length, its
/// hash chain's back pointer (0: unhashed) (u64 each).
const RECORD: usize = 88;
/// The record is a file's mapping; 0: the iteration's first mapping,
/// anonymous, written only to tell a process visited from one skipped.
const FILE_MAPPING: u32 = 1;
const AT: i16 = -(RECORD as i16);
/// `FMODE_NOACCOUNT` (bit 29 since Linux 4.19): set on every file the
/// kernel opens for itself on a user's behalf: the real file behind an
/// overlayfs or FUSE-passthrough mapping (a "backing file", 6.6 and
/// later), or behind overlayfs's fake path (before). maps shows such a
/// mapping under its user-visible path and inode, not the real file's
/// the program reads: those processes are read from maps.
const FMODE_NOACCOUNT: u32 = 1 << 29;

/// The program: r6 = ctx, r7 = the mapping, r8 = the task, r9 = its file,
/// then its dentry; the record at the stack's bottom.
pub(super) fn program(found: &Found) -> Result<Vec<u8>, String> {
    let f = |s, m| found.field(s, m);
    let mut a = Asm::new();
    let out = a.label();
    let write = a.label();
    let r = AT;
    a.mov(R6, R1);
    a.load(Width::DW, R7, R6, CTX_VMA);
    a.jump_if(If::Eq, R7, 0, out);
    a.load(Width::DW, R8, R6, CTX_TASK);
    a.jump_if(If::Eq, R8, 0, out);
    for at in (24..RECORD as i16).step_by(8) {
        a.store_imm(Width::DW, FP, r + at, 0);
    }
    let fields = [
        (Width::W, R8, f("task_struct", "tgid")?, 0),
        (Width::W, R8, f("task_struct", "pid")?, 4),
        (Width::DW, R7, f("vm_area_struct", "vm_start")?, 8),
        (Width::DW, R7, f("vm_area_struct", "vm_end")?, 16),
    ];
    for (width, from, field, at) in fields {
        a.load_field(width, R3, from, field);
        a.store(width, FP, r + at, R3);
    }
    a.load_field(Width::DW, R9, R7, f("vm_area_struct", "vm_file")?);
    let file = a.label();
    a.jump_if(If::Ne, R9, 0, file);
    // An anonymous mapping: written only as the iteration's first.
    a.load(Width::DW, R1, R6, CTX_META);
    a.load_field(Width::DW, R3, R1, f("bpf_iter_meta", "seq_num")?);
    a.jump_if(If::Ne, R3, 0, out);
    a.jump(write);
    a.put(file);
    a.store_imm(Width::W, FP, r + 40, FILE_MAPPING as i32);
    // The inode's fields (a NULL inode or superblock reads as zeros).
    a.load_field(Width::DW, R1, R9, f("file", "f_inode")?);
    a.load_field(Width::DW, R3, R1, f("inode", "i_ino")?);
    a.store(Width::DW, FP, r + 24, R3);
    a.load_field(Width::DW, R1, R1, f("inode", "i_sb")?);
    a.load_field(Width::W, R3, R1, f("super_block", "s_dev")?);
    a.store(Width::W, FP, r + 32, R3);
    a.load_field(Width::W, R3, R9, f("file", "f_mode")?);
    a.store(Width::W, FP, r + 36, R3);
    // The path's key: f_path's mount and dentry (a struct path: two
    // pointers), then the dentry's own (a NULL dentry reads as zeros).
    let f_path = f("file", "f_path")?;
    let f_path = a.offset_of(f_path, 16);
    a.load(Width::DW, R3, R9, f_path);
    a.store(Width::DW, FP, r + 48, R3);
    a.load(Width::DW, R9, R9, f_path + 8);
    a.store(Width::DW, FP, r + 56, R9);
    a.load_field(Width::DW, R3, R9, f("dentry", "d_parent")?);
    a.store(Width::DW, FP, r + 64, R3);
    // d_name: a struct qstr, its hash and length first (one u64).
    let d_name = f("dentry", "d_name")?;
    let d_name = a.offset_of(d_name, 16);
    a.load(Width::DW, R3, R9, d_name);
    a.store(Width::DW, FP, r + 72, R3);
    // d_hash: a struct hlist_bl_node, whose second pointer (pprev) is
    // NULL when the dentry is unhashed.
    let d_hash = f("dentry", "d_hash")?;
    let d_hash = a.offset_of(d_hash, 16);
    a.load(Width::DW, R3, R9, d_hash + 8);
    a.store(Width::DW, FP, r + 80, R3);
    a.put(write);
    a.load(Width::DW, R1, R6, CTX_META);
    a.load(Width::DW, R1, R1, 0); // meta->seq
    a.mov(R2, FP);
    a.add_imm(R2, i32::from(r));
    a.mov_imm(R3, RECORD as i32);
    a.call(BPF_FUNC_SEQ_WRITE);
    a.put(out);
    a.mov_imm(super::asm::R0, 0);
    a.exit();
    a.finish()
}

/// The file mappings of `bytes` (the program's output over one process),
/// those of process `pid` itself; None when the output is cut short, when
/// the process was not visited (no record at all), or when maps would
/// not show a mapping as the program read it (`FMODE_NOACCOUNT`).
fn parse(bytes: &[u8], pid: u32) -> Option<Vec<MappedFile>> {
    if !bytes.len().is_multiple_of(RECORD) {
        return None;
    }
    let mut mappings = Vec::new();
    let mut visited = false;
    for r in bytes.chunks_exact(RECORD) {
        // Threads share the process's mappings: its own id only.
        if word(r, 0) != pid || word(r, 4) != pid {
            continue;
        }
        visited = true;
        if word(r, 40) != FILE_MAPPING {
            continue;
        }
        if word(r, 36) & FMODE_NOACCOUNT != 0 {
            return None;
        }
        mappings.push(MappedFile {
            start: long(r, 8),
            end: long(r, 16),
            inode: long(r, 24),
            dev: word(r, 32),
            path_key: PathKey {
                mount: long(r, 48),
                dentry: long(r, 56),
                parent: long(r, 64),
                name_hash_len: long(r, 72),
                hashed: long(r, 80) != 0,
            },
        });
    }
    visited.then_some(mappings)
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
        let ours = program.mappings_of(std::process::id() as i32)?;
        let right = ours.first().is_some_and(first_file_mapping_in_maps);
        if !right {
            say(format_args!(
                "rlsof_mappings: our first file mapping not reported as maps tells it"
            ));
        }
        right.then_some(program)
    }

    /// The file mappings of process `pid`, in address order (as maps
    /// lists them); None when the kernel could not tell them all.
    pub fn mappings_of(&self, pid: i32) -> Option<Vec<MappedFile>> {
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
