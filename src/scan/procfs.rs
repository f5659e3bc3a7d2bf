//! Thin, allocation-free wrappers over the system calls the scan is built
//! on: everything is relative to an open directory, so a process directory
//! is opened once and a recycled PID cannot mix two processes.

use std::ffi::CStr;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::Path;

/// An open directory under /proc.
#[derive(Debug)]
pub struct Dir(OwnedFd);

impl Dir {
    pub fn open_path(path: &Path) -> io::Result<Dir> {
        let c = path_cstring(path)?;
        open_dir_at(libc::AT_FDCWD, &c).map(Dir)
    }

    pub fn open(&self, name: &CStr) -> io::Result<Dir> {
        open_dir_at(self.0.as_raw_fd(), name).map(Dir)
    }

    pub fn raw(&self) -> RawFd {
        self.0.as_raw_fd()
    }

    /// `readlinkat` into `buf` (cleared first); the link text, raw bytes.
    pub fn readlink(&self, name: &CStr, buf: &mut Vec<u8>) -> io::Result<()> {
        buf.clear();
        let mut cap = 256usize;
        loop {
            buf.reserve(cap);
            let n = unsafe {
                libc::readlinkat(
                    self.raw(),
                    name.as_ptr(),
                    buf.as_mut_ptr() as *mut libc::c_char,
                    buf.capacity(),
                )
            };
            if n < 0 {
                return Err(io::Error::last_os_error());
            }
            let n = n as usize;
            if n < buf.capacity() {
                unsafe { buf.set_len(n) };
                return Ok(());
            }
            cap = buf.capacity() * 2;
            if cap > 1 << 20 {
                return Err(io::Error::from_raw_os_error(libc::ENAMETOOLONG));
            }
        }
    }

    /// `fstatat`, following the link unless `nofollow`.
    pub fn stat(&self, name: &CStr, nofollow: bool) -> io::Result<libc::stat> {
        let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
        let flags = if nofollow {
            libc::AT_SYMLINK_NOFOLLOW
        } else {
            0
        };
        let rc = unsafe { libc::fstatat(self.raw(), name.as_ptr(), st.as_mut_ptr(), flags) };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(unsafe { st.assume_init() })
    }

    /// `fstat` of the directory itself.
    pub fn stat_self(&self) -> io::Result<libc::stat> {
        let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
        let rc = unsafe { libc::fstat(self.raw(), st.as_mut_ptr()) };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(unsafe { st.assume_init() })
    }

    /// Reads a whole (small, /proc) file into `buf`, cleared first.
    pub fn read_file(&self, name: &CStr, buf: &mut Vec<u8>) -> io::Result<()> {
        buf.clear();
        let fd = unsafe {
            libc::openat(
                self.raw(),
                name.as_ptr(),
                libc::O_RDONLY | libc::O_CLOEXEC | libc::O_NOCTTY,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let file = unsafe { OwnedFd::from_raw_fd(fd) };
        read_to_end(file.as_raw_fd(), buf)
    }

    /// Reads a file the kernel produces as one record (`stat`, `fdinfo/N`)
    /// into `buf`, cleared first. Such a file comes whole in one read when
    /// the buffer is large enough, so a short read is the end, and the
    /// read that would return 0 is saved.
    pub fn read_record(&self, name: &CStr, buf: &mut Vec<u8>) -> io::Result<()> {
        buf.clear();
        buf.reserve(RECORD_BUFFER);
        let fd = unsafe {
            libc::openat(
                self.raw(),
                name.as_ptr(),
                libc::O_RDONLY | libc::O_CLOEXEC | libc::O_NOCTTY,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let file = unsafe { OwnedFd::from_raw_fd(fd) };
        loop {
            let spare = buf.capacity() - buf.len();
            let n = read_some(file.as_raw_fd(), buf)?;
            if n < spare {
                return Ok(());
            }
            buf.reserve(buf.capacity());
        }
    }

    /// Names of the entries, calling `each` with every name but `.`/`..`.
    pub fn for_each_entry(&self, mut each: impl FnMut(&CStr)) -> io::Result<()> {
        // fdopendir takes ownership of the descriptor, so give it a copy.
        let dup = unsafe { libc::fcntl(self.raw(), libc::F_DUPFD_CLOEXEC, 0) };
        if dup < 0 {
            return Err(io::Error::last_os_error());
        }
        let dirp = unsafe { libc::fdopendir(dup) };
        if dirp.is_null() {
            let e = io::Error::last_os_error();
            unsafe { libc::close(dup) };
            return Err(e);
        }
        unsafe { libc::rewinddir(dirp) };
        loop {
            let ent = unsafe { libc::readdir64(dirp) };
            if ent.is_null() {
                break;
            }
            let name = unsafe { CStr::from_ptr((*ent).d_name.as_ptr()) };
            let b = name.to_bytes();
            if b == b"." || b == b".." {
                continue;
            }
            each(name);
        }
        unsafe { libc::closedir(dirp) };
        Ok(())
    }
}

fn open_dir_at(at: RawFd, name: &CStr) -> io::Result<OwnedFd> {
    let fd = unsafe {
        libc::openat(
            at,
            name.as_ptr(),
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Room for a typical record file in one read.
const RECORD_BUFFER: usize = 4096;

fn read_to_end(fd: RawFd, buf: &mut Vec<u8>) -> io::Result<()> {
    loop {
        if buf.capacity() - buf.len() < 1024 {
            buf.reserve(4096);
        }
        if read_some(fd, buf)? == 0 {
            return Ok(());
        }
    }
}

/// One `read` into the spare capacity of `buf`; the bytes read.
fn read_some(fd: RawFd, buf: &mut Vec<u8>) -> io::Result<usize> {
    loop {
        let spare = buf.capacity() - buf.len();
        let n = unsafe {
            libc::read(
                fd,
                buf.as_mut_ptr().add(buf.len()) as *mut libc::c_void,
                spare,
            )
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        let n = n as usize;
        unsafe { buf.set_len(buf.len() + n) };
        return Ok(n);
    }
}

pub fn path_cstring(path: &Path) -> io::Result<std::ffi::CString> {
    use std::os::unix::ffi::OsStrExt;
    std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
}

/// Decimal digits of `n` as a C string, in a reusable buffer.
pub fn number_cstr(n: u64, buf: &mut Vec<u8>) -> &CStr {
    buf.clear();
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    let mut rest = n;
    loop {
        start -= 1;
        digits[start] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    buf.extend_from_slice(&digits[start..]);
    buf.push(0);
    // Digits and one trailing NUL: always a valid C string.
    CStr::from_bytes_with_nul(buf).unwrap_or(c".")
}

/// Parses a whole byte string as a decimal number (no sign, no spaces).
pub fn parse_decimal(b: &[u8]) -> Option<u64> {
    if b.is_empty() || b.len() > 19 {
        return None;
    }
    let mut n = 0u64;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        n = n * 10 + (c - b'0') as u64;
    }
    Some(n)
}

pub fn errno_text(e: &io::Error) -> String {
    // lsof prints strerror(errno); io::Error's Display appends " (os error N)".
    match e.raw_os_error() {
        Some(code) => unsafe {
            let p = libc::strerror(code);
            if p.is_null() {
                format!("errno {code}")
            } else {
                CStr::from_ptr(p).to_string_lossy().into_owned()
            }
        },
        None => e.to_string(),
    }
}
