//! `--top` in a real terminal: tmux runs it (send-keys, capture-pane,
//! resize-window) on a process leaking descriptors, a stable one and one
//! that opens, closes and exits mid-run.

use super::support::{fresh_directory, rlsof, wait_for, Churn};
use crate::common::need::{have, require_root};
use std::path::Path;
use std::process::Command;

/// A tmux server of the test's own, with one session running a command;
/// the server is killed when dropped.
struct Tmux {
    socket: String,
}

impl Tmux {
    /// None (see `common::need`) without tmux.
    fn start(name: &str, command: &str) -> Option<Tmux> {
        if !have("tmux") {
            return None;
        }
        let tmux = Tmux {
            socket: format!("rlsof-{}-{name}", std::process::id()),
        };
        let shell = format!("{command}; echo \"EXIT=$?\"; stty -a; sleep 600");
        tmux.run(&[
            "new-session",
            "-d",
            "-s",
            "t",
            "-x",
            "120",
            "-y",
            "30",
            &shell,
        ]);
        Some(tmux)
    }

    fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "-f", "/dev/null"])
            .args(args)
            .output()
            .expect("tmux runs");
        assert!(
            out.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "t"])
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "t"];
        args.extend(keys);
        self.run(&args);
    }

    /// The screen, once `check` accepts it.
    fn wait(&self, what: &str, check: impl Fn(&str) -> bool) -> String {
        wait_for(
            what,
            || {
                let screen = self.screen();
                check(&screen).then_some(screen)
            },
            || self.screen(),
        )
    }

    fn resize(&self, width: u16, height: u16) {
        self.run(&[
            "resize-window",
            "-t",
            "t",
            "-x",
            &width.to_string(),
            "-y",
            &height.to_string(),
        ]);
    }

    /// The view ended and the shell after it found the terminal as it was:
    /// the main screen, the cursor shown, canonical mode and echo on.
    fn assert_restored(&self, status: &str) {
        // The shell prints the status, then `stty -a`: wait for both.
        let screen = self.wait("the view to end", |s| {
            s.contains("EXIT=") && s.contains("icanon") && s.contains("echo")
        });
        assert!(screen.contains(&format!("EXIT={status}")), "{screen}");
        let modes = self.run(&[
            "display-message",
            "-p",
            "-t",
            "t",
            "#{alternate_on} #{cursor_flag}",
        ]);
        assert_eq!(modes.trim(), "0 1", "alternate screen off, cursor shown");
        let words: Vec<&str> = screen.split_whitespace().collect();
        assert!(
            words.contains(&"icanon") && words.contains(&"echo"),
            "{screen}"
        );
    }

    /// The PID of the program the shell in the pane runs.
    fn program_pid(&self) -> i32 {
        let shell = self.run(&["display-message", "-p", "-t", "t", "#{pane_pid}"]);
        let shell = shell.trim();
        let children = std::fs::read_to_string(format!("/proc/{shell}/task/{shell}/children"))
            .expect("children of the pane's shell");
        children
            .split_whitespace()
            .next()
            .and_then(|p| p.parse().ok())
            .expect("a child")
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .output();
    }
}

/// The table's rows: PID and the other cells, in screen order.
fn rows(screen: &str) -> Vec<Vec<String>> {
    screen
        .lines()
        .skip_while(|l| !l.starts_with("PID "))
        .skip(1)
        .map(|l| l.split_whitespace().map(String::from).collect::<Vec<_>>())
        .filter(|w| w.len() >= 9 && w[0].parse::<i32>().is_ok())
        .collect()
}

fn row_of(screen: &str, pid: u32) -> Option<Vec<String>> {
    rows(screen).into_iter().find(|r| r[0] == pid.to_string())
}

fn pids(screen: &str) -> Vec<String> {
    rows(screen).into_iter().map(|r| r[0].clone()).collect()
}

fn open_descriptors(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}

#[test]
fn top_ranks_grows_sorts_filters_shows_files_and_resizes() {
    let leaker = Churn::start("leak", "5");
    let stable = Churn::start("hold", "40");
    let dir = fresh_directory();
    let mut churn = Churn::start("steps", &dir.to_string_lossy());
    let (l, s, c) = (leaker.pid, stable.pid, churn.pid);
    // Descriptors only (-a -d), so that the per-process view fits the screen.
    let command = format!("{} --top -r1 -a -d 0-999 -p {l},{s},{c}", rlsof().display());
    let Some(tmux) = Tmux::start("view", &command) else {
        return;
    };
    // Ranking by descriptors; the leaker's growth stands out once it has
    // grown at each of three refreshes; the stable process does not grow.
    let screen = tmux.wait("the leaker marked as growing", |s| {
        row_of(s, l).is_some_and(|r| r[6].ends_with('*'))
    });
    assert!(screen.starts_with("rlsof --top"), "{screen}");
    assert!(
        screen.contains("files ") && screen.contains(" of max "),
        "{screen}"
    );
    let fds = |r: &Vec<String>| r[3].parse::<usize>().expect("FDS");
    let shown = rows(&screen);
    assert_eq!(shown.len(), 3, "{screen}");
    assert!(
        shown.windows(2).all(|w| fds(&w[0]) >= fds(&w[1])),
        "{screen}"
    );
    let stable_row = row_of(&screen, s).expect("stable row");
    assert_eq!(fds(&stable_row), open_descriptors(s), "{screen}");
    assert_eq!(stable_row[6], "0", "{screen}");
    let growth: f64 = row_of(&screen, l).expect("leaker")[6]
        .trim_end_matches('*')
        .parse()
        .expect("growth");
    // One descriptor each 0.2 s: 300 a minute, give or take a loaded machine.
    assert!(growth > 60.0 && growth < 600.0, "{screen}");

    // Sorting by PID, then reversed.
    let mut by_pid = [l, s, c].map(|p| p.to_string()).to_vec();
    by_pid.sort_by_key(|p| p.parse::<u32>().unwrap_or(0));
    tmux.keys(&["p"]);
    tmux.wait("sorted by PID", |s| {
        pids(s) == by_pid && s.contains("sort PID")
    });
    tmux.keys(&["r"]);
    by_pid.reverse();
    tmux.wait("sorted by PID, reversed", |s| pids(s) == by_pid);
    tmux.keys(&["f"]);

    // Filtering by PID, then back.
    tmux.keys(&["/"]);
    tmux.keys(&[&s.to_string(), "Enter"]);
    tmux.wait("only the stable process", |x| pids(x) == [s.to_string()]);
    tmux.keys(&["Escape"]);
    tmux.wait("the filter cleared", |x| pids(x).len() == 3);

    // The files of the churning process, marked as they open and close.
    tmux.keys(&["/"]);
    tmux.keys(&[&c.to_string(), "Enter"]);
    tmux.wait("only the churning process", |x| pids(x) == [c.to_string()]);
    tmux.keys(&["Enter"]);
    tmux.wait("its files", |x| {
        x.contains(&format!("files of PID {c}")) && x.contains("base.txt")
    });
    churn.step("open_a");
    let opened = tmux.wait("a.txt marked opened", |x| {
        x.lines()
            .any(|l| l.starts_with("+ ") && l.ends_with("a.txt"))
    });
    assert!(
        opened.lines().any(|l| l.starts_with("  COMMAND")),
        "the table's header: {opened}"
    );
    tmux.wait("the mark gone a refresh later", |x| {
        x.lines()
            .any(|l| l.starts_with("  ") && l.ends_with("a.txt"))
    });
    churn.step("swap");
    tmux.wait("a.txt closed and b.txt opened on its descriptor", |x| {
        let lines: Vec<&str> = x.lines().collect();
        let closed = lines
            .iter()
            .position(|l| l.starts_with("- ") && l.ends_with("a.txt"));
        let opened = lines
            .iter()
            .position(|l| l.starts_with("+ ") && l.ends_with("b.txt"));
        closed.zip(opened).is_some_and(|(c, o)| c < o)
    });
    // The process exits mid-run: the view says so, and the list drops it.
    churn.step("exit");
    tmux.wait("the exit noted", |x| x.contains("process exited"));
    tmux.keys(&["Escape"]);
    // Two escapes at once would read as one Alt+Escape.
    tmux.wait("the list again", |x| {
        x.contains("\nPID ") && !x.contains("files of PID")
    });
    tmux.keys(&["Escape"]);
    tmux.wait("the exited process gone", |x| {
        pids(x).len() == 2 && !pids(x).contains(&c.to_string())
    });

    // Resizing: narrower, tiny, and back.
    tmux.resize(60, 12);
    tmux.wait("a narrow view", |x| {
        x.lines().all(|l| l.chars().count() <= 60) && x.contains("PID")
    });
    tmux.resize(20, 3);
    tmux.wait("a tiny terminal noted", |x| x.contains("too small"));
    tmux.resize(120, 30);
    tmux.wait("the full view back", |x| pids(x).len() == 2);
    tmux.keys(&["h"]);
    tmux.wait("the help", |x| x.contains("sort by PID USER COMMAND"));
    tmux.keys(&["q"]);
    tmux.assert_restored("0");
    drop(leaker);
    drop(stable);
}

#[test]
fn the_terminal_is_restored_after_ctrl_c_and_sigterm_and_a_hangup_ends_the_view() {
    let holder = Churn::start("hold", "3");
    let command = format!("{} --top -p {}", rlsof().display(), holder.pid);
    let Some(tmux) = Tmux::start("ctrl-c", &command) else {
        return;
    };
    tmux.wait("the view", |x| row_of(x, holder.pid).is_some());
    tmux.keys(&["C-c"]);
    tmux.assert_restored("0");

    let tmux = Tmux::start("sigterm", &command).expect("tmux");
    tmux.wait("the view", |x| row_of(x, holder.pid).is_some());
    // SAFETY: kill(2) on the rlsof the pane's shell runs.
    unsafe {
        libc::kill(tmux.program_pid(), libc::SIGTERM);
    }
    tmux.assert_restored("143");

    // The terminal goes away (its tmux server is killed): the view ends.
    let tmux = Tmux::start("hangup", &command).expect("tmux");
    tmux.wait("the view", |x| row_of(x, holder.pid).is_some());
    let pid = tmux.program_pid();
    drop(tmux);
    wait_for(
        "rlsof to end when its terminal hangs up",
        || (!Path::new(&format!("/proc/{pid}")).exists()).then_some(()),
        || std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default(),
    );
}

#[test]
fn without_a_terminal_top_fails_clearly() {
    let out = Command::new(rlsof())
        .arg("--top")
        .output()
        .expect("rlsof runs");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--top needs a terminal"), "{stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn without_root_the_header_says_what_is_not_seen() {
    // Root runs the view as another user.
    if !require_root() {
        return;
    }
    let shared = fresh_directory();
    let copy = shared.join("rlsof");
    std::fs::copy(rlsof(), &copy).expect("copy rlsof");
    for path in [&shared, &copy] {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let command = format!(
        "setpriv --reuid=65534 --regid=65534 --clear-groups {} --top",
        Path::new(&copy).display()
    );
    let Some(tmux) = Tmux::start("nobody", &command) else {
        return;
    };
    tmux.wait("the note", |x| {
        x.contains("not root: other users' processes are not seen")
    });
    tmux.keys(&["q"]);
    tmux.assert_restored("0");
}
