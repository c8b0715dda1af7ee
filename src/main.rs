//! `vaelab`: the exercise's `train.py` on the command line, plus `eval` and `bench`.

mod cli;

fn main() {
    if let Err(e) = cli::run() {
        eprintln!("error: {e}");
        std::process::exit(2);
    }
}
