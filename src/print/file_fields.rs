//! The one list of per-file output fields. Each entry says how the field
//! appears in every output — its `-F` letter, its table column (if any),
//! its JSON key (if any), when it is shown at all — and names the one
//! function (in `file_values`) that makes its text from an `OpenFile`.
//! The table printer, the `-F` printer and the JSON printer only walk this
//! list.
//!
//! The three outputs order the fields differently (lsof's table puts NLINK
//! before NODE while `-F` puts `k` after `i`; rlsof's JSON keeps `flags`
//! after `protocol`), so the list is in `-F` order and each column and key
//! carries its own place; the compiler checks that the places of the
//! columns, and of the keys, count 0, 1, 2... with no gap or repeat.

use super::columns::Render;
use super::file_values::{
    access, device, device_number, fd, file_flags, file_type, inode, link_count, lock, name,
    offset, protocol, raw_device, size, tcp_info,
};
use super::settings::PrintSettings;
use crate::model::OpenFile;

/// The output an extractor writes for: each spells some fields its own way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    /// A table cell, unescaped text already escaped where lsof escapes.
    Table,
    /// A `-F` value; `term` ends each field (newline or NUL), for a
    /// field that writes several values of its letter (`T`).
    Fields { term: u8 },
    /// A JSON value's raw text (encoded as its [`JsonValue`] says).
    Json,
}

/// Makes a field's text for `target` into `out` (`scratch` is spare room);
/// false when the file has no value for it (the table then leaves the cell
/// empty, `-F` and JSON leave the field out).
pub(crate) type Extractor =
    fn(&Render, &OpenFile, Target, out: &mut Vec<u8>, scratch: &mut Vec<u8>) -> bool;

/// How a column's title and cells line up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Align {
    Right,
    /// FD: cells end in the two mode characters, and lsof puts the title
    /// right-aligned over the descriptor, left of them.
    RightBeforeModeChars,
    /// NAME, the last column: left-aligned, never padded.
    LastUnpadded,
}

/// A column's title.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Title {
    Fixed(&'static str),
    /// SIZE/OFF, OFFSET (`-o`) or SIZE (`-s`).
    SizeOrOffset,
}

impl Title {
    pub(crate) fn text(self, settings: &PrintSettings) -> &'static str {
        match self {
            Title::Fixed(title) => title,
            Title::SizeOrOffset => settings.size_off_title(),
        }
    }
}

/// A field's table column: its place from the left (0 is FD, after the
/// process's columns).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Column {
    pub(crate) place: usize,
    pub(crate) title: Title,
    pub(crate) align: Align,
}

/// How the JSON printer writes an extractor's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JsonValue {
    /// A string (the text is ASCII or taken as lossy UTF-8).
    Text,
    /// Bytes that need not be UTF-8: lossy text, and the exact bytes in
    /// base64 under `<key>_bytes` when they are not.
    Bytes,
    /// JSON already: a number or an object.
    Raw,
}

/// A field's JSON key: its place among a file's keys, its name, its kind.
#[derive(Debug, Clone, Copy)]
pub(crate) struct JsonKey {
    pub(crate) place: usize,
    pub(crate) key: &'static str,
    pub(crate) value: JsonValue,
}

/// When a field is part of the output at all (the `-F` letter or JSON
/// selection aside).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum When {
    Always,
    /// `+f g`/`+f G`, `-F G`.
    FileFlags,
    /// `+L`, `-F k`.
    LinkCounts,
    /// Any `-T` letter (on by default).
    TcpInfo,
}

impl When {
    pub(crate) fn holds(self, settings: &PrintSettings) -> bool {
        match self {
            When::Always => true,
            When::FileFlags => settings.file_flags.is_some(),
            When::LinkCounts => settings.show_nlink,
            When::TcpInfo => settings.tcp_info.any,
        }
    }
}

/// One per-file output field.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FileField {
    /// The `-F` letter (and the letter `-F` with `-J`/`-j` selects it by).
    pub(crate) letter: u8,
    pub(crate) column: Option<Column>,
    pub(crate) json: Option<JsonKey>,
    pub(crate) when: When,
    pub(crate) value: Extractor,
}

const fn column(place: usize, title: &'static str) -> Option<Column> {
    Some(Column {
        place,
        title: Title::Fixed(title),
        align: Align::Right,
    })
}

const fn text_key(place: usize, key: &'static str) -> Option<JsonKey> {
    Some(JsonKey {
        place,
        key,
        value: JsonValue::Text,
    })
}

/// The fields, in lsof's `-F` order.
const FIELDS: [FileField; 15] = [
    FileField {
        letter: b'f',
        column: Some(Column {
            place: 0,
            title: Title::Fixed("FD"),
            align: Align::RightBeforeModeChars,
        }),
        json: text_key(0, "fd"),
        when: When::Always,
        value: fd,
    },
    FileField {
        letter: b'a',
        column: None,
        json: text_key(1, "access"),
        when: When::Always,
        value: access,
    },
    FileField {
        letter: b'l',
        column: None,
        json: text_key(2, "lock"),
        when: When::Always,
        value: lock,
    },
    FileField {
        letter: b't',
        column: column(1, "TYPE"),
        json: text_key(3, "type"),
        when: When::Always,
        value: file_type,
    },
    FileField {
        letter: b'G',
        column: column(2, "FILE-FLAG"),
        json: text_key(12, "flags"),
        when: When::FileFlags,
        value: file_flags,
    },
    FileField {
        letter: b'd',
        column: column(3, "DEVICE"),
        json: text_key(4, "device"),
        when: When::Always,
        value: device,
    },
    FileField {
        letter: b'D',
        column: None,
        json: text_key(5, "device_number"),
        when: When::Always,
        value: device_number,
    },
    FileField {
        letter: b'r',
        column: None,
        json: text_key(6, "raw_device"),
        when: When::Always,
        value: raw_device,
    },
    FileField {
        letter: b's',
        column: Some(Column {
            place: 4,
            title: Title::SizeOrOffset,
            align: Align::Right,
        }),
        json: text_key(7, "size"),
        when: When::Always,
        value: size,
    },
    FileField {
        letter: b'o',
        column: None,
        json: text_key(8, "offset"),
        when: When::Always,
        value: offset,
    },
    FileField {
        letter: b'i',
        column: column(6, "NODE"),
        json: text_key(9, "inode"),
        when: When::Always,
        value: inode,
    },
    FileField {
        letter: b'k',
        column: column(5, "NLINK"),
        json: Some(JsonKey {
            place: 10,
            key: "nlink",
            value: JsonValue::Raw,
        }),
        when: When::LinkCounts,
        value: link_count,
    },
    FileField {
        letter: b'P',
        column: None,
        json: text_key(11, "protocol"),
        when: When::Always,
        value: protocol,
    },
    FileField {
        letter: b'n',
        column: Some(Column {
            place: 7,
            title: Title::Fixed("NAME"),
            align: Align::LastUnpadded,
        }),
        json: Some(JsonKey {
            place: 13,
            key: "name",
            value: JsonValue::Bytes,
        }),
        when: When::Always,
        value: name,
    },
    FileField {
        letter: b'T',
        column: None,
        json: Some(JsonKey {
            place: 14,
            key: "tcp_info",
            value: JsonValue::Raw,
        }),
        when: When::TcpInfo,
        value: tcp_info,
    },
];

/// The fields, in `-F` order, for the printers (a `static`, so indexing
/// at run time reads it in place).
pub(crate) static FILE_FIELDS: [FileField; FIELDS.len()] = FIELDS;

/// The table's file columns, FD to NAME.
pub(crate) const COLUMN_COUNT: usize = count_places(true);
/// NAME's place: always the last column.
pub(crate) const NAME_COLUMN: usize = COLUMN_COUNT - 1;
/// For each column place, the field shown there.
pub(crate) const COLUMN_FIELDS: [usize; COLUMN_COUNT] = fields_by_place::<COLUMN_COUNT>(true);
/// A file's JSON keys.
pub(crate) const JSON_KEY_COUNT: usize = count_places(false);
/// For each JSON key place, the field written there.
pub(crate) const JSON_FIELDS: [usize; JSON_KEY_COUNT] = fields_by_place::<JSON_KEY_COUNT>(false);

/// The place of field `i` among the columns (`columns`) or JSON keys.
const fn place_of(i: usize, columns: bool) -> Option<usize> {
    if columns {
        match &FIELDS[i].column {
            Some(c) => Some(c.place),
            None => None,
        }
    } else {
        match &FIELDS[i].json {
            Some(k) => Some(k.place),
            None => None,
        }
    }
}

const fn count_places(columns: bool) -> usize {
    let mut count = 0;
    let mut i = 0;
    while i < FIELDS.len() {
        if place_of(i, columns).is_some() {
            count += 1;
        }
        i += 1;
    }
    count
}

/// Checks at compile time that the places are 0..N, each once, and that
/// NAME, unpadded, is the last column.
const fn fields_by_place<const N: usize>(columns: bool) -> [usize; N] {
    let mut by_place = [usize::MAX; N];
    let mut i = 0;
    while i < FIELDS.len() {
        if let Some(place) = place_of(i, columns) {
            assert!(place < N, "a place is past the last column or key");
            assert!(by_place[place] == usize::MAX, "two fields share a place");
            by_place[place] = i;
        }
        i += 1;
    }
    if columns {
        let mut place = 0;
        while place < N {
            let last = place == N - 1;
            let Some(c) = &FIELDS[by_place[place]].column else {
                panic!("a column without a field");
            };
            assert!(
                matches!(c.align, Align::LastUnpadded) == last,
                "only the last column, NAME, is unpadded"
            );
            place += 1;
        }
    }
    by_place
}
