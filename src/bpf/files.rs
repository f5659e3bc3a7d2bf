//! Each open file's position and open flags as the kernel holds them
//! (`struct file`'s `f_pos` and `f_flags`), for a process at a time: what
//! `/proc/PID/fdinfo/N` prints on its first two lines, which costs three
//! system calls per descriptor (open, read, close) where the iterator
//! makes none. The flags include close-on-exec, kept
//! in the descriptor table rather than in the file, as fdinfo shows them.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use super::debug::say;
use super::program::{file_record, Program, Reports, FILE_RECORD};
use super::KernelFile;

/// The every-file program, loaded and checked.
pub struct FilesProgram(Program);

impl FilesProgram {
    /// None when the kernel cannot run it (see `crate::bpf`), or when it
    /// does not report a probe file of ours at the position written.
    pub fn load() -> Option<FilesProgram> {
        let program = FilesProgram::load_checked();
        match program {
            Some(_) => say(format_args!(
                "descriptor flags and positions: the kernel (rlsof_files)"
            )),
            None => say(format_args!(
                "descriptor flags and positions: /proc fdinfo (no program)"
            )),
        }
        program
    }

    fn load_checked() -> Option<FilesProgram> {
        let program = FilesProgram(Program::load(Reports::Files)?);
        if let Err(why) = program.0.iterates_by_process() {
            say(format_args!("rlsof_files: {why}"));
            return None;
        }
        let (probe, n) = written_probe_file()?;
        let raw = probe.as_raw_fd();
        // A second descriptor of it without close-on-exec.
        // SAFETY: fcntl duplicating our own descriptor; checked below.
        let plain = unsafe { libc::fcntl(raw, libc::F_DUPFD, 0) };
        if plain < 0 {
            return None;
        }
        // SAFETY: `plain` is a fresh descriptor we own.
        let plain = unsafe { OwnedFd::from_raw_fd(plain) };
        let inode = super::inode_of(&probe)?;
        let Some(mine) = program.files_of(std::process::id() as i32) else {
            say(format_args!("rlsof_files: no iteration over our own files"));
            return None;
        };
        let seen = |fd: &OwnedFd| mine.iter().find(|f| f.fd == fd.as_raw_fd() as u32).copied();
        let (with, without) = (seen(&probe)?, seen(&plain)?);
        let cloexec = libc::O_CLOEXEC as u32;
        let right = with.inode == inode
            && with.pos == n as i64
            && with.flags & libc::O_ACCMODE as u32 == libc::O_RDWR as u32
            && with.flags & cloexec != 0
            && without.flags == with.flags & !cloexec;
        if !right {
            say(format_args!(
                "rlsof_files: our probe file not reported as it is"
            ));
        }
        right.then_some(program)
    }

    /// The descriptors of process `pid`'s own table (not those of a thread
    /// with a table of its own), by descriptor number; None when the
    /// kernel could not be asked.
    pub fn files_of(&self, pid: i32) -> Option<Vec<KernelFile>> {
        let mut files: Vec<KernelFile> = self.0.output_over(Some(pid as u32), |bytes| {
            Some(
                bytes
                    .chunks_exact(FILE_RECORD)
                    // Only the process asked about (see `Program::sockets_of`).
                    .filter(|r| super::program::word(r, 0) == pid as u32)
                    .filter_map(file_record)
                    .collect(),
            )
        })?;
        files.sort_unstable_by_key(|f| f.fd);
        Some(files)
    }
}

/// A file of our own (close-on-exec, in memory) with a few bytes written,
/// for a program's load-time check; and its position after them.
pub(super) fn written_probe_file() -> Option<(OwnedFd, isize)> {
    // SAFETY: memfd_create with a NUL-terminated name; checked below.
    let raw = unsafe { libc::memfd_create(c"rlsof-probe".as_ptr(), libc::MFD_CLOEXEC) };
    if raw < 0 {
        return None;
    }
    // SAFETY: `raw` is a fresh descriptor we own.
    let probe = unsafe { OwnedFd::from_raw_fd(raw) };
    let written = b"rlsof probe";
    // SAFETY: writes our own buffer to our own descriptor.
    let n = unsafe { libc::write(raw, written.as_ptr().cast(), written.len()) };
    (n == written.len() as isize).then_some((probe, n))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Seek, SeekFrom, Write};

    #[test]
    fn reports_our_files_with_their_positions_when_the_kernel_lets_it() {
        let Some(program) = FilesProgram::load() else {
            crate::test_need::program_did_not_load("rlsof_files");
            return;
        };
        let path = std::env::temp_dir().join(format!("rlsof-files-{}", std::process::id()));
        let mut file = std::fs::File::create(&path).expect("create");
        file.write_all(&[0; 100]).expect("write");
        file.seek(SeekFrom::Start(42)).expect("seek");
        let inode = std::os::unix::fs::MetadataExt::ino(&file.metadata().expect("stat"));
        let files = program.files_of(std::process::id() as i32).expect("files");
        let _ = std::fs::remove_file(&path);
        let ours = files
            .iter()
            .find(|f| f.fd == file.as_raw_fd() as u32)
            .expect("our file reported");
        assert_eq!((ours.inode, ours.pos), (inode, 42));
        assert_eq!(ours.flags & libc::O_ACCMODE as u32, libc::O_WRONLY as u32);
        assert_ne!(
            ours.flags & libc::O_CLOEXEC as u32,
            0,
            "std opens with O_CLOEXEC"
        );
        assert!(files.windows(2).all(|w| w[0].fd < w[1].fd));
        assert!(program.files_of(i32::MAX).is_none_or(|f| f.is_empty()));
    }
}
