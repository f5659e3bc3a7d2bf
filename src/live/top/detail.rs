//! One process's files as the table lists them, each line marked: opened
//! since the refresh before (`+`), closed since (`-`, shown once).

use crate::live::{listing_rank, FileKey};
use crate::model::Process;
use crate::print::{Printer, Render, TablePrinter};
use std::collections::HashSet;

/// How a file changed since the refresh before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mark {
    Kept,
    Opened,
    Closed,
}

/// The table's header line, then each file's line with its mark.
pub(super) struct Lines {
    pub header: String,
    pub rows: Vec<(Mark, String)>,
}

/// The lines for `now`, with `before` (the same process a refresh
/// earlier) giving the marks; no marks without it.
pub(super) fn lines(render: Render, before: Option<&Process>, now: &Process) -> Lines {
    let mut marked: Vec<(Mark, &crate::model::OpenFile)> = Vec::new();
    match before {
        Some(before) => {
            let old: HashSet<FileKey> = before.files.iter().map(FileKey::of).collect();
            let new: HashSet<FileKey> = now.files.iter().map(FileKey::of).collect();
            for f in &now.files {
                let mark = if old.contains(&FileKey::of(f)) {
                    Mark::Kept
                } else {
                    Mark::Opened
                };
                marked.push((mark, f));
            }
            for f in &before.files {
                if !new.contains(&FileKey::of(f)) {
                    marked.push((Mark::Closed, f));
                }
            }
            // A closed file shows where it was listed, before a new file
            // on its descriptor.
            marked.sort_by_key(|(mark, f)| (listing_rank(f), *mark != Mark::Closed));
        }
        None => marked.extend(now.files.iter().map(|f| (Mark::Kept, f))),
    }
    let listed = Process {
        pid: now.pid,
        tid: now.tid,
        task_cmd: now.task_cmd.clone(),
        pgid: now.pgid,
        ppid: now.ppid,
        uid: now.uid,
        command: now.command.clone(),
        files: marked.iter().map(|(_, f)| (*f).clone()).collect(),
    };
    let mut text = Vec::new();
    {
        let mut printer = TablePrinter::new(render, &mut text);
        // Writing to memory cannot fail.
        let _ = printer.process(&listed);
        let _ = printer.finish();
    }
    let text = String::from_utf8_lossy(&text);
    let mut split = text.lines();
    let header = split.next().unwrap_or_default().to_string();
    let rows = marked
        .iter()
        .zip(split)
        .map(|((mark, _), line)| (*mark, line.to_string()))
        .collect();
    Lines { header, rows }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::test_file as file;
    use crate::print::NumericNames;

    #[test]
    fn opened_and_closed_files_are_marked_in_listing_order() {
        let settings = crate::print::PrintSettings::default();
        let p = |files| Process {
            pid: 4,
            command: b"x".to_vec(),
            files,
            ..Process::default()
        };
        let before = p(vec![file(1, 1, "/a"), file(3, 3, "/old")]);
        let now = p(vec![file(1, 1, "/a"), file(3, 4, "/new"), file(5, 5, "/b")]);
        let out = lines(Render::new(&settings, &NumericNames), Some(&before), &now);
        assert!(out.header.starts_with("COMMAND PID"), "{}", out.header);
        let marks: Vec<(Mark, &str)> = out
            .rows
            .iter()
            .map(|(m, l)| (*m, l.rsplit(' ').next().unwrap_or_default()))
            .collect();
        assert_eq!(
            marks,
            [
                (Mark::Kept, "/a"),
                (Mark::Closed, "/old"),
                (Mark::Opened, "/new"),
                (Mark::Opened, "/b"),
            ]
        );
    }
}
