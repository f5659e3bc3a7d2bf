//! rlsof's integration tests, one crate: the harness (`common`) is a plain
//! module every test uses, and one build links them all.
//!
//! `differential` compares rlsof with /usr/bin/lsof 4.95 byte for byte; the
//! other modules test what rlsof adds (deleted files, the fleet view, the
//! live views, JSON, the manual page, completions) or what it must never do
//! (hang on a dead FUSE daemon, pay more system calls per file). Tests that
//! change what a listing of the whole machine shows hold
//! `common::machine::alone()` (see there). tests/README.md has the map.

mod common;
mod completions;
mod deleted;
mod differential;
mod fake_proc;
mod fleet;
mod fuse;
mod harness;
mod json;
mod kernel_listing;
mod kernel_mappings;
mod live;
mod manual;
mod netns;
mod process_shapes;
mod syscalls;
mod udp_states;
