//! Which process holds which socket, told by the kernel walking the
//! descriptor tables itself: a BPF task-file iterator, run once per
//! process (root, kernel BTF, Linux 6.1+ for the per-process filter).
//!
//! The socket a descriptor refers to is otherwise only in its
//! `/proc/PID/fd/N` link: `-i :PORT` would read the link of every
//! descriptor of the machine (a system call each) to find a few. The iterator reports, for each open socket file, the process, the
//! descriptor and the socket's inode; the caller then scans only processes
//! that hold a socket it could select, the usual way.
//!
//! Two more programs of the same kind report, for a process at a time,
//! each descriptor's position and flags (`files`), and each socket's
//! fields that the socket tables print (`sockets`: streaming outputs then
//! read no table).
//!
//! Each program is a few dozen instructions written here (`asm`), built
//! with the struct offsets and sizes of the running kernel (from its BTF)
//! and checked on files and sockets of our own when loaded. Anything that
//! fails (no privilege, no BTF, a member missing or resized, a kernel that
//! refuses the program or misreads a probe) gives None for that program
//! alone, and the caller reads `/proc` as before; `RLSOF_DEBUG=1` tells
//! which (see `debug`).
//!
//! The programs and their records are written for 64-bit little-endian
//! machines (pointers of 8 bytes, `%pK` of 16 digits, little-endian
//! immediates): elsewhere none is built (`unsupported`).

#[cfg(all(target_pointer_width = "64", target_endian = "little"))]
mod asm;
#[cfg(all(target_pointer_width = "64", target_endian = "little"))]
mod btf;
pub(crate) mod debug;
#[cfg(all(target_pointer_width = "64", target_endian = "little"))]
mod files;
mod kernel_node;
mod listed;
#[cfg(all(target_pointer_width = "64", target_endian = "little"))]
mod listing;
#[cfg(all(target_pointer_width = "64", target_endian = "little"))]
mod mappings;
#[cfg(all(target_pointer_width = "64", target_endian = "little"))]
mod probe;
#[cfg(all(target_pointer_width = "64", target_endian = "little"))]
mod program;
#[cfg(all(target_pointer_width = "64", target_endian = "little"))]
mod socket_layout;
#[cfg(all(target_pointer_width = "64", target_endian = "little"))]
mod sockets;
#[cfg(all(target_pointer_width = "64", target_endian = "little"))]
mod stream;
#[cfg(all(target_pointer_width = "64", target_endian = "little"))]
mod task_files;
#[cfg(not(all(target_pointer_width = "64", target_endian = "little")))]
mod unsupported;

#[cfg(all(target_pointer_width = "64", target_endian = "little"))]
pub use files::FilesProgram;
#[cfg(all(target_pointer_width = "64", target_endian = "little"))]
pub use listing::ListingProgram;
#[cfg(all(target_pointer_width = "64", target_endian = "little"))]
pub use mappings::MappingsProgram;
#[cfg(all(target_pointer_width = "64", target_endian = "little"))]
pub use sockets::SocketsProgram;
#[cfg(all(target_pointer_width = "64", target_endian = "little"))]
pub use stream::SocketsInPidOrder;
#[cfg(not(all(target_pointer_width = "64", target_endian = "little")))]
pub use unsupported::{held_sockets, FilesProgram, SocketsInPidOrder, SocketsProgram};

pub use kernel_node::{KernelNode, MappedFile, PathKey, ProcessFiles, TaskFiles};
pub use listed::{ListedFile, ListingFilter};
#[cfg(not(all(target_pointer_width = "64", target_endian = "little")))]
pub use unsupported::{ListingProgram, MappingsProgram};

#[cfg(all(target_pointer_width = "64", target_endian = "little"))]
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
#[cfg(all(target_pointer_width = "64", target_endian = "little"))]
use std::sync::atomic::{AtomicUsize, Ordering};

/// One open socket file of a process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeldSocket {
    /// The process (thread group) id, as the kernel's initial PID
    /// namespace numbers it.
    pub pid: i32,
    pub fd: u32,
    pub inode: u64,
}

/// One descriptor of a process's own table, as the kernel holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KernelFile {
    pub fd: u32,
    /// fdinfo's `flags:`: `f_flags`, with O_CLOEXEC when the descriptor
    /// has it.
    pub flags: u32,
    pub inode: u64,
    /// `f_pos`, as fdinfo's `pos:` prints it (signed there too).
    pub pos: i64,
}

/// One socket file of a process, as the program reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescribedSocket {
    pub fd: u32,
    pub inode: u64,
    pub raw: crate::net::raw_socket::RawSocket,
}

/// What the kernel told of the processes asked about.
#[derive(Debug, Default)]
pub struct Holdings {
    /// Every socket they hold (their threads' too).
    pub sockets: Vec<HeldSocket>,
    /// Processes the kernel could not be asked about (out of descriptors
    /// or memory): the caller must read them itself. A process gone
    /// meanwhile holds nothing and is not one of them.
    pub unknown: Vec<i32>,
}

#[cfg(all(target_pointer_width = "64", target_endian = "little"))]
/// The sockets held by processes `pids`, read on `threads` threads, or
/// None when the kernel cannot tell (see the module text). The answer is
/// checked against a socket of our own: a mismatch (e.g. rlsof in a PID
/// namespace of its own, where the kernel's numbers are not /proc's) also
/// gives None.
pub fn held_sockets(pids: &[i32], threads: usize) -> Option<Holdings> {
    let Some(program) = checked_program() else {
        debug::say(format_args!("who holds sockets: /proc (no program)"));
        return None;
    };
    debug::say(format_args!(
        "who holds sockets: the kernel (rlsof_sockets), {} processes",
        pids.len()
    ));
    // One iteration per process, spread over the threads: the kernel's
    // walk of the descriptor tables is most of the cost.
    let next = AtomicUsize::new(0);
    let each_thread = || {
        let mut held = Holdings::default();
        loop {
            let Some(&pid) = pids.get(next.fetch_add(1, Ordering::Relaxed)) else {
                return held;
            };
            match program.sockets_of(Some(pid as u32)) {
                Some(sockets) => held.sockets.extend(sockets),
                None => held.unknown.push(pid),
            }
        }
    };
    std::thread::scope(|scope| {
        let helpers: Vec<_> = (1..threads.max(1))
            .map(|_| scope.spawn(each_thread))
            .collect();
        let mut held = each_thread();
        for helper in helpers {
            let theirs = helper.join().ok()?;
            held.sockets.extend(theirs.sockets);
            held.unknown.extend(theirs.unknown);
        }
        Some(held)
    })
}

#[cfg(all(target_pointer_width = "64", target_endian = "little"))]
/// The iterator program, loaded and seen to report a socket of ours
/// under our PID: None when the kernel cannot run it or its process
/// numbers are not ours (rlsof in a PID namespace of its own).
fn checked_program() -> Option<program::Program> {
    let program = program::Program::load(program::Reports::Sockets)?;
    // SAFETY: plain socket(2); the result is checked before use.
    let raw = unsafe { libc::socket(libc::AF_UNIX, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if raw < 0 {
        return None;
    }
    // SAFETY: `raw` is a fresh descriptor we own.
    let probe = unsafe { OwnedFd::from_raw_fd(raw) };
    let me = HeldSocket {
        pid: std::process::id() as i32,
        fd: probe.as_raw_fd() as u32,
        inode: inode_of(&probe)?,
    };
    if let Err(why) = program.iterates_by_process() {
        debug::say(format_args!("rlsof_sockets: {why}"));
        return None;
    }
    let mine = program.sockets_of(Some(me.pid as u32))?;
    let right = mine.contains(&me);
    if !right {
        debug::say(format_args!(
            "rlsof_sockets: our probe socket not reported as it is"
        ));
        return None;
    }
    if let Some(release) = kernel_skipping_threads() {
        debug::say(format_args!(
            "rlsof_sockets: this kernel's iterator by process (Linux {release}) may skip a thread with a descriptor table of its own (fixed in 6.6)"
        ));
        return None;
    }
    if !reports_threads_own_tables(&program) {
        debug::say(format_args!(
            "rlsof_sockets: this kernel's iterator skips a thread with a descriptor table of its own"
        ));
        return None;
    }
    Some(program)
}

#[cfg(all(target_pointer_width = "64", target_endian = "little"))]
/// The running kernel's release when it is one whose iterator by process
/// (Linux 6.1 to 6.5) tests the thread before the one it visits for a
/// descriptor table of its own, and so skips, depending on the order of
/// the process's threads, a thread with a table of its own (fixed in 6.6,
/// "task_group_seq_get_next: fix the skip_if_dup_files check"). The probe
/// below cannot always show it: the order of our own threads decides.
fn kernel_skipping_threads() -> Option<String> {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").ok()?;
    let mut numbers = release.trim().split(['.', '-', '+']).map(str::parse::<u32>);
    let (Some(Ok(major)), Some(Ok(minor))) = (numbers.next(), numbers.next()) else {
        return None;
    };
    (major == 6 && minor < 6).then(|| format!("{major}.{minor}"))
}

#[cfg(all(target_pointer_width = "64", target_endian = "little"))]
/// Whether iterating over our process reports a socket held in a thread's
/// own descriptor table (`unshare(CLONE_FILES)`), as `-i` must find it:
/// Linux 6.1's iterator by process checks the thread before the one it
/// visits for a table of its own, and so skips the thread that follows
/// one sharing its leader's.
fn reports_threads_own_tables(program: &program::Program) -> bool {
    let (told, inode) = std::sync::mpsc::channel();
    let (done, finish) = std::sync::mpsc::channel::<()>();
    let thread = std::thread::spawn(move || {
        // SAFETY: unshare of this thread's descriptor table only, then a
        // plain socket(2) in it; both results are checked.
        let raw = unsafe {
            if libc::unshare(libc::CLONE_FILES) != 0 {
                -1
            } else {
                libc::socket(libc::AF_UNIX, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0)
            }
        };
        // SAFETY: a fresh descriptor of this thread's own table.
        let socket = (raw >= 0).then(|| unsafe { OwnedFd::from_raw_fd(raw) });
        let _ = told.send(socket.as_ref().and_then(inode_of));
        let _ = finish.recv();
    });
    let reported = match inode.recv() {
        Ok(Some(inode)) => program
            .sockets_of(Some(std::process::id()))
            .is_some_and(|held| held.iter().any(|h| h.inode == inode)),
        _ => false,
    };
    let _ = done.send(());
    let _ = thread.join();
    reported
}

#[cfg(all(target_pointer_width = "64", target_endian = "little"))]
fn inode_of(fd: &OwnedFd) -> Option<u64> {
    // SAFETY: all-zero is a valid stat (plain integers).
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: fstat writes into `st`, for a descriptor we own.
    (unsafe { libc::fstat(fd.as_raw_fd(), &mut st) } == 0).then_some(st.st_ino)
}

#[cfg(all(test, target_pointer_width = "64", target_endian = "little"))]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn finds_a_listener_of_ours_when_the_kernel_lets_it() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let me = std::process::id() as i32;
        let Some(held) = held_sockets(&[1, me, i32::MAX], 2) else {
            crate::test_need::program_did_not_load("rlsof_sockets");
            return;
        };
        assert!(held.unknown.is_empty());
        let held = held.sockets;
        assert!(held.iter().all(|h| h.pid != i32::MAX), "no such process");
        let path = format!("/proc/self/fd/{}", listener.as_raw_fd());
        let inode =
            std::os::linux::fs::MetadataExt::st_ino(&std::fs::metadata(path).expect("stat"));
        let mine = HeldSocket {
            pid: std::process::id() as i32,
            fd: listener.as_raw_fd() as u32,
            inode,
        };
        assert!(held.contains(&mine), "{} sockets, not ours", held.len());
        assert!(held.iter().all(|h| h.pid > 0 && h.inode > 0));
    }
}
