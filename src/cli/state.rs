//! What the parser keeps while it reads the options: the `Options` being
//! built, the messages so far, and lsof's bookkeeping for the checks made
//! once all options are read.

use super::options::{Item, Options};
use crate::escape::safe_text;
use crate::model::TcpState;

/// The program name put before every message: argv[0]'s base name, as
/// lsof names itself, so that a link named `lsof` prints lsof's bytes and
/// `rlsof` says `rlsof:`. Until `main` names it (library tests), `lsof`.
pub static PROGRAM: ProgramName = ProgramName;

static PROGRAM_NAME: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// See [`PROGRAM`]; shows as the name.
#[derive(Debug, Clone, Copy)]
pub struct ProgramName;

impl ProgramName {
    /// Names the program after `argv0`'s last path component (the first
    /// call wins).
    pub fn set_from_argv0(&self, argv0: &std::ffi::OsStr) {
        use std::os::unix::ffi::OsStrExt;
        let bytes = argv0.as_bytes();
        let base = bytes.rsplit(|&b| b == b'/').next().unwrap_or_default();
        let _ = PROGRAM_NAME.set(String::from_utf8_lossy(base).into_owned());
    }

    pub fn as_str(&self) -> &'static str {
        PROGRAM_NAME.get().map_or("lsof", String::as_str)
    }
}

impl std::fmt::Display for ProgramName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How an option used the value it was offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueUse {
    Taken,
    /// Read the whole value again as options.
    Refused,
    /// The first n bytes were the value; read the rest again as options.
    Prefix(usize),
}

/// lsof's TCP/TPI info bits (`-T`).
pub(super) const TCP_FLAGS: u8 = 1;
pub(super) const TCP_QUEUES: u8 = 2;
pub(super) const TCP_STATE: u8 = 4;

/// `-x` bits.
pub(super) const CROSS_FS: u8 = 1;
pub(super) const CROSS_LINKS: u8 = 2;

#[derive(Debug, Default)]
pub struct State {
    pub opts: Options,
    /// Every line printed so far, errors and warnings, in order.
    pub lines: Vec<String>,
    pub failed: bool,

    /// `-d` list kind so far: Some(true) when it excludes.
    pub fd_list_excludes: Option<bool>,
    /// `-s TCP:` states included and excluded, by table index.
    /// `-s TCP:` states by kernel number (`TcpState::NAMES`).
    pub tcp_included: [bool; TcpState::NAMES.len()],
    pub tcp_excluded: [bool; TcpState::NAMES.len()],
    /// `-s` alone (lsof's Fsize) and the offset column (Foffset).
    pub size_flag: bool,
    pub offset_flag: bool,
    /// `-F` given, and whether its default set was chosen.
    pub fields_given: bool,
    pub default_fields: bool,
    pub field_letters: String,
    pub nul_terminator: bool,
    pub terse: bool,
    pub json: bool,
    pub json_lines: bool,
    /// `-r ...m<fmt>`.
    pub marker: Option<String>,
    pub cross: u8,
    pub dir_given: bool,
    /// TCP/TPI bits; None: lsof's default (state only).
    pub tcp_bits: Option<u8>,
    /// lsof's Fnlink (`+L` column), Nlink and whether +L n selected.
    pub link_column: bool,
    pub link_limit: u64,
    pub link_selected: bool,
    /// Flags column (lsof's FSV_FG) and its hex form.
    pub flags_column: bool,
    pub flags_hex: bool,
    /// lsof's other file-struct fields (count, address, node), chosen only
    /// through `-F` and shown only in the help text.
    pub file_struct_extras: String,
    /// lsof's Fnet (`-i` alone or `-i4`/`-i6`) and FnetTy.
    pub inet_any: bool,
    pub inet_family: u8,
    /// lsof's `-a` needs a selection; SELTASK comes from -K.
    pub task_selected: bool,
}

impl State {
    pub fn new() -> State {
        State {
            opts: Options::new(),
            ..State::default()
        }
    }

    /// An error line: `lsof: <text>`; the run will fail.
    pub fn error(&mut self, text: impl AsRef<str>) {
        self.say(text);
        self.failed = true;
    }

    /// A line that does not fail the run.
    pub fn say(&mut self, text: impl AsRef<str>) {
        self.lines.push(format!("{PROGRAM}: {}\n", text.as_ref()));
    }

    /// An error lsof reports only while warnings are enabled.
    pub fn warning_error(&mut self, text: impl AsRef<str>) {
        if !self.opts.no_warnings {
            self.say(text);
        }
        self.failed = true;
    }

    pub fn messages(&self) -> String {
        self.lines.concat()
    }
}

/// Split a `^`-prefixed list item.
pub(super) fn split_exclusion(item: &[u8]) -> (bool, &[u8]) {
    match item.strip_prefix(b"^") {
        Some(rest) => (true, rest),
        None => (false, item),
    }
}

/// Build an `Item`.
pub(super) fn item<T>(value: T, excluded: bool) -> Item<T> {
    Item { value, excluded }
}

/// `safe_text` for messages that echo user input.
pub(super) fn shown(bytes: &[u8]) -> String {
    safe_text(bytes, false)
}

/// Leading ASCII digits of `bytes`, lsof-style: the value (wrapping like C's
/// int arithmetic) and how many digits there were.
pub(super) fn leading_number(bytes: &[u8]) -> (i64, usize) {
    let digits = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    let value = bytes[..digits].iter().fold(0i32, |acc, &d| {
        acc.wrapping_mul(10).wrapping_add(i32::from(d - b'0'))
    });
    (i64::from(value), digits)
}

/// Whether a possible value is absent or looks like the next option, which
/// most lsof options then refuse.
pub(super) fn no_value(value: Option<&[u8]>) -> bool {
    match value {
        None => true,
        Some(v) => v.first().is_some_and(|&b| b == b'-' || b == b'+'),
    }
}

/// Refuse a value only when there was one.
pub(super) fn refused_if_any(value: Option<&[u8]>) -> ValueUse {
    if value.is_some() {
        ValueUse::Refused
    } else {
        ValueUse::Taken
    }
}
