//! VAE Lab: autoencoders and VAEs on CIFAR-10, trained by one device-generic
//! core natively (command line) or in the browser on WebGPU (wasm).

pub mod checkpoint;
pub mod cifar;
pub mod grid;
pub mod loss;
pub mod model;
pub mod schedule;
pub mod train;

#[cfg(target_arch = "wasm32")]
pub mod web;

pub use burn;

/// Where CIFAR-10 lives: `$VAELAB_DATA` (a folder holding `cifar-10-batches-bin/`
/// and, for tests, `cifar-10-batches-bin-mini/`), else `./data`. The one data setting
/// shared by the command line, the tests and the serve script.
#[cfg(not(target_arch = "wasm32"))]
pub fn data_root() -> std::path::PathBuf {
    std::env::var_os("VAELAB_DATA")
        .map(Into::into)
        .unwrap_or_else(|| "data".into())
}
pub use loss::LossMode;
pub use schedule::BetaSchedule;
pub use train::{TrainConfig, Trainer};
