//! Thin, allocation-free wrappers over the system calls the scan is built
//! on: everything is relative to an open directory, so a process directory
//! is opened once and a recycled PID cannot mix two processes.

use std::ffi::CStr;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::Path;

/// An open directory under /proc.
#[derive(Debug)]
pub(crate) struct Dir(OwnedFd);

impl Dir {
    pub(crate) fn open_path(path: &Path) -> io::Result<Dir> {
        let c = path_cstring(path)?;
        open_dir_at(libc::AT_FDCWD, &c).map(Dir)
    }

    pub(crate) fn open(&self, name: &CStr) -> io::Result<Dir> {
        open_dir_at(self.0.as_raw_fd(), name).map(Dir)
    }

    pub(crate) fn raw(&self) -> RawFd {
        self.0.as_raw_fd()
    }

    /// Whether the directory is on the kernel's proc file system.
    pub(crate) fn is_procfs(&self) -> bool {
        // SAFETY: all-zero is a valid statfs (plain integers).
        let mut fs: libc::statfs = unsafe { std::mem::zeroed() };
        // SAFETY: fstatfs writes into `fs`, for a descriptor we own.
        let done = unsafe { libc::fstatfs(self.raw(), &mut fs) };
        done == 0 && fs.f_type == libc::PROC_SUPER_MAGIC
    }

    /// `readlinkat` into `buf` (cleared first); the link text, raw bytes.
    pub(crate) fn readlink(&self, name: &CStr, buf: &mut Vec<u8>) -> io::Result<()> {
        buf.clear();
        let mut cap = 256usize;
        loop {
            buf.reserve(cap);
            // SAFETY: `name` is NUL-terminated; readlinkat writes at most
            // `capacity` bytes into the buffer's allocation.
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
                // SAFETY: readlinkat initialised the first n bytes.
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
    pub(crate) fn stat(&self, name: &CStr, nofollow: bool) -> io::Result<libc::stat> {
        let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
        let flags = if nofollow {
            libc::AT_SYMLINK_NOFOLLOW
        } else {
            0
        };
        // SAFETY: `name` is NUL-terminated and `st` a valid out pointer.
        let rc = unsafe { libc::fstatat(self.raw(), name.as_ptr(), st.as_mut_ptr(), flags) };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fstatat succeeded, so it filled `st`.
        Ok(unsafe { st.assume_init() })
    }

    /// `fstat` of the directory itself.
    pub(crate) fn stat_self(&self) -> io::Result<libc::stat> {
        let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
        // SAFETY: `st` is a valid out pointer, for a descriptor we own.
        let rc = unsafe { libc::fstat(self.raw(), st.as_mut_ptr()) };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fstat succeeded, so it filled `st`.
        Ok(unsafe { st.assume_init() })
    }

    /// Opens a file under this directory for reading.
    fn open_file(&self, name: &CStr) -> io::Result<OwnedFd> {
        // SAFETY: `name` is NUL-terminated; openat only reads it.
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
        // SAFETY: openat returned a new descriptor that nothing else owns.
        Ok(unsafe { OwnedFd::from_raw_fd(fd) })
    }

    /// Reads a whole (small, /proc) file into `buf`, cleared first.
    pub(crate) fn read_file(&self, name: &CStr, buf: &mut Vec<u8>) -> io::Result<()> {
        buf.clear();
        let file = self.open_file(name)?;
        read_to_end(file.as_raw_fd(), buf)
    }

    /// Reads a file the kernel produces as one record (`stat`, `fdinfo/N`)
    /// into `buf`, cleared first. Such a file comes whole in one read when
    /// the buffer is large enough, so a short read is the end, and the
    /// read that would return 0 is saved.
    pub(crate) fn read_record(&self, name: &CStr, buf: &mut Vec<u8>) -> io::Result<()> {
        buf.clear();
        buf.reserve(RECORD_BUFFER);
        let file = self.open_file(name)?;
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
    pub(crate) fn for_each_entry(&self, each: impl FnMut(&CStr)) -> io::Result<()> {
        self.for_each_entry_from(0, each)
    }

    /// The same from directory position `position` (what `telldir` would
    /// say; in `/proc/PID/fd`, descriptor N is at N + 2, so the listing
    /// can start past the descriptors already read). The directory's own
    /// position moves: don't list one `Dir` on two threads at once.
    pub(crate) fn for_each_entry_from(
        &self,
        position: u64,
        mut each: impl FnMut(&CStr),
    ) -> io::Result<()> {
        let offset = libc::off_t::try_from(position).unwrap_or(libc::off_t::MAX);
        // SAFETY: lseek on a descriptor we own.
        if unsafe { libc::lseek(self.raw(), offset, libc::SEEK_SET) } < 0 {
            return Err(io::Error::last_os_error());
        }
        // u64 words: entries are 8-byte aligned records.
        let mut buf = [0u64; 1024];
        let bytes = std::mem::size_of_val(&buf);
        loop {
            // SAFETY: the kernel writes at most `bytes` bytes into `buf`.
            let n =
                unsafe { libc::syscall(libc::SYS_getdents64, self.raw(), buf.as_mut_ptr(), bytes) };
            if n < 0 {
                return Err(io::Error::last_os_error());
            }
            if n == 0 {
                return Ok(());
            }
            // SAFETY: the first n bytes were written; u8 has no alignment.
            let data = unsafe { std::slice::from_raw_parts(buf.as_ptr().cast::<u8>(), n as usize) };
            for_each_dirent(data, &mut each);
        }
    }
}

/// The names in a `getdents64` result: records of inode (8 bytes), next
/// position (8), record length (2), type (1) and a NUL-terminated name.
fn for_each_dirent(mut data: &[u8], each: &mut impl FnMut(&CStr)) {
    const NAME_AT: usize = 19;
    while data.len() > NAME_AT {
        let length = usize::from(u16::from_ne_bytes([data[16], data[17]]));
        let Some(record) = data.get(..length).filter(|_| length > NAME_AT) else {
            return;
        };
        if let Ok(name) = CStr::from_bytes_until_nul(&record[NAME_AT..]) {
            if !matches!(name.to_bytes(), b"." | b"..") {
                each(name);
            }
        }
        data = &data[length..];
    }
}

fn open_dir_at(at: RawFd, name: &CStr) -> io::Result<OwnedFd> {
    // SAFETY: `name` is NUL-terminated; openat only reads it.
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
    // SAFETY: openat returned a new descriptor that nothing else owns.
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
        // SAFETY: the pointer is the start of the buffer's spare capacity,
        // `spare` bytes long; read writes at most that.
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
        // SAFETY: read initialised the n bytes after the old length.
        unsafe { buf.set_len(buf.len() + n) };
        return Ok(n);
    }
}

pub(crate) fn path_cstring(path: &Path) -> io::Result<std::ffi::CString> {
    use std::os::unix::ffi::OsStrExt;
    std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
}

/// Decimal digits of `n` as a C string, in a reusable buffer.
pub(crate) fn number_cstr(n: u64, buf: &mut Vec<u8>) -> &CStr {
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
pub(crate) fn parse_decimal(b: &[u8]) -> Option<u64> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn names_from(dir: &Dir, position: u64) -> Vec<String> {
        let mut names = Vec::new();
        dir.for_each_entry_from(position, |n| names.push(n.to_string_lossy().into_owned()))
            .expect("listing");
        names
    }

    #[test]
    fn lists_a_directory_whole_and_again() {
        let root = std::env::temp_dir().join(format!("rlsof-procfs-{}", std::process::id()));
        std::fs::create_dir_all(&root).expect("mkdir");
        let mut expected: Vec<String> = (0..700).map(|i| format!("entry-{i:04}")).collect();
        for name in &expected {
            std::fs::write(root.join(name), b"").expect("write");
        }
        let dir = Dir::open_path(&root).expect("open");
        assert!(!dir.is_procfs());
        for _ in 0..2 {
            let mut names = Vec::new();
            dir.for_each_entry(|n| names.push(n.to_string_lossy().into_owned()))
                .expect("listing");
            names.sort();
            expected.sort();
            assert_eq!(names, expected);
        }
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn a_descriptor_listing_starts_at_a_descriptor() {
        let files: Vec<std::fs::File> = (0..40)
            .map(|_| std::fs::File::open("/proc/self/stat").expect("open"))
            .collect();
        let high = files.last().map(|f| f.as_raw_fd()).expect("files") as u64;
        let dir = Dir::open_path(Path::new("/proc/self/fd")).expect("open");
        assert!(dir.is_procfs());
        let all = names_from(&dir, 0);
        assert!(all.contains(&"0".to_string()) && all.contains(&high.to_string()));
        let tail = names_from(&dir, high + 2);
        assert!(tail.contains(&high.to_string()));
        assert!(tail
            .iter()
            .all(|n| n.parse::<u64>().is_ok_and(|fd| fd >= high)));
        drop(files);
    }
}
