//! lsof's command-line grammar, turned into typed `Options` without I/O.

pub mod options;

pub use options::Options;
