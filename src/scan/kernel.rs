//! What the scan may ask the kernel directly, through the BPF iterators
//! of [`crate::bpf`], instead of reading `/proc` file by file: whether it
//! may ask at all, and each process's descriptors with their positions and
//! flags (fdinfo's first lines, for `-F`, `-o`, JSON and `+f`).

use super::Scanner;

/// Set (non-empty) in the environment, rlsof loads no BPF program and
/// reads everything from `/proc` instead.
pub const NO_BPF: &str = "RLSOF_NO_BPF";

impl Scanner {
    /// Whether the kernel may be asked (`crate::bpf`): as root, on the
    /// machine's /proc, unless refused through [`NO_BPF`]. (Whether it can
    /// answer is found by asking.)
    pub(super) fn kernel_can_be_asked(&self) -> bool {
        let machine_proc = self.on_procfs && self.cfg.proc_root == std::path::Path::new("/proc");
        // SAFETY: geteuid has no preconditions.
        let root = unsafe { libc::geteuid() } == 0;
        let refused = std::env::var_os(NO_BPF).is_some_and(|v| !v.is_empty());
        machine_proc && root && !refused
    }

    /// Each descriptor of process `pid`'s own table with its position and
    /// open flags, as the kernel holds them (see [`crate::bpf::FilesProgram`]);
    /// None when the kernel cannot be asked.
    pub(super) fn kernel_files_of(&self, pid: i32) -> Option<Vec<crate::bpf::KernelFile>> {
        self.kernel_files
            .get_or_init(|| {
                self.kernel_can_be_asked()
                    .then(crate::bpf::FilesProgram::load)
                    .flatten()
            })
            .as_ref()?
            .files_of(pid)
    }
}
