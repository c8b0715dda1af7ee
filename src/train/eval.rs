//! The trainer's test pass and its pictures: losses over the test set, the
//! latent statistics of the same pass, reconstructions and samples.

use burn::tensor::Tensor;

use super::{EVAL_BATCH, EvalMetrics, SAMPLE_COUNT, TrainError, Trainer, read_f32};
use crate::dataset::Images;
use crate::latent::{LatentSums, LatentUsage};
use crate::net::ZFrom;

impl Trainer {
    /// Test losses over all of `test` (the VAE at beta 1 with z sampled, as
    /// the exercise reports them).
    pub async fn evaluate(&self, test: &dyn Images) -> Result<EvalMetrics, TrainError> {
        self.evaluate_with(test, ZFrom::Sample).await
    }

    /// Test losses with the VAE's `z` chosen: `ZFrom::Noise` gives one row
    /// per test image, in order, on the plain device (`device().clone().inner()`).
    pub async fn evaluate_with(
        &self,
        test: &dyn Images,
        z: ZFrom,
    ) -> Result<EvalMetrics, TrainError> {
        Ok(self.evaluate_all(test, z).await?.0)
    }

    /// Test losses and how the test set uses the latent code (KL per
    /// dimension, active units), from one pass and one read.
    pub async fn evaluate_latent(
        &self,
        test: &dyn Images,
    ) -> Result<(EvalMetrics, LatentUsage), TrainError> {
        self.evaluate_all(test, ZFrom::Sample).await
    }

    async fn evaluate_all(
        &self,
        test: &dyn Images,
        z: ZFrom,
    ) -> Result<(EvalMetrics, LatentUsage), TrainError> {
        if test.is_empty() {
            return Err(TrainError::NoTestData);
        }
        let net = self.net().valid();
        let device = self.device.clone().inner();
        let mut sums: Option<(Tensor<1>, LatentSums)> = None;
        let indices: Vec<usize> = (0..test.len()).collect();
        for chunk in indices.chunks(EVAL_BATCH) {
            let z = match &z {
                ZFrom::Noise(eps) => ZFrom::Noise(eps.clone().narrow(0, chunk[0], chunk.len())),
                other => other.clone(),
            };
            let (recon, kl, (mu, log_std)) = net.losses_and_code(test.batch(chunk, &device), z);
            let kl = kl.unwrap_or_else(|| Tensor::zeros([1], &device));
            let part = Tensor::cat(vec![recon, kl], 0).mul_scalar(chunk.len() as f64);
            let code = LatentSums::of(mu, log_std);
            sums = Some(match sums {
                Some((s, c)) => (s + part, c.merge(code)),
                None => (part, code),
            });
        }
        let (losses, code) = sums.expect("non-empty test set");
        let v = read_f32(Tensor::cat(vec![losses, code.packed()], 0)).await?;
        let latent = LatentUsage::from_packed(&v[2..], self.config.latent_size, test.len());
        let n = test.len() as f32;
        let (recon, kl) = (v[0] / n, v[1] / n);
        if !recon.is_finite() || !kl.is_finite() {
            return Err(TrainError::NonFinite {
                what: "test",
                value: if recon.is_finite() { kl } else { recon },
                step: self.step,
                epoch: self.epoch,
            });
        }
        Ok((
            EvalMetrics {
                recon,
                kl,
                total: recon + kl,
            },
            latent,
        ))
    }

    /// `images[indices]` and their reconstructions, each as `[N, 3, 32, 32]`
    /// values (the reconstructions unclamped), in one device read: the
    /// originals may live on the device only.
    pub async fn reconstruct(
        &self,
        images: &dyn Images,
        indices: &[usize],
    ) -> Result<(Vec<f32>, Vec<f32>), TrainError> {
        let net = self.net().valid();
        let x = images.batch(indices, &self.device.clone().inner());
        let y = net.reconstruct(x.clone());
        let mut values = read_f32(Tensor::cat(vec![x.flatten(0, 3), y.flatten(0, 3)], 0)).await?;
        let recon = values.split_off(values.len() / 2);
        Ok((values, recon))
    }

    /// The run's fixed prior draws z ~ N(0, I), `[100, L]` on the plain
    /// device: the rows the samples grid decodes, in its order.
    pub fn fixed_noise(&self) -> &Tensor<2> {
        &self.fixed_noise
    }

    /// Decodings of the first `n` rows of the fixed noise (`n` ≤ 100).
    pub async fn sample(&self, n: usize) -> Result<Vec<f32>, TrainError> {
        let n = n.min(SAMPLE_COUNT);
        let z = self.fixed_noise.clone().narrow(0, 0, n);
        read_f32(self.net().valid().decode(z).flatten(0, 3)).await
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::loss::LossMode;
    use crate::train::{Net, TrainConfig};
    use burn::tensor::{Device, TensorData};

    fn host(t: Tensor<2>) -> Vec<f64> {
        let v = t.into_data().try_to_vec::<f32>().unwrap();
        v.into_iter().map(f64::from).collect()
    }

    /// The test losses are per-image sums averaged over the images, the VAE's
    /// KL taken at beta 1 whatever beta the run trains with: checked against
    /// sums done here on the host from the model's own encoder and decoder
    /// outputs, with the noise given.
    #[test]
    fn vae_test_losses_are_per_image_sums_at_beta_one() {
        let device = Device::flex();
        let latent = 4;
        let t = Trainer::new(
            TrainConfig {
                loss_mode: LossMode::Vae,
                latent_size: latent,
                target_beta: 0.5,
                ..Default::default()
            },
            &device,
        )
        .unwrap();
        let mut bytes = Vec::new();
        for i in 0..3u8 {
            bytes.push(i);
            bytes.extend((0..3072u32).map(|p| ((p * 7 + i as u32 * 50) % 256) as u8));
        }
        let images = crate::cifar::CifarImages::parse("x", &bytes).unwrap();
        let eps: Vec<f32> = (0..3 * latent).map(|k| (k as f32 * 0.37).sin()).collect();
        let eps_t = Tensor::<2>::from_data(TensorData::new(eps.clone(), [3, latent]), &device);
        let got = pollster::block_on(t.evaluate_with(&images, ZFrom::Noise(eps_t))).unwrap();

        let Net::Vae(m) = t.net().valid() else {
            unreachable!()
        };
        let x = images.batch(&[0, 1, 2], &device);
        let (mu, log_std) = m.encode(x.clone());
        let (mu, log_std) = (host(mu), host(log_std));
        let z: Vec<f32> = (0..3 * latent)
            .map(|k| (mu[k] + log_std[k].exp() * eps[k] as f64) as f32)
            .collect();
        let x_hat = m
            .decoder
            .forward(Tensor::from_data(TensorData::new(z, [3, latent]), &device));
        let (x, x_hat) = (host(x.flatten(1, 3)), host(x_hat.flatten(1, 3)));
        let recon: f64 = x
            .iter()
            .zip(&x_hat)
            .map(|(a, b)| (a - b).powi(2))
            .sum::<f64>()
            / 3.0;
        let kl: f64 = mu
            .iter()
            .zip(&log_std)
            .map(|(m, s)| 0.5 * (m * m + (2.0 * s).exp() - 1.0) - s)
            .sum::<f64>()
            / 3.0;
        assert!(kl > 1e-3, "the test needs a KL away from zero, got {kl}");
        assert!(
            (got.recon as f64 - recon).abs() <= 1e-5 * recon,
            "{} vs {recon}",
            got.recon
        );
        assert!(
            (got.kl as f64 - kl).abs() <= 1e-4 * kl,
            "{} vs {kl}",
            got.kl
        );
        assert!((got.total as f64 - (recon + kl)).abs() <= 1e-5 * (recon + kl));

        // The same pass's latent statistics, against the host's numbers.
        let (_, usage) = pollster::block_on(t.evaluate_latent(&images)).unwrap();
        for j in 0..latent {
            let col = |v: &[f64], i: usize| v[i * latent + j];
            let kl_j = (0..3)
                .map(|i| {
                    let (m, s) = (col(&mu, i), col(&log_std, i));
                    0.5 * (m * m + (2.0 * s).exp() - 1.0) - s
                })
                .sum::<f64>()
                / 3.0;
            let mean = (0..3).map(|i| col(&mu, i)).sum::<f64>() / 3.0;
            let var = (0..3).map(|i| (col(&mu, i) - mean).powi(2)).sum::<f64>() / 3.0;
            assert!((usage.kl_per_dim[j] as f64 - kl_j).abs() <= 1e-4 * kl_j.max(1e-3));
            assert!((usage.variance[j] as f64 - var).abs() <= 1e-5 + 1e-4 * var);
        }
        let total: f64 = usage.kl_per_dim.iter().map(|&k| k as f64).sum();
        assert!((total - kl).abs() <= 1e-4 * kl, "{total} vs {kl}");
    }
}
