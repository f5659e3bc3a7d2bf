fn main() {
    std::process::exit(rlsof::app::main_with_args(std::env::args_os().skip(1)));
}
