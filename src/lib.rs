//! rlsof: lsof for Linux. See DESIGN in the repository for the data flow:
//! cli → scan → select → print.

pub mod app;
pub mod bpf;
pub mod build_info;
pub mod cli;
pub mod deleted;
pub mod escape;
pub mod fleet;
pub mod knobs;
pub mod live;
pub mod model;
pub mod names;
pub mod net;
pub mod print;
pub mod repeat;
pub mod run;
pub mod scan;
pub mod select;
pub mod sys;
#[cfg(test)]
mod test_io;
pub mod users;
