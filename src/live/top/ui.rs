//! Drawing the live view with ratatui: a header with the machine's
//! totals, the process table (or one process's files, or the help), and
//! a line of keys.

use super::detail::{Lines, Mark};
use super::stats::{Row, Totals};
use super::view::{Column, View};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row as TableRow, Table, TableState, Wrap};
use ratatui::Frame;
use std::time::Duration;

/// Below this, only a notice is drawn.
const MIN_WIDTH: u16 = 24;
const MIN_HEIGHT: u16 = 3;

/// One process's files, as shown after Enter.
pub(super) struct Detail {
    pub pid: i32,
    pub command: String,
    /// None until the process has been scanned since Enter.
    pub lines: Option<Lines>,
    pub exited: bool,
}

/// Everything one frame shows.
pub(super) struct Screen<'a> {
    pub shown: &'a [&'a Row],
    pub view: &'a View,
    pub totals: Totals,
    pub processes: usize,
    pub interval: Duration,
    /// When the last refresh was made (local time).
    pub clock: &'a str,
    pub root: bool,
    pub leak_cycles: u32,
    pub detail: Option<&'a Detail>,
}

/// Draws a frame; returns how many table rows fit (a page).
pub(super) fn draw(frame: &mut Frame, screen: &Screen) -> usize {
    let area = frame.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let text = format!(
            "rlsof --top: terminal too small ({}x{})",
            area.width, area.height
        );
        frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), area);
        return 1;
    }
    let roomy = area.height >= 6;
    let [top, status, body, keys] = if roomy {
        Layout::vertical([
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Min(1),
            Constraint::Length(1),
        ])
        .areas(area)
    } else {
        let [top, body] = Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(area);
        [top, Rect::default(), body, Rect::default()]
    };
    frame.render_widget(Paragraph::new(header_line(screen)), top);
    if roomy {
        frame.render_widget(Paragraph::new(status_line(screen)), status);
        frame.render_widget(Paragraph::new(keys_line(screen.view)), keys);
    }
    if screen.view.help {
        frame.render_widget(Paragraph::new(help_text(screen.leak_cycles)), body);
        return usize::from(body.height);
    }
    match screen.detail {
        Some(detail) => draw_detail(frame, detail, screen.view, body),
        None => draw_table(frame, screen, body),
    }
    usize::from(body.height.saturating_sub(1)).max(1)
}

fn header_line(screen: &Screen) -> Line<'static> {
    let totals = screen.totals;
    let percent = if totals.max > 0 {
        totals.allocated as f64 * 100.0 / totals.max as f64
    } else {
        0.0
    };
    let mut spans = vec![
        Span::styled("rlsof --top", Style::new().bold()),
        Span::raw(format!(
            "  {}  every {}s  files {} of max {} ({:.1}%)  processes {}",
            screen.clock,
            screen.interval.as_secs_f64(),
            totals.allocated,
            totals.max,
            percent,
            screen.processes
        )),
    ];
    if screen.view.paused {
        spans.push(Span::styled("  PAUSED", Style::new().reversed()));
    }
    Line::from(spans)
}

fn status_line(screen: &Screen) -> Line<'static> {
    let view = screen.view;
    let mut spans = Vec::new();
    if !screen.root {
        spans.push(Span::styled(
            "not root: other users' processes are not seen  ",
            Style::new().yellow(),
        ));
    }
    let direction = if view.reverse { "reversed" } else { "" };
    spans.push(Span::raw(format!("sort {} {direction}", view.sort.title())));
    if !view.filter.is_empty() {
        spans.push(Span::raw(format!("  filter \"{}\"", view.filter)));
    }
    spans.push(Span::raw(format!(
        "  * grew at each of the last {} refreshes",
        screen.leak_cycles
    )));
    Line::from(spans)
}

fn keys_line(view: &View) -> Line<'static> {
    if let Some(text) = &view.editing {
        return Line::from(format!("filter: {text}_  (Enter apply, Esc cancel)"));
    }
    let text = if view.detail.is_some() {
        "Esc back  q quit  h help  space pause  Up/Down scroll"
    } else {
        "q quit  h help  Enter files  / filter  r reverse  p u c f l % g d s sort  space pause"
    };
    Line::from(text).reversed()
}

fn draw_table(frame: &mut Frame, screen: &Screen, area: Rect) {
    let view = screen.view;
    let titles = Column::ALL.iter().map(|&c| {
        let style = if c == view.sort {
            Style::new().bold().underlined()
        } else {
            Style::new().bold()
        };
        Span::styled(c.title(), style)
    });
    let rows = screen.shown.iter().map(|r| {
        let style = if r.leaking {
            Style::new().red().bold()
        } else {
            Style::new()
        };
        TableRow::new(cells(r)).style(style)
    });
    let widths = [
        Constraint::Length(7),
        Constraint::Length(8),
        Constraint::Min(7),
        Constraint::Length(6),
        Constraint::Length(8),
        Constraint::Length(6),
        Constraint::Length(9),
        Constraint::Length(8),
        Constraint::Length(5),
    ];
    let table = Table::new(rows, widths)
        .header(TableRow::new(titles))
        .row_highlight_style(Style::new().reversed());
    let mut state = TableState::default();
    if !screen.shown.is_empty() {
        state.select(Some(view.cursor_index(screen.shown)));
    }
    frame.render_stateful_widget(table, area, &mut state);
}

fn cells(r: &Row) -> [String; 9] {
    let growth = if r.growth == 0.0 {
        "0".to_string()
    } else {
        format!("{:+.1}", r.growth)
    };
    [
        r.pid.to_string(),
        r.user.clone(),
        r.command.clone(),
        r.fds.to_string(),
        r.limit.map_or("unlim".into(), |l| l.to_string()),
        r.percent().map_or("-".into(), |p| format!("{p:.1}")),
        if r.leaking { growth + "*" } else { growth },
        human_bytes(r.deleted_bytes),
        r.sockets.to_string(),
    ]
}

fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "K", "M", "G", "T"];
    if bytes == 0 {
        return "0".into();
    }
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes}B")
    } else {
        format!("{value:.1}{}", UNITS[unit])
    }
}

fn draw_detail(frame: &mut Frame, detail: &Detail, view: &View, area: Rect) {
    let mut lines = vec![Line::from(format!(
        "files of PID {} ({}){}  + opened, - closed since the refresh before",
        detail.pid,
        detail.command,
        if detail.exited {
            "  process exited"
        } else {
            ""
        }
    ))
    .bold()];
    match &detail.lines {
        None => lines.push(Line::from("reading...")),
        Some(table) => {
            lines.push(Line::from(format!("  {}", table.header)).bold());
            let skip = view.detail_scroll.min(table.rows.len().saturating_sub(1));
            for (mark, text) in table.rows.iter().skip(skip) {
                let (sign, style) = match mark {
                    Mark::Kept => (' ', Style::new()),
                    Mark::Opened => ('+', Style::new().green().bold()),
                    Mark::Closed => ('-', Style::new().red().add_modifier(Modifier::CROSSED_OUT)),
                };
                lines.push(Line::styled(format!("{sign} {text}"), style));
            }
        }
    }
    frame.render_widget(Paragraph::new(lines), area);
}

fn help_text(leak_cycles: u32) -> Vec<Line<'static>> {
    let mut lines = vec![Line::from("rlsof --top: processes ranked by open descriptors").bold()];
    let keys = [
        "q, Ctrl-C        quit",
        "h, ?             this help (any key closes it)",
        "Up/Down, j/k     move; PgUp/PgDn, Home/End",
        "Enter            the process's files (+ opened, - closed since the refresh before)",
        "Esc              back to the list; in the list, clear the filter",
        "/                filter by part of PID, USER or COMMAND (Enter apply, Esc cancel)",
        "p u c f l % g d s  sort by PID USER COMMAND FDS LIMIT %LIM GROW/MIN DELETED SOCKS",
        "< >              sort by the column left or right",
        "r                reverse the order",
        "space            pause or resume",
    ];
    lines.extend(keys.iter().map(|k| Line::from(*k)));
    lines.push(Line::from(""));
    lines.push(Line::from(format!(
        "FDS: numbered descriptors; LIMIT: soft RLIMIT_NOFILE; GROW/MIN: descriptors a minute over the last refreshes, * when the count grew at each of the last {leak_cycles}"
    )));
    lines
}

#[cfg(test)]
mod tests {
    use super::human_bytes;

    #[test]
    fn bytes_are_shown_short() {
        assert_eq!(human_bytes(0), "0");
        assert_eq!(human_bytes(512), "512B");
        assert_eq!(human_bytes(3 * 1024 * 1024), "3.0M");
    }
}
