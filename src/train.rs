//! The one training core: used as-is by the command line (CPU or native GPU)
//! and by the browser (WebGPU). It never touches files, threads or clocks,
//! and never blocks on a device read: losses stay on the device and come back
//! in one asynchronous read per `flush_metrics` call, which matters on WebGPU
//! where every read-back is a round trip through the browser's event loop.

use std::collections::HashMap;

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Distribution, Tensor, TensorData};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution as _, StandardNormal};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::checkpoint::{self, CheckpointError};
use crate::dataset::Images;
use crate::loss::{LossMode, kl_loss, recon_loss};
use crate::model::{AutoEncoder, AutoEncoderConfig, Vae, VaeConfig};
use crate::schedule::BetaSchedule;

/// PyTorch's `clip_grad_norm_(model.parameters(), 1.0)`.
pub const MAX_GRAD_NORM: f32 = 1.0;
/// Samples drawn from the fixed noise (a 10x10 grid).
pub const SAMPLE_COUNT: usize = 100;
/// Test images shown beside their reconstructions, as in the exercise.
pub const RECON_COUNT: usize = 36;
const EVAL_BATCH: usize = 500;

/// One run's settings. Field names in JSON are camelCase (the page's URL and
/// the wasm API use them); the command line maps the exercise's flags onto them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct TrainConfig {
    pub loss_mode: LossMode,
    pub latent_size: usize,
    pub target_beta: f32,
    pub beta_mode: BetaSchedule,
    pub num_epochs: usize,
    pub batch_size: usize,
    pub lr: f64,
    pub seed: u64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            loss_mode: LossMode::Ae,
            latent_size: 128,
            target_beta: 1.0,
            beta_mode: BetaSchedule::Constant,
            num_epochs: 20,
            batch_size: 256,
            lr: 1e-3,
            seed: 0,
        }
    }
}

#[derive(Debug, Error, PartialEq)]
#[error("{field}: {message}")]
pub struct ConfigError {
    pub field: &'static str,
    pub message: String,
}

impl TrainConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |field, message: String| Err(ConfigError { field, message });
        if !(1..=4096).contains(&self.latent_size) {
            return bad(
                "latentSize",
                format!(
                    "{} is out of range; use 1 to 4096 (the exercise uses 16, 128, 1024)",
                    self.latent_size
                ),
            );
        }
        if !self.target_beta.is_finite() || !(0.0..=100.0).contains(&self.target_beta) {
            return bad(
                "targetBeta",
                format!("{} is not a beta between 0 and 100", self.target_beta),
            );
        }
        if !(1..=10_000).contains(&self.num_epochs) {
            return bad(
                "numEpochs",
                format!("{} is out of range; use 1 to 10000", self.num_epochs),
            );
        }
        if !(1..=4096).contains(&self.batch_size) {
            return bad(
                "batchSize",
                format!("{} is out of range; use 1 to 4096", self.batch_size),
            );
        }
        if !self.lr.is_finite() || self.lr <= 0.0 || self.lr > 1.0 {
            return bad(
                "lr",
                format!("{} is not a learning rate in (0, 1]", self.lr),
            );
        }
        Ok(())
    }

    pub fn beta(&self, epoch: usize) -> f32 {
        self.beta_mode
            .beta(self.target_beta, epoch, self.num_epochs)
    }
}

#[derive(Debug, Error, PartialEq)]
pub enum TrainError {
    #[error("invalid configuration: {0}")]
    Config(#[from] ConfigError),
    #[error(
        "the {what} loss became {value} at step {step} (epoch {epoch}); training stopped. Try a smaller learning rate or beta"
    )]
    NonFinite {
        what: &'static str,
        value: f32,
        step: usize,
        epoch: usize,
    },
    #[error("no training images loaded")]
    NoData,
    #[error("no test images loaded (test_batch.bin)")]
    NoTestData,
    #[error("reading results from the device failed: {0}")]
    Device(String),
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
}

/// Losses of one training step, as read back from the device.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StepMetrics {
    /// 1-based count of optimiser steps so far.
    pub step: usize,
    /// 0-based epoch, as the exercise's loop variable.
    pub epoch: usize,
    pub beta: f32,
    pub batch: usize,
    pub recon: f32,
    pub kl: f32,
    pub total: f32,
}

/// Averages over a whole test set.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EvalMetrics {
    pub recon: f32,
    pub kl: f32,
    /// recon + kl: the VAE's test loss is taken at beta 1, as in the exercise.
    pub total: f32,
}

/// Either architecture; kept as a plain enum (not a Burn module enum) so that
/// parameter paths stay `encoder.…` / `decoder.…` as PyTorch names them.
#[derive(Clone, Debug)]
pub enum Net {
    Ae(AutoEncoder),
    Vae(Vae),
}

impl Net {
    pub fn new(mode: LossMode, latent: usize, device: &Device) -> Self {
        match mode {
            LossMode::Ae => Net::Ae(AutoEncoderConfig::new(latent).init(device)),
            LossMode::Vae => Net::Vae(VaeConfig::new(latent).init(device)),
        }
    }

    pub fn num_params(&self) -> usize {
        match self {
            Net::Ae(m) => m.num_params(),
            Net::Vae(m) => m.num_params(),
        }
    }

    fn valid(&self) -> Net {
        match self {
            Net::Ae(m) => Net::Ae(m.valid()),
            Net::Vae(m) => Net::Vae(m.valid()),
        }
    }

    /// Losses `(recon, kl)` for a batch; the AE has no KL term. The VAE
    /// samples `z` with fresh noise from the device's generator.
    fn losses(&self, x: Tensor<4>) -> (Tensor<1>, Option<Tensor<1>>) {
        match self {
            Net::Ae(m) => (recon_loss(x.clone(), m.forward(x)), None),
            Net::Vae(m) => {
                let (mu, log_std) = m.encode(x.clone());
                let eps = Tensor::random(mu.shape(), Distribution::Normal(0.0, 1.0), &mu.device());
                let z = Vae::reparameterize(mu.clone(), log_std.clone(), eps);
                (
                    recon_loss(x, m.decoder.forward(z)),
                    Some(kl_loss(mu, log_std)),
                )
            }
        }
    }

    /// Reconstruction for display: the VAE decodes its mean.
    fn reconstruct(&self, x: Tensor<4>) -> Tensor<4> {
        match self {
            Net::Ae(m) => m.forward(x),
            Net::Vae(m) => m.decoder.forward(m.encode(x).0),
        }
    }

    fn decode(&self, z: Tensor<2>) -> Tensor<4> {
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

/// Sums the squares of every gradient: one norm over all parameters together.
struct SquaredNorm<'a> {
    grads: &'a GradientsParams,
    total: Option<Tensor<1>>,
}

impl ModuleVisitor for SquaredNorm<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(g) = self.grads.get::<D>(param.id) {
            let s = g.square().sum();
            self.total = Some(match self.total.take() {
                Some(t) => t + s,
                None => s,
            });
        }
    }
}

struct Scale<'a> {
    grads: &'a mut GradientsParams,
    factor: Tensor<1>,
}

impl ModuleVisitor for Scale<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(g) = self.grads.remove::<D>(param.id) {
            let f = self.factor.clone().reshape([1; D]);
            self.grads.register(param.id, g * f);
        }
    }
}

/// PyTorch's `clip_grad_norm_`: scale all gradients by
/// `min(1, max_norm / (total_norm + 1e-6))`, computed on the device (no read-back).
/// Burn's own `GradientClipping::Norm` clips each tensor by its own norm instead.
pub fn clip_global_norm<M: Module>(
    model: &M,
    grads: &mut GradientsParams,
    max_norm: f32,
) -> Option<Tensor<1>> {
    let mut norm = SquaredNorm { grads, total: None };
    model.visit(&mut norm);
    let total_norm = norm.total?.sqrt();
    let factor = total_norm
        .clone()
        .add_scalar(1e-6)
        .recip()
        .mul_scalar(max_norm)
        .clamp_max(1.0);
    model.visit(&mut Scale { grads, factor });
    Some(total_norm)
}

fn optimize<M: Module>(optim: &mut ModuleOptimizer, lr: f64, model: M, loss: &Tensor<1>) -> M {
    let mut grads = GradientsParams::from_grads(loss.backward(), &model);
    clip_global_norm(&model, &mut grads, MAX_GRAD_NORM);
    optim.step(lr, model, grads)
}

fn adam() -> ModuleOptimizer {
    AdamConfig::new().with_epsilon(1e-8).init()
}

struct Pending {
    /// `[recon, kl, total]` of one VAE step, or `[recon]` of an AE step (its
    /// KL is 0 and its total is recon), still on the device.
    values: Tensor<1>,
    step: usize,
    epoch: usize,
    beta: f32,
    batch: usize,
}

pub struct Trainer {
    config: TrainConfig,
    device: Device,
    net: Option<Net>,
    optim: ModuleOptimizer,
    epoch: usize,
    step: usize,
    /// Beta and schedule may change mid-run (the page's sliders); recorded per step.
    pending: Vec<Pending>,
    history: Vec<StepMetrics>,
    fixed_noise: Tensor<2>,
}

impl Trainer {
    /// `device` is the plain device (`Device::flex()`, a wgpu device, …);
    /// gradients are enabled on it here.
    pub fn new(config: TrainConfig, device: &Device) -> Result<Self, TrainError> {
        config.validate()?;
        let device = device.clone().autodiff();
        device.seed(config.seed);
        let net = Net::new(config.loss_mode, config.latent_size, &device);
        let mut rng = StdRng::seed_from_u64(config.seed);
        let noise: Vec<f32> = (0..SAMPLE_COUNT * config.latent_size)
            .map(|_| StandardNormal.sample(&mut rng))
            .collect();
        let fixed_noise = Tensor::from_data(
            TensorData::new(noise, [SAMPLE_COUNT, config.latent_size]),
            &device.clone().inner(),
        );
        Ok(Self {
            config,
            device,
            net: Some(net),
            optim: adam(),
            epoch: 0,
            step: 0,
            pending: Vec::new(),
            history: Vec::new(),
            fixed_noise,
        })
    }

    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    pub fn net(&self) -> &Net {
        self.net.as_ref().expect("model present between steps")
    }

    /// 0-based epoch in progress (equals `num_epochs` when finished).
    pub fn epoch(&self) -> usize {
        self.epoch
    }

    pub fn step_count(&self) -> usize {
        self.step
    }

    pub fn is_finished(&self) -> bool {
        self.epoch >= self.config.num_epochs
    }

    /// Beta used by steps of the current epoch.
    pub fn beta(&self) -> f32 {
        self.config.beta(self.epoch)
    }

    /// Change beta's target and schedule; takes effect from the next step.
    pub fn set_beta(&mut self, target: f32, mode: BetaSchedule) -> Result<(), TrainError> {
        let mut c = self.config.clone();
        c.target_beta = target;
        c.beta_mode = mode;
        c.validate()?;
        self.config = c;
        Ok(())
    }

    /// Change the number of epochs (e.g. to train further after a run ends).
    pub fn set_num_epochs(&mut self, num_epochs: usize) -> Result<(), TrainError> {
        let mut c = self.config.clone();
        c.num_epochs = num_epochs;
        c.validate()?;
        self.config = c;
        Ok(())
    }

    /// The device batches must be on for [`train_on`](Self::train_on) (gradients enabled).
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// One optimiser step on `train[indices]`.
    pub fn train_step(&mut self, train: &dyn Images, indices: &[usize]) -> Result<(), TrainError> {
        if indices.is_empty() {
            return Err(TrainError::NoData);
        }
        self.train_on(train.batch(indices, &self.device))
    }

    /// One optimiser step on a batch already built on [`device`](Self::device).
    pub fn train_on(&mut self, x: Tensor<4>) -> Result<(), TrainError> {
        let batch = x.dims()[0];
        if batch == 0 {
            return Err(TrainError::NoData);
        }
        let beta = self.beta();
        let net = self.net.take().expect("model present between steps");
        let (recon, kl) = net.losses(x);
        let total = match &kl {
            Some(kl) => recon.clone() + kl.clone().mul_scalar(beta),
            None => recon.clone(),
        };
        let values = match kl {
            Some(kl) => Tensor::cat(vec![recon, kl, total.clone()], 0),
            None => recon,
        }
        .detach()
        .inner();
        let lr = self.config.lr;
        self.net = Some(match net {
            Net::Ae(m) => Net::Ae(optimize(&mut self.optim, lr, m, &total)),
            Net::Vae(m) => Net::Vae(optimize(&mut self.optim, lr, m, &total)),
        });
        self.step += 1;
        self.pending.push(Pending {
            values,
            step: self.step,
            epoch: self.epoch,
            beta,
            batch,
        });
        Ok(())
    }

    /// Close the current epoch (after its evaluation).
    pub fn end_epoch(&mut self) {
        self.epoch += 1;
    }

    /// Continue a run from a snapshot taken at the end of epoch `epoch - 1`.
    pub fn set_epoch(&mut self, epoch: usize) {
        self.epoch = epoch;
    }

    /// Read the losses of the steps since the last call in one device read.
    /// A NaN or infinite loss is reported with the step where it appeared.
    pub async fn flush_metrics(&mut self) -> Result<Vec<StepMetrics>, TrainError> {
        if self.pending.is_empty() {
            return Ok(Vec::new());
        }
        let pending = std::mem::take(&mut self.pending);
        let all = Tensor::cat(pending.iter().map(|p| p.values.clone()).collect(), 0);
        let values = read_f32(all).await?;
        let mut out = Vec::with_capacity(pending.len());
        let mut rest = values.as_slice();
        for p in &pending {
            let v = match (self.config.loss_mode, rest) {
                (LossMode::Vae, [recon, kl, total, tail @ ..]) => {
                    rest = tail;
                    [*recon, *kl, *total]
                }
                (LossMode::Ae, [recon, tail @ ..]) => {
                    rest = tail;
                    [*recon, 0.0, *recon]
                }
                _ => {
                    return Err(TrainError::Device(
                        "fewer losses read back than steps".into(),
                    ));
                }
            };
            for (what, value) in [("reconstruction", v[0]), ("KL", v[1]), ("total", v[2])] {
                if !value.is_finite() {
                    return Err(TrainError::NonFinite {
                        what,
                        value,
                        step: p.step,
                        epoch: p.epoch,
                    });
                }
            }
            out.push(StepMetrics {
                step: p.step,
                epoch: p.epoch,
                beta: p.beta,
                batch: p.batch,
                recon: v[0],
                kl: v[1],
                total: v[2],
            });
        }
        self.history.extend_from_slice(&out);
        Ok(out)
    }

    /// Every step read back so far.
    pub fn history(&self) -> &[StepMetrics] {
        &self.history
    }

    /// Image-weighted mean of the read-back steps of `epoch`.
    pub fn epoch_train_metrics(&self, epoch: usize) -> Option<EvalMetrics> {
        let (mut r, mut k, mut t, mut n) = (0f64, 0f64, 0f64, 0f64);
        for m in self.history.iter().filter(|m| m.epoch == epoch) {
            let b = m.batch as f64;
            r += m.recon as f64 * b;
            k += m.kl as f64 * b;
            t += m.total as f64 * b;
            n += b;
        }
        (n > 0.0).then(|| EvalMetrics {
            recon: (r / n) as f32,
            kl: (k / n) as f32,
            total: (t / n) as f32,
        })
    }

    /// Test losses over all of `test` (the VAE at beta 1 with z sampled).
    pub async fn evaluate(&self, test: &dyn Images) -> Result<EvalMetrics, TrainError> {
        if test.is_empty() {
            return Err(TrainError::NoTestData);
        }
        let net = self.net().valid();
        let device = self.device.clone().inner();
        let mut sums: Option<Tensor<1>> = None;
        let indices: Vec<usize> = (0..test.len()).collect();
        for chunk in indices.chunks(EVAL_BATCH) {
            let (recon, kl) = net.losses(test.batch(chunk, &device));
            let kl = kl.unwrap_or_else(|| Tensor::zeros([1], &device));
            let part = Tensor::cat(vec![recon, kl], 0).mul_scalar(chunk.len() as f64);
            sums = Some(match sums {
                Some(s) => s + part,
                None => part,
            });
        }
        let v = read_f32(sums.expect("non-empty test set")).await?;
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
        Ok(EvalMetrics {
            recon,
            kl,
            total: recon + kl,
        })
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

    /// Decodings of the first `n` rows of the fixed noise (`n` ≤ 100).
    pub async fn sample(&self, n: usize) -> Result<Vec<f32>, TrainError> {
        let n = n.min(SAMPLE_COUNT);
        let z = self.fixed_noise.clone().narrow(0, 0, n);
        read_f32(self.net().valid().decode(z).flatten(0, 3)).await
    }

    /// The model as SafeTensors bytes in the exercise's PyTorch layout.
    pub async fn save(&self) -> Result<Vec<u8>, TrainError> {
        let mut meta = HashMap::new();
        meta.insert("producer".into(), "vaelab".into());
        meta.insert("loss_mode".into(), self.config.loss_mode.name().into());
        meta.insert("latent_size".into(), self.config.latent_size.to_string());
        meta.insert(
            "config".into(),
            serde_json::to_string(&self.config).unwrap_or_default(),
        );
        meta.insert("epochs_trained".into(), self.epoch.to_string());
        Ok(self.net().to_safetensors(meta).await?)
    }

    /// Replace the weights with a saved model of the same architecture and
    /// restart Adam's moments (they are not part of the file).
    pub fn load(&mut self, bytes: &[u8]) -> Result<(), TrainError> {
        let (mode, latent) = infer_architecture(bytes)?;
        if mode != self.config.loss_mode || latent != self.config.latent_size {
            return Err(TrainError::Checkpoint(CheckpointError::Shape {
                name: format!("model ({} latent {latent})", mode.name()),
                found: vec![latent],
                expected: vec![self.config.latent_size],
            }));
        }
        let (net, _, _) = Net::from_safetensors(bytes, &self.device)?;
        self.net = Some(net);
        self.optim = adam();
        Ok(())
    }
}

/// One asynchronous read of a tensor's values.
pub async fn read_f32(t: Tensor<1>) -> Result<Vec<f32>, TrainError> {
    let data = t
        .into_data_async()
        .await
        .map_err(|e| TrainError::Device(format!("{e:?}")))?;
    data.convert::<f32>()
        .try_to_vec::<f32>()
        .map_err(|e| TrainError::Device(format!("{e:?}")))
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn config_errors_name_the_field() {
        let mut c = TrainConfig {
            latent_size: 0,
            ..Default::default()
        };
        assert_eq!(c.validate().unwrap_err().field, "latentSize");
        c.latent_size = 16;
        c.lr = f64::NAN;
        assert_eq!(c.validate().unwrap_err().field, "lr");
        c.lr = 1e-3;
        c.target_beta = -1.0;
        assert_eq!(c.validate().unwrap_err().field, "targetBeta");
        c.target_beta = 1.0;
        c.batch_size = 0;
        assert_eq!(c.validate().unwrap_err().field, "batchSize");
        let json = r#"{"lossMode":"vae","latentSise":16}"#;
        let err = serde_json::from_str::<TrainConfig>(json)
            .unwrap_err()
            .to_string();
        assert!(err.contains("latentSise"), "{err}");
    }

    /// Squared norm of every gradient, read on the CPU, keyed by parameter order.
    struct ReadNorms<'a> {
        grads: &'a GradientsParams,
        out: Vec<f64>,
    }
    impl ModuleVisitor for ReadNorms<'_> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let g = self.grads.get::<D>(param.id).unwrap();
            let v = g.into_data().try_to_vec::<f32>().unwrap();
            self.out.push(v.iter().map(|x| (*x as f64).powi(2)).sum());
        }
    }

    fn norms<M: Module>(m: &M, grads: &GradientsParams) -> Vec<f64> {
        let mut r = ReadNorms { grads, out: vec![] };
        m.visit(&mut r);
        r.out
    }

    /// Global clipping scales every gradient by one factor so that the norm
    /// over all parameters together is 1 (PyTorch), not each tensor's own norm (Burn).
    #[test]
    fn clipping_uses_one_global_norm() {
        let device = Device::flex().autodiff();
        let m = AutoEncoderConfig::new(4).init(&device);
        let x = Tensor::<4>::random([8, 3, 32, 32], Distribution::Uniform(-1.0, 1.0), &device);
        let loss = recon_loss(x.clone(), m.forward(x));
        let mut grads = GradientsParams::from_grads(loss.backward(), &m);
        let before = norms(&m, &grads);
        let total: f64 = before.iter().sum::<f64>().sqrt();
        assert!(total > 2.0, "test needs a large gradient, got {total}");
        let reported = clip_global_norm(&m, &mut grads, 1.0).unwrap();
        let reported = reported.into_data().try_to_vec::<f32>().unwrap()[0] as f64;
        assert!((reported - total).abs() / total < 1e-4);
        let after = norms(&m, &grads);
        let total_after: f64 = after.iter().sum::<f64>().sqrt();
        assert!(
            (total_after - 1.0).abs() < 1e-3,
            "norm after clipping {total_after}"
        );
        let factor = 1.0 / (total + 1e-6);
        for (b, a) in before.iter().zip(&after) {
            if *b > 1e-12 {
                assert!(((a / b).sqrt() - factor).abs() / factor < 1e-3);
            }
        }
    }

    #[test]
    fn small_gradients_are_left_alone() {
        let device = Device::flex().autodiff();
        let m = AutoEncoderConfig::new(4).init(&device);
        let x = Tensor::<4>::random([2, 3, 32, 32], Distribution::Uniform(-1.0, 1.0), &device);
        let loss = recon_loss(x.clone(), m.forward(x)).mul_scalar(1e-6);
        let mut grads = GradientsParams::from_grads(loss.backward(), &m);
        let before = norms(&m, &grads);
        clip_global_norm(&m, &mut grads, 1.0);
        let after = norms(&m, &grads);
        for (b, a) in before.iter().zip(&after) {
            assert!((a - b).abs() <= 1e-6 * b.max(1e-30));
        }
    }

    #[test]
    fn nan_losses_are_reported_with_their_step() {
        let device = Device::flex();
        let mut t = Trainer::new(
            TrainConfig {
                lr: 1.0,
                batch_size: 4,
                latent_size: 4,
                ..Default::default()
            },
            &device,
        )
        .unwrap();
        let mut bytes = Vec::new();
        for i in 0..8u8 {
            bytes.push(i % 10);
            bytes.extend(std::iter::repeat_n(i * 30, 3072));
        }
        let data = crate::cifar::CifarImages::parse("x", &bytes).unwrap();
        t.train_step(&data, &[0, 1, 2, 3]).unwrap();
        // Poison the weights: the next step's loss is NaN.
        let net = t.net.take().unwrap();
        let Net::Ae(mut m) = net else { unreachable!() };
        m.decoder.conv7.bias = m
            .decoder
            .conv7
            .bias
            .map(|b| b.map(|t| t.mul_scalar(f32::NAN)));
        t.net = Some(Net::Ae(m));
        t.train_step(&data, &[4, 5, 6, 7]).unwrap();
        let err = pollster::block_on(t.flush_metrics()).unwrap_err();
        assert!(
            matches!(err, TrainError::NonFinite { step: 2, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("step 2"));
    }
}
