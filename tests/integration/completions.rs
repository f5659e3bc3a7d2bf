//! The shell completions (completions/): each shell is driven on command
//! lines as Tab would complete them (tests/completion/drive.*), against a
//! process, a listener and a directory made for the test. Every option of
//! the table must be offered.

use crate::common::need::need;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use rlsof::cli::{FLAGS, LONG_FLAGS};

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// [`need`] `shell`, which can run.
fn have(shell: &str) -> bool {
    let found = Command::new(shell)
        .args(["-c", "exit 0"])
        .stdin(Stdio::null())
        .output()
        .is_ok_and(|o| o.status.success());
    need(
        found,
        &format!("{shell} is not installed (.ci/run installs it)"),
    )
}

/// What the test completes against: a process with a command name of its
/// own, a TCP listener, and a directory with a subdirectory.
struct World {
    sleeper: Child,
    listener: TcpListener,
    dir: PathBuf,
}

impl World {
    fn new(tag: &str) -> World {
        let dir =
            std::env::temp_dir().join(format!("rlsof-completion-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("subdir_here")).unwrap();
        let sleeper = Command::new("sleep").arg("60").spawn().unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        World {
            sleeper,
            listener,
            dir,
        }
    }

    fn pid(&self) -> u32 {
        self.sleeper.id()
    }

    fn port(&self) -> u16 {
        self.listener.local_addr().unwrap().port()
    }
}

impl Drop for World {
    fn drop(&mut self) {
        let _ = self.sleeper.kill();
        let _ = self.sleeper.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// One command line and what Tab must (and must not) offer for it.
struct Case {
    line: String,
    offered: Vec<String>,
    not_offered: Vec<String>,
}

fn case(line: impl Into<String>, offered: &[&str], not_offered: &[&str]) -> Case {
    Case {
        line: line.into(),
        offered: offered.iter().map(|s| s.to_string()).collect(),
        not_offered: not_offered.iter().map(|s| s.to_string()).collect(),
    }
}

fn cases(world: &World) -> Vec<Case> {
    let pid = world.pid().to_string();
    let port = world.port().to_string();
    let dir = world.dir.display().to_string();
    let long: Vec<String> = LONG_FLAGS.iter().map(|f| format!("--{}", f.name)).collect();
    let long: Vec<&str> = long.iter().map(String::as_str).collect();
    vec![
        // Every letter of the table: see `every_letter_is_offered`.
        case("rlsof -", &["-a", "-p", "-?", long[0]], &["+D"]),
        case("rlsof --", &long, &["-a"]),
        case(
            "rlsof +",
            &[
                "+D", "+d", "+L", "+c", "+r", "+E", "+f", "+w", "+e", "+m", "+M",
            ],
            &["+a", "-a"],
        ),
        case(format!("rlsof -p {pid}"), &[&pid], &["-a"]),
        case(format!("rlsof -a -p1,{pid}"), &[&format!("-p1,{pid}")], &[]),
        case("rlsof -u roo", &["root"], &[]),
        case("rlsof -u ^roo", &["^root"], &[]),
        case("rlsof -c slee", &["sleep"], &[]),
        case("rlsof -i ", &["TCP", "UDP", "4", "6"], &["-a"]),
        case("rlsof -iU", &["-iUDP", "-iUDPLITE"], &["-iTCP"]),
        case(format!("rlsof -i :{port}"), &[&format!(":{port}")], &[]),
        case(
            format!("rlsof -nP -iTCP:{port}"),
            &[&format!("-iTCP:{port}")],
            &[],
        ),
        case("rlsof -d cw", &["cwd"], &[]),
        case("rlsof -d 0-2,t", &["0-2,txt"], &[]),
        case("rlsof -Fpc", &["-Fpcn", "-Fpc0"], &["-Fpcp"]),
        case("rlsof -F ", &["p", "c", "n", "?"], &[]),
        case("rlsof -s TCP:LI", &["TCP:LISTEN"], &["TCP:ESTABLISHED"]),
        case("rlsof -s ", &["TCP:", "UDP:"], &[]),
        case(format!("rlsof +D {dir}/subdir_h"), &["subdir_here"], &[]),
        case(format!("rlsof +d{dir}/subdir_h"), &["subdir_here"], &[]),
        case("rlsof -T", &["-Tqs", "-Tf"], &[]),
        // An option whose value is optional leaves the next option alone.
        case("rlsof -g -", &["-a", "-p"], &[]),
        case("rlsof -r -", &["-a", "-p"], &[]),
        case("rlsof --recover-", &["--recover-all"], &[]),
    ]
}

/// The candidates offered for each line, as the driver prints them.
fn drive(shell: &str, args: &[String]) -> Vec<Vec<String>> {
    let out = Command::new(shell)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("the shell runs");
    assert!(out.status.success(), "{shell}: {out:?}");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|line| line.split('\t').map(String::from).collect())
        .collect()
}

/// Whether `candidate` is `wanted`: the same word, or a path (whole or the
/// last component, as zsh shows it) ending with it.
fn is(candidate: &str, wanted: &str) -> bool {
    let path = candidate.trim_end_matches('/');
    candidate == wanted || path == wanted || path.ends_with(&format!("/{wanted}"))
}

fn check(shell: &str, driver_args: &[String], world: &World) {
    let cases = cases(world);
    let mut args = driver_args.to_vec();
    args.extend(cases.iter().map(|c| c.line.clone()));
    let results = drive(shell, &args);
    assert_eq!(results.len(), cases.len(), "{shell} answered {results:?}");
    let mut failures = Vec::new();
    for (case, result) in cases.iter().zip(&results) {
        assert_eq!(result[0], case.line);
        let offered = &result[1..];
        for wanted in &case.offered {
            if !offered.iter().any(|c| is(c, wanted)) {
                failures.push(format!(
                    "{:?}: {wanted} not offered (got {offered:?})",
                    case.line
                ));
            }
        }
        for unwanted in &case.not_offered {
            if offered.iter().any(|c| c == unwanted) {
                failures.push(format!("{:?}: {unwanted} offered", case.line));
            }
        }
    }
    every_letter_is_offered(&results[0], &results[2], &mut failures);
    assert!(failures.is_empty(), "{shell}:\n{}", failures.join("\n"));
}

/// Each letter of the option table is offered after `-` or after `+`
/// (`+D` has no `-D`).
fn every_letter_is_offered(minus: &[String], plus: &[String], failures: &mut Vec<String>) {
    assert_eq!(
        (minus[0].as_str(), plus[0].as_str()),
        ("rlsof -", "rlsof +")
    );
    for flag in FLAGS {
        let letter = flag.letter as char;
        let offered = |sign: char| {
            let option = format!("{sign}{letter}");
            minus[1..].contains(&option) || plus[1..].contains(&option)
        };
        if !offered('-') && !offered('+') {
            failures.push(format!("option {letter} ({}) is never offered", flag.help));
        }
    }
}

#[test]
fn bash_completes_lsofs_grammar() {
    if !have("bash") {
        return;
    }
    let world = World::new("bash");
    let args = [
        repo("tests/completion/drive.bash").display().to_string(),
        repo("completions/rlsof.bash").display().to_string(),
    ];
    check("bash", &args, &world);
}

#[test]
fn fish_completes_lsofs_grammar() {
    if !have("fish") {
        return;
    }
    let world = World::new("fish");
    let args = [
        repo("tests/completion/drive.fish").display().to_string(),
        repo("completions/rlsof.fish").display().to_string(),
    ];
    check("fish", &args, &world);
}

#[test]
fn zsh_completes_lsofs_grammar() {
    if !have("zsh") {
        return;
    }
    let world = World::new("zsh");
    // compinit finds the function by its file name, _rlsof, in $fpath.
    let functions = world.dir.join("functions");
    std::fs::create_dir_all(&functions).unwrap();
    std::fs::copy(repo("completions/_rlsof"), functions.join("_rlsof")).unwrap();
    let args = [
        "-f".to_string(),
        repo("tests/completion/drive.zsh").display().to_string(),
        functions.display().to_string(),
    ];
    check("zsh", &args, &world);
}
