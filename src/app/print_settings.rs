//! The printers' settings, decided once from the parsed options: the one
//! place where lsof's option spellings (`-T` letters, `+f g`/`G`, `+L n`,
//! `-F0`...) become the typed choices `print` works with.

use crate::cli::options::{FlagsShown, LinkCount, Options, Output, TcpInfo};
use crate::print::{FieldSet, FlagStyle, OutputKind, PrintSettings, TcpInfoParts};

/// What the printers are to do for these options.
pub(crate) fn print_settings(opts: &Options, cpus: usize) -> PrintSettings {
    PrintSettings {
        output: output_kind(opts),
        host_names: !opts.no_host_names,
        port_names: !opts.no_port_names,
        user_names: !opts.numeric_users,
        tcp_info: tcp_info_parts(opts.tcp_info),
        offsets: opts.offset.is_some(),
        sizes_only: opts.size_only,
        offset_digits: opts.offset_digits,
        human_sizes: opts.human_sizes,
        // `+c 0`: as long as the name is.
        command_width: (opts.command_width > 0).then_some(opts.command_width),
        show_pgid: opts.show_pgid,
        show_ppid: opts.ppid,
        show_nlink: opts.link_count != LinkCount::Off,
        file_flags: opts.file_flags.map(|shown| match shown {
            FlagsShown::Hex => FlagStyle::Hex,
            FlagsShown::Names => FlagStyle::Names,
        }),
        cpus,
    }
}

fn output_kind(opts: &Options) -> OutputKind {
    match &opts.output {
        Output::Table => OutputKind::Table,
        Output::Terse => OutputKind::Terse,
        Output::Fields { letters, nul } => OutputKind::Fields {
            fields: FieldSet::from_letters(letters),
            // `-F0` may come as a letter among others (`-F pn0`).
            nul: *nul || letters.contains('0'),
        },
        Output::Json | Output::JsonLines => OutputKind::Json {
            lines: opts.output == Output::JsonLines,
            // `-F` alone (or `-F0`) with JSON keeps every key.
            fields: opts
                .json_fields
                .as_deref()
                .filter(|letters| letters.chars().any(|c| c != '0'))
                .map(FieldSet::from_letters),
        },
    }
}

/// `-T`; not given means `s` (lsof shows the TCP state by default).
fn tcp_info_parts(given: Option<TcpInfo>) -> TcpInfoParts {
    let given = given.unwrap_or(TcpInfo {
        state: true,
        ..TcpInfo::default()
    });
    TcpInfoParts {
        state: given.state,
        queues: given.queues,
        any: given.state || given.queues || given.flags,
    }
}

#[cfg(test)]
mod tests {
    use super::print_settings;
    use crate::print::{FieldSet, FlagStyle, OutputKind, PrintSettings, TcpInfoParts};

    fn settings(args: &[&str]) -> PrintSettings {
        let opts = crate::cli::parse(args.iter().map(std::ffi::OsString::from))
            .unwrap_or_else(|e| panic!("{}", e.message));
        print_settings(&opts, 2)
    }

    #[test]
    fn no_options_give_lsofs_defaults() {
        let defaults = PrintSettings {
            cpus: 2,
            ..PrintSettings::default()
        };
        assert_eq!(settings(&[]), defaults);
    }

    /// The print tests build `-F` settings by hand (print does not read
    /// options); these are what the command line gives.
    #[test]
    fn field_letters_switch_on_what_they_print() {
        let all_tcp = TcpInfoParts {
            state: true,
            queues: true,
            any: true,
        };
        let bare = settings(&["-F"]);
        assert_eq!(
            bare.output,
            OutputKind::Fields {
                fields: FieldSet::from_letters(""),
                nul: false
            }
        );
        assert_eq!(bare.file_flags, Some(FlagStyle::Hex));
        assert!(bare.show_nlink && bare.show_pgid && bare.show_ppid && !bare.offsets);
        assert_eq!(bare.tcp_info, all_tcp);
        let chosen = settings(&["-FpcfnTo"]);
        assert_eq!(chosen.tcp_info, all_tcp);
        assert!(chosen.offsets && !chosen.show_nlink && chosen.file_flags.is_none());
        let nul = settings(&["-Fpn0"]);
        assert_eq!(
            nul.output,
            OutputKind::Fields {
                fields: FieldSet::from_letters("pn"),
                nul: true
            }
        );
    }

    #[test]
    fn options_become_typed_choices() {
        let s = settings(&["-nPl", "+c", "0", "-o4", "+fg", "-T", "+L"]);
        assert!(!s.host_names && !s.port_names && !s.user_names);
        assert_eq!(s.command_width, None);
        // `-o4` sets the digits alone; `-o` asks for offsets.
        assert!(!s.offsets && s.show_nlink && settings(&["-o"]).offsets);
        assert_eq!(s.offset_digits, 4);
        assert_eq!(s.file_flags, Some(FlagStyle::Names));
        assert!(!s.tcp_info.any && !s.tcp_info.state);
        let json = settings(&["-j", "-F", "pn"]);
        assert_eq!(
            json.output,
            OutputKind::Json {
                lines: true,
                fields: Some(FieldSet::from_letters("pn"))
            }
        );
        let json = settings(&["-J", "-F"]);
        assert_eq!(
            json.output,
            OutputKind::Json {
                lines: false,
                fields: None
            }
        );
    }
}
