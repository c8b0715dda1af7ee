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
    /// A `[2]` tensor (factor, then ε) that outlives the step: a captured
    /// step reads it where the capture found it, so it is rewritten there
    /// before each replay.
    Pinned { values: Tensor<1> },
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

    /// Step `steps`' numbers in `into`'s buffer, or in a new one.
    pub(super) fn pinned(steps: i32, into: Option<Corrections>, device: &Device) -> Self {
        let values = Tensor::from_data(TensorData::new(Self::of_step(steps).to_vec(), [2]), device);
        match into {
            Some(Corrections::Pinned { values: into }) => Corrections::Pinned {
                values: write_into(into, values),
            },
            _ => Corrections::Pinned { values },
        }
    }

    /// The two numbers as the in-place kernel reads them (`in_place.rs`): the
    /// pinned buffer, or the scalars uploaded for this step.
    #[cfg(all(target_arch = "wasm32", feature = "webgpu"))]
    pub(super) fn values(&self, device: &Device) -> Tensor<1> {
        match self {
            Corrections::Scalars { factor, eps } => {
                Tensor::from_data(TensorData::new(vec![*factor, *eps], [2]), device)
            }
            Corrections::Pinned { values } => values.clone(),
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
            Corrections::Pinned { values } => {
                let factor = values.clone().narrow(0, 0, 1).reshape([1; D]);
                let eps = values.clone().narrow(0, 1, 1).reshape([1; D]);
                m.mul(factor).div(v.sqrt().add(eps))
            }
        }
    }
}
