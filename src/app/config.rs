//! The one configuration a run derives from its options and selection,
//! built once here: what the scan must learn (`ScanConfig`), where socket
//! descriptions may come from, how the allocator is set up. Below `app`
//! nothing looks at `Options` to decide these again, nor at the
//! environment (see `crate::knobs`).

use std::sync::Arc;

use crate::cli::options::{Options, Output};
use crate::run::AllocatorUse;
use crate::scan::exempt::ExemptPath;
use crate::scan::{FdWanted, ScanConfig};
use crate::select::Selection;
use crate::sys::block::BlockGuard;

/// See the module's documentation.
pub(super) struct Config {
    pub scan: ScanConfig,
    /// The output is written process by process, holding nothing (field
    /// output and JSON): socket tables may then be read in batches, or
    /// not at all (see `crate::scan::socket_source`).
    pub streaming: bool,
    /// Scanning threads, the calling one included.
    pub threads: usize,
}

impl Config {
    pub(super) fn new(
        opts: &Options,
        selection: &Arc<Selection>,
        guard: Arc<BlockGuard>,
        exempt: Vec<ExemptPath>,
    ) -> Config {
        let streaming = matches!(
            opts.output,
            Output::Fields { .. } | Output::Json | Output::JsonLines
        );
        let early = Arc::clone(selection);
        let scan = ScanConfig {
            warnings: !opts.no_warnings,
            offsets: opts.offset.is_some() || !matches!(opts.output, Output::Table | Output::Terse),
            file_flags: opts.file_flags.is_some(),
            list_tasks: selection.lists_tasks(),
            and_tasks: opts.and && selection.lists_tasks(),
            // Threads may reuse their leader's rows, so only skip early when
            // no thread is listed.
            fd_wanted: (!selection.lists_tasks())
                .then(|| FdWanted(Arc::new(move |flags, fd| early.fd_may_be_listed(flags, fd)))),
            guard: Some(guard),
            exempt,
            sockets_only_unless: selection.sockets_only_unless(),
            listing_filter: selection.listing_filter(),
            endpoints: opts.endpoints.is_some(),
            skip_tcp_udp: opts.skip_tcp_udp,
            terse: terse_scan(opts, selection),
            ..Default::default()
        };
        Config {
            scan,
            streaming,
            threads: crate::sys::cpus(),
        }
    }
}

/// Decided before anything else (before any thread starts): the long-
/// running views and reports stream too, so memory stays flat over cycles.
pub(super) fn allocator_use(opts: &Options) -> AllocatorUse {
    let streams = !matches!(opts.output, Output::Table);
    if streams || opts.feature.is_some() {
        AllocatorUse::Streaming
    } else {
        AllocatorUse::Table
    }
}

/// Whether the listing shows only which processes have a selected file
/// (`-t`) and no selection looks at what the tables of sockets say (`-i`,
/// `-U`, `-s`, socket paths named as files, `+E`): see `ScanConfig::terse`.
fn terse_scan(opts: &Options, selection: &Selection) -> bool {
    let sockets_looked_at = opts.inet_selected
        || !opts.inet.is_empty()
        || opts.unix_sockets
        || !opts.states.is_empty()
        || opts.endpoints.is_some()
        || !selection.names.is_empty();
    opts.output == Output::Terse && !sockets_looked_at
}
