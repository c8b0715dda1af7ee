//! The browser shell: the core's epoch driver for JavaScript, on WebGPU (or
//! Burn's CPU `flex` device when the browser has no WebGPU). The page runs it
//! inside a dedicated Worker (`www/js/worker.js`), never on its main thread.
//! Thin by design: every number comes from the core, every pixel from `grid.rs`.
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

mod trainer;

use burn::tensor::Device;
use js_sys::{Object, Reflect, Uint8ClampedArray};
use serde::Serialize;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use crate::LossMode;
use crate::cifar::{Cifar10, CifarImages};
use crate::train::TrainConfig;

pub use trainer::WebTrainer;

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

/// True inside a dedicated Web Worker, where the page runs the engine.
#[wasm_bindgen]
pub fn in_worker() -> bool {
    js_sys::global()
        .dyn_into::<web_sys::DedicatedWorkerGlobalScope>()
        .is_ok()
}

/// Milliseconds from the scope's `performance` clock (a worker's or a window's).
fn now_ms() -> f64 {
    let global = js_sys::global();
    let perf = if let Some(w) = global.dyn_ref::<web_sys::WorkerGlobalScope>() {
        w.performance()
    } else if let Some(w) = global.dyn_ref::<web_sys::Window>() {
        w.performance()
    } else {
        None
    };
    perf.map(|p| p.now()).unwrap_or_else(js_sys::Date::now)
}

/// An RGBA image for `new ImageData(data, width, height)`; its buffer can be
/// transferred to the page without a copy.
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
