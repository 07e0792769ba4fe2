fn main() {
    std::process::exit(whitelabel::cli::main());
}
