//! rlsof: lsof for Linux. See DESIGN in the repository for the data flow:
//! cli → scan → select → print.

pub mod cli;
pub mod deleted;
pub mod model;
pub mod net;
pub mod print;
pub mod run;
pub mod scan;
pub mod select;
pub mod users;
