//! The kernel's socket tables (/proc/net/*, per network namespace), and the
//! names of hosts and services.
