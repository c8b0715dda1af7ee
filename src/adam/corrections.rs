//! The two numbers of Adam's update that change with the step count, as a
//! usual step takes them (kernel scalars) or a captured one (buffers).

use burn::tensor::{Device, Tensor, TensorData};

use super::{BETA_1, BETA_2, EPSILON};
use crate::train::replay::write_into;

/// The two numbers of Adam's update that change with the step count t:
/// `sqrt(1 - b2^t) / (1 - b1^t)` and `eps * sqrt(1 - b2^t)`.
// One value per optimiser, cloned once a step: its size does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Clone)]
pub(super) enum Corrections {
    /// Scalars of the kernels: the usual step (as few kernels as the storage
    /// buffers of one allow: two tensors more split each parameter's update
    /// into one more kernel, +25 launches a step).
    Scalars { factor: f32, eps: f32 },
    /// `[1]` tensors that outlive the step: a captured step reads them where
    /// the capture found them, so they are rewritten there before each replay.
    Pinned { factor: Tensor<1>, eps: Tensor<1> },
}

impl Corrections {
    fn of_step(steps: i32) -> [f32; 2] {
        let bias_2 = (1.0 - BETA_2.powi(steps)).sqrt();
        [bias_2 / (1.0 - BETA_1.powi(steps)), EPSILON * bias_2]
    }

    pub(super) fn scalars(steps: i32) -> Self {
        let [factor, eps] = Self::of_step(steps);
        Corrections::Scalars { factor, eps }
    }

    /// Step `steps`' numbers in `into`'s buffers, or in new ones.
    pub(super) fn pinned(steps: i32, into: Option<Corrections>, device: &Device) -> Self {
        let [factor, eps] =
            Self::of_step(steps).map(|x| Tensor::from_data(TensorData::new(vec![x], [1]), device));
        match into {
            Some(Corrections::Pinned { factor: f, eps: e }) => Corrections::Pinned {
                factor: write_into(f, factor),
                eps: write_into(e, eps),
            },
            _ => Corrections::Pinned { factor, eps },
        }
    }

    /// Burn's arrangement of PyTorch's update, kept to the operation so that
    /// the parity tests' numbers stay what they were:
    /// m / (1 - b1^t) / (sqrt(v / (1 - b2^t)) + eps).
    pub(super) fn update<const D: usize>(&self, m: Tensor<D>, v: Tensor<D>) -> Tensor<D> {
        match self {
            Corrections::Scalars { factor, eps } => {
                m.mul_scalar(*factor).div(v.sqrt().add_scalar(*eps))
            }
            Corrections::Pinned { factor, eps } => m
                .mul(factor.clone().reshape([1; D]))
                .div(v.sqrt().add(eps.clone().reshape([1; D]))),
        }
    }
}
