//! What the loss means: the exercise's loss as a bound on how likely the
//! model finds the test images. Its reconstruction term, a sum of squared
//! errors over the 3,072 pixel values, is the negative log-density of a
//! Gaussian decoder N(x̂, ½ I) on pixels scaled to [-1, 1], less the constant
//! (D/2) ln π. So recon + KL + (D/2) ln π bounds -ln p(x) from above (the
//! ELBO, k = 1), and the importance-weighted bound of Burda, Grosse and
//! Salakhutdinov (2016) with k samples of the encoder's posterior tightens it:
//! -ln p(x) <= -ln (1/k) sum_i p(x|z_i) p(z_i) / q(z_i|x). A density on
//! continuous pixels, not the bits of 8-bit images: bits per dimension here
//! compare models of this exercise with each other, not with published
//! discrete likelihoods.

use std::f64::consts::{LN_2, PI};

use burn::tensor::{Tensor, TensorData};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution as _, StandardNormal};
use serde::Serialize;

use crate::cifar::IMAGE_BYTES;
use crate::dataset::Images;
use crate::net::Net;
use crate::train::{TrainError, Trainer, read_f32};

/// Decodings per device call: `k` samples of a few images at a time.
const DECODES_PER_CALL: usize = 500;

/// -ln N(x; x̂, ½ I) - ||x - x̂||² = (D/2) ln π, in nats per image.
pub fn gaussian_constant() -> f64 {
    IMAGE_BYTES as f64 / 2.0 * PI.ln()
}

/// The two bounds on -ln p(x), averaged over the images: nats per image, and
/// bits per pixel value (nats / (D ln 2)).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Bounds {
    pub k: usize,
    pub images: usize,
    /// -ELBO from the k samples (the mean of their single-sample estimates).
    pub elbo_nats: f64,
    /// -IWAE_k: never above `elbo_nats` (Jensen), and lower the larger k.
    pub iwae_nats: f64,
    pub elbo_bits_per_dim: f64,
    pub iwae_bits_per_dim: f64,
    /// How much the k samples tightened the bound, nats per image.
    pub gap_nats: f64,
    /// [`gaussian_constant`]: what the page adds to recon + KL.
    pub constant_nats: f64,
}

/// Both bounds from log-weights ln p(x|z_i) + ln p(z_i) - ln q(z_i|x), laid
/// out as `k` rows of `n` (row i: every image's i-th sample).
pub fn bounds(log_w: &[f64], k: usize, n: usize) -> Bounds {
    assert_eq!(log_w.len(), k * n, "k rows of n log-weights");
    let (mut elbo, mut iwae) = (0.0, 0.0);
    for j in 0..n {
        let column = || (0..k).map(|i| log_w[i * n + j]);
        let top = column().fold(f64::NEG_INFINITY, f64::max);
        iwae += top + (column().map(|w| (w - top).exp()).sum::<f64>() / k as f64).ln();
        elbo += column().sum::<f64>() / k as f64;
    }
    let per_image = |sum: f64| -sum / n as f64;
    let bits = |nats: f64| nats / (IMAGE_BYTES as f64 * LN_2);
    let (elbo_nats, iwae_nats) = (per_image(elbo), per_image(iwae));
    Bounds {
        k,
        images: n,
        elbo_nats,
        iwae_nats,
        elbo_bits_per_dim: bits(elbo_nats),
        iwae_bits_per_dim: bits(iwae_nats),
        gap_nats: elbo_nats - iwae_nats,
        constant_nats: gaussian_constant(),
    }
}

/// ln p(x|z) + ln p(z) - ln q(z|x) for `k` samples z = mu + exp(log_std) ε of
/// each of `images[indices]`, `k` rows of `indices.len()`. The ε come from
/// their own generator (`seed`): a question in the lab leaves the training
/// noise as it was.
pub async fn log_weights(
    trainer: &Trainer,
    images: &dyn Images,
    indices: &[usize],
    k: usize,
    seed: u64,
) -> Result<Vec<f64>, TrainError> {
    let Net::Vae(vae) = trainer.net().valid() else {
        return Err(TrainError::Argument(
            "an AE has no posterior q(z|x) and no prior: it bounds no likelihood".into(),
        ));
    };
    if k == 0 || indices.is_empty() {
        return Err(TrainError::Argument(
            "the bound needs at least one sample of one image".into(),
        ));
    }
    let device = trainer.device().clone().inner();
    let latent = trainer.config().latent_size;
    let n = indices.len();
    let mut rng = StdRng::seed_from_u64(seed);
    let mut out = vec![0.0; k * n];
    let per_call = (DECODES_PER_CALL / k).max(1);
    for (c, chunk) in indices.chunks(per_call).enumerate() {
        let m = chunk.len();
        let x = images.batch(chunk, &device);
        let (mu, log_std) = vae.encode(x.clone());
        let noise: Vec<f32> = (0..k * m * latent)
            .map(|_| StandardNormal.sample(&mut rng))
            .collect();
        let eps = Tensor::<2>::from_data(TensorData::new(noise, [k * m, latent]), &device);
        let (mu, log_std) = (
            Tensor::cat(vec![mu; k], 0),
            Tensor::cat(vec![log_std; k], 0),
        );
        let z = mu + log_std.clone().exp() * eps.clone();
        let x_hat = vae.decoder.forward(z.clone());
        let log_w = log_weight(Tensor::cat(vec![x; k], 0), x_hat, z, log_std, eps);
        let values = read_f32(log_w).await?;
        let start = c * per_call;
        for i in 0..k {
            for j in 0..m {
                out[i * n + start + j] = f64::from(values[i * m + j]) - gaussian_constant();
            }
        }
    }
    Ok(out)
}

/// ln p(x|z) + ln p(z) - ln q(z|x) per row, less [`gaussian_constant`], for
/// z = mu + exp(log_std) ε decoded to `x_hat`: -||x - x̂||², and the two
/// Gaussians' log-densities of z, whose 2π terms cancel (z - mu = exp(log_std) ε).
fn log_weight(
    x: Tensor<4>,
    x_hat: Tensor<4>,
    z: Tensor<2>,
    log_std: Tensor<2>,
    eps: Tensor<2>,
) -> Tensor<1> {
    let rows = x.dims()[0];
    let sse = (x - x_hat).square().flatten::<2>(1, 3).sum_dim(1);
    let prior_over_posterior = (eps.square() - z.square()).mul_scalar(0.5) + log_std;
    (prior_over_posterior.sum_dim(1) - sse).reshape([rows])
}

/// The most test images the lab's question takes: it holds the engine's
/// queue while it runs (100 images at k 64 takes seconds).
pub const MAX_IMAGES: usize = 500;
/// The most samples per image the lab asks for.
pub const MAX_K: usize = 256;

/// A bound the lab may ask for: 1 to [`MAX_IMAGES`] images, k from 1 to
/// [`MAX_K`]; other values are refused with those ranges.
pub fn check_request(images: usize, k: usize) -> Result<(), TrainError> {
    if (1..=MAX_IMAGES).contains(&images) && (1..=MAX_K).contains(&k) {
        return Ok(());
    }
    Err(TrainError::Argument(format!(
        "a bound on {images} images with k = {k}: use 1 to {MAX_IMAGES} images and k from 1 to {MAX_K}"
    )))
}

/// The ELBO and the k-sample bound on the first `images` test images.
pub async fn measure(
    trainer: &Trainer,
    test: &dyn Images,
    images: usize,
    k: usize,
    seed: u64,
) -> Result<Bounds, TrainError> {
    let indices: Vec<usize> = (0..images.min(test.len())).collect();
    let log_w = log_weights(trainer, test, &indices, k, seed).await?;
    Ok(bounds(&log_w, k, indices.len()))
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::config::TrainConfig;
    use crate::explore::decode;
    use crate::explore::tests::images;
    use crate::loss::LossMode;
    use burn::tensor::Device;

    #[test]
    fn one_sample_is_the_elbo_and_more_samples_never_loosen_the_bound() {
        // Equal weights: both bounds are exactly that weight.
        let b = bounds(&[-7.0; 6], 3, 2);
        assert_eq!((b.elbo_nats, b.iwae_nats), (7.0, 7.0));
        // k = 1: the same number.
        let b = bounds(&[-3.0, -5.0], 1, 2);
        assert_eq!((b.elbo_nats, b.iwae_nats), (4.0, 4.0));
        // Unequal weights: -ln mean(exp w) below -mean(w), here by hand.
        let b = bounds(&[-1.0, -3.0], 2, 1);
        let iwae = -((((-1.0f64).exp() + (-3.0f64).exp()) / 2.0).ln());
        assert!((b.iwae_nats - iwae).abs() < 1e-12 && b.iwae_nats < b.elbo_nats);
        assert!((b.elbo_bits_per_dim - 2.0 / (3072.0 * LN_2)).abs() < 1e-15);
    }

    /// The bound against a likelihood estimated by brute force: -ln mean
    /// p(x|z) over 10,000 z from the prior, with p(x|z) the Gaussian N(x̂, ½ I)
    /// computed here from the decoded pixels. An untrained VAE of latent size
    /// 2: its decoder barely depends on the code and its posterior is near the
    /// prior, so every estimate converges whatever weights it drew (a trained
    /// one's p(x|z) is so peaked that neither estimate of this size does, and
    /// the device's generator, shared with the tests beside it, makes its
    /// weights differ run to run). This checks the constant and the decoding
    /// path; `a_log_weight_is_the_three_log_densities` the terms in z.
    #[test]
    fn the_bound_meets_a_brute_force_likelihood() {
        let device = Device::flex();
        let config = TrainConfig {
            loss_mode: LossMode::Vae,
            latent_size: 2,
            ..Default::default()
        };
        let t = Trainer::new(config, &device).unwrap();
        let set = images(4);
        let x: Vec<f64> = pollster::block_on(read_f32(
            set.batch(&[0], &device.clone()).flatten::<1>(0, 3),
        ))
        .unwrap()
        .into_iter()
        .map(f64::from)
        .collect();
        // Brute force: 10,000 codes from the prior, decoded.
        let mut rng = StdRng::seed_from_u64(99);
        let mut log_px = Vec::new();
        for _ in 0..20 {
            let codes: Vec<Vec<f32>> = (0..500)
                .map(|_| (0..2).map(|_| StandardNormal.sample(&mut rng)).collect())
                .collect();
            let pixels = pollster::block_on(decode(&t, &codes)).unwrap();
            for image in pixels.chunks(3072) {
                let sse: f64 = image
                    .iter()
                    .zip(&x)
                    .map(|(a, b)| (f64::from(*a) - b).powi(2))
                    .sum();
                log_px.push(-sse - gaussian_constant());
            }
        }
        let top = log_px.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let mean = log_px.iter().map(|w| (w - top).exp()).sum::<f64>() / log_px.len() as f64;
        let brute = -(top + mean.ln());
        let measure_k = |k| pollster::block_on(measure(&t, &set, 1, k, 7)).unwrap();
        let (one, many) = (measure_k(1), measure_k(500));
        eprintln!(
            "-ELBO {:.3}  -IWAE_500 {:.3}  brute force {brute:.3} nats",
            many.elbo_nats, many.iwae_nats
        );
        assert_eq!(
            one.elbo_nats, one.iwae_nats,
            "one sample: the two bounds are one"
        );
        assert!(
            many.elbo_nats >= many.iwae_nats,
            "Jensen, on the same samples"
        );
        assert!(
            (many.iwae_nats - brute).abs() < 0.2,
            "-IWAE_500 {} against brute force {brute}",
            many.iwae_nats
        );
    }

    /// The log-weight against the densities written out: N(z; 0, I) and
    /// N(z; mu, diag exp(2 log_std)) evaluated at z itself (not through ε),
    /// and the decoder's -||x - x̂||², at codes far from the prior.
    #[test]
    fn a_log_weight_is_the_three_log_densities() {
        let device = Device::flex();
        let mut rng = StdRng::seed_from_u64(5);
        let mut draw = |n: usize, scale: f32| -> Vec<f32> {
            (0..n)
                .map(|_| {
                    let v: f32 = StandardNormal.sample(&mut rng);
                    scale * v
                })
                .collect::<Vec<f32>>()
        };
        let (rows, latent) = (3, 4);
        let (x, x_hat) = (draw(rows * 3072, 0.5), draw(rows * 3072, 0.5));
        let (mu, log_std, eps) = (
            draw(rows * latent, 2.0),
            draw(rows * latent, 0.7),
            draw(rows * latent, 1.0),
        );
        let z: Vec<f32> = (0..rows * latent)
            .map(|i| mu[i] + log_std[i].exp() * eps[i])
            .collect();
        let t2 = |v: &[f32]| {
            Tensor::<2>::from_data(TensorData::new(v.to_vec(), [rows, latent]), &device)
        };
        let t4 = |v: &[f32]| {
            Tensor::<4>::from_data(TensorData::new(v.to_vec(), [rows, 3, 32, 32]), &device)
        };
        let got = pollster::block_on(read_f32(log_weight(
            t4(&x),
            t4(&x_hat),
            t2(&z),
            t2(&log_std),
            t2(&eps),
        )))
        .unwrap();
        let ln_normal = |v: f64, mean: f64, ln_sd: f64| {
            -0.5 * ((v - mean) / ln_sd.exp()).powi(2) - ln_sd - 0.5 * (2.0 * PI).ln()
        };
        for (r, &got) in got.iter().enumerate() {
            let (a, b) = (r * latent, (r + 1) * latent);
            let f = |v: &[f32]| v[a..b].iter().map(|&q| f64::from(q)).collect::<Vec<f64>>();
            let (z, mu, ls) = (f(&z), f(&mu), f(&log_std));
            let prior: f64 = z.iter().map(|&v| ln_normal(v, 0.0, 0.0)).sum();
            let posterior: f64 = (0..latent).map(|i| ln_normal(z[i], mu[i], ls[i])).sum();
            let sse: f64 = (r * 3072..(r + 1) * 3072)
                .map(|i| f64::from(x[i] - x_hat[i]).powi(2))
                .sum();
            let want = -sse + prior - posterior;
            assert!(
                (f64::from(got) - want).abs() < 1e-3 * (1.0 + want.abs()),
                "row {r}: {got} against {want}"
            );
        }
    }

    #[test]
    fn a_bound_the_lab_asks_outside_its_ranges_is_refused_with_them() {
        for (n, k) in [(0, 4), (MAX_IMAGES + 1, 4), (2, 0), (2, MAX_K + 1)] {
            assert_eq!(
                check_request(n, k).unwrap_err().to_string(),
                format!(
                    "a bound on {n} images with k = {k}: use 1 to 500 images and k from 1 to 256"
                )
            );
        }
        for (n, k) in [(1, 1), (MAX_IMAGES, MAX_K)] {
            assert!(check_request(n, k).is_ok());
        }
    }

    #[test]
    fn an_ae_bounds_no_likelihood() {
        let t = Trainer::new(TrainConfig::default(), &Device::flex()).unwrap();
        let e = pollster::block_on(measure(&t, &images(2), 2, 4, 1)).unwrap_err();
        assert!(e.to_string().contains("an AE has no posterior"), "{e}");
    }
}
