//! `vaelab`: the exercise's `train.py` on the command line, plus `eval` and `bench`.

#[cfg(not(target_arch = "wasm32"))]
mod cli;

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    if let Err(e) = cli::run() {
        eprintln!("error: {e}");
        std::process::exit(2);
    }
}

/// The command line is native only; in a browser the page drives `web.rs`.
#[cfg(target_arch = "wasm32")]
fn main() {}
