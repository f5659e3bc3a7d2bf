//! What a unit test needs of the machine: outside CI a test that cannot
//! do its job says so and passes; under CI (`CI` set) it fails, so that a
//! check never silently stops checking where it is meant to run.

/// Ends the test: skipped outside CI, failed under it.
pub(crate) fn cannot_run(why: &str) {
    if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
        panic!("cannot run under CI: {why}");
    }
    eprintln!("skipped: {why}");
}

/// BPF program `name` (as `RLSOF_DEBUG` names it) did not load. In the
/// kernel matrix `RLSOF_EXPECT_PROGRAMS` lists the programs each kernel
/// must load: a missing one fails, another is skipped. Elsewhere, as root
/// under CI, every program must load.
pub(crate) fn program_did_not_load(name: &str) {
    let why = format!("{name} did not load here");
    match std::env::var("RLSOF_EXPECT_PROGRAMS") {
        Ok(expected) if expected.split_whitespace().any(|p| p == name) => {
            panic!("{why}, though this kernel is expected to load it")
        }
        Ok(_) => eprintln!("skipped: {why} (not expected on this kernel)"),
        // SAFETY: geteuid has no preconditions.
        Err(_) if unsafe { libc::geteuid() } == 0 => cannot_run(&why),
        Err(_) => eprintln!("skipped: {why} (not root)"),
    }
}
