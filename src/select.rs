//! lsof's selection rules: which processes and files are listed.
