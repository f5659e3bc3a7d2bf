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

use super::asm::{Asm, If, Label, Width, FP, R0, R1, R2, R3, R4, R5, R6, R7, R8};
use super::btf::{find, BtfQuery, Found};
use super::debug::say;
use super::{HeldSocket, KernelFile};

const BPF_PROG_LOAD: libc::c_long = 5;
const BPF_LINK_CREATE: libc::c_long = 28;
const BPF_ITER_CREATE: libc::c_long = 33;
const BPF_PROG_TYPE_TRACING: u32 = 26;
const BPF_TRACE_ITER: u32 = 28;
pub(super) const BPF_FUNC_SEQ_PRINTF: i32 = 126;
pub(super) const BPF_FUNC_SEQ_WRITE: i32 = 127;
pub(super) const BPF_FUNC_PROBE_READ_KERNEL: i32 = 113;
/// O_CLOEXEC is bit 19 (0o2000000) on Linux's common architectures.
const O_CLOEXEC_SHIFT: i32 = (libc::O_CLOEXEC as u32).trailing_zeros() as i32;
pub(super) const RECORD: usize = 16;
pub(super) const FILE_RECORD: usize = 32;
/// The iterator function's context: meta, task, fd, file (8 bytes each).
pub(super) const CTX_META: i16 = 0;
pub(super) const CTX_TASK: i16 = 8;
pub(super) const CTX_FD: i16 = 16;
pub(super) const CTX_FILE: i16 = 24;
/// The functions whose BTF types the iterator programs are attached to:
/// over open files, and over mappings (`super::mappings`).
const ITERATOR: &str = "bpf_iter_task_file";
const VMA_ITERATOR: &str = "bpf_iter_task_vma";

/// The members the socket and every-file programs read.
const FILE_STRUCTS: &[(&str, &[&str])] = &[
    ("file", &["f_inode", "f_pos", "f_flags", "private_data"]),
    ("inode", &["i_mode", "i_ino"]),
    ("task_struct", &["tgid", "pid", "files"]),
    ("files_struct", &["fdt"]),
    ("fdtable", &["close_on_exec"]),
];

/// What this kernel's BTF says of every member any program reads, read
/// once per run (it is large); or why it could not be read.
pub(super) fn kernel_btf() -> Result<&'static Found, String> {
    static FOUND: std::sync::OnceLock<Result<Found, String>> = std::sync::OnceLock::new();
    FOUND
        .get_or_init(|| {
            let path = super::btf::source();
            let shown = path.display();
            let blob = std::fs::File::open(&path).map_err(|e| format!("{shown}: {e}"))?;
            // A struct read by several programs is asked for once, with
            // every member any of them reads.
            let mut merged: Vec<(&str, Vec<&str>)> = Vec::new();
            let all = FILE_STRUCTS
                .iter()
                .chain(super::sockets::STRUCTS)
                .chain(super::listing::STRUCTS)
                .chain(super::mappings::STRUCTS)
                .chain(super::task_files::STRUCTS);
            for &(strukt, members) in all {
                match merged.iter_mut().find(|(s, _)| *s == strukt) {
                    Some((_, known)) => {
                        for member in members {
                            if !known.contains(member) {
                                known.push(member);
                            }
                        }
                    }
                    None => merged.push((strukt, members.to_vec())),
                }
            }
            let structs: Vec<(&str, &[&str])> =
                merged.iter().map(|(s, m)| (*s, m.as_slice())).collect();
            let wanted = BtfQuery {
                structs: &structs,
                funcs: &[ITERATOR, VMA_ITERATOR],
            };
            find(&blob, &wanted).ok_or_else(|| format!("{shown}: not BTF, or damaged"))
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// What a program reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Reports {
    /// Each socket file: tgid, fd, inode (RECORD bytes).
    Sockets,
    /// Each open file: tgid, tid, fd, flags, inode, position
    /// (FILE_RECORD bytes).
    Files,
    /// Each socket file with what the socket tables would tell of it
    /// (see `super::sockets`).
    Described(&'static super::sockets::SocketOffsets),
    /// Each open file with its inode's fields and its path (see
    /// `super::listing`), those the filter leaves aside excepted.
    Listing(super::ListingFilter),
    /// Each mapping of a file, with its inode and what its path is made
    /// from, and the task's cwd, root and executable (see
    /// `super::mappings`).
    Mappings,
}

impl Reports {
    /// The program's name, as the kernel lists it.
    pub(super) fn name(self) -> &'static str {
        match self {
            Reports::Sockets => "rlsof_sockets",
            Reports::Files => "rlsof_files",
            Reports::Described(_) => "rlsof_described",
            Reports::Listing(_) => "rlsof_listing",
            Reports::Mappings => "rlsof_mappings",
        }
    }

    /// The iterator the program is attached to.
    fn iterator(self) -> &'static str {
        match self {
            Reports::Mappings => VMA_ITERATOR,
            _ => ITERATOR,
        }
    }

    /// The program's code for this kernel, or why it cannot be built.
    fn code(self, found: &Found) -> Result<Vec<u8>, String> {
        match self {
            Reports::Sockets => socket_program(found),
            Reports::Files => file_program(found),
            Reports::Described(s) => super::sockets::program(found, s),
            Reports::Listing(filter) => super::listing::program(found, filter),
            Reports::Mappings => super::mappings::program(found),
        }
    }
}

/// The socket program: tgid, fd, inode of each socket file.
fn socket_program(found: &Found) -> Result<Vec<u8>, String> {
    let tgid = found.field("task_struct", "tgid")?;
    for_each_file(
        found,
        RECORD,
        |a, inode, out| {
            only_sockets(a, found, inode, out)?;
            a.load_field(Width::DW, R3, inode, found.field("inode", "i_ino")?);
            a.store(Width::DW, FP, -8, R3); // ino
            a.load_field(Width::W, R4, R8, tgid);
            a.store(Width::W, FP, -16, R4); // tgid
            a.load(Width::W, R5, R6, CTX_FD);
            a.store(Width::W, FP, -12, R5); // fd
            Ok(())
        },
        |_, _| Ok(()),
    )
}

/// Goes to `out` unless the inode in register `inode` is a socket's.
pub(super) fn only_sockets(
    a: &mut Asm,
    found: &Found,
    inode: u8,
    out: Label,
) -> Result<(), String> {
    a.load_field(Width::H, R2, inode, found.field("inode", "i_mode")?);
    a.and_imm(R2, libc::S_IFMT as i32);
    a.jump_if(If::Ne, R2, libc::S_IFSOCK as i32, out);
    Ok(())
}

/// The every-file program: the record at stack[-32..0] is tgid, tid, fd,
/// flags (u32 each), inode number, f_pos (u64 each); the flags are
/// `f_flags` with O_CLOEXEC added from the descriptor table's bitmap, as
/// fdinfo shows them. (A load through a NULL kernel pointer gives 0, and
/// a failed read of the bitmap word zeroes it: no branch is needed.)
fn file_program(found: &Found) -> Result<Vec<u8>, String> {
    let field = |s, m| found.field(s, m);
    let (ino, pos, flags) = (
        field("inode", "i_ino")?,
        field("file", "f_pos")?,
        field("file", "f_flags")?,
    );
    let (tgid, pid) = (field("task_struct", "tgid")?, field("task_struct", "pid")?);
    let record = FILE_RECORD as i16;
    for_each_file(
        found,
        FILE_RECORD,
        |a, inode, _| {
            a.load_field(Width::DW, R3, inode, ino);
            a.store(Width::DW, FP, -16, R3);
            a.load_field(Width::DW, R3, R7, pos);
            a.store(Width::DW, FP, -8, R3);
            a.load_field(Width::W, R4, R8, tgid);
            a.store(Width::W, FP, -record, R4);
            a.load_field(Width::W, R4, R8, pid);
            a.store(Width::W, FP, -record + 4, R4);
            a.load(Width::W, R5, R6, CTX_FD);
            a.store(Width::W, FP, -record + 8, R5);
            a.load_field(Width::W, R4, R7, flags);
            a.store(Width::W, FP, -record + 12, R4);
            or_close_on_exec(a, found, -record + 12, -record - 8)
        },
        |_, _| Ok(()),
    )
}

/// ORs O_CLOEXEC into the flags (u32) at `flags_at` below the stack top
/// when the descriptor table's bitmap has the descriptor's bit, as fdinfo
/// shows the flags, with r6 = ctx and r8 = the task; `scratch_at` holds
/// the bitmap's word (a failed read zeroes it: no branch is needed).
pub(super) fn or_close_on_exec(
    a: &mut Asm,
    found: &Found,
    flags_at: i16,
    scratch_at: i16,
) -> Result<(), String> {
    a.load_field(Width::DW, R1, R8, found.field("task_struct", "files")?); // r1 = task->files
    a.load_field(Width::DW, R1, R1, found.field("files_struct", "fdt")?); // r1 = files->fdt
    a.load_field(Width::DW, R3, R1, found.field("fdtable", "close_on_exec")?); // r3 = the bitmap
    a.load(Width::W, R2, R6, CTX_FD);
    a.rsh_imm(R2, 6);
    a.lsh_imm(R2, 3);
    a.add(R3, R2); // r3 = &bitmap[fd / 64]
    a.mov(R1, FP);
    a.add_imm(R1, i32::from(scratch_at));
    a.mov_imm(R2, 8);
    a.call(BPF_FUNC_PROBE_READ_KERNEL); // the word
    a.load(Width::DW, R1, FP, scratch_at);
    a.load(Width::W, R2, R6, CTX_FD);
    a.and_imm(R2, 63);
    a.rsh(R1, R2);
    a.and_imm(R1, 1); // the close-on-exec bit
    a.lsh_imm(R1, O_CLOEXEC_SHIFT);
    a.load(Width::W, R2, FP, flags_at);
    a.or(R2, R1);
    a.store(Width::W, FP, flags_at, R2); // flags | O_CLOEXEC
    Ok(())
}

/// A program for the iterator: with r6 = ctx, r7 = the file, r8 = the
/// task and the file's inode in the register `body` is given (a file,
/// task or inode missing: return), `body` fills the `record` bytes below
/// the stack top, which are then written to the iterator's output, and
/// `after` runs. Both are given the label of the closing `return 0`.
pub(super) fn for_each_file(
    found: &Found,
    record: usize,
    body: impl FnOnce(&mut Asm, u8, Label) -> Result<(), String>,
    after: impl FnOnce(&mut Asm, Label) -> Result<(), String>,
) -> Result<Vec<u8>, String> {
    let mut a = Asm::new();
    let out = a.label();
    a.mov(R6, R1);
    a.load(Width::DW, R7, R6, CTX_FILE);
    a.jump_if(If::Eq, R7, 0, out);
    a.load(Width::DW, R8, R6, CTX_TASK);
    a.jump_if(If::Eq, R8, 0, out);
    a.load_field(Width::DW, R1, R7, found.field("file", "f_inode")?);
    a.jump_if(If::Eq, R1, 0, out);
    body(&mut a, R1, out)?;
    a.load(Width::DW, R1, R6, CTX_META);
    a.load(Width::DW, R1, R1, 0); // meta->seq
    a.mov(R2, FP);
    a.add_imm(R2, -(record as i32));
    a.mov_imm(R3, record as i32);
    a.call(BPF_FUNC_SEQ_WRITE);
    after(&mut a, out)?;
    a.put(out);
    a.mov_imm(R0, 0);
    a.exit();
    a.finish()
}

/// `union bpf_attr` for BPF_PROG_LOAD, as far as a program attached to a
/// BTF function needs (linux/bpf.h).
#[repr(C)]
#[derive(Default)]
struct ProgLoad {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
    prog_name: [u8; 16],
    prog_ifindex: u32,
    expected_attach_type: u32,
    prog_btf_fd: u32,
    func_info_rec_size: u32,
    func_info: u64,
    func_info_cnt: u32,
    line_info_rec_size: u32,
    line_info: u64,
    line_info_cnt: u32,
    attach_btf_id: u32,
    attach_prog_fd: u32,
}

/// `union bpf_attr` for BPF_LINK_CREATE, with an iterator's link info.
#[repr(C)]
#[derive(Default)]
struct LinkCreate {
    prog_fd: u32,
    target_fd: u32,
    attach_type: u32,
    flags: u32,
    iter_info: u64,
    iter_info_len: u32,
}

/// `union bpf_iter_link_info`'s `task` member (Linux 6.1): the thread or
/// process to iterate over, or neither for every task.
#[repr(C)]
#[derive(Default)]
struct IterTask {
    tid: u32,
    pid: u32,
    pid_fd: u32,
}

/// `union bpf_attr` for BPF_ITER_CREATE.
#[repr(C)]
#[derive(Default)]
struct IterCreate {
    link_fd: u32,
    flags: u32,
}

// The kernel reads these fields where linux/bpf.h puts them.
const _: () = {
    use std::mem::offset_of;
    assert!(offset_of!(ProgLoad, log_buf) == 32);
    assert!(offset_of!(ProgLoad, prog_name) == 48);
    assert!(offset_of!(ProgLoad, expected_attach_type) == 68);
    assert!(offset_of!(ProgLoad, attach_btf_id) == 108);
    assert!(offset_of!(LinkCreate, iter_info) == 16);
    assert!(offset_of!(LinkCreate, iter_info_len) == 24);
    assert!(offset_of!(IterTask, pid) == 4);
};

fn bpf<T>(cmd: libc::c_long, attr: &mut T) -> Result<OwnedFd, std::io::Error> {
    let size = std::mem::size_of::<T>();
    // SAFETY: bpf(2) with a `union bpf_attr` prefix we own, of its size;
    // the pointers it holds point to buffers alive for the call.
    let fd = unsafe { libc::syscall(libc::SYS_bpf, cmd, attr as *mut T, size) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: bpf(2) returned a fresh descriptor that we now own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// Bytes of verifier log asked for under `RLSOF_DEBUG` (a load whose log
/// would not fit fails: it is then loaded again without one).
const LOG_SIZE: usize = 1 << 20;

/// The iterator program, loaded (verified) once.
pub(super) struct Program(OwnedFd);

impl Program {
    /// The program `reports`, built for this kernel and loaded; None (and
    /// why, under `RLSOF_DEBUG`) when it cannot be.
    pub(super) fn load(reports: Reports) -> Option<Program> {
        let name = reports.name();
        let built = kernel_btf().and_then(|found| {
            let code = reports.code(found)?;
            Ok((code, found.func(reports.iterator())?))
        });
        let (code, iterator) = match built {
            Ok(built) => built,
            Err(why) => {
                say(format_args!("{name}: not built: {why}"));
                return None;
            }
        };
        let mut log = vec![0u8; if super::debug::on() { LOG_SIZE } else { 0 }];
        let mut loaded = Program::load_code(name, &code, iterator, &mut log);
        if loaded
            .as_ref()
            .is_err_and(|e| e.raw_os_error() == Some(libc::ENOSPC))
        {
            loaded = Program::load_code(name, &code, iterator, &mut []);
        }
        let log_text =
            String::from_utf8_lossy(&log[..log.iter().position(|&b| b == 0).unwrap_or(0)]);
        match loaded {
            Ok(program) => {
                let last = log_text.lines().rev().find(|l| !l.is_empty()).unwrap_or("");
                say(format_args!(
                    "{name}: loaded, {} instructions ({last})",
                    code.len() / 8
                ));
                Some(program)
            }
            Err(e) => {
                say(format_args!(
                    "{name}: refused by the kernel: {e} (attached to {}, BTF type {iterator}); verifier log:\n{log_text}",
                    reports.iterator()
                ));
                None
            }
        }
    }

    fn load_code(
        name: &str,
        code: &[u8],
        iterator: u32,
        log: &mut [u8],
    ) -> std::io::Result<Program> {
        let license = c"GPL";
        let mut prog_name = [0u8; 16];
        prog_name[..name.len().min(15)].copy_from_slice(&name.as_bytes()[..name.len().min(15)]);
        let mut attr = ProgLoad {
            prog_type: BPF_PROG_TYPE_TRACING,
            insn_cnt: (code.len() / 8) as u32,
            insns: code.as_ptr() as u64,
            license: license.as_ptr() as u64,
            prog_name,
            expected_attach_type: BPF_TRACE_ITER,
            attach_btf_id: iterator,
            ..ProgLoad::default()
        };
        if !log.is_empty() {
            attr.log_level = 1;
            attr.log_size = log.len() as u32;
            attr.log_buf = log.as_mut_ptr() as u64;
        }
        bpf(BPF_PROG_LOAD, &mut attr).map(Program)
    }

    /// Whether the kernel runs the program over one process's files (Linux
    /// 6.1 and later: 5.10 refuses the process filter, EINVAL), as every
    /// program's use needs; why not otherwise.
    pub(super) fn iterates_by_process(&self) -> Result<(), String> {
        match self.iterate(Some(std::process::id())) {
            Ok(_) => Ok(()),
            Err(e) => Err(format!("no iteration by process: {e}")),
        }
    }

    /// Runs the program over the open files of process `pid` (its
    /// threads' too), or of every process; the sockets it reports.
    pub(super) fn sockets_of(&self, pid: Option<u32>) -> Option<Vec<HeldSocket>> {
        // Only the process asked about: a kernel that ignored the filter
        // would report every process's.
        let asked = |h: &HeldSocket| pid.is_none_or(|p| h.pid as u32 == p);
        self.output_over(pid, |bytes| {
            Some(
                bytes
                    .chunks_exact(RECORD)
                    .map(record)
                    .filter(asked)
                    .collect(),
            )
        })
    }

    /// What `read` makes of everything the program writes over the open
    /// files of process `pid` (or of every process), read to the end.
    /// The bytes are read into a buffer each thread keeps from process to
    /// process: a listing runs a program over every process, and reading
    /// each output into a new vector cost as many reads as reallocations.
    pub(super) fn output_over<T>(
        &self,
        pid: Option<u32>,
        read: impl FnOnce(&[u8]) -> Option<T>,
    ) -> Option<T> {
        /// Kept between processes up to this size; a larger output (a
        /// process with tens of thousands of files) is read into a
        /// buffer given back after.
        const KEPT: usize = 1 << 20;
        thread_local! {
            static BYTES: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        let iteration = self.iterate(pid).ok()?;
        BYTES.with_borrow_mut(|bytes| {
            bytes.clear();
            bytes.reserve(64 << 10);
            let whole = std::io::Read::read_to_end(&mut &iteration.file, bytes);
            let answer = whole.ok().and_then(|_| read(bytes));
            if bytes.capacity() > KEPT {
                *bytes = Vec::new();
            }
            answer
        })
    }

    /// An iteration of the program over the open files of process `pid`,
    /// or of every process in PID order, to be read as it goes.
    pub(super) fn iterate(&self, pid: Option<u32>) -> std::io::Result<Iteration> {
        let task = IterTask {
            pid: pid.unwrap_or(0),
            ..IterTask::default()
        };
        let mut link_attr = LinkCreate {
            prog_fd: self.0.as_raw_fd() as u32,
            attach_type: BPF_TRACE_ITER,
            ..LinkCreate::default()
        };
        if pid.is_some() {
            link_attr.iter_info = &task as *const IterTask as u64;
            link_attr.iter_info_len = std::mem::size_of::<IterTask>() as u32;
        }
        let link = bpf(BPF_LINK_CREATE, &mut link_attr)?;
        let mut iter_attr = IterCreate {
            link_fd: link.as_raw_fd() as u32,
            flags: 0,
        };
        let file = std::fs::File::from(bpf(BPF_ITER_CREATE, &mut iter_attr)?);
        Ok(Iteration { file, _link: link })
    }
}

/// A running iteration: reading `file` runs the program further.
pub(super) struct Iteration {
    pub file: std::fs::File,
    _link: OwnedFd,
}

/// Writes `len` bytes of the stack from `at` to the iteration's output
/// (r6: the context; clobbers r0 to r5).
pub(super) fn seq_write(a: &mut Asm, at: i16, len: usize) {
    a.load(Width::DW, R1, R6, CTX_META);
    a.load(Width::DW, R1, R1, 0); // meta->seq
    a.mov(R2, FP);
    a.add_imm(R2, i32::from(at));
    a.mov_imm(R3, len as i32);
    a.call(BPF_FUNC_SEQ_WRITE);
}

/// The socket a record written by the socket program (RECORD bytes)
/// tells of.
pub(super) fn record(r: &[u8]) -> HeldSocket {
    HeldSocket {
        pid: word(r, 0) as i32,
        fd: word(r, 4),
        inode: long(r, 8),
    }
}

/// The file a record written by the every-file program (FILE_RECORD
/// bytes) tells of, when the descriptor table it was found in is the
/// process's own (tid == tgid), not a thread's with a table of its own.
pub(super) fn file_record(r: &[u8]) -> Option<KernelFile> {
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
            let found = kernel_btf().expect("read");
            assert!(socket_program(found).is_ok());
            assert!(file_program(found).is_ok());
        }
    }

    fn fields(close_on_exec: u32) -> Found {
        Found::made_of(
            &[
                ("file", "f_inode", 32, 8),
                ("file", "f_pos", 40, 8),
                ("file", "f_flags", 48, 4),
                ("inode", "i_mode", 0, 2),
                ("inode", "i_ino", 64, 8),
                ("task_struct", "tgid", 1000, 4),
                ("task_struct", "pid", 1004, 4),
                ("task_struct", "files", 1008, 8),
                ("files_struct", "fdt", 32, 8),
                ("fdtable", "close_on_exec", 16, close_on_exec),
            ],
            &[(ITERATOR, 1)],
        )
    }

    #[test]
    fn a_member_of_another_size_fails_only_the_program_that_reads_it() {
        let resized = fields(4);
        assert!(socket_program(&resized).is_ok());
        let why = file_program(&resized).expect_err("close_on_exec is read as u64");
        assert!(why.contains("fdtable.close_on_exec"), "{why}");
        let good = fields(8);
        let code = file_program(&good).expect("built");
        assert_eq!(code.len() % 8, 0);
        assert_eq!(
            &code[code.len() - 8..code.len() - 7],
            &[0x95],
            "ends in EXIT"
        );
    }
}
