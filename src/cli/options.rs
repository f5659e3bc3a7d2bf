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
    /// `/regex/[bix]`, as written and compiled (once, by the parser).
    Regex {
        pattern: String,
        modifiers: String,
        compiled: std::sync::Arc<crate::sys::regex::PosixRegex>,
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
    /// "TCP", "UDP" or "UDPLITE" (upper case), if given.
    pub protocol: Option<String>,
    pub host: Option<String>,
    /// `host` when it was a literal address (`1.2.3.4`, `[::1]`); a
    /// v4-mapped IPv6 literal is stored as IPv4, as lsof does.
    pub addr: Option<std::net::IpAddr>,
    /// Port items in the order given; service names are left for the
    /// caller to resolve (see `cli::lookup_messages` for lsof's messages).
    pub ports: Vec<PortSpec>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortSpec {
    /// Ports lo..=hi. A number above 65535 (which lsof accepts and never
    /// matches) is kept as an empty range (lo > hi).
    Range(u16, u16),
    /// A service name, resolved by the caller (`getservbyname`).
    Service(String),
    /// `N-name`: from port N to the port of a service name (resolved later;
    /// lsof rejects it when the service's port is below N).
    RangeToService(u16, String),
    /// The rest of the list is not valid: lsof's message for it (such as
    /// "invalid service name:"). Kept only after a service name, which
    /// lsof looks up first: an unknown one is the error it reports.
    Unparsable(String),
}

/// `+m [m]`: the mount supplement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MountSupplement {
    /// `+m`: write a mount supplement to stdout and exit.
    Create,
    /// `+m path`: read the mount supplement from path.
    Use(OsString),
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
    /// `+L n` (n > 0): show, and select files with fewer than n links.
    Below(u64),
}

/// `-T` letters given (lsof's `f`, `q`, `s`; Linux has no `w`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TcpInfo {
    /// `f`: socket options and flags (lsof on Linux shows none).
    pub flags: bool,
    /// `q`: queue lengths.
    pub queues: bool,
    /// `s`: the connection state.
    pub state: bool,
}

/// `+f g` / `+f G`: how the file flags column shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagsShown {
    /// `g`: lsof's short names.
    Names,
    /// `G`: hexadecimal.
    Hex,
}

/// `-x [fl]`: what a `+d`/`+D` search crosses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Cross {
    /// `f`: file system mount points.
    pub file_systems: bool,
    /// `l`: symbolic links.
    pub symlinks: bool,
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
pub enum Feature {
    /// `--deleted`.
    DeletedReport,
    /// `--recover PID:FD --to PATH [--force]`.
    Recover {
        pid: i32,
        fd: u32,
        to: OsString,
        force: bool,
    },
    /// `--recover-all --to DIR [--force]`.
    RecoverAll { to: OsString, force: bool },
    /// `--summary`.
    Summary(FleetSettings),
    /// `--metrics [--metrics-file PATH]`.
    Metrics {
        settings: FleetSettings,
        file: Option<OsString>,
    },
    /// `--serve ADDR [--serve-remote]`.
    Serve {
        settings: FleetSettings,
        addr: std::net::SocketAddr,
    },
    /// `--top`: the live view (`leak_cycles`: `--leak-cycles K`).
    Top { leak_cycles: u32 },
    /// `--changes` (with `-r`/`+r`): what opened and closed each cycle.
    Changes { leak_cycles: u32 },
}

/// How much `--summary`, `--metrics` and `--serve` show (see `cli::fleet`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetSettings {
    /// `--fd-top N`: processes shown; None for the mode's default.
    pub top: Option<usize>,
    /// `--listeners-max N`.
    pub listeners: usize,
    /// `--metrics-paths N`: deleted files given a path label.
    pub deleted_paths: usize,
    /// `--cache-age SECONDS`: how long `--serve` reuses a scan.
    pub cache_age_secs: u64,
}

#[derive(Debug, Clone)]
pub struct Options {
    pub pids: Vec<Item<i32>>,
    pub pgids: Vec<Item<i32>>,
    pub users: Vec<Item<UserSpec>>,
    pub commands: Vec<Item<CommandSpec>>,
    pub fds: Vec<Item<FdSpec>>,
    pub inet: Vec<InetSpec>,
    /// `-i` alone, `-i4` or `-i6` (all Internet files; `inet_family`
    /// narrows them); `-i ADDR` fills `inet` instead.
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
    /// `-w` (or `-t`): suppress warnings; `+w` re-enables them. Default
    /// false: lsof 4.95 as built here warns.
    pub no_warnings: bool,
    /// Show the offset column (`-o`, `-Fo`): Some(offset_digits).
    pub offset: Option<usize>,
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
    /// `-T [fqs]`, None when -T not given (the state by default); `-T`
    /// alone asks for nothing (no TCP/TPI info), `+T` alone for the state;
    /// `-FT` asks for all three.
    pub tcp_info: Option<TcpInfo>,
    /// `+E` (Some(true): endpoints and files) / `-E` (Some(false): endpoint
    /// info only).
    pub endpoints: Option<bool>,
    /// Show the file flags column: as names (`+fg`), in hex (`+fG`, or `-F`
    /// with no letters or with `G`); `-fg` clears it.
    pub file_flags: Option<FlagsShown>,
    /// `-H`.
    pub human_sizes: bool,
    /// `-S [t]` timeout in seconds.
    pub timeout_secs: u32,
    /// `-b`, `-O`: avoid blocking kernel calls.
    pub avoid_blocking: bool,
    /// `-x [fl]`: what `+d`/`+D` cross (both for `-x` alone).
    pub cross: Option<Cross>,
    /// `+e`/`-e` paths exempt from blocking calls.
    pub exempt_fs: Vec<OsString>,
    /// `-Q`: a search failure is not an error.
    pub quiet_failures: bool,
    /// `-V`: report items not found.
    pub verbose_failures: bool,
    pub output: Output,
    pub repeat: Option<Repeat>,
    pub feature: Option<Feature>,
    /// `-h`/`-?`.
    pub help: bool,
    /// `-v`.
    pub version: bool,

    /// `-F?`: print lsof's field list (`cli::info_text`) and exit 0.
    pub field_help: bool,
    /// For `-h`, `-?`, `-v`, `-F?`: the exact text lsof prints on stderr
    /// before exiting 0 (after `notices`). Empty otherwise.
    pub info_message: String,
    /// For `--help` and `--version` (rlsof's own): the text for stdout,
    /// printed instead of a listing (exit 0). Empty otherwise.
    pub long_info: String,
    /// Messages lsof prints to stderr while parsing without failing (e.g.
    /// `-S 1`); the caller prints them before anything else.
    pub notices: Vec<String>,
    /// `-i4`/`-i6` alone (lsof's FnetTy): Some(4|6); None for both.
    pub inet_family: Option<u8>,
    /// `-o n`: digits of a 0t offset before switching to 0x (default 8).
    /// Setting it does not turn on the offset column (`offset`).
    pub offset_digits: usize,
    /// `+f` (Some(true): names are file systems) / `-f` (Some(false): names
    /// are files); None: lsof decides per name.
    pub file_system_names: Option<bool>,
    /// The flags column was asked for with `+f g|G` (lsof warns about
    /// flags it cannot decode only then).
    pub file_flags_by_option: bool,
    /// `+M`: report portmapper registrations (`-M`: don't, the default).
    pub portmap: bool,
    /// `-O`: no overhead (no child process for blocking calls).
    pub no_overhead: bool,
    /// `+m [m]`.
    pub mount_supplement: Option<MountSupplement>,
    /// `-X` (toggles): skip TCP and UDP files.
    pub skip_tcp_udp: bool,
    /// `+e path`: exempt file systems whose path is used as given (no
    /// readlink); `exempt_fs` holds the `-e` ones, which the caller must
    /// resolve with readlink. Trailing slashes are already removed.
    pub exempt_fs_literal: Vec<OsString>,
    /// `-F` letters given together with `-J`/`-j` (JSON follows -F's field
    /// selection); None when -F was not given.
    pub json_fields: Option<String>,
}

impl Default for Options {
    /// Defaults as lsof has them: nothing selected, the table, `+c 9`,
    /// `-S 15`, `-o 8`.
    fn default() -> Options {
        Options {
            pids: Vec::new(),
            pgids: Vec::new(),
            users: Vec::new(),
            commands: Vec::new(),
            fds: Vec::new(),
            inet: Vec::new(),
            inet_selected: false,
            unix_sockets: false,
            nfs: false,
            states: Vec::new(),
            dirs: Vec::new(),
            names: Vec::new(),
            and: false,
            no_host_names: false,
            no_port_names: false,
            numeric_users: false,
            no_warnings: false,
            offset: None,
            size_only: false,
            command_width: 9,
            ppid: false,
            show_pgid: false,
            tasks: Default::default(),
            link_count: Default::default(),
            tcp_info: None,
            endpoints: None,
            file_flags: None,
            human_sizes: false,
            timeout_secs: 15,
            avoid_blocking: false,
            cross: None,
            exempt_fs: Vec::new(),
            quiet_failures: false,
            verbose_failures: false,
            output: Default::default(),
            repeat: None,
            feature: None,
            help: false,
            version: false,
            field_help: false,
            info_message: String::new(),
            long_info: String::new(),
            notices: Vec::new(),
            inet_family: None,
            offset_digits: 8,
            file_system_names: None,
            file_flags_by_option: false,
            portmap: false,
            no_overhead: false,
            mount_supplement: None,
            skip_tcp_udp: false,
            exempt_fs_literal: Vec::new(),
            json_fields: None,
        }
    }
}

impl Options {
    /// The defaults (see `Default`).
    pub fn new() -> Options {
        Options::default()
    }
}
