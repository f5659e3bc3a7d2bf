//! The validated command line, as typed values. Built by the parser without
//! any I/O; names (users, hosts, files) are resolved later.

use std::ffi::OsString;

/// A list item that may be negated with `^`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item<T> {
    pub value: T,
    pub excluded: bool,
}

/// `-u` value: a login name (resolved later) or a numeric UID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserSpec {
    Name(String),
    Uid(u32),
}

/// `-c` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandSpec {
    Prefix(Vec<u8>),
    /// `/regex/[bix]`, kept as written; compiled by select.
    Regex {
        pattern: String,
        modifiers: String,
    },
}

/// `-d` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FdSpec {
    Range(u32, u32),
    Name(String),
}

/// `+D`/`+d` directory search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirSearch {
    pub path: OsString,
    pub recursive: bool,
}

/// `-i` address, as typed; host names resolved later.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InetSpec {
    /// The text as given, for messages.
    pub text: String,
    /// Some(4) or Some(6).
    pub family: Option<u8>,
    /// "TCP" or "UDP" (upper case), if given.
    pub protocol: Option<String>,
    pub host: Option<String>,
    /// Port ranges; a service name is resolved to its port by the parser.
    pub ports: Vec<PortSpec>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortSpec {
    Range(u16, u16),
    Service(String),
}

/// `-s p:s` state selection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateSpec {
    pub protocol: String,
    pub states: Vec<Item<String>>,
}

/// `+L`/`-L` link-count selection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LinkCount {
    /// `-L` (default): no NLINK column.
    #[default]
    Off,
    /// `+L`: show the NLINK column.
    Show,
    /// `+L n`: show, and select files with fewer than n links.
    Below(u64),
}

/// `-K` thread listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tasks {
    /// lsof 4.95's default.
    #[default]
    Default,
    /// `-K`: list tasks.
    List,
    /// `-K i`: ignore tasks.
    Ignore,
}

/// Output style.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Output {
    #[default]
    Table,
    /// `-F`: the field letters chosen (empty: the default set), NUL mode.
    Fields { letters: String, nul: bool },
    /// `-t`.
    Terse,
    /// `-J`.
    Json,
    /// `-j`.
    JsonLines,
}

/// `-r`/`+r` repeat mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repeat {
    pub seconds: u32,
    /// `+r`: stop when a cycle lists nothing.
    pub until_empty: bool,
    pub cycles: Option<u32>,
    /// `m<fmt>`: the marker format.
    pub marker: Option<String>,
}

/// rlsof's own long options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Extra {
    /// `--deleted`.
    DeletedReport,
    /// `--recover PID:FD --to PATH`.
    Recover { pid: i32, fd: u32, to: OsString },
    /// `--recover-all --to DIR`.
    RecoverAll { to: OsString },
}

#[derive(Debug, Clone, Default)]
pub struct Options {
    pub pids: Vec<Item<i32>>,
    pub pgids: Vec<Item<i32>>,
    pub users: Vec<Item<UserSpec>>,
    pub commands: Vec<Item<CommandSpec>>,
    pub fds: Vec<Item<FdSpec>>,
    pub inet: Vec<InetSpec>,
    /// `-i` given with or without addresses.
    pub inet_selected: bool,
    pub unix_sockets: bool,
    pub nfs: bool,
    pub states: Vec<StateSpec>,
    pub dirs: Vec<DirSearch>,
    /// File name arguments.
    pub names: Vec<OsString>,
    /// `-a`.
    pub and: bool,

    /// `-n`.
    pub no_host_names: bool,
    /// `-P`.
    pub no_port_names: bool,
    /// `-l`.
    pub numeric_users: bool,
    /// `-w`/`+w`: suppress warnings (default true).
    pub no_warnings: bool,
    /// `-o [n]`: show offsets; the digit count.
    /// Printers read only `is_some()`: bare `-o` (offsets instead of sizes).
    /// lsof 4.95 does NOT switch to offsets for `-o n`; that form only sets
    /// `offset_digits`.
    pub offset: Option<usize>,
    /// `-o n`: decimal digits of an offset before `0x` form (None: 8;
    /// Some(0): always decimal).
    pub offset_digits: Option<usize>,
    /// `-s` without a value: show sizes only.
    pub size_only: bool,
    /// `+c w`: command width (default 9; 0 means as long as available).
    pub command_width: usize,
    /// `-R`: PPID column.
    pub ppid: bool,
    /// `-g` given: PGID column.
    pub show_pgid: bool,
    pub tasks: Tasks,
    pub link_count: LinkCount,
    /// `-T [fqs]` letters, None when -T not given ("s" by default);
    /// Some("") for a bare `-T` (no TCP/TPI information).
    pub tcp_info: Option<String>,
    /// `+E`/`-E`.
    pub endpoints: Option<bool>,
    /// `+f g` / `+f G`: show file flags.
    pub file_flags: Option<char>,
    /// `-H`.
    pub human_sizes: bool,
    /// `-S [t]` timeout in seconds.
    pub timeout_secs: u32,
    /// `-b`, `-O`: avoid blocking kernel calls.
    pub avoid_blocking: bool,
    /// `-x [fl]`.
    pub cross: Option<String>,
    /// `+e`/`-e` paths exempt from blocking calls.
    pub exempt_fs: Vec<OsString>,
    /// `-Q`: a search failure is not an error.
    pub quiet_failures: bool,
    /// `-V`: report items not found.
    pub verbose_failures: bool,
    pub output: Output,
    /// `-F` letters given together with `-J`/`-j`: they choose the JSON keys.
    pub json_fields: Option<String>,
    pub repeat: Option<Repeat>,
    pub extra: Option<Extra>,
    /// `-h`/`-?`.
    pub help: bool,
    /// `-v`.
    pub version: bool,
}

impl Options {
    /// Defaults as lsof has them.
    pub fn new() -> Options {
        Options {
            no_warnings: false,
            command_width: 9,
            timeout_secs: 15,
            ..Default::default()
        }
    }
}
