//! Writing the stored table: the header, then every row padded to the
//! column widths. A second thread formats every other block of rows
//! meanwhile: the rows are all known by then and the scan is over, so the
//! formatting would otherwise run on one CPU while the others idle.

use std::io::{self, Write};
use std::sync::mpsc::sync_channel;

use super::file_fields::{Align, COLUMN_COUNT, COLUMN_FIELDS, FILE_FIELDS, NAME_COLUMN};
use super::table::{
    Cells, Row, Spans, StoredRows, P_CELLS, P_COMMAND, P_PGID, P_PID, P_PPID, P_TASKCMD, P_TID,
    P_USER,
};
use crate::escape;

/// Rows formatted in one block (about 60 KiB of text), the unit the two
/// threads take turns on and the size of each write.
const BLOCK_ROWS: usize = 512;
/// Fewer rows than this are formatted on the calling thread alone.
const SHARED_FROM_ROWS: usize = 8 * BLOCK_ROWS;

impl StoredRows {
    /// Writes the header and every row to `out`, with a second thread
    /// when there are enough rows and CPUs.
    pub(super) fn write_all(&self, out: &mut impl Write) -> io::Result<()> {
        let shared = self.rows.len() >= SHARED_FROM_ROWS && self.layout.two_threads;
        self.write_all_with(out, shared)
    }

    fn write_all_with(&self, out: &mut impl Write, shared: bool) -> io::Result<()> {
        let mut header = Vec::new();
        self.write_header(&mut header);
        out.write_all(&header)?;
        // Where each block's cells start in the file buffer.
        let mut starts = Vec::with_capacity(self.rows.len() / BLOCK_ROWS + 1);
        let mut start = 0;
        for (i, row) in self.rows.iter().enumerate() {
            if i % BLOCK_ROWS == 0 {
                starts.push(start);
            }
            start += row.len();
        }
        if !shared {
            let mut text = Vec::new();
            for (block, &start) in starts.iter().enumerate() {
                self.write_block(block, start, &mut text);
                out.write_all(&text)?;
            }
            return Ok(());
        }
        std::thread::scope(|scope| {
            // The helper formats the odd blocks; at most two wait, so a slow
            // reader of the output holds back the helper too.
            let (done, received) = sync_channel::<Vec<u8>>(2);
            let starts = &starts;
            scope.spawn(move || {
                for (block, &start) in starts.iter().enumerate().skip(1).step_by(2) {
                    let mut text = Vec::new();
                    self.write_block(block, start, &mut text);
                    if done.send(text).is_err() {
                        return;
                    }
                }
            });
            let mut text = Vec::new();
            for (block, &start) in starts.iter().enumerate() {
                if block % 2 == 0 {
                    self.write_block(block, start, &mut text);
                    out.write_all(&text)?;
                } else {
                    match received.recv() {
                        Ok(odd) => out.write_all(&odd)?,
                        Err(_) => return Err(io::Error::other("table formatting thread failed")),
                    }
                }
            }
            Ok(())
        })
    }

    /// Replaces `text` with block `block`'s rows, whose cells start at
    /// `start` in the file buffer.
    fn write_block(&self, block: usize, mut start: usize, text: &mut Vec<u8>) {
        text.clear();
        let first = block * BLOCK_ROWS;
        let rows = self
            .rows
            .get(first..(first + BLOCK_ROWS).min(self.rows.len()));
        let mut prefix = (0, Vec::new());
        for row in rows.unwrap_or_default() {
            self.write_row(row, start, &mut prefix, text);
            start += row.len();
        }
    }

    fn write_header(&self, line: &mut Vec<u8>) {
        let w = &self.widths;
        let layout = &self.layout;
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
        if layout.show_ppid {
            let _ = write!(line, " {:>w$}", "PPID", w = w.ppid);
        }
        if layout.show_pgid {
            let _ = write!(line, " {:>w$}", "PGID", w = w.pgid);
        }
        let _ = write!(line, " {:>w$}", "USER", w = w.user);
        for place in (0..COLUMN_COUNT).filter(|&place| layout.shown[place]) {
            let (title, width) = (layout.titles[place], w.files[place]);
            match FILE_FIELDS[COLUMN_FIELDS[place]].column.map(|c| c.align) {
                Some(Align::RightBeforeModeChars) => {
                    let width = width.saturating_sub(2);
                    let _ = write!(line, " {title:>width$}  ");
                }
                Some(Align::LastUnpadded) => {
                    let _ = write!(line, " {title}");
                }
                _ => {
                    let _ = write!(line, " {title:>width$}");
                }
            }
        }
        line.push(b'\n');
    }

    /// The process's cells of a row (COMMAND to USER), padded: the same
    /// for every row of the process, so made once per process.
    fn write_process_cells(&self, p: &Spans<P_CELLS>, line: &mut Vec<u8>) {
        let w = &self.widths;
        let pcell = |i| p.cell(&self.pbuf, i);
        escape::command_padded(line, pcell(P_COMMAND), w.command);
        right(line, pcell(P_PID), w.pid);
        if self.any_tid {
            right(line, pcell(P_TID), w.tid);
        }
        if self.any_taskcmd {
            line.push(b' ');
            escape::command_padded(line, pcell(P_TASKCMD), w.taskcmd);
        }
        if self.layout.show_ppid {
            right(line, pcell(P_PPID), w.ppid);
        }
        if self.layout.show_pgid {
            right(line, pcell(P_PGID), w.pgid);
        }
        right(line, pcell(P_USER), w.user);
    }

    /// Writes the row whose cells start at `start` in the file buffer,
    /// after its process's cells (`prefix`, made for process `prefix.0`).
    fn write_row(&self, row: &Row, start: usize, prefix: &mut (u32, Vec<u8>), line: &mut Vec<u8>) {
        let w = &self.widths;
        if prefix.0 != row.process || prefix.1.is_empty() {
            let Some(p) = self.processes.get(row.process as usize) else {
                return;
            };
            prefix.1.clear();
            self.write_process_cells(p, &mut prefix.1);
            prefix.0 = row.process;
        }
        line.extend_from_slice(&prefix.1);
        let cells = Cells::of(&self.buf, start, row);
        for place in (0..NAME_COLUMN).filter(|&place| self.layout.shown[place]) {
            right(line, cells.cell(place), w.files[place]);
        }
        line.push(b' ');
        line.extend_from_slice(cells.cell(NAME_COLUMN));
        line.push(b'\n');
    }
}

/// A space, then `text` right-aligned in `width`.
fn right(line: &mut Vec<u8>, text: &[u8], width: usize) {
    line.push(b' ');
    line.resize(line.len() + width.saturating_sub(text.len()), b' ');
    line.extend_from_slice(text);
}

#[cfg(test)]
mod tests {
    use super::super::printer_for;
    use super::super::testdata::{python_process, MachineNames};
    use super::super::PrintSettings;
    use crate::escape;

    /// Rows formatted on two threads come out as on one, in order.
    #[test]
    fn shared_formatting_writes_what_one_thread_writes() {
        escape::init_for_tests();
        let settings = PrintSettings::default();
        let mut printed = Vec::new();
        {
            let mut printer = printer_for(&settings, &MachineNames, &mut printed);
            for pid in 1..=400 {
                let mut p = python_process();
                p.pid = pid * 7;
                printer.process(&p).expect("store");
            }
            printer.finish().expect("finish");
        }
        let mut alone = Vec::new();
        let mut shared = Vec::new();
        let table = super::super::table::stored_for_tests(&settings, 400, |pid| {
            let mut p = python_process();
            p.pid = pid * 7;
            p
        });
        assert!(table.rows.len() > 3 * super::BLOCK_ROWS);
        table.write_all_with(&mut alone, false).expect("alone");
        table.write_all_with(&mut shared, true).expect("shared");
        assert!(alone == shared, "two threads changed the output");
        assert!(alone == printed, "the printer wrote something else");
    }
}
