//! `-F` field output and `-t` terse output, streamed one process at a time.

use std::io::{self, Write};

use super::columns::Render;
use super::file_fields::{FileField, Target, FILE_FIELDS};
use super::Printer;
use crate::escape;
use crate::model::{OpenFile, Process};

/// Which fields `-F` selected, by letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSet {
    selected: [bool; 128],
}

impl FieldSet {
    /// Fields named by `letters` (`0`, NUL mode, is none); none named (bare
    /// `-F`) means all but `r`, as lsof does.
    pub fn from_letters(letters: &str) -> FieldSet {
        let named = letters.chars().filter(|&c| c != '0');
        let mut selected = [false; 128];
        if named.clone().next().is_none() {
            selected = [true; 128];
            selected[usize::from(b'r')] = false;
        }
        for c in named {
            if let Some(slot) = selected.get_mut(c as usize) {
                *slot = true;
            }
        }
        // lsof always prints the PID.
        selected[usize::from(b'p')] = true;
        FieldSet { selected }
    }

    pub(crate) fn has(&self, letter: char) -> bool {
        self.selected.get(letter as usize).copied().unwrap_or(false)
    }
}

pub(crate) struct FieldPrinter<'a, W: Write> {
    render: Render<'a>,
    fields: FieldSet,
    /// The per-file fields to write, in `-F` order: those selected that the
    /// settings show.
    file_fields: Vec<&'static FileField>,
    term: u8,
    out: W,
    buf: Vec<u8>,
    scratch: Vec<u8>,
}

impl<'a, W: Write> FieldPrinter<'a, W> {
    /// The options a field letter switches on in lsof (`o`, `k`, `g`, `R`,
    /// `T`, `G`) are already in the settings: the command line decides them
    /// in order, so a later `-L`, `-T` or `-fg` can take them back.
    pub(crate) fn new(render: Render<'a>, fields: FieldSet, nul: bool, out: W) -> Self {
        let file_fields = FILE_FIELDS
            .iter()
            .filter(|field| fields.has(char::from(field.letter)))
            .filter(|field| field.when.holds(render.settings))
            .collect();
        FieldPrinter {
            render,
            fields,
            file_fields,
            term: if nul { 0 } else { b'\n' },
            out,
            buf: Vec::with_capacity(4096),
            scratch: Vec::new(),
        }
    }

    fn field(&mut self, letter: u8, value: &[u8]) {
        self.buf.push(letter);
        self.buf.extend_from_slice(value);
        self.buf.push(self.term);
    }

    fn field_fmt(&mut self, letter: u8, value: std::fmt::Arguments) {
        self.buf.push(letter);
        let _ = self.buf.write_fmt(value);
        self.buf.push(self.term);
    }

    fn process_set(&mut self, p: &Process) {
        let fields = self.fields;
        let has = |c| fields.has(c);
        let (tid, tcmd, pgid, ppid, cmd, uid, login) = (
            has('K'),
            has('M'),
            has('g'),
            has('R'),
            has('c'),
            has('u'),
            has('L'),
        );
        self.field_fmt(b'p', format_args!("{}", p.pid));
        if let (true, Some(t)) = (tid, p.tid) {
            self.field_fmt(b'K', format_args!("{t}"));
        }
        if let (true, Some(t)) = (tcmd, &p.task_cmd) {
            // lsof prints the task name without escaping.
            self.field(b'M', t);
        }
        if pgid && self.render.settings.show_pgid {
            self.field_fmt(b'g', format_args!("{}", p.pgid));
        }
        if ppid && self.render.settings.show_ppid {
            self.field_fmt(b'R', format_args!("{}", p.ppid));
        }
        if cmd {
            // An empty name as read stays empty, as lsof prints a name it
            // read (4.95 shows a stale one instead: DIVERGENCES.md).
            self.buf.push(b'c');
            escape::escape_into(&mut self.buf, &p.command);
            self.buf.push(self.term);
        }
        if uid {
            // lsof prints the UID as a signed int.
            self.field_fmt(b'u', format_args!("{}", p.uid as i32));
        }
        if login {
            if let (name, true) = self.render.user(p.uid) {
                self.field(b'L', name.as_bytes());
            }
        }
        if self.term == 0 {
            self.buf.push(b'\n');
        }
    }

    fn file_set(&mut self, f: &OpenFile) {
        let start = self.buf.len();
        let target = Target::Fields { term: self.term };
        for field in &self.file_fields {
            let letter_at = self.buf.len();
            self.buf.push(field.letter);
            if (field.value)(&self.render, f, target, &mut self.buf, &mut self.scratch) {
                self.buf.push(self.term);
            } else {
                self.buf.truncate(letter_at);
            }
        }
        if self.term == 0 && self.buf.len() > start {
            self.buf.push(b'\n');
        }
    }
}

impl<W: Write> Printer for FieldPrinter<'_, W> {
    fn process(&mut self, p: &Process) -> io::Result<()> {
        if p.files.is_empty() {
            return Ok(());
        }
        self.buf.clear();
        self.process_set(p);
        for f in &p.files {
            self.file_set(f);
            if self.buf.len() >= 64 * 1024 {
                self.out.write_all(&self.buf)?;
                self.buf.clear();
            }
        }
        self.out.write_all(&self.buf)
    }

    fn finish(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    fn end_cycle(&mut self, marker: Option<&[u8]>) -> io::Result<()> {
        self.out.write_all(b"m")?;
        self.out.write_all(marker.unwrap_or_default())?;
        self.out.write_all(&[self.term])?;
        if self.term == 0 {
            self.out.write_all(b"\n")?;
        }
        self.out.flush()
    }
}

/// `-t`: each listed PID once.
pub(crate) struct TersePrinter<W: Write> {
    out: W,
    last_pid: Option<i32>,
}

impl<W: Write> TersePrinter<W> {
    pub(crate) fn new(out: W) -> Self {
        TersePrinter {
            out,
            last_pid: None,
        }
    }
}

impl<W: Write> Printer for TersePrinter<W> {
    fn process(&mut self, p: &Process) -> io::Result<()> {
        if p.files.is_empty() || self.last_pid == Some(p.pid) {
            return Ok(());
        }
        self.last_pid = Some(p.pid);
        writeln!(self.out, "{}", p.pid)
    }

    fn finish(&mut self) -> io::Result<()> {
        // Each `-r` cycle lists every PID again, as lsof does.
        self.last_pid = None;
        self.out.flush()
    }

    fn end_cycle(&mut self, marker: Option<&[u8]>) -> io::Result<()> {
        super::write_marker_line(&mut self.out, marker)
    }
}
