//! lsof's table: columns sized over all rows, so rows are kept until
//! `finish`. File cell texts live in one byte buffer, row after row, so a
//! row needs only its cells' lengths (24 bytes); process cells are stored
//! once per process, in a buffer of their own.

use std::io::{self, Write};

use super::columns::Render;
use super::file_fields::{Target, COLUMN_COUNT, COLUMN_FIELDS, FILE_FIELDS, NAME_COLUMN};
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
    pub(super) lens: [u16; NAME_COLUMN],
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
    ends: [usize; COLUMN_COUNT],
}

impl<'b> Cells<'b> {
    pub(super) fn of(buf: &'b [u8], start: usize, row: &Row) -> Cells<'b> {
        let mut ends = [0; COLUMN_COUNT];
        let mut end = 0;
        for (i, &len) in row.lens.iter().enumerate() {
            end += len as usize;
            ends[i] = end;
        }
        ends[NAME_COLUMN] = end + row.name_len as usize;
        let bytes = buf
            .get(start..start + ends[NAME_COLUMN])
            .unwrap_or_default();
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
    /// The file columns', by place.
    pub(super) files: [usize; COLUMN_COUNT],
}

impl Widths {
    pub(super) fn titles(file_titles: &[&str; COLUMN_COUNT]) -> Widths {
        Widths {
            command: "COMMAND".len(),
            pid: "PID".len(),
            tid: "TID".len(),
            taskcmd: "TASKCMD".len(),
            ppid: "PPID".len(),
            pgid: "PGID".len(),
            user: "USER".len(),
            files: file_titles.map(str::len),
        }
    }
}

pub(crate) struct TablePrinter<'a, W: Write> {
    render: Render<'a>,
    out: W,
    /// The raw NAME of the file being stored, reused.
    scratch: Vec<u8>,
    layout: Layout,
    table: StoredRows,
}

/// Which columns the settings show, and their titles: fixed for the life
/// of a printer.
#[derive(Clone, Copy)]
pub(super) struct Layout {
    pub(super) show_ppid: bool,
    pub(super) show_pgid: bool,
    /// The file columns', by place.
    pub(super) shown: [bool; COLUMN_COUNT],
    pub(super) titles: [&'static str; COLUMN_COUNT],
    /// A second thread may format rows (see `PrintSettings::cpus`).
    pub(super) two_threads: bool,
}

impl Layout {
    fn new(render: &Render) -> Layout {
        let settings = render.settings;
        let column = |place: usize| {
            let field = &FILE_FIELDS[COLUMN_FIELDS[place]];
            let title = field.column.map_or("", |c| c.title.text(settings));
            (field.when.holds(settings), title)
        };
        let columns: [(bool, &'static str); COLUMN_COUNT] = std::array::from_fn(column);
        Layout {
            show_ppid: settings.show_ppid,
            show_pgid: settings.show_pgid,
            shown: columns.map(|(shown, _)| shown),
            titles: columns.map(|(_, title)| title),
            two_threads: settings.cpus > 1,
        }
    }
}

/// The rows kept until `finish`, and what their layout needs: plain data,
/// shared by the threads that format it.
pub(super) struct StoredRows {
    /// File cells, row after row.
    pub(super) buf: Vec<u8>,
    /// Process cells.
    pub(super) pbuf: Vec<u8>,
    pub(super) processes: Vec<Spans<P_CELLS>>,
    pub(super) rows: Vec<Row>,
    pub(super) widths: Widths,
    pub(super) any_tid: bool,
    pub(super) any_taskcmd: bool,
    pub(super) layout: Layout,
}

impl StoredRows {
    fn new(layout: Layout) -> StoredRows {
        StoredRows {
            buf: Vec::new(),
            pbuf: Vec::new(),
            processes: Vec::new(),
            rows: Vec::new(),
            widths: Widths::titles(&layout.titles),
            any_tid: false,
            any_taskcmd: false,
            layout,
        }
    }
}

impl<'a, W: Write> TablePrinter<'a, W> {
    pub(crate) fn new(render: Render<'a>, out: W) -> Self {
        let layout = Layout::new(&render);
        TablePrinter {
            render,
            out,
            scratch: Vec::new(),
            layout,
            table: StoredRows::new(layout),
        }
    }

    fn limited(&self, width: usize) -> usize {
        match self.render.settings.command_width {
            None => width,
            Some(limit) => width.min(limit),
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
        let buf = &mut self.table.buf;
        let start = buf.len();
        let mut ends = [0; COLUMN_COUNT];
        for (place, end) in ends.iter_mut().enumerate() {
            if self.layout.shown[place] {
                let field = &FILE_FIELDS[COLUMN_FIELDS[place]];
                (field.value)(&self.render, f, Target::Table, buf, &mut self.scratch);
            }
            *end = offset(buf.len(), start);
        }
        let (lens, name_len) = cell_lengths(buf, start, &ends);
        let widths = &mut self.table.widths.files;
        for (width, &len) in widths.iter_mut().zip(&lens) {
            *width = (*width).max(len as usize);
        }
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
fn cell_lengths(
    buf: &mut Vec<u8>,
    start: usize,
    ends: &[u32; COLUMN_COUNT],
) -> ([u16; NAME_COLUMN], u32) {
    let mut lens = [0u16; NAME_COLUMN];
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
    let name = from..ends[NAME_COLUMN] as usize;
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
        self.table = StoredRows::new(self.layout);
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
    settings: &super::PrintSettings,
    count: i32,
    process: impl Fn(i32) -> Process,
) -> StoredRows {
    let render = Render::new(settings, &super::testdata::MachineNames);
    let mut printer = TablePrinter::new(render, Vec::new());
    for n in 1..=count {
        printer.process(&process(n)).expect("store");
    }
    printer.table
}
