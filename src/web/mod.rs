//! The browser shell: a `Trainer` for JavaScript, on WebGPU (or Burn's CPU
//! `flex` device when the browser has no WebGPU). Thin by design: every
//! number comes from `train.rs`, every pixel from `grid.rs`.
//!
//! Each async method returns a Promise that settles with a value or a JS
//! `Error` whose message says what went wrong; none panics on bad input. A
//! call made while another call on the same trainer is still running is
//! refused ("busy") rather than interleaved.

// The borrow held across `.await` is what makes a second concurrent call fail
// cleanly: every borrow goes through `try_borrow(_mut)`, so none can panic.
#![allow(clippy::await_holding_refcell_ref)]

use std::cell::RefCell;
use std::rc::Rc;

use burn::tensor::Device;
use js_sys::{Object, Reflect, Uint8Array, Uint8ClampedArray};
use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::cifar::{Cifar10, CifarImages};
use crate::grid;
use crate::train::{RECON_COUNT, SAMPLE_COUNT, TrainConfig, Trainer};
use crate::{BetaSchedule, LossMode};

thread_local! {
    /// Burn's wgpu runtime can be initialised once per page; later trainers reuse it.
    static WEBGPU: RefCell<Option<Device>> = const { RefCell::new(None) };
}

#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}

fn err(msg: impl std::fmt::Display) -> JsValue {
    js_sys::Error::new(&msg.to_string()).into()
}

fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsValue> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(err)
}

/// Start (or reuse) a compute device: `"webgpu"` or `"cpu"` (Burn's pure-Rust flex).
async fn device(backend: &str) -> Result<Device, JsValue> {
    match backend {
        "cpu" => Ok(Device::flex()),
        "webgpu" => {
            if let Some(d) = WEBGPU.with(|w| w.borrow().clone()) {
                return Ok(d);
            }
            let d = Device::wgpu_options().init_async().await.map_err(|e| {
                err(format!(
                    "WebGPU is not available ({e}). Use a recent Chrome or Edge (or Firefox/Safari with WebGPU enabled), or train on the CPU"
                ))
            })?;
            WEBGPU.with(|w| *w.borrow_mut() = Some(d.clone()));
            Ok(d)
        }
        other => Err(err(format!(
            "backend: unknown '{other}', expected 'webgpu' or 'cpu'"
        ))),
    }
}

struct State {
    trainer: Trainer,
    data: Rc<RefCell<Cifar10>>,
}

/// CIFAR-10 held once in wasm memory and shared by every trainer of the page
/// (150 MB of bytes; a copy per run would soon exhaust a tab's memory).
#[wasm_bindgen]
#[derive(Default)]
pub struct WebDataset {
    data: Rc<RefCell<Cifar10>>,
}

#[wasm_bindgen]
impl WebDataset {
    #[wasm_bindgen(constructor)]
    pub fn new() -> WebDataset {
        WebDataset::default()
    }

    /// Append one training batch file's bytes (`data_batch_N.bin`); returns the training-set size.
    pub fn add_train_records(&self, name: &str, bytes: &[u8]) -> Result<u32, JsValue> {
        let images = CifarImages::parse(name, bytes).map_err(err)?;
        let mut d = self.data.try_borrow_mut().map_err(|_| err(BUSY_DATA))?;
        d.train.extend(images);
        Ok(d.train.len() as u32)
    }

    /// Set the test set from `test_batch.bin`'s bytes; returns its size.
    pub fn set_test_records(&self, name: &str, bytes: &[u8]) -> Result<u32, JsValue> {
        let images = CifarImages::parse(name, bytes).map_err(err)?;
        let mut d = self.data.try_borrow_mut().map_err(|_| err(BUSY_DATA))?;
        d.test = images;
        Ok(d.test.len() as u32)
    }

    /// Replace both splits with the official `cifar-10-binary.tar.gz`'s contents.
    pub fn load_tar_gz(&self, name: &str, bytes: &[u8]) -> Result<(), JsValue> {
        let data = Cifar10::from_tar_gz(name, bytes).map_err(err)?;
        *self.data.try_borrow_mut().map_err(|_| err(BUSY_DATA))? = data;
        Ok(())
    }

    pub fn clear(&self) -> Result<(), JsValue> {
        *self.data.try_borrow_mut().map_err(|_| err(BUSY_DATA))? = Cifar10::default();
        Ok(())
    }

    pub fn train_size(&self) -> u32 {
        self.data
            .try_borrow()
            .map(|d| d.train.len() as u32)
            .unwrap_or(0)
    }

    pub fn test_size(&self) -> u32 {
        self.data
            .try_borrow()
            .map(|d| d.test.len() as u32)
            .unwrap_or(0)
    }
}

const BUSY_DATA: &str = "busy: a trainer is using the data; add files between training calls";

#[wasm_bindgen]
pub struct WebTrainer {
    state: Rc<RefCell<State>>,
    backend: String,
}

/// An RGBA image for `new ImageData(data, width, height)`.
fn image(width: usize, height: usize, rgba: Vec<u8>) -> Result<JsValue, JsValue> {
    let o = Object::new();
    Reflect::set(&o, &"width".into(), &(width as u32).into())?;
    Reflect::set(&o, &"height".into(), &(height as u32).into())?;
    Reflect::set(
        &o,
        &"data".into(),
        &Uint8ClampedArray::from(rgba.as_slice()).into(),
    )?;
    Ok(o.into())
}

macro_rules! lock {
    ($state:expr) => {
        $state.try_borrow_mut().map_err(|_| {
            err("busy: another call on this trainer is still running; await it first")
        })?
    };
}

#[wasm_bindgen]
impl WebTrainer {
    /// `config`: `{lossMode, latentSize, targetBeta, betaMode, numEpochs, batchSize, lr, seed}`
    /// (missing fields take the exercise's defaults); `backend`: "webgpu" (default) or "cpu".
    pub async fn create(config: JsValue, backend: Option<String>) -> Result<WebTrainer, JsValue> {
        let config = parse_config(config)?;
        let backend = backend.unwrap_or_else(|| "webgpu".into());
        let device = device(&backend).await?;
        let trainer = Trainer::new(config, &device).map_err(err)?;
        Ok(WebTrainer {
            state: Rc::new(RefCell::new(State {
                trainer,
                data: Rc::default(),
            })),
            backend,
        })
    }

    /// "webgpu" or "cpu".
    pub fn backend(&self) -> String {
        self.backend.clone()
    }

    /// The configuration in force (camelCase fields, as `create` takes them).
    pub fn config(&self) -> Result<JsValue, JsValue> {
        to_js(
            self.state
                .try_borrow()
                .map_err(|_| err("busy"))?
                .trainer
                .config(),
        )
    }

    pub fn num_params(&self) -> Result<u32, JsValue> {
        Ok(self
            .state
            .try_borrow()
            .map_err(|_| err("busy"))?
            .trainer
            .net()
            .num_params() as u32)
    }

    /// Train and evaluate on `data` from now on (shared, not copied).
    pub fn set_data(&self, data: &WebDataset) -> Result<(), JsValue> {
        lock!(self.state).data = data.data.clone();
        Ok(())
    }

    /// Queue up to `n` steps (stopping early at the end of an epoch), then read
    /// their losses back in one go. Resolves to
    /// `{steps: [{step, epoch, beta, batch, recon, kl, total}], epochDone, epoch, finished, imagesInEpoch, epochSize}`.
    pub async fn train_steps(&self, n: u32) -> Result<JsValue, JsValue> {
        let state = self.state.clone();
        let mut s = lock!(state);
        let State { trainer, data } = &mut *s;
        let data = data.try_borrow().map_err(|_| err(BUSY_DATA))?;
        if trainer.is_finished() {
            return Err(err(
                "the run is finished; raise numEpochs with setNumEpochs or reset",
            ));
        }
        let mut epoch_done = false;
        for _ in 0..n.max(1) {
            let report = trainer.train_step(&data.train).map_err(err)?;
            if report.epoch_done {
                epoch_done = true;
                break;
            }
        }
        let steps = trainer.flush_metrics().await.map_err(err)?;
        let (done, size) = trainer.epoch_progress();
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Out {
            steps: Vec<crate::train::StepMetrics>,
            epoch_done: bool,
            epoch: usize,
            finished: bool,
            images_in_epoch: usize,
            epoch_size: usize,
        }
        to_js(&Out {
            steps,
            epoch_done,
            epoch: trainer.epoch(),
            finished: trainer.is_finished(),
            images_in_epoch: done,
            epoch_size: size,
        })
    }

    /// Test-set losses `{recon, kl, total}` (VAE at beta 1, z sampled).
    pub async fn evaluate(&self) -> Result<JsValue, JsValue> {
        let state = self.state.clone();
        let s = lock!(state);
        let data = s.data.try_borrow().map_err(|_| err(BUSY_DATA))?;
        let m = s.trainer.evaluate(&data.test).await.map_err(err)?;
        to_js(&m)
    }

    /// Train-set averages `{recon, kl, total}` of `epoch`'s steps, if any.
    pub fn epoch_train_metrics(&self, epoch: u32) -> Result<JsValue, JsValue> {
        let s = self.state.try_borrow().map_err(|_| err("busy"))?;
        to_js(&s.trainer.epoch_train_metrics(epoch as usize))
    }

    /// Close the epoch after its evaluation; the next step reshuffles.
    pub fn end_epoch(&self) -> Result<(), JsValue> {
        lock!(self.state).trainer.end_epoch();
        Ok(())
    }

    /// Change beta's target and schedule ("constant" or "linear") from the next step on.
    pub fn set_beta(&self, target: f32, mode: &str) -> Result<(), JsValue> {
        let mode: BetaSchedule = mode
            .parse()
            .map_err(|e: String| err(format!("betaMode: {e}")))?;
        lock!(self.state)
            .trainer
            .set_beta(target, mode)
            .map_err(err)
    }

    pub fn set_num_epochs(&self, n: u32) -> Result<(), JsValue> {
        lock!(self.state)
            .trainer
            .set_num_epochs(n as usize)
            .map_err(err)
    }

    /// Beta for the current epoch.
    pub fn beta(&self) -> f32 {
        self.state
            .try_borrow()
            .map(|s| s.trainer.beta())
            .unwrap_or(f32::NAN)
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
        let data = s.data.try_borrow().map_err(|_| err(BUSY_DATA))?;
        let given;
        let images = match records {
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
        let values = s.trainer.reconstruct(images, &idx).await.map_err(err)?;
        let (w, h, rgba) = grid::recon_pairs_rgba(images, &idx, &values, 6);
        image(w, h, rgba)
    }

    /// Decodings of the fixed noise z ~ N(0, I), `count` (≤ 100) in a grid of `cols`.
    pub async fn sample(&self, count: Option<u32>, cols: Option<u32>) -> Result<JsValue, JsValue> {
        let state = self.state.clone();
        let s = lock!(state);
        let n = (count.unwrap_or(SAMPLE_COUNT as u32) as usize).clamp(1, SAMPLE_COUNT);
        let values = s.trainer.sample(n).await.map_err(err)?;
        let (w, h, rgba) = grid::samples_rgba(&values, cols.unwrap_or(10).max(1) as usize);
        image(w, h, rgba)
    }

    /// The model as SafeTensors bytes (the exercise's PyTorch names and layouts).
    pub async fn save(&self) -> Result<Uint8Array, JsValue> {
        let state = self.state.clone();
        let s = lock!(state);
        let bytes = s.trainer.save().await.map_err(err)?;
        Ok(Uint8Array::from(bytes.as_slice()))
    }

    /// Load weights saved by `save` (or by the exercise's PyTorch code) of the same architecture.
    pub fn load(&self, bytes: &[u8]) -> Result<(), JsValue> {
        lock!(self.state).trainer.load(bytes).map_err(err)
    }
}

/// The architecture a saved model file describes: `{lossMode, latentSize}`.
#[wasm_bindgen]
pub fn model_architecture(bytes: &[u8]) -> Result<JsValue, JsValue> {
    let (mode, latent) = crate::train::infer_architecture(bytes).map_err(err)?;
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Arch {
        loss_mode: LossMode,
        latent_size: usize,
    }
    to_js(&Arch {
        loss_mode: mode,
        latent_size: latent,
    })
}

/// Check a configuration without starting a device; throws naming the bad field.
#[wasm_bindgen]
pub fn validate_config(config: JsValue) -> Result<JsValue, JsValue> {
    to_js(&parse_config(config)?)
}

/// Through JSON text rather than serde-wasm-bindgen, which ignores unknown
/// fields: a misspelt `latentSise` must be an error, not a silent default.
fn parse_config(config: JsValue) -> Result<TrainConfig, JsValue> {
    if config.is_undefined() || config.is_null() {
        return Ok(TrainConfig::default());
    }
    let text: String = js_sys::JSON::stringify(&config)
        .map_err(|_| err("config: not a plain object"))?
        .into();
    let config: TrainConfig =
        serde_json::from_str(&text).map_err(|e| err(format!("config: {e}")))?;
    config.validate().map_err(err)?;
    Ok(config)
}
