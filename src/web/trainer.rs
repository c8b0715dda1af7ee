//! `WebTrainer`: one run's epoch driver, as the worker calls it. Every await
//! holds the run's `RefCell` borrow, so a second call made meanwhile is
//! refused ("busy") instead of interleaved; none panics on bad input.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::Uint8Array;
use wasm_bindgen::prelude::*;

use super::{WebDataset, device, err, image, now_ms, parse_config, settings_to_js, to_js};
use crate::cifar::CifarImages;
use crate::dataset::{CifarFiles, Dataset, Images};
use crate::driver::{Budget, EpochDriver};
use crate::grid;
use crate::train::{RECON_COUNT, SAMPLE_COUNT, Trainer};

struct State {
    driver: EpochDriver,
    /// The worker's files; each call takes a snapshot of them (no copy).
    data: Option<Rc<RefCell<CifarFiles>>>,
}

impl State {
    fn data(&self) -> Dataset {
        self.data
            .as_ref()
            .map(|f| f.borrow().dataset())
            .unwrap_or_default()
    }
}

#[wasm_bindgen]
pub struct WebTrainer {
    state: Rc<RefCell<State>>,
    backend: String,
}

macro_rules! lock {
    ($state:expr) => {
        $state.try_borrow_mut().map_err(|_| {
            err("busy: another call on this trainer is still running; await it first")
        })?
    };
}

macro_rules! peek {
    ($state:expr) => {
        $state.try_borrow().map_err(|_| err("busy"))?
    };
}

// The latent lab's calls (traversals, interpolations, the aggregate
// posterior: `explore.rs` bound for the page), a child module so that it
// shares the run's state and the borrow macros.
mod explore;

/// A constructor's settings, backend name (WebGPU unless "cpu") and device.
async fn setup(
    config: JsValue,
    backend: Option<String>,
) -> Result<(crate::config::TrainConfig, String, burn::tensor::Device), JsValue> {
    let config = parse_config(config)?;
    let backend = backend.unwrap_or_else(|| "webgpu".into());
    let device = device(&backend).await?;
    Ok((config, backend, device))
}

impl WebTrainer {
    fn of(mut driver: EpochDriver, backend: String) -> WebTrainer {
        // On WebGPU the steps are replays of a captured one (issue 21): most
        // of the host's work per step goes.
        driver.replay_steps(backend == "webgpu");
        let state = State { driver, data: None };
        WebTrainer {
            state: Rc::new(RefCell::new(state)),
            backend,
        }
    }
}

#[wasm_bindgen]
impl WebTrainer {
    /// `config`: any settings of the table (`www/js/settings.json`; missing
    /// ones take its defaults); `backend`: "webgpu" (default) or "cpu".
    pub async fn create(config: JsValue, backend: Option<String>) -> Result<WebTrainer, JsValue> {
        let (config, backend, device) = setup(config, backend).await?;
        let trainer = Trainer::new(config, &device).map_err(err)?;
        Ok(WebTrainer::of(EpochDriver::new(trainer), backend))
    }

    /// A run restarted from its snapshot (a crashed or lost engine): `model`
    /// and `optimizer` as `save` and `optimizer_state` gave them after its
    /// last finished epoch. It goes on with the next epoch as if it had never
    /// stopped (weights, Adam's moments, step count, that epoch's order and
    /// noise), under `config`'s schedule and epochs, which the page shows: a
    /// β changed since the snapshot is kept, not undone.
    pub async fn resume(
        model: Vec<u8>,
        optimizer: Vec<u8>,
        config: JsValue,
        backend: Option<String>,
    ) -> Result<WebTrainer, JsValue> {
        let (page, backend, device) = setup(config, backend).await?;
        let mut trainer = Trainer::resume(&model, &optimizer, &device).map_err(err)?;
        trainer.set_schedule(&page).map_err(err)?;
        let mut driver = EpochDriver::new(trainer);
        driver.set_num_epochs(page.num_epochs).map_err(err)?;
        Ok(WebTrainer::of(driver, backend))
    }

    /// A saved model opened to be trained further: its architecture, the
    /// schedule a VAE Lab file carries and the epoch and step it reached,
    /// over `config`'s other settings (`Trainer::open`).
    pub async fn open(
        model: Vec<u8>,
        config: JsValue,
        backend: Option<String>,
    ) -> Result<WebTrainer, JsValue> {
        let (page, backend, device) = setup(config, backend).await?;
        let trainer = Trainer::open(&model, &page, &device).map_err(err)?;
        Ok(WebTrainer::of(EpochDriver::new(trainer), backend))
    }

    /// "webgpu" or "cpu".
    pub fn backend(&self) -> String {
        self.backend.clone()
    }

    /// The configuration in force (camelCase fields, as `create` takes them).
    pub fn config(&self) -> Result<JsValue, JsValue> {
        settings_to_js(peek!(self.state).driver.trainer().config())
    }

    pub fn num_params(&self) -> Result<u32, JsValue> {
        Ok(peek!(self.state).driver.trainer().net().num_params() as u32)
    }

    /// 0-based epoch in progress (the epoch count once finished).
    pub fn epoch(&self) -> Result<u32, JsValue> {
        Ok(peek!(self.state).driver.trainer().epoch() as u32)
    }

    pub fn finished(&self) -> Result<bool, JsValue> {
        Ok(peek!(self.state).driver.is_finished())
    }

    /// Train and evaluate on `data` from now on (shared, not copied); it
    /// must hold its images where this trainer computes.
    pub fn set_data(&self, data: &WebDataset) -> Result<(), JsValue> {
        if data.backend != self.backend {
            return Err(err(format!(
                "the data is held for the {} backend, this trainer runs on {}",
                data.backend, self.backend
            )));
        }
        lock!(self.state).data = Some(data.files.clone());
        Ok(())
    }

    /// The core's epoch loop, one time-boxed call: steps for about `millis`
    /// (or exactly `steps`, when given) or until the epoch ends, whose test
    /// evaluation then runs in the same call. Resolves to
    /// `{steps: [{step, epoch, beta, batch, recon, kl, total}], epochEnd: {epoch, beta, train, test} | null,
    /// record: the epoch's metrics.jsonl line | null, epoch, imagesInEpoch, epochSize, millis, finished}`.
    pub async fn advance(
        &self,
        millis: Option<f64>,
        steps: Option<u32>,
    ) -> Result<JsValue, JsValue> {
        let state = self.state.clone();
        let mut s = lock!(state);
        let data = s.data();
        let driver = &mut s.driver;
        if driver.is_finished() {
            return Err(err(
                "the run is finished; raise numEpochs with set_num_epochs or start a new run",
            ));
        }
        let budget = match (steps, millis) {
            (Some(n), _) => Budget::Steps(n as usize),
            (None, Some(ms)) if ms.is_finite() && ms > 0.0 => Budget::Millis(ms),
            _ => Budget::Steps(1),
        };
        let progress = driver.advance(&data, budget, &now_ms).await.map_err(err)?;
        /// The call's progress, and with an epoch's end its `metrics.jsonl`
        /// line, written by the core as the command line writes it.
        #[derive(serde::Serialize)]
        struct Out<'a> {
            #[serde(flatten)]
            progress: &'a crate::driver::Progress,
            record: Option<String>,
        }
        let record = progress
            .epoch_end
            .as_ref()
            .zip(progress.epoch_seconds)
            .map(|(report, seconds)| crate::record::EpochRecord::new(report, seconds).to_line());
        to_js(&Out {
            progress: &progress,
            record,
        })
    }

    /// Test-set losses `{recon, kl, total}` (VAE at beta 1, z sampled).
    pub async fn evaluate(&self) -> Result<JsValue, JsValue> {
        let state = self.state.clone();
        let s = lock!(state);
        let data = s.data();
        let m = s.driver.trainer().evaluate(&data.test).await.map_err(err)?;
        to_js(&m)
    }

    /// Test-set losses and how the test set uses the latent code, from one
    /// pass: `{test: {recon, kl, total}, latent: {klPerDim, variance,
    /// activeUnits, threshold, order}}` — what an epoch's end reports, for a
    /// model opened from a file.
    pub async fn evaluate_latent(&self) -> Result<JsValue, JsValue> {
        let state = self.state.clone();
        let s = lock!(state);
        let data = s.data();
        let (test, latent) = s
            .driver
            .trainer()
            .evaluate_latent(&data.test)
            .await
            .map_err(err)?;
        #[derive(serde::Serialize)]
        struct Out {
            test: crate::train::EvalMetrics,
            latent: crate::latent::LatentUsage,
        }
        to_js(&Out { test, latent })
    }

    /// Change how the KL is weighted from the next step on: `config` holds
    /// `targetBeta`, `betaMode` and the schedules' parameters (other fields
    /// are ignored; missing ones take their defaults). Throws naming a bad field.
    pub fn set_schedule(&self, config: JsValue) -> Result<(), JsValue> {
        let config = parse_config(config)?;
        lock!(self.state)
            .driver
            .trainer_mut()
            .set_schedule(&config)
            .map_err(err)
    }

    /// Steps as replays of a captured step (WebGPU's default) or usual steps
    /// only: `www/bench.html?graph=0|1` compares them.
    pub fn replay_steps(&self, on: bool) -> Result<(), JsValue> {
        lock!(self.state).driver.replay_steps(on);
        Ok(())
    }

    /// Change the run's length; lowering it below the epoch in flight ends the
    /// run after that epoch. Resolves to the epoch count in force.
    pub fn set_num_epochs(&self, n: u32) -> Result<u32, JsValue> {
        lock!(self.state)
            .driver
            .set_num_epochs(n as usize)
            .map(|n| n as u32)
            .map_err(err)
    }

    /// Test images beside their reconstructions, as RGBA `{width, height, data}`:
    /// the first `count` (≤ 36 by default) test images, or the given records.
    pub async fn reconstruct(
        &self,
        count: Option<u32>,
        records: Option<Vec<u8>>,
    ) -> Result<JsValue, JsValue> {
        let state = self.state.clone();
        let s = lock!(state);
        let data = s.data();
        let given;
        let images: &dyn Images = match records {
            Some(bytes) => {
                given = CifarImages::parse("records", &bytes).map_err(err)?;
                &given
            }
            None => &data.test,
        };
        if images.is_empty() {
            return Err(err("no test images loaded"));
        }
        let n = (count.unwrap_or(RECON_COUNT as u32) as usize).clamp(1, images.len().min(256));
        let idx: Vec<usize> = (0..n).collect();
        let (originals, recon) = s
            .driver
            .trainer()
            .reconstruct(images, &idx)
            .await
            .map_err(err)?;
        let (w, h, rgba) = grid::recon_pairs_rgba(&originals, &recon, 6);
        image(w, h, rgba)
    }

    /// Decodings of the fixed noise z ~ N(0, I), `count` (≤ 100) in a grid of `cols`.
    pub async fn sample(&self, count: Option<u32>, cols: Option<u32>) -> Result<JsValue, JsValue> {
        let state = self.state.clone();
        let s = lock!(state);
        let n = (count.unwrap_or(SAMPLE_COUNT as u32) as usize).clamp(1, SAMPLE_COUNT);
        let values = s.driver.trainer().sample(n).await.map_err(err)?;
        let (w, h, rgba) = grid::samples_rgba(&values, cols.unwrap_or(10).max(1) as usize);
        image(w, h, rgba)
    }

    /// The model as SafeTensors bytes (the exercise's PyTorch names and layouts).
    pub async fn save(&self) -> Result<Uint8Array, JsValue> {
        let state = self.state.clone();
        let s = lock!(state);
        let bytes = s.driver.trainer().save().await.map_err(err)?;
        Ok(Uint8Array::from(bytes.as_slice()))
    }

    /// Adam's moments and step count as SafeTensors bytes: with `save`'s
    /// model from the same moment, what `resume` goes on from.
    pub async fn optimizer_state(&self) -> Result<Uint8Array, JsValue> {
        let state = self.state.clone();
        let s = lock!(state);
        let bytes = s.driver.trainer().optimizer_state().await.map_err(err)?;
        Ok(Uint8Array::from(bytes.as_slice()))
    }

    /// Load weights saved by `save` (or by the exercise's PyTorch code) of the same architecture.
    pub fn load(&self, bytes: &[u8]) -> Result<(), JsValue> {
        lock!(self.state)
            .driver
            .trainer_mut()
            .load(bytes)
            .map_err(err)
    }
}
