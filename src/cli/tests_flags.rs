//! One test per value-taking option form: how each option takes, refuses
//! or partly takes its value.

use std::ffi::OsString;

use super::options::*;
use super::tests::{err, first_line, names, ok};

#[test]
fn flag_big_f_default_and_letters() {
    assert_eq!(
        ok(&["-F"]).output,
        Output::Fields {
            letters: String::new(),
            nul: false
        }
    );
    assert_eq!(
        ok(&["-F0"]).output,
        Output::Fields {
            letters: String::new(),
            nul: true
        }
    );
    let opts = ok(&["-Fpcn0"]);
    assert_eq!(
        opts.output,
        Output::Fields {
            letters: "pcn0".into(),
            nul: true
        }
    );
}

#[test]
fn flag_big_f_refuses_option_value() {
    let opts = ok(&["-F", "-n"]);
    assert!(opts.no_host_names);
    assert!(matches!(opts.output, Output::Fields { .. }));
}

#[test]
fn flag_big_f_unknown_field() {
    assert_eq!(first_line(&["-F", "Q"]), "lsof: unknown field: Q");
}

#[test]
fn flag_big_f_and_t_conflict() {
    assert_eq!(
        first_line(&["-F", "-t"]),
        "lsof: -F and -t are mutually exclusive"
    );
}

#[test]
fn flag_o_offset_and_digits() {
    assert_eq!(ok(&["-o"]).offset, Some(8));
    let opts = ok(&["-o3"]);
    assert_eq!((opts.offset, opts.offset_digits), (None, 3));
}

#[test]
fn flag_o_takes_digit_prefix_of_cluster() {
    let opts = ok(&["-o3t"]);
    assert_eq!(opts.offset_digits, 3);
    assert_eq!(opts.output, Output::Terse);
}

#[test]
fn flag_o_refuses_option() {
    let opts = ok(&["-o", "-p", "1"]);
    assert_eq!(opts.offset, Some(8));
    assert_eq!(opts.pids.len(), 1);
}

#[test]
fn flag_o_non_digit_value_is_a_name() {
    let opts = ok(&["-o", "file"]);
    assert_eq!(opts.offset, Some(8));
    assert_eq!(names(&opts), ["file"]);
}

#[test]
fn flag_o_and_s_conflict() {
    assert_eq!(
        first_line(&["-o", "-s"]),
        "lsof: -o and -s are mutually exclusive"
    );
}

#[test]
fn flag_s_size_only() {
    assert!(ok(&["-s"]).size_only);
}

#[test]
fn flag_s_refuses_option_value() {
    let opts = ok(&["-s", "-n"]);
    assert!(opts.size_only && opts.no_host_names);
}

#[test]
fn flag_big_s_timeout() {
    assert_eq!(ok(&["-S", "30"]).timeout_secs, 30);
    assert_eq!(ok(&["-S"]).timeout_secs, 15);
}

#[test]
fn flag_big_s_minimum_is_a_notice() {
    let opts = ok(&["-S1"]);
    assert_eq!(opts.timeout_secs, 2);
    assert_eq!(opts.notices, ["lsof: WARNING: -S time (1) changed to 2\n"]);
}

#[test]
fn flag_big_s_non_digit_is_a_name() {
    let opts = ok(&["-S", "x"]);
    assert_eq!(opts.timeout_secs, 15);
    assert_eq!(names(&opts), ["x"]);
}

#[test]
fn flag_big_t_letters() {
    let tcp = |flags, queues, state| {
        Some(TcpInfo {
            flags,
            queues,
            state,
        })
    };
    assert_eq!(ok(&["-T"]).tcp_info, tcp(false, false, false));
    assert_eq!(ok(&["+T"]).tcp_info, tcp(false, false, true));
    assert_eq!(ok(&["-Tqf"]).tcp_info, tcp(true, true, false));
    assert_eq!(ok(&[]).tcp_info, None);
}

#[test]
fn flag_big_t_bad_letter() {
    assert_eq!(
        first_line(&["-T", "z"]),
        "lsof: unsupported TCP/TPI info selection: z"
    );
}

#[test]
fn flag_big_k_tasks() {
    assert_eq!(ok(&["-K"]).tasks, Tasks::List);
    assert_eq!(ok(&["-Ki"]).tasks, Tasks::Ignore);
    assert_eq!(ok(&["-K", "I"]).tasks, Tasks::Ignore);
    assert_eq!(ok(&["-K", "-n"]).tasks, Tasks::List);
}

#[test]
fn flag_big_k_bad_value() {
    assert_eq!(
        first_line(&["-K", "x"]),
        "lsof: -K not followed by i (but by x)"
    );
}

#[test]
fn flag_big_l_link_counts() {
    assert_eq!(ok(&["+L"]).link_count, LinkCount::Show);
    assert_eq!(ok(&["+L1"]).link_count, LinkCount::Below(1));
    assert_eq!(ok(&["+L", "2"]).link_count, LinkCount::Below(2));
    assert_eq!(ok(&["+L", "-L"]).link_count, LinkCount::Off);
}

#[test]
fn flag_big_l_plus_without_number_leaves_name() {
    let opts = ok(&["+L", "file"]);
    assert_eq!(opts.link_count, LinkCount::Show);
    assert_eq!(names(&opts), ["file"]);
}

#[test]
fn flag_big_l_minus_refuses_number() {
    assert_eq!(first_line(&["-L", "3"]), "lsof: no number may follow -L");
}

#[test]
fn flag_r_repeat_forms() {
    let r = ok(&["-r"]).repeat.unwrap_or_else(|| panic!("no repeat"));
    assert_eq!((r.seconds, r.until_empty), (15, false));
    let r = ok(&["+r", "2"])
        .repeat
        .unwrap_or_else(|| panic!("no repeat"));
    assert_eq!((r.seconds, r.until_empty), (2, true));
    let r = ok(&["-r5c3m%H:%M"])
        .repeat
        .unwrap_or_else(|| panic!("no repeat"));
    assert_eq!(
        (r.seconds, r.cycles, r.marker.as_deref()),
        (5, Some(3), Some("%H:%M"))
    );
}

#[test]
fn flag_r_rest_is_read_as_options() {
    let opts = ok(&["-r1n"]);
    assert!(opts.no_host_names);
    assert_eq!(opts.repeat.map(|r| r.seconds), Some(1));
}

#[test]
fn flag_r_empty_marker() {
    assert_eq!(first_line(&["-r1m"]), "lsof: illegal <fmt>: \"\"");
}

#[test]
fn flag_r_marker_newline_with_fields() {
    assert_eq!(
        first_line(&["-r", "1m%n", "-F"]),
        "lsof: %n illegal in -r m<fmt> when -F has been specified: \"%n\""
    );
}

#[test]
fn flag_x_cross() {
    let cross = |file_systems, symlinks| {
        Some(Cross {
            file_systems,
            symlinks,
        })
    };
    assert_eq!(ok(&["+d", "/tmp", "-x"]).cross, cross(true, true));
    assert_eq!(ok(&["+D", "/tmp", "-xl"]).cross, cross(false, true));
}

#[test]
fn flag_x_needs_directory() {
    assert_eq!(first_line(&["-x", "f"]), "lsof: -x must accompany +d or +D");
}

#[test]
fn flag_x_bad_letter() {
    assert_eq!(
        first_line(&["-x", "q"]),
        "lsof: unknown cross-over option: q"
    );
}

#[test]
fn flag_f_names_mode_and_flags() {
    assert_eq!(ok(&["+f"]).file_system_names, Some(true));
    assert_eq!(ok(&["-f", "--", "x"]).file_system_names, Some(false));
    assert_eq!(ok(&["+fg"]).file_flags, Some(FlagsShown::Names));
    assert_eq!(ok(&["+fG"]).file_flags, Some(FlagsShown::Hex));
    assert_eq!(ok(&["+fg", "-fg"]).file_flags, None);
}

#[test]
fn flag_f_unknown_letter() {
    assert_eq!(first_line(&["+fx"]), "lsof: unknown file struct option: x");
}

#[test]
fn flag_e_exempt() {
    let opts = ok(&["-e", "/mnt/x/", "+e", "/nfs"]);
    assert_eq!(opts.exempt_fs, [OsString::from("/mnt/x")]);
    assert_eq!(opts.exempt_fs_literal, [OsString::from("/nfs")]);
}

#[test]
fn flag_e_needs_path() {
    assert_eq!(
        first_line(&["-e", "foo"]),
        "lsof: -e not followed by a file system path: \"foo\""
    );
    assert!(err(&["-w", "-e", "foo"])
        .message
        .starts_with("lsof 4.95.0\n"));
}

#[test]
fn flag_m_mount_supplement() {
    assert_eq!(ok(&["+m"]).mount_supplement, Some(MountSupplement::Create));
    assert_eq!(
        ok(&["+m", "/f"]).mount_supplement,
        Some(MountSupplement::Use("/f".into()))
    );
    assert_eq!(first_line(&["-m", "x"]), "lsof: -m not supported");
}

#[test]
fn flag_big_d_directories() {
    let opts = ok(&["+D", "/a", "+d", "/b"]);
    assert_eq!(opts.dirs.len(), 2);
    assert!(opts.dirs[0].recursive && !opts.dirs[1].recursive);
    assert_eq!(first_line(&["-D", "x"]), "lsof: unsupported option: -D");
    assert_eq!(
        first_line(&["+d"]),
        "lsof: +d not followed by a directory path"
    );
}
