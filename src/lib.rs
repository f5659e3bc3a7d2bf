//! rlsof: lsof for Linux. docs/ARCHITECTURE.md describes the data flow
//! (argv → options → one derived configuration → scan → select → print)
//! and which module may use which.

#![warn(unreachable_pub)]

pub mod app;
#[cfg(test)]
mod architecture_tests;
pub mod bpf;
pub(crate) mod build_info;
pub mod cli;
pub mod deleted;
pub(crate) mod escape;
pub(crate) mod fleet;
pub(crate) mod knobs;
pub(crate) mod live;
pub mod model;
pub(crate) mod net;
pub mod print;
pub(crate) mod repeat;
pub(crate) mod run;
pub mod scan;
pub mod select;
pub(crate) mod sys;
pub(crate) mod system_names;
#[cfg(test)]
mod test_io;
#[cfg(test)]
mod test_need;
pub(crate) mod users;
