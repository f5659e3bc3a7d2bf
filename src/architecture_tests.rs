//! The layers of docs/ARCHITECTURE.md, checked against the sources: a
//! module's code (its tests aside) names no other module of the crate
//! than those the table allows.

use std::collections::BTreeSet;
use std::path::Path;

/// The table "Layers: which module may use which" of docs/ARCHITECTURE.md.
const LAYERS: &[(&str, &[&str])] = &[
    ("model", &[]),
    ("escape", &[]),
    ("build_info", &[]),
    ("knobs", &[]),
    ("users", &[]),
    ("sys", &["model"]),
    ("net", &["model", "sys", "escape"]),
    ("bpf", &["net", "model", "sys", "knobs"]),
    ("cli", &["model", "sys", "escape", "build_info"]),
    ("scan", &["bpf", "net", "sys", "model", "knobs", "escape"]),
    ("select", &["cli", "scan", "net", "sys", "model", "escape"]),
    ("print", &["model", "escape", "build_info"]),
    ("system_names", &["print", "net", "users", "model"]),
    ("run", &["scan", "select", "model"]),
    ("repeat", &["cli", "scan", "print", "model"]),
    ("deleted", FEATURES),
    ("fleet", FEATURES),
    ("live", FEATURES),
];

/// What rlsof's own features may use: every layer below `app`.
const FEATURES: &[&str] = &[
    "cli",
    "scan",
    "select",
    "print",
    "run",
    "repeat",
    "system_names",
    "model",
    "net",
    "sys",
    "users",
    "escape",
    "knobs",
    "bpf",
    "deleted",
];

/// The code of a source file without its comments and test modules.
fn code_of(text: &str) -> String {
    let code = match text.find("#[cfg(test)]\nmod ") {
        Some(tests) => &text[..tests],
        None => text,
    };
    code.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The modules `code` names as `crate::NAME`.
fn crate_modules_named(code: &str) -> BTreeSet<String> {
    code.match_indices("crate::")
        .map(|(at, _)| {
            code[at + 7..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect()
        })
        .collect()
}

fn is_test_file(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name.starts_with("tests") || name.ends_with("_tests.rs") || name.starts_with("test")
}

fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") && !is_test_file(&path) {
            out.push(path);
        }
    }
}

#[test]
fn modules_use_only_the_layers_below() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut wrong = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&src).unwrap();
        let first = relative.components().next().unwrap().as_os_str();
        let module = first.to_str().unwrap().trim_end_matches(".rs");
        let Some((_, allowed)) = LAYERS.iter().find(|(m, _)| *m == module) else {
            continue; // app, lib.rs, main.rs: anything
        };
        let code = code_of(&std::fs::read_to_string(file).unwrap());
        for used in crate_modules_named(&code) {
            let test_only = used.starts_with("test_");
            if used != module && !test_only && !allowed.contains(&used.as_str()) {
                wrong.push(format!("{} uses crate::{used}", relative.display()));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "outside docs/ARCHITECTURE.md's layers:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn comments_and_tests_do_not_count() {
    let text = "use crate::model::X;\n// crate::app\nfn f() {}\n#[cfg(test)]\nmod tests {\n use crate::cli;\n}\n";
    let named = crate_modules_named(&code_of(text));
    assert_eq!(named.into_iter().collect::<Vec<_>>(), ["model"]);
}
