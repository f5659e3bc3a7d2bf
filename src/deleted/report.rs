//! Rendering the deleted-files report: a text table grouped by filesystem,
//! or one JSON object.

use super::collect::{DeletedFile, Filesystem, Holder, Report};
use crate::escape::safe_text;
use crate::print::base64;
use serde_json::{json, Value};
use std::io::{self, Write};

/// Printed instead of a report when nothing deleted is held open.
pub(crate) const NOTHING_DELETED: &str = "No deleted files are held open.";

/// Printed instead of a report when the only deleted files held open are
/// empty.
pub(crate) const NOTHING_HELD: &str = "No deleted file holds any space.";

/// Printed last without root.
pub(crate) const PARTIAL_NOTE: &str =
    "Note: not run as root, so other users' processes were not seen; \
their deleted files are not listed and the total may be partial.";

/// How a holder's owner is shown: a login name, or the UID (`-l`).
pub(crate) type UserLabel<'a> = &'a dyn Fn(u32) -> String;

pub(crate) fn write_text(report: &Report, user: UserLabel, out: &mut dyn Write) -> io::Result<()> {
    if report.is_empty() {
        let nothing = if report.empty.is_empty() {
            NOTHING_DELETED
        } else {
            NOTHING_HELD
        };
        writeln!(out, "{nothing}")?;
    } else {
        write_held(report, user, out)?;
    }
    write_empty(report, user, out)?;
    if report.partial {
        writeln!(out, "{PARTIAL_NOTE}")?;
    }
    Ok(())
}

/// Deleted files still open but truncated to nothing: not held, not
/// counted, but still open, so listed.
fn write_empty(report: &Report, user: UserLabel, out: &mut dyn Write) -> io::Result<()> {
    if report.empty.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "Still open but empty (truncated to 0 bytes, no blocks held; not counted above): {}",
        plural(report.empty.len(), "deleted file")
    )?;
    for file in &report.empty {
        writeln!(out, "  {:>10}  {}", file.inode, printable(&file.name))?;
        write_holders(file, user, out)?;
    }
    Ok(())
}

fn write_held(report: &Report, user: UserLabel, out: &mut dyn Write) -> io::Result<()> {
    let mut unknown_sizes = false;
    for fs in &report.filesystems {
        writeln!(
            out,
            "{}: {} held by {}",
            filesystem_title(fs),
            human_size(fs.bytes_held),
            plural(fs.files.len(), "deleted file")
        )?;
        writeln!(
            out,
            "  {:>7} {:>7} {:>10}  NAME, then holders: PID COMMAND USER FD",
            "HELD", "SIZE", "INODE"
        )?;
        for file in &fs.files {
            unknown_sizes |= !file.size_known();
            write_file(file, user, out)?;
        }
        writeln!(out)?;
    }
    writeln!(
        out,
        "Total: {} ({} bytes) held by {} on {}; each file counted once however many hold it.",
        human_size(report.bytes_held),
        report.bytes_held,
        plural(report.file_count(), "deleted file"),
        plural(report.filesystems.len(), "filesystem")
    )?;
    if unknown_sizes {
        writeln!(
            out,
            "?: size unknown (a mapped-only file whose /proc/PID/map_files entry could not be \
             read; that needs root); counted as 0."
        )?;
    }
    Ok(())
}

fn write_file(file: &DeletedFile, user: UserLabel, out: &mut dyn Write) -> io::Result<()> {
    let (held, size) = if file.size_known() {
        (
            human_size(file.bytes_held()),
            human_size(file.size.unwrap_or(0)),
        )
    } else {
        ("?".to_string(), "?".to_string())
    };
    writeln!(
        out,
        "  {held:>7} {size:>7} {:>10}  {}",
        file.inode,
        printable(&file.name)
    )?;
    write_holders(file, user, out)
}

fn write_holders(file: &DeletedFile, user: UserLabel, out: &mut dyn Write) -> io::Result<()> {
    for h in &file.holders {
        writeln!(
            out,
            "  {:>27}  {} {} {} {}",
            "",
            h.pid,
            safe_text(&h.command, true),
            user(h.uid),
            fd_text(h)
        )?;
    }
    Ok(())
}

fn filesystem_title(fs: &Filesystem) -> String {
    let dev = format!("{},{}", fs.dev.major, fs.dev.minor);
    match &fs.mount {
        Some(m) => format!(
            "{} ({} {}, device {dev})",
            printable(&m.mount_point),
            printable(&m.source),
            m.fs_type
        ),
        None => format!("device {dev} (not mounted in this namespace: memfd or shared memory, or another container's)"),
    }
}

fn fd_text(h: &Holder) -> String {
    let mut s = h.fd.label().into_owned();
    s.extend(h.access.as_char());
    s
}

fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

pub(crate) fn write_json(report: &Report, user: UserLabel, out: &mut dyn Write) -> io::Result<()> {
    let value = json_value(report, user);
    serde_json::to_writer(&mut *out, &value).map_err(io::Error::other)?;
    writeln!(out)
}

pub(crate) fn json_value(report: &Report, user: UserLabel) -> Value {
    let filesystems: Vec<Value> = report
        .filesystems
        .iter()
        .map(|fs| {
            let files: Vec<Value> = fs.files.iter().map(|f| file_json(f, user)).collect();
            let mut obj = json!({
                "mount_point": Value::Null,
                "device": Value::Null,
                "fs_type": Value::Null,
                "dev": format!("{},{}", fs.dev.major, fs.dev.minor),
                "bytes_held": fs.bytes_held,
                "files": files,
            });
            if let Some(m) = &fs.mount {
                put_bytes(&mut obj, "mount_point", &m.mount_point);
                put_bytes(&mut obj, "device", &m.source);
                obj["fs_type"] = Value::from(m.fs_type.clone());
            }
            obj
        })
        .collect();
    let empty: Vec<Value> = report.empty.iter().map(|f| file_json(f, user)).collect();
    json!({
        "filesystems": filesystems,
        "bytes_held": report.bytes_held,
        "empty_files": empty,
        "partial": report.partial,
    })
}

/// A text that may not be UTF-8, as the listing's JSON writes one: lossy
/// text under `key`, plus the exact bytes in base64 under `<key>_bytes`
/// when it is not UTF-8.
fn put_bytes(obj: &mut Value, key: &str, bytes: &[u8]) {
    obj[key] = Value::from(String::from_utf8_lossy(bytes).into_owned());
    if std::str::from_utf8(bytes).is_err() {
        obj[format!("{key}_bytes")] = Value::from(base64(bytes));
    }
}

fn file_json(file: &DeletedFile, user: UserLabel) -> Value {
    let holders: Vec<Value> = file
        .holders
        .iter()
        .map(|h| {
            let mut obj = json!({
                "pid": h.pid,
                "user": user(h.uid),
                "uid": h.uid,
                "fd": h.fd.label(),
                "access": h.access.as_char().map(String::from),
            });
            put_bytes(&mut obj, "command", &h.command);
            obj
        })
        .collect();
    let mut obj = json!({
        "inode": file.inode,
        "size": file.size.unwrap_or(0),
        "bytes_held": file.bytes_held(),
        "size_known": file.size_known(),
        "holders": holders,
    });
    put_bytes(&mut obj, "name", &file.name);
    obj
}

/// Sizes as `df -h` shows them: powers of 1024, one decimal below 10,
/// rounded up so a figure is never smaller than the truth.
pub(crate) fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["K", "M", "G", "T", "P", "E"];
    if bytes < 1024 {
        return format!("{bytes}B");
    }
    let bytes = bytes as u128;
    let mut unit = 1024u128;
    for (i, name) in UNITS.iter().enumerate() {
        let tenths = (bytes * 10).div_ceil(unit);
        if tenths < 100 {
            return format!("{}.{}{name}", tenths / 10, tenths % 10);
        }
        let whole = bytes.div_ceil(unit);
        if whole < 1024 || i + 1 == UNITS.len() {
            return format!("{whole}{name}");
        }
        unit *= 1024;
    }
    format!("{bytes}B")
}

/// A name for a terminal, escaped as the table escapes names.
pub(crate) fn printable(bytes: &[u8]) -> String {
    safe_text(bytes, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deleted::collect::{group, DeletedFile, Holder};
    use crate::model::{Access, Dev, FdName, FileType};
    use crate::sys::mounts::Mount;

    fn sample() -> Report {
        let dev = Dev {
            major: 0,
            minor: 40,
        };
        let holder = |pid, n| Holder {
            pid,
            command: b"app".to_vec(),
            uid: 0,
            fd: FdName::Num(n),
            access: Access::Write,
        };
        let file = DeletedFile {
            dev,
            inode: 7,
            name: b"/data/app\n.log".to_vec(),
            file_type: Some(FileType::Reg),
            size: Some(1_000_003),
            allocated: Some(1_003_520),
            holders: vec![holder(10, 3), holder(11, 4)],
        };
        let mount = Mount {
            mnt_id: 30,
            dev,
            mount_point: b"/data".to_vec(),
            fs_type: "tmpfs".into(),
            source: b"tmpfs".to_vec(),
        };
        group(vec![file], &[mount])
    }

    fn root_name(uid: u32) -> String {
        if uid == 0 {
            "root".into()
        } else {
            uid.to_string()
        }
    }

    #[test]
    fn human_sizes_like_df() {
        assert_eq!(human_size(0), "0B");
        assert_eq!(human_size(1023), "1023B");
        assert_eq!(human_size(1024), "1.0K");
        assert_eq!(human_size(1025), "1.1K");
        assert_eq!(human_size(10 * 1024), "10K");
        assert_eq!(human_size(1_003_520), "980K");
        assert_eq!(human_size(1_003_521), "981K");
        assert_eq!(human_size(1024 * 1024 - 1), "1.0M");
        assert_eq!(human_size(5 << 30), "5.0G");
        assert_eq!(human_size(u64::MAX), "16E");
    }

    #[test]
    fn text_report() {
        let mut out = Vec::new();
        write_text(&sample(), &root_name, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let expected = "\
/data (tmpfs tmpfs, device 0,40): 980K held by 1 deleted file
     HELD    SIZE      INODE  NAME, then holders: PID COMMAND USER FD
     980K    977K          7  /data/app\\n.log
                               10 app root 3w
                               11 app root 4w

Total: 980K (1003520 bytes) held by 1 deleted file on 1 filesystem; each file counted once however many hold it.
";
        assert_eq!(text, expected);
    }

    #[test]
    fn json_report() {
        let v = json_value(&sample(), &root_name);
        assert_eq!(v["bytes_held"], 1_003_520);
        let fs = &v["filesystems"][0];
        assert_eq!(fs["mount_point"], "/data");
        assert_eq!(fs["device"], "tmpfs");
        assert_eq!(fs["fs_type"], "tmpfs");
        assert_eq!(fs["bytes_held"], 1_003_520);
        let file = &fs["files"][0];
        assert_eq!(file["inode"], 7);
        assert_eq!(file["size"], 1_000_003);
        assert_eq!(file["name"], "/data/app\n.log");
        assert_eq!(file["holders"][1]["pid"], 11);
        assert_eq!(file["holders"][1]["fd"], "4");
        assert_eq!(file["holders"][1]["user"], "root");
    }

    #[test]
    fn empty_report() {
        let mut out = Vec::new();
        write_text(&Report::default(), &root_name, &mut out).unwrap();
        assert_eq!(out, b"No deleted files are held open.\n");
        let mut out = Vec::new();
        write_json(&Report::default(), &root_name, &mut out).unwrap();
        assert_eq!(
            out,
            b"{\"bytes_held\":0,\"empty_files\":[],\"filesystems\":[],\"partial\":false}\n"
        );
    }

    #[test]
    fn escapes() {
        assert_eq!(printable(b"a\x01b\xffc\td\x1b[31m"), "a^Ab\\xffc\\td^[[31m");
    }

    #[test]
    fn json_keeps_exact_bytes() {
        let mut report = sample();
        report.filesystems[0].files[0].name = b"/data/\xff\xfe\nx".to_vec();
        let v = json_value(&report, &root_name);
        let file = &v["filesystems"][0]["files"][0];
        assert_eq!(file["name"], "/data/\u{fffd}\u{fffd}\nx");
        assert_eq!(file["name_bytes"], base64(b"/data/\xff\xfe\nx"));
        assert!(file["holders"][0].get("command_bytes").is_none());
        assert_eq!(v["partial"], false);
    }

    #[test]
    fn empty_files_and_partial_note() {
        let mut report = sample();
        let mut emptied = report.filesystems.remove(0).files.remove(0);
        emptied.size = Some(0);
        emptied.allocated = Some(0);
        report.bytes_held = 0;
        report.empty.push(emptied);
        report.partial = true;
        let mut out = Vec::new();
        write_text(&report, &root_name, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with("No deleted file holds any space.\nStill open but empty"),
            "{text}"
        );
        assert!(
            text.contains("                               10 app root 3w\n"),
            "{text}"
        );
        assert!(text.ends_with(&format!("{PARTIAL_NOTE}\n")), "{text}");
        let v = json_value(&report, &root_name);
        assert_eq!(v["empty_files"][0]["inode"], 7);
        assert_eq!(v["partial"], true);
    }
}
