//! The native shell around the training core: flags, files, progress, PNGs.

mod artifacts;
mod bench;
mod data;
mod plot;
mod resume;
mod settings;
mod train;

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use vaelab::burn::tensor::Device;

#[derive(Parser)]
#[command(
    name = "vaelab",
    version,
    about = "Train AEs and VAEs on CIFAR-10 (the exercise's train.py, in Rust)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train one run of the exercise and write its artefacts into --log_dir.
    Train(train::TrainArgs),
    /// Report a saved model's test losses.
    Eval(EvalArgs),
    /// Measure training throughput (images/s) for the AE and the VAE.
    Bench(bench::BenchArgs),
}

#[derive(clap::Args)]
struct EvalArgs {
    /// A model.safetensors written by `train` (or by the exercise's PyTorch code).
    #[arg(long)]
    model: PathBuf,
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    device: DeviceArgs,
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

#[derive(clap::Args, Clone)]
pub struct DataArgs {
    /// A folder of CIFAR-10 `.bin` files, or the official cifar-10-binary.tar.gz
    /// [default: $VAELAB_DATA/cifar-10-batches-bin, VAELAB_DATA defaulting to ./data]
    #[arg(long)]
    pub data: Option<PathBuf>,
}

#[derive(Copy, Clone, Debug, ValueEnum)]
pub enum DeviceKind {
    /// Burn's pure-Rust CPU backend (threads + SIMD).
    Flex,
    /// wgpu: Vulkan, Metal or DX12 (build with `--features wgpu`).
    Wgpu,
}

#[derive(clap::Args, Clone)]
pub struct DeviceArgs {
    #[arg(long, value_enum, default_value = "flex")]
    pub device: DeviceKind,
}

impl DataArgs {
    pub fn path(&self) -> PathBuf {
        self.data
            .clone()
            .unwrap_or_else(|| vaelab::data_root().join(vaelab::cifar::FULL_DIR))
    }
}

impl DeviceArgs {
    pub fn init(&self) -> Result<Device, String> {
        match self.device {
            DeviceKind::Flex => Ok(Device::flex()),
            #[cfg(feature = "wgpu")]
            DeviceKind::Wgpu => Device::wgpu_options()
                .init()
                .map_err(|e| format!("cannot start the wgpu device: {e}")),
            #[cfg(not(feature = "wgpu"))]
            DeviceKind::Wgpu => Err(
                "this vaelab was built without wgpu; rebuild with `cargo build --release --features wgpu`".into(),
            ),
        }
    }
}

pub fn run() -> Result<(), String> {
    match Cli::parse().command {
        Command::Train(args) => train::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Eval(args) => eval(args),
    }
}

fn eval(args: EvalArgs) -> Result<(), String> {
    let bytes = std::fs::read(&args.model)
        .map_err(|e| format!("cannot read model {}: {e}", args.model.display()))?;
    // The model first: a bad file is named before the data is read.
    let device = args.device.init()?;
    let (net, mode, latent) = vaelab::net::Net::from_safetensors(&bytes, &device)
        .map_err(|e| format!("{}: {e}", args.model.display()))?;
    let data = data::load(&args.data.path())?;
    let config = vaelab::config::TrainConfig {
        loss_mode: mode,
        latent_size: latent,
        seed: args.seed,
        ..Default::default()
    };
    let mut trainer = vaelab::train::Trainer::new(config, &device).map_err(|e| e.to_string())?;
    trainer.load(&bytes).map_err(|e| e.to_string())?;
    let m = pollster::block_on(trainer.evaluate(&data.test)).map_err(|e| e.to_string())?;
    println!(
        "{} latent {latent} ({} parameters) on {} test images: recon {:.3}  kl {:.3}  total {:.3}",
        mode.name(),
        net.num_params(),
        data.test.len(),
        m.recon,
        m.kl,
        m.total
    );
    Ok(())
}
