//! The kernel's socket tables (/proc/net/*, per network namespace), and the
//! names of hosts and services.
//!
//! * [`NetTables`]: sockets by inode, per network namespace, each table read
//!   once on first need through `/proc/PID/net` ([`crate::sys::netns::of_pid`] names the
//!   namespace); UNIX peers from sock_diag for `+E`/`-E`.
//! * Parsers, pure over bytes: [`SocketTable::parse`] and the modules below.
//! * [`Names`]: host and service names as lsof prints them.
//! * Helpers for printing and `-i` selection: [`is_wildcard`],
//!   [`lsof_endpoints`], [`lsof_raw_name`].

pub mod addr;
pub mod address_names;
pub mod diag;
pub mod inet;
pub mod inet_diag;
pub mod link;
pub mod netlink;
pub mod parse;
pub mod raw_socket;
pub mod resolve;
pub mod store;
pub mod tables;
pub mod unix;

pub use addr::{is_v4_mapped, is_wildcard, lsof_endpoints};
pub use address_names::{numeric_host, Names};
pub use inet::{kernel_hex, lsof_raw_name};
pub use tables::{NetTables, SocketTable};

#[cfg(test)]
mod live_tests;
