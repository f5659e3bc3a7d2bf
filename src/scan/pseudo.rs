//! Sockets and pipes without a stat or an fdinfo read.
//!
//! Their fd link text, `socket:[N]` or `pipe:[N]`, already names the
//! inode, and all sockets live on one kernel filesystem (sockfs), all
//! pipes on another (pipefs): a stat of one tells the device of all. The
//! rest of what a stat says is fixed (link count 1, size 0), and their
//! file position never moves (read, write, sendfile and splice leave it at
//! 0, lseek is refused), so the offset lsof shows is 0 without fdinfo.
//! That takes such a descriptor from six system calls (readlink, stat,
//! open, read, read, close) to two (readlink, and the lstat that gives the
//! access mode).
//!
//! Likewise eventfd and epoll descriptors, whose fdinfo is read anyway for
//! the ids in their names: they all are one inode of the kernel's
//! anonymous-inode filesystem, which fdinfo names (mount id and inode
//! number), so one stat of it serves every such descriptor of the run.

use std::sync::OnceLock;

use super::node::FdInfo;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Socket,
    Pipe,
}

impl Kind {
    fn file_format(self) -> libc::mode_t {
        match self {
            Kind::Socket => libc::S_IFSOCK,
            Kind::Pipe => libc::S_IFIFO,
        }
    }
}

/// A descriptor whose link text names a socket or a pipe inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pseudo {
    pub kind: Kind,
    pub inode: u64,
}

/// Recognizes `socket:[N]` and `pipe:[N]` link texts.
pub(crate) fn parse_link(link: &[u8]) -> Option<Pseudo> {
    let (kind, rest) = if let Some(rest) = link.strip_prefix(b"socket:[") {
        (Kind::Socket, rest)
    } else if let Some(rest) = link.strip_prefix(b"pipe:[") {
        (Kind::Pipe, rest)
    } else {
        return None;
    };
    let digits = rest.strip_suffix(b"]")?;
    let inode = super::procfs::parse_decimal(digits)?;
    Some(Pseudo { kind, inode })
}

/// The devices of sockfs and pipefs, learned from the first real stat.
#[derive(Debug, Default)]
pub(crate) struct PseudoDevs {
    socket: OnceLock<u64>,
    pipe: OnceLock<u64>,
}

impl PseudoDevs {
    fn slot(&self, kind: Kind) -> &OnceLock<u64> {
        match kind {
            Kind::Socket => &self.socket,
            Kind::Pipe => &self.pipe,
        }
    }

    /// What a stat of the descriptor would say, once the device is known.
    pub(crate) fn known_stat(&self, p: Pseudo) -> Option<libc::stat> {
        let dev = *self.slot(p.kind).get()?;
        // SAFETY: libc::stat is plain old data; all zeros is a valid value.
        // SAFETY: all-zero is a valid stat (plain integers).
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        st.st_mode = p.kind.file_format() | 0o600;
        st.st_dev = dev;
        st.st_ino = p.inode;
        st.st_nlink = 1;
        Some(st)
    }

    /// Remembers the device from a real stat of the same descriptor, if
    /// it is what the link text said it is.
    pub(crate) fn learn(&self, p: Pseudo, st: &libc::stat) {
        let fixed = st.st_nlink == 1 && st.st_size == 0;
        if st.st_mode & libc::S_IFMT == p.kind.file_format() && st.st_ino == p.inode && fixed {
            let _ = self.slot(p.kind).set(st.st_dev);
        }
    }
}

/// The kernel's shared anonymous inode, learned from the first eventfd or
/// eventpoll descriptor: its mount id and inode number (from fdinfo) and
/// its stat.
#[derive(Debug, Default)]
pub(crate) struct SharedAnonInode(OnceLock<(u32, u64, libc::stat)>);

impl SharedAnonInode {
    /// What a stat would say of the descriptor whose fdinfo is `info`,
    /// when fdinfo names the shared inode (same mount, same number: the
    /// same inode).
    pub(crate) fn known_stat(&self, info: &FdInfo) -> Option<libc::stat> {
        let (mnt_id, ino, st) = self.0.get()?;
        (info.mnt_id == Some(*mnt_id) && info.ino == Some(*ino)).then_some(*st)
    }

    /// Remembers the inode from a real stat of an eventfd or eventpoll
    /// descriptor (other anonymous inodes, pidfds under pidfs, userfaultfd,
    /// may have an inode of their own).
    pub(crate) fn learn(&self, link: &[u8], info: &FdInfo, st: &libc::stat) {
        let shared_kind = matches!(
            link.strip_prefix(b"anon_inode:"),
            Some(b"[eventfd]" | b"[eventpoll]")
        );
        if let (true, Some(mnt_id), Some(ino)) = (shared_kind, info.mnt_id, info.ino) {
            if st.st_ino == ino {
                let _ = self.0.set((mnt_id, ino, *st));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_texts() {
        let sock = parse_link(b"socket:[1381297]");
        assert_eq!(
            sock,
            Some(Pseudo {
                kind: Kind::Socket,
                inode: 1381297
            })
        );
        let pipe = parse_link(b"pipe:[7]").map(|p| (p.kind, p.inode));
        assert_eq!(pipe, Some((Kind::Pipe, 7)));
        for other in [
            &b"/tmp/socket:[1]"[..],
            b"socket:[]",
            b"socket:[12",
            b"pipe:[1x]",
            b"anon_inode:[eventfd]",
            b"socket:[1] (deleted)",
        ] {
            assert_eq!(parse_link(other), None, "{other:?}");
        }
    }

    #[test]
    fn learned_once_and_only_from_a_matching_stat() {
        let devs = PseudoDevs::default();
        let p = Pseudo {
            kind: Kind::Pipe,
            inode: 42,
        };
        assert!(devs.known_stat(p).is_none());
        // SAFETY: all-zero is a valid stat (plain integers).
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        st.st_mode = libc::S_IFREG | 0o644;
        st.st_ino = 42;
        st.st_nlink = 1;
        st.st_dev = 77;
        devs.learn(p, &st);
        assert!(
            devs.known_stat(p).is_none(),
            "a regular file teaches nothing"
        );
        st.st_mode = libc::S_IFIFO | 0o600;
        devs.learn(p, &st);
        let known = devs.known_stat(Pseudo { inode: 9, ..p });
        let known = known.map(|s| (s.st_dev, s.st_ino, s.st_mode & libc::S_IFMT, s.st_nlink));
        assert_eq!(known, Some((77, 9, libc::S_IFIFO, 1)));
        let sock = Pseudo {
            kind: Kind::Socket,
            inode: 9,
        };
        assert!(devs.known_stat(sock).is_none());
    }

    #[test]
    fn shared_anonymous_inode_only_from_eventfd_or_eventpoll_and_by_mount_and_number() {
        let shared = SharedAnonInode::default();
        let info = FdInfo {
            mnt_id: Some(15),
            ino: Some(1037),
            ..FdInfo::default()
        };
        // SAFETY: all-zero is a valid stat (plain integers).
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        st.st_ino = 1037;
        st.st_dev = 14;
        shared.learn(b"anon_inode:[pidfd]", &info, &st);
        assert!(
            shared.known_stat(&info).is_none(),
            "a pidfd teaches nothing"
        );
        let mut other = st;
        other.st_ino = 5;
        shared.learn(b"anon_inode:[eventfd]", &info, &other);
        assert!(
            shared.known_stat(&info).is_none(),
            "fdinfo and stat disagree"
        );
        shared.learn(b"anon_inode:[eventpoll]", &info, &st);
        assert_eq!(
            shared.known_stat(&info).map(|s| (s.st_dev, s.st_ino)),
            Some((14, 1037))
        );
        for (mnt_id, ino) in [
            (Some(16), Some(1037)),
            (Some(15), Some(9)),
            (None, Some(1037)),
            (Some(15), None),
        ] {
            let elsewhere = FdInfo {
                mnt_id,
                ino,
                ..FdInfo::default()
            };
            assert!(
                shared.known_stat(&elsewhere).is_none(),
                "{mnt_id:?} {ino:?}"
            );
        }
    }
}
