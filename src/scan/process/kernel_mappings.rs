//! A process's mapped files from the kernel's listing of mappings (see
//! [`crate::bpf::MappingsProgram`]) instead of `/proc/PID/maps`: the same
//! list `parse_maps` would make, each path read once a run through one
//! process's `map_files` link.

use super::{Buffers, ProcEntry};
use crate::model::Dev;
use crate::scan::maps::{as_maps_prints, map_files_link, split_deleted, Mapping, UniqueMappings};
use crate::scan::Scanner;

impl Scanner {
    /// The files process `place` maps, as [`crate::scan::maps::parse_maps`]
    /// would list them from its maps; None where the kernel cannot tell
    /// (then maps is read).
    pub(super) fn mappings_from_kernel(
        &self,
        place: &ProcEntry,
        bufs: &mut Buffers,
    ) -> Option<Vec<Mapping>> {
        if !place.own_table {
            return None;
        }
        let told = self.kernel_mappings_of(place.pid)?;
        let mut unique = UniqueMappings::default();
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
            let shown = match self.mapping_paths.get(m.path_key, dev, m.inode) {
                Some(shown) => shown,
                None => self.mapping_path(place, &m, dev, bufs)?,
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
        Some(unique.mappings)
    }

    /// The path maps prints for mapping `m`, read from its `map_files`
    /// link and kept for the other processes that map the file; None when
    /// the link is gone or now leads to another file (the process mapped
    /// something else there since the kernel told of it).
    fn mapping_path(
        &self,
        place: &ProcEntry,
        m: &crate::bpf::MappedFile,
        dev: Dev,
        bufs: &mut Buffers,
    ) -> Option<Box<[u8]>> {
        let link = map_files_link(m.start, m.end);
        place.dir.readlink(&link, &mut bufs.link).ok()?;
        // The file the link leads to now, by the attributes the kernel
        // holds (no call reaches a file server or FUSE daemon). Its inode
        // only: on btrfs stat's device is the subvolume's, not maps'.
        let now = crate::sys::block::stat_cached_at(place.dir.raw(), &link).ok()?;
        if now.st_ino != m.inode {
            return None;
        }
        let shown: Box<[u8]> = as_maps_prints(&bufs.link).into();
        self.mapping_paths.insert(m.path_key, dev, m.inode, &shown);
        Some(shown)
    }
}
