fn main() {
    // lsof is killed by SIGPIPE when its reader goes away (`lsof | head`
    // exits 141 in a shell); Rust's runtime ignores the signal, so it is
    // given back its default action before anything is written.
    // SAFETY: signal(2) with SIG_DFL, before any other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let mut args = std::env::args_os();
    if let Some(argv0) = args.next() {
        rlsof::cli::PROGRAM.set_from_argv0(&argv0);
    }
    std::process::exit(rlsof::app::main_with_args(args));
}
