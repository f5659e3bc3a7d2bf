//! One system call that may block forever, made in a forked child that
//! writes its answer to a pipe. A call stuck in a FUSE or NFS request
//! cannot be killed until the server answers, so it must be a separate
//! process holding nothing of ours: a stuck thread would keep rlsof itself,
//! and its output pipe, alive at exit. The child makes only
//! async-signal-safe system calls (no allocation), as a fork of a
//! multi-threaded process must.

use std::ffi::CStr;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

/// The call to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Call {
    /// `fstatat(at, name, 0)`.
    Stat,
    /// `readlinkat(at, name)`.
    Readlink,
}

/// What the call returned.
pub(super) enum Answer {
    Stat(Box<libc::stat>),
    Link(Vec<u8>),
}

const PAYLOAD: usize = 4096;
/// errno (0: success), payload length, payload.
const ANSWER_LEN: usize = 8 + PAYLOAD;

/// Makes `call` in a child; None when it did not answer within `timeout`
/// (the child is killed and left to init).
pub(super) fn call_with_deadline(
    call: Call,
    at: RawFd,
    name: &CStr,
    timeout: Duration,
) -> Option<io::Result<Answer>> {
    let mut fds = [0 as RawFd; 2];
    // SAFETY: fds has room for the two descriptors.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } < 0 {
        return Some(Err(io::Error::last_os_error()));
    }
    // SAFETY: both descriptors are fresh and owned here.
    let (read_end, write_end) =
        unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    // SAFETY: the child only makes async-signal-safe system calls.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Some(Err(io::Error::last_os_error()));
    }
    if pid == 0 {
        // SAFETY: in the child; never returns.
        unsafe { child(call, at, name, write_end.as_raw_fd()) }
    }
    drop(write_end);
    let answer = read_answer(call, read_end.as_raw_fd(), timeout);
    // SAFETY: pid is our child.
    unsafe {
        if answer.is_none() {
            libc::kill(pid, libc::SIGKILL);
            libc::waitpid(pid, std::ptr::null_mut(), libc::WNOHANG);
        } else {
            libc::waitpid(pid, std::ptr::null_mut(), 0);
        }
    }
    answer
}

/// The child: keep only the directory and the pipe, call, report, exit.
///
/// # Safety
///
/// Only in the child just forked from a multi-threaded process: it makes
/// async-signal-safe system calls alone (no allocation, no locks), `name`
/// must be NUL-terminated, `at` and `pipe` open descriptors.
unsafe fn child(call: Call, at: RawFd, name: &CStr, pipe: RawFd) -> ! {
    libc::dup2(pipe, 1);
    let dir = if at == libc::AT_FDCWD {
        libc::AT_FDCWD
    } else {
        libc::dup2(at, 0);
        0
    };
    libc::close(2);
    if libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32) != 0 {
        for fd in 3..4096 {
            libc::close(fd);
        }
    }
    let mut answer = [0u8; ANSWER_LEN];
    let (ok, len) = match call {
        Call::Stat => {
            let mut st = std::mem::MaybeUninit::<libc::stat>::zeroed();
            let ok = libc::fstatat(dir, name.as_ptr(), st.as_mut_ptr(), 0) == 0;
            let len = std::mem::size_of::<libc::stat>();
            std::ptr::copy_nonoverlapping(
                st.as_ptr().cast::<u8>(),
                answer.as_mut_ptr().add(8),
                len,
            );
            (ok, len)
        }
        Call::Readlink => {
            let buf = answer.as_mut_ptr().add(8).cast();
            let n = libc::readlinkat(dir, name.as_ptr(), buf, PAYLOAD);
            (n >= 0, n.max(0) as usize)
        }
    };
    let errno: i32 = if ok { 0 } else { *libc::__errno_location() };
    answer[..4].copy_from_slice(&errno.to_ne_bytes());
    answer[4..8].copy_from_slice(&(len as u32).to_ne_bytes());
    libc::write(1, answer.as_ptr().cast(), ANSWER_LEN);
    libc::_exit(0)
}

/// Waits up to `timeout` for the child's answer.
fn read_answer(call: Call, fd: RawFd, timeout: Duration) -> Option<io::Result<Answer>> {
    let deadline = Instant::now() + timeout;
    let mut answer = vec![0u8; ANSWER_LEN];
    let mut got = 0;
    while got < ANSWER_LEN {
        let left = deadline.saturating_duration_since(Instant::now());
        let mut pfd = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = left.as_millis().min(i32::MAX as u128) as i32;
        // SAFETY: one valid pollfd.
        let rc = unsafe { libc::poll(&mut pfd, 1, ms) };
        if rc < 0 && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
            continue;
        }
        if rc <= 0 {
            return None;
        }
        // SAFETY: reading into the rest of the buffer.
        let n = unsafe { libc::read(fd, answer[got..].as_mut_ptr().cast(), ANSWER_LEN - got) };
        if n <= 0 {
            return Some(Err(io::Error::from_raw_os_error(libc::EIO)));
        }
        got += n as usize;
    }
    let errno = i32::from_ne_bytes([answer[0], answer[1], answer[2], answer[3]]);
    if errno != 0 {
        return Some(Err(io::Error::from_raw_os_error(errno)));
    }
    let len =
        (u32::from_ne_bytes([answer[4], answer[5], answer[6], answer[7]]) as usize).min(PAYLOAD);
    let payload = &answer[8..8 + len];
    Some(Ok(match call {
        Call::Readlink => Answer::Link(payload.to_vec()),
        Call::Stat => {
            let mut st = std::mem::MaybeUninit::<libc::stat>::zeroed();
            let size = std::mem::size_of::<libc::stat>().min(len);
            // SAFETY: copying at most the size of a stat buffer.
            unsafe {
                std::ptr::copy_nonoverlapping(payload.as_ptr(), st.as_mut_ptr().cast::<u8>(), size);
                Answer::Stat(Box::new(st.assume_init()))
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quick_calls_answer_within_the_deadline() {
        let r = call_with_deadline(Call::Stat, libc::AT_FDCWD, c"/", Duration::from_secs(5));
        assert!(
            matches!(r, Some(Ok(Answer::Stat(st))) if st.st_mode & libc::S_IFMT == libc::S_IFDIR)
        );
        let r = call_with_deadline(
            Call::Readlink,
            libc::AT_FDCWD,
            c"/proc/self/cwd",
            Duration::from_secs(5),
        );
        assert!(matches!(r, Some(Ok(Answer::Link(l))) if l.starts_with(b"/")));
        let r = call_with_deadline(
            Call::Stat,
            libc::AT_FDCWD,
            c"/no/such",
            Duration::from_secs(5),
        );
        assert!(matches!(r, Some(Err(e)) if e.raw_os_error() == Some(libc::ENOENT)));
    }
}
