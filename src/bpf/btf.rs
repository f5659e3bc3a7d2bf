//! Just enough of the kernel's BTF (`/sys/kernel/btf/vmlinux`) to find a
//! few struct members' byte offsets and a function's type id, which a BPF
//! program that walks kernel structures must be built with.

use std::collections::HashMap;

const MAGIC: u16 = 0xeb9f;
const KIND_STRUCT: u32 = 4;
const KIND_FUNC: u32 = 12;

/// The names we look up: struct names and function names, by kind.
pub struct Wanted<'a> {
    pub structs: &'a [&'a str],
    pub funcs: &'a [&'a str],
}

/// What was found: per struct, its members' (name → byte offset); per
/// function, its type id.
#[derive(Debug, Default)]
pub struct Found {
    pub members: HashMap<String, HashMap<String, u32>>,
    pub funcs: HashMap<String, u32>,
}

impl Found {
    /// The byte offset of `member` in `strukt`.
    pub fn offset(&self, strukt: &str, member: &str) -> Option<u32> {
        self.members.get(strukt)?.get(member).copied()
    }
}

/// Walks the type section of a raw BTF blob once. None when the blob is
/// not BTF or is damaged.
pub fn find(blob: &[u8], wanted: &Wanted) -> Option<Found> {
    if u16_at(blob, 0)? != MAGIC {
        return None;
    }
    let header_len = u32_at(blob, 4)? as usize;
    let type_off = u32_at(blob, 8)? as usize;
    let type_len = u32_at(blob, 12)? as usize;
    let str_off = u32_at(blob, 16)? as usize;
    let str_len = u32_at(blob, 20)? as usize;
    let types = blob.get(header_len + type_off..header_len + type_off + type_len)?;
    let strings = blob.get(header_len + str_off..header_len + str_off + str_len)?;
    let name = |offset: u32| -> Option<&[u8]> {
        let rest = strings.get(offset as usize..)?;
        Some(&rest[..rest.iter().position(|&b| b == 0)?])
    };
    let mut found = Found::default();
    let mut at = 0usize;
    // Type ids start at 1 (0 is void).
    let mut id = 1u32;
    while at + 12 <= types.len() {
        let name_off = u32_at(types, at)?;
        let info = u32_at(types, at + 4)?;
        let vlen = (info & 0xffff) as usize;
        let kind = (info >> 24) & 0x1f;
        let bitfields = info >> 31 == 1;
        let extra = extra_len(kind, vlen)?;
        let body = types.get(at + 12..at + 12 + extra)?;
        // Most of the blob's 100,000 and more types are neither: names are
        // compared only for those, and without measuring them first.
        let named = |wanted: &str| {
            let at = name_off as usize;
            let end = at + wanted.len();
            strings.get(at..end) == Some(wanted.as_bytes()) && strings.get(end) == Some(&0)
        };
        if kind == KIND_FUNC {
            if let Some(f) = wanted.funcs.iter().find(|f| named(f)) {
                found.funcs.entry(f.to_string()).or_insert(id);
            }
        } else if kind == KIND_STRUCT {
            if let Some(s) = wanted.structs.iter().find(|s| named(s)) {
                if !found.members.contains_key(*s) {
                    let mut members = HashMap::new();
                    for m in body.chunks_exact(12) {
                        let member_name = name(u32_at(m, 0)?)?;
                        let bits = u32_at(m, 8)?;
                        let bit_offset = if bitfields { bits & 0x00ff_ffff } else { bits };
                        if bit_offset % 8 == 0 && !member_name.is_empty() {
                            let member_name = String::from_utf8_lossy(member_name).into_owned();
                            members.insert(member_name, bit_offset / 8);
                        }
                    }
                    found.members.insert(s.to_string(), members);
                }
            }
        }
        at += 12 + extra;
        id += 1;
        if found.members.len() == wanted.structs.len() && found.funcs.len() == wanted.funcs.len() {
            break;
        }
    }
    Some(found)
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

    /// A BTF blob with an INT, a STRUCT `file` with two members, and a
    /// FUNC `f`.
    fn blob() -> Vec<u8> {
        let strings = b"\0int\0file\0f_mode\0f_inode\0f\0";
        let mut types = Vec::new();
        let mut ty = |name: u32, info: u32, size_or_type: u32, extra: &[u32]| {
            for v in [name, info, size_or_type].iter().chain(extra) {
                types.extend_from_slice(&v.to_ne_bytes());
            }
        };
        ty(1, 1 << 24, 4, &[32]); // id 1: int
        ty(5, (4 << 24) | 2, 16, &[10, 1, 0, 17, 1, 64]); // id 2: struct file
        ty(25, 12 << 24, 0, &[]); // id 3: func f
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

    #[test]
    fn members_and_functions() {
        let wanted = Wanted {
            structs: &["file"],
            funcs: &["f", "g"],
        };
        let found = find(&blob(), &wanted).expect("parsed");
        assert_eq!(found.offset("file", "f_inode"), Some(8));
        assert_eq!(found.offset("file", "f_mode"), Some(0));
        assert_eq!(found.funcs.get("f"), Some(&3));
        assert_eq!(found.funcs.get("g"), None);
    }

    #[test]
    fn damaged_blobs_are_refused() {
        let wanted = Wanted {
            structs: &["file"],
            funcs: &[],
        };
        let good = blob();
        for cut in [0, 3, 10, 30, good.len() - 3] {
            let _ = find(&good[..cut], &wanted);
        }
        let mut bad = good.clone();
        bad[0] = 0;
        assert!(find(&bad, &wanted).is_none());
    }

    #[test]
    fn the_running_kernel_has_what_the_iterator_needs() {
        let Ok(vmlinux) = std::fs::read("/sys/kernel/btf/vmlinux") else {
            return; // no BTF here
        };
        let wanted = Wanted {
            structs: &["file", "inode", "task_struct"],
            funcs: &["bpf_iter_task_file"],
        };
        let found = find(&vmlinux, &wanted).expect("parsed");
        assert!(found.offset("file", "f_inode").is_some());
        assert!(found.offset("inode", "i_ino").is_some());
        assert!(found.offset("task_struct", "tgid").is_some());
        assert!(found.funcs.contains_key("bpf_iter_task_file"));
    }
}
