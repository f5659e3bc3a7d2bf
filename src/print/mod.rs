//! Turning typed records into bytes: table, -F fields, -t, JSON.
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
//! `escape::init_locale()` must run at start (lsof's `setlocale`), or every
//! byte >= 0x80 is escaped as in the C locale.

mod columns;
pub mod escape;
mod fields;
mod json;
mod name;
mod table;

use std::io::{self, Write};
use std::net::IpAddr;

use crate::cli::options::{Options, Output};
use crate::model::{IpProto, Process};

pub use columns::Render;
pub use fields::{FieldPrinter, TersePrinter};
pub use json::JsonPrinter;
pub use table::TablePrinter;

/// Turns one process (already selected, with only its selected files) into
/// output.
pub trait Printer {
    fn process(&mut self, p: &Process) -> io::Result<()>;
    /// Ends the output; call once after the last process.
    fn finish(&mut self) -> io::Result<()>;
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

/// The printer for `opts.output`.
pub fn printer_for<'a, W: Write + 'a>(
    opts: &'a Options,
    names: &'a dyn NameLookup,
    out: W,
) -> Box<dyn Printer + 'a> {
    let render = Render::new(opts, names);
    match &opts.output {
        Output::Table => Box::new(TablePrinter::new(render, out)),
        Output::Fields { letters, nul } => Box::new(FieldPrinter::new(render, letters, *nul, out)),
        Output::Terse => Box::new(TersePrinter::new(out)),
        Output::Json | Output::JsonLines => {
            let lines = opts.output == Output::JsonLines;
            let printer = JsonPrinter::new(render, lines, out);
            match &opts.json_fields {
                Some(letters) => Box::new(printer.with_fields(letters)),
                None => Box::new(printer),
            }
        }
    }
}

/// The line lsof writes after each `-r` cycle: `=======` (or the `m<fmt>`
/// text, already formatted by the caller) in the table, an `m` field in
/// `-F` output.
pub fn write_repeat_marker(
    opts: &Options,
    marker: Option<&str>,
    out: &mut dyn Write,
) -> io::Result<()> {
    match &opts.output {
        Output::Fields { letters, nul } => {
            let term: &[u8] = if *nul || letters.contains('0') {
                b"\0\n"
            } else {
                b"\n"
            };
            out.write_all(b"m")?;
            out.write_all(marker.unwrap_or("").as_bytes())?;
            out.write_all(term)
        }
        _ => {
            out.write_all(marker.unwrap_or("=======").as_bytes())?;
            out.write_all(b"\n")
        }
    }
}

#[cfg(test)]
mod testdata;
#[cfg(test)]
mod tests;
