//! The one training core: used as-is by the command line (CPU or native GPU)
//! and by the browser (WebGPU). It never touches files, threads or clocks,
//! and never blocks on a device read: losses stay on the device and come back
//! in one asynchronous read per `flush_metrics` call, which matters on WebGPU
//! where every read-back is a round trip through the browser's event loop.

use burn::tensor::{Device, Tensor, TensorData};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution as _, StandardNormal};
use serde::Serialize;
use thiserror::Error;

use crate::adam::Adam;
use crate::checkpoint::CheckpointError;
use crate::config::{ConfigError, TrainConfig};
use crate::dataset::Images;
use crate::loss::{LossMode, capacity_term, capacity_term_of, free_bits_kl};
use crate::net::{Net, ZFrom};
use crate::optim::optimize;
use crate::schedule::KlWeight;

// The test pass and pictures, and the model's files: more of `impl Trainer`.
mod eval;
mod persist;
pub(crate) mod replay;
pub use replay::StepGraph;
/// Samples drawn from the fixed noise (a 10x10 grid).
pub const SAMPLE_COUNT: usize = 100;
/// Test images shown beside their reconstructions, as in the exercise.
pub const RECON_COUNT: usize = 36;
pub(crate) const EVAL_BATCH: usize = 500;

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
    /// A request for something the model or the run does not have (a
    /// dimension past the latent size, a prior draw past the fixed noise).
    #[error("{0}")]
    Argument(String),
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// Capturing or replaying a step's graph failed (`train/replay.rs`).
    #[error("graph capture: {0}")]
    Graph(String),
}

/// Losses of one training step, as read back from the device.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StepMetrics {
    /// 1-based count of optimiser steps so far.
    pub step: usize,
    /// 0-based epoch, as the exercise's loop variable.
    pub epoch: usize,
    /// The KL's weight in this step (gamma under the capacity objective).
    pub beta: f32,
    /// The capacity C in nats this step aimed the KL at (capacity objective only).
    pub capacity: Option<f32>,
    pub batch: usize,
    pub recon: f32,
    pub kl: f32,
    pub total: f32,
    /// Global L2 norm of the gradient before clipping (PyTorch's
    /// `clip_grad_norm_` return value): above 1 the step was clipped.
    pub grad_norm: f32,
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

struct Pending {
    /// `[recon, kl, total, grad_norm]` of one VAE step, or `[recon, grad_norm]`
    /// of an AE step (its KL is 0 and its total is recon), still on the device.
    values: Tensor<1>,
    step: usize,
    epoch: usize,
    weight: KlWeight,
    batch: usize,
}

pub struct Trainer {
    config: TrainConfig,
    device: Device,
    net: Option<Net>,
    optim: Adam,
    epoch: usize,
    /// How far through the epoch the next step is, in [0, 1): schedules that
    /// move within an epoch read it (the driver sets it before each step).
    fraction: f32,
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
            optim: Adam::default(),
            epoch: 0,
            fraction: 0.0,
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

    pub fn is_finished(&self) -> bool {
        self.epoch >= self.config.num_epochs
    }

    /// The KL's weight for the next step.
    pub fn kl_weight(&self) -> KlWeight {
        self.config.kl_weight(self.epoch, self.fraction)
    }

    /// Beta for the next step (gamma under the capacity objective).
    pub fn beta(&self) -> f32 {
        self.kl_weight().beta()
    }

    /// Where the next step lies within the epoch, in [0, 1).
    pub fn set_epoch_fraction(&mut self, fraction: f32) {
        self.fraction = fraction.clamp(0.0, 1.0);
    }

    /// Change how the KL is weighted (target beta, schedule and its
    /// parameters, free bits: the fields of `from` that are not the
    /// architecture or the optimiser's); takes effect from the next step.
    pub fn set_schedule(&mut self, from: &TrainConfig) -> Result<(), TrainError> {
        let c = self.config.with_schedule_of(from);
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
        self.train_on_with(x, ZFrom::Sample)
    }

    /// [`train_on`](Self::train_on) with the VAE's `z` chosen by the caller
    /// (`ZFrom::Noise` on [`device`](Self::device)): tests repeat PyTorch's
    /// steps with PyTorch's noise.
    pub fn train_on_with(&mut self, x: Tensor<4>, z: ZFrom) -> Result<(), TrainError> {
        if self.optim.is_pinned() {
            // The replays read what the graph recorded (the batch, noise,
            // β and corrections in its buffers); the loop lets it go first.
            return Err(TrainError::Argument(
                "a step is captured: replay it, or release the graph first".into(),
            ));
        }
        self.take_step(x, z, None)
    }

    /// One step; `pinned_weight` (`[1]`, without autodiff) holds the KL's
    /// weight in place of the schedule's as a scalar (β, or the capacity C): a
    /// captured step reads it from a buffer.
    fn take_step(
        &mut self,
        x: Tensor<4>,
        z: ZFrom,
        pinned_weight: Option<Tensor<1>>,
    ) -> Result<(), TrainError> {
        let batch = x.dims()[0];
        if batch == 0 {
            return Err(TrainError::NoData);
        }
        let weight = self.kl_weight();
        let net = self.net.take().expect("model present between steps");
        let free_bits = self.config.free_bits;
        let (recon, kl, (mu, log_std)) = net.losses_and_code(x, z);
        // The term the optimiser sees: the KL itself, or with free bits its
        // per-dimension floor (the reported KL stays the true one).
        let kl_term = match (&kl, log_std) {
            (Some(_), Some(log_std)) if free_bits > 0.0 => {
                Some(free_bits_kl(mu, log_std, free_bits))
            }
            _ => kl.clone(),
        };
        let total = match (kl_term, weight) {
            (Some(k), KlWeight::Beta(beta)) => {
                recon.clone()
                    + match pinned_weight {
                        Some(b) => k.mul(Tensor::from_inner(b)),
                        None => k.mul_scalar(beta),
                    }
            }
            (Some(k), KlWeight::Capacity { gamma, capacity }) => {
                recon.clone()
                    + match pinned_weight {
                        Some(c) => capacity_term_of(k, gamma, Tensor::from_inner(c)),
                        None => capacity_term(k, gamma, capacity),
                    }
            }
            (None, _) => recon.clone(),
        };
        let lr = self.config.lr;
        let (net, grad_norm) = match net {
            Net::Ae(m) => {
                let (m, norm) = optimize(&mut self.optim, lr, m, &total);
                (Net::Ae(m), norm)
            }
            Net::Vae(m) => {
                let (m, norm) = optimize(&mut self.optim, lr, m, &total);
                (Net::Vae(m), norm)
            }
        };
        self.net = Some(net);
        // One concatenation per step: what flush_metrics reads back.
        let values = match kl {
            Some(kl) => vec![recon, kl, total, grad_norm],
            None => vec![recon, grad_norm],
        };
        let values = Tensor::cat(values, 0).detach().inner();
        self.step += 1;
        self.pending.push(Pending {
            values,
            step: self.step,
            epoch: self.epoch,
            weight,
            batch,
        });
        Ok(())
    }

    /// Close the current epoch (after its evaluation).
    pub fn end_epoch(&mut self) {
        self.epoch += 1;
        self.fraction = 0.0;
    }

    /// Continue a run from a snapshot taken at the end of epoch `epoch - 1`.
    pub fn set_epoch(&mut self, epoch: usize) {
        self.epoch = epoch;
        self.fraction = 0.0;
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
                (LossMode::Vae, [recon, kl, total, norm, tail @ ..]) => {
                    rest = tail;
                    [*recon, *kl, *total, *norm]
                }
                (LossMode::Ae, [recon, norm, tail @ ..]) => {
                    rest = tail;
                    [*recon, 0.0, *recon, *norm]
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
                beta: p.weight.beta(),
                capacity: p.weight.capacity(),
                batch: p.batch,
                recon: v[0],
                kl: v[1],
                total: v[2],
                grad_norm: v[3],
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
