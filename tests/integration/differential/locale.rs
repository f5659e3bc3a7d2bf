//! lsof escapes names and the user text in its messages for the locale
//! (LC_CTYPE from the environment, set before the options are parsed): a
//! printable UTF-8 character prints raw in a UTF-8 locale and as `\xNN`
//! bytes in the C locale.

use std::ffi::OsStr;
use std::fs::File;
use std::process::{Child, Command, Stdio};

use crate::common::{report, require_lsof, rlsof, Output, LSOF};

/// Runs `program args` under `LANG=lang` (LC_ALL and LC_CTYPE unset),
/// with variables `env` set.
fn run_in_locale(
    program: impl AsRef<OsStr>,
    args: &[&str],
    lang: &str,
    env: &[(&str, &str)],
) -> Output {
    let out = Command::new(program)
        .args(args)
        .envs(env.iter().copied())
        .env("LANG", lang)
        .env_remove("LC_ALL")
        .env_remove("LC_CTYPE")
        .stdin(Stdio::null())
        .output()
        .expect("run the program");
    let status = match out.status.code() {
        Some(code) => format!("exit {code}"),
        None => "signal".to_string(),
    };
    Output {
        stdout: out.stdout,
        stderr: out.stderr,
        status,
    }
}

fn assert_same_in_locales(args: &[&str], marker: &[u8]) {
    for lang in ["C.UTF-8", "C"] {
        let expected = run_in_locale(LSOF, args, lang, &[]);
        for path in crate::common::paths() {
            let got = run_in_locale(rlsof(), args, lang, path.env);
            assert_eq!(
                expected,
                got,
                "LANG={lang}: {}",
                report(args, &expected, &got, path.name)
            );
        }
        let all = [&expected.stdout[..], &expected.stderr[..]].concat();
        if lang == "C" {
            assert!(all.windows(marker.len()).any(|w| w == marker), "LANG=C");
        }
    }
}

/// A `sleep` whose standard input is a file with a UTF-8 name.
struct Holder {
    child: Child,
    dir: std::path::PathBuf,
}

impl Holder {
    fn start() -> Holder {
        let dir = std::env::temp_dir().join(format!("rlsof-locale-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temporary directory");
        let path = dir.join("utf-\u{e9}-\u{4e2d}");
        File::create(&path).expect("create the file");
        let child = Command::new("sleep")
            .arg("60")
            .stdin(File::open(&path).expect("open the file"))
            .spawn()
            .expect("start sleep");
        Holder { child, dir }
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn utf8_names_follow_the_locale() {
    if !require_lsof() {
        return;
    }
    let holder = Holder::start();
    let pid = holder.child.id().to_string();
    assert_same_in_locales(&["-p", &pid, "-a", "-d", "0"], b"utf-\\xc3\\xa9-");
    assert_same_in_locales(
        &["-F", "n", "-p", &pid, "-a", "-d", "0"],
        b"utf-\\xc3\\xa9-",
    );
}

#[test]
fn utf8_in_messages_follows_the_locale() {
    if !require_lsof() {
        return;
    }
    assert_same_in_locales(&["-p", "\u{e9}"], b"\\xc3\\xa9");
    assert_same_in_locales(&["-u", "\u{e9}t\u{e9}"], b"\\xc3\\xa9");
}
