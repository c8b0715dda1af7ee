//! The memory a run needs, estimated from its settings before it starts, so
//! that a run too big for its device is refused with the numbers instead of
//! aborting the engine (wasm32's 4 GiB, a WebGPU buffer limit) and aborting
//! again when it is restarted.

use crate::config::TrainConfig;
use crate::loss::LossMode;
use crate::model::FEATURES;

/// Floats one image's pass writes, layer by layer: the input, the encoder's
/// four convolutions (32×32×32, 64×16×16, 128×8×8, 256×4×4), the decoder's
/// dense layer (256×4×4), its three transposed convolutions and its output.
/// The latent code is left out: at most 8,192 floats against 129,024.
const FLOATS_PER_IMAGE: u64 = 3 * 1024
    + 32 * 1024
    + 64 * 256
    + 128 * 64
    + 256 * 16
    + 256 * 16
    + 128 * 64
    + 64 * 256
    + 32 * 1024
    + 3 * 1024;

/// Copies of each layer's output a training step holds at its peak: the
/// output, its ReLU and the gradient flowing back. Measured on the CPU
/// device (VAE-1024, batch 256 to 1,000): 1.32 to 1.48 MB an image, against
/// the 1.55 MB these three copies make (BENCHMARKS.md, "Memory a run needs").
const TRAINING_COPIES: u64 = 3;
/// An evaluation pass keeps the output and its ReLU, for `EVAL_IMAGES` at once.
const EVALUATION_COPIES: u64 = 2;
const EVAL_IMAGES: u64 = crate::train::EVAL_BATCH as u64;
/// Weights, their gradients and Adam's two moments.
const PARAMETER_COPIES: u64 = 4;

const F32: u64 = 4;

const FLAT: u64 = (FEATURES[0] * FEATURES[1] * FEATURES[2]) as u64;

/// The encoder's outputs: the code, and for a VAE its log-variances too.
fn code_size(mode: LossMode, latent: usize) -> u64 {
    match mode {
        LossMode::Ae => latent as u64,
        LossMode::Vae => 2 * latent as u64,
    }
}

/// The exercise's network's parameter count (a test holds it to the model's).
pub fn parameters(mode: LossMode, latent: usize) -> u64 {
    let conv = |cin: u64, cout: u64, k: u64| cin * cout * k * k + cout;
    let dense = |inputs: u64, outputs: u64| inputs * outputs + outputs;
    let (flat, code, latent) = (FLAT, code_size(mode, latent), latent as u64);
    let encoder = conv(3, 32, 3) + conv(32, 64, 3) + conv(64, 128, 3) + conv(128, 256, 3);
    let decoder = conv(256, 128, 4) + conv(128, 64, 4) + conv(64, 32, 4) + conv(32, 3, 3);
    encoder + dense(flat, code) + dense(latent, flat) + decoder
}

/// What a run of some settings needs, in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryNeed {
    /// Weights, gradients and Adam's moments.
    pub parameters: u64,
    /// The larger of a training step's and an evaluation pass's activations.
    pub activations: u64,
    /// The largest single tensor: one 32-channel 32×32 layer for the batch,
    /// or the encoder's dense weights when the latent code is large.
    pub largest_tensor: u64,
}

impl MemoryNeed {
    pub fn of(config: &TrainConfig) -> MemoryNeed {
        let batch = config.batch_size as u64;
        MemoryNeed {
            parameters: parameters(config.loss_mode, config.latent_size) * PARAMETER_COPIES * F32,
            activations: (batch * TRAINING_COPIES).max(EVAL_IMAGES * EVALUATION_COPIES)
                * FLOATS_PER_IMAGE
                * F32,
            largest_tensor: (batch.max(EVAL_IMAGES) * 32 * 1024)
                .max(FLAT * code_size(config.loss_mode, config.latent_size))
                * F32,
        }
    }

    pub fn total(&self) -> u64 {
        self.parameters + self.activations
    }
}

/// What a device lets a run use: in all, and in one tensor (`None`: not known).
#[derive(Clone, Debug)]
pub struct Allowance {
    /// The device as a message names it ("the CPU engine in this browser").
    pub device: String,
    pub total: Option<u64>,
    pub per_tensor: Option<u64>,
}

/// `config` against `allowance`: a run that does not fit is refused with
/// what it needs, what the device allows and the largest batch size that fits.
pub fn check(config: &TrainConfig, allowance: &Allowance) -> Result<(), String> {
    let need = MemoryNeed::of(config);
    let fits = |batch: usize| {
        let n = MemoryNeed::of(&TrainConfig {
            batch_size: batch,
            ..config.clone()
        });
        allowance.total.is_none_or(|t| n.total() <= t)
            && allowance.per_tensor.is_none_or(|t| n.largest_tensor <= t)
    };
    if fits(config.batch_size) {
        return Ok(());
    }
    let what = match (allowance.total, allowance.per_tensor) {
        (Some(total), _) if need.total() > total => format!(
            "needs ≈ {} of memory; {} allows ≈ {}",
            gb(need.total()),
            allowance.device,
            gb(total)
        ),
        (_, Some(per)) => format!(
            "needs a single tensor of {}; {} allows {} in one buffer",
            gb(need.largest_tensor),
            allowance.device,
            gb(per)
        ),
        _ => unreachable!("a run that does not fit exceeds one of the two"),
    };
    let largest = (1..config.batch_size).rev().find(|&b| fits(b));
    let advice = match largest {
        Some(b) => format!("Use a batch size of {b} or less, or a smaller latent size."),
        None => "Even a batch of 1 does not fit: use a smaller latent size.".into(),
    };
    Err(format!(
        "{} with batch size {} and latent size {} {what}. {advice}",
        match config.loss_mode {
            LossMode::Ae => "An AE",
            LossMode::Vae => "A VAE",
        },
        config.batch_size,
        config.latent_size
    ))
}

fn gb(bytes: u64) -> String {
    format!("{:.1} GB", bytes as f64 / 1e9)
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::net::Net;
    use burn::tensor::Device;

    #[test]
    fn the_parameter_count_is_the_models() {
        for (mode, latent) in [
            (LossMode::Ae, 16),
            (LossMode::Vae, 16),
            (LossMode::Vae, 1024),
            (LossMode::Ae, 4096),
        ] {
            let net = Net::new(mode, latent, &Device::flex());
            assert_eq!(
                parameters(mode, latent),
                net.num_params() as u64,
                "{mode:?} {latent}"
            );
        }
    }

    /// The measurement: VAE-1024 at batch 4096 needed ≈ 6.1 GB on
    /// the CPU device and aborted wasm32's 4 GiB; it is refused with the
    /// numbers and the largest batch that fits, which passes.
    #[test]
    fn a_run_too_big_is_refused_with_the_numbers() {
        let config = TrainConfig {
            loss_mode: LossMode::Vae,
            latent_size: 1024,
            batch_size: 4096,
            ..Default::default()
        };
        let need = MemoryNeed::of(&config);
        assert!((6.0e9..7.0e9).contains(&(need.total() as f64)), "{need:?}");
        let cpu = Allowance {
            device: "the CPU engine".into(),
            total: Some(3_600_000_000),
            per_tensor: None,
        };
        let e = check(&config, &cpu).unwrap_err();
        assert!(e.starts_with("A VAE with batch size 4096 and latent size 1024 needs ≈ 6.6 GB of memory; the CPU engine allows ≈ 3.6 GB."), "{e}");
        let largest: usize = e
            .split("batch size of ")
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!((2000..2300).contains(&largest), "{e}");
        assert!(
            check(
                &TrainConfig {
                    batch_size: largest,
                    ..config.clone()
                },
                &cpu
            )
            .is_ok()
        );
        assert!(
            check(
                &TrainConfig {
                    batch_size: largest + 1,
                    ..config.clone()
                },
                &cpu
            )
            .is_err()
        );
        let gpu = Allowance {
            device: "this GPU".into(),
            total: None,
            per_tensor: Some(128 << 20),
        };
        let e = check(&config, &gpu).unwrap_err();
        assert!(e.contains("needs a single tensor of 0.5 GB; this GPU allows 0.1 GB in one buffer. Use a batch size of 1024 or less"), "{e}");
        assert!(check(&TrainConfig::default(), &cpu).is_ok());
        assert!(check(&TrainConfig::default(), &gpu).is_ok());
        // VAE-4096's encoder weights alone are 4096 × 8192 floats (134 MB).
        let wide = TrainConfig {
            latent_size: 4096,
            batch_size: 16,
            ..config
        };
        let small = Allowance {
            per_tensor: Some(100 << 20),
            ..gpu
        };
        let e = check(&wide, &small).unwrap_err();
        assert!(
            e.ends_with("Even a batch of 1 does not fit: use a smaller latent size."),
            "{e}"
        );
    }
}
