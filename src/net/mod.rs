//! The kernel's socket tables (/proc/net/*, per network namespace), and the
//! names of hosts and services.
//!
//! * [`NetTables`]: sockets by inode, per network namespace, each table read
//!   once on first need through `/proc/PID/net` ([`crate::sys::netns::of_pid`] names the
//!   namespace); UNIX peers from sock_diag for `+E`/`-E`.
//! * Parsers, pure over bytes: [`SocketTable::parse`] and the modules below.
//! * [`Names`]: host and service names as lsof prints them.
//! * Helpers for printing and `-i` selection: [`is_wildcard`],
//!   [`lsof_endpoints`].

pub(crate) mod addr;
pub(crate) mod address_names;
pub(crate) mod diag;
pub(crate) mod inet;
pub(crate) mod inet_diag;
pub(crate) mod link;
pub(crate) mod netlink;
pub(crate) mod parse;
pub(crate) mod raw_socket;
pub(crate) mod resolve;
pub(crate) mod store;
pub(crate) mod tables;
pub(crate) mod unix;

pub(crate) use addr::lsof_endpoints;
pub(crate) use address_names::Names;
pub(crate) use tables::{NetTables, SocketTable};

#[cfg(test)]
mod live_tests;
