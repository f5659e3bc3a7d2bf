//! Which descriptors the kernel's listing may leave in the kernel, for
//! given command lines: only where every listed file must earn that
//! selection itself.

use super::Selection;
use crate::scan::ListingFilter;

fn filter_of(args: &[&str]) -> ListingFilter {
    let opts = crate::cli::parse(args.iter().map(std::ffi::OsString::from)).expect("valid");
    assert!(
        opts.users.is_empty(),
        "no -u here: users are resolved by the caller"
    );
    Selection::new(&opts, Vec::new()).listing_filter()
}

#[test]
fn a_selection_given_alone_or_with_a_filters() {
    let links = ListingFilter {
        nlink_below: Some(1),
        ..Default::default()
    };
    assert_eq!(filter_of(&["+L1"]), links);
    assert_eq!(filter_of(&["+L", "3"]).nlink_below, Some(3));
    assert_eq!(filter_of(&["-a", "+L1", "-p", "1"]).nlink_below, Some(1));
    assert_eq!(filter_of(&["-d", "0-2"]).fds, Some((0, 2)));
    assert_eq!(filter_of(&["-d", "4,1-2,9"]).fds, Some((1, 9)));
    assert_eq!(
        filter_of(&["-d", "cwd,txt"]).fds,
        Some((1, 0)),
        "no descriptor"
    );
    let both = filter_of(&["-a", "-d", "3", "+L1"]);
    assert_eq!((both.fds, both.nlink_below), (Some((3, 3)), Some(1)));
    assert!(filter_of(&["-i"]).sockets_only);
    assert!(filter_of(&["-U"]).sockets_only);
    assert!(filter_of(&["-a", "-i", "-p", "1"]).sockets_only);
}

#[test]
fn nothing_is_left_aside_where_another_selection_may_list_a_file() {
    let cases: &[&[&str]] = &[
        &[],
        &["+L"],
        &["+L1", "-p", "1"],
        &["+L1", "-d", "3"],
        &["+L1", "-i"],
        &["-d", "^1"],
        &["-d", "0-2", "-c", "sh"],
        &["-i", "-p", "1"],
        &["-K", "+L1"],
        // A file that credits a search item (a name, -i) is read even
        // when -a keeps it out of the listing: the exit status tells.
        &["-a", "+L1", "/tmp"],
    ];
    for args in cases {
        assert_eq!(filter_of(args), ListingFilter::default(), "{args:?}");
    }
    // Only sockets can be listed, but which: every socket is read.
    let network = filter_of(&["-a", "-d", "3", "-i", ":80"]);
    assert_eq!((network.sockets_only, network.fds), (true, None));
}
