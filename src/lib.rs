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
pub use loss::LossMode;
pub use schedule::BetaSchedule;
pub use train::{TrainConfig, Trainer};
