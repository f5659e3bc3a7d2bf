//! What the scan may ask the kernel directly, through the BPF iterators
//! of [`crate::bpf`], instead of reading `/proc` file by file: whether it
//! may ask at all, and each process's descriptors with their positions and
//! flags (fdinfo's first lines, for `-F`, `-o`, JSON and `+f`).

use std::sync::atomic::Ordering;

use super::Scanner;

/// Loading the descriptors program (reading the kernel's BTF, the
/// verifier) costs as much as reading a few thousand fdinfo files: a
/// listing asks the kernel only once it has read that many, so that
/// `rlsof -F -p PID` of a small process does not pay for it.
const FDINFO_READS_BEFORE_ASKING: usize = 2000;

/// The same for the listing program: asked once a listing has read this
/// many descriptors from `/proc` (unless [`crate::knobs::KERNEL_LISTING`]
/// or an earlier question loaded it already).
const DESCRIPTORS_BEFORE_LISTING: usize = 2000;

/// The same for the kernel's listing of mappings: asked once a listing
/// has read this many maps files (unless the listing program or
/// [`crate::knobs::KERNEL_LISTING`] made the choice for the kernel).
const MAPS_BEFORE_MAPPINGS: usize = 64;

/// Whether a listing of `proc_root` takes its descriptors from the kernel
/// (see [`Scanner::kernel_listing_of`]): as root, on the machine's
/// `/proc`, unless refused ([`crate::knobs::NO_BPF`]), where the program
/// loads. Decided once a run (the program is loaded once, with the run's
/// `filter`).
pub(crate) fn kernel_lists_descriptors(
    proc_root: &std::path::Path,
    filter: crate::bpf::ListingFilter,
) -> bool {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    root && proc_root == std::path::Path::new("/proc")
        && !crate::knobs::knobs().no_bpf
        && crate::bpf::ListingProgram::shared(filter).is_some()
}

impl Scanner {
    /// Whether the kernel may be asked (`crate::bpf`): as root, on the
    /// machine's /proc, unless refused through [`crate::knobs::NO_BPF`]. (Whether it can
    /// answer is found by asking.)
    pub(super) fn kernel_can_be_asked(&self) -> bool {
        // SAFETY: geteuid has no preconditions.
        let root = unsafe { libc::geteuid() } == 0;
        let asked = root && self.on_machine_unrefused();
        if !asked {
            let why = if root {
                "RLSOF_NO_BPF, or not this machine's /proc"
            } else {
                "not root"
            };
            crate::bpf::debug::say_once(format_args!(
                "the kernel is not asked: {why}; /proc answers"
            ));
        }
        asked
    }

    /// Whether the proc root is this machine's /proc and [`crate::knobs::NO_BPF`] is not
    /// set: what rlsof does beyond reading `/proc` as lsof does is allowed.
    pub(super) fn on_machine_unrefused(&self) -> bool {
        let machine_proc = self.on_procfs && self.cfg.proc_root == std::path::Path::new("/proc");
        let refused = crate::knobs::knobs().no_bpf;
        machine_proc && !refused
    }

    /// Each descriptor of process `pid`'s own table with its position and
    /// open flags, as the kernel holds them (see [`crate::bpf::FilesProgram`]);
    /// None when the kernel cannot be asked, or not yet worth asking.
    pub(super) fn kernel_files_of(&self, pid: i32) -> Option<Vec<crate::bpf::KernelFile>> {
        let worth_it = self.fdinfo_reads.load(Ordering::Relaxed) >= FDINFO_READS_BEFORE_ASKING;
        if !worth_it && self.kernel_files.get().is_none() {
            return None;
        }
        self.kernel_files
            .get_or_init(|| {
                self.kernel_can_be_asked()
                    .then(crate::bpf::FilesProgram::load)
                    .flatten()
            })
            .as_ref()?
            .files_of(pid)
    }

    /// Each descriptor of process `pid`'s own table with what readlink,
    /// stat and fdinfo would tell of it, as the kernel's listing tells it
    /// (see [`crate::bpf::ListingProgram`]); None when the kernel cannot
    /// be asked, or could not answer for this process.
    pub(crate) fn kernel_listing_of(&self, pid: i32) -> Option<Vec<crate::bpf::ListedFile>> {
        let worth_it = crate::knobs::knobs().kernel_listing
            || crate::bpf::ListingProgram::asked()
            || self.descriptors_read.load(Ordering::Relaxed) >= DESCRIPTORS_BEFORE_LISTING;
        if !worth_it && self.kernel_listing.get().is_none() {
            return None;
        }
        self.kernel_listing
            .get_or_init(|| {
                self.kernel_can_be_asked()
                    .then(|| crate::bpf::ListingProgram::shared(self.cfg.listing_filter))
                    .flatten()
            })
            .as_ref()?
            .files_of(pid)
    }

    /// Each file process `pid` maps, and its working directory, root and
    /// executable, as the kernel holds them (see
    /// [`crate::bpf::MappingsProgram`]); None when the kernel cannot be
    /// asked, not yet worth asking, or could not answer for this process.
    pub(super) fn kernel_process_files_of(&self, pid: i32) -> Option<crate::bpf::ProcessFiles> {
        let worth_it = crate::knobs::knobs().kernel_listing
            || crate::bpf::ListingProgram::asked()
            || self.maps_read.load(Ordering::Relaxed) >= MAPS_BEFORE_MAPPINGS;
        if !worth_it && self.kernel_mappings.get().is_none() {
            return None;
        }
        self.kernel_mappings
            .get_or_init(|| {
                self.kernel_can_be_asked()
                    .then(crate::bpf::MappingsProgram::shared)
                    .flatten()
            })
            .as_ref()?
            .files_of(pid)
    }

    /// Counts a maps file read that the kernel could have spared.
    pub(super) fn count_maps_read(&self) {
        self.maps_read.fetch_add(1, Ordering::Relaxed);
    }

    /// Whether a file on a FUSE mount (`path`) is described from the
    /// attributes the kernel caches, as the kernel listing describes such
    /// descriptors (DIVERGENCES.md #23): where that listing runs.
    pub(super) fn cached_attributes_for(&self, path: &[u8]) -> bool {
        self.guard.on_fuse(path)
            && self.on_machine_unrefused()
            && kernel_lists_descriptors(&self.cfg.proc_root, self.cfg.listing_filter)
    }

    /// Counts descriptors read from `/proc` that the kernel listing could
    /// have told.
    pub(super) fn count_descriptors_read(&self, n: usize) {
        self.descriptors_read.fetch_add(n, Ordering::Relaxed);
    }

    /// Counts an fdinfo read the kernel could have spared.
    pub(super) fn count_fdinfo_read(&self) {
        self.fdinfo_reads.fetch_add(1, Ordering::Relaxed);
    }
}
