//! The printers against lsof 4.95's own output for the same records.

use super::testdata::{python_process, MachineNames};
use super::{escape, printer_for};
use crate::cli::options::{LinkCount, Options, Output};

fn print(opts: &Options) -> Vec<u8> {
    escape::init_for_tests();
    let mut out = Vec::new();
    {
        let mut p = printer_for(opts, &MachineNames, &mut out);
        p.process(&python_process()).unwrap();
        p.finish().unwrap();
    }
    out
}

fn check(opts: &Options, expected: &[u8]) {
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

fn opts() -> Options {
    Options::new()
}

#[test]
fn table_default() {
    check(&opts(), include_bytes!("testdata/default.txt"));
}

#[test]
fn table_numeric() {
    let o = Options {
        no_host_names: true,
        no_port_names: true,
        ..opts()
    };
    check(&o, include_bytes!("testdata/numeric.txt"));
}

#[test]
fn table_links_ppid_pgid_uid() {
    let o = Options {
        link_count: LinkCount::Show,
        ppid: true,
        show_pgid: true,
        numeric_users: true,
        ..opts()
    };
    check(&o, include_bytes!("testdata/links_ppid_pgid.txt"));
}

#[test]
fn table_offsets() {
    let o = Options {
        offset: Some(8),
        ..opts()
    };
    check(&o, include_bytes!("testdata/offset.txt"));
    let o = Options {
        offset_digits: Some(4),
        ..opts()
    };
    check(&o, include_bytes!("testdata/offset_digits.txt"));
}

#[test]
fn table_sizes() {
    let o = Options {
        size_only: true,
        ..opts()
    };
    check(&o, include_bytes!("testdata/size.txt"));
}

#[test]
fn table_file_flags() {
    let o = Options {
        file_flags: Some('g'),
        ..opts()
    };
    check(&o, include_bytes!("testdata/flags.txt"));
    let o = Options {
        file_flags: Some('G'),
        ..opts()
    };
    check(&o, include_bytes!("testdata/flags_hex.txt"));
}

#[test]
fn table_tcp_info() {
    let o = Options {
        tcp_info: Some(String::new()),
        ..opts()
    };
    check(&o, include_bytes!("testdata/tcp_none.txt"));
    let o = Options {
        tcp_info: Some("qs".into()),
        ..opts()
    };
    check(&o, include_bytes!("testdata/tcp_qs.txt"));
}

fn fields(letters: &str, nul: bool) -> Options {
    Options {
        output: Output::Fields {
            letters: letters.into(),
            nul,
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
    let o = Options {
        output: Output::Terse,
        ..opts()
    };
    check(&o, include_bytes!("testdata/terse.txt"));
}
