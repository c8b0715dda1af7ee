//! The exercise's losses: sums over every non-batch dimension, averaged over
//! the batch only. That is why the numbers are in the hundreds, not below 1.

use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LossMode {
    /// Plain autoencoder: reconstruction loss only.
    #[default]
    Ae,
    /// Variational autoencoder: reconstruction + beta * KL.
    Vae,
}

impl LossMode {
    pub fn name(self) -> &'static str {
        match self {
            LossMode::Ae => "ae",
            LossMode::Vae => "vae",
        }
    }
}

impl std::str::FromStr for LossMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "ae" => Ok(LossMode::Ae),
            "vae" => Ok(LossMode::Vae),
            other => Err(format!(
                "unknown loss_mode '{other}': expected 'ae' or 'vae'"
            )),
        }
    }
}

/// `sum((x - x_hat)^2) / N` for images `[N, C, H, W]`; shape `[1]`.
pub fn recon_loss(x: Tensor<4>, x_hat: Tensor<4>) -> Tensor<1> {
    let n = x.dims()[0] as f64;
    (x - x_hat).square().sum().div_scalar(n)
}

/// KL(N(mu, exp(log_std)^2) || N(0, I)) = `sum(0.5 (mu^2 + exp(2 log_std) - 1) - log_std) / N`.
pub fn kl_loss(mu: Tensor<2>, log_std: Tensor<2>) -> Tensor<1> {
    let n = mu.dims()[0] as f64;
    let var = log_std.clone().mul_scalar(2.0).exp();
    (mu.square() + var)
        .sub_scalar(1.0)
        .mul_scalar(0.5)
        .sub(log_std)
        .sum()
        .div_scalar(n)
}

/// Each latent dimension's KL averaged over the batch, `E_batch[KL_j]`; shape `[L]`.
/// Its sum is [`kl_loss`].
pub fn kl_per_dim(mu: Tensor<2>, log_std: Tensor<2>) -> Tensor<1> {
    let var = log_std.clone().mul_scalar(2.0).exp();
    (mu.square() + var)
        .sub_scalar(1.0)
        .mul_scalar(0.5)
        .sub(log_std)
        .mean_dim(0)
        .squeeze_dim(0)
}

/// Free bits (Kingma et al. 2016): `Σ_j max(λ, E_batch[KL_j])`; a dimension
/// below λ nats gets no gradient pushing it further towards the prior.
pub fn free_bits_kl(mu: Tensor<2>, log_std: Tensor<2>, lambda: f32) -> Tensor<1> {
    kl_per_dim(mu, log_std).clamp_min(lambda).sum()
}

/// The capacity objective's KL term (Burgess et al. 2018): `γ·|KL − C|`.
pub fn capacity_term(kl: Tensor<1>, gamma: f32, capacity: f32) -> Tensor<1> {
    kl.sub_scalar(capacity).abs().mul_scalar(gamma)
}

/// [`capacity_term`] with C (`[1]`) read from a tensor: a replayed step's
/// kernels read it from a buffer where the usual step's hold it as a constant
/// (`train/replay.rs`). The same operations on the same numbers.
pub fn capacity_term_of(kl: Tensor<1>, gamma: f32, capacity: Tensor<1>) -> Tensor<1> {
    kl.sub(capacity).abs().mul_scalar(gamma)
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use burn::tensor::{Device, TensorData};

    fn t2(v: &[f32], shape: [usize; 2], device: &Device) -> Tensor<2> {
        Tensor::from_data(TensorData::new(v.to_vec(), shape), device)
    }

    fn scalar(t: Tensor<1>) -> f32 {
        t.into_data().try_to_vec::<f32>().unwrap()[0]
    }

    #[test]
    fn recon_sums_over_pixels_and_averages_over_the_batch() {
        let device = Device::flex();
        // Batch of 2 images of 1x1x2: squared errors (1, 4) and (0, 9).
        let x = Tensor::<4>::from_data(
            TensorData::new(vec![1.0f32, 2.0, 0.0, -1.0], [2, 1, 1, 2]),
            &device,
        );
        let x_hat = Tensor::<4>::from_data(
            TensorData::new(vec![0.0f32, 0.0, 0.0, 2.0], [2, 1, 1, 2]),
            &device,
        );
        assert!((scalar(recon_loss(x, x_hat)) - 7.0).abs() < 1e-6);
    }

    #[test]
    fn kl_is_zero_at_the_prior_and_its_gradient_vanishes() {
        let device = Device::flex().autodiff();
        let mu = t2(&[0.0; 6], [2, 3], &device).require_grad();
        let log_std = t2(&[0.0; 6], [2, 3], &device).require_grad();
        let kl = kl_loss(mu.clone(), log_std.clone());
        let grads = kl.backward();
        assert_eq!(scalar(kl.inner()), 0.0);
        for g in [mu.grad(&grads).unwrap(), log_std.grad(&grads).unwrap()] {
            for v in g.into_data().try_to_vec::<f32>().unwrap() {
                assert!(v.abs() < 1e-7);
            }
        }
    }

    #[test]
    fn kl_matches_the_closed_form_and_its_gradient() {
        let device = Device::flex().autodiff();
        // Two samples, one latent each: (mu, log_std) = (1, 0) and (0.5, ln 2).
        let ln2 = std::f32::consts::LN_2;
        let mu = t2(&[1.0, 0.5], [2, 1], &device).require_grad();
        let log_std = t2(&[0.0, ln2], [2, 1], &device).require_grad();
        let kl = kl_loss(mu.clone(), log_std.clone());
        // Per sample: 0.5(1 + 1 - 1) - 0 = 0.5;  0.5(0.25 + 4 - 1) - ln2 = 1.625 - ln2.
        let expected = (0.5 + 1.625 - ln2) / 2.0;
        let grads = kl.backward();
        assert!((scalar(kl.inner()) - expected).abs() < 1e-6);
        // d/dmu = mu / N; d/dlog_std = (exp(2 log_std) - 1) / N.
        let gmu = mu
            .grad(&grads)
            .unwrap()
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        let gls = log_std
            .grad(&grads)
            .unwrap()
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        assert!((gmu[0] - 0.5).abs() < 1e-6 && (gmu[1] - 0.25).abs() < 1e-6);
        assert!(gls[0].abs() < 1e-6 && (gls[1] - 1.5).abs() < 1e-5);
    }

    #[test]
    fn kl_gradient_agrees_with_finite_differences() {
        let device = Device::flex();
        let mu = [0.3f32, -1.2, 0.7, 0.1];
        let ls = [-0.4f32, 0.2, 0.05, -1.0];
        let f = |mu: &[f32], ls: &[f32]| {
            scalar(kl_loss(t2(mu, [2, 2], &device), t2(ls, [2, 2], &device))) as f64
        };
        let ad = Device::flex().autodiff();
        let mu_t = t2(&mu, [2, 2], &ad).require_grad();
        let ls_t = t2(&ls, [2, 2], &ad).require_grad();
        let grads = kl_loss(mu_t.clone(), ls_t.clone()).backward();
        let g_ls = ls_t
            .grad(&grads)
            .unwrap()
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        let g_mu = mu_t
            .grad(&grads)
            .unwrap()
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        let h = 1e-2f32;
        for i in 0..4 {
            let (mut up, mut down) = (ls, ls);
            up[i] += h;
            down[i] -= h;
            let fd = (f(&mu, &up) - f(&mu, &down)) / (2.0 * h as f64);
            assert!(
                (fd - g_ls[i] as f64).abs() < 1e-3,
                "log_std[{i}]: fd {fd} vs {}",
                g_ls[i]
            );
            let (mut up, mut down) = (mu, mu);
            up[i] += h;
            down[i] -= h;
            let fd = (f(&up, &ls) - f(&down, &ls)) / (2.0 * h as f64);
            assert!(
                (fd - g_mu[i] as f64).abs() < 1e-3,
                "mu[{i}]: fd {fd} vs {}",
                g_mu[i]
            );
        }
    }

    #[test]
    fn free_bits_clamp_a_quiet_dimension_and_not_a_busy_one() {
        let device = Device::flex().autodiff();
        // Two images, two dimensions: dimension 0 busy (mu = ±2: KL 2 nats
        // each), dimension 1 near the prior (mu = ±0.1: KL 0.005 nats).
        let mu = t2(&[2.0, 0.1, -2.0, -0.1], [2, 2], &device).require_grad();
        let log_std = t2(&[0.0; 4], [2, 2], &device).require_grad();
        let per_dim = kl_per_dim(mu.clone().inner(), log_std.clone().inner());
        let per_dim = per_dim.into_data().try_to_vec::<f32>().unwrap();
        assert!((per_dim[0] - 2.0).abs() < 1e-6 && (per_dim[1] - 0.005).abs() < 1e-7);
        let fb = free_bits_kl(mu.clone(), log_std.clone(), 0.5);
        // max(0.5, 2) + max(0.5, 0.005) = 2.5.
        let grads = fb.backward();
        assert!((scalar(fb.inner()) - 2.5).abs() < 1e-6);
        let g = mu
            .grad(&grads)
            .unwrap()
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        // The busy dimension keeps its gradient mu / N; the clamped one has none.
        assert!((g[0] - 1.0).abs() < 1e-6 && (g[2] + 1.0).abs() < 1e-6);
        assert_eq!((g[1], g[3]), (0.0, 0.0));
        // λ = 0 is the plain KL.
        let plain = kl_loss(mu.clone().inner(), log_std.clone().inner());
        let zero = free_bits_kl(mu.inner(), log_std.inner(), 0.0);
        assert!((scalar(plain) - scalar(zero)).abs() < 1e-6);
    }

    #[test]
    fn the_capacity_gradient_changes_sign_where_kl_crosses_c() {
        // One image, one dimension, log_std 0: KL = mu² / 2; C = 0.5 nats at mu = 1.
        // C as a constant, or read from a tensor (a replayed step's buffer).
        let grad_at = |m: f32, c_in_tensor: bool| {
            let device = Device::flex().autodiff();
            let mu = t2(&[m], [1, 1], &device).require_grad();
            let kl = kl_loss(mu.clone(), t2(&[0.0], [1, 1], &device));
            let term = if c_in_tensor {
                let c = Tensor::<1>::from_data(TensorData::new(vec![0.5f32], [1]), &device);
                capacity_term_of(kl, 1000.0, c)
            } else {
                capacity_term(kl, 1000.0, 0.5)
            };
            mu.grad(&term.backward())
                .unwrap()
                .into_data()
                .try_to_vec::<f32>()
                .unwrap()[0]
        };
        // Below C the objective pushes KL up (d/dmu = -γ·mu), above C down (+γ·mu).
        for c_in_tensor in [false, true] {
            let (below, above) = (grad_at(0.5, c_in_tensor), grad_at(2.0, c_in_tensor));
            assert!((below + 500.0).abs() < 1e-3, "{below}");
            assert!((above - 2000.0).abs() < 1e-2, "{above}");
        }
        let device = Device::flex();
        let kl = Tensor::<1>::from_data(TensorData::new(vec![3.0f32], [1]), &device);
        assert!((scalar(capacity_term(kl.clone(), 10.0, 5.0)) - 20.0).abs() < 1e-5);
        let c = Tensor::<1>::from_data(TensorData::new(vec![5.0f32], [1]), &device);
        assert!((scalar(capacity_term_of(kl, 10.0, c)) - 20.0).abs() < 1e-5);
    }
}
