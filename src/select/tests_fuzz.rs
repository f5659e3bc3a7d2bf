//! Random selections: building and applying them never panics, and the
//! scan's early skip (`fd_may_be_listed`) never drops a file that the full
//! test would list.

use super::{Selection, UserSel};
use crate::cli::options::{Item, UserSpec};
use crate::model::{Dev, FdName, FileType, OpenFile};
use crate::scan::process::Header;
use crate::scan::stat::StatLine;
use crate::test_random::Random;
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
];

fn random_header(r: &mut Random) -> Header {
    let commands = ["python3", "sleep", "sh", "", "s\u{7f}x"];
    Header {
        pid: 9 + r.below(4) as i32,
        tid: (r.below(3) == 0).then_some(20),
        uid: r.below(9) as u32,
        stat: StatLine {
            command: r.pick(&commands).as_bytes().to_vec(),
            state: b'S',
            ppid: 1,
            pgid: 4 + r.below(3) as i32,
        },
    }
}

fn random_fd(r: &mut Random) -> FdName {
    match r.below(8) {
        0 => FdName::Cwd,
        1 => FdName::Rtd,
        2 => FdName::Txt,
        3 => FdName::Mem,
        4 => FdName::Del,
        5 => FdName::NoFd,
        _ => FdName::Num(r.below(6) as u32),
    }
}

fn random_file(r: &mut Random, fd: FdName) -> OpenFile {
    OpenFile {
        fd: Some(fd),
        file_type: Some(if r.below(4) == 0 {
            FileType::Unix
        } else {
            FileType::Reg
        }),
        dev: (r.below(5) != 0).then(|| Dev::from_raw(r.below(3) as u64)),
        inode: Some(r.below(5) as u64),
        nlink: (r.below(3) != 0).then(|| r.below(3) as u64),
        ..Default::default()
    }
}

#[test]
fn random_selections_apply_without_panics_and_skip_safely() {
    let mut r = Random(0x5e1e_c710_u64);
    for _ in 0..3000 {
        let n = r.below(7);
        let args: Vec<OsString> = (0..n).map(|_| OsString::from(r.pick(PIECES))).collect();
        let Ok(opts) = crate::cli::parse(args) else {
            continue;
        };
        let users: Vec<Item<UserSel>> = opts
            .users
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
            .collect();
        let sel = Selection::new(&opts, users);
        for _ in 0..20 {
            let header = random_header(&mut r);
            let Some(flags) = sel.process(&header) else {
                continue;
            };
            let fd = random_fd(&mut r);
            let mut file = random_file(&mut r, fd);
            let listed = sel.file(flags, &mut file);
            if listed {
                assert!(
                    sel.fd_may_be_listed(flags, fd),
                    "early skip dropped a listed file: {opts:?} {fd:?}"
                );
            }
        }
        let _ = sel.all_found();
        let _ = super::report::not_found(&sel);
    }
}
