//! Reading /proc into typed records, one process at a time.
