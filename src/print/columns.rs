//! The text of each column but NAME, as lsof 4.95 (Linux) spells it, and
//! [`Render`], the settings and name services every printer shares.

use std::borrow::Cow;
use std::io::Write as _;

use super::settings::PrintSettings;
use super::NameLookup;
use crate::model::{Device, FdName, FileType, OpenFile, SocketInfo};

/// lsof prints at most this many bytes of a login name (utmp's ut_user).
const LOGIN_MAX: usize = 32;
/// lsof pads a numeric UID to this width.
const UID_WIDTH: usize = 8;

/// What the SIZE/OFF column (and `-F s`/`o`) shows for a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SizeOff {
    Size(u64),
    Offset(u64),
    Blank,
}

/// What the NODE column shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Node<'f> {
    Inode(u64),
    Protocol(Cow<'f, str>),
    Blank,
}

/// The settings and name services every printer formats with.
pub struct Render<'a> {
    pub(crate) names: &'a dyn NameLookup,
    pub(crate) settings: &'a PrintSettings,
}

impl<'a> Render<'a> {
    pub(crate) fn new(settings: &'a PrintSettings, names: &'a dyn NameLookup) -> Render<'a> {
        Render { names, settings }
    }

    /// The USER column text and whether it is a login name.
    pub(crate) fn user(&self, uid: u32) -> (Cow<'static, str>, bool) {
        if self.settings.user_names {
            if let Some(mut name) = self.names.user(uid) {
                if name.len() > LOGIN_MAX {
                    let mut cut = LOGIN_MAX;
                    while !name.is_char_boundary(cut) {
                        cut -= 1;
                    }
                    name.truncate(cut);
                }
                return (name.into(), true);
            }
        }
        (format!("{uid:>UID_WIDTH$}").into(), false)
    }

    /// SIZE/OFF by lsof's rule: devices, FIFOs and sockets show offsets
    /// (unless `-s`), other files sizes (offsets with `-o`).
    pub(crate) fn size_off(&self, f: &OpenFile) -> SizeOff {
        // lsof learns offsets only for descriptors, never for cwd, txt, mem.
        let pick_offset = |yes: bool| match (yes, f.fd, f.offset) {
            (true, Some(FdName::Num(_)), Some(o)) => SizeOff::Offset(o),
            _ => SizeOff::Blank,
        };
        if is_socket(f) {
            pick_offset(self.settings.offsets || !self.settings.sizes_only)
        } else if matches!(
            f.file_type,
            Some(FileType::Chr | FileType::Blk | FileType::Fifo)
        ) {
            pick_offset(!self.settings.sizes_only)
        } else if self.settings.offsets {
            pick_offset(true)
        } else {
            f.size.map_or(SizeOff::Blank, SizeOff::Size)
        }
    }

    /// An offset as `0t<decimal>`, or `0x<hex>` past the digit limit.
    pub(crate) fn offset_text(&self, off: u64, out: &mut Vec<u8>) {
        let digits = self.settings.offset_digits;
        let start = out.len();
        let _ = write!(out, "0t{off}");
        if digits > 0 && out.len() - start > digits + 2 {
            out.truncate(start);
            let _ = write!(out, "{off:#x}");
        }
    }

    /// The table's SIZE/OFF cell.
    pub(crate) fn size_off_text(&self, f: &OpenFile, out: &mut Vec<u8>) {
        match self.size_off(f) {
            SizeOff::Size(s) if self.settings.human_sizes => human_size(s, out),
            SizeOff::Size(s) => {
                let _ = write!(out, "{s}");
            }
            SizeOff::Offset(o) => self.offset_text(o, out),
            SizeOff::Blank => {}
        }
    }
}

/// `-H`: 1024-based, one decimal, B under 1K (upstream lsof's form).
pub(crate) fn human_size(size: u64, out: &mut Vec<u8>) {
    const SUFFIX: [&str; 6] = ["K", "M", "G", "T", "P", "E"];
    if size < 1024 {
        let _ = write!(out, "{size}B");
        return;
    }
    let mut unit: u64 = 1024;
    let mut i = 0;
    while i < SUFFIX.len() - 1 && size >= unit.saturating_mul(1024) {
        unit = unit.saturating_mul(1024);
        i += 1;
    }
    let value = (size / (unit / 1024)) as f64 / 1024.0;
    let _ = write!(out, "{value:.1}{}", SUFFIX[i]);
}

/// The size, for the kinds of file lsof gives one (`-s`): not devices,
/// FIFOs or sockets, whose `st_size` means nothing.
pub(crate) fn defined_size(f: &OpenFile) -> Option<u64> {
    let sizeless = is_socket(f)
        || matches!(
            f.file_type,
            Some(FileType::Chr | FileType::Blk | FileType::Fifo)
        );
    if sizeless {
        None
    } else {
        f.size
    }
}

/// The offset, known for descriptors only (fdinfo `pos`).
pub(crate) fn defined_offset(f: &OpenFile) -> Option<u64> {
    match f.fd {
        Some(FdName::Num(_)) => f.offset,
        _ => None,
    }
}

/// A socket lsof reached through its socket path (no stat device shown).
pub(crate) fn is_socket(f: &OpenFile) -> bool {
    f.socket.is_some() || f.file_type.as_ref().is_some_and(FileType::is_socket)
}

/// The link count; lsof has none for sockets.
pub(crate) fn nlink(f: &OpenFile) -> Option<u64> {
    if is_socket(f) {
        None
    } else {
        f.nlink
    }
}

/// A socket found in a kernel table: lsof shows no `st_dev` for it.
fn decoded_socket(f: &OpenFile) -> bool {
    matches!(
        f.socket.as_deref(),
        Some(
            SocketInfo::Ip(_)
                | SocketInfo::Unix(_)
                | SocketInfo::Netlink(_)
                | SocketInfo::Packet(_)
        )
    )
}

/// `st_dev` as lsof knows it (`-F D`).
pub(crate) fn stat_dev(f: &OpenFile) -> Option<crate::model::Dev> {
    if decoded_socket(f) {
        None
    } else {
        f.dev
    }
}

/// lsof's device characters (`-F d`): socket addresses and inodes.
pub(crate) fn device_chars(f: &OpenFile, out: &mut Vec<u8>) -> bool {
    match f.device {
        Device::None => return false,
        Device::KernelAddr(a) => {
            let _ = write!(out, "0x{a:016x}");
        }
        Device::Decimal(n) => {
            let _ = write!(out, "{n}");
        }
        Device::Number(d) => {
            let _ = write!(out, "{},{}", d.major, d.minor);
        }
        Device::Unknown => out.extend_from_slice(b"UNKNOWN"),
    }
    true
}

/// The DEVICE cell.
pub(crate) fn device_text(f: &OpenFile, out: &mut Vec<u8>) {
    if device_chars(f, out) {
        return;
    }
    if let Some(d) = f.rdev.or_else(|| stat_dev(f)) {
        let _ = write!(out, "{},{}", d.major, d.minor);
    }
}

/// The NODE cell's content: a protocol for IP and packet sockets, else the
/// inode.
pub(crate) fn node(f: &OpenFile) -> Node<'_> {
    match f.socket.as_deref() {
        Some(SocketInfo::Ip(ip)) if !super::name_column::is_raw(ip) => {
            Node::Protocol(Cow::Borrowed(ip.proto.label()))
        }
        Some(SocketInfo::Packet(p)) => Node::Protocol(super::name_column::ether_proto(p.protocol)),
        _ => f.inode.map_or(Node::Blank, Node::Inode),
    }
}

pub(crate) fn node_text(f: &OpenFile, out: &mut Vec<u8>) {
    match node(f) {
        Node::Inode(i) => {
            let _ = write!(out, "{i}");
        }
        Node::Protocol(p) => out.extend_from_slice(p.as_bytes()),
        Node::Blank => {}
    }
}

/// FD label plus lsof's two mode characters (access, then lock; a lock
/// without access shows `-`).
pub(crate) fn fd_text(f: &OpenFile, out: &mut Vec<u8>) {
    match f.fd {
        // lsof pads descriptor numbers to four places in the table.
        Some(FdName::Num(n)) if n < 10000 => {
            let _ = write!(out, "{n:>4}");
        }
        // lsof spells these two " cwd" and " rtd", which shows when only
        // named descriptors are listed (`-d cwd`).
        Some(fd @ (FdName::Cwd | FdName::Rtd)) => {
            let _ = write!(out, " {}", fd_label_of(fd));
        }
        Some(fd) => out.extend_from_slice(fd_label_of(fd).as_bytes()),
        None => {}
    }
    let (access, lock) = mode_chars(f);
    out.push(access);
    out.push(lock);
}

pub(crate) fn mode_chars(f: &OpenFile) -> (u8, u8) {
    let access = f.access.as_char().map_or(b' ', |c| c as u8);
    let lock = f.lock.as_char().map_or(b' ', |c| c as u8);
    let access = if lock != b' ' && access == b' ' {
        b'-'
    } else {
        access
    };
    (access, lock)
}

/// The FD label alone (`-F f`).
pub(crate) fn fd_label(f: &OpenFile) -> Cow<'static, str> {
    f.fd.map_or(Cow::Borrowed(""), fd_label_of)
}

/// lsof keeps only the last three digits of a descriptor >= 10000.
fn fd_label_of(fd: FdName) -> Cow<'static, str> {
    match fd {
        FdName::Num(n) if n >= 10000 => format!("*{:03}", n % 1000).into(),
        other => other.label(),
    }
}

/// Open flags as lsof names them (`+f g`), or in hex (`+f G`, `-F G`).
pub(crate) fn flags_text(flags: u32, hex: bool, out: &mut Vec<u8>) {
    const TABLE: [(u32, &str); 19] = [
        (0o1, "W"),
        (0o2, "RW"),
        (0o100, "CR"),
        (0o200, "EXCL"),
        (0o400, "NTTY"),
        (0o1000, "TR"),
        (0o2000, "AP"),
        (0o4000, "ND"),
        (0o4010000, "SYN"),
        (0o20000, "ASYN"),
        (0o40000, "DIR"),
        (0o200000, "DTY"),
        (0o400000, "NFLK"),
        (0o1000000, "NATM"),
        (0o10000, "DSYN"),
        (0o4010000, "RSYN"),
        (0o100000, "LG"),
        (0o2000000, "CX"),
        (0o10000000, "PATH"),
    ];
    const TMPFILE: (u32, &str) = (0o20200000, "TMPF");
    let mut rest = flags;
    let mut first = true;
    if !hex {
        for (bits, name) in TABLE.iter().chain(std::iter::once(&TMPFILE)) {
            if rest & bits != 0 {
                if !first {
                    out.push(b',');
                }
                out.extend_from_slice(name.as_bytes());
                first = false;
                rest &= !bits;
            }
        }
    }
    if rest != 0 || hex {
        if !first {
            out.push(b',');
        }
        let _ = write!(out, "{rest:#x}");
    }
    // Linux has no per-process file flags; lsof shows them as ";0x0" in hex.
    if hex {
        out.extend_from_slice(b";0x0");
    }
}

/// Whether lsof shows a FILE-FLAG value for this file.
pub(crate) fn has_flags(f: &OpenFile, hex: bool) -> bool {
    matches!(f.flags, Some(v) if hex || v != 0)
}

#[cfg(test)]
mod tests {
    use super::flags_text;

    #[test]
    fn flag_names_as_lsof_prints_them() {
        // fdinfo flags and lsof 4.95's +fg text for the same descriptors.
        let cases = [
            (0o2106001, "W,AP,ND,LG,CX"),
            (0o2110002, "RW,SYN,LG,CX"),
            (0o7110002, "RW,SYN,NATM,LG,CX"),
            (0o2160000, "ASYN,DIR,LG,CX"),
            (0o12600000, "DTY,NFLK,CX,PATH"),
            (0o22300002, "RW,DTY,LG,CX,TMPF"),
            (0o100000, "LG"),
        ];
        for (flags, want) in cases {
            let mut out = Vec::new();
            flags_text(flags, false, &mut out);
            assert_eq!(String::from_utf8_lossy(&out), want, "{flags:o}");
        }
        let mut out = Vec::new();
        flags_text(0o2100002, true, &mut out);
        assert_eq!(out, b"0x88002;0x0");
    }
}
