//! The printers against lsof 4.95's own output for the same records.

use super::printer_for;
use super::testdata::{python_process, MachineNames};
use super::{FieldSet, FlagStyle, OutputKind, PrintSettings, TcpInfoParts};
use crate::escape;

fn print(opts: &PrintSettings) -> Vec<u8> {
    escape::init_for_tests();
    let mut out = Vec::new();
    {
        let mut p = printer_for(opts, &MachineNames, &mut out);
        p.process(&python_process()).unwrap();
        p.finish().unwrap();
    }
    out
}

fn check(opts: &PrintSettings, expected: &[u8]) {
    let got = print(opts);
    if got != expected {
        let got = String::from_utf8_lossy(&got);
        let want = String::from_utf8_lossy(expected);
        for (i, (g, w)) in got.lines().zip(want.lines()).enumerate() {
            if g != w {
                panic!("line {i} differs:\n got: {g:?}\nwant: {w:?}");
            }
        }
        panic!("lengths differ:\n got:\n{got}\nwant:\n{want}");
    }
}

fn opts() -> PrintSettings {
    PrintSettings::default()
}

#[test]
fn table_default() {
    check(&opts(), include_bytes!("testdata/default.txt"));
}

#[test]
fn table_numeric() {
    let o = PrintSettings {
        host_names: false,
        port_names: false,
        ..opts()
    };
    check(&o, include_bytes!("testdata/numeric.txt"));
}

#[test]
fn table_links_ppid_pgid_uid() {
    let o = PrintSettings {
        show_nlink: true,
        show_ppid: true,
        show_pgid: true,
        user_names: false,
        ..opts()
    };
    check(&o, include_bytes!("testdata/links_ppid_pgid.txt"));
}

#[test]
fn table_offsets() {
    let o = PrintSettings {
        offsets: true,
        ..opts()
    };
    check(&o, include_bytes!("testdata/offset.txt"));
    let o = PrintSettings {
        offset_digits: 4,
        ..opts()
    };
    check(&o, include_bytes!("testdata/offset_digits.txt"));
}

#[test]
fn table_sizes() {
    let o = PrintSettings {
        sizes_only: true,
        ..opts()
    };
    check(&o, include_bytes!("testdata/size.txt"));
}

#[test]
fn table_file_flags() {
    let o = PrintSettings {
        file_flags: Some(FlagStyle::Names),
        ..opts()
    };
    check(&o, include_bytes!("testdata/flags.txt"));
    let o = PrintSettings {
        file_flags: Some(FlagStyle::Hex),
        ..opts()
    };
    check(&o, include_bytes!("testdata/flags_hex.txt"));
}

#[test]
fn table_tcp_info() {
    let o = PrintSettings {
        tcp_info: TcpInfoParts {
            state: false,
            queues: false,
            any: false,
        },
        ..opts()
    };
    check(&o, include_bytes!("testdata/tcp_none.txt"));
    let o = PrintSettings {
        tcp_info: TcpInfoParts {
            state: true,
            queues: true,
            any: true,
        },
        ..opts()
    };
    check(&o, include_bytes!("testdata/tcp_qs.txt"));
}

/// `-F<letters>` (`-F0<letters>` for NUL) as the command line sets it up
/// (`app::print_settings` checks that it does): field letters switch on
/// the options that feed them, bare `-F` all of them but `o`.
fn fields(letters: &str, nul: bool) -> PrintSettings {
    let has = |c| letters.is_empty() || letters.contains(c);
    let tcp = has('T');
    PrintSettings {
        output: OutputKind::Fields {
            fields: FieldSet::from_letters(letters),
            nul: nul || letters.contains('0'),
        },
        offsets: !letters.is_empty() && letters.contains('o'),
        show_nlink: has('k'),
        show_pgid: has('g'),
        show_ppid: has('R'),
        file_flags: has('G').then_some(FlagStyle::Hex),
        tcp_info: TcpInfoParts {
            state: true,
            queues: tcp,
            any: true,
        },
        ..opts()
    }
}

#[test]
fn fields_bare() {
    check(&fields("", false), include_bytes!("testdata/fields.txt"));
    check(&fields("", true), include_bytes!("testdata/fields0.txt"));
}

#[test]
fn fields_chosen() {
    check(
        &fields("pcfnTo", false),
        include_bytes!("testdata/fields_pcfnTo.txt"),
    );
}

#[test]
fn terse() {
    let o = PrintSettings {
        output: OutputKind::Terse,
        ..opts()
    };
    check(&o, include_bytes!("testdata/terse.txt"));
}

fn json_lines(o: &PrintSettings) -> Vec<serde_json::Value> {
    let out = print(o);
    out.split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect()
}

#[test]
fn json_document() {
    let o = PrintSettings {
        output: OutputKind::Json {
            lines: false,
            fields: None,
        },
        ..opts()
    };
    let out = print(&o);
    assert!(out.ends_with(b"]}\n"));
    let doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(doc["lsof_version"], "4.95.0");
    let procs = doc["processes"].as_array().unwrap();
    assert_eq!(procs.len(), 1);
    let p = &procs[0];
    // Keys in lsof's field order; pgid/ppid only with -g/-R.
    let keys: Vec<&str> = p.as_object().unwrap().keys().map(String::as_str).collect();
    let text = String::from_utf8_lossy(&out);
    assert!(text.starts_with(r#"{"lsof_version":"4.95.0","processes":[{"pid":5005,"command":"python3","uid":0,"login":"root","files":["#));
    assert!(keys.contains(&"files") && !keys.contains(&"pgid"));
    let files = p["files"].as_array().unwrap();
    assert_eq!(files.len(), python_process().files.len());
    assert_eq!(
        serde_json::to_string(&files[0]).unwrap(),
        r#"{"device":"254,0","device_number":"0xfe00","fd":"cwd","inode":"10019170","name":"/tmp/pr","size":"4096","type":"DIR"}"#
    );
    let tcp = files.iter().find(|f| f["fd"] == "40").unwrap();
    assert!(text.contains(r#"{"fd":"40","access":"u","type":"IPv4","device":"12763","offset":"0","inode":"12763","protocol":"TCP","name":"localhost:57342->localhost:41303 (ESTABLISHED)","tcp_info":{"state":"ESTABLISHED"}}"#), "{tcp}");
    let bad = files.iter().find(|f| f["fd"] == "14").unwrap();
    assert_eq!(bad["name"], "/tmp/pr/files/bad\u{fffd}x\u{fffd}y");
    assert_eq!(
        bad["name_bytes"],
        super::json::base64(b"/tmp/pr/files/bad\xffx\x80y")
    );
    let locked = files.iter().find(|f| f["fd"] == "22").unwrap();
    assert_eq!(
        (&locked["access"], &locked["lock"]),
        (&"u".into(), &"W".into())
    );
}

#[test]
fn json_empty() {
    escape::init_for_tests();
    let o = PrintSettings {
        output: OutputKind::Json {
            lines: false,
            fields: None,
        },
        ..opts()
    };
    let mut out = Vec::new();
    printer_for(&o, &MachineNames, &mut out).finish().unwrap();
    assert_eq!(out, b"{\"lsof_version\":\"4.95.0\",\"processes\":[]}\n");
    let o = PrintSettings {
        output: OutputKind::Json {
            lines: true,
            fields: None,
        },
        ..opts()
    };
    let mut out = Vec::new();
    printer_for(&o, &MachineNames, &mut out).finish().unwrap();
    assert!(out.is_empty());
}

#[test]
fn json_lines_one_object_per_file() {
    let o = PrintSettings {
        output: OutputKind::Json {
            lines: true,
            fields: None,
        },
        show_pgid: true,
        show_ppid: true,
        show_nlink: true,
        file_flags: Some(FlagStyle::Names),
        tcp_info: TcpInfoParts {
            state: true,
            queues: true,
            any: true,
        },
        ..opts()
    };
    let lines = json_lines(&o);
    assert_eq!(lines.len(), python_process().files.len());
    for l in &lines {
        assert_eq!(
            (l["pid"].as_i64(), l["pgid"].as_i64(), l["ppid"].as_i64()),
            (Some(5005), Some(5001), Some(1))
        );
    }
    let listen6 = lines.iter().find(|l| l["fd"] == "43").unwrap();
    assert_eq!(
        listen6["tcp_info"],
        serde_json::json!({"state": "LISTEN", "recv_queue": 1, "send_queue": 0})
    );
    let big = lines.iter().find(|l| l["fd"] == "19").unwrap();
    assert_eq!(
        (&big["size"], &big["offset"], &big["flags"], &big["nlink"]),
        (
            &"123456789012".into(),
            &"987654321".into(),
            &"RW,LG,CX".into(),
            &1.into()
        )
    );
}

fn print_all(o: &PrintSettings, procs: &[crate::model::Process]) -> Vec<u8> {
    escape::init_for_tests();
    let mut out = Vec::new();
    {
        let mut p = printer_for(o, &MachineNames, &mut out);
        for proc_ in procs {
            p.process(proc_).unwrap();
        }
        p.finish().unwrap();
    }
    out
}

#[test]
fn table_threads() {
    let procs = super::testdata::threaded_processes();
    let got = print_all(&opts(), &procs);
    assert_eq!(
        String::from_utf8_lossy(&got),
        include_str!("testdata/threads.txt")
    );
    let mut procs = procs;
    for p in &mut procs {
        p.files
            .retain(|f| f.fd == Some(crate::model::FdName::Num(3)));
    }
    let got = print_all(&fields("", false), &procs);
    assert_eq!(
        String::from_utf8_lossy(&got),
        include_str!("testdata/threads_fields.txt")
    );
    let got = print_all(
        &PrintSettings {
            output: OutputKind::Terse,
            ..opts()
        },
        &procs,
    );
    assert_eq!(got, b"7198\n");
}

#[test]
fn table_unreadable() {
    let got = print_all(&opts(), &[super::testdata::unreadable_process()]);
    assert_eq!(
        String::from_utf8_lossy(&got),
        include_str!("testdata/pid1.txt")
    );
}

#[test]
fn nothing_listed_prints_nothing() {
    assert!(print_all(&opts(), &[]).is_empty());
    assert!(print_all(&fields("", false), &[]).is_empty());
}

#[test]
fn human_sizes() {
    let mut out = Vec::new();
    for s in [0u64, 1023, 1024, 1536, 123456789012, u64::MAX] {
        super::columns::human_size(s, &mut out);
        out.push(b' ');
    }
    assert_eq!(
        String::from_utf8_lossy(&out),
        "0B 1023B 1.0K 1.5K 115.0G 16.0E "
    );
}

#[test]
fn repeat_cycles_reuse_a_printer() {
    escape::init_for_tests();
    let o = opts();
    let mut out = Vec::new();
    {
        let mut p = printer_for(&o, &MachineNames, &mut out);
        p.process(&super::testdata::unreadable_process()).unwrap();
        p.finish().unwrap();
        p.end_cycle(None).unwrap();
        p.process(&super::testdata::unreadable_process()).unwrap();
        p.finish().unwrap();
        p.end_cycle(Some(b"12:00")).unwrap();
    }
    let once = include_str!("testdata/pid1.txt");
    assert_eq!(
        String::from_utf8_lossy(&out),
        format!("{once}=======\n{once}12:00\n")
    );
    let mut marker = Vec::new();
    let nul_fields = fields("pn0", false);
    {
        let mut p = printer_for(&nul_fields, &MachineNames, &mut marker);
        p.end_cycle(Some(b"x")).unwrap();
        p.end_cycle(None).unwrap();
    }
    assert_eq!(marker, b"mx\0\nm\0\n");
}

#[test]
fn json_fields_choose_keys() {
    let o = PrintSettings {
        output: OutputKind::Json {
            lines: true,
            fields: Some(FieldSet::from_letters("pfn")),
        },
        ..opts()
    };
    let text = String::from_utf8(print(&o)).unwrap();
    let first = text.lines().next().unwrap();
    assert_eq!(first, r#"{"pid":5005,"fd":"cwd","name":"/tmp/pr"}"#);
}
