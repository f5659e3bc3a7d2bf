//! The listing program against what `/proc` tells of the same files:
//! readlink, stat and fdinfo; and what its filter leaves in the kernel.

use super::*;
use std::io::{Seek, SeekFrom, Write};
use std::os::fd::FromRawFd;
use std::os::unix::fs::MetadataExt;

#[test]
fn reports_our_files_as_stat_and_readlink_do_when_the_kernel_lets_it() {
    let Some(program) = ListingProgram::load(ListingFilter::default()) else {
        crate::test_need::program_did_not_load("rlsof_listing");
        return;
    };
    let dir = std::env::temp_dir().join(format!("rlsof-listing-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("a file");
    let mut file = std::fs::File::create(&path).expect("create");
    file.write_all(&[7; 300]).expect("write");
    file.seek(SeekFrom::Start(42)).expect("seek");
    let deleted = dir.join("gone");
    let held = std::fs::File::create(&deleted).expect("create");
    std::fs::remove_file(&deleted).expect("unlink");
    let null = std::fs::File::open("/dev/null").expect("null");
    let meta = file.metadata().expect("stat");
    let files = program.files_of(std::process::id() as i32).expect("files");
    let _ = std::fs::remove_dir_all(&dir);
    let find = |fd: i32| files.iter().find(|f| f.fd == fd as u32).expect("listed");
    let ours = find(file.as_raw_fd());
    assert_eq!(
        ours.path.as_deref(),
        Some(path.as_os_str().as_encoded_bytes())
    );
    assert_eq!((ours.pos, ours.size), (42, 300));
    let st = ours.stat();
    assert_eq!((st.st_dev, st.st_ino), (meta.dev(), meta.ino()));
    assert_eq!(
        (st.st_mode, st.st_nlink as u64),
        (meta.mode(), meta.nlink())
    );
    let mut gone = deleted.as_os_str().as_encoded_bytes().to_vec();
    gone.extend_from_slice(b" (deleted)");
    let gone_file = find(held.as_raw_fd());
    assert_eq!(gone_file.path.as_deref(), Some(&gone[..]));
    assert_eq!(gone_file.nlink, 0);
    let dev_null = find(null.as_raw_fd());
    let null_meta = std::fs::metadata("/dev/null").expect("stat");
    assert_eq!(dev_null.stat().st_rdev, null_meta.rdev());
    assert_eq!(dev_null.path.as_deref(), Some(&b"/dev/null"[..]));
    assert!(files.windows(2).all(|w| w[0].fd < w[1].fd));
}

/// An anonymous inode's fdinfo line (`eventfd-id`, `tfd`), as /proc
/// gives it.
fn fdinfo_lines(fd: i32, key: &str) -> Vec<String> {
    let text = std::fs::read_to_string(format!("/proc/self/fdinfo/{fd}")).expect("fdinfo");
    text.lines()
        .filter(|l| l.starts_with(key))
        .map(str::to_string)
        .collect()
}

#[test]
fn tells_eventfd_ids_and_whether_an_eventpoll_watches_as_fdinfo_does() {
    let Some(program) = ListingProgram::load(ListingFilter::default()) else {
        crate::test_need::program_did_not_load("rlsof_listing");
        return;
    };
    // SAFETY: plain system calls; each result is checked, and each
    // descriptor is owned (closed) right after.
    let (event, idle, busy) = unsafe {
        (
            libc::eventfd(0, libc::EFD_CLOEXEC),
            libc::epoll_create1(libc::EPOLL_CLOEXEC),
            libc::epoll_create1(libc::EPOLL_CLOEXEC),
        )
    };
    assert!(event >= 0 && idle >= 0 && busy >= 0);
    // SAFETY: fresh descriptors of ours.
    let owned = unsafe { [event, idle, busy].map(|fd| OwnedFd::from_raw_fd(fd)) };
    let mut watch = libc::epoll_event {
        events: libc::EPOLLIN as u32,
        u64: 0,
    };
    // SAFETY: adds our eventfd to our eventpoll.
    let added = unsafe { libc::epoll_ctl(busy, libc::EPOLL_CTL_ADD, event, &mut watch) };
    assert_eq!(added, 0);
    let files = program.files_of(std::process::id() as i32).expect("files");
    let find = |fd: i32| files.iter().find(|f| f.fd == fd as u32).expect("listed");
    let id = fdinfo_lines(event, "eventfd-id:");
    assert_eq!(id.len(), 1, "{id:?}");
    let told = find(event).eventfd_id.expect("id read");
    assert_eq!(id[0].split_whitespace().nth(1), Some(&*told.to_string()));
    assert!(fdinfo_lines(idle, "tfd:").is_empty());
    assert_eq!(find(idle).epoll_watches, Some(false));
    assert_eq!(fdinfo_lines(busy, "tfd:").len(), 1);
    assert_eq!(find(busy).epoll_watches, Some(true));
    drop(owned);
}

#[test]
fn a_path_too_long_for_the_buffer_is_left_to_proc() {
    let mut bytes = vec![0u8; HEADER];
    bytes[0..4].copy_from_slice(&5u32.to_ne_bytes());
    bytes[4..8].copy_from_slice(&5u32.to_ne_bytes());
    bytes[64..68].copy_from_slice(&(-36i32).to_ne_bytes());
    let mut with_path = bytes.clone();
    with_path[64..68].copy_from_slice(&4i32.to_ne_bytes());
    with_path.extend_from_slice(b"/ab\0");
    bytes.extend_from_slice(&with_path);
    let files = parse(&bytes, 5).expect("whole");
    assert_eq!(files.len(), 2);
    assert_eq!(files[0].path, None);
    assert_eq!(files[1].path.as_deref(), Some(&b"/ab"[..]));
    assert!(parse(&bytes[..bytes.len() - 1], 5).is_none(), "cut short");
    assert_eq!(parse(&bytes, 6).expect("whole"), vec![], "another's");
}

/// A process holding, besides its standard descriptors, a file (fd 3),
/// a deleted file (fd 4) and a socket (fd 5), until killed.
struct Holder {
    child: std::process::Child,
    dir: std::path::PathBuf,
}

impl Holder {
    fn start() -> Holder {
        let dir = std::env::temp_dir().join(format!("rlsof-filter-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let script = "import os, socket, sys, time\n\
            os.closerange(3, 65536)\n\
            d = sys.argv[1]\n\
            kept = os.open(os.path.join(d, 'kept'), os.O_CREAT | os.O_WRONLY)\n\
            gone = os.open(os.path.join(d, 'gone'), os.O_CREAT | os.O_WRONLY)\n\
            os.unlink(os.path.join(d, 'gone'))\n\
            s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)\n\
            print(kept, gone, s.fileno(), flush=True)\n\
            time.sleep(120)\n";
        let mut child = std::process::Command::new("python3")
            .args(["-c", script])
            .arg(&dir)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("python3");
        let mut line = String::new();
        let out = child.stdout.take().expect("stdout");
        std::io::BufRead::read_line(&mut std::io::BufReader::new(out), &mut line).expect("ready");
        assert_eq!(line.trim(), "3 4 5", "the holder's descriptors");
        Holder { child, dir }
    }

    fn pid(&self) -> i32 {
        self.child.id() as i32
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn what_the_filter_leaves_aside_never_crosses_but_the_first_descriptor_does() {
    let holder = Holder::start();
    let cases = [
        (ListingFilter::default(), vec![0, 1, 2, 3, 4, 5]),
        (
            ListingFilter {
                sockets_only: true,
                ..Default::default()
            },
            vec![0, 5],
        ),
        (
            ListingFilter {
                nlink_below: Some(1),
                ..Default::default()
            },
            vec![0, 4],
        ),
        (
            ListingFilter {
                fds: Some((2, 3)),
                ..Default::default()
            },
            vec![0, 2, 3],
        ),
        (
            ListingFilter {
                fds: Some((1, 0)),
                ..Default::default()
            },
            vec![0],
        ),
        (
            ListingFilter {
                fds: Some((3, 4)),
                nlink_below: Some(1),
                sockets_only: false,
            },
            vec![0, 4],
        ),
    ];
    for (filter, expected) in cases {
        let Some(program) = ListingProgram::load(filter) else {
            crate::test_need::program_did_not_load("rlsof_listing");
            return;
        };
        let files = program.files_of(holder.pid()).expect("listed");
        let fds: Vec<u32> = files.iter().map(|f| f.fd).collect();
        assert_eq!(fds, expected, "{filter:?}");
        // rlsof's own descriptors are never left aside (its probe file).
        let ours = program.files_of(std::process::id() as i32).expect("ours");
        let mut probe_and_stdio = ours.iter().filter(|f| f.fd <= 2);
        assert!(
            probe_and_stdio.next().is_some(),
            "{filter:?}: our own files"
        );
    }
}
