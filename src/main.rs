fn main() {
    // lsof is killed by SIGPIPE when its reader goes away (`lsof | head`
    // exits 141 in a shell); Rust's runtime ignores the signal, so it is
    // given back its default action before anything is written.
    // SAFETY: signal(2) with SIG_DFL, before any other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    std::process::exit(rlsof::app::main_with_args(std::env::args_os().skip(1)));
}
