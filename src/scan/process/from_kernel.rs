//! A process's mapped files, working directory, root and executable from
//! the kernel (see [`crate::bpf::MappingsProgram`]) instead of
//! `/proc/PID/maps` and `/proc/PID/{cwd,root,exe}`: the same rows. Each
//! path is read once a run, through one process's `map_files` link or
//! its own cwd, root or exe link, and kept once it proves to be the
//! file's, for every process that holds the same file through the same
//! mount (`crate::bpf::PathKey`).

use super::{Buffers, ProcEntry};
use crate::bpf::{KernelNode, MappedFile, PathKey, ProcessFiles};
use crate::model::{Dev, FdName, OpenFile};
use crate::scan::maps::{
    as_maps_prints, is_anonymous, map_files_link, split_deleted, Mapping, UniqueMappings,
};
use crate::scan::node;
use crate::scan::Scanner;

impl Scanner {
    /// What the kernel tells of process `place`'s own files but its
    /// descriptors; None for a thread, or where the kernel cannot tell
    /// (not asked for a kernel thread, which has no mappings to walk).
    pub(super) fn process_files_from_kernel(&self, place: &ProcEntry) -> Option<ProcessFiles> {
        if !place.own_table || place.kernel_thread {
            return None;
        }
        self.kernel_process_files_of(place.pid)
    }

    /// The row of the process's working directory, root or executable
    /// (`fd`) from the kernel's `node` of it, where its path is kept from
    /// another process and its stat is the inode's (see
    /// [`KernelNode::generic_stat`]); None otherwise, and `/proc` is read
    /// (see [`Scanner::keep_link_path`]).
    pub(super) fn special_link_from_kernel(
        &self,
        place: &ProcEntry,
        fd: FdName,
        node: KernelNode,
    ) -> Option<OpenFile> {
        if !self.cfg.exempt.is_empty() {
            return None;
        }
        let st = node.generic_stat()?;
        let path = self
            .link_paths
            .get(node.path_key, Dev::from_raw(st.st_dev), st.st_ino)?;
        let mut file = OpenFile {
            fd: Some(fd),
            ..Default::default()
        };
        node::name_from_link(&mut file, &path, None);
        node::apply_stat(&mut file, &st, &path, self.mqueue_dev());
        self.add_lock(place, &mut file);
        Some(file)
    }

    /// Keeps `path`, just read from a cwd, root or exe link and stat'ed
    /// through it as `st`, for the other processes whose link leads to
    /// the same file, when it is the file the kernel told of (`node`: the
    /// process may have changed directory since).
    pub(super) fn keep_link_path(&self, node: KernelNode, path: &[u8], st: &libc::stat) {
        let same = (st.st_dev, st.st_ino) == (node.user_dev(), node.inode);
        if same && node.generic_stat().is_some() {
            let dev = Dev::from_raw(st.st_dev);
            self.link_paths.insert(node.path_key, dev, st.st_ino, path);
        }
    }

    /// The files process `place` maps, as [`crate::scan::maps::parse_maps`]
    /// would list them from its maps; None where the kernel cannot tell
    /// (then maps is read). A path read now rather than kept from another
    /// process comes with its key, to be kept once proven.
    pub(super) fn mappings_from_kernel(
        &self,
        place: &ProcEntry,
        told: Vec<MappedFile>,
        exe: Option<(Dev, u64)>,
        bufs: &mut Buffers,
    ) -> Option<Vec<(Mapping, Option<PathKey>)>> {
        let mut unique = UniqueMappings::default();
        let mut fresh = Vec::new();
        for m in told {
            let (major, minor) = m.device();
            let dev = Dev { major, minor };
            if is_anonymous(dev, m.inode) {
                continue;
            }
            // The executable has its txt row, not a mem one: its path is
            // not needed here.
            if Some((dev, m.inode)) == exe {
                continue;
            }
            if !unique.is_new(dev, m.inode) {
                continue;
            }
            let kept = self.mapping_paths.get(m.path_key, dev, m.inode);
            fresh.push(kept.is_none().then_some(m.path_key));
            let shown = match kept {
                Some(shown) => shown.into_vec(),
                None => {
                    let link = map_files_link(m.start, m.end);
                    place.dir.readlink(&link, &mut bufs.link).ok()?;
                    as_maps_prints(&bufs.link)
                }
            };
            let (path, deleted) = split_deleted(&shown);
            unique.push(Mapping {
                dev,
                inode: m.inode,
                path: path.to_vec(),
                deleted,
                start: m.start,
                end: m.end,
            });
        }
        Some(unique.mappings.into_iter().zip(fresh).collect())
    }

    /// Keeps the path of `m`, just read from its `map_files` link, for
    /// the other processes that map the file through the same mount
    /// (`key`); false when the link now leads to another file. `proven`:
    /// stat of the path found the file already. Otherwise (the path names
    /// another file here: a process in another mount namespace, a file
    /// replaced) the link is asked, by the attributes the kernel holds
    /// (no call reaches a file server or FUSE daemon), and by inode only:
    /// on btrfs stat's device is the subvolume's, not maps'.
    pub(super) fn keep_mapping_path(
        &self,
        place: &ProcEntry,
        key: PathKey,
        m: &Mapping,
        proven: bool,
    ) -> bool {
        let still = proven
            || crate::sys::block::stat_cached_at(place.dir.raw(), &m.map_files_link())
                .is_ok_and(|now| now.st_ino == m.inode);
        if still {
            let mut shown = m.path.clone();
            if m.deleted {
                shown.extend_from_slice(b" (deleted)");
            }
            self.mapping_paths.insert(key, m.dev, m.inode, &shown);
        }
        still
    }
}
