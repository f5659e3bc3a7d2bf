//! What the printers need to know from the command line, as typed values.
//!
//! The application builds one [`PrintSettings`] from the parsed options
//! (`app::print_settings`); the printers never see the options themselves,
//! so they do not depend on how lsof's grammar spells a choice.

use super::fields::FieldSet;

/// Which printer writes the listing, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutputKind {
    /// lsof's table.
    #[default]
    Table,
    /// `-F`: the fields chosen, and whether they end in NUL (`-F0`) rather
    /// than a newline.
    Fields { fields: FieldSet, nul: bool },
    /// `-t`: PIDs only.
    Terse,
    /// `-J` (one document) or `-j` (`lines`: one object per file); `fields`
    /// when `-F` letters limit the keys.
    Json {
        lines: bool,
        fields: Option<FieldSet>,
    },
}

/// How `+f g` / `+f G` show a file's open flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagStyle {
    /// `+f g`: lsof's names (`RW,LG,CX`).
    Names,
    /// `+f G` (and `-F G`): hexadecimal.
    Hex,
}

/// Which parts of the TCP/TPI information `-T` shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpInfoParts {
    /// `s`: the connection state.
    pub state: bool,
    /// `q`: the receive and send queue lengths.
    pub queues: bool,
    /// Any `-T` letter at all, even one Linux cannot show (`f`, `w`): lsof
    /// then still leaves room for the information after NAME.
    pub any: bool,
}

/// Every choice the printers make from the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrintSettings {
    pub output: OutputKind,
    /// Not `-n`: look up host names.
    pub host_names: bool,
    /// Not `-P`: look up port (service) names.
    pub port_names: bool,
    /// Not `-l`: look up login names.
    pub user_names: bool,
    /// `-T`.
    pub tcp_info: TcpInfoParts,
    /// `-o` (or `-F o`): offsets instead of sizes.
    pub offsets: bool,
    /// `-s`: sizes only.
    pub sizes_only: bool,
    /// `-o n`: offsets with more than this many digits print in hex; 0
    /// means never.
    pub offset_digits: usize,
    /// `-H`: sizes in K, M, G...
    pub human_sizes: bool,
    /// `+c w`: the most of a command name the table shows; None: all.
    pub command_width: Option<usize>,
    /// `-g` (or `-F g`): the PGID column and field.
    pub show_pgid: bool,
    /// `-R` (or `-F R`): the PPID column and field.
    pub show_ppid: bool,
    /// `+L` (or `-F k`): the NLINK column and field.
    pub show_nlink: bool,
    /// `+f g`/`+f G` (or `-F G`): the FILE-FLAG column and field.
    pub file_flags: Option<FlagStyle>,
    /// CPUs the printers may use (the table formats a long listing on
    /// two threads).
    pub cpus: usize,
}

impl Default for PrintSettings {
    /// lsof's defaults: names looked up, TCP state shown, commands cut at 9
    /// characters, offsets in hex past 8 digits.
    fn default() -> Self {
        PrintSettings {
            output: OutputKind::Table,
            host_names: true,
            port_names: true,
            user_names: true,
            tcp_info: TcpInfoParts {
                state: true,
                queues: false,
                any: true,
            },
            offsets: false,
            sizes_only: false,
            offset_digits: 8,
            human_sizes: false,
            command_width: Some(9),
            show_pgid: false,
            show_ppid: false,
            show_nlink: false,
            file_flags: None,
            cpus: 1,
        }
    }
}

impl PrintSettings {
    /// The title of the SIZE/OFF column, which says what it shows.
    pub(crate) fn size_off_title(&self) -> &'static str {
        if self.offsets {
            "OFFSET"
        } else if self.sizes_only {
            "SIZE"
        } else {
            "SIZE/OFF"
        }
    }
}
