//! `-F` field output and `-t` terse output, streamed one process at a time.

use std::io::{self, Write};

use super::columns::{self, Node, Render, SizeOff};
use super::Printer;
use crate::escape;
use crate::model::{OpenFile, Process};

/// The `-F` letters lsof 4.95 knows for Linux (see `lsof -F?`).
const KNOWN: &str = "acdDfGikKlLmMnoprRgPsStTu";

/// Which fields `-F` selected.
#[derive(Debug, Clone, Copy)]
pub struct FieldSet {
    selected: [bool; 128],
}

impl FieldSet {
    /// Fields named by `letters`; none named (bare `-F`) means all but `r`,
    /// as lsof does.
    pub fn from_letters(letters: &str) -> FieldSet {
        let mut selected = [false; 128];
        let named: Vec<char> = letters.chars().filter(|c| *c != '0').collect();
        let chosen: Vec<char> = if named.is_empty() {
            KNOWN.chars().filter(|&c| c != 'r').collect()
        } else {
            named
        };
        for c in chosen {
            if let Some(slot) = selected.get_mut(c as usize) {
                *slot = true;
            }
        }
        // lsof always prints the PID.
        selected[usize::from(b'p')] = true;
        FieldSet { selected }
    }

    pub fn has(&self, letter: char) -> bool {
        self.selected.get(letter as usize).copied().unwrap_or(false)
    }
}

pub struct FieldPrinter<'a, W: Write> {
    render: Render<'a>,
    fields: FieldSet,
    term: u8,
    out: W,
    buf: Vec<u8>,
    scratch: Vec<u8>,
}

impl<'a, W: Write> FieldPrinter<'a, W> {
    /// The options a field letter switches on in lsof (`o`, `k`, `g`, `R`,
    /// `T`, `G`) are already in `render`: the command line decides them in
    /// order, so a later `-L`, `-T` or `-fg` can take them back.
    pub fn new(render: Render<'a>, letters: &str, nul: bool, out: W) -> Self {
        let fields = FieldSet::from_letters(letters);
        let nul = nul || letters.contains('0');
        FieldPrinter {
            render,
            fields,
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
        if pgid && self.render.show_pgid {
            self.field_fmt(b'g', format_args!("{}", p.pgid));
        }
        if ppid && self.render.show_ppid {
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
        let fields = self.fields;
        let has = |c| fields.has(c);
        if has('f') {
            self.field(b'f', columns::fd_label(f).as_bytes());
        }
        let (access, lock) = (
            f.access.as_char().map_or(b' ', |c| c as u8),
            f.lock.as_char().map_or(b' ', |c| c as u8),
        );
        if has('a') {
            self.field(b'a', &[access]);
        }
        if has('l') {
            self.field(b'l', &[lock]);
        }
        if let (true, Some(t)) = (has('t'), &f.file_type) {
            if !t.label().is_empty() {
                self.field(b't', t.label().as_bytes());
            }
        }
        let flag_mode = self.render.file_flags.filter(|_| has('G'));
        if let (Some(mode), Some(flags)) = (flag_mode, f.flags) {
            // `+fg` after `-F` names the flags, as in the table.
            let hex = mode == 'G';
            if columns::has_flags(f, hex) {
                self.scratch.clear();
                columns::flags_text(flags, hex, &mut self.scratch);
                let v = std::mem::take(&mut self.scratch);
                self.field(b'G', &v);
                self.scratch = v;
            }
        }
        if has('d') {
            self.scratch.clear();
            if columns::device_chars(f, &mut self.scratch) {
                let v = std::mem::take(&mut self.scratch);
                self.field(b'd', &v);
                self.scratch = v;
            }
        }
        if let (true, Some(d)) = (has('D'), columns::stat_dev(f)) {
            self.field_fmt(b'D', format_args!("{:#x}", d.raw()));
        }
        if let (true, Some(d)) = (has('r'), f.rdev) {
            self.field_fmt(b'r', format_args!("{:#x}", d.raw()));
        }
        match self.render.size_off(f) {
            SizeOff::Size(s) if has('s') => self.field_fmt(b's', format_args!("{s}")),
            SizeOff::Offset(o) if has('o') => {
                self.buf.push(b'o');
                self.render.offset_text(o, &mut self.buf);
                self.buf.push(self.term);
            }
            _ => {}
        }
        let node = columns::node(f);
        if let (true, Node::Inode(i)) = (has('i'), &node) {
            self.field_fmt(b'i', format_args!("{i}"));
        }
        if let (true, Some(n)) = (has('k') && self.render.show_nlink, columns::nlink(f)) {
            self.field_fmt(b'k', format_args!("{n}"));
        }
        if let (true, Node::Protocol(p)) = (has('P'), &node) {
            self.field(b'P', p.as_bytes());
        }
        if has('n') {
            self.scratch.clear();
            self.render.name_text(f, false, &mut self.scratch);
            self.buf.push(b'n');
            escape::escape_into(&mut self.buf, &self.scratch);
            self.buf.push(self.term);
        }
        if has('T') {
            if let Some(info) = self.render.tcp_info(f) {
                if let Some(state) = info.state {
                    self.field_fmt(b'T', format_args!("ST={state}"));
                }
                if let Some(q) = info.recv_queue {
                    self.field_fmt(b'T', format_args!("QR={q}"));
                }
                if let Some(q) = info.send_queue {
                    self.field_fmt(b'T', format_args!("QS={q}"));
                }
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
pub struct TersePrinter<W: Write> {
    out: W,
    last_pid: Option<i32>,
}

impl<W: Write> TersePrinter<W> {
    pub fn new(out: W) -> Self {
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
