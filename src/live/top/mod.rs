//! `--top`: a full-screen live view of the processes holding the most
//! descriptors, refreshed every `-r` seconds (2 by default).
//!
//! The terminal is put back however the view ends: `q`, Ctrl-C, SIGTERM,
//! SIGINT, SIGHUP, an error, or a panic (ratatui's hook).

mod detail;
mod stats;
mod ui;
mod view;

use super::{FreshSockets, ScanOnce};
use crate::cli::options::Repeat;
use crate::model::Process;
use crate::print::{NameLookup, PrintSettings, Render};
use crate::repeat::format_marker;
use crate::scan::Scanner;
use crossterm::event::{self, Event, KeyEventKind};
use stats::Tracker;
use std::io::{self, IsTerminal};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use ui::{Detail, Screen};
use view::{Action, View};

/// How often signals are looked for while waiting for a key.
const SIGNAL_POLL: Duration = Duration::from_millis(100);

/// What `--top` needs besides the scan.
pub(crate) struct Top<'a> {
    pub print: &'a PrintSettings,
    /// `-r`: the interval, and with `cN` the refreshes before quitting.
    pub repeat: Option<&'a Repeat>,
    pub leak_cycles: u32,
    pub names: &'a dyn NameLookup,
}

/// Runs the view until it is quit; returns the exit status.
pub(crate) fn run(
    how: &Top,
    scanner: Scanner,
    fresh_sockets: &FreshSockets,
    scan: &mut ScanOnce,
) -> io::Result<i32> {
    if !io::stdout().is_terminal() || !io::stdin().is_terminal() {
        eprintln!(
            "{}: --top needs a terminal: standard input and output must be one",
            crate::cli::PROGRAM
        );
        return Ok(1);
    }
    let signal = Arc::new(AtomicUsize::new(0));
    watch_signals(Arc::clone(&signal))?;
    let terminal = Restoring(Some(ratatui::try_init()?));
    let mut live = Live::new(how, scanner);
    live.run(terminal, fresh_sockets, scan, &signal)
}

/// Records SIGTERM, SIGINT and SIGHUP in `signal` for the view's loop to
/// end on. Should the loop not end within a second (it waits inside the
/// terminal library), this thread restores the terminal and exits.
fn watch_signals(signal: Arc<AtomicUsize>) -> io::Result<()> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGINT, SIGHUP])?;
    std::thread::spawn(move || {
        if let Some(sig) = signals.forever().next() {
            signal.store(sig as usize, Ordering::SeqCst);
            std::thread::sleep(Duration::from_secs(1));
            ratatui::restore();
            std::process::exit(128 + sig);
        }
    });
    Ok(())
}

/// Whether standard input has input (or an error or hang-up, reported as
/// input so that reading it ends the view) within `wait`. Asked before
/// crossterm is: on a terminal that hung up, crossterm's reader retries
/// its empty reads without end.
fn input_within(wait: Duration) -> io::Result<bool> {
    let mut fds = [libc::pollfd {
        fd: libc::STDIN_FILENO,
        events: libc::POLLIN,
        revents: 0,
    }];
    let ms = libc::c_int::try_from(wait.as_millis()).unwrap_or(libc::c_int::MAX);
    // SAFETY: poll reads and writes only the one pollfd it is given.
    let ready = unsafe { libc::poll(fds.as_mut_ptr(), 1, ms) };
    if ready < 0 {
        let e = io::Error::last_os_error();
        return if e.kind() == io::ErrorKind::Interrupted {
            Ok(false)
        } else {
            Err(e)
        };
    }
    if fds[0].revents & (libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0 {
        return Err(io::Error::new(
            io::ErrorKind::BrokenPipe,
            "the terminal went away",
        ));
    }
    Ok(ready > 0)
}

/// The terminal, given back to the shell when dropped.
struct Restoring(Option<ratatui::DefaultTerminal>);

impl Drop for Restoring {
    fn drop(&mut self) {
        // The terminal shows its cursor again as it is dropped.
        drop(self.0.take());
        ratatui::restore();
    }
}

struct Live<'a> {
    how: &'a Top<'a>,
    scanner: Option<Scanner>,
    tracker: Tracker,
    view: View,
    interval: Duration,
    clock: String,
    /// The highlighted (or shown) process as the last two refreshes saw it.
    kept: (Option<Process>, Option<Process>),
    detail: Option<Detail>,
    root: bool,
}

impl<'a> Live<'a> {
    fn new(how: &'a Top<'a>, scanner: Scanner) -> Live<'a> {
        let seconds = how.repeat.map_or(2, |r| r.seconds.max(1));
        let interval = crate::knobs::knobs().top_interval_ms.map_or(
            Duration::from_secs(u64::from(seconds)),
            Duration::from_millis,
        );
        Live {
            how,
            scanner: Some(scanner),
            tracker: Tracker::new(how.leak_cycles),
            view: View::new(),
            interval,
            clock: String::new(),
            kept: (None, None),
            detail: None,
            // SAFETY: geteuid has no preconditions.
            root: unsafe { libc::geteuid() } == 0,
        }
    }

    fn run(
        &mut self,
        mut terminal: Restoring,
        fresh_sockets: &FreshSockets,
        scan: &mut ScanOnce,
        signal: &AtomicUsize,
    ) -> io::Result<i32> {
        let max_refreshes = self.how.repeat.and_then(|r| r.cycles).filter(|&c| c > 0);
        let mut refreshes = 0u32;
        let mut next_refresh = Instant::now();
        let mut dirty = true;
        loop {
            let sig = signal.load(Ordering::SeqCst);
            if sig != 0 {
                return Ok(128 + sig as i32);
            }
            let now = Instant::now();
            if !self.view.paused && now >= next_refresh {
                if max_refreshes.is_some_and(|max| refreshes >= max) {
                    return Ok(0);
                }
                self.refresh(fresh_sockets, scan)?;
                refreshes += 1;
                next_refresh = Instant::now() + self.interval;
                dirty = true;
            }
            if dirty {
                self.draw(&mut terminal)?;
                dirty = false;
            }
            let wait = if self.view.paused {
                SIGNAL_POLL
            } else {
                next_refresh
                    .saturating_duration_since(Instant::now())
                    .min(SIGNAL_POLL)
            };
            // Crossterm looks at resizes and at what it has read already
            // without waiting.
            input_within(wait)?;
            while event::poll(Duration::ZERO)? {
                match self.take_event(event::read()?) {
                    Some(Action::Quit) => return Ok(0),
                    Some(_) => dirty = true,
                    None => {}
                }
            }
        }
    }

    /// What an event asks for, done; None when nothing changed.
    fn take_event(&mut self, event: Event) -> Option<Action> {
        match event {
            Event::Key(key) if key.kind != KeyEventKind::Release => {
                let rows = std::mem::take(&mut self.tracker.rows);
                let shown = self.view.arrange(&rows);
                let action = self.view.key(key, &shown);
                self.track_cursor(&shown);
                drop(shown);
                self.tracker.rows = rows;
                if action == Action::ShowFiles {
                    self.open_detail();
                }
                if self.view.detail.is_none() {
                    self.detail = None;
                }
                (action != Action::None).then_some(action)
            }
            Event::Resize(..) => Some(Action::Redraw),
            _ => None,
        }
    }

    /// Scans once and takes in what it found.
    fn refresh(&mut self, fresh_sockets: &FreshSockets, scan: &mut ScanOnce) -> io::Result<()> {
        let Some(mut scanner) = self.scanner.take() else {
            return Ok(());
        };
        if !self.clock.is_empty() {
            scanner = scanner.next_cycle(fresh_sockets());
        }
        let root = scanner.proc_root().to_path_buf();
        let render = Render::new(self.how.print, self.how.names);
        let keep_pid = self.view.detail.or(self.view.cursor_pid);
        let mut kept = None;
        let now = Instant::now();
        self.tracker.begin(&root);
        let tracker = &mut self.tracker;
        let result = scan(&mut scanner, &mut |p: Process| {
            tracker.add(&p, render.user(p.uid).0.into_owned(), &root, now);
            if Some(p.pid) == keep_pid && p.tid.is_none() {
                kept = Some(p);
            }
            Ok(())
        });
        self.scanner = Some(scanner);
        result?;
        self.tracker.end();
        self.clock = String::from_utf8_lossy(&format_marker("%H:%M:%S")).into_owned();
        let previous = self.kept.1.take().filter(|p| Some(p.pid) == keep_pid);
        self.kept = (previous, kept);
        self.update_detail();
        Ok(())
    }

    /// After Enter: the files of the process, from what the last refresh
    /// kept of it.
    fn open_detail(&mut self) {
        let Some(pid) = self.view.detail else {
            return;
        };
        let command = self
            .tracker
            .rows
            .iter()
            .find(|r| r.pid == pid)
            .map(|r| r.command.clone())
            .unwrap_or_default();
        self.detail = Some(Detail {
            pid,
            command,
            lines: None,
            exited: false,
        });
        if self.kept.1.as_ref().is_none_or(|p| p.pid != pid) {
            self.kept = (None, None);
        }
        self.update_detail();
    }

    fn update_detail(&mut self) {
        let Some(detail) = &mut self.detail else {
            return;
        };
        match &self.kept.1 {
            Some(now) if now.pid == detail.pid => {
                let render = Render::new(self.how.print, self.how.names);
                detail.lines = Some(detail::lines(render, self.kept.0.as_ref(), now));
                detail.exited = false;
            }
            _ => detail.exited = detail.lines.is_some(),
        }
    }

    /// Keeps the cursor on a process that is shown.
    fn track_cursor(&mut self, shown: &[&stats::Row]) {
        let on_shown = self
            .view
            .cursor_pid
            .is_some_and(|pid| shown.iter().any(|r| r.pid == pid));
        if !on_shown {
            self.view.cursor_pid = shown.first().map(|r| r.pid);
        }
    }

    fn draw(&mut self, terminal: &mut Restoring) -> io::Result<()> {
        let Some(terminal) = terminal.0.as_mut() else {
            return Ok(());
        };
        let rows = std::mem::take(&mut self.tracker.rows);
        let shown = self.view.arrange(&rows);
        self.track_cursor(&shown);
        let screen = Screen {
            shown: &shown,
            view: &self.view,
            totals: self.tracker.totals,
            processes: rows.len(),
            interval: self.interval,
            clock: &self.clock,
            root: self.root,
            leak_cycles: self.how.leak_cycles,
            detail: self.detail.as_ref(),
        };
        let mut page = self.view.page;
        terminal.draw(|frame| page = ui::draw(frame, &screen))?;
        self.view.page = page;
        drop(shown);
        self.tracker.rows = rows;
        Ok(())
    }
}
