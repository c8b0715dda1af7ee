//! VAE Lab: autoencoders and VAEs on CIFAR-10, trained by one device-generic
//! core natively (command line) or in the browser on WebGPU (wasm).

// The library's unit tests are native only (each module's `tests` is
// `cfg(all(test, not(target_arch = "wasm32")))`); the browser's tests are
// `wasm-tests/browser.rs`. So `wasm-pack test` compiles no library here for
// its unit-test harness, instead of the whole crate a second time for a wasm
// test binary that runs nothing (BENCHMARKS.md, "CI, cold").
#![cfg(not(all(test, target_arch = "wasm32")))]

pub mod adam;
pub mod bound;
pub mod checkpoint;
pub mod cifar;
pub mod config;
pub mod dataset;
pub mod driver;
pub mod explore;
pub mod grid;
pub mod latent;
pub mod loss;
pub mod memory;
pub mod model;
pub mod net;
pub mod optim;
pub mod record;
pub mod schedule;
pub mod settings;
pub mod train;

#[cfg(target_arch = "wasm32")]
pub mod web;

pub use burn;

#[cfg(not(target_arch = "wasm32"))]
mod data_root;

/// Where CIFAR-10 lives: `$VAELAB_DATA` (a folder holding `cifar-10-batches-bin/`
/// and, for tests, `cifar-10-batches-bin-mini/`); unset, `./data`, or the
/// project's shared `../shared/data` when only that exists. The one data
/// setting shared by the command line, the tests and the scripts.
#[cfg(not(target_arch = "wasm32"))]
pub fn data_root() -> std::path::PathBuf {
    data_root_with(std::env::var_os("VAELAB_DATA"))
}

/// [`data_root`] for a given value of the setting (tests compare it with
/// `scripts/data-root.sh`, the same rule in shell).
#[cfg(not(target_arch = "wasm32"))]
pub fn data_root_with(setting: Option<std::ffi::OsString>) -> std::path::PathBuf {
    data_root::data_root_in(std::path::Path::new(""), setting)
}

/// The exercise's PyTorch parity fixtures: `<data root>/../fixtures/pytorch-parity`.
#[cfg(not(target_arch = "wasm32"))]
pub fn fixtures_dir() -> std::path::PathBuf {
    data_root::fixtures_in(&data_root())
}
