//! Command-line errors that depend on names (logins, services): lsof meets
//! them in argument order while it parses, looking each name up at once.

use crate::common::{assert_same_as_lsof, require_lsof};

fn compare(args: &[&str]) {
    if require_lsof() {
        assert_same_as_lsof(args);
    }
}

#[test]
fn u_uid_included_and_excluded_through_a_login_name() {
    // lsof: the message twice, for `^root` and for `^0`.
    compare(&["-u", "0,^root,^0"]);
    compare(&["-u", "0,^nosuchlogin,^0"]);
    compare(&["-u", "root,0,^0"]);
    compare(&["-u", "0,^0"]);
}

#[test]
fn i_unknown_service_before_a_bad_list_item() {
    compare(&["-i", ":a,,b"]);
    compare(&["-i", ":1-a,,"]);
    compare(&["-i", ":a,1x"]);
    compare(&["-i", "UDP:a,,"]);
    // A known service: the list error itself.
    compare(&["-i", ":ssh,,b"]);
    compare(&["-i", ":1,,a"]);
}

#[test]
fn u_long_login_name_cut_at_a_whole_escape() {
    // lsof pads the cut name to its length when ^A does not fit.
    let name = format!("{}\u{1}", "a".repeat(32));
    compare(&["-u", &name]);
    compare(&["-u", &format!("^{}", "a".repeat(33))]);
}
