//! Random selections (proptest, which shrinks a failure to its smallest
//! command line and files): building and applying them never panics, and
//! neither the scan's early skip (`fd_may_be_listed`) nor the kernel
//! listing's filter (`listing_filter`) drops a file that the full test
//! would list.

use super::{Selection, UserSel};
use crate::cli::options::{Item, UserSpec};
use crate::model::{Dev, FdName, FileType, OpenFile};
use crate::scan::process::Header;
use crate::scan::stat::StatLine;
use proptest::prelude::*;
use proptest::sample::select;
use std::ffi::OsString;

const PIECES: &[&str] = &[
    "-a",
    "-d",
    "0-3",
    "^1",
    "cwd,txt",
    "^mem,^DEL",
    "NOFD",
    "fd",
    "-c",
    "py",
    "^py",
    "/^s/i",
    "/x(/",
    "/a+/b",
    "-p",
    "10",
    "^10,11",
    "-g",
    "5",
    "-u",
    "0",
    "^7",
    "+L",
    "1",
    "3",
    "-L",
    "-N",
    "-K",
    "i",
    "-w",
    "-Q",
    "-V",
    "-x",
    "fl",
    "-t",
    "-i",
    "-U",
];

fn header() -> impl Strategy<Value = Header> {
    let commands: &[&str] = &["python3", "sleep", "sh", "", "s\u{7f}x"];
    (9..13i32, any::<bool>(), 0..9u32, select(commands), 4..7i32).prop_map(
        |(pid, thread, uid, command, pgid)| Header {
            pid,
            tid: thread.then_some(20),
            uid,
            stat: StatLine {
                command: command.as_bytes().to_vec(),
                state: b'S',
                ppid: 1,
                pgid,
            },
        },
    )
}

fn fd() -> impl Strategy<Value = FdName> {
    prop_oneof![
        Just(FdName::Cwd),
        Just(FdName::Rtd),
        Just(FdName::Txt),
        Just(FdName::Mem),
        Just(FdName::Del),
        Just(FdName::NoFd),
        (0..6u32).prop_map(FdName::Num),
    ]
}

/// A file with one of a few devices, inodes and link counts, some unknown.
fn file(fd: FdName) -> impl Strategy<Value = OpenFile> {
    (
        any::<bool>(),
        proptest::option::of(0..3u64),
        0..5u64,
        proptest::option::of(0..3u64),
    )
        .prop_map(move |(unix, dev, inode, nlink)| OpenFile {
            fd: Some(fd),
            file_type: Some(if unix { FileType::Unix } else { FileType::Reg }),
            dev: dev.map(Dev::from_raw),
            inode: Some(inode),
            nlink,
            ..Default::default()
        })
}

fn process_and_file() -> impl Strategy<Value = (Header, OpenFile)> {
    (header(), fd().prop_flat_map(file))
}

fn users_of(opts: &crate::cli::options::Options) -> Vec<Item<UserSel>> {
    opts.users
        .iter()
        .map(|u| Item {
            value: UserSel {
                spec: u.value.clone(),
                uid: match u.value {
                    UserSpec::Uid(uid) => uid,
                    UserSpec::Name(_) => 0,
                },
            },
            excluded: u.excluded,
        })
        .collect()
}

/// Whether the kernel's listing, filtering with `filter`, lets `file`
/// through (descriptors only: it lists no other file).
fn kept_by(filter: &crate::scan::ListingFilter, file: &OpenFile) -> bool {
    let Some(FdName::Num(n)) = file.fd else {
        return true;
    };
    let socket = file.file_type.as_ref().is_some_and(|t| t.is_socket());
    let linked = |below: u32| file.nlink.is_some_and(|links| links >= u64::from(below));
    (socket || !filter.sockets_only)
        && !filter.nlink_below.is_some_and(linked)
        && filter.fds.is_none_or(|(low, high)| low <= n && n <= high)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3_000))]

    #[test]
    fn random_selections_apply_without_panics_and_skip_safely(
        args in proptest::collection::vec(select(PIECES), 0..7),
        files in proptest::collection::vec(process_and_file(), 20),
    ) {
        let args: Vec<OsString> = args.into_iter().map(OsString::from).collect();
        let Ok(opts) = crate::cli::parse(args) else {
            return Ok(());
        };
        let sel = Selection::new(&opts, users_of(&opts));
        let filter = sel.listing_filter();
        for (header, mut file) in files {
            let Some(flags) = sel.process(&header) else {
                continue;
            };
            let fd = file.fd.expect("every file has a descriptor");
            if sel.file(flags, &mut file) {
                prop_assert!(
                    sel.fd_may_be_listed(flags, fd),
                    "early skip dropped a listed file: {:?} {:?}", opts, fd
                );
                prop_assert!(
                    kept_by(&filter, &file),
                    "the kernel's filter {:?} dropped a listed file: {:?} {:?}", filter, opts, file
                );
            }
        }
        let _ = sel.all_found();
        let _ = super::report::not_found(&sel);
    }
}
