//! The epoch loop, written once: the command line and the browser's worker
//! both call [`EpochDriver::advance`] until the run is finished.
//!
//! It owns what makes an epoch an epoch: it keeps the training set present
//! when the epoch starts (a shared snapshot, no copy) and its shuffled order
//! until the epoch ends, so files added or replaced meanwhile take effect at
//! the next epoch; the test set is evaluated when the last batch has run, and
//! the β schedule moves on. Each call runs steps until its budget or
//! the epoch's end, then reads their losses back in one device read.

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde::Serialize;

use crate::dataset::{Dataset, ImageSet, Images};
use crate::latent::LatentUsage;
use crate::train::{EvalMetrics, StepMetrics, TrainError, Trainer};

mod replays;
use replays::Replays;

/// How much one [`EpochDriver::advance`] call may do before it returns.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Budget {
    /// At most this many optimiser steps.
    Steps(usize),
    /// About this many milliseconds of training, as measured by the caller's
    /// clock over earlier calls (the first call of a run takes one step).
    Millis(f64),
}

/// The most steps a time budget grants in one call: bounds the losses held
/// on the device between reads.
const MAX_STEPS_PER_CALL: usize = 256;

/// What an epoch ended with: its training averages, the test losses and how
/// the test set uses the latent code.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EpochReport {
    /// 0-based, as the exercise's loop variable.
    pub epoch: usize,
    /// The KL's weight at the epoch's last step (gamma under the capacity objective).
    pub beta: f32,
    /// The capacity C in nats at the epoch's last step (capacity objective only).
    pub capacity: Option<f32>,
    pub train: EvalMetrics,
    pub test: EvalMetrics,
    pub latent: LatentUsage,
}

/// What one call did.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    pub steps: Vec<StepMetrics>,
    /// Set when this call ran the epoch's last batch and its evaluation.
    pub epoch_end: Option<EpochReport>,
    /// 0-based epoch in progress after the call (equals the epoch count once finished).
    pub epoch: usize,
    /// Images of the epoch in progress already trained on, and its size.
    pub images_in_epoch: usize,
    pub epoch_size: usize,
    /// Milliseconds the training steps took (by the caller's clock).
    pub millis: f64,
    /// Of those, milliseconds the host spent building batches (gathering and
    /// uploading images, or only their indices when they live on the device).
    pub batch_millis: f64,
    /// With `epoch_end`: seconds the epoch's calls took, its test pass
    /// included (time between calls, a pause, is not counted): the
    /// `seconds` of its metrics record, the same on the CLI and the page.
    pub epoch_seconds: Option<f64>,
    /// Of `steps`, how many were replays of a captured step (`driver/replays.rs`).
    pub replayed: usize,
    pub finished: bool,
}

/// The shuffles' stream: one per run, as it always was.
const SHUFFLE_STREAM: u64 = 0x005e_ed0f_0de5;
/// The VAE's training noise, one stream per epoch; apart from the stream
/// that initialised the weights (the run's seed itself).
const NOISE_STREAM: u64 = 0x6e01_5e00_0000;

/// The seed of one epoch's noise.
fn epoch_seed(seed: u64, epoch: u64) -> u64 {
    seed ^ NOISE_STREAM ^ epoch.wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// Draw the epoch's next batch of `batch_size` (fewer at its end) into
/// `batch` and move `cursor` past it. Returns where the batch lies in the
/// epoch, as [`Trainer::set_epoch_fraction`] takes it. Shared by the usual
/// steps and a capture's (`driver/replays.rs`).
fn next_batch(
    order: &[usize],
    cursor: &mut usize,
    batch_size: usize,
    batch: &mut Vec<usize>,
) -> f32 {
    let at = *cursor as f32 / order.len() as f32;
    let end = (*cursor + batch_size).min(order.len());
    batch.clear();
    batch.extend_from_slice(&order[*cursor..end]);
    // The shuffle chose the batch's images; their order inside it does not
    // matter to the step. Ascending, a batch spanning several device chunks
    // is gathered without a reordering pass.
    batch.sort_unstable();
    *cursor = end;
    at
}

pub struct EpochDriver {
    trainer: Trainer,
    shuffle: StdRng,
    /// Epochs the run had finished when this driver took it (a resumed run),
    /// whose shuffles the stream replays before its first epoch.
    replay: usize,
    /// The epoch in flight's training set and order; empty between epochs.
    epoch_train: ImageSet,
    order: Vec<usize>,
    cursor: usize,
    /// Measured cost of one step, for time budgets.
    millis_per_step: Option<f64>,
    /// Milliseconds the epoch in flight's calls have taken so far.
    epoch_millis: f64,
    /// Steps replayed from a captured one (`driver/replays.rs`), where asked.
    replays: Replays,
}

impl EpochDriver {
    pub fn new(trainer: Trainer) -> Self {
        // A stream of its own, so that the order depends on the seed alone.
        let shuffle = StdRng::seed_from_u64(trainer.config().seed ^ SHUFFLE_STREAM);
        let replay = trainer.epoch();
        Self {
            trainer,
            shuffle,
            replay,
            epoch_train: ImageSet::default(),
            order: Vec::new(),
            cursor: 0,
            millis_per_step: None,
            epoch_millis: 0.0,
            replays: Replays::Off,
        }
    }

    pub fn trainer(&self) -> &Trainer {
        &self.trainer
    }

    pub fn trainer_mut(&mut self) -> &mut Trainer {
        &mut self.trainer
    }

    pub fn is_finished(&self) -> bool {
        self.order.is_empty() && self.trainer.is_finished()
    }

    /// True between an epoch's first step and its evaluation.
    pub fn in_epoch(&self) -> bool {
        !self.order.is_empty()
    }

    /// Images of the current epoch already trained on, and the epoch's size.
    pub fn epoch_progress(&self) -> (usize, usize) {
        (self.cursor, self.order.len())
    }

    /// Change the run's length. Lowering it below the epoch in flight ends the
    /// run cleanly after that epoch (its evaluation included); at an epoch
    /// boundary it ends the run at once. Returns the epoch count in force.
    pub fn set_num_epochs(&mut self, num_epochs: usize) -> Result<usize, TrainError> {
        // Validates the asked value first: 0 is refused even mid-run.
        self.trainer.set_num_epochs(num_epochs)?;
        let in_flight = self.trainer.epoch() + usize::from(self.in_epoch());
        if num_epochs < in_flight {
            self.trainer.set_num_epochs(in_flight)?;
        }
        Ok(num_epochs.max(in_flight))
    }

    /// A run resumed after epoch k (another process, a restarted engine)
    /// trains epoch k + 1 as the uninterrupted run does: the shuffles' stream
    /// replays the k shuffles before it (the same draws while the training
    /// set keeps its size, as on the command line), and the VAE's noise
    /// comes from a stream seeded by the seed and the epoch alone.
    fn start_epoch(&mut self, train: &ImageSet) {
        let mut order: Vec<usize> = (0..train.len()).collect();
        for _ in 0..std::mem::take(&mut self.replay) {
            order.shuffle(&mut self.shuffle);
        }
        let (seed, epoch) = (self.trainer.config().seed, self.trainer.epoch() as u64);
        self.trainer.device().seed(epoch_seed(seed, epoch));
        self.epoch_train = train.clone();
        self.order = (0..train.len()).collect();
        self.order.shuffle(&mut self.shuffle);
        self.cursor = 0;
    }

    /// Steps this call may take.
    fn steps_for(&self, budget: Budget) -> usize {
        match budget {
            Budget::Steps(n) => n.max(1),
            Budget::Millis(ms) => match self.millis_per_step {
                Some(per) if per > 0.0 => {
                    ((ms / per).floor() as usize).clamp(1, MAX_STEPS_PER_CALL)
                }
                Some(_) => MAX_STEPS_PER_CALL,
                None => 1,
            },
        }
    }

    /// Run steps until `budget` is spent or the epoch ends; at the epoch's end
    /// evaluate `data.test` and move to the next epoch. `clock` gives
    /// milliseconds (`Instant` natively, `performance.now()` in a browser).
    pub async fn advance(
        &mut self,
        data: &Dataset,
        budget: Budget,
        clock: &dyn Fn() -> f64,
    ) -> Result<Progress, TrainError> {
        if self.is_finished() {
            return Ok(self.progress(Vec::new(), None, 0.0));
        }
        if !self.in_epoch() {
            if data.train.is_empty() {
                return Err(TrainError::NoData);
            }
            if data.test.is_empty() {
                return Err(TrainError::NoTestData);
            }
            self.start_epoch(&data.train);
        }
        let want = self.steps_for(budget);
        let batch_size = self.trainer.config().batch_size;
        let t0 = clock();
        let mut taken = 0;
        let mut replayed = 0;
        let mut batch_millis = 0.0;
        let mut batch = Vec::with_capacity(batch_size);
        // The steps' metrics, as the trainer records them (a capture reads
        // its warm-up steps' itself).
        let first_step = self.trainer.history().len();
        while taken < want && self.cursor < self.order.len() {
            if self.should_capture(batch_size, want - taken) {
                let (steps, replays) = self.capture(batch_size).await?;
                (taken, replayed) = (taken + steps, replayed + replays);
                continue;
            }
            let at = next_batch(&self.order, &mut self.cursor, batch_size, &mut batch);
            self.trainer.set_epoch_fraction(at);
            let t = clock();
            let x = self.epoch_train.batch(&batch, self.trainer.device());
            batch_millis += clock() - t;
            replayed += usize::from(self.step_on(x)?);
            taken += 1;
        }
        self.trainer.flush_metrics().await?;
        let steps = self.trainer.history()[first_step..].to_vec();
        let millis = clock() - t0;
        self.epoch_millis += millis;
        if taken > 0 {
            let per = millis / taken as f64;
            self.millis_per_step = Some(match self.millis_per_step {
                Some(old) => 0.5 * old + 0.5 * per,
                None => per,
            });
        }
        let mut report = None;
        let mut epoch_seconds = None;
        if self.cursor >= self.order.len() {
            let epoch = self.trainer.epoch();
            let (test, latent) = self.trainer.evaluate_latent(&data.test).await?;
            let train = self
                .trainer
                .epoch_train_metrics(epoch)
                .unwrap_or(EvalMetrics {
                    recon: f32::NAN,
                    kl: f32::NAN,
                    total: f32::NAN,
                });
            report = Some(EpochReport {
                epoch,
                beta: self.trainer.beta(),
                capacity: self.trainer.kl_weight().capacity(),
                train,
                test,
                latent,
            });
            self.trainer.end_epoch();
            epoch_seconds = Some((self.epoch_millis + clock() - t0 - millis) / 1e3);
            self.epoch_millis = 0.0;
            self.epoch_train = ImageSet::default();
            self.order.clear();
            self.cursor = 0;
        }
        let mut p = self.progress(steps, report, millis);
        p.batch_millis = batch_millis;
        p.epoch_seconds = epoch_seconds;
        p.replayed = replayed;
        Ok(p)
    }

    fn progress(
        &self,
        steps: Vec<StepMetrics>,
        epoch_end: Option<EpochReport>,
        millis: f64,
    ) -> Progress {
        let (images_in_epoch, epoch_size) = self.epoch_progress();
        Progress {
            steps,
            epoch_end,
            epoch: self.trainer.epoch(),
            images_in_epoch,
            epoch_size,
            millis,
            batch_millis: 0.0,
            epoch_seconds: None,
            replayed: 0,
            finished: self.is_finished(),
        }
    }

    /// The current epoch's order (tests read it to check the shuffle).
    pub fn order(&self) -> &[usize] {
        &self.order
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;
