//! Drives the tokenizer over the option table, then makes lsof's checks
//! that need all options (conflicts, `-a` without selections) and builds
//! the final `Options` or the error text.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

use super::fields::{chosen_letters, field_help_text};
use super::flags::find_long;
use super::options::{Cross, Feature, FlagsShown, LinkCount, Options, Output, TcpInfo};
use super::state::*;
use super::tokenizer::{Token, Tokenizer};
use super::usage::{
    full_help, long_help, rlsof_version, short_usage, version_text, FileStructNote, MORE_HELP,
};
use super::CliError;
use crate::model::TcpState;

/// rlsof's long options as given.
#[derive(Default)]
struct LongOptions {
    extras: Vec<&'static str>,
    recover: Option<(i32, u32)>,
    to: Option<OsString>,
    /// What the first `--help` or `--version` prints.
    info: Option<String>,
    /// `--to` was given, even if its value was refused.
    to_given: bool,
    force: bool,
    fleet: super::fleet::FleetArgs,
    leak_cycles: Option<u32>,
}

pub(super) fn parse_args(args: &[Vec<u8>]) -> Result<Options, CliError> {
    let mut state = State::new();
    let mut long = LongOptions::default();
    let mut tokens = Tokenizer::new(args);
    loop {
        match tokens.next_token() {
            Token::End => break,
            Token::Illegal { letter: b':' } => {
                state.error("colon is an illegal option character.");
            }
            Token::Illegal { letter } => state.error(format!(
                "illegal option character: {}",
                String::from_utf8_lossy(&[letter])
            )),
            Token::Flag { def, prefix, value } => {
                let used = (def.update)(&mut state, prefix, value);
                match (used, value) {
                    (ValueUse::Refused, Some(_)) => tokens.refuse_value(),
                    (ValueUse::Prefix(n), Some(v)) if n < v.len() => tokens.keep_value_prefix(n),
                    _ => {}
                }
            }
            Token::Long { name, inline_value } => {
                long_option(&mut state, &mut long, &mut tokens, name, inline_value);
            }
            Token::UnknownLong { name } => {
                state.error(format!("unknown option --{}", shown(name)));
            }
        }
    }
    // `--help` and `--version` answer whatever else the line holds.
    if let Some(long_info) = long.info {
        return Ok(Options {
            long_info,
            ..Options::new()
        });
    }
    state.opts.names = args[tokens.names_start()..]
        .iter()
        .map(|a| OsString::from_vec(a.clone()))
        .collect();
    let live = take_live_option(&mut state, &mut long);
    check_long_options(&mut state, long);
    if live.is_some() {
        state.opts.feature = live;
    }
    check_combinations(&mut state);
    finish(state)
}

fn long_option(
    state: &mut State,
    long: &mut LongOptions,
    tokens: &mut Tokenizer,
    name: &[u8],
    inline_value: Option<&[u8]>,
) {
    let Some(def) = find_long(name) else {
        return;
    };
    let value = match (def.value_name, inline_value) {
        (Some(_), Some(v)) => Some(v),
        (Some(_), None) => tokens.take_argument(),
        (None, Some(_)) => {
            state.error(format!("--{} takes no value", def.name));
            return;
        }
        (None, None) => None,
    };
    if super::fleet::NAMES.contains(&def.name) {
        if let Err(message) = long.fleet.take(def.name, value) {
            state.error(message);
        }
        return;
    }
    match def.name {
        "to" => {
            long.to_given = true;
            match value {
                Some(path) if !path.is_empty() => long.to = Some(OsString::from_vec(path.to_vec())),
                Some(_) => state.error("--to needs a path, not an empty string"),
                None => state.error("--to needs a path"),
            }
        }
        "force" => long.force = true,
        "recover" => {
            long.extras.push(def.name);
            match value.and_then(pid_and_fd) {
                Some(target) => long.recover = Some(target),
                None => state.error(format!(
                    "--recover needs PID:FD, not \"{}\"",
                    shown(value.unwrap_or_default())
                )),
            }
        }
        "help" => {
            long.info.get_or_insert_with(long_help);
        }
        "version" => {
            long.info
                .get_or_insert_with(|| format!("{}\n", rlsof_version()));
        }
        "leak-cycles" => match value.and_then(|v| std::str::from_utf8(v).ok()?.parse().ok()) {
            Some(k) if k > 0 => long.leak_cycles = Some(k),
            _ => state.error(format!(
                "--leak-cycles needs a number of cycles above 0, not \"{}\"",
                shown(value.unwrap_or_default())
            )),
        },
        other => long.extras.push(other),
    }
}

fn pid_and_fd(text: &[u8]) -> Option<(i32, u32)> {
    let text = std::str::from_utf8(text).ok()?;
    let (pid, fd) = text.split_once(':')?;
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(pid) || !all_digits(fd) {
        return None;
    }
    Some((pid.parse().ok()?, fd.parse().ok()?))
}

/// `--top` or `--changes`, which exclude every other of rlsof's modes,
/// taken out of `long.extras`.
fn take_live_option(state: &mut State, long: &mut LongOptions) -> Option<Feature> {
    let live: Vec<&str> = long
        .extras
        .iter()
        .copied()
        .filter(|e| matches!(*e, "top" | "changes"))
        .collect();
    long.extras.retain(|e| !matches!(*e, "top" | "changes"));
    let leak_cycles = long.leak_cycles.unwrap_or(3);
    let Some(&mode) = live.first() else {
        if long.leak_cycles.is_some() {
            state.error("--leak-cycles goes only with --changes or --top");
        }
        return None;
    };
    if long.fleet.any_mode() {
        state.error(format!(
            "--{mode} does not go with --summary, --metrics or --serve"
        ));
        return None;
    }
    if let Some(other) = live.iter().chain(&long.extras).find(|e| **e != mode) {
        state.error(format!("--{mode} and --{other} are mutually exclusive"));
        return None;
    }
    if mode == "top" {
        if state.json || state.json_lines || state.fields_given || state.terse {
            state.error("--top is a full-screen view: -J, -j, -F and -t do not apply");
        }
        return Some(Feature::Top { leak_cycles });
    }
    if state.opts.repeat.as_ref().is_none_or(|r| r.seconds == 0) {
        state.error("--changes needs -r or +r with an interval above 0");
    } else if state.json || state.fields_given || state.terse {
        state.error("--changes writes the table or, with -j, JSON Lines events (not -J, -F or -t)");
    }
    Some(Feature::Changes { leak_cycles })
}

fn check_long_options(state: &mut State, mut long: LongOptions) {
    let fleet = std::mem::take(&mut long.fleet);
    if fleet.any_mode() && !long.extras.is_empty() {
        state.error("--summary, --metrics and --serve do not go with --deleted or --recover");
        return;
    }
    let other_output = state.fields_given || state.terse || state.opts.repeat.is_some();
    if fleet.any_mode() && other_output {
        state.error("-F, -t and -r do not go with --summary, --metrics or --serve");
        return;
    }
    match fleet.finish(state.json || state.json_lines) {
        Ok(Some(extra)) => state.opts.feature = Some(extra),
        Ok(None) => {}
        Err(message) => {
            state.error(message);
            return;
        }
    }
    let mut kinds = long.extras.clone();
    kinds.dedup();
    if kinds.len() > 1 {
        state.error("--deleted, --recover and --recover-all are mutually exclusive");
        return;
    }
    let needs_target = matches!(kinds.first(), Some(&"recover" | &"recover-all"));
    if needs_target && !long.to_given {
        state.error(format!("--{} needs --to PATH", kinds[0]));
        return;
    }
    if !needs_target && long.to_given {
        state.error("--to goes only with --recover or --recover-all");
        return;
    }
    if !needs_target && long.force {
        state.error("--force goes only with --recover or --recover-all");
        return;
    }
    if let Some(kind) = kinds.first() {
        refuse_options_that_do_not_apply(state, kind);
    }
    let force = long.force;
    state.opts.feature = match (kinds.first(), long.to) {
        (Some(&"deleted"), _) => Some(Feature::DeletedReport),
        (Some(&"recover"), Some(to)) => {
            long.recover
                .map(|(pid, fd)| Feature::Recover { pid, fd, to, force })
        }
        (Some(&"recover-all"), Some(to)) => Some(Feature::RecoverAll { to, force }),
        _ => state.opts.feature.take(),
    };
}

/// rlsof's long options print their own reports: the listing's output
/// forms and repeat mode do not apply, and `--recover` names its one file
/// itself. Refused rather than ignored, so no one is misled.
fn refuse_options_that_do_not_apply(state: &mut State, kind: &str) {
    let output_form = if state.fields_given {
        Some("-F (field output)")
    } else if state.terse {
        Some("-t (PIDs only)")
    } else if state.opts.repeat.is_some() {
        Some("-r/+r (repeat mode)")
    } else if kind != "deleted" && (state.json || state.json_lines) {
        Some("-J/-j (JSON output)")
    } else {
        None
    };
    if let Some(option) = output_form {
        let instead = if kind == "deleted" {
            " (-J gives its report as JSON)"
        } else {
            ""
        };
        state.error(format!(
            "--{kind} prints its own report and does not take {option}{instead}"
        ));
    } else if kind == "recover" && has_selection(state) {
        state.error(
            "--recover PID:FD names its file itself and takes no selection options \
             or file names (-p, -u, -c, -d, -i, NAME...); use --recover-all to recover what a selection lists",
        );
    }
}

/// lsof's checks once all options are read, in its order.
fn check_combinations(state: &mut State) {
    let commands = state.opts.commands.clone();
    for excluded in commands.iter().rev().filter(|c| c.excluded) {
        for included in commands.iter().rev().filter(|c| !c.excluded) {
            if excluded.value == included.value {
                if let super::options::CommandSpec::Prefix(name) = &excluded.value {
                    let name = String::from_utf8_lossy(name);
                    state.error(format!("-c^{name} and -c{name} conflict."));
                }
            }
        }
    }
    // lsof checks its state table by state number: CLOSED (0) first.
    for (index, name) in TcpState::NAMES.iter().enumerate() {
        if state.tcp_included[index] && state.tcp_excluded[index] {
            state.error(format!("can't include and exclude TCP state: {name}"));
        }
    }
    if state.size_flag && state.offset_flag {
        state.error("-o and -s are mutually exclusive");
    }
    if state.fields_given && state.terse {
        state.error("-F and -t are mutually exclusive");
    }
    if state.fields_given || state.json || state.json_lines {
        check_marker(state);
    }
    if state.cross != 0 && !state.dir_given {
        state.error("-x must accompany +d or +D");
    }
    if state.json && state.json_lines {
        state.error("-J and -j are mutually exclusive");
    }
    if (state.json || state.json_lines) && state.terse {
        state.error("-J/-j and -t are mutually exclusive");
    }
}

/// A marker line cannot hold `%n` when output is in fields.
fn check_marker(state: &mut State) {
    let Some(format) = state.marker.clone() else {
        return;
    };
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c == '%' {
            match chars.next() {
                Some('n') => {
                    state.error(format!(
                        "%n illegal in -r m<fmt> when -F has been specified: \"{format}\""
                    ));
                    return;
                }
                Some('%') | None => {}
                Some(_) => {}
            }
        }
    }
}

fn file_struct_note(state: &State) -> FileStructNote {
    FileStructNote {
        extras: state.file_struct_extras.clone(),
        flags: state.flags_column,
        flags_hex: state.flags_hex,
    }
}

fn finish(mut state: State) -> Result<Options, CliError> {
    let opts = &state.opts;
    if state.failed || opts.help || opts.field_help || opts.version {
        let mut text = state.messages();
        if opts.help || state.failed {
            text.push_str(&short_usage());
        }
        if state.failed && !opts.help {
            text.push_str(MORE_HELP);
            if !opts.field_help {
                return Err(CliError::new(text));
            }
        }
        let mut info = String::new();
        if opts.help {
            info.push_str(&full_help(&file_struct_note(&state)));
        }
        if opts.field_help {
            info.push_str(&field_help_text());
        }
        if opts.version {
            info.push_str(&version_text());
        }
        if state.failed {
            return Err(CliError::new(text + &info));
        }
        if opts.help {
            info = short_usage() + &info;
        }
        state.opts.info_message = info;
    } else if state.opts.and && !has_selection(&state) {
        let text = state.messages()
            + &format!("{PROGRAM}: no select options to AND via -a\n")
            + &short_usage()
            + MORE_HELP;
        return Err(CliError::new(text));
    }
    Ok(settle(state))
}

/// What lsof counts as a selection for `-a`.
fn has_selection(state: &State) -> bool {
    let opts = &state.opts;
    state.dir_given
        || state.task_selected
        || state.link_selected
        || state.inet_any
        || opts.commands.iter().any(|c| !c.excluded)
        || !opts.fds.is_empty()
        || opts.nfs
        || opts.unix_sockets
        || opts.pgids.iter().any(|p| !p.excluded)
        || opts.pids.iter().any(|p| !p.excluded)
        || opts.users.iter().any(|u| !u.excluded)
        || !opts.inet.is_empty()
        || !opts.names.is_empty()
}

/// Turn lsof's bookkeeping into the typed options.
fn settle(mut state: State) -> Options {
    let letters = chosen_letters(&state);
    let opts = &mut state.opts;
    opts.notices = std::mem::take(&mut state.lines);
    opts.output = if state.json {
        Output::Json
    } else if state.json_lines {
        Output::JsonLines
    } else if state.fields_given {
        Output::Fields {
            letters: letters.clone(),
            nul: state.nul_terminator,
        }
    } else if state.terse {
        Output::Terse
    } else {
        Output::Table
    };
    if (state.json || state.json_lines) && state.fields_given {
        opts.json_fields = Some(letters);
    }
    opts.tcp_info = state.tcp_bits.map(|bits| TcpInfo {
        flags: bits & TCP_FLAGS != 0,
        queues: bits & TCP_QUEUES != 0,
        state: bits & TCP_STATE != 0,
    });
    opts.link_count = match (state.link_column, state.link_selected) {
        (true, true) if state.link_limit > 0 => LinkCount::Below(state.link_limit),
        (true, _) => LinkCount::Show,
        (false, _) => LinkCount::Off,
    };
    opts.offset = state.offset_flag.then_some(opts.offset_digits);
    opts.size_only = state.size_flag;
    opts.cross = (state.cross != 0).then_some(Cross {
        file_systems: state.cross & CROSS_FS != 0,
        symlinks: state.cross & CROSS_LINKS != 0,
    });
    opts.file_flags = state.flags_column.then_some(if state.flags_hex {
        FlagsShown::Hex
    } else {
        FlagsShown::Names
    });
    opts.inet_selected = state.inet_any;
    opts.inet_family = (state.inet_family != 0).then_some(state.inet_family);
    state.opts
}

impl CliError {
    fn new(message: String) -> CliError {
        CliError { message, status: 1 }
    }
}
