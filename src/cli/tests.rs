//! One test per option form: flags without values, and how each option
//! takes, refuses or partly takes a value.

use std::ffi::OsString;

use super::options::*;
use super::{parse, CliError};

pub(super) fn ok(args: &[&str]) -> Options {
    match parse(args.iter().map(OsString::from)) {
        Ok(opts) => opts,
        Err(e) => panic!("{args:?} failed:\n{}", e.message),
    }
}

pub(super) fn err(args: &[&str]) -> CliError {
    match parse(args.iter().map(OsString::from)) {
        Ok(opts) => panic!("{args:?} parsed: {opts:?}"),
        Err(e) => e,
    }
}

/// The error's first line (lsof's message, before the usage).
pub(super) fn first_line(args: &[&str]) -> String {
    let e = err(args);
    assert_eq!(e.status, 1);
    e.message.lines().next().unwrap_or_default().to_string()
}

pub(super) fn names(opts: &Options) -> Vec<&str> {
    opts.names.iter().filter_map(|n| n.to_str()).collect()
}

#[test]
fn no_arguments_lists_everything() {
    let opts = ok(&[]);
    assert!(opts.names.is_empty() && opts.pids.is_empty());
    assert_eq!(opts.output, Output::Table);
    assert_eq!(opts.command_width, 9);
    assert_eq!(opts.timeout_secs, 15);
}

#[test]
fn clustered_simple_flags() {
    let opts = ok(&["-nPl"]);
    assert!(opts.no_host_names && opts.no_port_names && opts.numeric_users);
}

#[test]
fn plus_n_and_plus_p_turn_names_back_on() {
    let opts = ok(&["-nP", "+nP"]);
    assert!(!opts.no_host_names && !opts.no_port_names);
}

#[test]
fn flag_a_and() {
    assert!(ok(&["-a", "-p", "1"]).and);
}

#[test]
fn flag_b_avoid_blocking() {
    assert!(ok(&["-b"]).avoid_blocking);
}

#[test]
fn flag_big_n_nfs() {
    assert!(ok(&["-N"]).nfs);
}

#[test]
fn flag_big_o_no_overhead() {
    assert!(ok(&["-O"]).no_overhead);
    assert!(!ok(&["-O", "+O"]).no_overhead);
}

#[test]
fn flag_big_q_quiet() {
    assert!(ok(&["-Q"]).quiet_failures);
}

#[test]
fn flag_big_r_ppid() {
    assert!(ok(&["-R"]).ppid);
}

#[test]
fn flag_big_u_unix() {
    assert!(ok(&["-U"]).unix_sockets);
}

#[test]
fn flag_big_v_verbose() {
    assert!(ok(&["-V"]).verbose_failures);
}

#[test]
fn flag_big_x_toggles() {
    assert!(ok(&["-X"]).skip_tcp_udp);
    assert!(!ok(&["-X", "-X"]).skip_tcp_udp);
}

#[test]
fn flag_big_m_portmap() {
    assert!(ok(&["+M"]).portmap);
    assert!(!ok(&["+M", "-M"]).portmap);
}

#[test]
fn flag_big_e_endpoints() {
    assert_eq!(ok(&["-E"]).endpoints, Some(false));
    assert_eq!(ok(&["+E"]).endpoints, Some(true));
}

#[test]
fn flag_big_h_human() {
    assert!(ok(&["-H"]).human_sizes);
}

#[test]
fn flag_t_terse_silences_warnings() {
    let opts = ok(&["-t"]);
    assert_eq!(opts.output, Output::Terse);
    assert!(opts.no_warnings);
}

#[test]
fn flag_w_warnings() {
    assert!(ok(&["-w"]).no_warnings);
    assert!(!ok(&["-w", "+w"]).no_warnings);
}

#[test]
fn flag_h_help() {
    let opts = ok(&["-h"]);
    assert!(opts.help);
    assert!(opts.info_message.starts_with("lsof 4.95.0\n"));
    assert!(opts.info_message.contains("Defaults in parentheses"));
    assert!(ok(&["-?"]).help);
}

#[test]
fn flag_v_version() {
    let opts = ok(&["-v"]);
    assert!(opts.version);
    assert!(opts.info_message.starts_with("lsof version information:\n"));
    let constructed = format!(
        "    constructed as: rlsof {} (Rust)\n",
        env!("CARGO_PKG_VERSION")
    );
    assert!(opts.info_message.contains(&constructed));
    // Built from a git checkout, -v names its commit on a line of its own.
    let checkout = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".git");
    match crate::build_info::commit() {
        Some(commit) => assert!(opts
            .info_message
            .contains(&format!("{constructed}    git commit: {commit}\n"))),
        None => assert!(!checkout.exists(), "a checkout's commit is known"),
    }
}

#[test]
fn flag_big_f_question_is_field_help() {
    let opts = ok(&["-F?"]);
    assert!(opts.field_help);
    assert_eq!(opts.info_message, super::field_help_text());
    assert!(ok(&["-F", "?"]).field_help);
}

#[test]
fn field_help_text_is_lsofs() {
    let text = super::field_help_text();
    assert!(text.starts_with("lsof:\tID    field description\n\t a    access:"));
    assert!(text.ends_with("\t 0    (zero) use NUL field terminator instead of NL\n"));
    assert_eq!(text.lines().count(), 27);
}

#[test]
fn flag_big_z_needs_selinux() {
    assert_eq!(first_line(&["-Z"]), "lsof: -Z limited to SELinux");
}

#[test]
fn flag_big_j_json() {
    assert_eq!(ok(&["-J"]).output, Output::Json);
    assert_eq!(ok(&["-j"]).output, Output::JsonLines);
    let opts = ok(&["-J", "-Fpn"]);
    assert_eq!(opts.json_fields.as_deref(), Some("pn"));
}

#[test]
fn flag_big_j_conflicts() {
    assert_eq!(
        first_line(&["-J", "-j"]),
        "lsof: -J and -j are mutually exclusive"
    );
    assert_eq!(
        first_line(&["-j", "-t"]),
        "lsof: -J/-j and -t are mutually exclusive"
    );
    assert_eq!(first_line(&["+J"]), "lsof: +J is not supported");
}

#[test]
fn unknown_letters() {
    assert_eq!(first_line(&["-z"]), "lsof: illegal option character: z");
    assert_eq!(
        first_line(&["-:"]),
        "lsof: colon is an illegal option character."
    );
    let e = err(&["-nzq"]);
    assert!(e.message.starts_with(
        "lsof: illegal option character: z\nlsof: illegal option character: q\nlsof 4.95.0\n"
    ));
}

#[test]
fn error_text_ends_with_short_usage() {
    let e = err(&["-z"]);
    assert!(e
        .message
        .ends_with("Use the ``-h'' option to get more help information.\n"));
    assert!(e.message.contains(" usage: [-?abhKlnNoOPRtUvVX]"));
}

#[test]
fn double_dash_ends_options() {
    let opts = ok(&["-n", "--", "-p", "--deleted"]);
    assert_eq!(names(&opts), ["-p", "--deleted"]);
    assert!(opts.feature.is_none());
}

#[test]
fn first_name_ends_options() {
    let opts = ok(&["file", "-n"]);
    assert_eq!(names(&opts), ["file", "-n"]);
    assert!(!opts.no_host_names);
}

#[test]
fn lone_dash_is_a_name() {
    assert_eq!(names(&ok(&["-", "x"])), ["-", "x"]);
    assert_eq!(names(&ok(&["++", "x"])), ["x"]);
}

#[test]
fn value_never_taken_from_double_dash() {
    let opts = ok(&["-i", "--", "-x"]);
    assert!(opts.inet_selected);
    assert_eq!(names(&opts), ["-x"]);
}

#[test]
fn and_without_selection() {
    assert_eq!(first_line(&["-a"]), "lsof: no select options to AND via -a");
    assert_eq!(
        first_line(&["-a", "-p", "^1"]),
        "lsof: no select options to AND via -a"
    );
    assert!(ok(&["-a", "-K"]).and);
    assert!(ok(&["-a", "name"]).and);
}

#[test]
fn help_with_error_fails_with_full_help() {
    let e = err(&["-x", "q", "-h"]);
    assert!(e
        .message
        .starts_with("lsof: unknown cross-over option: q\nlsof 4.95.0\n"));
    assert!(e.message.contains("Defaults in parentheses"));
    assert!(!e.message.contains("Use the ``-h''"));
}

#[test]
fn usage_text_forms() {
    let short = super::usage_text(false);
    assert!(short.starts_with("lsof 4.95.0\n latest revision:"));
    assert!(short.ends_with("information.\n"));
    let full = super::usage_text(true);
    assert!(full.contains("  -Z Z  context [Z]        -- end option scan       \n"));
    assert!(full.contains("rlsof options (newer than lsof 4.95, or rlsof's own):\n  -H "));
    assert!(full.contains("  +|-f[gG] flaGs \n"));
    assert!(full.contains("  --to PATH            where --recover or --recover-all write\n"));
    let last = super::LONG_FLAGS.last().expect("long options");
    assert!(full.ends_with(&format!("{}\n", last.help)));
}
