//! The manual page, doc/rlsof.1: an entry for every option of the option
//! table (lsof's letters and rlsof's long options), the package version,
//! and no warnings from groff or mandoc; `man -l` renders it.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::need::have;
use rlsof::cli::{FLAGS, LONG_FLAGS};

fn manual_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("doc/rlsof.1")
}

fn manual() -> String {
    std::fs::read_to_string(manual_path()).expect("doc/rlsof.1 is readable")
}

/// The option names of the entry tags (the line after each `.TP`): `-x`,
/// `+x` and `--name`, with roff's `\-` read as `-`.
fn entry_options(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    for pair in lines.windows(2) {
        if pair[0].trim() != ".TP" {
            continue;
        }
        let tag = pair[1].replace("\\-", "-").replace("\\f", " ");
        for word in tag.split(|c: char| c.is_whitespace() || c == '"' || c == ',') {
            let word = word.trim_start_matches(['B', 'R', 'I']);
            if let Some(long) = word.strip_prefix("--") {
                let name: String = long
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                    .collect();
                found.push(format!("--{name}"));
            } else if let Some(rest) = word.strip_prefix("+|-") {
                if let Some(letter) = rest.chars().next() {
                    found.push(format!("-{letter}"));
                    found.push(format!("+{letter}"));
                }
            } else if let Some(rest) = word.strip_prefix(['-', '+']) {
                if let Some(letter) = rest.chars().next() {
                    found.push(format!("{}{letter}", &word[..1]));
                }
            }
        }
    }
    found
}

#[test]
fn every_option_of_the_table_has_an_entry() {
    let entries = entry_options(&manual());
    let mut missing = Vec::new();
    for flag in FLAGS {
        let letter = flag.letter as char;
        if !entries.contains(&format!("-{letter}")) && !entries.contains(&format!("+{letter}")) {
            missing.push(format!("-{letter} ({})", flag.help));
        }
    }
    for long in LONG_FLAGS {
        if !entries.contains(&format!("--{}", long.name)) {
            missing.push(format!("--{} ({})", long.name, long.help));
        }
    }
    assert!(
        missing.is_empty(),
        "doc/rlsof.1 has no entry for: {}",
        missing.join(", ")
    );
}

#[test]
fn the_entries_are_read_as_options() {
    // The reader above must see entries where they are, or the test above
    // proves nothing.
    let entries = entry_options(
        ".TP\n.BR \\-? \", \" \\-h\n.TP\n.BI +D \" D\"\n.TP\n.BI \\-\\-recover \" PID\" : FD\n",
    );
    assert_eq!(entries, ["-?", "-h", "+D", "--recover"]);
    assert_eq!(entry_options(".TP\n.BI +|\\-r \" [t]\"\n"), ["-r", "+r"]);
    assert!(entry_options(".TP\n.B \\-X\n.PP\n\\-Y\n").contains(&"-X".to_string()));
    assert!(!entry_options(".TP\n.B \\-X\n.PP\n\\-Y\n").contains(&"-Y".to_string()));
}

#[test]
fn title_names_this_version() {
    let title = manual()
        .lines()
        .find(|line| line.starts_with(".TH "))
        .expect("a .TH line")
        .to_string();
    assert!(
        title.contains(&format!("\"rlsof {}\"", env!("CARGO_PKG_VERSION"))),
        "{title}"
    );
}

#[test]
fn sections_a_manual_needs_are_there() {
    let text = manual();
    for section in [
        "NAME",
        "SYNOPSIS",
        "DESCRIPTION",
        "OPTIONS",
        "OUTPUT",
        "EXIT STATUS",
        "ENVIRONMENT",
        "EXAMPLES",
        "DIVERGENCES",
        "SEE ALSO",
    ] {
        assert!(
            text.lines()
                .any(|l| l == format!(".SH {section}") || l == format!(".SH \"{section}\"")),
            "no {section} section"
        );
    }
    let variables = knobs();
    assert!(variables.len() >= 6, "{variables:?}");
    for variable in variables {
        assert!(
            text.contains(&format!(".TP\n.B {variable}\n")),
            "no ENVIRONMENT entry for {variable}"
        );
    }
    assert!(text.contains("docs/json.md") && text.contains("DIVERGENCES.md"));
}

/// Every environment variable rlsof reads: the `RLSOF_` names of
/// src/knobs.rs, which reads them all.
fn knobs() -> Vec<String> {
    let source =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/knobs.rs"))
            .expect("src/knobs.rs is readable");
    source
        .lines()
        .filter_map(|line| line.trim().strip_prefix("pub(crate) const "))
        .filter_map(|rest| rest.split('"').nth(1))
        .filter(|name| name.starts_with("RLSOF_"))
        .map(String::from)
        .collect()
}

#[test]
fn groff_reports_no_warnings() {
    if !have("groff") {
        return;
    }
    let out = Command::new("groff")
        .args(["-man", "-t", "-Tutf8", "-ww", "-z"])
        .arg(manual_path())
        .output()
        .expect("groff runs");
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

#[test]
fn mandoc_lint_is_clean() {
    if !have("mandoc") {
        return;
    }
    let out = Command::new("mandoc")
        .args(["-Tlint", "-Wstyle"])
        .arg(manual_path())
        .output()
        .expect("mandoc runs");
    let said =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert_eq!(said, "");
}

#[test]
fn man_renders_it() {
    if !have("man") {
        return;
    }
    let out = Command::new("man")
        .args(["-l", "-P", "cat"])
        .arg(manual_path())
        .env("MANWIDTH", "80")
        .env("MAN_KEEP_FORMATTING", "")
        .output()
        .expect("man runs");
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("RLSOF(1)"), "{text}");
    // The table of -F letters went through tbl.
    assert!(text.contains("lock"), "{text}");
    assert!(!text.contains(".TS"), "{text}");
}
