//! lsof's usage texts: the short form printed after an error, the full
//! `-h` help (as `/usr/bin/lsof -h` prints it here, then a section for
//! rlsof's `-H`, `-J`, `-j` and long options), and the `-v` version report.
//! All go to stderr.

use super::flags::{LongDef, FLAGS, LONG_FLAGS};
use super::state::PROGRAM;
use crate::build_info::LSOF_VERSION as VERSION;

const REPO_URL: &str = "https://github.com/lsof-org/lsof";
const FAQ_URL: &str = "https://github.com/lsof-org/lsof/blob/master/00FAQ";
const MAN_URL: &str = "https://github.com/lsof-org/lsof/blob/master/Lsof.8";

/// The file-struct choices shown in the `+|-f[gG]` help line.
#[derive(Debug, Clone, Default)]
pub(super) struct FileStructNote {
    /// lsof's C, F, N file-struct fields chosen.
    pub extras: String,
    pub flags: bool,
    pub flags_hex: bool,
}

/// The header and short usage, printed for `-h` and after errors.
pub(super) fn short_usage() -> String {
    format!(
        "{PROGRAM} {VERSION}\n latest revision: {REPO_URL}\n latest FAQ: {FAQ_URL}\n \
         latest (non-formatted) man page: {MAN_URL}\n \
         usage: [-?abhKlnNoOPRtUvVX] [+|-c c] [+|-d s] [+D D] [+|-E] [+|-e s] [+|-f[gG]]\n \
         [-F [f]] [-g [s]] [-i [i]] [+|-L [l]] [+m [m]] [+|-M] [-o [o]] [-p s]\n \
         [+|-r [t]] [-s [p:s]] [-S [t]] [-T [t]] [-u s] [+|-w] [-x [fl]] [--] [names]\n"
    )
}

/// The line after the short usage when there was an error and no `-h`.
pub(super) const MORE_HELP: &str = "Use the ``-h'' option to get more help information.\n";

/// The three-column part of the full help, in lsof's order.
const GRID: &[&str] = &[
    "-?|-h list help",
    "-a AND selections (OR)",
    "-b avoid kernel blocks",
    "-c c  cmd c ^c /c/[bix]",
    "+c w  COMMAND width (9)",
    "+d s  dir s files",
    "-d s  select by FD set",
    "+D D  dir D tree *SLOW?*",
    "+|-e s  exempt s *RISKY*",
    "-i select IPv[46] files",
    "-K [i] list|(i)gn tasKs",
    "-l list UID numbers",
    "-n no host names",
    "-N select NFS files",
    "-o list file offset",
    "-O no overhead *RISKY*",
    "-P no port names",
    "-Q allow failed search",
    "-R list paRent PID",
    "-s list file size",
    "-t terse listing",
    "-T disable TCP/TPI info",
    "-U select Unix socket",
    "-v list version info",
    "-V verbose search",
    "+|-w  Warnings (+)",
    "-X skip TCP&UDP* files",
    "-Z Z  context [Z]",
    "-- end option scan",
];

fn grid() -> String {
    let mut text = String::new();
    for (index, entry) in GRID.iter().enumerate() {
        let cut = |width: usize| entry.chars().take(width).collect::<String>();
        match index % 3 {
            0 => text.push_str(&format!("  {:<23}", cut(23))),
            1 => text.push_str(&format!("  {:<25}", cut(25))),
            _ => text.push_str(&format!("  {entry}\n")),
        }
    }
    if !GRID.len().is_multiple_of(3) {
        text.push('\n');
    }
    text
}

/// The full help that follows the short usage for `-h`.
pub(super) fn full_help(note: &FileStructNote) -> String {
    let mut text = String::from(
        "Defaults in parentheses; comma-separated set (s) items; dash-separated ranges.\n",
    );
    text.push_str(&grid());
    text.push_str(&format!(
        "  {:<36}  {}\n",
        "-E display endpoint info", "+E display endpoint info and files"
    ));
    text.push_str(&format!(
        "  {:<36}  +|-f[gG] flaGs {}\n",
        "+f|-f  +filesystem or -file names",
        flags_note(note)
    ));
    text.push_str(concat!(
        "  -F [f] select fields; -F? for help  \n",
        "  +|-L [l] list (+) suppress (-) link counts < l (0 = all; default = 0)\n",
        "                                        +m [m] use|create mount supplement\n",
        "  +|-M   portMap registration (-)       -o o   o 0t offset digits (8)\n",
        "  -p s   exclude(^)|select PIDs         -S [t] t second stat timeout (15)\n",
        "  -T fqs TCP/TPI Fl,Q,St (s) info\n",
        "  -g [s] exclude(^)|select and print process group IDs\n",
        "  -i i   select by IPv[46] address: [46][proto][@host|addr][:svc_list|port_list]\n",
        "  +|-r [t[m<fmt>]] repeat every t seconds (15);  + until no files, - forever.\n",
        "       An optional suffix to t is m<fmt>; m must separate t from <fmt> and\n",
        "      <fmt> is an strftime(3) format for the marker line.\n",
        "  -s p:s  exclude(^)|select protocol (p = TCP|UDP) states by name(s).\n",
        "  -u s   exclude(^)|select login|UID set s\n",
        "  -x [fl] cross over +d|+D File systems or symbolic Links\n",
        "  names  select named files or files on named file systems\n",
        "Anyone can list all files; /dev warnings disabled; kernel ID check disabled.\n",
    ));
    // rlsof's additions come after everything lsof 4.95 prints, so the
    // text above stays byte for byte lsof's.
    text.push_str("rlsof options (newer than lsof 4.95, or rlsof's own):\n");
    for (name, help) in [
        ("-H", "human readable sizes (1024-based)"),
        ("-J", "JSON output"),
        ("-j", "JSON Lines output"),
    ] {
        text.push_str(&format!("  {name:<19}  {help}\n"));
    }
    for long in LONG_FLAGS {
        text.push_str(&format!("  {:<19}  {}\n", long_name(long), long.help));
    }
    text
}

/// lsof's "(CFgN)" note: which file-struct fields are on; `g` when flags
/// are shown in hex, `G` as names (lsof's own, inverted, letters).
fn flags_note(note: &FileStructNote) -> String {
    let mut letters = String::new();
    for (letter, on) in [
        ('C', note.extras.contains('C')),
        ('F', note.extras.contains('F')),
        ('g', note.flags && note.flags_hex),
        ('G', note.flags && !note.flags_hex),
        ('N', note.extras.contains('N')),
    ] {
        if on {
            letters.push(letter);
        }
    }
    if letters.is_empty() {
        letters
    } else {
        format!("({letters})")
    }
}

/// What `-v` prints: lsof's lines, with rlsof's build (version, and the
/// git commit when known) where lsof describes its compiler.
pub(super) fn version_text() -> String {
    let commit = match crate::build_info::commit() {
        Some(commit) => format!("    git commit: {commit}\n"),
        None => String::new(),
    };
    format!(
        "{PROGRAM} version information:\n    revision: {VERSION}\n    \
         latest revision: {REPO_URL}\n    latest FAQ: {FAQ_URL}\n    \
         latest (non-formatted) man page: {MAN_URL}\n    \
         constructed as: rlsof {} (Rust)\n{commit}    \
         Anyone can list all files.\n    /dev warnings are disabled.\n    \
         Kernel ID check is disabled.\n",
        crate::build_info::VERSION
    )
}

/// What `--version` prints: rlsof's version and, when known, the commit
/// (`-v` names both in lsof's layout, from the same `build_info`).
pub(super) fn rlsof_version() -> String {
    crate::build_info::version_line()
}

/// What `--help` prints: every option with its line of the option table.
pub(super) fn long_help() -> String {
    let mut text = String::from(
        "usage: rlsof [options] [--] [names]\n\
         Lists open files as lsof 4.95 does: the same options and output.\n\n\
         Options (a + form where shown; `-h` prints lsof's own help):\n",
    );
    for flag in FLAGS {
        if flag.help.starts_with(['-', '+']) {
            text.push_str(&format!("  {}\n", flag.help));
        } else {
            text.push_str(&format!("  -{}: {}\n", char::from(flag.letter), flag.help));
        }
    }
    text.push_str("\nrlsof's own options:\n");
    for long in LONG_FLAGS {
        text.push_str(&format!("  {:<19}  {}\n", long_name(long), long.help));
    }
    text
}

fn long_name(long: &LongDef) -> String {
    match long.value_name {
        Some(value) => format!("--{} {value}", long.name),
        None => format!("--{}", long.name),
    }
}
