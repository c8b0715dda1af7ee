//! Paths through a trained model's latent space, decoded to images: the
//! codes of test images, traversals of single dimensions, interpolations.
//! The paths themselves come from `latent.rs`; this file moves them through
//! the model, with one device read per call.

use burn::tensor::{Int, Tensor, TensorData};
use serde::Serialize;

use crate::dataset::Images;
use crate::latent::{Histogram, LatentSums, histogram, lerp_path, slerp_path, sweep, traversal};
use crate::train::{SAMPLE_COUNT, TrainError, Trainer, read_f32};

const CHUNK: usize = 500;

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
        return Err(TrainError::Argument(format!(
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

/// `images[indices]` as model values (`[n, 3, 32, 32]` in a row), for a
/// strip the student picks from.
pub async fn originals(
    trainer: &Trainer,
    images: &dyn Images,
    indices: &[usize],
) -> Result<Vec<f32>, TrainError> {
    let x = images.batch(indices, &trainer.device().clone().inner());
    read_f32(x.flatten(0, 3)).await
}

/// `steps` images between the fixed prior draws `a` and `b` (the samples
/// grid's positions, 0..100) along the great circle.
pub async fn interpolate_samples(
    trainer: &Trainer,
    a: usize,
    b: usize,
    steps: usize,
) -> Result<Vec<f32>, TrainError> {
    if a.max(b) >= SAMPLE_COUNT {
        return Err(TrainError::Argument(format!(
            "prior draw {} does not exist: there are {SAMPLE_COUNT}",
            a.max(b)
        )));
    }
    let noise = trainer.fixed_noise();
    let latent = noise.dims()[1];
    let rows = Tensor::cat(
        vec![noise.clone().narrow(0, a, 1), noise.clone().narrow(0, b, 1)],
        0,
    );
    let values = read_f32(rows.flatten(0, 1)).await?;
    interpolate_prior(trainer, &values[..latent], &values[latent..], steps).await
}

/// Where the test set's codes lie, against the prior the samples come from.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AggregatePosterior {
    /// The chosen dimensions' values of μ (an AE: z) over the test set.
    pub histograms: Vec<Histogram>,
    /// Mean and standard deviation over the test set of every dimension's μ:
    /// the diagonal Gaussian fitted to the codes.
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
    pub images: usize,
}

/// One pass over `test`: histograms of the codes' dimensions `dims` and the
/// diagonal Gaussian fitted to all of them, in one device read.
pub async fn aggregate_posterior(
    trainer: &Trainer,
    test: &dyn Images,
    dims: &[usize],
    bins: usize,
) -> Result<AggregatePosterior, TrainError> {
    let latent = trainer.config().latent_size;
    if test.is_empty() {
        return Err(TrainError::NoTestData);
    }
    if let Some(bad) = dims.iter().find(|&&d| d >= latent) {
        return Err(TrainError::Argument(format!(
            "dimension {bad} does not exist: the latent size is {latent}"
        )));
    }
    let device = trainer.device().clone().inner();
    let net = trainer.net().valid();
    let pick = Tensor::<1, Int>::from_data(
        TensorData::new(dims.iter().map(|&d| d as i64).collect(), [dims.len()]),
        &device,
    );
    let mut sums: Option<LatentSums> = None;
    let mut picked = Vec::new();
    let indices: Vec<usize> = (0..test.len()).collect();
    for chunk in indices.chunks(CHUNK) {
        let code = net.code(test.batch(chunk, &device));
        if !dims.is_empty() {
            picked.push(code.clone().select(1, pick.clone()));
        }
        let s = LatentSums::of(code, None);
        sums = Some(match sums {
            Some(acc) => acc.merge(s),
            None => s,
        });
    }
    let sums = sums.expect("at least one chunk");
    let n = sums.count() as f64;
    let mut parts = vec![sums.packed()];
    if !picked.is_empty() {
        // [N, k] → k rows of N: each dimension's values together.
        parts.push(Tensor::cat(picked, 0).transpose().flatten(0, 1));
    }
    let values = read_f32(Tensor::cat(parts, 0)).await?;
    let (mean, std) = values[..latent]
        .iter()
        .zip(&values[latent..2 * latent])
        .map(|(&s, &s2)| {
            let m = s as f64 / n;
            (m as f32, (s2 as f64 / n - m * m).max(0.0).sqrt() as f32)
        })
        .unzip();
    let per_dim = test.len();
    let histograms = dims
        .iter()
        .enumerate()
        .map(|(k, &d)| {
            let start = 2 * latent + k * per_dim;
            histogram(d, &values[start..start + per_dim], bins)
        })
        .collect();
    Ok(AggregatePosterior {
        histograms,
        mean,
        std,
        images: test.len(),
    })
}

/// Decodings of the fixed noise through the fitted Gaussian, z = mean + std ⊙ ε:
/// what sampling from the aggregate posterior looks like, beside the
/// prior's samples (the same ε).
pub async fn fitted_samples(
    trainer: &Trainer,
    fit: &AggregatePosterior,
    count: usize,
) -> Result<Vec<f32>, TrainError> {
    let latent = trainer.config().latent_size;
    if fit.mean.len() != latent {
        return Err(TrainError::Argument(format!(
            "a fit of {} dimensions for a model of latent size {latent}",
            fit.mean.len()
        )));
    }
    let device = trainer.device().clone().inner();
    let row = |v: &[f32]| Tensor::<1>::from_data(TensorData::new(v.to_vec(), [latent]), &device);
    let eps = trainer
        .fixed_noise()
        .clone()
        .narrow(0, 0, count.clamp(1, SAMPLE_COUNT));
    let z = eps * row(&fit.std).unsqueeze_dim(0) + row(&fit.mean).unsqueeze_dim(0);
    read_f32(trainer.net().valid().decode(z).flatten(0, 3)).await
}

#[cfg(all(test, not(target_arch = "wasm32")))]
pub(crate) mod tests {
    use super::*;
    use crate::cifar::CifarImages;
    use crate::config::TrainConfig;
    use crate::loss::LossMode;
    use burn::tensor::Device;

    /// `n` generated images, each its own pattern (also bound.rs's tests').
    pub(crate) fn images(n: u8) -> CifarImages {
        let mut bytes = Vec::new();
        for i in 0..n {
            bytes.push(i % 10);
            bytes.extend((0..3072u32).map(|p| ((p * 13 + i as u32 * 71) % 256) as u8));
        }
        CifarImages::parse("x", &bytes).unwrap()
    }

    const IMAGE: usize = 3 * 32 * 32;

    /// The largest difference between two images, value by value.
    fn distance(a: &[f32], b: &[f32]) -> f32 {
        assert_eq!(a.len(), b.len());
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f32::max)
    }

    /// `got` is `right` to within 1e-5, and 100x nearer it than `wrong`: an
    /// untrained decoder's images lie about 1e-4 apart whatever the code, so
    /// a tolerance alone cannot tell the right image from a wrong one.
    fn assert_nearest(what: &str, got: &[f32], right: &[f32], wrong: &[f32]) {
        let (near, far) = (distance(got, right), distance(got, wrong));
        assert!(
            near <= 1e-5 && near * 100.0 < far,
            "{what}: {near:e} from the image it should be, {far:e} from the other"
        );
    }

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
            let (first, last) = (&recon[..IMAGE], &recon[IMAGE..]);
            // The middle is the code 5/9 of the way between the two images'
            // codes (computed here as `lerp_path` does), decoded.
            let codes = pollster::block_on(encode(&t, &set, &[1, 3])).unwrap();
            let middle: Vec<f32> = codes[0]
                .iter()
                .zip(&codes[1])
                .map(|(a, b)| a + (5.0 / 9.0) * (b - a))
                .collect();
            let want = pollster::block_on(decode(&t, &[middle])).unwrap();
            // An untrained decoder barely depends on its code (its images lie
            // about 1e-4 apart), so each image must be far nearer the one it
            // should be than the others: a fixed tolerance alone passed a
            // wrong end, and failed the middle about half the time.
            let image = |k: usize| &path[k * IMAGE..(k + 1) * IMAGE];
            for (what, got, right, wrong) in [
                ("first", image(0), first, last),
                ("last", image(9), last, first),
                ("middle", image(5), &want[..], first),
                ("middle", image(5), &want[..], last),
            ] {
                assert_nearest(&format!("{mode:?} {what}"), got, right, wrong);
            }
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

    #[test]
    fn the_aggregate_posterior_matches_the_codes_and_its_samples_decode_the_fit() {
        let device = Device::flex();
        for mode in [LossMode::Ae, LossMode::Vae] {
            let config = TrainConfig {
                loss_mode: mode,
                latent_size: 6,
                ..Default::default()
            };
            let t = Trainer::new(config, &device).unwrap();
            let set = images(7);
            let fit = pollster::block_on(aggregate_posterior(&t, &set, &[4, 1], 10)).unwrap();
            let codes = pollster::block_on(encode(&t, &set, &(0..7).collect::<Vec<_>>())).unwrap();
            for j in 0..6 {
                let col: Vec<f64> = codes.iter().map(|c| c[j] as f64).collect();
                let m = col.iter().sum::<f64>() / 7.0;
                let sd = (col.iter().map(|v| (v - m).powi(2)).sum::<f64>() / 7.0).sqrt();
                assert!((fit.mean[j] as f64 - m).abs() < 1e-4, "{mode:?} mean {j}");
                assert!((fit.std[j] as f64 - sd).abs() < 1e-3, "{mode:?} std {j}");
            }
            assert_eq!(fit.histograms.len(), 2);
            let h = &fit.histograms[0];
            assert_eq!((h.dim, h.density.len()), (4, 10));
            // The histogram of dimension 4 is the host's histogram of those codes.
            let col: Vec<f32> = codes.iter().map(|c| c[4]).collect();
            assert_eq!(h, &crate::latent::histogram(4, &col, 10));
            // The fitted samples are the fit's means and spreads applied to the fixed noise.
            let samples = pollster::block_on(fitted_samples(&t, &fit, 3)).unwrap();
            let eps = t.fixed_noise().clone().narrow(0, 0, 3).into_data();
            let eps = eps.try_to_vec::<f32>().unwrap();
            let z: Vec<Vec<f32>> = (0..3)
                .map(|i| {
                    (0..6)
                        .map(|j| fit.mean[j] + fit.std[j] * eps[i * 6 + j])
                        .collect()
                })
                .collect();
            let want = pollster::block_on(decode(&t, &z)).unwrap();
            assert!(close(&samples, &want), "{mode:?}");
        }
        let t = Trainer::new(
            TrainConfig {
                latent_size: 4,
                ..Default::default()
            },
            &device,
        )
        .unwrap();
        let err = pollster::block_on(aggregate_posterior(&t, &images(2), &[9], 5)).unwrap_err();
        assert!(err.to_string().contains("latent size is 4"), "{err}");
    }

    #[test]
    fn an_interpolation_between_prior_draws_ends_at_their_samples() {
        let device = Device::flex();
        let config = TrainConfig {
            loss_mode: LossMode::Vae,
            latent_size: 8,
            ..Default::default()
        };
        let t = Trainer::new(config, &device).unwrap();
        let path = pollster::block_on(interpolate_samples(&t, 2, 7, 5)).unwrap();
        let samples = pollster::block_on(t.sample(8)).unwrap();
        let (two, seven) = (
            &samples[2 * IMAGE..3 * IMAGE],
            &samples[7 * IMAGE..8 * IMAGE],
        );
        assert_nearest("first", &path[..IMAGE], two, seven);
        assert_nearest("last", &path[4 * IMAGE..], seven, two);
        assert!(pollster::block_on(interpolate_samples(&t, 2, 100, 5)).is_err());
    }
}
