//! lsof's table: columns sized over all rows, so rows are kept until
//! `finish`. File cell texts live in one byte buffer, row after row, so a
//! row needs only its cells' lengths (24 bytes); process cells are stored
//! once per process, in a buffer of their own.

use std::io::{self, Write};

use super::columns::{self, Render};
use super::Printer;
use crate::escape;
use crate::model::{OpenFile, Process};

/// Cells kept once per process.
pub(super) const P_COMMAND: usize = 0;
pub(super) const P_PID: usize = 1;
pub(super) const P_TID: usize = 2;
pub(super) const P_TASKCMD: usize = 3;
pub(super) const P_PPID: usize = 4;
pub(super) const P_PGID: usize = 5;
pub(super) const P_USER: usize = 6;
pub(super) const P_CELLS: usize = 7;

/// Cells kept per file.
pub(super) const F_FD: usize = 0;
pub(super) const F_TYPE: usize = 1;
pub(super) const F_FLAGS: usize = 2;
pub(super) const F_DEVICE: usize = 3;
pub(super) const F_SIZEOFF: usize = 4;
pub(super) const F_NLINK: usize = 5;
pub(super) const F_NODE: usize = 6;
pub(super) const F_NAME: usize = 7;
pub(super) const F_CELLS: usize = 8;

/// Where a process's cells end in the process buffer; cell i spans
/// `ends[i-1]..ends[i]` past `start` (cell 0 starts at `start`).
pub(super) struct Spans<const N: usize> {
    pub(super) start: usize,
    pub(super) ends: [u32; N],
}

impl<const N: usize> Spans<N> {
    pub(super) fn cell<'b>(&self, buf: &'b [u8], i: usize) -> &'b [u8] {
        let from = if i == 0 { 0 } else { self.ends[i - 1] };
        let span = self.start + from as usize..self.start + self.ends[i] as usize;
        buf.get(span).unwrap_or_default()
    }
}

/// One file's row: its process, and the lengths of its cells, which
/// follow the previous row's in the file buffer. Cells but NAME are a few
/// bytes; a longer one is cut at `u16::MAX` bytes.
pub(super) struct Row {
    pub(super) process: u32,
    pub(super) lens: [u16; F_NAME],
    pub(super) name_len: u32,
}

impl Row {
    pub(super) fn len(&self) -> usize {
        self.lens.iter().map(|&l| l as usize).sum::<usize>() + self.name_len as usize
    }
}

/// The cells of a row stored at `start` in `buf`.
pub(super) struct Cells<'b> {
    bytes: &'b [u8],
    ends: [usize; F_CELLS],
}

impl<'b> Cells<'b> {
    pub(super) fn of(buf: &'b [u8], start: usize, row: &Row) -> Cells<'b> {
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

    pub(super) fn cell(&self, i: usize) -> &'b [u8] {
        let from = if i == 0 { 0 } else { self.ends[i - 1] };
        self.bytes.get(from..self.ends[i]).unwrap_or_default()
    }
}

/// Column widths, starting at the titles' widths.
pub(super) struct Widths {
    pub(super) command: usize,
    pub(super) pid: usize,
    pub(super) tid: usize,
    pub(super) taskcmd: usize,
    pub(super) ppid: usize,
    pub(super) pgid: usize,
    pub(super) user: usize,
    pub(super) fd: usize,
    pub(super) file_type: usize,
    pub(super) flags: usize,
    pub(super) device: usize,
    pub(super) size_off: usize,
    pub(super) nlink: usize,
    pub(super) node: usize,
}

impl Widths {
    pub(super) fn titles(size_title: &str) -> Widths {
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
    /// The raw NAME of the file being stored, reused.
    scratch: Vec<u8>,
    size_title: &'static str,
    table: Stored,
}

/// The rows kept until `finish`, and what their layout needs: plain data,
/// shared by the threads that format it.
pub(super) struct Stored {
    /// File cells, row after row.
    pub(super) buf: Vec<u8>,
    /// Process cells.
    pub(super) pbuf: Vec<u8>,
    pub(super) processes: Vec<Spans<P_CELLS>>,
    pub(super) rows: Vec<Row>,
    pub(super) widths: Widths,
    pub(super) any_tid: bool,
    pub(super) any_taskcmd: bool,
    pub(super) show_ppid: bool,
    pub(super) show_pgid: bool,
    pub(super) show_flags: bool,
    pub(super) show_nlink: bool,
    pub(super) size_title: &'static str,
}

impl Stored {
    fn new(render: &Render, size_title: &'static str) -> Stored {
        Stored {
            buf: Vec::new(),
            pbuf: Vec::new(),
            processes: Vec::new(),
            rows: Vec::new(),
            widths: Widths::titles(size_title),
            any_tid: false,
            any_taskcmd: false,
            show_ppid: render.show_ppid,
            show_pgid: render.show_pgid,
            show_flags: render.file_flags.is_some(),
            show_nlink: render.show_nlink,
            size_title,
        }
    }
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
        let table = Stored::new(&render, size_title);
        TablePrinter {
            render,
            out,
            scratch: Vec::new(),
            size_title,
            table,
        }
    }

    fn limited(&self, width: usize) -> usize {
        match self.render.command_limit {
            0 => width,
            limit => width.min(limit),
        }
    }

    fn store_process(&mut self, p: &Process) {
        let start = self.table.pbuf.len();
        let mut ends = [0; P_CELLS];
        // An empty name as read (prctl(PR_SET_NAME, "")) stays empty, as
        // lsof prints a name it read (4.95 shows a stale one: DIVERGENCES.md).
        self.table.pbuf.extend_from_slice(&p.command);
        ends[P_COMMAND] = offset(self.table.pbuf.len(), start);
        let _ = write!(self.table.pbuf, "{}", p.pid);
        ends[P_PID] = offset(self.table.pbuf.len(), start);
        if let Some(tid) = p.tid {
            let _ = write!(self.table.pbuf, "{tid}");
            self.table.any_tid = true;
        }
        ends[P_TID] = offset(self.table.pbuf.len(), start);
        if let Some(cmd) = &p.task_cmd {
            self.table.pbuf.extend_from_slice(cmd);
            self.table.any_taskcmd = true;
            let w = self.limited(escape::command_width(cmd));
            self.table.widths.taskcmd = self.table.widths.taskcmd.max(w);
        }
        ends[P_TASKCMD] = offset(self.table.pbuf.len(), start);
        let _ = write!(self.table.pbuf, "{}", p.ppid);
        ends[P_PPID] = offset(self.table.pbuf.len(), start);
        let _ = write!(self.table.pbuf, "{}", p.pgid);
        ends[P_PGID] = offset(self.table.pbuf.len(), start);
        let (user, _) = self.render.user(p.uid);
        self.table.pbuf.extend_from_slice(user.as_bytes());
        ends[P_USER] = offset(self.table.pbuf.len(), start);
        let spans = Spans { start, ends };
        let cell_len = |i| spans.cell(&self.table.pbuf, i).len();
        let command_w = self.limited(escape::command_width(&p.command));
        let w = &mut self.table.widths;
        w.command = w.command.max(command_w);
        w.pid = w.pid.max(cell_len(P_PID));
        w.tid = w.tid.max(cell_len(P_TID));
        w.ppid = w.ppid.max(cell_len(P_PPID));
        w.pgid = w.pgid.max(cell_len(P_PGID));
        w.user = w.user.max(cell_len(P_USER));
        self.table.processes.push(spans);
    }

    fn store_file(&mut self, f: &OpenFile) {
        let r = &self.render;
        let buf = &mut self.table.buf;
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
        let w = &mut self.table.widths;
        w.fd = w.fd.max(lens[F_FD] as usize);
        w.file_type = w.file_type.max(lens[F_TYPE] as usize);
        w.flags = w.flags.max(lens[F_FLAGS] as usize);
        w.device = w.device.max(lens[F_DEVICE] as usize);
        w.size_off = w.size_off.max(lens[F_SIZEOFF] as usize);
        w.nlink = w.nlink.max(lens[F_NLINK] as usize);
        w.node = w.node.max(lens[F_NODE] as usize);
        self.table.rows.push(Row {
            process: offset(self.table.processes.len(), 1),
            lens,
            name_len,
        });
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
        if !self.table.rows.is_empty() {
            self.table.write_all(&mut self.out)?;
        }
        // Ready for the next `-r` cycle, which lsof sizes afresh.
        self.table = Stored::new(&self.render, self.size_title);
        self.out.flush()
    }

    fn end_cycle(&mut self, marker: Option<&[u8]>) -> io::Result<()> {
        super::write_marker_line(&mut self.out, marker)
    }
}

/// The rows a table printer would hold after `count` processes made by
/// `process(1..=count)`.
#[cfg(test)]
pub(super) fn stored_for_tests(
    opts: &crate::cli::options::Options,
    count: i32,
    process: impl Fn(i32) -> Process,
) -> Stored {
    let render = Render::new(opts, &super::testdata::MachineNames);
    let mut printer = TablePrinter::new(render, Vec::new());
    for n in 1..=count {
        printer.process(&process(n)).expect("store");
    }
    printer.table
}
