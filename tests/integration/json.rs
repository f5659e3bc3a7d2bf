//! `-J`/`-j` schema tests: the output parses with serde_json, every key is
//! one docs/json.md lists (unknown keys fail), every value has its type;
//! plus the "better than upstream" promises (valid UTF-8 with exact bytes
//! in `name_bytes`, socket names with addresses and state, size and offset
//! together) and `-H`.

use crate::common;
use crate::common::{require_root, Fixture, Output};
use serde_json::{Map, Value};

/// What a key's value must be.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Str,
    /// A string of decimal digits.
    Digits,
    /// A string `0x` + hex digits.
    Hex,
    /// A one-character string.
    Char,
    /// Standard base64 with padding.
    Base64,
    Int,
    Uint,
    Object,
    Array,
}

const TOP: &[(&str, Kind)] = &[("lsof_version", Kind::Str), ("processes", Kind::Array)];
const PROCESS: &[(&str, Kind)] = &[
    ("pid", Kind::Int),
    ("tid", Kind::Int),
    ("task_cmd", Kind::Str),
    ("task_cmd_bytes", Kind::Base64),
    ("pgid", Kind::Int),
    ("ppid", Kind::Int),
    ("command", Kind::Str),
    ("command_bytes", Kind::Base64),
    ("uid", Kind::Uint),
    ("login", Kind::Str),
];
const FILE: &[(&str, Kind)] = &[
    ("fd", Kind::Str),
    ("access", Kind::Char),
    ("lock", Kind::Char),
    ("type", Kind::Str),
    ("device", Kind::Str),
    ("device_number", Kind::Hex),
    ("raw_device", Kind::Hex),
    ("size", Kind::Digits),
    ("offset", Kind::Digits),
    ("inode", Kind::Digits),
    ("nlink", Kind::Uint),
    ("protocol", Kind::Str),
    ("flags", Kind::Str),
    ("name", Kind::Str),
    ("name_bytes", Kind::Base64),
    ("tcp_info", Kind::Object),
];
const TCP_INFO: &[(&str, Kind)] = &[
    ("state", Kind::Str),
    ("recv_queue", Kind::Uint),
    ("send_queue", Kind::Uint),
];

fn check_value(key: &str, kind: Kind, v: &Value) {
    let s = v.as_str();
    let ok = match kind {
        Kind::Str => s.is_some(),
        Kind::Digits => s.is_some_and(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())),
        Kind::Hex => s.is_some_and(|s| {
            s.strip_prefix("0x")
                .is_some_and(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_hexdigit()))
        }),
        Kind::Char => s.is_some_and(|s| s.chars().count() == 1 && s != " "),
        Kind::Base64 => s.is_some_and(|s| base64_decode(s).is_some()),
        Kind::Int => v.is_i64(),
        Kind::Uint => v.is_u64(),
        Kind::Object => v.is_object(),
        Kind::Array => v.is_array(),
    };
    assert!(ok, "{key}: {v} is not {kind:?}");
}

/// Every key is allowed at this level and has its type.
fn check_object(level: &str, obj: &Map<String, Value>, allowed: &[&[(&str, Kind)]]) {
    for (key, value) in obj {
        let kind = allowed
            .iter()
            .flat_map(|keys| keys.iter())
            .find(|(k, _)| k == key)
            .map(|(_, kind)| *kind)
            .unwrap_or_else(|| panic!("unknown key {key:?} in a {level} object: {obj:?}"));
        check_value(key, kind, value);
        if key == "tcp_info" {
            check_object("tcp_info", value.as_object().unwrap(), &[TCP_INFO]);
        }
    }
    if allowed
        .iter()
        .any(|keys| keys.iter().any(|(k, _)| *k == "name"))
    {
        assert!(!obj.contains_key("name_bytes") || obj.contains_key("name"));
    }
}

/// Checks a `-J` document against the schema; returns its processes.
fn check_document(out: &Output) -> Vec<Map<String, Value>> {
    let doc: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)));
    let top = doc.as_object().expect("an object");
    check_object("top", top, &[TOP]);
    assert_eq!(
        top.keys().collect::<Vec<_>>(),
        ["lsof_version", "processes"]
    );
    let mut procs = Vec::new();
    for p in top["processes"].as_array().unwrap() {
        let p = p.as_object().expect("a process object");
        check_object("process", p, &[PROCESS, &[("files", Kind::Array)]]);
        for f in p["files"].as_array().unwrap() {
            check_object("file", f.as_object().expect("a file object"), &[FILE]);
        }
        procs.push(p.clone());
    }
    procs
}

/// Checks `-j` output: one object per line, process and file keys.
fn check_lines(out: &Output) -> Vec<Map<String, Value>> {
    let text = std::str::from_utf8(&out.stdout).expect("UTF-8");
    text.lines()
        .map(|line| {
            let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
            let obj = v.as_object().expect("an object").clone();
            check_object("line", &obj, &[PROCESS, FILE]);
            obj
        })
        .collect()
}

fn base64_decode(text: &str) -> Option<Vec<u8>> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if !text.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::new();
    for chunk in text.as_bytes().chunks(4) {
        let pad = chunk.iter().rev().take_while(|&&b| b == b'=').count();
        let mut n: u32 = 0;
        for &b in &chunk[..4 - pad] {
            n = (n << 6) | ALPHABET.iter().position(|&a| a == b)? as u32;
        }
        n <<= 6 * pad as u32;
        let bytes = n.to_be_bytes();
        out.extend_from_slice(&bytes[1..4 - pad]);
    }
    Some(out)
}

fn files_of(p: &Map<String, Value>) -> Vec<Map<String, Value>> {
    p["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_object().unwrap().clone())
        .collect()
}

fn file_with_fd<'a>(files: &'a [Map<String, Value>], fd: &str) -> &'a Map<String, Value> {
    files
        .iter()
        .find(|f| f["fd"] == fd)
        .unwrap_or_else(|| panic!("no fd {fd} in {files:?}"))
}

/// The descriptor `lsof -Fn` shows for a name ending in `suffix`.
fn fd_of_name(pid: &str, suffix: &str) -> String {
    let out = common::rlsof_on_every_path(None, &["-Ffn", "-p", pid]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut fd = String::new();
    for line in text.lines() {
        if let Some(f) = line.strip_prefix('f') {
            fd = f.to_string();
        } else if line.starts_with('n') && line.ends_with(suffix) {
            return fd;
        }
    }
    panic!("no file named *{suffix} in\n{text}");
}

const KINDS: &[&str] = &[
    "regular",
    "deleted",
    "directory",
    "devices",
    "odd_names",
    "pipes",
    "unix_sockets",
    "tcp_ipv4",
    "tcp_ipv6",
    "udp_ipv4",
    "eventfd",
    "mmaps",
    "locks_posix_whole",
    "thread",
];

#[test]
fn document_follows_the_schema_with_every_option() {
    if !require_root() {
        return;
    }
    let f = Fixture::start(KINDS);
    let pid = f.pid_arg();
    for options in [
        &["-J"][..],
        &["-J", "-n", "-P"],
        &["-J", "-g", "-R", "+L", "+fg", "-T", "qs"],
        &["-J", "+fG", "-o"],
        &["-J", "-s"],
        &["-J", "-F"],
        &["-J", "-F0"],
        &["-J", "-K", "-a"],
        &["-J", "-l", "-H", "-w"],
    ] {
        let args: Vec<&str> = options.iter().copied().chain(["-p", &pid]).collect();
        let out = common::rlsof_on_every_path(None, &args);
        assert_eq!(out.status, "exit 0", "{args:?}: {out:?}");
        assert!(
            out.stdout.ends_with(b"]}\n") && !out.stdout[..out.stdout.len() - 1].contains(&b'\n')
        );
        let procs = check_document(&out);
        assert!(!procs.is_empty(), "{args:?}");
    }
}

#[test]
fn lines_follow_the_schema_and_carry_process_keys() {
    if !require_root() {
        return;
    }
    let f = Fixture::start(KINDS);
    let pid = f.pid_arg();
    let doc = check_document(&common::rlsof_on_every_path(
        None,
        &["-J", "-g", "-R", "-p", &pid],
    ));
    let lines = check_lines(&common::rlsof_on_every_path(
        None,
        &["-j", "-g", "-R", "-p", &pid],
    ));
    let files: usize = doc.iter().map(|p| files_of(p).len()).sum();
    assert_eq!(lines.len(), files);
    for line in &lines {
        for key in ["pid", "pgid", "ppid", "command", "uid", "fd"] {
            assert!(line.contains_key(key), "{key} missing in {line:?}");
        }
    }
}

#[test]
fn option_keys_appear_only_with_their_options() {
    if !require_root() {
        return;
    }
    let f = Fixture::start(&["regular", "tcp_ipv4"]);
    let pid = f.pid_arg();
    let plain = check_document(&common::rlsof_on_every_path(None, &["-J", "-p", &pid]));
    let p = &plain[0];
    for key in ["pgid", "ppid", "tid"] {
        assert!(!p.contains_key(key), "{key} without its option");
    }
    assert!(files_of(p)
        .iter()
        .all(|f| !f.contains_key("nlink") && !f.contains_key("flags")));
    let full = check_document(&common::rlsof_on_every_path(
        None,
        &["-J", "-g", "-R", "+L", "+fg", "-T", "qs", "-p", &pid],
    ));
    let p = &full[0];
    assert!(p.contains_key("pgid") && p.contains_key("ppid"));
    let files = files_of(p);
    let read = file_with_fd(&files, &fd_of_name(&pid, "/read.txt"));
    assert_eq!(read["nlink"], 1);
    assert!(read["flags"].is_string());
    let tcp = files
        .iter()
        .find(|f| {
            f["name"]
                .as_str()
                .is_some_and(|n| n.contains("(ESTABLISHED"))
        })
        .expect("an established TCP socket");
    let info = tcp["tcp_info"].as_object().unwrap();
    assert_eq!(info["state"], "ESTABLISHED");
    assert!(info["recv_queue"].is_u64() && info["send_queue"].is_u64());
}

#[test]
fn field_letters_choose_the_keys() {
    if !require_root() {
        return;
    }
    let f = Fixture::start(&["regular"]);
    let pid = f.pid_arg();
    let out = common::rlsof_on_every_path(None, &["-J", "-Fpcfn", "-p", &pid]);
    let procs = check_document(&out);
    // (serde_json's map sorts keys; the order written is checked below.)
    let keys: Vec<&String> = procs[0].keys().collect();
    assert_eq!(keys, ["command", "files", "pid"]);
    for file in files_of(&procs[0]) {
        let keys: Vec<&String> = file.keys().collect();
        assert_eq!(keys, ["fd", "name"]);
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let start =
        format!("{{\"lsof_version\":\"4.95.0\",\"processes\":[{{\"pid\":{pid},\"command\":");
    assert!(text.starts_with(&start), "{text}");
    assert!(
        text.contains("\"files\":[{\"fd\":\"cwd\",\"name\":"),
        "{text}"
    );
    let out = common::rlsof_on_every_path(None, &["-j", "-Fpfn", "-p", &pid]);
    let lines = check_lines(&out);
    assert!(lines
        .iter()
        .all(|l| l.keys().collect::<Vec<_>>() == ["fd", "name", "pid"]));
    let first = format!("{{\"pid\":{pid},\"fd\":\"cwd\",\"name\":");
    assert!(String::from_utf8_lossy(&out.stdout).starts_with(&first));
}

#[test]
fn odd_names_are_valid_utf8_with_exact_bytes() {
    if !require_root() {
        return;
    }
    let f = Fixture::start(&["odd_names"]);
    let pid = f.pid_arg();
    let dir = f.dir.to_string_lossy().into_owned();
    for mode in ["-J", "-j"] {
        let out = common::rlsof_on_every_path(None, &[mode, "-p", &pid]);
        assert!(std::str::from_utf8(&out.stdout).is_ok(), "not UTF-8");
        let files: Vec<Map<String, Value>> = if mode == "-J" {
            files_of(&check_document(&out)[0])
        } else {
            check_lines(&out)
        };
        let by_name = |n: &str| {
            files
                .iter()
                .find(|f| f["name"].as_str() == Some(n))
                .unwrap_or_else(|| panic!("no file named {n:?}: {files:?}"))
                .clone()
        };
        let newline = by_name(&format!("{dir}/new\nline"));
        assert!(!newline.contains_key("name_bytes"));
        by_name(&format!("{dir}/esc\u{1b}[0m"));
        by_name(&format!("{dir}/tab\there"));
        let bad = by_name(&format!("{dir}/bad\u{fffd}"));
        let exact = base64_decode(bad["name_bytes"].as_str().unwrap()).unwrap();
        assert_eq!(exact, [dir.as_bytes(), b"/bad\xff"].concat());
    }
    // Control characters are escaped: -J is one line, -j one line per file.
    let lines = common::rlsof_on_every_path(None, &["-j", "-p", &pid]);
    let doc = common::rlsof_on_every_path(None, &["-J", "-p", &pid]);
    assert_eq!(doc.stdout.iter().filter(|&&b| b == b'\n').count(), 1);
    assert!(!doc.stdout.contains(&0x1b) && !lines.stdout.contains(&0x1b));
}

#[test]
fn size_and_offset_together_whatever_o_and_s_say() {
    if !require_root() {
        return;
    }
    let f = Fixture::start(&["regular", "devices", "pipes"]);
    let pid = f.pid_arg();
    let read_fd = fd_of_name(&pid, "/read.txt");
    let rw_fd = fd_of_name(&pid, "/readwrite.txt");
    for extra in [&[][..], &["-o"], &["-s"], &["-o0"]] {
        let args: Vec<&str> = ["-J"]
            .into_iter()
            .chain(extra.iter().copied())
            .chain(["-p", &pid])
            .collect();
        let files = files_of(&check_document(&common::rlsof_on_every_path(None, &args))[0]);
        let read = file_with_fd(&files, &read_fd);
        assert_eq!(
            (&read["size"], &read["offset"]),
            (&"1000".into(), &"7".into())
        );
        let rw = file_with_fd(&files, &rw_fd);
        assert_eq!(
            (&rw["size"], &rw["offset"]),
            (&"1000".into(), &"123456".into())
        );
        // Devices and pipes have no size, as in lsof; cwd has no offset.
        let null = files.iter().find(|f| f["name"] == "/dev/null").unwrap();
        assert!(!null.contains_key("size") && null["offset"] == "0");
        assert!(null["raw_device"] == "0x103");
        let cwd = file_with_fd(&files, "cwd");
        assert!(cwd.contains_key("size") && !cwd.contains_key("offset"));
    }
}

#[test]
fn socket_names_keep_addresses_and_state() {
    if !require_root() {
        return;
    }
    let f = Fixture::start(&["unix_sockets", "tcp_ipv4", "tcp_ipv6", "udp_ipv4"]);
    let pid = f.pid_arg();
    let files = files_of(
        &check_document(&common::rlsof_on_every_path(
            None,
            &["-J", "-n", "-P", "-p", &pid],
        ))[0],
    );
    // The table's NAME column, for the same descriptors.
    let table = common::rlsof_on_every_path(None, &["-n", "-P", "-p", &pid]);
    let text = String::from_utf8_lossy(&table.stdout).into_owned();
    let mut checked = 0;
    for file in &files {
        let Some(proto) = file.get("protocol").and_then(Value::as_str) else {
            continue;
        };
        let name = file["name"].as_str().unwrap();
        let row = text
            .lines()
            .find(|l| l.contains(&format!(" {proto} {name}")))
            .unwrap_or_else(|| panic!("no table row ends in {proto} {name:?}:\n{text}"));
        assert!(
            row.trim_end().ends_with(&format!(" {proto} {name}")),
            "{row}"
        );
        assert!(name.contains(':'), "{name}");
        if proto == "TCP" {
            assert!(name.ends_with(')'), "TCP name without its state: {name}");
        }
        checked += 1;
    }
    assert!(checked >= 7, "{files:?}");
    assert!(files.iter().any(|f| f["name"]
        .as_str()
        .is_some_and(|n| n.contains("->127.0.0.1:") && n.ends_with("(ESTABLISHED)"))));
    assert!(files.iter().any(|f| f["type"] == "unix"
        && f["name"]
            .as_str()
            .is_some_and(|n| n.ends_with("type=STREAM (LISTEN)"))));
}

#[test]
fn nothing_found() {
    let gone = common::vanished_pid().to_string();
    let doc = common::rlsof_on_every_path(None, &["-J", "-p", &gone]);
    assert_eq!(
        (
            String::from_utf8_lossy(&doc.stdout).as_ref(),
            doc.status.as_str()
        ),
        ("{\"lsof_version\":\"4.95.0\",\"processes\":[]}\n", "exit 1")
    );
    let lines = common::rlsof_on_every_path(None, &["-j", "-p", &gone]);
    assert_eq!((lines.stdout.len(), lines.status.as_str()), (0, "exit 1"));
}

#[test]
fn json_and_terse_exclude_each_other() {
    for (args, message) in [
        (&["-J", "-j"][..], "-J and -j are mutually exclusive"),
        (&["-J", "-t"], "-J/-j and -t are mutually exclusive"),
        (&["-t", "-j"], "-J/-j and -t are mutually exclusive"),
    ] {
        let out = common::rlsof_on_every_path(None, args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status == "exit 1" && out.stdout.is_empty() && err.contains(message),
            "{args:?}: {out:?}"
        );
    }
}

/// `-H` as upstream writes it: 1024-based, one decimal, B under 1K.
fn human(size: u64) -> String {
    if size < 1024 {
        return format!("{size}B");
    }
    let suffixes = ["K", "M", "G", "T", "P", "E"];
    let mut unit = 1024u64;
    let mut i = 0;
    while i < 5 && size / unit >= 1024 {
        unit *= 1024;
        i += 1;
    }
    format!(
        "{:.1}{}",
        (size / (unit / 1024)) as f64 / 1024.0,
        suffixes[i]
    )
}

#[test]
fn human_sizes_in_the_table() {
    if !require_root() {
        return;
    }
    let f = Fixture::start(&["regular", "directory", "mmaps"]);
    let pid = f.pid_arg();
    let plain = common::rlsof_on_every_path(None, &["-p", &pid]);
    let human_out = common::rlsof_on_every_path(None, &["-H", "-p", &pid]);
    let rows = |o: &Output| -> Vec<Vec<String>> {
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .skip(1)
            .map(|l| l.split_whitespace().map(str::to_string).collect())
            .collect()
    };
    let (plain, humanized) = (rows(&plain), rows(&human_out));
    assert_eq!(plain.len(), humanized.len());
    let mut sizes = 0;
    for (p, h) in plain.iter().zip(&humanized) {
        assert_eq!(p.len(), h.len(), "{p:?} {h:?}");
        for (a, b) in p.iter().zip(h) {
            // The SIZE/OFF cell is the only one that changes.
            if a != b {
                assert_eq!(&human(a.parse().unwrap()), b, "{p:?} {h:?}");
                sizes += 1;
            }
        }
    }
    assert!(sizes > 3);
    let text = String::from_utf8_lossy(&human_out.stdout);
    assert!(
        text.contains(" 1000B ") && text.contains(" 4.0K ") && text.contains(" 8.0K "),
        "{text}"
    );
}

#[test]
fn repeat_cycles_in_json() {
    if !require_root() {
        return;
    }
    let f = Fixture::start(&["regular"]);
    let pid = f.pid_arg();
    let doc = common::rlsof_on_every_path(None, &["-J", "-r1c2", "-p", &pid]);
    let text = String::from_utf8_lossy(&doc.stdout).into_owned();
    let docs: Vec<&str> = text.lines().collect();
    assert_eq!(docs.len(), 2, "{text}");
    for d in docs {
        let one = Output {
            stdout: format!("{d}\n").into_bytes(),
            ..doc.clone()
        };
        assert_eq!(check_document(&one).len(), 1);
    }
    let lines = common::rlsof_on_every_path(None, &["-j", "-r1c2", "-p", &pid]);
    let text = String::from_utf8_lossy(&lines.stdout).into_owned();
    let cycles: Vec<&str> = text.split("\n\n").filter(|c| !c.is_empty()).collect();
    assert_eq!(cycles.len(), 2, "{text}");
    assert!(text.ends_with("}\n\n"));
    assert_eq!(cycles[0].trim_end(), cycles[1].trim_end());
}
