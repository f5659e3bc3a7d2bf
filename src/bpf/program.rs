//! The iterator programs, their loading (bpf(2): PROG_LOAD, LINK_CREATE,
//! ITER_CREATE) and the reading of what they write, with the few BPF
//! instructions they are written in and the prologue they share.
//!
//! For each (task, fd, file) the kernel visits, the socket program writes
//! 16 bytes when the file's inode is a socket: the task's tgid (u32), the
//! fd (u32), the inode number (u64); the every-file program and the
//! described-sockets program (`super::sockets`) write records of their
//! own.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use super::btf::{find, Wanted};
use super::{HeldSocket, KernelFile};

const BPF_PROG_LOAD: libc::c_long = 5;
const BPF_LINK_CREATE: libc::c_long = 28;
const BPF_ITER_CREATE: libc::c_long = 33;
const BPF_PROG_TYPE_TRACING: u32 = 26;
const BPF_TRACE_ITER: u32 = 28;
pub(super) const BPF_FUNC_SEQ_PRINTF: i32 = 126;
const BPF_FUNC_SEQ_WRITE: i32 = 127;
pub(super) const BPF_FUNC_PROBE_READ_KERNEL: i32 = 113;
/// O_CLOEXEC is bit 19 (0o2000000) on Linux's common architectures.
const O_CLOEXEC_SHIFT: i32 = (libc::O_CLOEXEC as u32).trailing_zeros() as i32;
pub const RECORD: usize = 16;
pub const FILE_RECORD: usize = 32;
/// The iterator function's context: meta, task, fd, file (8 bytes each).
pub(super) const CTX_META: i16 = 0;
const CTX_TASK: i16 = 8;
pub(super) const CTX_FD: i16 = 16;
const CTX_FILE: i16 = 24;

/// Struct member offsets and the iterator's type id in this kernel.
pub struct Offsets {
    file_inode: i16,
    file_pos: i16,
    file_flags: i16,
    pub(super) inode_mode: i16,
    pub(super) inode_ino: i16,
    pub(super) task_tgid: i16,
    task_pid: i16,
    task_files: i16,
    files_fdt: i16,
    fdtable_close_on_exec: i16,
    iter_func: u32,
}

impl Offsets {
    /// The running kernel's offsets, read from its BTF once per run (a
    /// few milliseconds: every program needs them).
    pub fn of_running_kernel() -> Option<&'static Offsets> {
        static FOUND: std::sync::OnceLock<Option<Offsets>> = std::sync::OnceLock::new();
        FOUND.get_or_init(Offsets::read).as_ref()
    }

    fn read() -> Option<Offsets> {
        let vmlinux = std::fs::File::open(super::btf::VMLINUX).ok()?;
        let wanted = Wanted {
            structs: &[
                ("file", &["f_inode", "f_pos", "f_flags"]),
                ("inode", &["i_mode", "i_ino"]),
                ("task_struct", &["tgid", "pid", "files"]),
                ("files_struct", &["fdt"]),
                ("fdtable", &["close_on_exec"]),
            ],
            funcs: &["bpf_iter_task_file"],
        };
        let found = find(&vmlinux, &wanted)?;
        let offset = |s: &str, m: &str| i16::try_from(found.offset(s, m)?).ok();
        Some(Offsets {
            file_inode: offset("file", "f_inode")?,
            file_pos: offset("file", "f_pos")?,
            file_flags: offset("file", "f_flags")?,
            inode_mode: offset("inode", "i_mode")?,
            inode_ino: offset("inode", "i_ino")?,
            task_tgid: offset("task_struct", "tgid")?,
            task_pid: offset("task_struct", "pid")?,
            task_files: offset("task_struct", "files")?,
            files_fdt: offset("files_struct", "fdt")?,
            fdtable_close_on_exec: offset("fdtable", "close_on_exec")?,
            iter_func: *found.funcs.get("bpf_iter_task_file")?,
        })
    }
}

/// One BPF instruction.
pub(super) fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> [u8; 8] {
    let mut i = [0u8; 8];
    i[0] = code;
    i[1] = (dst & 0xf) | (src << 4);
    i[2..4].copy_from_slice(&off.to_le_bytes());
    i[4..8].copy_from_slice(&imm.to_le_bytes());
    i
}

pub(super) const LDX_DW: u8 = 0x79;
pub(super) const LDX_W: u8 = 0x61;
pub(super) const LDX_H: u8 = 0x69;
pub(super) const STX_DW: u8 = 0x7b;
pub(super) const STX_W: u8 = 0x63;
pub(super) const ST_DW: u8 = 0x7a;
pub(super) const ST_W: u8 = 0x62;
pub(super) const MOV64_X: u8 = 0xbf;
pub(super) const MOV64_K: u8 = 0xb7;
pub(super) const ADD64_K: u8 = 0x07;
pub(super) const AND64_K: u8 = 0x57;
/// Jumps `off` instructions ahead; an `off` of 0 (a jump that would go
/// nowhere) means "to the program's `return 0`" (see `ending_in_return`).
pub(super) const JEQ_K: u8 = 0x15;
pub(super) const JNE_K: u8 = 0x55;
pub(super) const JGT_K: u8 = 0x25;
pub(super) const JA: u8 = 0x05;
pub(super) const CALL: u8 = 0x85;
const RSH64_K: u8 = 0x77;
const LSH64_K: u8 = 0x67;
const RSH64_X: u8 = 0x7f;
const ADD64_X: u8 = 0x0f;
const OR64_X: u8 = 0x4f;
const EXIT: u8 = 0x95;

/// What a program reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reports {
    /// Each socket file: tgid, fd, inode (RECORD bytes).
    Sockets,
    /// Each open file: tgid, tid, fd, flags, inode, position
    /// (FILE_RECORD bytes).
    Files,
    /// Each socket file with what the socket tables would tell of it
    /// (see `super::sockets`).
    Described(&'static super::sockets::SocketOffsets),
}

/// The socket program: tgid, fd, inode of each socket file.
fn socket_instructions(o: &Offsets) -> Vec<[u8; 8]> {
    let body = vec![
        insn(LDX_H, 2, 1, o.inode_mode, 0),          // r2 = inode->i_mode
        insn(AND64_K, 2, 0, 0, libc::S_IFMT as i32), // r2 &= S_IFMT
        insn(JNE_K, 2, 0, 0, libc::S_IFSOCK as i32), // not a socket: out
        insn(LDX_DW, 3, 1, o.inode_ino, 0),          // r3 = inode->i_ino
        insn(STX_DW, 10, 3, -8, 0),                  // stack[-8] = ino
        insn(LDX_W, 4, 8, o.task_tgid, 0),           // r4 = task->tgid
        insn(STX_W, 10, 4, -16, 0),                  // stack[-16] = tgid
        insn(LDX_W, 5, 6, CTX_FD, 0),                // r5 = ctx->fd
        insn(STX_W, 10, 5, -12, 0),                  // stack[-12] = fd
    ];
    for_each_file(o, body, RECORD, Vec::new())
}

/// The every-file program: the record at stack[-32..0] is tgid, tid, fd,
/// flags (u32 each), inode number, f_pos (u64 each); the flags are
/// `f_flags` with O_CLOEXEC added from the descriptor table's bitmap, as
/// fdinfo shows them. (A load through a NULL kernel pointer gives 0, and
/// a failed read of the bitmap word zeroes it: no branch is needed.)
fn file_instructions(o: &Offsets) -> Vec<[u8; 8]> {
    let record = FILE_RECORD as i16;
    let body = vec![
        insn(LDX_DW, 3, 1, o.inode_ino, 0),  // r3 = inode->i_ino
        insn(STX_DW, 10, 3, -16, 0),         // stack[-16] = ino
        insn(LDX_DW, 3, 7, o.file_pos, 0),   // r3 = file->f_pos
        insn(STX_DW, 10, 3, -8, 0),          // stack[-8] = pos
        insn(LDX_W, 4, 8, o.task_tgid, 0),   // r4 = task->tgid
        insn(STX_W, 10, 4, -record, 0),      // stack[-32] = tgid
        insn(LDX_W, 4, 8, o.task_pid, 0),    // r4 = task->pid
        insn(STX_W, 10, 4, -record + 4, 0),  // stack[-28] = tid
        insn(LDX_W, 5, 6, CTX_FD, 0),        // r5 = ctx->fd
        insn(STX_W, 10, 5, -record + 8, 0),  // stack[-24] = fd
        insn(LDX_W, 4, 7, o.file_flags, 0),  // r4 = file->f_flags
        insn(STX_W, 10, 4, -record + 12, 0), // stack[-20] = flags
        insn(LDX_DW, 1, 8, o.task_files, 0), // r1 = task->files
        insn(LDX_DW, 1, 1, o.files_fdt, 0),  // r1 = files->fdt
        insn(LDX_DW, 3, 1, o.fdtable_close_on_exec, 0), // r3 = fdt->close_on_exec
        insn(LDX_W, 2, 6, CTX_FD, 0),        // r2 = fd
        insn(RSH64_K, 2, 0, 0, 6),           // r2 /= 64
        insn(LSH64_K, 2, 0, 0, 3),           // r2 *= 8
        insn(ADD64_X, 3, 2, 0, 0),           // r3 = &bitmap[fd / 64]
        insn(MOV64_X, 1, 10, 0, 0),          // r1 = stack
        insn(ADD64_K, 1, 0, 0, -(record as i32) - 8), // r1 -= 40
        insn(MOV64_K, 2, 0, 0, 8),           // r2 = 8
        insn(CALL, 0, 0, 0, BPF_FUNC_PROBE_READ_KERNEL), // stack[-40] = bitmap word
        insn(LDX_DW, 1, 10, -record - 8, 0), // r1 = the word
        insn(LDX_W, 2, 6, CTX_FD, 0),        // r2 = fd
        insn(AND64_K, 2, 0, 0, 63),          // r2 %= 64
        insn(RSH64_X, 1, 2, 0, 0),           // r1 >>= r2
        insn(AND64_K, 1, 0, 0, 1),           // r1 = close-on-exec bit
        insn(LSH64_K, 1, 0, 0, O_CLOEXEC_SHIFT), // r1 = O_CLOEXEC or 0
        insn(LDX_W, 2, 10, -record + 12, 0), // r2 = flags
        insn(OR64_X, 2, 1, 0, 0),            // r2 |= r1
        insn(STX_W, 10, 2, -record + 12, 0), // stack[-20] = flags
    ];
    for_each_file(o, body, FILE_RECORD, Vec::new())
}

/// A program for the iterator: with r6 = ctx, r7 = the file, r8 = the
/// task and r1 = the file's inode (a file, task or inode missing: return),
/// `body` fills the `record` bytes below the stack top, which are then
/// written to the iterator's output, and `after` runs. A jump with an
/// offset of 0 returns 0.
pub(super) fn for_each_file(
    o: &Offsets,
    body: Vec<[u8; 8]>,
    record: usize,
    after: Vec<[u8; 8]>,
) -> Vec<[u8; 8]> {
    let mut program = vec![
        insn(MOV64_X, 6, 1, 0, 0),           // r6 = ctx
        insn(LDX_DW, 7, 6, CTX_FILE, 0),     // r7 = ctx->file
        insn(JEQ_K, 7, 0, 0, 0),             // if !file: out
        insn(LDX_DW, 8, 6, CTX_TASK, 0),     // r8 = ctx->task
        insn(JEQ_K, 8, 0, 0, 0),             // if !task: out
        insn(LDX_DW, 1, 7, o.file_inode, 0), // r1 = file->f_inode
        insn(JEQ_K, 1, 0, 0, 0),             // if !inode: out
    ];
    program.extend(body);
    program.extend([
        insn(LDX_DW, 1, 6, CTX_META, 0),          // r1 = ctx->meta
        insn(LDX_DW, 1, 1, 0, 0),                 // r1 = meta->seq
        insn(MOV64_X, 2, 10, 0, 0),               // r2 = stack
        insn(ADD64_K, 2, 0, 0, -(record as i32)), // r2 -= record
        insn(MOV64_K, 3, 0, 0, record as i32),    // r3 = record
        insn(CALL, 0, 0, 0, BPF_FUNC_SEQ_WRITE),  // bpf_seq_write(seq, r2, r3)
    ]);
    program.extend(after);
    ending_in_return(program)
}

/// `body`, its jumps of offset 0 pointed at a closing `return 0`.
fn ending_in_return(body: Vec<[u8; 8]>) -> Vec<[u8; 8]> {
    let out = body.len() as i16;
    let mut program: Vec<[u8; 8]> = body
        .into_iter()
        .enumerate()
        .map(|(at, mut i)| {
            let to_out = i[2] == 0 && i[3] == 0;
            if to_out && matches!(i[0], JEQ_K | JNE_K | JGT_K | JA) {
                i[2..4].copy_from_slice(&(out - at as i16 - 1).to_le_bytes());
            }
            i
        })
        .collect();
    program.push(insn(MOV64_K, 0, 0, 0, 0)); // return 0
    program.push(insn(EXIT, 0, 0, 0, 0));
    program
}

fn bpf(cmd: libc::c_long, attr: &mut [u8]) -> Option<OwnedFd> {
    // SAFETY: bpf(2) with an attribute buffer we own, of the given size.
    let fd = unsafe { libc::syscall(libc::SYS_bpf, cmd, attr.as_mut_ptr(), attr.len()) };
    if fd < 0 {
        return None;
    }
    // SAFETY: bpf(2) returned a fresh descriptor that we now own.
    Some(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

fn put(attr: &mut [u8], at: usize, bytes: &[u8]) {
    attr[at..at + bytes.len()].copy_from_slice(bytes);
}

/// The iterator program, loaded (verified) once.
pub struct Program(OwnedFd);

impl Program {
    pub fn load(o: &Offsets, reports: Reports) -> Option<Program> {
        let (code, name): (Vec<u8>, &[u8]) = match reports {
            Reports::Sockets => (socket_instructions(o).concat(), b"rlsof_sockets"),
            Reports::Files => (file_instructions(o).concat(), b"rlsof_files"),
            Reports::Described(s) => (
                super::sockets::instructions(o, s).concat(),
                b"rlsof_described",
            ),
        };
        let license = c"GPL";
        let mut load = [0u8; 128];
        put(&mut load, 0, &BPF_PROG_TYPE_TRACING.to_ne_bytes());
        put(&mut load, 4, &((code.len() / 8) as u32).to_ne_bytes());
        put(&mut load, 8, &(code.as_ptr() as u64).to_ne_bytes());
        put(&mut load, 16, &(license.as_ptr() as u64).to_ne_bytes());
        put(&mut load, 48, name);
        put(&mut load, 68, &BPF_TRACE_ITER.to_ne_bytes());
        put(&mut load, 108, &o.iter_func.to_ne_bytes());
        bpf(BPF_PROG_LOAD, &mut load).map(Program)
    }

    /// Runs the program over the open files of process `pid` (its
    /// threads' too), or of every process; the sockets it reports.
    pub fn sockets_of(&self, pid: Option<u32>) -> Option<Vec<HeldSocket>> {
        let bytes = self.output_over(pid)?;
        Some(bytes.chunks_exact(RECORD).map(record).collect())
    }

    /// Everything the program writes over the open files of process
    /// `pid` (or of every process), read to the end.
    pub fn output_over(&self, pid: Option<u32>) -> Option<Vec<u8>> {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut &self.iterate(pid)?.file, &mut bytes).ok()?;
        Some(bytes)
    }

    /// An iteration of the program over the open files of process `pid`,
    /// or of every process in PID order, to be read as it goes.
    pub fn iterate(&self, pid: Option<u32>) -> Option<Iteration> {
        // union bpf_iter_link_info, its `task` member: tid, pid, pid_fd.
        let mut task = [0u8; 16];
        put(&mut task, 4, &pid.unwrap_or(0).to_ne_bytes());
        let mut link_attr = [0u8; 64];
        put(
            &mut link_attr,
            0,
            &(self.0.as_raw_fd() as u32).to_ne_bytes(),
        );
        put(&mut link_attr, 8, &BPF_TRACE_ITER.to_ne_bytes());
        if pid.is_some() {
            put(&mut link_attr, 16, &(task.as_ptr() as u64).to_ne_bytes());
            put(&mut link_attr, 24, &(task.len() as u32).to_ne_bytes());
        }
        let link = bpf(BPF_LINK_CREATE, &mut link_attr)?;
        let mut iter_attr = [0u8; 8];
        put(&mut iter_attr, 0, &(link.as_raw_fd() as u32).to_ne_bytes());
        let file = std::fs::File::from(bpf(BPF_ITER_CREATE, &mut iter_attr)?);
        Some(Iteration { file, _link: link })
    }
}

/// A running iteration: reading `file` runs the program further.
pub struct Iteration {
    pub file: std::fs::File,
    _link: OwnedFd,
}

/// The socket a record written by the socket program (RECORD bytes)
/// tells of.
pub fn record(r: &[u8]) -> HeldSocket {
    HeldSocket {
        pid: word(r, 0) as i32,
        fd: word(r, 4),
        inode: long(r, 8),
    }
}

/// The file a record written by the every-file program (FILE_RECORD
/// bytes) tells of, when the descriptor table it was found in is the
/// process's own (tid == tgid), not a thread's with a table of its own.
pub fn file_record(r: &[u8]) -> Option<KernelFile> {
    (word(r, 0) == word(r, 4)).then(|| KernelFile {
        fd: word(r, 8),
        flags: word(r, 12),
        inode: long(r, 16),
        pos: long(r, 24) as i64,
    })
}

pub(super) fn word(r: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes([r[at], r[at + 1], r[at + 2], r[at + 3]])
}

pub(super) fn long(r: &[u8], at: usize) -> u64 {
    u64::from(word(r, at)) | (u64::from(word(r, at + 4)) << 32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_running_kernel_has_what_the_iterator_needs() {
        if std::path::Path::new("/sys/kernel/btf/vmlinux").exists() {
            assert!(Offsets::of_running_kernel().is_some());
        }
    }

    #[test]
    fn every_jump_lands_on_the_return() {
        let o = Offsets {
            file_inode: 32,
            file_pos: 40,
            file_flags: 48,
            inode_mode: 0,
            inode_ino: 64,
            task_tgid: 1000,
            task_pid: 1004,
            task_files: 1008,
            files_fdt: 32,
            fdtable_close_on_exec: 16,
            iter_func: 1,
        };
        for program in [socket_instructions(&o), file_instructions(&o)] {
            let out = program.len() - 2;
            for (at, i) in program.iter().enumerate() {
                if i[0] == JEQ_K || i[0] == JNE_K {
                    let off = i16::from_le_bytes([i[2], i[3]]) as usize;
                    assert_eq!(at + 1 + off, out);
                }
            }
            assert_eq!(program[out][0], MOV64_K);
            assert_eq!(program[out + 1][0], EXIT);
        }
    }
}
