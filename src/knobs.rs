//! The environment variables rlsof reads, all of them, read once: the
//! program decides from [`Knobs`], never from the environment deep in a
//! scan. `app` reads them first thing (and tells them under
//! `RLSOF_DEBUG=1`); library code and unit tests that run without `app`
//! read the same values on first use.
//!
//! lsof's own variables (`LSOFDEVCACHE`...) do not apply: rlsof keeps no
//! device cache.

use std::path::PathBuf;
use std::sync::OnceLock;

/// Set (non-empty): no BPF program is loaded; everything comes from
/// `/proc`, as when not root.
pub(crate) const NO_BPF: &str = "RLSOF_NO_BPF";
/// Set (non-empty): rlsof tells of its choices on standard error, each
/// line starting "rlsof: debug: ".
pub(crate) const DEBUG: &str = "RLSOF_DEBUG";
/// A BTF file read instead of the running kernel's (a copy, for tests
/// that damage one member to see a program fall back).
pub(crate) const BTF: &str = "RLSOF_BTF";
/// Set (non-empty): streaming listings read socket tables (in batches)
/// even where the kernel could describe the sockets; for tests of the
/// path taken where the program cannot load.
pub(crate) const SOCKET_TABLES: &str = "RLSOF_SOCKET_TABLES";
/// Sockets per batch when socket tables are read in batches (tests make
/// a small fixture need several batches).
pub(crate) const SOCKET_BATCH: &str = "RLSOF_SOCKET_BATCH";
/// Set (non-empty): as root, the kernel lists each process's descriptors
/// from the first (by default it is asked once a listing has read enough
/// from `/proc` to be worth loading it); for tests of that path on small
/// fixtures.
pub(crate) const KERNEL_LISTING: &str = "RLSOF_KERNEL_LISTING";
/// `--top`'s refresh interval in milliseconds, below `-r`'s whole
/// seconds (tests and benchmarks).
pub(crate) const TOP_INTERVAL_MS: &str = "RLSOF_TOP_INTERVAL_MS";

/// What the environment asks of this run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Knobs {
    pub no_bpf: bool,
    pub debug: bool,
    pub btf: Option<PathBuf>,
    pub socket_tables: bool,
    pub kernel_listing: bool,
    /// Set: Some(size), None when not a number (no batches then).
    pub socket_batch: Option<Option<usize>>,
    pub top_interval_ms: Option<u64>,
}

impl Knobs {
    /// The knobs `var` gives (the environment's, in [`knobs`]).
    pub(crate) fn from(var: impl Fn(&str) -> Option<std::ffi::OsString>) -> Knobs {
        let set = |name| var(name).is_some_and(|v| !v.is_empty());
        let text = |name| var(name).and_then(|v| v.into_string().ok());
        Knobs {
            no_bpf: set(NO_BPF),
            debug: set(DEBUG),
            btf: var(BTF).filter(|v| !v.is_empty()).map(PathBuf::from),
            socket_tables: set(SOCKET_TABLES),
            kernel_listing: set(KERNEL_LISTING),
            socket_batch: text(SOCKET_BATCH).map(|v| v.parse().ok()),
            top_interval_ms: text(TOP_INTERVAL_MS).and_then(|v| v.parse().ok()),
        }
    }

    /// The knobs set, as `NAME=value` words for `RLSOF_DEBUG`.
    pub(crate) fn describe(&self) -> String {
        let mut said = Vec::new();
        let mut say = |name: &str, on: bool, value: String| {
            if on {
                said.push(format!("{name}={value}"));
            }
        };
        say(NO_BPF, self.no_bpf, "1".into());
        say(SOCKET_TABLES, self.socket_tables, "1".into());
        say(KERNEL_LISTING, self.kernel_listing, "1".into());
        if let Some(btf) = &self.btf {
            say(BTF, true, btf.display().to_string());
        }
        if let Some(batch) = self.socket_batch {
            say(
                SOCKET_BATCH,
                true,
                batch.map_or("(not a number)".into(), |b| b.to_string()),
            );
        }
        if let Some(ms) = self.top_interval_ms {
            say(TOP_INTERVAL_MS, true, ms.to_string());
        }
        if said.is_empty() {
            "none".into()
        } else {
            said.join(" ")
        }
    }
}

/// This process's knobs, read from the environment on first use.
pub(crate) fn knobs() -> &'static Knobs {
    static KNOBS: OnceLock<Knobs> = OnceLock::new();
    KNOBS.get_or_init(|| Knobs::from(|name| std::env::var_os(name)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;

    fn knobs_of(vars: &[(&str, &str)]) -> Knobs {
        Knobs::from(|name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| OsString::from(v))
        })
    }

    #[test]
    fn empty_means_unset() {
        assert_eq!(knobs_of(&[(NO_BPF, ""), (BTF, "")]), Knobs::default());
        assert_eq!(knobs_of(&[]).describe(), "none");
    }

    #[test]
    fn values_are_typed() {
        let k = knobs_of(&[
            (NO_BPF, "1"),
            (SOCKET_BATCH, "40"),
            (TOP_INTERVAL_MS, "250"),
            (BTF, "/x/btf"),
        ]);
        assert!(k.no_bpf && !k.debug && !k.socket_tables);
        assert_eq!(k.socket_batch, Some(Some(40)));
        assert_eq!(k.top_interval_ms, Some(250));
        assert_eq!(k.btf, Some(PathBuf::from("/x/btf")));
        assert_eq!(
            k.describe(),
            "RLSOF_NO_BPF=1 RLSOF_BTF=/x/btf RLSOF_SOCKET_BATCH=40 RLSOF_TOP_INTERVAL_MS=250"
        );
        assert_eq!(knobs_of(&[(SOCKET_BATCH, "x")]).socket_batch, Some(None));
    }
}
