//! Every open file of a process as the kernel holds it, with the path
//! `readlink` would give: what a listing otherwise learns from
//! `/proc/PID/fd/N` (readlink), `stat` and fdinfo, three to five system
//! calls a descriptor, in one iteration a process.
//!
//! For each descriptor the program writes a header of `HEADER` bytes
//! (below) and, when `bpf_d_path` could write it in `PATH_ROOM` bytes,
//! the path (its NUL included). The fields are the inode's own
//! (`i_ino`, `i_mode`, `i_nlink`, `i_size`, `i_rdev`) and its file
//! system's (`s_dev`, `s_magic`): what `stat` reports on the file systems
//! whose `getattr` copies them (see [`ListedFile::stat`]); the caller
//! stats through `/proc` where it does not.

use std::os::fd::{AsRawFd, OwnedFd};

use super::asm::{Asm, If, Label, Width, FP, R0, R1, R2, R3, R6, R7, R8, R9};
use super::btf::Found;
use super::debug::say;
use super::listed::{GENERIC_STAT_MAGICS, REMOTE_MAGICS};
use super::program::{
    long, or_close_on_exec, seq_write, word, Program, Reports, BPF_FUNC_PROBE_READ_KERNEL,
    BPF_FUNC_SEQ_WRITE, CTX_FD, CTX_FILE, CTX_META, CTX_TASK,
};
use super::{ListedFile, ListingFilter};

/// The members the program reads besides the ones every program does.
pub(super) const STRUCTS: &[(&str, &[&str])] = &[
    (
        "inode",
        &["i_mode", "i_ino", "i_sb", "i_rdev", "i_size", "i_nlink"],
    ),
    ("super_block", &["s_dev", "s_magic"]),
    ("file", &["f_path", "f_mode"]),
    ("eventfd_ctx", &["id"]),
    ("eventpoll", &["rbr"]),
    ("bpf_iter_meta", &["seq_num"]),
];

const BPF_FUNC_D_PATH: i32 = 147;
/// tgid, tid, fd, flags (u32 each); inode number, position, size, magic
/// (u64 each); device, rdev, link count, mode (u32 each); the path's
/// length or a negative errno (i32); `f_mode` (u32); what fdinfo tells
/// of an anonymous inode (below, `anonymous`): an eventfd's id (u32), which
/// of these were read (u32: `EVENTFD_ID_READ`, `EPOLL_ROOT_READ`), an
/// eventpoll's first watched descriptor (u64, 0: it watches none).
pub(super) const HEADER: usize = 88;
pub(super) const EVENTFD_ID_READ: u32 = 1;
pub(super) const EPOLL_ROOT_READ: u32 = 2;
/// anon_inodefs's magic number (`ANON_INODE_FS_MAGIC`).
const ANON_INODE_MAGIC: u32 = 0x0904_1934;
/// The stack's 512 bytes: the header, the path, 8 bytes of scratch.
const PATH_ROOM: usize = 512 - HEADER - 8;
const AT_HEADER: i16 = -512;
const AT_PATH: i16 = AT_HEADER + HEADER as i16;

/// The listing program: r6 = ctx, r7 = the file, r8 = the task, r9 = the
/// inode; the header at the stack's bottom, the path above it.
pub(super) fn program(found: &Found, filter: ListingFilter) -> Result<Vec<u8>, String> {
    let f = |s, m| found.field(s, m);
    let mut a = Asm::new();
    let out = a.label();
    let h = AT_HEADER;
    a.mov(R6, R1);
    a.load(Width::DW, R7, R6, CTX_FILE);
    a.jump_if(If::Eq, R7, 0, out);
    a.load(Width::DW, R8, R6, CTX_TASK);
    a.jump_if(If::Eq, R8, 0, out);
    a.load_field(Width::DW, R9, R7, f("file", "f_inode")?);
    a.jump_if(If::Eq, R9, 0, out);
    if filter.filters() {
        leave_aside(&mut a, found, filter, out)?;
    }
    let fields = [
        (Width::W, R8, f("task_struct", "tgid")?, 0),
        (Width::W, R8, f("task_struct", "pid")?, 4),
        (Width::W, R7, f("file", "f_flags")?, 12),
        (Width::DW, R9, f("inode", "i_ino")?, 16),
        (Width::DW, R7, f("file", "f_pos")?, 24),
        (Width::DW, R9, f("inode", "i_size")?, 32),
        (Width::W, R9, f("inode", "i_rdev")?, 52),
        (Width::W, R9, f("inode", "i_nlink")?, 56),
        (Width::W, R7, f("file", "f_mode")?, 68),
    ];
    for (width, from, field, at) in fields {
        a.load_field(width, R3, from, field);
        a.store(width, FP, h + at, R3);
    }
    a.load(Width::W, R3, R6, CTX_FD);
    a.store(Width::W, FP, h + 8, R3);
    a.load_field(Width::H, R3, R9, f("inode", "i_mode")?);
    a.store(Width::W, FP, h + 60, R3);
    // The file system: a NULL superblock reads as zeros.
    a.load_field(Width::DW, R1, R9, f("inode", "i_sb")?);
    a.load_field(Width::DW, R3, R1, f("super_block", "s_magic")?);
    a.store(Width::DW, FP, h + 40, R3);
    a.load_field(Width::W, R3, R1, f("super_block", "s_dev")?);
    a.store(Width::W, FP, h + 48, R3);
    or_close_on_exec(&mut a, found, h + 12, -8)?;
    anonymous(&mut a, found)?;
    // The path, as readlink gives it, into the room above the header.
    let f_path = f("file", "f_path")?;
    let f_path = i32::from(a.offset_of(f_path, 16));
    a.mov(R1, R7);
    a.add_imm(R1, f_path);
    a.mov(R2, FP);
    a.add_imm(R2, i32::from(AT_PATH));
    a.mov_imm(R3, PATH_ROOM as i32);
    a.call(BPF_FUNC_D_PATH);
    a.store(Width::W, FP, h + 64, R0);
    seq_write(&mut a, h, HEADER);
    // The path's length, bounded for the verifier (an errno, negative,
    // reads as more than the room).
    a.load(Width::W, R3, FP, h + 64);
    a.jump_if(If::Eq, R3, 0, out);
    a.jump_if(If::Gt, R3, PATH_ROOM as i32, out);
    a.load(Width::DW, R1, R6, CTX_META);
    a.load(Width::DW, R1, R1, 0);
    a.mov(R2, FP);
    a.add_imm(R2, i32::from(AT_PATH));
    a.call(BPF_FUNC_SEQ_WRITE);
    a.put(out);
    a.mov_imm(R0, 0);
    a.exit();
    a.finish()
}

/// Jumps to `out` for a descriptor that `filter` leaves in the kernel.
/// Never for rlsof's own (the load check's probe file is one), nor for
/// the iteration's first (so that a process the kernel visited is told
/// from one it did not, whose listing is empty: see
/// `crate::scan::fdtable::links_readable`): both are selected in user
/// space as any other file.
fn leave_aside(
    a: &mut Asm,
    found: &Found,
    filter: ListingFilter,
    out: Label,
) -> Result<(), String> {
    let f = |s, m| found.field(s, m);
    let keep = a.label();
    a.load_field(Width::W, R3, R8, f("task_struct", "tgid")?);
    a.jump_if(If::Eq, R3, std::process::id() as i32, keep);
    a.load(Width::DW, R1, R6, CTX_META);
    a.load_field(Width::DW, R3, R1, f("bpf_iter_meta", "seq_num")?);
    a.jump_if(If::Eq, R3, 0, keep);
    if let Some((low, high)) = filter.fds {
        a.load(Width::W, R3, R6, CTX_FD);
        a.jump32_if(If::Lt, R3, low, out);
        a.jump32_if(If::Gt, R3, high, out);
    }
    if filter.sockets_only {
        a.load_field(Width::H, R3, R9, f("inode", "i_mode")?);
        a.and_imm(R3, libc::S_IFMT as i32);
        a.jump_if(If::Ne, R3, libc::S_IFSOCK as i32, out);
    }
    if let Some(below) = filter.nlink_below {
        a.load_field(Width::W, R3, R9, f("inode", "i_nlink")?);
        a.jump32_if(If::Lt, R3, below, keep);
        // Left aside only where user space would take the kernel's count
        // as stat's (ListedFile::kernel_stat); elsewhere stat decides.
        a.load_field(Width::DW, R1, R9, f("inode", "i_sb")?);
        a.load_field(Width::DW, R3, R1, f("super_block", "s_magic")?);
        a.mov(R2, R3);
        a.rsh_imm(R2, 32);
        a.jump_if(If::Ne, R2, 0, keep);
        for &magic in GENERIC_STAT_MAGICS.iter().chain(REMOTE_MAGICS) {
            a.jump32_if(If::Eq, R3, magic as u32, out);
        }
    }
    a.put(keep);
    Ok(())
}

/// What fdinfo would add to an anonymous inode's name, read from the
/// file's `private_data` as if it were an eventfd's context and an
/// eventpoll (a read that faults gives zeros), for files on anon_inodefs
/// only (the others keep zeros): the caller looks only at
/// what the file's path says it is. A kernel whose BTF lacks either
/// struct leaves its bit out of the header's mask: fdinfo tells then.
fn anonymous(a: &mut Asm, found: &Found) -> Result<(), String> {
    let h = AT_HEADER;
    let reads = [
        (
            found.field("eventfd_ctx", "id"),
            4u32,
            72i16,
            EVENTFD_ID_READ,
        ),
        (found.field("eventpoll", "rbr"), 8, 80, EPOLL_ROOT_READ),
    ];
    a.store_imm(Width::W, FP, h + 72, 0);
    a.store_imm(Width::DW, FP, h + 80, 0);
    // Eventfds and eventpolls are anonymous inodes: for any other file
    // (most) the reads are skipped, their fields left zero.
    let skip = a.label();
    a.load(Width::DW, R3, FP, h + 40);
    a.jump32_if(If::Ne, R3, ANON_INODE_MAGIC, skip);
    let mut mask = 0;
    for (field, size, at, bit) in reads {
        let Ok(field) = field else { continue };
        // Only the field's first bytes are read: `id` is an int, `rbr`
        // an rb_root_cached whose first member is the root node.
        if field.size < size {
            continue;
        }
        mask |= bit;
        a.load_field(Width::DW, R3, R7, found.field("file", "private_data")?);
        a.add_imm(R3, field.offset as i32);
        a.mov(R1, FP);
        a.add_imm(R1, i32::from(h + at));
        a.mov_imm(R2, size as i32);
        a.call(BPF_FUNC_PROBE_READ_KERNEL);
    }
    a.put(skip);
    a.store_imm(Width::W, FP, h + 76, mask as i32);
    Ok(())
}

/// The descriptors of `bytes` (the program's output over one process),
/// those of the table of process `pid` itself only; None when the output
/// is cut short.
fn parse(bytes: &[u8], pid: u32) -> Option<Vec<ListedFile>> {
    let mut files = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let h = rest.get(..HEADER)?;
        let path_len = word(h, 64) as i32;
        let carried = usize::try_from(path_len)
            .ok()
            .filter(|&n| n > 0 && n <= PATH_ROOM)
            .unwrap_or(0);
        let path = rest.get(HEADER..HEADER + carried)?;
        rest = &rest[HEADER + carried..];
        // Only the process asked about, and its own table (a thread with
        // a table of its own comes under its thread id).
        if word(h, 0) != pid || word(h, 4) != pid {
            continue;
        }
        files.push(ListedFile {
            fd: word(h, 8),
            flags: word(h, 12),
            inode: long(h, 16),
            pos: long(h, 24) as i64,
            size: long(h, 32) as i64,
            magic: long(h, 40),
            dev: word(h, 48),
            rdev: word(h, 52),
            nlink: word(h, 56),
            mode: word(h, 60),
            f_mode: word(h, 68),
            eventfd_id: (word(h, 76) & EVENTFD_ID_READ != 0).then(|| word(h, 72) as i32),
            epoll_watches: (word(h, 76) & EPOLL_ROOT_READ != 0).then(|| long(h, 80) != 0),
            path: (carried > 0).then(|| path[..carried - 1].to_vec()),
        });
    }
    Some(files)
}

/// The listing program, loaded and checked.
pub struct ListingProgram(Program);

static SHARED: std::sync::OnceLock<Option<ListingProgram>> = std::sync::OnceLock::new();

impl ListingProgram {
    /// The program, loaded once for the whole run (see [`ListingProgram::load`]):
    /// the run's one filter is the first caller's. The caller has checked
    /// that the kernel may be asked.
    pub fn shared(filter: ListingFilter) -> Option<&'static ListingProgram> {
        SHARED.get_or_init(|| ListingProgram::load(filter)).as_ref()
    }

    /// Whether [`ListingProgram::shared`] has been asked for already (and
    /// answered): asking again costs nothing.
    pub fn asked() -> bool {
        SHARED.get().is_some()
    }

    /// None when the kernel cannot run it (see `crate::bpf`), or when it
    /// does not report a probe file of ours as `stat` and `readlink` do.
    pub fn load(filter: ListingFilter) -> Option<ListingProgram> {
        let program = ListingProgram::load_checked(filter);
        match program {
            Some(_) if filter.filters() => say(format_args!(
                "descriptors: the kernel (rlsof_listing), /proc where it cannot tell; selection leaves those {filter} in the kernel"
            )),
            Some(_) => say(format_args!(
                "descriptors: the kernel (rlsof_listing), /proc where it cannot tell"
            )),
            None => say(format_args!(
                "descriptors: /proc (readlink, stat, fdinfo; no program)"
            )),
        }
        program
    }

    fn load_checked(filter: ListingFilter) -> Option<ListingProgram> {
        let program = ListingProgram(Program::load(Reports::Listing(filter))?);
        if let Err(why) = program.0.iterates_by_process() {
            say(format_args!("rlsof_listing: {why}"));
            return None;
        }
        let probe = tempfile_probe()?;
        let mine = program.files_of(std::process::id() as i32)?;
        let right = mine.iter().any(|f| probe.is_seen_as(f));
        if !right {
            say(format_args!(
                "rlsof_listing: our probe file not reported as stat and readlink tell it"
            ));
        }
        right.then_some(program)
    }

    /// The descriptors of process `pid`'s own table, by descriptor number;
    /// None when the kernel could not be asked.
    pub fn files_of(&self, pid: i32) -> Option<Vec<ListedFile>> {
        let mut files = self
            .0
            .output_over(Some(pid as u32), |bytes| parse(bytes, pid as u32))?;
        files.sort_unstable_by_key(|f| f.fd);
        Some(files)
    }
}

/// A file of ours with a known position, held open while the program is
/// checked against what stat, readlink and fdinfo say of it.
struct Probe {
    fd: OwnedFd,
    st: libc::stat,
    link: Vec<u8>,
    pos: i64,
}

fn tempfile_probe() -> Option<Probe> {
    let (fd, n) = super::files::written_probe_file()?;
    let raw = fd.as_raw_fd();
    // SAFETY: all-zero is a valid stat (plain integers).
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: fstat writes into `st`, for a descriptor we own.
    if unsafe { libc::fstat(raw, &mut st) } != 0 {
        return None;
    }
    let link = std::fs::read_link(format!("/proc/self/fd/{raw}")).ok()?;
    Some(Probe {
        fd,
        st,
        link: std::os::unix::ffi::OsStringExt::into_vec(link.into_os_string()),
        pos: n as i64,
    })
}

impl Probe {
    fn is_seen_as(&self, f: &ListedFile) -> bool {
        let st = f.stat();
        f.fd == self.fd.as_raw_fd() as u32
            && f.path.as_deref() == Some(&self.link[..])
            && f.pos == self.pos
            && f.flags & libc::O_CLOEXEC as u32 != 0
            && (st.st_dev, st.st_ino, st.st_mode, st.st_nlink, st.st_size)
                == (
                    self.st.st_dev,
                    self.st.st_ino,
                    self.st.st_mode,
                    self.st.st_nlink,
                    self.st.st_size,
                )
    }
}

#[cfg(test)]
#[path = "listing_tests.rs"]
mod tests;
