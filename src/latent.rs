//! What the latent code does, measured on the test set: KL per dimension,
//! active units, and the paths (traversals, interpolations) a student decodes.
//! Computed once here; the CLI and the page only present the numbers.

use burn::tensor::Tensor;
use serde::Serialize;

/// A unit is *active* when the variance over the data of its posterior mean
/// exceeds this (Burda et al. 2016, "Importance Weighted Autoencoders").
pub const ACTIVE_UNIT_THRESHOLD: f32 = 0.01;

/// Per-dimension sums over the test images, kept on the device so that an
/// epoch's statistics cost one read at the end, not one per chunk.
pub struct LatentSums {
    count: usize,
    /// Σ μ_j (the AE: Σ z_j).
    mean: Tensor<1>,
    /// Σ μ_j².
    square: Tensor<1>,
    /// Σ KL_j (the VAE only).
    kl: Option<Tensor<1>>,
}

impl LatentSums {
    /// Sums of one chunk: `mu` (`[N, L]`, an AE's code or a VAE's mean) and,
    /// for a VAE, `log_std` (`[N, L]`).
    pub fn of(mu: Tensor<2>, log_std: Option<Tensor<2>>) -> Self {
        let [n, latent] = mu.dims();
        let kl = log_std.map(|log_std| {
            let var = log_std.clone().mul_scalar(2.0).exp();
            (mu.clone().square() + var)
                .sub_scalar(1.0)
                .mul_scalar(0.5)
                .sub(log_std)
                .sum_dim(0)
                .reshape([latent])
        });
        LatentSums {
            count: n,
            mean: mu.clone().sum_dim(0).reshape([latent]),
            square: mu.square().sum_dim(0).reshape([latent]),
            kl,
        }
    }

    /// Adds another chunk's sums.
    pub fn merge(self, other: LatentSums) -> Self {
        LatentSums {
            count: self.count + other.count,
            mean: self.mean + other.mean,
            square: self.square + other.square,
            kl: match (self.kl, other.kl) {
                (Some(a), Some(b)) => Some(a + b),
                _ => None,
            },
        }
    }

    pub fn count(&self) -> usize {
        self.count
    }

    /// Everything in one tensor, `[2L]` or `[3L]`, for a single read.
    pub fn packed(self) -> Tensor<1> {
        let mut parts = vec![self.mean, self.square];
        parts.extend(self.kl);
        Tensor::cat(parts, 0)
    }
}

/// How the test set uses each latent dimension.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LatentUsage {
    /// E_x[KL_j] in nats, per dimension (empty for an AE).
    pub kl_per_dim: Vec<f32>,
    /// Variance over the test set of μ_j (an AE: of z_j).
    pub variance: Vec<f32>,
    /// Dimensions whose variance exceeds [`ACTIVE_UNIT_THRESHOLD`].
    pub active_units: usize,
    pub threshold: f32,
    /// Dimensions by decreasing KL (an AE: by decreasing variance).
    pub order: Vec<usize>,
}

impl LatentUsage {
    /// From [`LatentSums::packed`] read back, over `count` images.
    pub fn from_packed(packed: &[f32], latent: usize, count: usize) -> Self {
        let n = count.max(1) as f64;
        let mean = &packed[..latent];
        let square = &packed[latent..2 * latent];
        let variance: Vec<f32> = mean
            .iter()
            .zip(square)
            .map(|(&s, &s2)| {
                let m = s as f64 / n;
                // Population variance; never below zero from rounding.
                (s2 as f64 / n - m * m).max(0.0) as f32
            })
            .collect();
        let kl_per_dim: Vec<f32> = packed
            .get(2 * latent..3 * latent)
            .map(|kl| kl.iter().map(|&k| (k as f64 / n) as f32).collect())
            .unwrap_or_default();
        let key = if kl_per_dim.is_empty() {
            &variance
        } else {
            &kl_per_dim
        };
        let mut order: Vec<usize> = (0..latent).collect();
        order.sort_by(|&a, &b| key[b].total_cmp(&key[a]));
        LatentUsage {
            active_units: variance
                .iter()
                .filter(|&&v| v > ACTIVE_UNIT_THRESHOLD)
                .count(),
            kl_per_dim,
            variance,
            threshold: ACTIVE_UNIT_THRESHOLD,
            order,
        }
    }
}

/// `steps` codes from `a` to `b` in a straight line, both ends included.
pub fn lerp_path(a: &[f32], b: &[f32], steps: usize) -> Vec<Vec<f32>> {
    (0..steps)
        .map(|i| {
            let t = if steps > 1 {
                i as f32 / (steps - 1) as f32
            } else {
                0.0
            };
            a.iter().zip(b).map(|(x, y)| x + t * (y - x)).collect()
        })
        .collect()
}

/// Spherical interpolation (White 2016, "Sampling Generative Networks"):
/// between two draws of N(0, I) it keeps the path where the prior's mass is,
/// which a straight line through the origin's neighbourhood does not.
pub fn slerp(a: &[f32], b: &[f32], t: f32) -> Vec<f32> {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum();
    let na: f64 = a.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    let cos = (dot / (na * nb)).clamp(-1.0, 1.0);
    let omega = cos.acos();
    let t = t as f64;
    if omega.sin() < 1e-6 {
        // Parallel, opposite or zero vectors: no single great circle joins
        // them (or the line is the arc), so take the straight line.
        return a
            .iter()
            .zip(b)
            .map(|(x, y)| (*x as f64 + t * (*y as f64 - *x as f64)) as f32)
            .collect();
    }
    let (sa, sb) = (
        ((1.0 - t) * omega).sin() / omega.sin(),
        (t * omega).sin() / omega.sin(),
    );
    a.iter()
        .zip(b)
        .map(|(x, y)| (sa * *x as f64 + sb * *y as f64) as f32)
        .collect()
}

/// `steps` codes from `a` to `b` along [`slerp`], both ends included.
pub fn slerp_path(a: &[f32], b: &[f32], steps: usize) -> Vec<Vec<f32>> {
    (0..steps)
        .map(|i| {
            slerp(
                a,
                b,
                if steps > 1 {
                    i as f32 / (steps - 1) as f32
                } else {
                    0.0
                },
            )
        })
        .collect()
}

/// A traversal: for each dimension in `dims`, `z` with that one coordinate
/// swept over `values` (the others kept), row after row.
pub fn traversal(z: &[f32], dims: &[usize], values: &[f32]) -> Vec<Vec<f32>> {
    dims.iter()
        .flat_map(|&d| {
            values.iter().map(move |&v| {
                let mut code = z.to_vec();
                code[d] = v;
                code
            })
        })
        .collect()
}

/// `n` evenly spaced values over `[-limit, limit]`.
pub fn sweep(limit: f32, n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| -limit + 2.0 * limit * i as f32 / (n.max(2) - 1) as f32)
        .collect()
}

/// One latent dimension's values over the test set, binned, beside the
/// prior N(0, 1): the aggregate posterior a sample from the prior must match.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Histogram {
    pub dim: usize,
    /// The binned range: at least [-4, 4], wider when the values are.
    pub lo: f32,
    pub hi: f32,
    /// Density per bin (integrates to 1 over [lo, hi]).
    pub density: Vec<f32>,
    /// N(0, 1)'s density at each bin's centre.
    pub prior: Vec<f32>,
}

/// [`Histogram`] of `values` in `bins` equal bins.
pub fn histogram(dim: usize, values: &[f32], bins: usize) -> Histogram {
    let bins = bins.max(1);
    let finite = values.iter().copied().filter(|v| v.is_finite());
    let (min, max) = finite.fold((-4f32, 4f32), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let width = (max - min) as f64 / bins as f64;
    let mut counts = vec![0usize; bins];
    let mut n = 0usize;
    for &v in values.iter().filter(|v| v.is_finite()) {
        let k = (((v - min) as f64 / width) as usize).min(bins - 1);
        counts[k] += 1;
        n += 1;
    }
    let density = counts
        .iter()
        .map(|&c| (c as f64 / (n.max(1) as f64 * width)) as f32)
        .collect();
    let prior = (0..bins)
        .map(|k| {
            let x = min as f64 + (k as f64 + 0.5) * width;
            ((-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt()) as f32
        })
        .collect();
    Histogram {
        dim,
        lo: min,
        hi: max,
        density,
        prior,
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use burn::tensor::{Device, TensorData};

    fn t2(v: Vec<f32>, shape: [usize; 2], device: &Device) -> Tensor<2> {
        Tensor::from_data(TensorData::new(v, shape), device)
    }

    fn read(t: Tensor<1>) -> Vec<f32> {
        t.into_data().try_to_vec::<f32>().unwrap()
    }

    /// Three images, two dimensions. Dimension 0: μ = (1, -1, 0), σ = 1 →
    /// KL_0 per image 0.5·μ², mean 1/3; variance of μ 2/3 (active).
    /// Dimension 1: μ = 0.05 everywhere, log σ = -1 → KL_1 per image
    /// 0.5·(0.0025 + e⁻² − 1) + 1; variance 0 (inactive).
    #[test]
    fn kl_per_dimension_and_active_units_match_hand_computed_values() {
        let device = Device::flex();
        let mu = [1.0, 0.05, -1.0, 0.05, 0.0, 0.05];
        let log_std = [0.0, -1.0, 0.0, -1.0, 0.0, -1.0];
        // Two chunks (2 + 1 images) must give what one chunk gives.
        let a = LatentSums::of(
            t2(mu[..4].to_vec(), [2, 2], &device),
            Some(t2(log_std[..4].to_vec(), [2, 2], &device)),
        );
        let b = LatentSums::of(
            t2(mu[4..].to_vec(), [1, 2], &device),
            Some(t2(log_std[4..].to_vec(), [1, 2], &device)),
        );
        let sums = a.merge(b);
        assert_eq!(sums.count(), 3);
        let usage = LatentUsage::from_packed(&read(sums.packed()), 2, 3);
        let kl1 = 0.5 * (0.0025 + (-2.0f64).exp() - 1.0) + 1.0;
        assert!((usage.kl_per_dim[0] as f64 - 1.0 / 3.0).abs() < 1e-6);
        assert!((usage.kl_per_dim[1] as f64 - kl1).abs() < 1e-6);
        assert!((usage.variance[0] as f64 - 2.0 / 3.0).abs() < 1e-6);
        assert!(usage.variance[1].abs() < 1e-6);
        assert_eq!(usage.active_units, 1);
        // Dimension 1 has the larger KL (0.568 > 0.333) yet is inactive: KL
        // alone does not say a unit carries information.
        assert_eq!(usage.order, vec![1, 0]);
    }

    #[test]
    fn an_autoencoder_is_ranked_by_the_variance_of_its_code() {
        let device = Device::flex();
        let z = t2(vec![0.0, 3.0, 0.1, -3.0], [2, 2], &device);
        let usage = LatentUsage::from_packed(&read(LatentSums::of(z, None).packed()), 2, 2);
        assert!(usage.kl_per_dim.is_empty());
        assert!((usage.variance[1] - 9.0).abs() < 1e-5);
        assert!((usage.variance[0] - 0.0025).abs() < 1e-6);
        assert_eq!(usage.active_units, 1);
        assert_eq!(usage.order, vec![1, 0]);
    }

    #[test]
    fn slerp_of_orthogonal_unit_vectors_stays_on_the_unit_circle() {
        let mid = slerp(&[1.0, 0.0], &[0.0, 1.0], 0.5);
        let norm = (mid[0] * mid[0] + mid[1] * mid[1]).sqrt();
        assert!((norm - 1.0).abs() < 1e-6, "norm {norm}");
        assert!((mid[0] - mid[1]).abs() < 1e-6);
        // The straight line's midpoint is inside the circle.
        let line = &lerp_path(&[1.0, 0.0], &[0.0, 1.0], 3)[1];
        assert!((line[0] * line[0] + line[1] * line[1]).sqrt() < 0.75);
    }

    #[test]
    fn slerp_between_opposite_vectors_stays_finite() {
        let mid = slerp(&[1.0, 1.0], &[-1.0, -1.0], 0.25);
        assert!(mid.iter().all(|v| v.is_finite()), "{mid:?}");
        assert!((mid[0] - 0.5).abs() < 1e-6);
    }

    #[test]
    fn paths_start_and_end_at_their_endpoints() {
        let (a, b) = (vec![1.0, -2.0, 0.5], vec![-1.0, 4.0, 2.0]);
        for path in [lerp_path(&a, &b, 10), slerp_path(&a, &b, 10)] {
            assert_eq!(path.len(), 10);
            for (x, y) in path[0].iter().zip(&a) {
                assert!((x - y).abs() < 1e-6);
            }
            for (x, y) in path[9].iter().zip(&b) {
                assert!((x - y).abs() < 1e-5);
            }
        }
    }

    #[test]
    fn a_traversal_changes_one_dimension_per_row() {
        let z = vec![0.5, 0.5, 0.5];
        let values = sweep(3.0, 7);
        assert_eq!(values.first(), Some(&-3.0));
        assert_eq!(values.last(), Some(&3.0));
        let codes = traversal(&z, &[2, 0], &values);
        assert_eq!(codes.len(), 14);
        assert_eq!(codes[0], vec![0.5, 0.5, -3.0]);
        assert_eq!(codes[13], vec![3.0, 0.5, 0.5]);
    }

    #[test]
    fn a_histogram_is_a_density_beside_the_prior() {
        // Eight bins of width 1 over [-4, 4]: values 0.5 (twice) and -3.5.
        let h = histogram(2, &[0.5, 0.5, -3.5, f32::NAN], 8);
        assert_eq!((h.dim, h.lo, h.hi), (2, -4.0, 4.0));
        let third = 1.0 / 3.0;
        let mut want = [0.0f32; 8];
        want[0] = third;
        want[4] = 2.0 * third;
        for (g, w) in h.density.iter().zip(want) {
            assert!((g - w).abs() < 1e-6, "{:?}", h.density);
        }
        // N(0, 1) at the centre 0.5 of bin 4: e^{-1/8} / √(2π).
        assert!((h.prior[4] - 0.352_065_3).abs() < 1e-6, "{}", h.prior[4]);
        // Values beyond ±4 widen the range; the density still integrates to 1.
        let wide = histogram(0, &[-10.0, 0.0, 6.0], 4);
        assert_eq!((wide.lo, wide.hi), (-10.0, 6.0));
        let area: f32 = wide.density.iter().map(|d| d * 4.0).sum();
        assert!((area - 1.0).abs() < 1e-6);
    }
}
