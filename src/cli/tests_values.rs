//! The value forms: lists (`-p -g -d -u -c -s`), `-i` addresses and
//! rlsof's long options.

use std::ffi::OsString;
use std::net::IpAddr;

use super::options::*;
use super::tests::{err, first_line, names, ok};

fn item<T>(value: T, excluded: bool) -> Item<T> {
    Item { value, excluded }
}

#[test]
fn pids_with_exclusions() {
    let opts = ok(&["-p", "1,^2", "-p3"]);
    assert_eq!(opts.pids, [item(1, false), item(2, true), item(3, false)]);
}

#[test]
fn pids_empty_item_is_zero() {
    assert_eq!(ok(&["-p", ","]).pids, [item(0, false)]);
    assert!(ok(&["-p", ""]).pids.is_empty());
}

#[test]
fn pids_bad() {
    assert_eq!(first_line(&["-p", "1,x"]), "lsof: illegal process ID: 1,x");
    assert_eq!(first_line(&["-p"]), "lsof: no process ID specified");
    assert_eq!(
        first_line(&["-p", "1", "-p", "^1"]),
        "lsof: PID 1 has been included and excluded."
    );
}

#[test]
fn pgids_optional_list() {
    let opts = ok(&["-g"]);
    assert!(opts.show_pgid && opts.pgids.is_empty());
    assert_eq!(ok(&["-g", "^5"]).pgids, [item(5, true)]);
    assert!(ok(&["-g", "-n"]).no_host_names);
    assert_eq!(
        first_line(&["-g", "x"]),
        "lsof: illegal process group ID: x"
    );
}

#[test]
fn fds_numbers_ranges_names() {
    let opts = ok(&["-d", "0-2,cwd,5,fd"]);
    assert_eq!(
        opts.fds,
        [
            item(FdSpec::Range(0, 2), false),
            item(FdSpec::Name("cwd".into()), false),
            item(FdSpec::Range(5, 5), false),
            item(FdSpec::Range(0, i32::MAX as u32), false),
        ]
    );
    assert_eq!(ok(&["-d", "^mem,^1"]).fds.len(), 2);
}

#[test]
fn fds_bad() {
    assert_eq!(first_line(&["-d"]), "lsof: no file descriptor specified");
    assert_eq!(
        first_line(&["-d", "3-1"]),
        "lsof: -d FD range's low >= its high: 3-1"
    );
    assert_eq!(
        first_line(&["-d", "x-1"]),
        "lsof: non-digit in -d FD range: x-1"
    );
    assert_eq!(
        first_line(&["-d", "-1"]),
        "lsof: illegal FD range for -d: -1"
    );
    assert_eq!(
        first_line(&["-d", "1,^2"]),
        "lsof: exclude in an include -d list: ^2"
    );
}

#[test]
fn fds_mixed_list_is_silent_without_warnings() {
    let e = err(&["-w", "-d", "1,^2"]);
    assert!(e.message.starts_with("lsof 4.95.0\n"));
}

#[test]
fn users_names_and_uids() {
    let opts = ok(&["-u", "root,^1000,^"]);
    assert_eq!(
        opts.users,
        [
            item(UserSpec::Name("root".into()), false),
            item(UserSpec::Uid(1000), true),
            item(UserSpec::Uid(0), true),
        ]
    );
}

#[test]
fn users_bad() {
    assert_eq!(first_line(&["-u"]), "lsof: no UIDs specified");
    assert_eq!(
        first_line(&["-u", "0,^0"]),
        "lsof: UID 0 has been included and excluded."
    );
    let long = "a".repeat(33);
    assert_eq!(
        first_line(&["-u", &format!("^{long}")]),
        format!("lsof: -u login name > 32 characters: ^{}", &long[..32])
    );
}

#[test]
fn users_conflicts_after_a_name_wait_for_the_names() {
    // `^root` may be UID 0: lsof reports both conflicts, in order, once
    // names are resolved (app), so the parser keeps every item.
    let opts = ok(&["-u", "0,^root,^0"]);
    assert_eq!(
        opts.users,
        [
            item(UserSpec::Uid(0), false),
            item(UserSpec::Name("root".into()), true),
            item(UserSpec::Uid(0), true),
        ]
    );
}

#[test]
fn command_prefixes() {
    let opts = ok(&["-c", "bash", "-c^sshd"]);
    assert_eq!(
        opts.commands,
        [
            item(CommandSpec::Prefix(b"bash".to_vec()), false),
            item(CommandSpec::Prefix(b"sshd".to_vec()), true),
        ]
    );
}

#[test]
fn command_bad() {
    assert_eq!(first_line(&["-c"]), "lsof: missing -c option value");
    assert_eq!(first_line(&["-c", "-n"]), "lsof: missing -c option value");
    assert_eq!(
        first_line(&["-c", "a b c d e f g h i"]),
        "lsof: \"-c a\\x20b\\x20c\\x20d\\x20e\\x20f\\x20g\\x20h\\x20i\" length (17) > what system provides (15)"
    );
    assert_eq!(
        first_line(&["-c", "^x", "-c", "x"]),
        "lsof: -c^x and -cx conflict."
    );
}

#[test]
fn command_width() {
    assert_eq!(ok(&["+c", "15"]).command_width, 15);
    assert_eq!(ok(&["+c0"]).command_width, 0);
    assert_eq!(
        first_line(&["+c", "20"]),
        "lsof: +c 20 > what system provides (15)"
    );
    assert_eq!(
        first_line(&["+c", "x"]),
        "lsof: +c not followed by width number"
    );
}

#[test]
fn command_width_refuses_option() {
    let e = err(&["+c", "-n"]);
    assert!(e
        .message
        .starts_with("lsof: +c not followed by width number\nlsof 4.95.0"));
}

#[test]
fn command_regex() {
    let opts = ok(&["-c", "/^ba.h$/i"]);
    let [Item {
        value:
            CommandSpec::Regex {
                pattern,
                modifiers,
                compiled,
            },
        excluded: false,
    }] = &opts.commands[..]
    else {
        panic!("{:?}", opts.commands);
    };
    assert_eq!((pattern.as_str(), modifiers.as_str()), ("^ba.h$", "i"));
    assert!(compiled.is_match(b"BASH"));
}

#[test]
fn command_regex_bad() {
    assert_eq!(
        first_line(&["-c", "/ab"]),
        "lsof: regexp doesn't end with '/': /ab"
    );
    assert_eq!(
        first_line(&["-c", "/a/q"]),
        "lsof: invalid regexp modifier: q"
    );
    assert_eq!(
        first_line(&["-c", "/a/bx"]),
        "lsof: b and x regexp modifiers conflict: /a/bx"
    );
    assert_eq!(
        first_line(&["-c", "/a/ii"]),
        "lsof: i regexp modifier already used: /a/ii"
    );
    assert_eq!(
        first_line(&["-c", "/ab(/"]),
        "lsof: regexp error: /ab(/: Unmatched ( or \\("
    );
}

#[test]
fn tcp_states() {
    let opts = ok(&["-s", "tcp:listen,^Established"]);
    assert_eq!(
        opts.states,
        [StateSpec {
            protocol: "TCP".into(),
            states: vec![
                item("LISTEN".into(), false),
                item("ESTABLISHED".into(), true)
            ],
        }]
    );
}

#[test]
fn tcp_state_conflicts_in_lsof_order() {
    // From lsof 4.95: its state table is in state-number order, CLOSED (0)
    // first.
    let e = err(&["-s", "TCP:listen,^listen,closed,^closed"]);
    let lines: Vec<&str> = e.message.lines().take(2).collect();
    assert_eq!(
        lines,
        [
            "lsof: can't include and exclude TCP state: CLOSED",
            "lsof: can't include and exclude TCP state: LISTEN"
        ]
    );
}

#[test]
fn tcp_states_bad() {
    assert_eq!(
        first_line(&["-s", "foo"]),
        "lsof: unknown -s protocol: \"foo\""
    );
    assert_eq!(
        first_line(&["-s", "tcp:"]),
        "lsof: no TCP state names in: tcp:"
    );
    assert_eq!(
        first_line(&["-s", "udp:x"]),
        "lsof: unknown UDP state name: x"
    );
    assert_eq!(
        first_line(&["-s", "tcp:x"]),
        "lsof: unknown TCP state name: x"
    );
    assert_eq!(
        first_line(&["-s", "tcp:,"]),
        "lsof: NULL TCP state name in: tcp:,"
    );
    assert_eq!(
        first_line(&["-s", "tcp:listen,listen"]),
        "lsof: duplicate TCP inclusion: listen"
    );
    assert_eq!(
        first_line(&["-s", "tcp:listen,^listen"]),
        "lsof: can't include and exclude TCP state: LISTEN"
    );
}

#[test]
fn inet_alone_and_versions() {
    let opts = ok(&["-i"]);
    assert!(opts.inet_selected && opts.inet_family.is_none());
    assert_eq!(ok(&["-i4"]).inet_family, Some(4));
    assert_eq!(ok(&["-i4", "-i6"]).inet_family, None);
    assert!(ok(&["-i", "-n"]).no_host_names);
}

#[test]
fn inet_full_spec() {
    let opts = ok(&["-i", "4TCP@10.0.0.1:22,80-90,ssh,1-http"]);
    let spec = &opts.inet[0];
    assert_eq!(spec.family, Some(4));
    assert_eq!(spec.protocol.as_deref(), Some("TCP"));
    assert_eq!(spec.addr, Some(IpAddr::from([10, 0, 0, 1])));
    assert_eq!(
        spec.ports,
        [
            PortSpec::Range(22, 22),
            PortSpec::Range(80, 90),
            PortSpec::Service("ssh".into()),
            PortSpec::RangeToService(1, "http".into()),
        ]
    );
}

#[test]
fn inet_list_errors_after_a_service_wait_for_its_lookup() {
    // lsof looks `a` up before it reads the empty item: an unknown `a` is
    // the error it reports.
    let opts = ok(&["-i", ":a,,b"]);
    assert_eq!(
        opts.inet[0].ports,
        [
            PortSpec::Service("a".into()),
            PortSpec::Unparsable("invalid service name:".into()),
        ]
    );
    assert_eq!(
        first_line(&["-i", ":1,,a"]),
        "lsof: invalid service name: -i :1,,a"
    );
}

#[test]
fn inet_hosts_and_ipv6() {
    let opts = ok(&[
        "-i",
        "@example.com:443",
        "-i",
        "@[::1]",
        "-i",
        "@[::ffff:1.2.3.4]",
    ]);
    assert_eq!(opts.inet[0].host.as_deref(), Some("example.com"));
    assert_eq!(
        opts.inet[1].addr,
        Some("::1".parse().unwrap_or(IpAddr::from([0; 4])))
    );
    assert_eq!(opts.inet[2].addr, Some(IpAddr::from([1, 2, 3, 4])));
}

#[test]
fn inet_family_carries_over_from_i4() {
    let opts = ok(&["-i4", "-i", ":80"]);
    assert_eq!(opts.inet[0].family, Some(4));
}

#[test]
fn inet_bad() {
    let cases: &[(&[&str], &str)] = &[
        (&["-i", "bad"], "unknown protocol name (bad) in: -i bad"),
        (&["-i", "tcp@"], "unacceptable Internet address in: -i tcp@"),
        (&["-i", ":"], "unacceptable port specification in: -i :"),
        (
            &["-i", ":5-1"],
            "unacceptable port specification in: -i :5-1",
        ),
        (&["-i", ":1,,2"], "invalid service name: -i :1,,2"),
        (
            &["-i", "6@1.2.3.4"],
            "IPv4 addresses are prohibited: -i 6@1.2.3.4",
        ),
        (
            &["-i", "4@[::1]"],
            "IPv6 addresses are prohibited: -i 4@[::1]",
        ),
        (
            &["-i", "@[::]"],
            "unacceptable Internet address in: -i @[::]",
        ),
        (
            &["-i", ""],
            "incomplete Internet address specification: -i ",
        ),
        (
            &["-i", "@0.0.0.0"],
            "incomplete Internet address specification: -i @0.0.0.0",
        ),
    ];
    for (args, message) in cases {
        assert_eq!(first_line(args), format!("lsof: {message}"), "{args:?}");
    }
}

#[test]
fn long_deleted() {
    assert_eq!(ok(&["--deleted"]).feature, Some(Feature::DeletedReport));
    let opts = ok(&["-p", "1", "--deleted", "-n", "file"]);
    assert!(opts.no_host_names && opts.feature.is_some());
    assert_eq!(opts.names, [OsString::from("file")]);
}

#[test]
fn long_recover() {
    let opts = ok(&["--recover", "12:3", "--to", "/tmp/out"]);
    assert_eq!(
        opts.feature,
        Some(Feature::Recover {
            pid: 12,
            fd: 3,
            to: "/tmp/out".into(),
            force: false,
        })
    );
    let opts = ok(&["--recover", "12:3", "--force", "--to", "/tmp/out"]);
    assert!(matches!(
        opts.feature,
        Some(Feature::Recover { force: true, .. })
    ));
    let opts = ok(&["--recover=12:3", "--to=/x"]);
    assert!(matches!(
        opts.feature,
        Some(Feature::Recover { pid: 12, .. })
    ));
}

#[test]
fn long_recover_all() {
    let opts = ok(&["--recover-all", "--to", "/d"]);
    assert_eq!(
        opts.feature,
        Some(Feature::RecoverAll {
            to: "/d".into(),
            force: false
        })
    );
    // Selections apply to --recover-all.
    let opts = ok(&[
        "-p",
        "1",
        "-a",
        "-c",
        "x",
        "--recover-all",
        "--to",
        "/d",
        "f",
    ]);
    assert!(opts.feature.is_some() && opts.and);
}

#[test]
fn long_bad() {
    assert_eq!(
        first_line(&["--recover", "x"]),
        "lsof: --recover needs PID:FD, not \"x\""
    );
    assert_eq!(
        first_line(&["--recover", "1:2"]),
        "lsof: --recover needs --to PATH"
    );
    assert_eq!(
        first_line(&["--to", "/x"]),
        "lsof: --to goes only with --recover or --recover-all"
    );
    assert_eq!(
        first_line(&["--deleted", "--recover-all", "--to", "/x"]),
        "lsof: --deleted, --recover and --recover-all are mutually exclusive"
    );
    assert_eq!(
        first_line(&["--deleted=1"]),
        "lsof: --deleted takes no value"
    );
    assert_eq!(
        first_line(&["--force", "--deleted"]),
        "lsof: --force goes only with --recover or --recover-all"
    );
}

/// `--to ""` is one error, not two.
#[test]
fn long_empty_to_is_one_error() {
    for args in [
        &["--recover", "1:2", "--to", ""][..],
        &["--recover", "1:2", "--to="][..],
        &["--recover-all", "--to", ""][..],
    ] {
        let e = err(args);
        assert_eq!(e.status, 1);
        let lines: Vec<&str> = e
            .message
            .lines()
            .filter(|l| l.starts_with("lsof:"))
            .collect();
        assert_eq!(
            lines,
            ["lsof: --to needs a path, not an empty string"],
            "{args:?}"
        );
    }
}

/// Options that do not apply to the long options are refused, status 1.
#[test]
fn long_options_refuse_what_does_not_apply() {
    let cases: &[(&[&str], &str)] = &[
        (&["--deleted", "-F", "pcfn"], "--deleted prints its own report and does not take -F (field output) (-J gives its report as JSON)"),
        (&["--deleted", "-t"], "--deleted prints its own report and does not take -t (PIDs only) (-J gives its report as JSON)"),
        (&["--deleted", "-r1"], "--deleted prints its own report and does not take -r/+r (repeat mode) (-J gives its report as JSON)"),
        (&["+r", "--deleted"], "--deleted prints its own report and does not take -r/+r (repeat mode) (-J gives its report as JSON)"),
        (&["--recover-all", "--to", "/d", "-J"], "--recover-all prints its own report and does not take -J/-j (JSON output)"),
        (&["--recover", "1:2", "--to", "/d", "-F"], "--recover prints its own report and does not take -F (field output)"),
    ];
    for (args, message) in cases {
        let e = err(args);
        assert_eq!(e.status, 1, "{args:?}");
        assert_eq!(first_line(args), format!("lsof: {message}"), "{args:?}");
    }
    for args in [
        &["--recover", "1:2", "--to", "/d", "NAME"][..],
        &["-p", "3", "--recover", "1:2", "--to", "/d"][..],
        &["--recover", "1:2", "--to", "/d", "-u", "root"][..],
        &["--recover", "1:2", "--to", "/d", "-c", "x"][..],
    ] {
        assert_eq!(err(args).status, 1, "{args:?}");
        assert!(
            first_line(args).starts_with("lsof: --recover PID:FD names its file itself"),
            "{args:?}"
        );
    }
    // What applies keeps working.
    for args in [
        &["--deleted", "-J"][..],
        &["--deleted", "-j"][..],
        &["--deleted", "-u", "root", "-a", "-p", "1"][..],
        &["--deleted", "-c", "x", "NAME"][..],
        &["-l", "--deleted"][..],
    ] {
        assert!(ok(args).feature.is_some(), "{args:?}");
    }
}

#[test]
fn long_option_as_value_stays_a_value() {
    assert_eq!(
        first_line(&["-p", "--deleted"]),
        "lsof: illegal process ID: --deleted"
    );
}

#[test]
fn misspelt_long_option_is_named() {
    assert_eq!(first_line(&["--delted"]), "lsof: unknown option --delted");
    assert_eq!(
        first_line(&["--to=x", "--nope=1"]),
        "lsof: unknown option --nope"
    );
    let e = err(&["-p", "1", "--delted"]);
    assert!(
        e.message.contains(" usage: ") && e.status == 1,
        "{}",
        e.message
    );
}

/// Short of a word, lsof's reading letter by letter stays (`-` is its
/// illegal option character); `--` alone and `-` are lsof's too.
#[test]
fn dash_dash_and_one_letter_parse_as_lsof_does() {
    assert_eq!(first_line(&["--n"]), "lsof: illegal option character: -");
    assert_eq!(first_line(&["--2"]), "lsof: illegal option character: -");
    assert_eq!(first_line(&["---x"]), "lsof: illegal option character: -");
    assert_eq!(names(&ok(&["--", "--delted"])), ["--delted"]);
    assert_eq!(names(&ok(&["-", "--delted"])), ["-", "--delted"]);
}

#[test]
fn help_and_version_answer_whatever_else_is_given() {
    for args in [
        &["--help"][..],
        &["-p", "x", "--help", "-Z"],
        &["--help", "--version"],
    ] {
        let opts = ok(args);
        assert!(opts.long_info.starts_with("usage: rlsof "), "{args:?}");
        assert!(opts.long_info.contains("  -c c: command c"), "{args:?}");
        assert!(opts.long_info.contains("  --recover PID:FD "), "{args:?}");
    }
    let version = ok(&["--version", "--help"]).long_info;
    assert_eq!(version, format!("{}\n", crate::build_info::version_line()));
    assert!(ok(&["-n"]).long_info.is_empty());
}

#[test]
fn later_messages() {
    use super::lookup_messages::*;
    assert_eq!(
        unknown_login("nobody\n"),
        "lsof: can't get UID for nobody\\n\n"
    );
    assert_eq!(
        unknown_host("h", "@h:1"),
        "lsof: unknown host name (h) in: -i @h:1\n"
    );
    assert_eq!(
        unknown_service("x", Some("tcp"), "tcp:x"),
        "lsof: unknown service x for tcp in: -i tcp:x\n"
    );
    let e = super::usage_error(&unknown_login("x"));
    assert!(e
        .message
        .starts_with("lsof: can't get UID for x\nlsof 4.95.0\n"));
    assert!(e.message.ends_with("information.\n") && e.status == 1);
}
