//! Just enough of the kernel's BTF (`/sys/kernel/btf/vmlinux`) to find a
//! few struct members' byte offsets and sizes and a function's type id,
//! which a BPF program that walks kernel structures must be built with.
//!
//! The blob is 5 MiB and more; it is read a block at a time: the string
//! section to learn where the wanted names are, then the type section,
//! comparing those positions, then the start of the type section again
//! (a pass or two) for the sizes of the members' types, so memory stays a
//! block.

use std::collections::HashMap;
use std::io::{self, Read};

/// The running kernel's BTF.
pub(super) const VMLINUX: &str = "/sys/kernel/btf/vmlinux";
const MAGIC: u16 = 0xeb9f;
const HEADER_LEN: usize = 24;
const KIND_STRUCT: u32 = 4;
const KIND_UNION: u32 = 5;
const KIND_FUNC: u32 = 12;
/// How deep anonymous unions and structs are searched for a wanted
/// member (`struct sock_common` nests two deep).
const NESTING: usize = 4;
/// Bytes read at a time (sysfs gives at most a page a call anyway).
const BLOCK: usize = 64 * 1024;

/// What to look for: structs with the members wanted of each, and functions.
/// A member may be inside an anonymous union or struct of its struct
/// (C's "anonymous members", as `sock_common` has them).
pub(super) struct BtfQuery<'a> {
    pub structs: &'a [(&'a str, &'a [&'a str])],
    pub funcs: &'a [&'a str],
}

/// The BTF to read: [`crate::knobs::BTF`]'s file when set (its type ids
/// must be the running kernel's), else [`VMLINUX`].
pub(super) fn source() -> std::path::PathBuf {
    crate::knobs::knobs()
        .btf
        .clone()
        .unwrap_or_else(|| VMLINUX.into())
}

/// What was found: per struct, its wanted members' byte offsets and type
/// ids, and the sizes of those types; per function, its type id.
#[derive(Debug, Default)]
pub(super) struct Found {
    members: HashMap<(String, String), (u32, u32)>,
    sizes: HashMap<u32, u32>,
    structs_seen: usize,
    pub funcs: HashMap<String, u32>,
}

/// A struct member's place and size in this kernel, with its name for the
/// reasons a program cannot be built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Field {
    pub strukt: &'static str,
    pub member: &'static str,
    pub offset: u32,
    pub size: u32,
}

impl std::fmt::Display for Field {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "{}.{}", self.strukt, self.member)
    }
}

impl Found {
    /// The byte offset of `member` in `strukt`.
    #[cfg(test)]
    pub(super) fn offset(&self, strukt: &str, member: &str) -> Option<u32> {
        self.members
            .get(&(strukt.to_string(), member.to_string()))
            .map(|&(offset, _)| offset)
    }

    /// `member` of `strukt`, or why a program cannot use it.
    pub(super) fn field(
        &self,
        strukt: &'static str,
        member: &'static str,
    ) -> Result<Field, String> {
        let key = (strukt.to_string(), member.to_string());
        let &(offset, ty) = self
            .members
            .get(&key)
            .ok_or_else(|| format!("{strukt}.{member}: not in the kernel's BTF"))?;
        let size = *self
            .sizes
            .get(&ty)
            .ok_or_else(|| format!("{strukt}.{member}: its size is not in the kernel's BTF"))?;
        Ok(Field {
            strukt,
            member,
            offset,
            size,
        })
    }

    /// A function's type id, or why a program cannot be attached to it.
    pub(super) fn func(&self, name: &str) -> Result<u32, String> {
        self.funcs
            .get(name)
            .copied()
            .ok_or_else(|| format!("{name}: not in the kernel's BTF"))
    }

    /// A `Found` holding exactly `fields` (as (offset, size)) and `funcs`.
    #[cfg(test)]
    pub(super) fn made_of(fields: &[(&str, &str, u32, u32)], funcs: &[(&str, u32)]) -> Found {
        let mut found = Found::default();
        for (n, &(s, m, offset, size)) in fields.iter().enumerate() {
            let ty = n as u32 + 1;
            found.members.insert((s.into(), m.into()), (offset, ty));
            found.sizes.insert(ty, size);
        }
        for &(f, id) in funcs {
            found.funcs.insert(f.into(), id);
        }
        found
    }
}

/// A BTF blob readable at any offset (the sysfs file, or bytes in tests).
pub(super) trait Blob {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize>;
}

impl Blob for std::fs::File {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        std::os::unix::fs::FileExt::read_at(self, buf, offset)
    }
}

impl Blob for [u8] {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        let rest = self.get(offset as usize..).unwrap_or_default();
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        Ok(n)
    }
}

/// `len` bytes of `blob` from `offset`, as a reader.
struct Section<'a, B: Blob + ?Sized> {
    blob: &'a B,
    offset: u64,
    left: usize,
}

impl<B: Blob + ?Sized> Read for Section<'_, B> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let want = buf.len().min(self.left);
        if want == 0 {
            return Ok(0);
        }
        let n = self.blob.read_at(&mut buf[..want], self.offset)?;
        self.offset += n as u64;
        self.left -= n;
        Ok(n)
    }
}

/// Finds what `wanted` names in `blob`. None when the blob is not BTF or
/// is damaged.
pub(super) fn find<B: Blob + ?Sized>(blob: &B, wanted: &BtfQuery) -> Option<Found> {
    let (types_at, types_len, strings) = sections(blob)?;
    let mut names: Vec<&str> = wanted.funcs.to_vec();
    for (strukt, members) in wanted.structs {
        names.push(strukt);
        names.extend_from_slice(members);
    }
    // Every type and member name is looked up: a sorted list of the few
    // wanted names' positions is searched faster than a hash is computed.
    let mut positions: Vec<(u32, String)> = name_positions(strings, &names)?.into_iter().collect();
    positions.sort_unstable();
    let named = |position: u32| {
        positions
            .binary_search_by_key(&position, |(p, _)| *p)
            .ok()
            .map(|i| positions[i].1.as_str())
    };
    let is = |position: u32, name: &str| named(position) == Some(name);
    let mut found = Found::default();
    // Anonymous members met in wanted structs, to look into once every
    // anonymous type that could hold a wanted member has been met: its
    // struct, its type id, its byte offset in the struct.
    let mut pending: Vec<(&str, u32, u32)> = Vec::new();
    // Anonymous unions and structs with a wanted or anonymous member: their
    // members as (name position, type id, byte offset).
    let mut anonymous: HashMap<u32, Vec<(u32, u32, u32)>> = HashMap::new();
    let mut id = 1u32; // type ids start at 1 (0 is void)
    let types = Section {
        blob,
        offset: types_at,
        left: types_len,
    };
    let wanted_anywhere = |position: u32| named(position).is_some();
    for_each_type(types, |kind, name_off, info, _, body| {
        if kind == KIND_FUNC {
            if let Some(f) = wanted.funcs.iter().find(|f| is(name_off, f)) {
                found.funcs.entry(f.to_string()).or_insert(id);
            }
        } else if kind == KIND_STRUCT || kind == KIND_UNION {
            let members = byte_members(info, body);
            if name_off == 0 {
                if members
                    .iter()
                    .any(|&(n, _, _)| n == 0 || wanted_anywhere(n))
                {
                    anonymous.insert(id, members);
                }
            } else if let Some((strukt, names)) = wanted
                .structs
                .iter()
                .find(|(s, _)| kind == KIND_STRUCT && is(name_off, s))
            {
                for (member, ty, offset) in members {
                    if member == 0 {
                        pending.push((strukt, ty, offset));
                    } else if let Some(name) = names.iter().find(|m| is(member, m)) {
                        let key = (strukt.to_string(), name.to_string());
                        found.members.entry(key).or_insert((offset, ty));
                    }
                }
                found.structs_seen += 1;
            }
        }
        id += 1;
        let all_seen =
            found.structs_seen >= wanted.structs.len() && found.funcs.len() >= wanted.funcs.len();
        // Anonymous types may come after their struct: read on then.
        !all_seen || !pending.is_empty()
    })?;
    members_of_anonymous(&mut found, pending, &anonymous, wanted, &is)?;
    let types = found.members.values().map(|&(_, ty)| ty).collect();
    found.sizes = sizes(blob, types_at, types_len, types)?;
    Some(found)
}

/// The type section's place and length, and the string section, after
/// the header's magic is checked.
fn sections<B: Blob + ?Sized>(blob: &B) -> Option<(u64, usize, Section<'_, B>)> {
    let mut header = [0u8; HEADER_LEN];
    read_exact_at(blob, &mut header, 0)?;
    if u16_at(&header, 0)? != MAGIC {
        return None;
    }
    let header_len = u64::from(u32_at(&header, 4)?);
    let section = |at: usize| -> Option<(u64, usize)> {
        Some((
            header_len + u64::from(u32_at(&header, at)?),
            u32_at(&header, at + 4)? as usize,
        ))
    };
    let (types_at, types_len) = section(8)?;
    let (strings_at, strings_len) = section(16)?;
    let strings = Section {
        blob,
        offset: strings_at,
        left: strings_len,
    };
    Some((types_at, types_len, strings))
}

/// The wanted members found inside the anonymous unions and structs of
/// wanted structs (`pending`: struct, anonymous type, its byte offset),
/// down to [`NESTING`] levels.
fn members_of_anonymous(
    found: &mut Found,
    mut pending: Vec<(&str, u32, u32)>,
    anonymous: &HashMap<u32, Vec<(u32, u32, u32)>>,
    wanted: &BtfQuery,
    is: &dyn Fn(u32, &str) -> bool,
) -> Option<()> {
    for _ in 0..NESTING {
        for (strukt, ty, base) in std::mem::take(&mut pending) {
            let names = wanted.structs.iter().find(|(s, _)| *s == strukt)?.1;
            for &(member, inner, offset) in anonymous.get(&ty).into_iter().flatten() {
                if member == 0 {
                    pending.push((strukt, inner, base + offset));
                } else if let Some(name) = names.iter().find(|m| is(member, m)) {
                    let key = (strukt.to_string(), name.to_string());
                    found.members.entry(key).or_insert((base + offset, inner));
                }
            }
        }
    }
    Some(())
}

/// What a type says of its size: it, or that of another type.
#[derive(Clone, Copy)]
enum SizeOf {
    Bytes(u32),
    /// A typedef or qualifier of this type.
    As(u32),
    /// An array of so many of this type.
    Array(u32, u32),
    Unknown,
}

/// The sizes of types `wanted` (by id): passes over the start of the type
/// section, each up to the highest id still to learn (the base types,
/// typedefs and qualifiers of members come early), following typedefs,
/// qualifiers and arrays to their element types.
fn sizes<B: Blob + ?Sized>(
    blob: &B,
    types_at: u64,
    types_len: usize,
    wanted: Vec<u32>,
) -> Option<HashMap<u32, u32>> {
    let mut known: HashMap<u32, SizeOf> = HashMap::new();
    let mut frontier: Vec<u32> = wanted.clone();
    for _ in 0..NESTING * 2 {
        frontier.retain(|id| !known.contains_key(id));
        frontier.sort_unstable();
        frontier.dedup();
        let Some(&last) = frontier.last() else { break };
        let types = Section {
            blob,
            offset: types_at,
            left: types_len,
        };
        let mut next = Vec::new();
        let mut id = 1u32;
        for_each_type(types, |kind, _, _, size_or_type, body| {
            if frontier.binary_search(&id).is_ok() {
                let sized = match kind {
                    // INT, STRUCT, UNION, ENUM, FLOAT, ENUM64
                    1 | 4 | 5 | 6 | 16 | 19 => SizeOf::Bytes(size_or_type),
                    2 => SizeOf::Bytes(8), // PTR (a 64-bit kernel's)
                    // TYPEDEF, VOLATILE, CONST, RESTRICT, TYPE_TAG
                    8 | 9 | 10 | 11 | 18 => SizeOf::As(size_or_type),
                    3 => match (u32_at(body, 0), u32_at(body, 8)) {
                        (Some(element), Some(count)) => SizeOf::Array(element, count),
                        _ => SizeOf::Unknown,
                    },
                    _ => SizeOf::Unknown,
                };
                if let SizeOf::As(inner) | SizeOf::Array(inner, _) = sized {
                    next.push(inner);
                }
                known.insert(id, sized);
            }
            id += 1;
            id <= last
        })?;
        frontier.extend(next);
    }
    let size_of = |mut id: u32| {
        let mut times = 1u32;
        for _ in 0..NESTING * 2 {
            match known.get(&id)? {
                SizeOf::Bytes(n) => return n.checked_mul(times),
                SizeOf::As(inner) => id = *inner,
                SizeOf::Array(inner, count) => {
                    times = times.checked_mul(*count)?;
                    id = *inner;
                }
                SizeOf::Unknown => return None,
            }
        }
        None
    };
    Some(
        wanted
            .into_iter()
            .filter_map(|id| Some((id, size_of(id)?)))
            .collect(),
    )
}

/// A struct's or union's members that are not bitfields: (name position,
/// type id, byte offset). (A program reads whole bytes: an older kernel's
/// `sk_protocol:8` must not be taken for a byte-aligned `u16`.)
fn byte_members(info: u32, body: &[u8]) -> Vec<(u32, u32, u32)> {
    let bitfields = info >> 31 == 1;
    body.chunks_exact(12)
        .filter_map(|m| {
            let (name, ty, bits) = (u32_at(m, 0)?, u32_at(m, 4)?, u32_at(m, 8)?);
            let (bit_offset, bit_size) = if bitfields {
                (bits & 0x00ff_ffff, bits >> 24)
            } else {
                (bits, 0)
            };
            (bit_size == 0 && bit_offset % 8 == 0).then_some((name, ty, bit_offset / 8))
        })
        .collect()
}

/// Where each of `names` starts in the string section (names are stored
/// once each; a name stored twice keeps its first place).
fn name_positions(mut strings: impl Read, names: &[&str]) -> Option<HashMap<u32, String>> {
    let longest = names.iter().map(|n| n.len()).max().unwrap_or(0);
    // Most of the section's strings have a length no wanted name has.
    let mut wanted_length = vec![false; longest + 1];
    for name in names {
        wanted_length[name.len()] = true;
    }
    let mut positions = HashMap::new();
    let check = |positions: &mut HashMap<u32, String>, string: &[u8], start: u32| {
        if !wanted_length.get(string.len()).copied().unwrap_or(false) {
            return;
        }
        if let Some(name) = names.iter().find(|name| name.as_bytes() == string) {
            positions.entry(start).or_insert_with(|| name.to_string());
        }
    };
    let mut block = vec![0u8; BLOCK];
    // The head of a string that a block boundary cut, while it is short
    // enough to be a wanted name; where that string starts.
    let mut head: Option<Vec<u8>> = None;
    let mut start = 0u32;
    let mut base = 0u32;
    loop {
        let n = strings.read(&mut block).ok()?;
        if n == 0 {
            return Some(positions);
        }
        let mut from = 0;
        while let Some(nul) = block[from..n].iter().position(|&b| b == 0) {
            let piece = &block[from..from + nul];
            match head.take() {
                None if start == base + from as u32 => check(&mut positions, piece, start),
                Some(mut h) if h.len() + piece.len() <= longest => {
                    h.extend_from_slice(piece);
                    check(&mut positions, &h, start);
                }
                _ => {}
            }
            from += nul + 1;
            start = base + from as u32;
        }
        let tail = &block[from..n];
        let continues = head.is_some() || start == base + from as u32;
        head = match head.take() {
            Some(mut h) if h.len() + tail.len() <= longest => {
                h.extend_from_slice(tail);
                Some(h)
            }
            None if continues && tail.len() <= longest => Some(tail.to_vec()),
            _ => None,
        };
        base += n as u32;
        if positions.len() == names.len() {
            // The rest of the section (a megabyte and more) is not read.
            return Some(positions);
        }
    }
}

/// Calls `each(kind, name_off, info, size_or_type, body)` for every type
/// of the type section, in id order, until it returns false. None if
/// damaged.
fn for_each_type(
    mut types: impl Read,
    mut each: impl FnMut(u32, u32, u32, u32, &[u8]) -> bool,
) -> Option<()> {
    let mut buf = vec![0u8; BLOCK];
    // buf[from..to] is read and not yet walked.
    let (mut from, mut to) = (0usize, 0usize);
    let mut ended = false;
    loop {
        while to - from >= 12 {
            let name_off = u32_at(&buf, from)?;
            let info = u32_at(&buf, from + 4)?;
            let kind = (info >> 24) & 0x1f;
            let length = 12 + extra_len(kind, (info & 0xffff) as usize)?;
            if to - from < length {
                break;
            }
            let size_or_type = u32_at(&buf, from + 8)?;
            if !each(
                kind,
                name_off,
                info,
                size_or_type,
                &buf[from + 12..from + length],
            ) {
                return Some(());
            }
            from += length;
        }
        if ended {
            return (from == to).then_some(());
        }
        buf.copy_within(from..to, 0);
        to -= from;
        from = 0;
        if to == buf.len() {
            buf.resize(buf.len() * 2, 0);
        }
        let n = types.read(&mut buf[to..]).ok()?;
        ended = n == 0;
        to += n;
    }
}

fn read_exact_at<B: Blob + ?Sized>(blob: &B, buf: &mut [u8], offset: u64) -> Option<()> {
    let mut done = 0;
    while done < buf.len() {
        let n = blob.read_at(&mut buf[done..], offset + done as u64).ok()?;
        if n == 0 {
            return None;
        }
        done += n;
    }
    Some(())
}

/// Bytes that follow a type's 12-byte header, by kind.
fn extra_len(kind: u32, vlen: usize) -> Option<usize> {
    Some(match kind {
        // INT, VAR, DECL_TAG
        1 | 14 | 17 => 4,
        // PTR, FWD, TYPEDEF, VOLATILE, CONST, RESTRICT, FUNC, FLOAT, TYPE_TAG
        2 | 7 | 8 | 9 | 10 | 11 | 12 | 16 | 18 => 0,
        // ARRAY
        3 => 12,
        // STRUCT, UNION, DATASEC, ENUM64
        4 | 5 | 15 | 19 => 12 * vlen,
        // ENUM, FUNC_PROTO
        6 | 13 => 8 * vlen,
        _ => return None,
    })
}

fn u32_at(data: &[u8], at: usize) -> Option<u32> {
    let b = data.get(at..at + 4)?;
    Some(u32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
}

fn u16_at(data: &[u8], at: usize) -> Option<u16> {
    let b = data.get(at..at + 2)?;
    Some(u16::from_ne_bytes([b[0], b[1]]))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A BTF blob with an INT, a STRUCT `file` with two members, a FUNC
    /// `f`, and a STRUCT `outer` whose member `deep` is in an anonymous
    /// struct (defined before it) in an anonymous union (after it).
    fn blob() -> Vec<u8> {
        let strings = b"\0int\0file\0f_mode\0f_inode\0f\0outer\0deep\0";
        let mut types = Vec::new();
        let mut ty = |name: u32, info: u32, size_or_type: u32, extra: &[u32]| {
            for v in [name, info, size_or_type].iter().chain(extra) {
                types.extend_from_slice(&v.to_ne_bytes());
            }
        };
        ty(1, 1 << 24, 4, &[32]); // id 1: int
        ty(5, (4 << 24) | 2, 16, &[10, 1, 0, 17, 1, 64]); // id 2: struct file
        ty(25, 12 << 24, 0, &[]); // id 3: func f
        ty(0, (4 << 24) | 1, 8, &[33, 1, 32]); // id 4: struct { deep at 4 }
        ty(27, (4 << 24) | 1, 16, &[0, 6, 64]); // id 5: struct outer { id 6 at 8 }
        ty(0, (5 << 24) | 1, 8, &[0, 4, 0]); // id 6: union { id 4 at 0 }
        let mut blob = Vec::new();
        blob.extend_from_slice(&MAGIC.to_ne_bytes());
        blob.extend_from_slice(&[1, 0]);
        for v in [
            24u32,
            0,
            types.len() as u32,
            types.len() as u32,
            strings.len() as u32,
        ] {
            blob.extend_from_slice(&v.to_ne_bytes());
        }
        blob.extend_from_slice(&types);
        blob.extend_from_slice(strings);
        blob
    }

    const FILE: BtfQuery = BtfQuery {
        structs: &[("file", &["f_inode", "f_mode"])],
        funcs: &["f", "g"],
    };

    #[test]
    fn members_and_functions() {
        let found = find(blob().as_slice(), &FILE).expect("parsed");
        assert_eq!(found.offset("file", "f_inode"), Some(8));
        assert_eq!(found.offset("file", "f_mode"), Some(0));
        assert_eq!(found.funcs.get("f"), Some(&3));
        assert_eq!(found.funcs.get("g"), None);
    }

    #[test]
    fn members_of_anonymous_unions_and_structs() {
        let wanted = BtfQuery {
            structs: &[("outer", &["deep"]), ("file", &["f_inode"])],
            funcs: &[],
        };
        let found = find(blob().as_slice(), &wanted).expect("parsed");
        assert_eq!(found.offset("outer", "deep"), Some(12));
        assert_eq!(found.offset("file", "f_inode"), Some(8));
    }

    #[test]
    fn damaged_blobs_are_refused() {
        let good = blob();
        for cut in [0, 3, 10, 30, good.len() - 3] {
            let _ = find(&good[..cut], &FILE);
        }
        assert!(find(&good[..30], &FILE).is_none(), "types cut short");
        assert!(find(&good[..60], &FILE).is_none(), "types cut short");
        let mut bad = good.clone();
        bad[0] = 0;
        assert!(find(bad.as_slice(), &FILE).is_none());
    }

    use crate::test_io::Trickle;

    #[test]
    fn names_are_found_across_read_boundaries() {
        let text = b"\0int\0a_long_name_that_is_no_name\0file\0filet\0fil\0f_inode\0file\0";
        let places = [(1, "int"), (33, "file"), (48, "f_inode"), (56, "file")];
        for step in 1..text.len() + 1 {
            let got =
                name_positions(Trickle { text, step }, &["file", "f_inode", "int"]).expect("read");
            // Each name's first place is found (the scan may stop there)...
            for (at, name) in &places[..3] {
                assert_eq!(got.get(at).map(String::as_str), Some(*name), "step {step}");
            }
            // ...and nothing is found anywhere else.
            for (at, name) in &got {
                assert!(
                    places.contains(&(*at, name.as_str())),
                    "step {step}: {at} {name}"
                );
            }
        }
    }
}
