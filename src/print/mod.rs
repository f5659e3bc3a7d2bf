//! Turning typed records into bytes: table, -F fields, -t, JSON.
//!
//! The printers depend on `model` and on their own [`PrintSettings`] only
//! (built once by `app::print_settings` from the options). Per-file fields
//! are listed once, in `file_fields` (letter, column, JSON key, when shown,
//! extractor in `file_values`); the table, `-F` and JSON printers walk that
//! list. Per-process fields (COMMAND...USER, `-F p c u L...`) are written by
//! each printer directly.
//!
//! Every printer takes processes one at a time ([`Printer::process`]) and
//! writes to any `io::Write`; [`Printer::finish`] ends the output (the table
//! prints everything there, since lsof sizes its columns over all rows).
//!
//! What the printers read from each `OpenFile` (scan fills, print decides):
//! * `fd`, `access`, `lock`, `file_type`: FD and TYPE columns.
//! * `dev` (`st_dev`), `rdev` (`st_rdev`, CHR/BLK only), `device` (socket
//!   override: `KernelAddr` for UNIX sockets, `Decimal(inode)` for TCP/UDP
//!   and packet sockets): DEVICE; `-F D` is `dev`, `-F d` is `device`.
//!   `dev` is ignored for sockets decoded from kernel tables.
//! * `size` (`st_size`) and `offset` (fdinfo `pos`, descriptors only): the
//!   printer applies lsof's rule (CHR/BLK/FIFO/sockets show the offset, others
//!   the size; `-o` offsets, `-s` sizes). By default only CHR, BLK, FIFO and
//!   socket descriptors need `pos`; with `-o` (or `-F o`, JSON) all do; with
//!   `-s` none do.
//! * `inode` (NODE, except IP/packet sockets which show the protocol),
//!   `nlink` (`+L`, `-F k`, JSON; not for sockets), `flags` (fdinfo `flags`,
//!   `+f g/G`, `-F G`).
//! * `name` (+ `deleted` for " (deleted)", `note` for " (text)",
//!   `endpoints` for `+E`), or `socket` whose fields the NAME is built from.
//!
//! Names are escaped by [`crate::escape`], which needs `init_locale()` at
//! start.

mod columns;
mod fields;
mod file_fields;
mod file_values;
mod json;
mod name_column;
mod settings;
mod table;
mod table_write;

use std::io::{self, Write};
use std::net::IpAddr;

/// The table's (and `-t`'s) line between `-r` cycles.
pub const REPEAT_MARKER: &[u8] = b"=======";

/// Ends a `-r` cycle of the table or `-t`: the marker line (lsof's
/// `=======` unless `m<fmt>` gave one), then a flush.
fn write_marker_line(out: &mut impl Write, marker: Option<&[u8]>) -> io::Result<()> {
    out.write_all(marker.unwrap_or(REPEAT_MARKER))?;
    out.write_all(b"\n")?;
    out.flush()
}
use crate::model::{IpProto, Process};

use fields::{FieldPrinter, TersePrinter};

pub use columns::Render;
pub use fields::FieldSet;
pub use json::base64;
pub(crate) use json::JsonPrinter;
pub use settings::{FlagStyle, OutputKind, PrintSettings, TcpInfoParts};
pub(crate) use table::TablePrinter;

/// Turns one process (already selected, with only its selected files) into
/// output.
pub trait Printer {
    fn process(&mut self, p: &Process) -> io::Result<()>;
    /// Ends the output of one listing; call once after the last process.
    /// The printer is then ready for the next `-r` cycle.
    fn finish(&mut self) -> io::Result<()>;
    /// Ends one `-r` cycle, after `finish`: lsof's marker line (`=======`,
    /// or `marker`, the formatted `m<fmt>` text; an `m` field under `-F`),
    /// then flushes.
    fn end_cycle(&mut self, marker: Option<&[u8]>) -> io::Result<()>;
}

/// Name services the printers consult (implemented with caches elsewhere).
/// Printers ask only when `-n`, `-P`, `-l` do not forbid it.
pub trait NameLookup: Sync {
    fn host(&self, ip: IpAddr) -> Option<String>;
    /// Asked for TCP and UDP ports only, as lsof does.
    fn service(&self, port: u16, proto: IpProto) -> Option<String>;
    fn user(&self, uid: u32) -> Option<String>;
}

/// A lookup that knows no names: everything prints as numbers.
pub struct NumericNames;

impl NameLookup for NumericNames {
    fn host(&self, _ip: IpAddr) -> Option<String> {
        None
    }
    fn service(&self, _port: u16, _proto: IpProto) -> Option<String> {
        None
    }
    fn user(&self, _uid: u32) -> Option<String> {
        None
    }
}

/// The printer for `settings.output`.
pub(crate) fn printer_for<'a, W: Write + 'a>(
    settings: &'a PrintSettings,
    names: &'a dyn NameLookup,
    out: W,
) -> Box<dyn Printer + 'a> {
    let render = Render::new(settings, names);
    match settings.output {
        OutputKind::Table => Box::new(TablePrinter::new(render, out)),
        OutputKind::Fields { fields, nul } => Box::new(FieldPrinter::new(render, fields, nul, out)),
        OutputKind::Terse => Box::new(TersePrinter::new(out)),
        OutputKind::Json { lines, fields } => {
            let printer = JsonPrinter::new(render, lines, out);
            match fields {
                Some(fields) => Box::new(printer.with_fields(fields)),
                None => Box::new(printer),
            }
        }
    }
}

#[cfg(test)]
mod testdata;
#[cfg(test)]
mod tests;
