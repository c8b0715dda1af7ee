//! The two architectures behind one type, and how a saved file says which one it holds.

use std::collections::HashMap;

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::{Device, Distribution, Tensor};

use crate::checkpoint::{self, CheckpointError};
use crate::loss::{LossMode, kl_loss, recon_loss};
use crate::model::{AutoEncoder, AutoEncoderConfig, Vae, VaeConfig};

/// Where the VAE's decoder takes its `z` from: a sample of the posterior, its
/// mean, or the caller's noise (the latent *statistics* are `latent.rs`'s).
// Built once per step and moved, never stored in bulk: its size does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum ZFrom {
    /// `mu + exp(log_std) * eps` with fresh noise from the device's generator:
    /// training, and the exercise's test loss.
    Sample,
    /// `z = mu`: the reconstruction a student sees, and PyTorch's parity numbers.
    Mean,
    /// `mu + exp(log_std) * eps` with the caller's `eps` (`[batch, latent]`):
    /// steps that must repeat another implementation's noise exactly.
    Noise(Tensor<2>),
}

/// Either architecture; kept as a plain enum (not a Burn module enum) so that
/// parameter paths stay `encoder.…` / `decoder.…` as PyTorch names them.
#[derive(Clone, Debug)]
pub enum Net {
    Ae(AutoEncoder),
    Vae(Vae),
}

impl Net {
    /// A freshly initialised model, its weights drawn now: Burn draws a
    /// parameter lazily, on its first use, and the driver reseeds the
    /// device's generator at each epoch's start, so a weight drawn on the
    /// first step would come from the epoch's noise stream instead of the seed's.
    pub fn new(mode: LossMode, latent: usize, device: &Device) -> Self {
        let net = match mode {
            LossMode::Ae => Net::Ae(AutoEncoderConfig::new(latent).init(device)),
            LossMode::Vae => Net::Vae(VaeConfig::new(latent).init(device)),
        };
        match &net {
            Net::Ae(m) => m.visit(&mut Draw),
            Net::Vae(m) => m.visit(&mut Draw),
        }
        net
    }

    pub fn num_params(&self) -> usize {
        match self {
            Net::Ae(m) => m.num_params(),
            Net::Vae(m) => m.num_params(),
        }
    }

    pub fn valid(&self) -> Net {
        match self {
            Net::Ae(m) => Net::Ae(m.valid()),
            Net::Vae(m) => Net::Vae(m.valid()),
        }
    }

    /// Losses `(recon, kl)` for a batch; the AE has no KL term and ignores `z`.
    pub fn losses(&self, x: Tensor<4>, z: ZFrom) -> (Tensor<1>, Option<Tensor<1>>) {
        let (recon, kl, _) = self.losses_and_code(x, z);
        (recon, kl)
    }

    /// [`Net::losses`] and the code the encoder gave: the AE's `z`, or the
    /// VAE's `(mu, log_std)` — for latent statistics without a second pass.
    pub fn losses_and_code(
        &self,
        x: Tensor<4>,
        z: ZFrom,
    ) -> (Tensor<1>, Option<Tensor<1>>, (Tensor<2>, Option<Tensor<2>>)) {
        match self {
            Net::Ae(m) => {
                let code = m.encoder.forward(x.clone());
                let recon = recon_loss(x, m.decoder.forward(code.clone()));
                (recon, None, (code, None))
            }
            Net::Vae(m) => {
                let (mu, log_std) = m.encode(x.clone());
                let z = match z {
                    ZFrom::Mean => mu.clone(),
                    ZFrom::Sample => {
                        let eps = Tensor::random(
                            mu.shape(),
                            Distribution::Normal(0.0, 1.0),
                            &mu.device(),
                        );
                        Vae::reparameterize(mu.clone(), log_std.clone(), eps)
                    }
                    ZFrom::Noise(eps) => Vae::reparameterize(mu.clone(), log_std.clone(), eps),
                };
                (
                    recon_loss(x, m.decoder.forward(z)),
                    Some(kl_loss(mu.clone(), log_std.clone())),
                    (mu, Some(log_std)),
                )
            }
        }
    }

    /// Reconstruction for display: the VAE decodes its mean.
    pub fn reconstruct(&self, x: Tensor<4>) -> Tensor<4> {
        match self {
            Net::Ae(m) => m.forward(x),
            Net::Vae(m) => m.decoder.forward(m.encode(x).0),
        }
    }

    /// The code a student explores: the AE's `z`, the VAE's mean.
    pub fn code(&self, x: Tensor<4>) -> Tensor<2> {
        match self {
            Net::Ae(m) => m.encoder.forward(x),
            Net::Vae(m) => m.encode(x).0,
        }
    }

    pub fn decode(&self, z: Tensor<2>) -> Tensor<4> {
        match self {
            Net::Ae(m) => m.decoder.forward(z),
            Net::Vae(m) => m.decoder.forward(z),
        }
    }

    pub async fn to_safetensors(
        &self,
        metadata: HashMap<String, String>,
    ) -> Result<Vec<u8>, CheckpointError> {
        match self {
            Net::Ae(m) => checkpoint::to_safetensors(m, metadata).await,
            Net::Vae(m) => checkpoint::to_safetensors(m, metadata).await,
        }
    }

    /// Build the model a SafeTensors file describes (AE or VAE, and its latent
    /// size, from the shapes of the `fc` layers) and load its weights.
    pub fn from_safetensors(
        bytes: &[u8],
        device: &Device,
    ) -> Result<(Net, LossMode, usize), CheckpointError> {
        let (mode, latent) = infer_architecture(bytes)?;
        let net = match Net::new(mode, latent, device) {
            Net::Ae(m) => Net::Ae(checkpoint::load_into(m, bytes)?),
            Net::Vae(m) => Net::Vae(checkpoint::load_into(m, bytes)?),
        };
        Ok((net, mode, latent))
    }
}

/// Initialises every parameter (reading one draws it).
struct Draw;

impl ModuleVisitor for Draw {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let _ = param.val();
    }
}

/// The architecture of a saved model: `decoder.fc.weight` is `[4096, latent]`
/// and `encoder.fc.weight` is `[latent, 4096]` (AE) or `[2 latent, 4096]` (VAE).
pub fn infer_architecture(bytes: &[u8]) -> Result<(LossMode, usize), CheckpointError> {
    let shape = |name: &str| {
        checkpoint::tensor_shape(bytes, name)?
            .ok_or_else(|| CheckpointError::MissingTensor(name.into()))
    };
    let dec = shape("decoder.fc.weight")?;
    let enc = shape("encoder.fc.weight")?;
    let mismatch = || CheckpointError::Shape {
        name: "encoder.fc.weight".into(),
        found: enc.clone(),
        expected: vec![dec.get(1).copied().unwrap_or(0), 4096],
    };
    let (&[_, latent], &[out, _]) = (dec.as_slice(), enc.as_slice()) else {
        return Err(mismatch());
    };
    match out {
        o if o == latent && latent > 0 => Ok((LossMode::Ae, latent)),
        o if o == 2 * latent && latent > 0 => Ok((LossMode::Vae, latent)),
        _ => Err(mismatch()),
    }
}
