//! Compares parse errors with the installed lsof 4.95, case by case.

use std::process::Command;

use super::parse;

const CASES: &[&[&str]] = &[
    &["-p", "notapid"],
    &["-p"],
    &["-p", ","],
    &["-p", "1,^1"],
    &["-p", "1,x"],
    &["-p", "^^1"],
    &["-g", "x"],
    &["-g", "-p", "x"],
    &["-d"],
    &["-d", ""],
    &["-d", "1,^2"],
    &["-d", "^a,1"],
    &["-d", "1-"],
    &["-d", "3-1"],
    &["-d", "-5"],
    &["-d", "x-y"],
    &["-d", "1-2-3"],
    &["-d", "^1-3,4"],
    &["-w", "-d", "1,^2"],
    &["+c", "20"],
    &["+c", "x"],
    &["+c", "-p", "1"],
    &["+c"],
    &["-c"],
    &["-c", "-n"],
    &["-c", "0123456789abcdefg"],
    &["-c", "^0123456789abcdefghij"],
    &["-c", "a b c d e f g h i"],
    &["-c", "/ab(/"],
    &["-c", "/ab/q"],
    &["-c", "/a/bb"],
    &["-c", "/a/bx"],
    &["-c", "/a/xb"],
    &["-c", "/a/ii"],
    &["-c", "/a/bbb"],
    &["-c", "/abc"],
    &["-c", "^foo", "-c", "foo"],
    &["-Z"],
    &["-Z", "foo"],
    &["-x", "q"],
    &["-x", "f"],
    &["-x"],
    &["-xfq"],
    &["-s", "foo"],
    // `-s udp:x` differs on purpose: rlsof knows UDP states (DIVERGENCES.md).
    &["-s", "udp:"],
    &["-s", "tcp:"],
    &["-s", "tcp:listen,^listen"],
    &["-s", "tcp:bogus,,x"],
    &["-s", "tcp:listen,listen"],
    &["-s", "TCP:^listen,^LISTEN"],
    &["-s", "TCP:listen,^listen,closed,^closed"],
    &["-s", "tcp:^"],
    &["-i", "bad"],
    &["-i", "tcp@"],
    &["-i", "@"],
    &["-i", ":"],
    &["-i", ":1-"],
    &["-i", ":0-"],
    &["-i", ":5-1"],
    &["-i", ":1-2-3"],
    &["-i", ":1,,2"],
    &["-i", ":,1"],
    &["-i", ":1x"],
    &["-i", "4@::1"],
    &["-i", "6@1.2.3.4"],
    &["-i", "4@[::1]"],
    &["-i", "@[::1"],
    &["-i", "@[::]"],
    &["-i", "@[zz]"],
    &["-i", "6@[::ffff:1.2.3.4]"],
    &["-i", "@0.0.0.0"],
    &["-i", ""],
    &["-h"],
    &["-?"],
    &["-F?"],
    &["-F", "?"],
    &["-F?", "-h"],
    &["+fg", "-F", "-h"],
    &["+fg", "-h"],
    &["+fG", "-h"],
    &["-FC", "-h"],
    &["-S1", "-h"],
    &["-i", "@[::1]x"],
    &["-i4", "-i", "@[::1]"],
    &["-i", "TCP@1.2.3.4:80-90,100"],
    &["-T", "z"],
    &["-T", "fqsw"],
    &["-T"],
    &["-F", "Q"],
    &["-F?x"],
    &["-F", "-t"],
    &["-t", "-F", "p"],
    &["-Fo", "-s"],
    &["-o", "-s"],
    &["-o3", "-s"],
    &["-r", "1m%n", "-F"],
    &["-r1m"],
    &["-z"],
    &["-:"],
    &["-nPlz"],
    &["-D", "x"],
    &["-K", "x"],
    &["-Kx"],
    &["-L", "3"],
    &["-L3"],
    &["-e", "foo"],
    &["-e"],
    &["-w", "-e", "foo"],
    &["-m"],
    &["-m", "x"],
    &["-k", "x"],
    &["-A", "x"],
    &["-C"],
    &["-u"],
    &["-u", "^0,0"],
    &["-u", "abcdefghijabcdefghijabcdefghijabcdefghij"],
    &["-u", "^abcdefghijabcdefghijabcdefghijabcdefghij"],
    &["+d"],
    &["+D", "-p"],
    &["-w", "+d"],
    &["+fx"],
    &["-fc"],
    &["+f", "gGq"],
    &["-a"],
    &["-a", "-p", "^1"],
    &["-a", "-Ki"],
    &["-a", "-s", "tcp:LISTEN"],
    &["-a", "-u", "^0"],
    &["-x", "q", "-h"],
    &["-F?", "-x", "q"],
    &["-v", "-x", "q"],
    &["-r", "5x"],
    &["-r5c3x"],
    &["-S", "1", "-z"],
    &["-S0", "-z"],
    &["-o3t", "-z"],
    &["-p", "1", "--", "-z"],
    &["-Sx"],
    &["-o5x"],
    &["-L3x"],
    &["+L3x"],
    &["-rc3m"],
    &["-i4", "-i", "6@1.2.3.4"],
    &["-i6", "-i", "@1.2.3.4"],
    &["-i4", "-i", "-i", "@[::1]"],
    &["-F0x"],
    &["-gx"],
    &["-K-p", "x"],
    &["-T-n", "-z"],
    &["-x-q"],
    &["+c5x", "-z"],
    &["-d", "1", "-d", "^2"],
    &["-s", "tcp:listen", "-s", "tcp:^listen"],
    &["-s", "tcp:listen", "-s", "tcp:listen"],
    &["-c", "^a", "-c", "^a", "-c", "a"],
    &["-c", "^a", "-c", "a", "-c", "b", "-c", "^b"],
    &["-u", "0", "-u", "^0"],
    &["-p", "1,2,^1"],
    &["-Z", "-p", "x"],
    &["+D", ""],
    &["-e", ""],
    &["+m", "-p", "x"],
    &["-f", "-p", "x"],
    &["-g", "1,x"],
    &["-nPlz", "-o", "-s", "-F", "-t", "-x"],
    &["-h", "-a"],
    &["-a", "-h"],
    &["-F?", "-a"],
    &["-S1", "-a"],
    &["+fg", "+fx"],
    &["-c", "a\\tb\x01cdefghijklmn"],
    &["-p", "1\x01"],
];

/// rlsof's additions to the help, taken out to compare with lsof.
fn normalize(text: &str) -> String {
    let text = text.replace("[-?abhHjJKlnNoOPRtUvVX]", "[-?abhKlnNoOPRtUvVX]");
    let text = text.replace(
        "-H human readable size     -J JSON output\n  -j JSON Lines output     -- end option scan       \n",
        "-- end option scan       \n",
    );
    // rlsof's section: its title, then a line per option.
    let Some(start) = text.find("rlsof options") else {
        return text;
    };
    let line_end = |at: usize| at + text[at..].find('\n').map_or(text.len() - at, |n| n + 1);
    let mut end = line_end(start);
    while text[end..].starts_with("  -") {
        end = line_end(end);
    }
    format!("{}{}", &text[..start], &text[end..])
}

fn lsof(args: &[&str]) -> (String, i32) {
    let output = Command::new("/usr/bin/lsof")
        .args(args)
        .output()
        .expect("run lsof");
    let status = output.status.code().unwrap_or(-1);
    (String::from_utf8_lossy(&output.stderr).into_owned(), status)
}

#[test]
fn errors_match_lsof() {
    if !std::path::Path::new("/usr/bin/lsof").exists() {
        crate::test_need::cannot_run("/usr/bin/lsof (4.95) is not installed");
        return;
    }
    let mut mismatches = Vec::new();
    for case in CASES {
        let ours = parse(case.iter().map(Into::into));
        let (text, status) = lsof(case);
        let lsof_failed_parsing = text.contains(" usage: ");
        match ours {
            Err(e) => {
                let ours = normalize(&e.message);
                if ours != text || e.status != status {
                    mismatches.push(format!(
                        "{case:?}\n--- lsof ({status})\n{text}--- rlsof ({})\n{ours}",
                        e.status
                    ));
                }
            }
            Ok(opts) if !opts.info_message.is_empty() => {
                let ours = normalize(&(opts.notices.concat() + &opts.info_message));
                if ours != text || status != 0 {
                    mismatches.push(format!("{case:?}\n--- lsof\n{text}--- rlsof\n{ours}"));
                }
            }
            Ok(_) if lsof_failed_parsing => {
                mismatches.push(format!("{case:?}: lsof failed, rlsof accepted\n{text}"));
            }
            Ok(opts) => {
                let notices = opts.notices.concat();
                if !text.starts_with(&notices) {
                    mismatches.push(format!("{case:?}: notices {notices:?} vs {text:?}"));
                }
            }
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
