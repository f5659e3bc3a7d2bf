//! rlsof: lsof for Linux. docs/ARCHITECTURE.md describes the data flow
//! (argv → options → one derived configuration → scan → select → print)
//! and which module may use which.

pub mod app;
#[cfg(test)]
mod architecture_tests;
pub mod bpf;
pub mod build_info;
pub mod cli;
pub mod deleted;
pub mod escape;
pub mod fleet;
pub mod knobs;
pub mod live;
pub mod model;
pub mod net;
pub mod print;
pub mod repeat;
pub mod run;
pub mod scan;
pub mod select;
pub mod sys;
pub mod system_names;
#[cfg(test)]
mod test_io;
pub mod users;
