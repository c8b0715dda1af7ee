//! Paths through a trained model's latent space, decoded to images: the
//! codes of test images, traversals of single dimensions, interpolations.
//! The paths themselves come from `latent.rs`; this file moves them through
//! the model, with one device read per call.

use burn::tensor::{Tensor, TensorData};

use crate::dataset::Images;
use crate::latent::{lerp_path, slerp_path, sweep, traversal};
use crate::train::{TrainError, Trainer, read_f32};

/// The code of each of `images[indices]` (an AE's `z`, a VAE's mean), a row each.
pub async fn encode(
    trainer: &Trainer,
    images: &dyn Images,
    indices: &[usize],
) -> Result<Vec<Vec<f32>>, TrainError> {
    let x = images.batch(indices, &trainer.device().clone().inner());
    let code = trainer.net().valid().code(x);
    let latent = code.dims()[1];
    let values = read_f32(code.flatten(0, 1)).await?;
    Ok(values.chunks(latent).map(<[f32]>::to_vec).collect())
}

/// The images `codes` decode to, `[n, 3, 32, 32]` values in a row, unclamped.
pub async fn decode(trainer: &Trainer, codes: &[Vec<f32>]) -> Result<Vec<f32>, TrainError> {
    let latent = trainer.config().latent_size;
    if let Some(bad) = codes.iter().find(|c| c.len() != latent) {
        return Err(TrainError::Device(format!(
            "a code of {} numbers for a model of latent size {latent}",
            bad.len()
        )));
    }
    let flat: Vec<f32> = codes.concat();
    let z = Tensor::<2>::from_data(
        TensorData::new(flat, [codes.len(), latent]),
        &trainer.device().clone().inner(),
    );
    read_f32(trainer.net().valid().decode(z).flatten(0, 3)).await
}

/// A traversal of `images[index]`'s code: for each of `dims`, one row of
/// `steps` images with that coordinate swept over `[-limit, limit]`.
pub async fn traverse(
    trainer: &Trainer,
    images: &dyn Images,
    index: usize,
    dims: &[usize],
    limit: f32,
    steps: usize,
) -> Result<Vec<f32>, TrainError> {
    let z = encode(trainer, images, &[index]).await?.remove(0);
    decode(trainer, &traversal(&z, dims, &sweep(limit, steps))).await
}

/// `steps` images from `images[a]` to `images[b]` along the straight line
/// between their codes (both ends included: the two reconstructions).
pub async fn interpolate(
    trainer: &Trainer,
    images: &dyn Images,
    a: usize,
    b: usize,
    steps: usize,
) -> Result<Vec<f32>, TrainError> {
    let codes = encode(trainer, images, &[a, b]).await?;
    decode(trainer, &lerp_path(&codes[0], &codes[1], steps)).await
}

/// `steps` images between two prior draws along [`slerp_path`].
pub async fn interpolate_prior(
    trainer: &Trainer,
    za: &[f32],
    zb: &[f32],
    steps: usize,
) -> Result<Vec<f32>, TrainError> {
    decode(trainer, &slerp_path(za, zb, steps)).await
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::LossMode;
    use crate::cifar::CifarImages;
    use crate::train::TrainConfig;
    use burn::tensor::Device;

    fn images(n: u8) -> CifarImages {
        let mut bytes = Vec::new();
        for i in 0..n {
            bytes.push(i % 10);
            bytes.extend((0..3072u32).map(|p| ((p * 13 + i as u32 * 71) % 256) as u8));
        }
        CifarImages::parse("x", &bytes).unwrap()
    }

    const IMAGE: usize = 3 * 32 * 32;

    fn close(a: &[f32], b: &[f32]) -> bool {
        a.len() == b.len()
            && a.iter()
                .zip(b)
                .all(|(x, y)| (x - y).abs() <= 1e-4 * (1.0 + y.abs()))
    }

    #[test]
    fn an_interpolation_starts_and_ends_at_the_two_reconstructions() {
        let device = Device::flex();
        for mode in [LossMode::Ae, LossMode::Vae] {
            let config = TrainConfig {
                loss_mode: mode,
                latent_size: 8,
                ..Default::default()
            };
            let t = Trainer::new(config, &device).unwrap();
            let set = images(4);
            let path = pollster::block_on(interpolate(&t, &set, 1, 3, 10)).unwrap();
            assert_eq!(path.len(), 10 * IMAGE);
            let (_, recon) = pollster::block_on(t.reconstruct(&set, &[1, 3])).unwrap();
            assert!(
                close(&path[..IMAGE], &recon[..IMAGE]),
                "{mode:?}: first image"
            );
            assert!(
                close(&path[9 * IMAGE..], &recon[IMAGE..]),
                "{mode:?}: last image"
            );
            // The middle is neither end.
            assert!(!close(&path[5 * IMAGE..6 * IMAGE], &recon[..IMAGE]));
        }
    }

    #[test]
    fn a_traversal_has_a_row_per_dimension_and_a_code_of_the_wrong_size_is_refused() {
        let device = Device::flex();
        let config = TrainConfig {
            loss_mode: LossMode::Vae,
            latent_size: 8,
            ..Default::default()
        };
        let t = Trainer::new(config, &device).unwrap();
        let set = images(2);
        let grid = pollster::block_on(traverse(&t, &set, 0, &[3, 5], 3.0, 7)).unwrap();
        assert_eq!(grid.len(), 2 * 7 * IMAGE);
        let err = pollster::block_on(decode(&t, &[vec![0.0; 5]]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("5 numbers") && err.contains("latent size 8"),
            "{err}"
        );
        let prior = pollster::block_on(interpolate_prior(&t, &[1.0; 8], &[-1.0; 8], 4)).unwrap();
        assert_eq!(prior.len(), 4 * IMAGE);
        assert!(prior.iter().all(|v| v.is_finite()));
    }
}
