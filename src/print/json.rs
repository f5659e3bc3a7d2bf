//! `-J` (one JSON document) and `-j` (JSON Lines), streamed per process.
//!
//! Keys keep a fixed order, so objects are written key by key; every key
//! and value is encoded by serde_json.

use std::io::{self, Write};

use serde_json::Value;

use super::columns::Render;
use super::fields::FieldSet;
use super::file_fields::{FileField, JsonValue, Target, FILE_FIELDS, JSON_FIELDS};
use super::name_column::TcpInfo;
use super::Printer;
use crate::model::{OpenFile, Process};

/// The lsof release whose behaviour rlsof reproduces.
pub(crate) use crate::build_info::LSOF_VERSION;

pub(crate) struct JsonPrinter<'a, W: Write> {
    render: Render<'a>,
    lines: bool,
    fields: Option<FieldSet>,
    /// The per-file keys to write, in order: those selected that the
    /// settings show.
    file_fields: Vec<&'static FileField>,
    out: W,
    buf: Vec<u8>,
    opened: bool,
    any_process: bool,
}

/// Writes one JSON object with keys in the order they are added.
struct Object<'b> {
    buf: &'b mut Vec<u8>,
    empty: bool,
}

impl<'b> Object<'b> {
    fn open(buf: &'b mut Vec<u8>) -> Self {
        buf.push(b'{');
        Object { buf, empty: true }
    }

    fn key(&mut self, key: &str) {
        if !self.empty {
            self.buf.push(b',');
        }
        self.empty = false;
        let _ = serde_json::to_writer(&mut *self.buf, key);
        self.buf.push(b':');
    }

    fn put(&mut self, key: &str, value: impl Into<Value>) {
        self.key(key);
        let _ = serde_json::to_writer(&mut *self.buf, &value.into());
    }

    fn put_str(&mut self, key: &str, value: &str) {
        self.key(key);
        let _ = serde_json::to_writer(&mut *self.buf, value);
    }

    /// A value that is JSON text already.
    fn put_raw(&mut self, key: &str, json: &[u8]) {
        self.key(key);
        self.buf.extend_from_slice(json);
    }

    /// A text that may not be UTF-8: lossy text, plus the exact bytes in
    /// base64 under `<key>_bytes` when it is not.
    fn put_bytes(&mut self, key: &str, bytes: &[u8]) {
        match std::str::from_utf8(bytes) {
            Ok(s) => self.put_str(key, s),
            Err(_) => {
                self.put_str(key, &String::from_utf8_lossy(bytes));
                self.put_str(&format!("{key}_bytes"), &base64(bytes));
            }
        }
    }

    fn close(self) {
        self.buf.push(b'}');
    }
}

impl<'a, W: Write> JsonPrinter<'a, W> {
    pub(crate) fn new(render: Render<'a>, lines: bool, out: W) -> Self {
        let file_fields = selected_keys(None, &render);
        JsonPrinter {
            render,
            lines,
            fields: None,
            file_fields,
            out,
            buf: Vec::with_capacity(4096),
            opened: false,
            any_process: false,
        }
    }

    /// Limits the keys to those of `-F` letters (`p` is always kept).
    pub(crate) fn with_fields(mut self, fields: FieldSet) -> Self {
        self.file_fields = selected_keys(Some(&fields), &self.render);
        self.fields = Some(fields);
        self
    }

    fn want(&self, letter: char) -> bool {
        self.fields.is_none_or(|f| f.has(letter))
    }

    /// One event of a live listing (`--changes`) as a JSON line: the
    /// `head` keys, the process's keys, the file's (for a file event),
    /// then the `tail` keys.
    pub(crate) fn event_line(
        &mut self,
        head: &[(&str, Value)],
        p: &Process,
        file: Option<&OpenFile>,
        tail: &[(&str, Value)],
    ) -> io::Result<()> {
        let mut buf = std::mem::take(&mut self.buf);
        let mut scratch = Default::default();
        buf.clear();
        let mut obj = Object::open(&mut buf);
        for (key, value) in head {
            obj.put(key, value.clone());
        }
        self.process_keys(p, &mut obj);
        if let Some(f) = file {
            self.file_keys(f, &mut obj, &mut scratch);
        }
        for (key, value) in tail {
            obj.put(key, value.clone());
        }
        obj.close();
        buf.push(b'\n');
        let result = self.out.write_all(&buf);
        self.buf = buf;
        result
    }

    fn process_keys(&self, p: &Process, obj: &mut Object) {
        let r = &self.render;
        obj.put("pid", p.pid);
        if let (true, Some(tid)) = (self.want('K'), p.tid) {
            obj.put("tid", tid);
        }
        if let (true, Some(cmd)) = (self.want('M'), &p.task_cmd) {
            obj.put_bytes("task_cmd", cmd);
        }
        // As in `-F`: the letter selects the key, the option (which `-F g`
        // and `-F R` switch on) makes it defined.
        if self.want('g') && r.settings.show_pgid {
            obj.put("pgid", p.pgid);
        }
        if self.want('R') && r.settings.show_ppid {
            obj.put("ppid", p.ppid);
        }
        if self.want('c') {
            // An empty name as read (prctl(PR_SET_NAME, "")) stays empty,
            // as in the table and `-F`.
            obj.put_bytes("command", &p.command);
        }
        if self.want('u') {
            obj.put("uid", p.uid);
        }
        if self.want('L') {
            if let (login, true) = r.user(p.uid) {
                obj.put("login", login.into_owned());
            }
        }
    }

    fn file_keys(&self, f: &OpenFile, obj: &mut Object, scratch: &mut [Vec<u8>; 2]) {
        let [value, spare] = scratch;
        for field in &self.file_fields {
            let Some(json) = field.json else {
                continue;
            };
            value.clear();
            if !(field.value)(&self.render, f, Target::Json, value, spare) {
                continue;
            }
            match json.value {
                JsonValue::Text => obj.put_str(json.key, &String::from_utf8_lossy(value)),
                JsonValue::Bytes => obj.put_bytes(json.key, value),
                JsonValue::Raw => obj.put_raw(json.key, value),
            }
        }
    }

    fn open_document(&mut self) -> io::Result<()> {
        if !self.opened {
            self.opened = true;
            self.out.write_all(b"{\"lsof_version\":")?;
            serde_json::to_writer(&mut self.out, LSOF_VERSION)?;
            self.out.write_all(b",\"processes\":[")?;
        }
        Ok(())
    }
}

impl<W: Write> Printer for JsonPrinter<'_, W> {
    fn process(&mut self, p: &Process) -> io::Result<()> {
        if p.files.is_empty() {
            return Ok(());
        }
        let mut buf = std::mem::take(&mut self.buf);
        let mut scratch = Default::default();
        buf.clear();
        if self.lines {
            for f in &p.files {
                let mut obj = Object::open(&mut buf);
                self.process_keys(p, &mut obj);
                self.file_keys(f, &mut obj, &mut scratch);
                obj.close();
                buf.push(b'\n');
            }
        } else {
            self.open_document()?;
            if self.any_process {
                buf.push(b',');
            }
            let mut obj = Object::open(&mut buf);
            self.process_keys(p, &mut obj);
            obj.key("files");
            obj.buf.push(b'[');
            for (i, f) in p.files.iter().enumerate() {
                if i > 0 {
                    obj.buf.push(b',');
                }
                let mut file = Object::open(obj.buf);
                self.file_keys(f, &mut file, &mut scratch);
                file.close();
            }
            obj.buf.push(b']');
            obj.close();
        }
        self.any_process = true;
        let result = self.out.write_all(&buf);
        self.buf = buf;
        result
    }

    fn finish(&mut self) -> io::Result<()> {
        if !self.lines {
            self.open_document()?;
            self.out.write_all(b"]}\n")?;
        }
        // The next `-r` cycle is a document of its own (upstream's design).
        self.opened = false;
        self.any_process = false;
        self.out.flush()
    }

    /// Upstream writes no marker in JSON: `-J` cycles are separate
    /// documents (one per line), `-j` cycles end with an empty line.
    fn end_cycle(&mut self, _marker: Option<&[u8]>) -> io::Result<()> {
        if self.lines {
            self.out.write_all(b"\n")?;
        }
        self.out.flush()
    }
}

/// The per-file fields with a JSON key, in key order, that `fields`
/// selects (all without it) and the settings show.
fn selected_keys(fields: Option<&FieldSet>, render: &Render) -> Vec<&'static FileField> {
    JSON_FIELDS
        .iter()
        .map(|&i| &FILE_FIELDS[i])
        .filter(|field| fields.is_none_or(|set| set.has(char::from(field.letter))))
        .filter(|field| field.when.holds(render.settings))
        .collect()
}

/// `-T`'s parts as a JSON object; false (nothing written) when `-T` shows
/// none of them.
pub(super) fn tcp_info_object(info: &TcpInfo, out: &mut Vec<u8>) -> bool {
    if info.state.is_none() && info.recv_queue.is_none() && info.send_queue.is_none() {
        return false;
    }
    let mut obj = Object::open(out);
    if let Some(state) = &info.state {
        obj.put_str("state", state);
    }
    if let Some(q) = info.recv_queue {
        obj.put("recv_queue", q);
    }
    if let Some(q) = info.send_queue {
        obj.put("send_queue", q);
    }
    obj.close();
    true
}

/// Standard base64 with padding.
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::base64;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        let cases: [(&[u8], &str); 7] = [
            (b"", ""),
            (b"f", "Zg=="),
            (b"fo", "Zm8="),
            (b"foo", "Zm9v"),
            (b"foob", "Zm9vYg=="),
            (b"fooba", "Zm9vYmE="),
            (b"foobar", "Zm9vYmFy"),
        ];
        for (input, want) in cases {
            assert_eq!(base64(input), want);
        }
        assert_eq!(base64(b"bad\xffx\x80y"), "YmFk/3iAeQ==");
    }
}
