//! Random command lines made of option-like pieces: parsing must never
//! panic or loop, and errors must look like lsof's.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

use super::parse;
use crate::test_random::Random;

const PIECES: &[&str] = &[
    "-",
    "+",
    "--",
    "++",
    "-a",
    "-b",
    "-c",
    "+c",
    "-d",
    "+d",
    "+D",
    "-D",
    "-e",
    "+e",
    "-E",
    "+E",
    "-f",
    "+f",
    "-F",
    "-F?",
    "-g",
    "-h",
    "-H",
    "-i",
    "-i4",
    "-i6",
    "-j",
    "-J",
    "-K",
    "-l",
    "-L",
    "+L",
    "-m",
    "+m",
    "-M",
    "-n",
    "-N",
    "-o",
    "-O",
    "-p",
    "-P",
    "-Q",
    "-r",
    "+r",
    "-R",
    "-s",
    "-S",
    "-t",
    "-T",
    "+T",
    "-u",
    "-U",
    "-v",
    "-V",
    "-w",
    "+w",
    "-x",
    "-X",
    "-Z",
    "-z",
    "-:",
    "1",
    "0",
    "^1",
    "1,2",
    "1-3",
    "3-1",
    ",",
    "^",
    "x",
    "i",
    "fl",
    "gG",
    "tcp:",
    "TCP:LISTEN",
    "udp:x",
    "@",
    "@[::1]",
    ":80",
    "tcp@1.2.3.4:1-2",
    ":ssh-1",
    "/a/",
    "/a(/",
    "/x/bix",
    "m%H",
    "5c3m%n",
    "?",
    "0",
    "fqs",
    "--deleted",
    "--recover",
    "1:2",
    "--recover-all",
    "--to",
    "/tmp",
    "--to=/x",
    "--recover=3:4",
    "--help",
    "--version",
    "--delted",
    "--d",
    "-nPl",
    "-o3t",
    "-r5x",
    "",
    "\u{e9}",
    "a b",
];

fn random_argument(random: &mut Random) -> OsString {
    match random.below(10) {
        0 => {
            let len = random.below(6);
            let bytes: Vec<u8> = (0..len).map(|_| random.next() as u8).collect();
            OsString::from_vec(bytes)
        }
        1 => {
            let a = PIECES[random.below(PIECES.len())];
            let b = PIECES[random.below(PIECES.len())];
            OsString::from(format!("{a}{b}"))
        }
        _ => OsString::from(PIECES[random.below(PIECES.len())]),
    }
}

#[test]
fn random_command_lines_never_panic() {
    let mut random = Random(0x9e37_79b9_7f4a_7c15);
    for _ in 0..20_000 {
        let count = random.below(7);
        let args: Vec<OsString> = (0..count).map(|_| random_argument(&mut random)).collect();
        match parse(args.clone()) {
            Err(e) => {
                assert_eq!(e.status, 1, "{args:?}");
                assert!(e.message.ends_with('\n'), "{args:?}");
                assert!(e.message.contains(" usage: "), "{args:?}: {}", e.message);
            }
            Ok(opts) => {
                assert!(opts.notices.iter().all(|n| n.ends_with('\n')), "{args:?}");
                let informs = opts.help || opts.version || opts.field_help;
                assert_eq!(informs, !opts.info_message.is_empty(), "{args:?}");
            }
        }
    }
}
