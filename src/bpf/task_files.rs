//! What the mappings program (`super::mappings`) writes besides the
//! mappings: with a process's first mapping, its working directory, root
//! directory and executable (lsof's cwd, rtd and txt), each as a
//! [`KernelNode`]: the path's key and the inode's fields, what readlink
//! and stat of `/proc/PID/cwd`, `root` and `exe` otherwise tell.

use super::asm::{Asm, If, Label, Width, FP, R1, R2, R3, R4, R5, R8, R9};
use super::btf::{Field, Found};
use super::program::{long, seq_write, word, BPF_FUNC_PROBE_READ_KERNEL};
use super::{KernelNode, PathKey, TaskFiles};

/// The members read besides the mappings program's own.
pub(super) const STRUCTS: &[(&str, &[&str])] = &[
    ("task_struct", &["fs", "mm", "flags"]),
    ("fs_struct", &["root", "pwd"]),
    ("mm_struct", &["exe_file"]),
    ("dentry", &["d_hash", "d_parent", "d_name", "d_inode"]),
    (
        "inode",
        &["i_mode", "i_ino", "i_sb", "i_rdev", "i_size", "i_nlink"],
    ),
    ("super_block", &["s_dev", "s_magic"]),
];

/// A path and its inode, as a [`KernelNode`]: the mount, the dentry, its
/// parent, its name's hash and length, its hash chain's back pointer
/// (0: unhashed); the inode's number, size and file system magic (u64
/// each); its device, rdev, link count and mode (u32 each).
pub(super) const NODE: usize = 80;
/// tgid, tid, `TASK` (the record's kind), whether the task was exiting
/// (u32 each); then the working directory, the root, the executable.
pub(super) const TASK_RECORD: usize = 16 + 3 * NODE;
/// The record kinds, at offset 8 of each record.
pub(super) const TASK: u32 = 2;
const AT: i16 = -512;
/// `PF_EXITING`: the task is in `do_exit`, which frees its `fs_struct`
/// (not RCU-protected) after the mappings: its record is not used.
const PF_EXITING: i32 = 4;

/// Writes the task record of the task in r8 (clobbers r1 to r5 and r9).
pub(super) fn write_record(a: &mut Asm, found: &Found) -> Result<(), String> {
    let f = |s, m| found.field(s, m);
    let t = AT;
    for at in (0..TASK_RECORD as i16).step_by(8) {
        a.store_imm(Width::DW, FP, t + at, 0);
    }
    a.load_field(Width::W, R3, R8, f("task_struct", "tgid")?);
    a.store(Width::W, FP, t, R3);
    a.load_field(Width::W, R3, R8, f("task_struct", "pid")?);
    a.store(Width::W, FP, t + 4, R3);
    a.store_imm(Width::W, FP, t + 8, TASK as i32);
    let no_fs = a.label();
    a.load_field(Width::DW, R9, R8, f("task_struct", "fs")?);
    a.jump_if(If::Eq, R9, 0, no_fs);
    let pwd = a.offset_of(f("fs_struct", "pwd")?, 16);
    let root = a.offset_of(f("fs_struct", "root")?, 16);
    write_node(a, found, pwd, t + 16, Attributes::All)?;
    write_node(a, found, root, t + 16 + NODE as i16, Attributes::All)?;
    a.put(no_fs);
    let no_exe = a.label();
    a.load_field(Width::DW, R9, R8, f("task_struct", "mm")?);
    a.jump_if(If::Eq, R9, 0, no_exe);
    a.load_field(Width::DW, R9, R9, f("mm_struct", "exe_file")?);
    a.jump_if(If::Eq, R9, 0, no_exe);
    let f_path = a.offset_of(f("file", "f_path")?, 16);
    write_node(a, found, f_path, t + 16 + 2 * NODE as i16, Attributes::All)?;
    a.put(no_exe);
    // Read last: a task not yet exiting now was not while it was read.
    a.load_field(Width::W, R3, R8, f("task_struct", "flags")?);
    a.and_imm(R3, PF_EXITING);
    a.store(Width::W, FP, t + 12, R3);
    seq_write(a, t, TASK_RECORD);
    Ok(())
}

/// What of a node [`write_node`] writes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Attributes {
    /// The path's key and what `stat` would give of the inode (a cwd,
    /// root or executable row is made of them).
    All,
    /// The path's key only: a mapping's identity is its file's inode
    /// (`file_inode`), which the caller writes, and a mapped file is
    /// stat'ed by its path (as lsof does); each field read here would be
    /// a cache line of an inode or superblock for every mapping walked.
    KeyOnly,
}

/// Writes at `at` the node of the `struct path` at offset `path` of the
/// object in r9 (clobbers r1, r3 to r5). A NULL dentry or inode leaves
/// zeros.
pub(super) fn write_node(
    a: &mut Asm,
    found: &Found,
    path: i16,
    at: i16,
    attributes: Attributes,
) -> Result<(), String> {
    let f = |s, m| found.field(s, m);
    let done: Label = a.label();
    a.load(Width::DW, R3, R9, path);
    a.store(Width::DW, FP, at, R3);
    a.load(Width::DW, R4, R9, path + 8);
    a.store(Width::DW, FP, at + 8, R4);
    a.jump_if(If::Eq, R4, 0, done);
    a.load_field(Width::DW, R3, R4, f("dentry", "d_parent")?);
    a.store(Width::DW, FP, at + 16, R3);
    // d_name: a struct qstr, its hash and length first (u32 each: the
    // verifier takes no u64 load across the union's `hash` member).
    let d_name = a.offset_of(f("dentry", "d_name")?, 16);
    a.load(Width::W, R3, R4, d_name);
    a.store(Width::W, FP, at + 24, R3);
    a.load(Width::W, R3, R4, d_name + 4);
    a.store(Width::W, FP, at + 28, R3);
    // d_hash: a struct hlist_bl_node, whose second pointer (pprev) is
    // NULL when the dentry is unhashed.
    let d_hash = a.offset_of(f("dentry", "d_hash")?, 16);
    a.load(Width::DW, R3, R4, d_hash + 8);
    a.store(Width::DW, FP, at + 32, R3);
    if attributes == Attributes::KeyOnly {
        a.put(done);
        return Ok(());
    }
    a.load_field(Width::DW, R5, R4, f("dentry", "d_inode")?);
    a.jump_if(If::Eq, R5, 0, done);
    let fields = [
        (Width::DW, f("inode", "i_ino")?, 40),
        (Width::DW, f("inode", "i_size")?, 48),
        (Width::W, f("inode", "i_rdev")?, 68),
        (Width::W, f("inode", "i_nlink")?, 72),
    ];
    for (width, field, off) in fields {
        a.load_field(width, R3, R5, field);
        a.store(width, FP, at + off, R3);
    }
    a.load_field(Width::H, R3, R5, f("inode", "i_mode")?);
    a.store(Width::W, FP, at + 76, R3);
    // The file system: a NULL superblock reads as zeros.
    a.load_field(Width::DW, R1, R5, f("inode", "i_sb")?);
    a.load_field(Width::W, R3, R1, f("super_block", "s_dev")?);
    a.store(Width::W, FP, at + 64, R3);
    a.load_field(Width::DW, R3, R1, f("super_block", "s_magic")?);
    a.store(Width::DW, FP, at + 56, R3);
    a.put(done);
    Ok(())
}

/// Writes at `at` the node of the `struct path` `path` of the
/// `struct backing_file` around the file in
/// r9: past the `struct file` the verifier lets the program read, so
/// each field is copied with `bpf_probe_read_kernel` (a NULL pointer on
/// the way reads as zeros): its key, and as its identity its inode's
/// number and device (the other fields zero, as a mapping's). Clobbers
/// r0 to r5.
pub(super) fn write_node_read_past(
    a: &mut Asm,
    found: &Found,
    path: Field,
    at: i16,
) -> Result<(), String> {
    let f = |s, m| found.field(s, m);
    if found.field("backing_file", "file")?.offset != 0 || path.size != 16 {
        return Err("backing_file: not a file and a path after it".into());
    }
    // The mount and the dentry.
    a.mov(R3, R9);
    a.add_imm(R3, path.offset as i32);
    probe_read(a, at, 16);
    let dentry = at + 8;
    let d_hash = f("dentry", "d_hash")?.offset as i32;
    let copies = [
        (dentry, f("dentry", "d_parent")?.offset as i32, at + 16, 8),
        (dentry, f("dentry", "d_name")?.offset as i32, at + 24, 8),
        (dentry, d_hash + 8, at + 32, 8),
        // The inode into the size's slot, its superblock into the
        // magic's, both cleared after.
        (dentry, f("dentry", "d_inode")?.offset as i32, at + 48, 8),
        (at + 48, f("inode", "i_ino")?.offset as i32, at + 40, 8),
        (at + 48, f("inode", "i_sb")?.offset as i32, at + 56, 8),
        (
            at + 56,
            f("super_block", "s_dev")?.offset as i32,
            at + 64,
            4,
        ),
    ];
    for (pointer_at, offset, to, size) in copies {
        a.load(Width::DW, R3, FP, pointer_at);
        a.add_imm(R3, offset);
        probe_read(a, to, size);
    }
    a.store_imm(Width::DW, FP, at + 48, 0);
    a.store_imm(Width::DW, FP, at + 56, 0);
    Ok(())
}

/// Copies `size` bytes from the kernel address in r3 to the stack at `to`
/// (zeros where it cannot be read). Clobbers r0 to r5.
fn probe_read(a: &mut Asm, to: i16, size: i32) {
    a.mov(R1, FP);
    a.add_imm(R1, i32::from(to));
    a.mov_imm(R2, size);
    a.call(BPF_FUNC_PROBE_READ_KERNEL);
}

/// The node at `at` of record `r`; None when it has no inode.
fn node_at(r: &[u8], at: usize) -> Option<KernelNode> {
    let node = identity_at(r, at)?;
    (node.mode != 0).then_some(node)
}

/// The node at `at` of record `r` as a mapping's carries it: its key,
/// device and inode number (its other fields zero); None when it has no
/// dentry.
pub(super) fn identity_at(r: &[u8], at: usize) -> Option<KernelNode> {
    let node = KernelNode {
        path_key: PathKey {
            mount: long(r, at),
            dentry: long(r, at + 8),
            parent: long(r, at + 16),
            name_hash_len: long(r, at + 24),
            hashed: long(r, at + 32) != 0,
        },
        inode: long(r, at + 40),
        size: long(r, at + 48) as i64,
        magic: long(r, at + 56),
        dev: word(r, at + 64),
        rdev: word(r, at + 68),
        nlink: word(r, at + 72),
        mode: word(r, at + 76),
    };
    (node.path_key.dentry != 0).then_some(node)
}

/// The task record `r`'s files; None when the task was exiting.
pub(super) fn task_files(r: &[u8]) -> Option<TaskFiles> {
    if word(r, 12) != 0 {
        return None;
    }
    Some(TaskFiles {
        cwd: node_at(r, 16),
        root: node_at(r, 16 + NODE),
        exe: node_at(r, 16 + 2 * NODE),
    })
}
