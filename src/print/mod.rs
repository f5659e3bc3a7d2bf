//! Turning typed records into bytes: table, -F fields, -t, JSON.
