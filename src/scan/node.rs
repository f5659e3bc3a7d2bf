//! Turning what the kernel says about one open file (link text, stat,
//! fdinfo) into an `OpenFile`, as lsof's Linux node processing does.

use crate::model::{Access, Dev, FileType, OpenFile};

/// What `/proc/PID/fdinfo/N` says, for the fields lsof uses.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct FdInfo {
    pub pos: Option<u64>,
    pub flags: Option<u32>,
    pub mnt_id: Option<u32>,
    /// The open file's inode number (Linux 5.14 and later).
    pub ino: Option<u64>,
    pub eventfd_id: Option<i64>,
    pub pidfd_pid: Option<i64>,
    pub epoll_targets: Vec<i64>,
}

pub(crate) fn parse_fdinfo(text: &[u8]) -> FdInfo {
    let mut info = FdInfo::default();
    for line in text.split(|&c| c == b'\n') {
        let Ok(line) = std::str::from_utf8(line) else {
            continue;
        };
        let mut words = line.split_ascii_whitespace();
        let (Some(key), Some(value)) = (words.next(), words.next()) else {
            continue;
        };
        match key {
            "pos:" => info.pos = value.parse().ok(),
            "flags:" => info.flags = u32::from_str_radix(value, 8).ok(),
            "mnt_id:" => info.mnt_id = value.parse().ok(),
            "ino:" => info.ino = value.parse().ok(),
            "eventfd-id:" => info.eventfd_id = value.parse().ok(),
            "Pid:" => info.pidfd_pid = value.parse().ok(),
            "tfd:" => {
                if let Ok(fd) = value.parse() {
                    info.epoll_targets.push(fd);
                }
            }
            _ => {}
        }
    }
    info
}

/// The access character lsof derives from the fd link's permission bits;
/// fdinfo's open flags say the same thing one read cheaper when fdinfo is
/// read anyway. A file opened O_PATH has neither bit, which lsof shows as `u`.
pub(crate) fn access_from_flags(flags: u32) -> Access {
    if flags & libc::O_PATH as u32 != 0 {
        return Access::ReadWrite;
    }
    match flags & libc::O_ACCMODE as u32 {
        0 => Access::Read,
        1 => Access::Write,
        _ => Access::ReadWrite,
    }
}

pub(crate) fn access_from_link_mode(mode: u32) -> Access {
    match mode & (libc::S_IRUSR | libc::S_IWUSR) {
        libc::S_IRUSR => Access::Read,
        libc::S_IWUSR => Access::Write,
        _ => Access::ReadWrite,
    }
}

/// Type, device, inode, size and link count from a stat, as lsof sets them.
/// `mqueue_dev` is the device of the mqueue filesystem, whose regular
/// files lsof calls PSXMQ.
pub(crate) fn apply_stat(
    file: &mut OpenFile,
    st: &libc::stat,
    link: &[u8],
    mqueue_dev: Option<Dev>,
) {
    let fmt = st.st_mode & libc::S_IFMT;
    let dev = Dev::from_raw(st.st_dev);
    file.dev = Some(dev);
    file.inode = Some(st.st_ino);
    file.nlink = Some(st.st_nlink);
    file.file_type = Some(match fmt {
        libc::S_IFREG if Some(dev) == mqueue_dev => FileType::PosixMq,
        libc::S_IFREG => FileType::Reg,
        libc::S_IFDIR => FileType::Dir,
        libc::S_IFCHR => FileType::Chr,
        libc::S_IFBLK => FileType::Blk,
        libc::S_IFIFO => FileType::Fifo,
        libc::S_IFLNK => FileType::Link,
        libc::S_IFSOCK => FileType::Sock,
        0 if link.starts_with(b"anon_inode:") => FileType::AnonInode,
        _ => FileType::Other(format!("{:04o}", (fmt >> 12) & 0xf)),
    });
    if matches!(fmt, libc::S_IFCHR | libc::S_IFBLK) {
        file.rdev = Some(Dev::from_raw(st.st_rdev));
    }
    file.size = Some(st.st_size as u64);
}

/// The NAME for a link text: anonymous inodes lose their `anon_inode:`
/// prefix, gain the id fdinfo gives (`[eventfd:5]`, `[pidfd:42]`,
/// `[eventpoll:3,4]`); a `(deleted)` suffix is split off.
pub(crate) fn name_from_link(file: &mut OpenFile, link: &[u8], info: Option<&FdInfo>) {
    let mut name: &[u8] = link;
    if let Some(rest) = name.strip_suffix(b" (deleted)") {
        if !rest.is_empty() && rest.starts_with(b"/") {
            file.deleted = true;
            name = rest;
        }
    }
    if let Some(anon) = name.strip_prefix(b"anon_inode:") {
        file.name = anon_name(anon, info);
        return;
    }
    // lsof (getlinksrc) cuts a link text that is no path at its first
    // colon: `pipe:[123]` is `pipe`, a namespace's `net:[4026531833]` is
    // `net` (its inode is in NODE).
    if !name.starts_with(b"/") {
        if let Some(colon) = name.iter().position(|&b| b == b':') {
            name = &name[..colon];
        }
    }
    file.name = name.to_vec();
}

/// Whether the NAME of the anonymous inode with this link text holds an id
/// only fdinfo tells (see `anon_name`).
pub(crate) fn anon_name_wants_fdinfo(link: &[u8]) -> bool {
    matches!(
        link.strip_prefix(b"anon_inode:"),
        Some(b"[eventfd]" | b"[pidfd]" | b"[eventpoll]")
    )
}

fn anon_name(anon: &[u8], info: Option<&FdInfo>) -> Vec<u8> {
    let Some(info) = info else {
        return anon.to_vec();
    };
    match anon {
        b"[eventfd]" => match info.eventfd_id {
            Some(id) => format!("[eventfd:{id}]").into_bytes(),
            None => anon.to_vec(),
        },
        b"[pidfd]" => match info.pidfd_pid {
            Some(pid) => format!("[pidfd:{pid}]").into_bytes(),
            None => anon.to_vec(),
        },
        b"[eventpoll]" if !info.epoll_targets.is_empty() => eventpoll_name(&info.epoll_targets),
        _ => anon.to_vec(),
    }
}

/// lsof notes at most 32 epoll targets, sorted, and marks a full list with
/// a trailing `...`.
const EPOLL_MAX_TARGETS: usize = 32;

fn eventpoll_name(targets: &[i64]) -> Vec<u8> {
    let mut fds: Vec<i64> = targets.iter().copied().take(EPOLL_MAX_TARGETS).collect();
    fds.sort_unstable();
    let list: Vec<String> = fds.iter().map(|f| f.to_string()).collect();
    let more = if fds.len() == EPOLL_MAX_TARGETS {
        "..."
    } else {
        ""
    };
    format!("[eventpoll:{}{more}]", list.join(",")).into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fdinfo_fields() {
        let i = parse_fdinfo(b"pos:\t12\nflags:\t02000002\nmnt_id:\t17\nino:\t1038\neventfd-count: 0\neventfd-id: 1\n");
        assert_eq!(i.pos, Some(12));
        assert_eq!(i.flags, Some(0o2000002));
        assert_eq!(i.mnt_id, Some(17));
        assert_eq!(i.eventfd_id, Some(1));
        let e = parse_fdinfo(b"pos:\t0\ntfd:        5 events: 19\ntfd:        3 events: 19\n");
        assert_eq!(e.epoll_targets, vec![5, 3]);
    }

    #[test]
    fn access() {
        assert_eq!(access_from_flags(0o100000), Access::Read);
        assert_eq!(access_from_flags(0o2000001), Access::Write);
        assert_eq!(access_from_flags(0o2), Access::ReadWrite);
        assert_eq!(access_from_flags(0o10000000), Access::ReadWrite);
        assert_eq!(access_from_link_mode(0o120500), Access::Read);
        assert_eq!(access_from_link_mode(0o120300), Access::Write);
        assert_eq!(access_from_link_mode(0o120700), Access::ReadWrite);
        assert_eq!(access_from_link_mode(0o120000), Access::ReadWrite);
    }

    #[test]
    fn names() {
        let mut f = OpenFile::default();
        name_from_link(&mut f, b"/tmp/x (deleted)", None);
        assert_eq!((f.name.as_slice(), f.deleted), (&b"/tmp/x"[..], true));
        let info = FdInfo {
            eventfd_id: Some(7),
            epoll_targets: vec![9, 3],
            ..Default::default()
        };
        name_from_link(&mut f, b"anon_inode:[eventfd]", Some(&info));
        assert_eq!(f.name, b"[eventfd:7]");
        name_from_link(&mut f, b"anon_inode:[eventpoll]", Some(&info));
        assert_eq!(f.name, b"[eventpoll:3,9]");
        name_from_link(&mut f, b"pipe:[123]", None);
        assert_eq!(f.name, b"pipe");
        name_from_link(&mut f, b"net:[4026531833]", None);
        assert_eq!(f.name, b"net");
        name_from_link(&mut f, b"user:[4026531837]", None);
        assert_eq!(f.name, b"user");
        name_from_link(&mut f, b"/tmp/a:b", None);
        assert_eq!(f.name, b"/tmp/a:b");
    }

    #[test]
    fn fdinfo_only_for_anonymous_ids() {
        assert!(anon_name_wants_fdinfo(b"anon_inode:[eventfd]"));
        assert!(anon_name_wants_fdinfo(b"anon_inode:[eventpoll]"));
        assert!(anon_name_wants_fdinfo(b"anon_inode:[pidfd]"));
        assert!(!anon_name_wants_fdinfo(b"anon_inode:inotify"));
        assert!(!anon_name_wants_fdinfo(b"anon_inode:[timerfd]"));
        assert!(!anon_name_wants_fdinfo(b"/tmp/anon_inode:[eventfd]"));
    }

    #[test]
    fn many_epoll_targets_are_marked() {
        let t: Vec<i64> = (0..40).collect();
        let n = String::from_utf8(eventpoll_name(&t)).unwrap();
        assert!(n.ends_with(",31...]"), "{n}");
    }
}
