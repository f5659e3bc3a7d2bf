//! lsof's table: columns sized over all rows, so rows are kept until
//! `finish`. File cell texts live in one byte buffer, row after row, so a
//! row needs only its cells' lengths (24 bytes); process cells are stored
//! once per process, in a buffer of their own.

use std::io::{self, Write};

use super::columns::{self, Render};
use super::Printer;
use crate::escape;
use crate::model::{OpenFile, Process};

/// Bytes gathered before each write to the output.
const CHUNK: usize = 64 * 1024;

/// Cells kept once per process.
const P_COMMAND: usize = 0;
const P_PID: usize = 1;
const P_TID: usize = 2;
const P_TASKCMD: usize = 3;
const P_PPID: usize = 4;
const P_PGID: usize = 5;
const P_USER: usize = 6;
const P_CELLS: usize = 7;

/// Cells kept per file.
const F_FD: usize = 0;
const F_TYPE: usize = 1;
const F_FLAGS: usize = 2;
const F_DEVICE: usize = 3;
const F_SIZEOFF: usize = 4;
const F_NLINK: usize = 5;
const F_NODE: usize = 6;
const F_NAME: usize = 7;
const F_CELLS: usize = 8;

/// Where a process's cells end in the process buffer; cell i spans
/// `ends[i-1]..ends[i]` past `start` (cell 0 starts at `start`).
struct Spans<const N: usize> {
    start: usize,
    ends: [u32; N],
}

impl<const N: usize> Spans<N> {
    fn cell<'b>(&self, buf: &'b [u8], i: usize) -> &'b [u8] {
        let from = if i == 0 { 0 } else { self.ends[i - 1] };
        let span = self.start + from as usize..self.start + self.ends[i] as usize;
        buf.get(span).unwrap_or_default()
    }
}

/// One file's row: its process, and the lengths of its cells, which
/// follow the previous row's in the file buffer. Cells but NAME are a few
/// bytes; a longer one is cut at `u16::MAX` bytes.
struct Row {
    process: u32,
    lens: [u16; F_NAME],
    name_len: u32,
}

impl Row {
    fn len(&self) -> usize {
        self.lens.iter().map(|&l| l as usize).sum::<usize>() + self.name_len as usize
    }
}

/// The cells of a row stored at `start` in `buf`.
struct Cells<'b> {
    bytes: &'b [u8],
    ends: [usize; F_CELLS],
}

impl<'b> Cells<'b> {
    fn of(buf: &'b [u8], start: usize, row: &Row) -> Cells<'b> {
        let mut ends = [0; F_CELLS];
        let mut end = 0;
        for (i, &len) in row.lens.iter().enumerate() {
            end += len as usize;
            ends[i] = end;
        }
        ends[F_NAME] = end + row.name_len as usize;
        let bytes = buf.get(start..start + ends[F_NAME]).unwrap_or_default();
        Cells { bytes, ends }
    }

    fn cell(&self, i: usize) -> &'b [u8] {
        let from = if i == 0 { 0 } else { self.ends[i - 1] };
        self.bytes.get(from..self.ends[i]).unwrap_or_default()
    }
}

/// Column widths, starting at the titles' widths.
struct Widths {
    command: usize,
    pid: usize,
    tid: usize,
    taskcmd: usize,
    ppid: usize,
    pgid: usize,
    user: usize,
    fd: usize,
    file_type: usize,
    flags: usize,
    device: usize,
    size_off: usize,
    nlink: usize,
    node: usize,
}

impl Widths {
    fn titles(size_title: &str) -> Widths {
        Widths {
            command: "COMMAND".len(),
            pid: "PID".len(),
            tid: "TID".len(),
            taskcmd: "TASKCMD".len(),
            ppid: "PPID".len(),
            pgid: "PGID".len(),
            user: "USER".len(),
            fd: "FD".len(),
            file_type: "TYPE".len(),
            flags: "FILE-FLAG".len(),
            device: "DEVICE".len(),
            size_off: size_title.len(),
            nlink: "NLINK".len(),
            node: "NODE".len(),
        }
    }
}

pub struct TablePrinter<'a, W: Write> {
    render: Render<'a>,
    out: W,
    /// File cells, row after row.
    buf: Vec<u8>,
    /// Process cells.
    pbuf: Vec<u8>,
    /// The raw NAME of the file being stored, reused.
    scratch: Vec<u8>,
    processes: Vec<Spans<P_CELLS>>,
    rows: Vec<Row>,
    widths: Widths,
    any_tid: bool,
    any_taskcmd: bool,
    size_title: &'static str,
}

impl<'a, W: Write> TablePrinter<'a, W> {
    pub fn new(render: Render<'a>, out: W) -> Self {
        let size_title = if render.offset_mode {
            "OFFSET"
        } else if render.size_mode {
            "SIZE"
        } else {
            "SIZE/OFF"
        };
        let widths = Widths::titles(size_title);
        TablePrinter {
            render,
            out,
            buf: Vec::new(),
            pbuf: Vec::new(),
            scratch: Vec::new(),
            processes: Vec::new(),
            rows: Vec::new(),
            widths,
            any_tid: false,
            any_taskcmd: false,
            size_title,
        }
    }

    fn limited(&self, width: usize) -> usize {
        match self.render.command_limit {
            0 => width,
            limit => width.min(limit),
        }
    }

    fn store_process(&mut self, p: &Process) {
        let start = self.pbuf.len();
        let mut ends = [0; P_CELLS];
        let command: &[u8] = if p.command.is_empty() {
            b"(unknown)"
        } else {
            &p.command
        };
        self.pbuf.extend_from_slice(command);
        ends[P_COMMAND] = offset(self.pbuf.len(), start);
        let _ = write!(self.pbuf, "{}", p.pid);
        ends[P_PID] = offset(self.pbuf.len(), start);
        if let Some(tid) = p.tid {
            let _ = write!(self.pbuf, "{tid}");
            self.any_tid = true;
        }
        ends[P_TID] = offset(self.pbuf.len(), start);
        if let Some(cmd) = &p.task_cmd {
            self.pbuf.extend_from_slice(cmd);
            self.any_taskcmd = true;
            let w = self.limited(escape::command_width(cmd));
            self.widths.taskcmd = self.widths.taskcmd.max(w);
        }
        ends[P_TASKCMD] = offset(self.pbuf.len(), start);
        let _ = write!(self.pbuf, "{}", p.ppid);
        ends[P_PPID] = offset(self.pbuf.len(), start);
        let _ = write!(self.pbuf, "{}", p.pgid);
        ends[P_PGID] = offset(self.pbuf.len(), start);
        let (user, _) = self.render.user(p.uid);
        self.pbuf.extend_from_slice(user.as_bytes());
        ends[P_USER] = offset(self.pbuf.len(), start);
        let spans = Spans { start, ends };
        let cell_len = |i| spans.cell(&self.pbuf, i).len();
        let command_w = self.limited(escape::command_width(command));
        let w = &mut self.widths;
        w.command = w.command.max(command_w);
        w.pid = w.pid.max(cell_len(P_PID));
        w.tid = w.tid.max(cell_len(P_TID));
        w.ppid = w.ppid.max(cell_len(P_PPID));
        w.pgid = w.pgid.max(cell_len(P_PGID));
        w.user = w.user.max(cell_len(P_USER));
        self.processes.push(spans);
    }

    fn store_file(&mut self, f: &OpenFile) {
        let r = &self.render;
        let buf = &mut self.buf;
        let start = buf.len();
        let mut ends = [0; F_CELLS];
        columns::fd_text(f, buf);
        ends[F_FD] = offset(buf.len(), start);
        if let Some(t) = &f.file_type {
            buf.extend_from_slice(t.label().as_bytes());
        }
        ends[F_TYPE] = offset(buf.len(), start);
        if let Some(mode) = r.file_flags {
            let hex = mode == 'G';
            if let (true, Some(flags)) = (columns::has_flags(f, hex), f.flags) {
                columns::flags_text(flags, hex, buf);
            }
        }
        ends[F_FLAGS] = offset(buf.len(), start);
        columns::device_text(f, buf);
        ends[F_DEVICE] = offset(buf.len(), start);
        r.size_off_text(f, buf);
        ends[F_SIZEOFF] = offset(buf.len(), start);
        if let (true, Some(n)) = (r.show_nlink, columns::nlink(f)) {
            // lsof's NLINK cell carries a leading space.
            let _ = write!(buf, " {n}");
        }
        ends[F_NLINK] = offset(buf.len(), start);
        columns::node_text(f, buf);
        ends[F_NODE] = offset(buf.len(), start);
        let name = &mut self.scratch;
        name.clear();
        r.name_text(f, true, name);
        escape::escape_into(buf, name);
        ends[F_NAME] = offset(buf.len(), start);
        let (lens, name_len) = cell_lengths(buf, start, &ends);
        let w = &mut self.widths;
        w.fd = w.fd.max(lens[F_FD] as usize);
        w.file_type = w.file_type.max(lens[F_TYPE] as usize);
        w.flags = w.flags.max(lens[F_FLAGS] as usize);
        w.device = w.device.max(lens[F_DEVICE] as usize);
        w.size_off = w.size_off.max(lens[F_SIZEOFF] as usize);
        w.nlink = w.nlink.max(lens[F_NLINK] as usize);
        w.node = w.node.max(lens[F_NODE] as usize);
        self.rows.push(Row {
            process: offset(self.processes.len(), 1),
            lens,
            name_len,
        });
    }

    fn write_header(&mut self, line: &mut Vec<u8>) {
        let w = &self.widths;
        let _ = write!(
            line,
            "{:<cw$} {:>pw$}",
            "COMMAND",
            "PID",
            cw = w.command,
            pw = w.pid
        );
        if self.any_tid {
            let _ = write!(line, " {:>w$}", "TID", w = w.tid);
        }
        if self.any_taskcmd {
            let _ = write!(line, " {:<w$}", "TASKCMD", w = w.taskcmd);
        }
        if self.render.show_ppid {
            let _ = write!(line, " {:>w$}", "PPID", w = w.ppid);
        }
        if self.render.show_pgid {
            let _ = write!(line, " {:>w$}", "PGID", w = w.pgid);
        }
        let fd_w = w.fd.saturating_sub(2);
        let _ = write!(
            line,
            " {:>uw$} {:>fd_w$}   {:>tw$}",
            "USER",
            "FD",
            "TYPE",
            uw = w.user,
            tw = w.file_type
        );
        if self.render.file_flags.is_some() {
            let _ = write!(line, " {:>w$}", "FILE-FLAG", w = w.flags);
        }
        let _ = write!(
            line,
            " {:>dw$} {:>sw$}",
            "DEVICE",
            self.size_title,
            dw = w.device,
            sw = w.size_off
        );
        if self.render.show_nlink {
            let _ = write!(line, " {:>w$}", "NLINK", w = w.nlink);
        }
        let _ = writeln!(line, " {:>w$} NAME", "NODE", w = w.node);
    }

    /// Writes the row whose cells start at `start` in the file buffer.
    fn write_row(&self, row: &Row, start: usize, line: &mut Vec<u8>) {
        let w = &self.widths;
        let Some(p) = self.processes.get(row.process as usize) else {
            return;
        };
        let pcell = |i| p.cell(&self.pbuf, i);
        let cells = Cells::of(&self.buf, start, row);
        let fcell = |i| cells.cell(i);
        escape::command_padded(line, pcell(P_COMMAND), w.command);
        right(line, pcell(P_PID), w.pid);
        if self.any_tid {
            right(line, pcell(P_TID), w.tid);
        }
        if self.any_taskcmd {
            line.push(b' ');
            escape::command_padded(line, pcell(P_TASKCMD), w.taskcmd);
        }
        if self.render.show_ppid {
            right(line, pcell(P_PPID), w.ppid);
        }
        if self.render.show_pgid {
            right(line, pcell(P_PGID), w.pgid);
        }
        right(line, pcell(P_USER), w.user);
        right(line, fcell(F_FD), w.fd);
        right(line, fcell(F_TYPE), w.file_type);
        if self.render.file_flags.is_some() {
            right(line, fcell(F_FLAGS), w.flags);
        }
        right(line, fcell(F_DEVICE), w.device);
        right(line, fcell(F_SIZEOFF), w.size_off);
        if self.render.show_nlink {
            right(line, fcell(F_NLINK), w.nlink);
        }
        right(line, fcell(F_NODE), w.node);
        line.push(b' ');
        line.extend_from_slice(fcell(F_NAME));
        line.push(b'\n');
    }
}

/// The lengths of a row's cells stored at `start` with these ends. A cell
/// but NAME longer than `u16::MAX` (none is: they are numbers and short
/// words) is cut to that length, moving the cells after it.
fn cell_lengths(buf: &mut Vec<u8>, start: usize, ends: &[u32; F_CELLS]) -> ([u16; F_NAME], u32) {
    let mut lens = [0u16; F_NAME];
    let mut from = 0usize;
    let mut kept = start;
    for (i, len) in lens.iter_mut().enumerate() {
        let cell = from..ends[i] as usize;
        from = cell.end;
        let n = cell.len().min(u16::MAX as usize);
        if kept != start + cell.start {
            buf.copy_within(start + cell.start..start + cell.start + n, kept);
        }
        kept += n;
        *len = n as u16;
    }
    let name = from..ends[F_NAME] as usize;
    if kept != start + name.start {
        buf.copy_within(start + name.start..start + name.end, kept);
        buf.truncate(kept + name.len());
    }
    (lens, offset(name.end, name.start))
}

/// `end - start` as a compact offset (cells are far below 4 GiB).
fn offset(end: usize, start: usize) -> u32 {
    u32::try_from(end.saturating_sub(start)).unwrap_or(u32::MAX)
}

/// A space, then `text` right-aligned in `width`.
fn right(line: &mut Vec<u8>, text: &[u8], width: usize) {
    line.push(b' ');
    line.resize(line.len() + width.saturating_sub(text.len()), b' ');
    line.extend_from_slice(text);
}

impl<W: Write> Printer for TablePrinter<'_, W> {
    fn process(&mut self, p: &Process) -> io::Result<()> {
        if p.files.is_empty() {
            return Ok(());
        }
        self.store_process(p);
        for f in &p.files {
            self.store_file(f);
        }
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        if self.rows.is_empty() {
            return self.out.flush();
        }
        let mut chunk = Vec::with_capacity(CHUNK + 512);
        self.write_header(&mut chunk);
        let mut start = 0;
        for row in &self.rows {
            self.write_row(row, start, &mut chunk);
            start += row.len();
            if chunk.len() >= CHUNK {
                self.out.write_all(&chunk)?;
                chunk.clear();
            }
        }
        self.out.write_all(&chunk)?;
        // Ready for the next `-r` cycle, which lsof sizes afresh.
        self.rows = Vec::new();
        self.processes = Vec::new();
        self.buf = Vec::new();
        self.pbuf = Vec::new();
        self.widths = Widths::titles(self.size_title);
        self.any_tid = false;
        self.any_taskcmd = false;
        self.out.flush()
    }

    fn end_cycle(&mut self, marker: Option<&[u8]>) -> io::Result<()> {
        super::write_marker_line(&mut self.out, marker)
    }
}
