//! Random command lines made of option-like pieces (proptest, which
//! shrinks a failing line to its smallest form): parsing must never panic
//! or loop, and errors must look like lsof's.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

use super::parse;
use proptest::prelude::*;
use proptest::sample::select;

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

/// One argument: mostly a piece, sometimes two pieces run together,
/// sometimes a few arbitrary bytes.
fn argument() -> impl Strategy<Value = OsString> {
    prop_oneof![
        8 => select(PIECES).prop_map(OsString::from),
        1 => (select(PIECES), select(PIECES))
            .prop_map(|(a, b)| OsString::from(format!("{a}{b}"))),
        1 => proptest::collection::vec(any::<u8>(), 0..6).prop_map(OsString::from_vec),
    ]
}

proptest! {
    // Parsing takes microseconds: as many lines as the old generator tried.
    #![proptest_config(ProptestConfig::with_cases(20_000))]

    #[test]
    fn random_command_lines_never_panic(args in proptest::collection::vec(argument(), 0..7)) {
        match parse(args.clone()) {
            Err(e) => {
                prop_assert_eq!(e.status, 1, "{:?}", args);
                prop_assert!(e.message.ends_with('\n'), "{:?}", args);
                prop_assert!(e.message.contains(" usage: "), "{:?}: {}", args, e.message);
            }
            Ok(opts) => {
                prop_assert!(opts.notices.iter().all(|n| n.ends_with('\n')), "{:?}", args);
                let informs = opts.help || opts.version || opts.field_help;
                prop_assert_eq!(informs, !opts.info_message.is_empty(), "{:?}", args);
                // The same line parses to the same options every time.
                let again = parse(args.clone()).expect("parsed once, parses again");
                prop_assert_eq!(format!("{opts:?}"), format!("{again:?}"));
            }
        }
    }
}
