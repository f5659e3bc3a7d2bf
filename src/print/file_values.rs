//! The extractors of the per-file fields (see `file_fields`): each makes
//! one field's text from an `OpenFile`, for the table, `-F` or JSON, which
//! spell some fields differently (lsof's quirks are noted where they live).

use std::io::Write as _;

use super::columns::{self, Node, Render, SizeOff};
use super::file_fields::Target;
use super::json;
use super::settings::FlagStyle;
use crate::escape;
use crate::model::{FdName, OpenFile};

pub(super) fn fd(
    _: &Render,
    f: &OpenFile,
    target: Target,
    out: &mut Vec<u8>,
    _: &mut Vec<u8>,
) -> bool {
    match target {
        Target::Table => columns::fd_text(f, out),
        Target::Fields { .. } => out.extend_from_slice(columns::fd_label(f).as_bytes()),
        // The whole descriptor number, not lsof's last three digits.
        Target::Json => match f.fd {
            Some(FdName::Num(n)) => {
                let _ = write!(out, "{n}");
            }
            Some(other) => out.extend_from_slice(other.label().as_bytes()),
            None => {}
        },
    }
    true
}

/// `-F` always has the mode character (a space for none); JSON only a real
/// one.
fn mode_char(c: Option<char>, target: Target, out: &mut Vec<u8>) -> bool {
    match (c, target) {
        (Some(c), _) => out.push(c as u8),
        (None, Target::Fields { .. }) => out.push(b' '),
        (None, _) => return false,
    }
    true
}

pub(super) fn access(
    _: &Render,
    f: &OpenFile,
    target: Target,
    out: &mut Vec<u8>,
    _: &mut Vec<u8>,
) -> bool {
    mode_char(f.access.as_char(), target, out)
}

pub(super) fn lock(
    _: &Render,
    f: &OpenFile,
    target: Target,
    out: &mut Vec<u8>,
    _: &mut Vec<u8>,
) -> bool {
    mode_char(f.lock.as_char(), target, out)
}

pub(super) fn file_type(
    _: &Render,
    f: &OpenFile,
    _: Target,
    out: &mut Vec<u8>,
    _: &mut Vec<u8>,
) -> bool {
    let label = f.file_type.as_ref().map_or("", |t| t.label());
    out.extend_from_slice(label.as_bytes());
    !label.is_empty()
}

/// `+f g` after `-F` names the flags in `-F G` too, as in the table.
pub(super) fn file_flags(
    r: &Render,
    f: &OpenFile,
    _: Target,
    out: &mut Vec<u8>,
    _: &mut Vec<u8>,
) -> bool {
    let (Some(style), Some(flags)) = (r.settings.file_flags, f.flags) else {
        return false;
    };
    let hex = style == FlagStyle::Hex;
    if !columns::has_flags(f, hex) {
        return false;
    }
    columns::flags_text(flags, hex, out);
    true
}

/// The table's DEVICE (also JSON's `device`) falls back to the device
/// numbers; `-F d` is lsof's device characters alone.
pub(super) fn device(
    _: &Render,
    f: &OpenFile,
    target: Target,
    out: &mut Vec<u8>,
    _: &mut Vec<u8>,
) -> bool {
    if let Target::Fields { .. } = target {
        return columns::device_chars(f, out);
    }
    let start = out.len();
    columns::device_text(f, out);
    out.len() > start
}

pub(super) fn device_number(
    _: &Render,
    f: &OpenFile,
    _: Target,
    out: &mut Vec<u8>,
    _: &mut Vec<u8>,
) -> bool {
    let Some(d) = columns::stat_dev(f) else {
        return false;
    };
    let _ = write!(out, "{:#x}", d.raw());
    true
}

pub(super) fn raw_device(
    _: &Render,
    f: &OpenFile,
    _: Target,
    out: &mut Vec<u8>,
    _: &mut Vec<u8>,
) -> bool {
    let Some(d) = f.rdev else {
        return false;
    };
    let _ = write!(out, "{:#x}", d.raw());
    true
}

/// The table's SIZE/OFF cell by lsof's rule; `-F` has `s` or `o` by the
/// same rule; JSON both, whenever known.
pub(super) fn size(
    r: &Render,
    f: &OpenFile,
    target: Target,
    out: &mut Vec<u8>,
    _: &mut Vec<u8>,
) -> bool {
    let size = match target {
        Target::Table => {
            r.size_off_text(f, out);
            return true;
        }
        Target::Fields { .. } => match r.size_off(f) {
            SizeOff::Size(s) => Some(s),
            _ => None,
        },
        Target::Json => columns::defined_size(f),
    };
    let Some(size) = size else {
        return false;
    };
    let _ = write!(out, "{size}");
    true
}

pub(super) fn offset(
    r: &Render,
    f: &OpenFile,
    target: Target,
    out: &mut Vec<u8>,
    _: &mut Vec<u8>,
) -> bool {
    match target {
        Target::Table => false,
        Target::Fields { .. } => match r.size_off(f) {
            SizeOff::Offset(o) => {
                r.offset_text(o, out);
                true
            }
            _ => false,
        },
        Target::Json => match columns::defined_offset(f) {
            Some(o) => {
                let _ = write!(out, "{o}");
                true
            }
            None => false,
        },
    }
}

/// The table's NODE shows the protocol of IP and packet sockets instead;
/// `-F i` is the inode only where NODE shows it; JSON keeps every inode.
pub(super) fn inode(
    _: &Render,
    f: &OpenFile,
    target: Target,
    out: &mut Vec<u8>,
    _: &mut Vec<u8>,
) -> bool {
    let inode = match target {
        Target::Table => {
            columns::node_text(f, out);
            return true;
        }
        Target::Fields { .. } => match columns::node(f) {
            Node::Inode(i) => Some(i),
            _ => None,
        },
        Target::Json => f.inode,
    };
    let Some(inode) = inode else {
        return false;
    };
    let _ = write!(out, "{inode}");
    true
}

pub(super) fn link_count(
    _: &Render,
    f: &OpenFile,
    target: Target,
    out: &mut Vec<u8>,
    _: &mut Vec<u8>,
) -> bool {
    let Some(n) = columns::nlink(f) else {
        return false;
    };
    // lsof's NLINK cell carries a leading space.
    if target == Target::Table {
        out.push(b' ');
    }
    let _ = write!(out, "{n}");
    true
}

pub(super) fn protocol(
    _: &Render,
    f: &OpenFile,
    _: Target,
    out: &mut Vec<u8>,
    _: &mut Vec<u8>,
) -> bool {
    let Node::Protocol(p) = columns::node(f) else {
        return false;
    };
    out.extend_from_slice(p.as_bytes());
    true
}

/// The table's NAME carries the TCP/TPI suffix, escaped; `-F n` is
/// escaped without it (`T` fields carry it); JSON has the raw bytes.
pub(super) fn name(
    r: &Render,
    f: &OpenFile,
    target: Target,
    out: &mut Vec<u8>,
    raw: &mut Vec<u8>,
) -> bool {
    if target == Target::Json {
        r.name_text(f, true, out);
        // lsof's NAME of a UDP socket ends in a space; a value need not.
        while out.last() == Some(&b' ') {
            out.pop();
        }
        return true;
    }
    raw.clear();
    r.name_text(f, target == Target::Table, raw);
    escape::escape_into(out, raw);
    true
}

/// `-F` writes one `T` field per part (`ST=`, `QR=`, `QS=`); JSON an
/// object; the table has these in NAME.
pub(super) fn tcp_info(
    r: &Render,
    f: &OpenFile,
    target: Target,
    out: &mut Vec<u8>,
    _: &mut Vec<u8>,
) -> bool {
    let Some(info) = r.tcp_info(f) else {
        return false;
    };
    match target {
        Target::Table => false,
        Target::Json => json::tcp_info_object(&info, out),
        Target::Fields { term } => {
            let mut any = false;
            let mut part = |out: &mut Vec<u8>, text: std::fmt::Arguments| {
                if any {
                    out.extend_from_slice(&[term, b'T']);
                }
                let _ = out.write_fmt(text);
                any = true;
            };
            if let Some(state) = &info.state {
                part(out, format_args!("ST={state}"));
            }
            if let Some(q) = info.recv_queue {
                part(out, format_args!("QR={q}"));
            }
            if let Some(q) = info.send_queue {
                part(out, format_args!("QS={q}"));
            }
            any
        }
    }
}
