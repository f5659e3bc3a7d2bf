//! A process's mapped files from the kernel's listing of mappings (see
//! [`crate::bpf::MappingsProgram`]) instead of `/proc/PID/maps`: the same
//! list `parse_maps` would make, each path read once a run through one
//! process's `map_files` link, and kept once it proves to be the file's
//! (`Scanner::keep_mapping_path`).

use super::{Buffers, ProcEntry};
use crate::bpf::PathKey;
use crate::model::Dev;
use crate::scan::maps::{as_maps_prints, map_files_link, split_deleted, Mapping, UniqueMappings};
use crate::scan::Scanner;

impl Scanner {
    /// The files process `place` maps, as [`crate::scan::maps::parse_maps`]
    /// would list them from its maps; None where the kernel cannot tell
    /// (then maps is read). A path read now rather than kept from another
    /// process comes with its key, to be kept once proven.
    pub(super) fn mappings_from_kernel(
        &self,
        place: &ProcEntry,
        bufs: &mut Buffers,
    ) -> Option<Vec<(Mapping, Option<PathKey>)>> {
        if !place.own_table {
            return None;
        }
        let told = self.kernel_mappings_of(place.pid)?;
        let mut unique = UniqueMappings::default();
        let mut fresh = Vec::new();
        for m in told {
            let (major, minor) = m.device();
            let dev = Dev { major, minor };
            // maps' test for an anonymous mapping (see parse_maps).
            if major == 0 && minor == 0 && m.inode == 0 {
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
