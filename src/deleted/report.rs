//! Rendering the deleted-files report: a text table grouped by filesystem,
//! or one JSON object.

use super::collect::{DeletedFile, Filesystem, Holder, Report};
use serde_json::{json, Value};
use std::io::{self, Write};

/// Printed instead of a report when nothing deleted is held open.
pub const NOTHING_DELETED: &str = "No deleted files are held open.";

/// How a holder's owner is shown: a login name, or the UID (`-l`).
pub type UserLabel<'a> = &'a dyn Fn(u32) -> String;

pub fn write_text(report: &Report, user: UserLabel, out: &mut dyn Write) -> io::Result<()> {
    if report.is_empty() {
        return writeln!(out, "{NOTHING_DELETED}");
    }
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
    for h in &file.holders {
        writeln!(
            out,
            "  {:>27}  {} {} {} {}",
            "",
            h.pid,
            printable(&h.command),
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

pub fn write_json(report: &Report, user: UserLabel, out: &mut dyn Write) -> io::Result<()> {
    let value = json_value(report, user);
    serde_json::to_writer(&mut *out, &value).map_err(io::Error::other)?;
    writeln!(out)
}

pub fn json_value(report: &Report, user: UserLabel) -> Value {
    let filesystems: Vec<Value> = report
        .filesystems
        .iter()
        .map(|fs| {
            let (mount_point, device, fs_type) = match &fs.mount {
                Some(m) => (
                    Value::from(lossless_text(&m.mount_point)),
                    Value::from(lossless_text(&m.source)),
                    Value::from(m.fs_type.clone()),
                ),
                None => (Value::Null, Value::Null, Value::Null),
            };
            let files: Vec<Value> = fs.files.iter().map(|f| file_json(f, user)).collect();
            json!({
                "mount_point": mount_point,
                "device": device,
                "fs_type": fs_type,
                "dev": format!("{},{}", fs.dev.major, fs.dev.minor),
                "bytes_held": fs.bytes_held,
                "files": files,
            })
        })
        .collect();
    json!({ "filesystems": filesystems, "bytes_held": report.bytes_held })
}

fn file_json(file: &DeletedFile, user: UserLabel) -> Value {
    let holders: Vec<Value> = file
        .holders
        .iter()
        .map(|h| {
            json!({
                "pid": h.pid,
                "command": lossless_text(&h.command),
                "user": user(h.uid),
                "uid": h.uid,
                "fd": h.fd.label(),
                "access": h.access.as_char().map(String::from),
            })
        })
        .collect();
    json!({
        "inode": file.inode,
        "size": file.size.unwrap_or(0),
        "bytes_held": file.bytes_held(),
        "size_known": file.size_known(),
        "name": lossless_text(&file.name),
        "holders": holders,
    })
}

/// Sizes as `df -h` shows them: powers of 1024, one decimal below 10,
/// rounded up so a figure is never smaller than the truth.
pub fn human_size(bytes: u64) -> String {
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

/// Text for a terminal: control characters as `\n`, `\t`, `^X`; bytes
/// that are not UTF-8 as `\xNN`.
pub fn printable(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\n' => out.push_str("\\n"),
                '\t' => out.push_str("\\t"),
                c if (c as u32) < 0x20 => {
                    out.push('^');
                    out.push(char::from(c as u8 + 0x40));
                }
                '\x7f' => out.push_str("^?"),
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

/// Text for JSON (which escapes control characters itself): bytes that
/// are not UTF-8 as `\xNN`, so nothing is lost silently.
pub fn lossless_text(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deleted::collect::{group, DeletedFile, Holder};
    use crate::model::{Access, Dev, FdName, FileType};
    use crate::scan::mounts::Mount;

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
        assert_eq!(out, b"{\"bytes_held\":0,\"filesystems\":[]}\n");
    }

    #[test]
    fn escapes() {
        assert_eq!(printable(b"a\x01b\xffc\td"), "a^Ab\\xffc\\td");
        assert_eq!(lossless_text(b"a\nb\xfe"), "a\nb\\xfe");
    }
}
