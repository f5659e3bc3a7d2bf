//! What the live view shows and how keys change it: the sort column and
//! direction, the filter, pause, help, the highlighted process and the
//! process whose files are shown.

use super::stats::Row;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::cmp::Ordering;

/// The table's columns, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Column {
    Pid,
    User,
    Command,
    Fds,
    Limit,
    Percent,
    Growth,
    Deleted,
    Sockets,
}

impl Column {
    pub(super) const ALL: [Column; 9] = [
        Column::Pid,
        Column::User,
        Column::Command,
        Column::Fds,
        Column::Limit,
        Column::Percent,
        Column::Growth,
        Column::Deleted,
        Column::Sockets,
    ];

    pub(super) fn title(self) -> &'static str {
        match self {
            Column::Pid => "PID",
            Column::User => "USER",
            Column::Command => "COMMAND",
            Column::Fds => "FDS",
            Column::Limit => "LIMIT",
            Column::Percent => "%LIM",
            Column::Growth => "GROW/MIN",
            Column::Deleted => "DELETED",
            Column::Sockets => "SOCKS",
        }
    }

    /// The key that sorts by this column.
    pub(super) fn key(self) -> char {
        match self {
            Column::Pid => 'p',
            Column::User => 'u',
            Column::Command => 'c',
            Column::Fds => 'f',
            Column::Limit => 'l',
            Column::Percent => '%',
            Column::Growth => 'g',
            Column::Deleted => 'd',
            Column::Sockets => 's',
        }
    }

    /// Numbers rank largest first, words in alphabetical order.
    fn descending(self) -> bool {
        !matches!(self, Column::Pid | Column::User | Column::Command)
    }

    fn compare(self, a: &Row, b: &Row) -> Ordering {
        let float = |x: f64, y: f64| x.partial_cmp(&y).unwrap_or(Ordering::Equal);
        match self {
            Column::Pid => a.pid.cmp(&b.pid),
            Column::User => a.user.cmp(&b.user),
            Column::Command => a.command.cmp(&b.command),
            Column::Fds => a.fds.cmp(&b.fds),
            Column::Limit => a
                .limit
                .unwrap_or(u64::MAX)
                .cmp(&b.limit.unwrap_or(u64::MAX)),
            Column::Percent => float(a.percent().unwrap_or(0.0), b.percent().unwrap_or(0.0)),
            Column::Growth => float(a.growth, b.growth),
            Column::Deleted => a.deleted_bytes.cmp(&b.deleted_bytes),
            Column::Sockets => a.sockets.cmp(&b.sockets),
        }
    }
}

/// What a key asks of the program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Action {
    None,
    /// Draw again.
    Redraw,
    /// Show the files of the process now in `detail`.
    ShowFiles,
    Quit,
}

pub(super) struct View {
    pub sort: Column,
    pub reverse: bool,
    /// The filter in effect (a part of the PID, user or command).
    pub filter: String,
    /// The filter being typed after `/`.
    pub editing: Option<String>,
    pub paused: bool,
    pub help: bool,
    /// The highlighted process.
    pub cursor_pid: Option<i32>,
    /// The process whose files are shown.
    pub detail: Option<i32>,
    pub detail_scroll: usize,
    /// Rows the table shows at once (set by the last draw).
    pub page: usize,
}

impl View {
    pub(super) fn new() -> View {
        View {
            sort: Column::Fds,
            reverse: false,
            filter: String::new(),
            editing: None,
            paused: false,
            help: false,
            cursor_pid: None,
            detail: None,
            detail_scroll: 0,
            page: 10,
        }
    }

    /// The rows to show, filtered and in order.
    pub(super) fn arrange<'r>(&self, rows: &'r [Row]) -> Vec<&'r Row> {
        let filter = self.filter.to_lowercase();
        let mut shown: Vec<&Row> = rows
            .iter()
            .filter(|r| {
                filter.is_empty()
                    || r.command.to_lowercase().contains(&filter)
                    || r.user.to_lowercase().contains(&filter)
                    || r.pid.to_string().contains(&filter)
            })
            .collect();
        let descending = self.sort.descending() != self.reverse;
        shown.sort_by(|a, b| {
            let order = self.sort.compare(a, b);
            let order = if descending { order.reverse() } else { order };
            order.then(a.pid.cmp(&b.pid))
        });
        shown
    }

    /// The cursor's index among `shown`, keeping it on its process.
    pub(super) fn cursor_index(&self, shown: &[&Row]) -> usize {
        self.cursor_pid
            .and_then(|pid| shown.iter().position(|r| r.pid == pid))
            .unwrap_or(0)
    }

    pub(super) fn key(&mut self, key: KeyEvent, shown: &[&Row]) -> Action {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if ctrl && matches!(key.code, KeyCode::Char('c')) {
            return Action::Quit;
        }
        if let Some(text) = &mut self.editing {
            match key.code {
                KeyCode::Enter => self.filter = self.editing.take().unwrap_or_default(),
                KeyCode::Esc => self.editing = None,
                KeyCode::Backspace => {
                    text.pop();
                }
                KeyCode::Char(c) => text.push(c),
                _ => return Action::None,
            }
            return Action::Redraw;
        }
        if self.help {
            self.help = false;
            return match key.code {
                KeyCode::Char('q') => Action::Quit,
                _ => Action::Redraw,
            };
        }
        match key.code {
            KeyCode::Char('q') => return Action::Quit,
            KeyCode::Char('h' | '?') => self.help = true,
            KeyCode::Char(' ') => self.paused = !self.paused,
            KeyCode::Esc if self.detail.is_some() => self.detail = None,
            KeyCode::Esc => self.filter.clear(),
            _ if self.detail.is_some() => return self.detail_key(key.code),
            KeyCode::Enter => {
                let pid = shown.get(self.cursor_index(shown)).map(|r| r.pid);
                self.detail = pid;
                self.detail_scroll = 0;
                return Action::ShowFiles;
            }
            KeyCode::Char('/') => self.editing = Some(self.filter.clone()),
            KeyCode::Char('r') => self.reverse = !self.reverse,
            KeyCode::Char('<') => self.sort_step(-1),
            KeyCode::Char('>') => self.sort_step(1),
            KeyCode::Char(c) => match Column::ALL.iter().find(|col| col.key() == c) {
                Some(&col) => {
                    self.sort = col;
                    self.reverse = false;
                }
                None => return Action::None,
            },
            code => return self.move_cursor(code, shown),
        }
        Action::Redraw
    }

    fn sort_step(&mut self, step: isize) {
        let n = Column::ALL.len() as isize;
        let at = Column::ALL
            .iter()
            .position(|&c| c == self.sort)
            .unwrap_or(0) as isize;
        self.sort = Column::ALL[(at + step).rem_euclid(n) as usize];
        self.reverse = false;
    }

    fn move_cursor(&mut self, code: KeyCode, shown: &[&Row]) -> Action {
        if shown.is_empty() {
            return Action::None;
        }
        let at = self.cursor_index(shown);
        let last = shown.len() - 1;
        let to = match code {
            KeyCode::Up | KeyCode::Char('k') => at.saturating_sub(1),
            KeyCode::Down | KeyCode::Char('j') => (at + 1).min(last),
            KeyCode::PageUp => at.saturating_sub(self.page.max(1)),
            KeyCode::PageDown => (at + self.page.max(1)).min(last),
            KeyCode::Home => 0,
            KeyCode::End => last,
            _ => return Action::None,
        };
        self.cursor_pid = Some(shown[to].pid);
        Action::Redraw
    }

    fn detail_key(&mut self, code: KeyCode) -> Action {
        let page = self.page.max(1);
        self.detail_scroll = match code {
            KeyCode::Up | KeyCode::Char('k') => self.detail_scroll.saturating_sub(1),
            KeyCode::Down | KeyCode::Char('j') => self.detail_scroll + 1,
            KeyCode::PageUp => self.detail_scroll.saturating_sub(page),
            KeyCode::PageDown => self.detail_scroll + page,
            KeyCode::Home => 0,
            _ => return Action::None,
        };
        Action::Redraw
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(pid: i32, command: &str, fds: usize) -> Row {
        Row {
            pid,
            user: "root".into(),
            command: command.into(),
            fds,
            limit: Some(1024),
            growth: 0.0,
            leaking: false,
            deleted_bytes: 0,
            sockets: 0,
        }
    }

    fn press(view: &mut View, c: char, shown: &[&Row]) -> Action {
        view.key(KeyEvent::from(KeyCode::Char(c)), shown)
    }

    #[test]
    fn sorts_filters_and_reverses() {
        let rows = vec![row(3, "a", 5), row(1, "b", 50), row(2, "c", 7)];
        let mut view = View::new();
        let pids = |v: &View| v.arrange(&rows).iter().map(|r| r.pid).collect::<Vec<_>>();
        assert_eq!(pids(&view), [1, 2, 3]);
        press(&mut view, 'p', &[]);
        assert_eq!(pids(&view), [1, 2, 3]);
        press(&mut view, 'r', &[]);
        assert_eq!(pids(&view), [3, 2, 1]);
        press(&mut view, 'c', &[]);
        assert_eq!(pids(&view), [3, 1, 2]);
        press(&mut view, '/', &[]);
        press(&mut view, 'b', &[]);
        assert_eq!(pids(&view), [3, 1, 2], "not applied while typed");
        view.key(KeyEvent::from(KeyCode::Enter), &[]);
        assert_eq!(pids(&view), [1]);
        assert_eq!(press(&mut view, 'q', &[]), Action::Quit);
    }
}
