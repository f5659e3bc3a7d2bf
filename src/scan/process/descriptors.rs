//! A process's descriptors (`/proc/PID/fd`): each link read, the file
//! stat'ed, and its fdinfo, lock and socket added where lsof shows them.

use super::{proc_path, FdDirs, ProcEntry};
use crate::model::{FdName, FileType, OpenFile};
use crate::scan::exempt::{exempt_for, exempt_link};
use crate::scan::procfs::number_cstr;
use crate::scan::{fdtable, node, pseudo};
use crate::scan::{Buffers, Scanner};
use crate::sys::errno::errno_text;
use std::ffi::CStr;
use std::io;

/// What stat'ing a descriptor learned besides the stat.
struct Stated {
    /// A pipe or socket told by its link text alone.
    pseudo: Option<pseudo::Pseudo>,
    /// Its stat was known from an earlier one (no fdinfo is read for it).
    known: bool,
    /// The fdinfo of an anonymous inode, read before the stat.
    anon_info: Option<node::FdInfo>,
}

impl Scanner {
    pub(super) fn descriptors(
        &self,
        place: &ProcEntry,
        flags: u32,
        bufs: &mut Buffers,
        files: &mut Vec<OpenFile>,
    ) {
        let fd_dir = match place.dir.open(c"fd") {
            Ok(d) => d,
            Err(e) => {
                if self.cfg.warnings && self.fd_wanted(flags, FdName::NoFd) {
                    let mut name = proc_path(place, b"fd");
                    name.extend_from_slice(format!(" (opendir: {})", errno_text(&e)).as_bytes());
                    files.push(OpenFile {
                        fd: Some(FdName::NoFd),
                        name,
                        ..Default::default()
                    });
                }
                return;
            }
        };
        let mut dirs = FdDirs {
            fd: &fd_dir,
            info: None,
            kernel: None,
            listed: None,
        };
        // The kernel names the process's sockets under its PID, a thread's
        // own table's too: a thread's table is read whole.
        let listed = (place.sockets_only.get() && place.own_table)
            .then(|| self.listable_sockets_of(place.pid))
            .flatten();
        if let Some(listed) = listed {
            fdtable::for_each_listed(&fd_dir, listed, bufs, |n, link, bufs| {
                if let Some(file) = self.descriptor(place, &mut dirs, n, link, bufs) {
                    files.push(file);
                }
            });
            return;
        }
        if self.descriptors_from_kernel(place, &mut dirs, flags, bufs, files) {
            return;
        }
        let count = fdtable::open_count(&fd_dir, &self.fd_counts_seen);
        let mut read = 0;
        let expected = count.unwrap_or(0).min(1 << 16);
        files.reserve(usize::try_from(expected).unwrap_or(0));
        let wanted = |n: u32| self.fd_wanted(flags, FdName::Num(n));
        let filter = self
            .cfg
            .fd_wanted
            .as_ref()
            .map(|_| &wanted as &dyn Fn(u32) -> bool);
        fdtable::for_each_descriptor(
            &fd_dir,
            self.on_procfs,
            count,
            filter,
            bufs,
            |n, link, bufs| {
                read += 1;
                if let Some(file) = self.descriptor(place, &mut dirs, n, link, bufs) {
                    files.push(file);
                }
            },
        );
        self.count_descriptors_read(read);
    }

    /// The process's descriptors as the kernel lists them (see
    /// [`Scanner::kernel_listing_of`]), each completed where the listing
    /// cannot tell; false (nothing read) where `/proc` must answer for the
    /// whole process.
    fn descriptors_from_kernel(
        &self,
        place: &ProcEntry,
        dirs: &mut FdDirs,
        flags: u32,
        bufs: &mut Buffers,
        files: &mut Vec<OpenFile>,
    ) -> bool {
        let fd_dir = dirs.fd;
        let from_kernel = place
            .own_table
            .then(|| self.kernel_listing_of(place.pid))
            .flatten();
        // The kernel tells what /proc would refuse to: a process whose
        // links we may not read (ptrace's rules) is read through /proc,
        // which says so as lsof does.
        let Some(listed) =
            from_kernel.filter(|listed| fdtable::links_readable(fd_dir, listed, bufs))
        else {
            return false;
        };
        let wanted = |n: u32| self.fd_wanted(flags, FdName::Num(n));
        files.reserve(listed.len());
        for file in listed {
            let n = file.fd;
            if self.cfg.fd_wanted.is_some() && !wanted(n) {
                continue;
            }
            let Some(link) = fdtable::link_of_listed(fd_dir, &file, bufs) else {
                continue;
            };
            dirs.listed = Some(file);
            if let Some(file) = self.descriptor(place, dirs, n, link, bufs) {
                files.push(file);
            }
        }
        true
    }

    pub(super) fn descriptor(
        &self,
        place: &ProcEntry,
        dirs: &mut FdDirs,
        n: u32,
        link: io::Result<()>,
        bufs: &mut Buffers,
    ) -> Option<OpenFile> {
        let mut file = OpenFile {
            fd: Some(FdName::Num(n)),
            ..Default::default()
        };
        let mut num = std::mem::take(&mut bufs.num);
        let name = number_cstr(n as u64, &mut num);
        let result = self.descriptor_at(place, dirs, name, link, &mut file, bufs);
        bufs.num = num;
        result.map(|()| file)
    }

    /// Descriptor `name` of `place`, whose link text is in `bufs.link`
    /// (or could not be read: `link`), into `file`; None when it is not
    /// listed.
    pub(super) fn descriptor_at(
        &self,
        place: &ProcEntry,
        dirs: &mut FdDirs,
        name: &CStr,
        link: io::Result<()>,
        file: &mut OpenFile,
        bufs: &mut Buffers,
    ) -> Option<()> {
        if let Err(e) = link {
            return self.unreadable_link(place, name, &e, file);
        }
        if let Some(e) = exempt_for(&self.cfg.exempt, &bufs.link) {
            exempt_link(file, &bufs.link, "fd", e);
            if self.cfg.file_flags {
                file.flags = read_fdinfo(place, dirs, name, bufs).and_then(|i| i.flags);
            }
            return Some(());
        }
        if place.sockets_only.get() && !self.may_list_socket(place, name, &bufs.link) {
            return None;
        }
        let stated = self.stat_descriptor(place, dirs, name, file, bufs);
        if let Some(keep) = place.keep {
            let testable = keep.sockets_too || file.file_type != Some(FileType::Sock);
            if testable && !(keep.test)(place.flags.get(), file) {
                return None;
            }
        }
        let info = if stated.anon_info.is_some() {
            stated.anon_info
        } else if !stated.known && self.wants_fdinfo(file, &bufs.link) {
            self.fdinfo_from_kernel(place, dirs, file, &bufs.link)
                .or_else(|| read_fdinfo(place, dirs, name, bufs))
        } else {
            None
        };
        self.set_access(dirs, name, file, info.as_ref(), stated.pseudo);
        if stated.known {
            file.offset = Some(0);
        }
        if let Some(info) = &info {
            file.offset = info.pos;
            file.flags = info.flags;
            file.mnt_id = info.mnt_id;
        }
        node::name_from_link(file, &bufs.link, info.as_ref());
        if self.cfg.endpoints && info.is_some() {
            file.tty_index = crate::scan::endpoints::ptmx_tty_index(file, &bufs.text);
        }
        if file.file_type == Some(FileType::Sock) && !self.cfg.terse {
            if let Some(inode) = file.inode {
                self.describe_socket(place, name, inode, file);
            }
        }
        self.add_lock(place, file);
        Some(())
    }

    /// The row lsof prints for a descriptor whose link cannot be read
    /// (none under `-w`).
    fn unreadable_link(
        &self,
        place: &ProcEntry,
        name: &CStr,
        e: &io::Error,
        file: &mut OpenFile,
    ) -> Option<()> {
        if !self.cfg.warnings {
            return None;
        }
        file.file_type = Some(FileType::Unknown);
        let mut rel = b"fd/".to_vec();
        rel.extend_from_slice(name.to_bytes());
        file.name = proc_path(place, &rel);
        file.note = Some(format!("readlink: {}", errno_text(e)));
        Some(())
    }

    /// Stats descriptor `name` into `file`, or takes what an earlier stat
    /// of the same pipe, socket or shared anonymous inode taught.
    fn stat_descriptor(
        &self,
        place: &ProcEntry,
        dirs: &mut FdDirs,
        name: &CStr,
        file: &mut OpenFile,
        bufs: &mut Buffers,
    ) -> Stated {
        let pseudo = self.pseudo_link(&bufs.link);
        let listed = dirs
            .listed
            .as_ref()
            .and_then(crate::bpf::ListedFile::kernel_stat);
        let known = pseudo
            .filter(|_| listed.is_none())
            .and_then(|p| self.pseudo_devs.known_stat(p));
        // An anonymous inode whose fdinfo will be read anyway: read it
        // first, it may name the inode already stat'ed.
        let anon_info = (place.keep.is_none() && self.wants_anon_fdinfo(&bufs.link))
            .then(|| {
                let listed = dirs.listed.as_ref();
                listed
                    .and_then(|l| listed_fdinfo(l, &bufs.link))
                    .or_else(|| read_fdinfo(place, dirs, name, bufs))
            })
            .flatten();
        let shared = anon_info
            .as_ref()
            .filter(|_| listed.is_none())
            .and_then(|i| self.shared_anon_inode.known_stat(i));
        let stat = match listed.or(known).or(shared) {
            Some(st) => Ok(st),
            None => self.guard.stat_at(dirs.fd.raw(), name, &bufs.link),
        };
        if let (Some(p), Ok(st)) = (pseudo, &stat) {
            self.pseudo_devs.learn(p, st);
        }
        if let (None, Some(i), Ok(st)) = (shared, &anon_info, &stat) {
            self.shared_anon_inode.learn(&bufs.link, i, st);
        }
        match stat {
            Ok(st) => node::apply_stat(file, &st, &bufs.link, self.mqueue_dev()),
            Err(e) => {
                file.file_type = Some(FileType::Unknown);
                if self.cfg.warnings {
                    file.note = Some(format!("stat: {}", errno_text(&e)));
                }
            }
        }
        Stated {
            pseudo,
            known: known.is_some(),
            anon_info,
        }
    }

    /// The access mode: from fdinfo's flags, else (but for sockets, which
    /// are always read-write) from the mode of the `fd/N` link itself.
    fn set_access(
        &self,
        dirs: &FdDirs,
        name: &CStr,
        file: &mut OpenFile,
        info: Option<&node::FdInfo>,
        pseudo: Option<pseudo::Pseudo>,
    ) {
        match info.and_then(|i| i.flags) {
            Some(flags) => file.access = node::access_from_flags(flags),
            None if self.cfg.terse => {}
            // The kernel opens every socket file read-write (and a socket
            // cannot be reopened through /proc): no lstat needed.
            None if pseudo.is_some_and(|p| p.kind == pseudo::Kind::Socket) => {
                file.access = crate::model::Access::ReadWrite;
            }
            None => {
                let link_mode = match &dirs.listed {
                    Some(listed) => Some(listed.link_mode()),
                    None => dirs.fd.stat(name, true).ok().map(|lst| lst.st_mode),
                };
                if let Some(mode) = link_mode {
                    file.access = node::access_from_link_mode(mode);
                }
            }
        }
    }

    /// The position and flags fdinfo would give for `file`, from the
    /// kernel's own walk of the process's descriptors (`crate::bpf`), when
    /// every descriptor's fdinfo is wanted (offsets: `-o`, `-F`, JSON; or
    /// flags, `+f`). The descriptor must still hold the same inode. Not
    /// for what fdinfo says beyond those: the ids in anonymous inodes'
    /// names, a pseudo-terminal's index (`+E`).
    pub(super) fn fdinfo_from_kernel(
        &self,
        place: &ProcEntry,
        dirs: &mut FdDirs,
        file: &OpenFile,
        link: &[u8],
    ) -> Option<node::FdInfo> {
        let Some(FdName::Num(fd)) = file.fd else {
            return None;
        };
        let inode = file.inode?;
        let every_fdinfo = self.cfg.offsets || self.cfg.file_flags;
        let more_wanted = self.cfg.endpoints || link.starts_with(b"anon_inode:");
        if let Some(listed) = &dirs.listed {
            return listed_fdinfo(listed, link).filter(|_| !self.cfg.endpoints);
        }
        if !place.own_table || !every_fdinfo || more_wanted || self.cfg.terse {
            return None;
        }
        let asked = dirs
            .kernel
            .get_or_insert_with(|| self.kernel_files_of(place.pid));
        let Some(files) = asked.as_ref() else {
            self.count_fdinfo_read();
            return None;
        };
        let at = files.binary_search_by_key(&fd, |f| f.fd).ok()?;
        let seen = files[at];
        (seen.inode == inode).then(|| node::FdInfo {
            pos: u64::try_from(seen.pos).ok(),
            flags: Some(seen.flags),
            ino: Some(seen.inode),
            ..Default::default()
        })
    }

    /// A socket or pipe that needs neither stat nor fdinfo: only when
    /// neither offsets (`-o`, `-F`, JSON) nor flags (`+f`) are asked for,
    /// which fdinfo would give.
    pub(super) fn pseudo_link(&self, link: &[u8]) -> Option<pseudo::Pseudo> {
        if self.cfg.offsets || self.cfg.file_flags {
            return None;
        }
        pseudo::parse_link(link)
    }

    /// fdinfo costs three system calls; read it only where lsof shows what
    /// it holds: offsets (devices, pipes, sockets, or `-o`), flags (`+f`),
    /// and the ids in the names of eventfd, eventpoll and pidfd inodes
    /// (other anonymous inodes, inotify or timerfd, show none).
    pub(super) fn wants_fdinfo(&self, file: &OpenFile, link: &[u8]) -> bool {
        if self.cfg.offsets || self.cfg.file_flags {
            return true;
        }
        if self.cfg.terse {
            return false;
        }
        match &file.file_type {
            Some(FileType::Chr | FileType::Blk | FileType::Fifo | FileType::Sock) => true,
            Some(FileType::AnonInode) | None | Some(FileType::Unknown) => {
                node::anon_name_wants_fdinfo(link)
            }
            _ => false,
        }
    }

    /// Whether the descriptor with link text `link` is an anonymous inode
    /// whose fdinfo [`Scanner::wants_fdinfo`] will want, whatever its stat.
    pub(super) fn wants_anon_fdinfo(&self, link: &[u8]) -> bool {
        if self.cfg.terse || !link.starts_with(b"anon_inode:") {
            return false;
        }
        self.cfg.offsets || self.cfg.file_flags || node::anon_name_wants_fdinfo(link)
    }

    pub(super) fn add_lock(&self, place: &ProcEntry, file: &mut OpenFile) {
        if self.cfg.terse {
            return;
        }
        if let (Some(dev), Some(inode)) = (file.dev, file.inode) {
            file.lock = self.locks().lock_of(place.pid, dev, inode);
        }
    }
}

/// What fdinfo would tell of the file with link text `link`, as the kernel
/// listing told it: position and flags, and the id or watched descriptors
/// an anonymous inode's name shows; None where only fdinfo tells (a pidfd's
/// process, an eventpoll's watched descriptors, what the kernel could not
/// be asked).
fn listed_fdinfo(listed: &crate::bpf::ListedFile, link: &[u8]) -> Option<node::FdInfo> {
    let mut info = node::FdInfo {
        pos: u64::try_from(listed.pos).ok(),
        flags: Some(listed.flags),
        ino: Some(listed.inode),
        ..Default::default()
    };
    match link.strip_prefix(b"anon_inode:") {
        Some(b"[eventfd]") => info.eventfd_id = Some(i64::from(listed.eventfd_id?)),
        Some(b"[eventpoll]") if listed.epoll_watches != Some(false) => return None,
        Some(b"[pidfd]") => return None,
        _ => {}
    }
    Some(info)
}

/// `/proc/PID/fdinfo/NAME`, through the fdinfo directory opened once.
fn read_fdinfo(
    place: &ProcEntry,
    dirs: &mut FdDirs,
    name: &CStr,
    bufs: &mut Buffers,
) -> Option<node::FdInfo> {
    let dir = dirs.info.get_or_insert_with(|| place.dir.open(c"fdinfo"));
    match dir {
        Ok(d) if d.read_record(name, &mut bufs.text).is_ok() => {
            Some(node::parse_fdinfo(&bufs.text))
        }
        _ => None,
    }
}
