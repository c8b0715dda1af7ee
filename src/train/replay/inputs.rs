//! What a replayed step reads that changes from step to step, rewritten in
//! the buffers the capture read (`replay.rs`).

use burn::tensor::{Device, Distribution, Tensor, TensorData};

use crate::net::ZFrom;
use crate::schedule::KlWeight;

/// `dst`'s buffer holding `src`'s values, in place: `dst` must be the only
/// handle to its buffer (CubeCL writes a slice assignment in place then,
/// `burn-cubecl kernel/index/slice_assign.rs`, and copies otherwise).
pub(crate) fn write_into<const D: usize>(dst: Tensor<D>, src: Tensor<D>) -> Tensor<D> {
    let ranges = dst.dims().map(|d| 0..d);
    dst.slice_assign(ranges, src)
}

/// What a VAE step takes besides the batch that changes from step to step,
/// in buffers (without autodiff) that a replay reads: the noise of the
/// reparameterisation and the KL's weight. The AE's step takes neither.
pub(super) struct Inputs {
    noise: Option<Tensor<2>>,
    /// β, or under the capacity objective C (its γ is a recorded constant).
    pub(super) weight: Option<Tensor<1>>,
}

impl Inputs {
    pub(super) fn new(vae: bool, batch: usize, latent: usize, device: &Device) -> Self {
        Inputs {
            noise: vae.then(|| Tensor::zeros([batch, latent], device)),
            weight: vae.then(|| Tensor::zeros([1], device)),
        }
    }

    /// The next step's: noise drawn as the usual step draws it (one draw a
    /// step, from the device's generator) and its β or C.
    pub(super) fn refresh(&mut self, weight: KlWeight, device: &Device) {
        if let Some(noise) = self.noise.take() {
            let fresh = Tensor::random(noise.dims(), Distribution::Normal(0.0, 1.0), device);
            self.noise = Some(write_into(noise, fresh));
        }
        if let Some(buffer) = self.weight.take() {
            let value = match weight {
                KlWeight::Beta(beta) => beta,
                KlWeight::Capacity { capacity, .. } => capacity,
            };
            let value = Tensor::from_data(TensorData::new(vec![value], [1]), device);
            self.weight = Some(write_into(buffer, value));
        }
    }

    pub(super) fn z(&self) -> ZFrom {
        match &self.noise {
            Some(noise) => ZFrom::Noise(Tensor::from_inner(noise.clone())),
            None => ZFrom::Sample,
        }
    }
}
