//! Copying a file's data and not its holes.
//!
//! A deleted log truncated in place, or a preallocated image, can be far
//! longer than what it occupies; writing its holes out as zeros could fill
//! the very filesystem the copy is meant to save. The copy asks the source
//! where its data is (`SEEK_DATA`/`SEEK_HOLE`), writes only that, skips
//! chunks that read as all zeros, and sets the length at the end.

use super::interrupt::Interrupts;
use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;

const CHUNK: usize = 1 << 20;

/// How a copy of the first `limit` bytes went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Extents {
    /// The copy's length: `limit`, or less when the source ended early.
    pub length: u64,
    /// Bytes read from the source's data regions.
    pub data_read: u64,
}

/// Why a copy stopped before its end.
#[derive(Debug)]
pub(super) enum Stopped {
    /// A stopping signal arrived.
    Signal(libc::c_int),
    /// Reading (`reading`) or writing failed at `at` bytes into the file.
    Failed {
        at: u64,
        reading: bool,
        error: io::Error,
    },
}

/// Copies the first `limit` bytes of `src` to the start of the empty
/// `dst`, keeping holes. `progress(position, limit)` runs after each
/// chunk; `stop` is looked at before each.
pub(super) fn copy_sparse(
    src: &File,
    dst: &File,
    limit: u64,
    stop: &Interrupts,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Extents, Stopped> {
    let mut buf = vec![0u8; CHUNK];
    let mut data_read = 0u64;
    let mut pos = 0u64;
    let mut length = limit;
    'extents: while pos < limit {
        let Some((start, end)) = next_data(src, pos, limit) else {
            break;
        };
        let mut at = start;
        while at < end {
            if let Some(signal) = stop.pending() {
                return Err(Stopped::Signal(signal));
            }
            let want = (end - at).min(CHUNK as u64) as usize;
            let n = match src.read_at(&mut buf[..want], at) {
                Ok(0) => {
                    // The file shrank under us: it ends here now.
                    length = at;
                    break 'extents;
                }
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => {
                    return Err(Stopped::Failed {
                        at,
                        reading: true,
                        error,
                    })
                }
            };
            if buf[..n].iter().any(|&b| b != 0) {
                dst.write_all_at(&buf[..n], at)
                    .map_err(|error| Stopped::Failed {
                        at,
                        reading: false,
                        error,
                    })?;
            }
            at += n as u64;
            data_read += n as u64;
            progress(at, limit);
        }
        pos = end;
    }
    if let Some(signal) = stop.pending() {
        return Err(Stopped::Signal(signal));
    }
    dst.set_len(length).map_err(|error| Stopped::Failed {
        at: length,
        reading: false,
        error,
    })?;
    progress(limit, limit);
    Ok(Extents { length, data_read })
}

/// The next data region at or after `pos`, clipped to `limit`: None when
/// only a hole (or the end) is left. A filesystem that cannot tell holes
/// from data reports everything as one region.
fn next_data(src: &File, pos: u64, limit: u64) -> Option<(u64, u64)> {
    let start = match seek(src, pos, libc::SEEK_DATA) {
        Ok(start) => start,
        Err(e) if e.raw_os_error() == Some(libc::ENXIO) => return None,
        Err(_) => return Some((pos, limit)),
    };
    if start >= limit {
        return None;
    }
    let end = seek(src, start, libc::SEEK_HOLE)
        .unwrap_or(limit)
        .min(limit);
    Some((start, end.max(start + 1)))
}

fn seek(file: &File, offset: u64, whence: libc::c_int) -> io::Result<u64> {
    let offset = libc::off_t::try_from(offset).map_err(|_| io::ErrorKind::InvalidInput)?;
    // SAFETY: lseek on a descriptor we own; it moves only our own offset.
    let at = unsafe { libc::lseek(file.as_raw_fd(), offset, whence) };
    u64::try_from(at).map_err(|_| io::Error::last_os_error())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    fn scratch(tag: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("rlsof-sparse-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn holes_stay_holes_and_bytes_match() {
        let dir = scratch("holes");
        let src_path = dir.join("src");
        let src = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&src_path)
            .unwrap();
        src.write_all_at(b"head", 0).unwrap();
        src.write_all_at(&[7u8; 5000], 8 << 20).unwrap();
        src.set_len(20 << 20).unwrap();
        let dst_path = dir.join("dst");
        let dst = File::create(&dst_path).unwrap();
        let limit = src.metadata().unwrap().len();
        let done = copy_sparse(&src, &dst, limit, &Interrupts::none(), &mut |_, _| {}).unwrap();
        assert_eq!(done.length, 20 << 20);
        assert!(done.data_read < 4 << 20, "{done:?}");
        dst.sync_all().unwrap();
        assert_eq!(
            std::fs::read(&dst_path).unwrap(),
            std::fs::read(&src_path).unwrap()
        );
        let (a, b) = (src.metadata().unwrap(), dst.metadata().unwrap());
        assert!(
            b.blocks() <= a.blocks() + 8,
            "{} > {}",
            b.blocks(),
            a.blocks()
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_pending_signal_stops_before_writing() {
        let dir = scratch("stop");
        let src_path = dir.join("src");
        std::fs::write(&src_path, vec![1u8; 3 * CHUNK]).unwrap();
        let src = File::open(&src_path).unwrap();
        let dst = File::create(dir.join("dst")).unwrap();
        let stop = Interrupts::none();
        let mut chunks = 0;
        let result = copy_sparse(&src, &dst, 3 * CHUNK as u64, &stop, &mut |_, _| {
            chunks += 1;
            stop.raise(libc::SIGINT);
        });
        assert!(matches!(result, Err(Stopped::Signal(libc::SIGINT))));
        assert_eq!(chunks, 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
