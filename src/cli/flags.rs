//! The one table of options: each letter with whether it may take a value,
//! a line of help, and the function that applies it. The tokenizer finds
//! letters here; `usage.rs` prints lsof's own usage text.

use super::fields;
use super::lists::{self, IdKind};
use super::state::*;
use super::updates::*;

/// Apply an option: its prefix (`b'-'` or `b'+'`) and possible value.
pub(super) type Update = fn(&mut State, u8, Option<&[u8]>) -> ValueUse;

#[derive(Debug)]
pub struct FlagDef {
    pub letter: u8,
    pub takes_value: bool,
    pub help: &'static str,
    pub update: Update,
}

/// rlsof's own long options (`--name` or `--name=value`).
#[derive(Debug)]
pub struct LongDef {
    pub name: &'static str,
    pub value_name: Option<&'static str>,
    pub help: &'static str,
}

const fn flag(letter: u8, takes_value: bool, help: &'static str, update: Update) -> FlagDef {
    FlagDef {
        letter,
        takes_value,
        help,
        update,
    }
}

pub static FLAGS: &[FlagDef] = &[
    flag(b'?', false, "list help", |s, _, _| set(&mut s.opts.help)),
    flag(b'a', false, "AND selections", |s, _, _| {
        set(&mut s.opts.and)
    }),
    flag(b'b', false, "avoid kernel blocks", |s, _, _| {
        set(&mut s.opts.avoid_blocking)
    }),
    flag(
        b'c',
        true,
        "-c c: command c ^c /c/[bix]; +c w: COMMAND width",
        command,
    ),
    flag(b'D', true, "+D D: dir D tree", |s, p, v| {
        directory(s, p, v, true)
    }),
    flag(
        b'd',
        true,
        "-d s: FD set; +d s: dir s files",
        fd_or_directory,
    ),
    flag(b'e', true, "+|-e s: exempt file system s", exempt),
    flag(
        b'E',
        false,
        "-E endpoint info, +E endpoints and files",
        |s, p, _| {
            s.opts.endpoints = Some(p == b'+');
            ValueUse::Taken
        },
    ),
    flag(
        b'f',
        true,
        "+f|-f names are file systems|files; +|-f[gG] flags",
        file_struct,
    ),
    flag(
        b'F',
        true,
        "-F [f]: select fields; -F? for help",
        fields::select,
    ),
    flag(
        b'g',
        true,
        "-g [s]: exclude(^)|select and print PGIDs",
        pgids,
    ),
    flag(b'h', false, "list help", |s, _, _| set(&mut s.opts.help)),
    flag(b'H', false, "human readable sizes", |s, _, _| {
        set(&mut s.opts.human_sizes)
    }),
    flag(
        b'i',
        true,
        "-i [i]: select IPv[46] files or addresses",
        inet,
    ),
    flag(b'J', false, "JSON output", |s, p, _| json(s, p, b'J')),
    flag(b'j', false, "JSON Lines output", |s, p, _| json(s, p, b'j')),
    flag(b'K', true, "-K [i]: list|(i)gnore tasks", tasks),
    flag(b'l', false, "list UID numbers", |s, _, _| {
        set(&mut s.opts.numeric_users)
    }),
    flag(
        b'L',
        true,
        "+|-L [l]: list (+) or suppress (-) link counts < l",
        links,
    ),
    flag(
        b'm',
        true,
        "+m [m]: use|create mount supplement",
        mount_supplement,
    ),
    flag(b'M', false, "+|-M portMap registration", |s, p, _| {
        s.opts.portmap = p == b'+';
        ValueUse::Taken
    }),
    flag(b'n', false, "no host names", |s, p, _| {
        s.opts.no_host_names = p == b'-';
        ValueUse::Taken
    }),
    flag(b'N', false, "select NFS files", |s, _, _| {
        set(&mut s.opts.nfs)
    }),
    flag(
        b'o',
        true,
        "-o [o]: list file offset; o 0t offset digits",
        offset,
    ),
    flag(b'O', false, "no overhead", |s, p, _| {
        s.opts.no_overhead = p == b'-';
        ValueUse::Taken
    }),
    flag(b'p', true, "-p s: exclude(^)|select PIDs", |s, _, v| {
        lists::enter_ids(s, IdKind::Process, v);
        ValueUse::Taken
    }),
    flag(b'P', false, "no port names", |s, p, _| {
        s.opts.no_port_names = p == b'-';
        ValueUse::Taken
    }),
    flag(b'Q', false, "allow failed search", |s, _, _| {
        set(&mut s.opts.quiet_failures)
    }),
    flag(
        b'r',
        true,
        "+|-r [t[c<n>][m<fmt>]]: repeat every t seconds",
        fields::repeat,
    ),
    flag(b'R', false, "list paRent PID", |s, _, _| {
        set(&mut s.opts.ppid)
    }),
    flag(
        b's',
        true,
        "-s: list file size; -s p:s select protocol states",
        size_or_states,
    ),
    flag(b'S', true, "-S [t]: t second stat timeout", timeout),
    flag(b't', false, "terse listing", |s, _, _| {
        s.terse = true;
        set(&mut s.opts.no_warnings)
    }),
    flag(b'T', true, "-T [fqs]: TCP/TPI info", tcp_info),
    flag(
        b'u',
        true,
        "-u s: exclude(^)|select login|UID set s",
        |s, _, v| {
            lists::enter_users(s, v);
            ValueUse::Taken
        },
    ),
    flag(b'U', false, "select Unix sockets", |s, _, _| {
        set(&mut s.opts.unix_sockets)
    }),
    flag(b'v', false, "list version info", |s, _, _| {
        set(&mut s.opts.version)
    }),
    flag(b'V', false, "verbose search", |s, _, _| {
        set(&mut s.opts.verbose_failures)
    }),
    flag(b'w', false, "+|-w warnings", |s, p, _| {
        s.opts.no_warnings = p == b'-';
        ValueUse::Taken
    }),
    flag(
        b'x',
        true,
        "-x [fl]: cross over +d|+D file systems or symbolic links",
        cross,
    ),
    flag(b'X', false, "skip TCP&UDP* files", |s, _, _| {
        s.opts.skip_tcp_udp = !s.opts.skip_tcp_udp;
        ValueUse::Taken
    }),
    flag(b'Z', true, "-Z [Z]: SELinux context", |s, _, _| {
        s.error("-Z limited to SELinux");
        ValueUse::Taken
    }),
];

pub static LONG_FLAGS: &[LongDef] = &[
    LongDef {
        name: "deleted",
        value_name: None,
        help: "report deleted files still held open and the space they hold",
    },
    LongDef {
        name: "recover",
        value_name: Some("PID:FD"),
        help: "copy an open deleted file back (with --to PATH)",
    },
    LongDef {
        name: "recover-all",
        value_name: None,
        help: "copy every open deleted file back (with --to DIR)",
    },
    LongDef {
        name: "force",
        value_name: None,
        help: "let --recover copy onto the filesystem the file fills",
    },
    LongDef {
        name: "summary",
        value_name: None,
        help: "report what is close to a limit: descriptors, files, inotify, deleted space",
    },
    LongDef {
        name: "metrics",
        value_name: None,
        help: "print the --summary facts as Prometheus metrics",
    },
    LongDef {
        name: "metrics-file",
        value_name: Some("PATH"),
        help: "with --metrics: replace PATH atomically (textfile collector)",
    },
    LongDef {
        name: "metrics-paths",
        value_name: Some("N"),
        help: "with --metrics/--serve: label the N largest deleted files by path",
    },
    LongDef {
        name: "serve",
        value_name: Some("ADDR"),
        help: "serve /metrics over HTTP on PORT, IP:PORT or [IPv6]:PORT (loopback)",
    },
    LongDef {
        name: "serve-remote",
        value_name: None,
        help: "let --serve listen on an address that is not loopback",
    },
    LongDef {
        name: "fd-top",
        value_name: Some("N"),
        help: "processes shown by --summary (10) and --metrics (20)",
    },
    LongDef {
        name: "listeners-max",
        value_name: Some("N"),
        help: "listening sockets in --metrics (100)",
    },
    LongDef {
        name: "cache-age",
        value_name: Some("SECONDS"),
        help: "--serve reuses a scan this young (5)",
    },
    LongDef {
        name: "top",
        value_name: None,
        help: "live full-screen view of processes ranked by open descriptors",
    },
    LongDef {
        name: "changes",
        value_name: None,
        help: "with -r/+r: list only the files opened and closed since the last cycle",
    },
    LongDef {
        name: "leak-cycles",
        value_name: Some("K"),
        help: "--changes/--top: a leak is K cycles of growth in a row (default 3)",
    },
    LongDef {
        name: "to",
        value_name: Some("PATH"),
        help: "where --recover or --recover-all write",
    },
    LongDef {
        name: "help",
        value_name: None,
        help: "print this help (on stdout) and exit",
    },
    LongDef {
        name: "version",
        value_name: None,
        help: "print rlsof's version (on stdout) and exit",
    },
];

pub(super) fn find(letter: u8) -> Option<&'static FlagDef> {
    FLAGS.iter().find(|f| f.letter == letter)
}

pub(super) fn find_long(name: &[u8]) -> Option<&'static LongDef> {
    LONG_FLAGS.iter().find(|f| f.name.as_bytes() == name)
}

fn set(field: &mut bool) -> ValueUse {
    *field = true;
    ValueUse::Taken
}
