//! `vaelab`: the exercise's `train.py` on the command line, plus `eval` and `bench`.

#[cfg(not(target_arch = "wasm32"))]
mod cli;

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    keep_freed_memory();
    if let Err(e) = cli::run() {
        eprintln!("error: {e}");
        std::process::exit(2);
    }
}

/// Keeps freed tensor memory in the process instead of handing it back.
///
/// glibc returns every block above its mmap threshold to the kernel when it
/// is freed, and the `flex` device frees and reallocates its activations and
/// gradients every step: each new block then page-faults and is zero-filled
/// by the kernel on first touch (a `perf` profile of a step spent 26 % of its
/// time in the kernel). Raising the threshold to glibc's maximum (32 MiB) and
/// keeping the heap's top makes AE/VAE training about 70 % faster on a quiet
/// machine (BENCHMARKS.md, issue 10); mimalloc gained nothing. Memory stays
/// at its peak, which training reaches anyway. Other C libraries: nothing.
#[cfg(not(target_arch = "wasm32"))]
fn keep_freed_memory() {
    // SAFETY: mallopt only tunes glibc's allocator; called before any thread
    // starts. A rejected value leaves glibc's default, which is harmless.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
        libc::mallopt(libc::M_TOP_PAD, 256 << 20);
    }
}

/// The command line is native only; in a browser the page drives `web.rs`.
#[cfg(target_arch = "wasm32")]
fn main() {}
