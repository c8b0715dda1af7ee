//! `vaelab bench`: training throughput on synthetic images (the arithmetic
//! does not depend on pixel values), AE and VAE, after warm-up steps.

use std::time::Instant;

use vaelab::cifar::{CifarImages, IMAGE_BYTES, RECORD_BYTES};
use vaelab::{config::TrainConfig, loss::LossMode, train::Trainer};

use super::DeviceArgs;

#[derive(clap::Args)]
pub struct BenchArgs {
    #[arg(long = "latent_size", default_value_t = 128)]
    latent_size: usize,
    #[arg(long = "batch_size", default_value_t = 256)]
    batch_size: usize,
    /// Timed steps per model.
    #[arg(long, default_value_t = 10)]
    steps: usize,
    /// Untimed steps first (kernel compilation, allocator warm-up).
    #[arg(long, default_value_t = 2)]
    warmup: usize,
    #[command(flatten)]
    device: DeviceArgs,
}

pub fn run(args: BenchArgs) -> Result<(), String> {
    let device = args.device.init()?;
    let n = args.batch_size * (args.steps + args.warmup);
    let mut bytes = Vec::with_capacity(n * RECORD_BYTES);
    let mut state = 12345u32;
    for i in 0..n {
        bytes.push((i % 10) as u8);
        for _ in 0..IMAGE_BYTES {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            bytes.push((state >> 24) as u8);
        }
    }
    let images = CifarImages::parse("synthetic", &bytes).map_err(|e| e.to_string())?;
    println!(
        "device {:?}, latent {}, batch {}, {} timed steps after {} warm-up",
        args.device.device, args.latent_size, args.batch_size, args.steps, args.warmup
    );
    for mode in [LossMode::Ae, LossMode::Vae] {
        let config = TrainConfig {
            loss_mode: mode,
            latent_size: args.latent_size,
            batch_size: args.batch_size,
            num_epochs: 1,
            ..Default::default()
        };
        let mut trainer = Trainer::new(config, &device).map_err(|e| e.to_string())?;
        // Always the same batch: the data path is not what is measured here.
        let batch: Vec<usize> = (0..args.batch_size).map(|i| i % images.len()).collect();
        for _ in 0..args.warmup {
            trainer
                .train_step(&images, &batch)
                .map_err(|e| e.to_string())?;
        }
        pollster::block_on(trainer.flush_metrics()).map_err(|e| e.to_string())?;
        let start = Instant::now();
        for _ in 0..args.steps {
            trainer
                .train_step(&images, &batch)
                .map_err(|e| e.to_string())?;
        }
        // One read waits for every queued step on asynchronous devices.
        pollster::block_on(trainer.flush_metrics()).map_err(|e| e.to_string())?;
        let secs = start.elapsed().as_secs_f64();
        let images_per_s = (args.steps * args.batch_size) as f64 / secs;
        println!(
            "{:<3}  {:8.1} images/s  {:7.1} ms/step",
            mode.name(),
            images_per_s,
            1000.0 * secs / args.steps as f64
        );
    }
    Ok(())
}
