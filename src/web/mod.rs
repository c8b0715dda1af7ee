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

mod memory;
mod trainer;

use burn::tensor::Device;
use js_sys::{Object, Reflect, Uint8Array, Uint8ClampedArray};
use serde::Serialize;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use crate::cifar::{CifarFile, CifarImages, tar_gz_members};
use crate::config::TrainConfig;
use crate::dataset::{CifarFiles, Images, Placement};

pub use trainer::WebTrainer;

thread_local! {
    /// Burn's wgpu runtime can be initialised once per page; later trainers reuse it.
    #[cfg(feature = "webgpu")]
    static WEBGPU: RefCell<Option<Device>> = const { RefCell::new(None) };
    /// Kernel launches CubeCL gathers into one queue submit; unset, CubeCL's default.
    static TASKS_MAX: std::cell::Cell<Option<usize>> = const { std::cell::Cell::new(None) };
}

/// For `www/bench.html` (`tasksMax=`): launches per queue submit, taken by
/// the page's first WebGPU device. Fewer submits per step did not show as
/// less host work on SwiftShader (BENCHMARKS.md, issue 21); the knob is there
/// so a real GPU can be measured with both in one run.
#[wasm_bindgen]
pub fn bench_set_tasks_max(n: usize) {
    TASKS_MAX.with(|t| t.set(Some(n.max(1))));
}

#[wasm_bindgen(start)]
pub fn start() {
    run_constructors();
    console_error_panic_hook::set_once();
}

unsafe extern "C" {
    /// Synthesised by wasm-ld: runs every static constructor in the module
    /// (here `inventory` registrations in CubeCL's IR crates, via `pliron`).
    fn __wasm_call_ctors();
}

/// Runs the module's static constructors, once.
///
/// A module that never calls `__wasm_call_ctors` itself is linked as a
/// "command", and wasm-ld then wraps *every* export with a call to it. Every
/// JS→wasm call — and WebGPU training makes thousands a step, one per GPU
/// object handed to wasm — re-ran all constructors: a CPU profile of a step
/// was mostly `__wasm_call_ctors` and `inventory::submit`, and on an H200 a
/// step took 1.3 s at batch 16 and at batch 256 alike (BENCHMARKS.md, issue
/// 10). One explicit call makes the linker leave the exports alone (see the
/// `inventory` crate's documentation on WebAssembly). The JS glue calls
/// [`start`] right after instantiation; [`device`] calls this too, for test
/// harnesses that may not.
fn run_constructors() {
    use std::sync::atomic::{AtomicBool, Ordering};
    static DONE: AtomicBool = AtomicBool::new(false);
    if !DONE.swap(true, Ordering::Relaxed) {
        // SAFETY: the constructors are `inventory`'s idempotent registrations
        // (and any others the linker collected), run before anything reads them.
        unsafe { __wasm_call_ctors() }
    }
}

fn err(msg: impl std::fmt::Display) -> JsValue {
    js_sys::Error::new(&msg.to_string()).into()
}

fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsValue> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(err)
}

/// Settings go back to the page through JSON text: serde_json writes an f32
/// as the shortest decimal that reads back as it (β 0.8 stays `0.8`), where
/// widening it to a JavaScript number gives 0.800000011920929, which a run's
/// name, the results' match with the exercise and a share link would show.
fn settings_to_js<T: Serialize>(value: &T) -> Result<JsValue, JsValue> {
    js_sys::JSON::parse(&crate::config::exact_json(value).map_err(err)?)
}

/// Start (or reuse) a compute device: `"webgpu"` or `"cpu"` (Burn's pure-Rust
/// flex), each where this package holds its engine (the features `webgpu` and
/// `cpu`: the page loads `pkg/` for WebGPU and `pkg-cpu/` for the CPU).
pub async fn device(backend: &str) -> Result<Device, JsValue> {
    run_constructors();
    match backend {
        #[cfg(feature = "cpu")]
        "cpu" => Ok(Device::flex()),
        #[cfg(feature = "webgpu")]
        "webgpu" => {
            if let Some(d) = WEBGPU.with(|w| w.borrow().clone()) {
                return Ok(d);
            }
            let mut options = Device::wgpu_options();
            if let Some(n) = TASKS_MAX.with(|t| t.get()) {
                options = options.tasks_max(n);
            }
            let d = options.init_async().await.map_err(|e| {
                err(format!(
                    "WebGPU is not available ({e}). Use a recent Chrome or Edge (or Firefox/Safari with WebGPU enabled), or train on the CPU"
                ))
            })?;
            WEBGPU.with(|w| *w.borrow_mut() = Some(d.clone()));
            Ok(d)
        }
        // Unreachable where the package holds both engines (the tests' build).
        #[allow(unreachable_patterns)]
        "cpu" | "webgpu" => Err(err(format!(
            "this package holds no '{backend}' engine (the page loads pkg-cpu/ for 'cpu', pkg/ for 'webgpu')"
        ))),
        other => Err(err(format!(
            "backend: unknown '{other}', expected 'webgpu' or 'cpu'"
        ))),
    }
}

/// CIFAR-10 as the worker holds it, each official file at most once (a file
/// loaded again replaces its copy), shared by every trainer of the page. On
/// WebGPU the pixels live on the GPU, uploaded once (packed four to a word);
/// on the CPU fallback they stay in wasm memory. Trainers take a snapshot per
/// epoch, so files may be added or replaced while a run trains.
#[wasm_bindgen]
pub struct WebDataset {
    files: Rc<RefCell<CifarFiles>>,
    backend: String,
    /// The backend's device (batches are built for it wherever the images live).
    device: Device,
    /// The GPU's largest buffer, as the worker read it from its adapter (`memory.rs`).
    buffer_limit: std::cell::Cell<Option<u64>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FileInfo {
    name: &'static str,
    images: usize,
    replaced: bool,
}

#[wasm_bindgen]
impl WebDataset {
    /// `backend`: "webgpu" (default: images resident on the GPU) or "cpu"
    /// (images in wasm memory), as the trainers that will use it.
    /// `resident: false` keeps them in wasm memory on WebGPU too (the
    /// benchmark's baseline: every batch built on the host and uploaded).
    pub async fn open(
        backend: Option<String>,
        resident: Option<bool>,
    ) -> Result<WebDataset, JsValue> {
        let backend = backend.unwrap_or_else(|| "webgpu".into());
        let device = device(&backend).await?;
        let placement = match backend.as_str() {
            "cpu" => Placement::Host,
            _ if resident == Some(false) => Placement::Host,
            _ => Placement::Device(device.clone()),
        };
        Ok(WebDataset {
            files: Rc::new(RefCell::new(CifarFiles::new(placement))),
            backend,
            device,
            buffer_limit: Default::default(),
        })
    }

    pub fn backend(&self) -> String {
        self.backend.clone()
    }

    /// Add one official file (`data_batch_1.bin` … `data_batch_5.bin`,
    /// `test_batch.bin`) from its bytes, replacing an earlier copy of it.
    /// Returns `{name, images, replaced}`.
    pub fn add_file(&self, name: &str, bytes: &[u8]) -> Result<JsValue, JsValue> {
        let file = CifarFile::from_name(name).ok_or_else(|| {
            err(format!(
                "{name}: not a CIFAR-10 file name; expected data_batch_1.bin … data_batch_5.bin or test_batch.bin"
            ))
        })?;
        let images = CifarImages::parse(file.name(), bytes).map_err(err)?;
        let count = images.len();
        let replaced = self.files.borrow_mut().insert(file, images);
        to_js(&FileInfo {
            name: file.name(),
            images: count,
            replaced,
        })
    }

    /// The CIFAR-10 files inside the official `cifar-10-binary.tar.gz`, as
    /// `[{name, bytes}]` (each then goes to `add_file`, and may be stored).
    pub fn unpack_tar_gz(name: &str, bytes: &[u8]) -> Result<js_sys::Array, JsValue> {
        let members = tar_gz_members(name, bytes).map_err(err)?;
        let out = js_sys::Array::new();
        for (file, data) in members {
            let o = Object::new();
            Reflect::set(&o, &"name".into(), &file.name().into())?;
            Reflect::set(
                &o,
                &"bytes".into(),
                &Uint8Array::from(data.as_slice()).into(),
            )?;
            out.push(&o);
        }
        Ok(out)
    }

    /// Drop one file; returns whether it was there.
    pub fn remove_file(&self, name: &str) -> bool {
        CifarFile::from_name(name).is_some_and(|f| self.files.borrow_mut().remove(f))
    }

    pub fn clear(&self) {
        self.files.borrow_mut().clear();
    }

    /// Use at most this many training / test images (the page's `?images=` and `?tests=`).
    pub fn set_limits(&self, train: Option<u32>, test: Option<u32>) {
        self.files
            .borrow_mut()
            .set_limits(train.map(|n| n as usize), test.map(|n| n as usize));
    }

    /// `[{name, images}]` of the files present, training batches first.
    pub fn files(&self) -> Result<JsValue, JsValue> {
        let list: Vec<FileInfo> = self
            .files
            .borrow()
            .present()
            .into_iter()
            .map(|(f, n)| FileInfo {
                name: f.name(),
                images: n,
                replaced: false,
            })
            .collect();
        to_js(&list)
    }

    /// Bytes of pixels resident on the GPU (0 on the CPU fallback).
    pub fn device_bytes(&self) -> f64 {
        self.files.borrow().device_bytes() as f64
    }

    pub fn train_size(&self) -> u32 {
        self.files.borrow().dataset().train.len() as u32
    }

    /// Benchmark hook: the data path of a training step alone. Builds `count`
    /// batches of `batch_size` random training images, seeded (after
    /// `warmup` untimed ones), waiting for the device after each. Resolves to
    /// `{hostMillisPerBatch, uploadBytesPerBatch}`: host time spent building a
    /// batch (gathering and uploading pixels, or only indices when they are
    /// resident) and bytes sent to the device for it.
    pub async fn bench_batches(
        &self,
        batch_size: u32,
        count: u32,
        warmup: u32,
    ) -> Result<JsValue, JsValue> {
        let train = self.files.borrow().dataset().train;
        if train.is_empty() {
            return Err(err("no training images loaded"));
        }
        let n = train.len();
        let mut state = 12345u64;
        // Ascending inside a batch, as the epoch loop takes them.
        let mut indices = || -> Vec<usize> {
            let mut v: Vec<usize> = (0..batch_size.max(1))
                .map(|_| {
                    state = state
                        .wrapping_mul(6_364_136_223_846_793_005)
                        .wrapping_add(1_442_695_040_888_963_407);
                    (state >> 33) as usize % n
                })
                .collect();
            v.sort_unstable();
            v
        };
        for _ in 0..warmup {
            drop(train.batch(&indices(), &self.device));
        }
        let (mut millis, bytes0) = (0.0, crate::dataset::batch_upload_bytes());
        for _ in 0..count.max(1) {
            let idx = indices();
            let t = now_ms();
            let x = train.batch(&idx, &self.device);
            millis += now_ms() - t;
            // Untimed: wait for the device, as a training step consumes its batch.
            crate::train::read_f32(x.flatten(0, 3).narrow(0, 0, 1))
                .await
                .map_err(err)?;
        }
        let bytes = crate::dataset::batch_upload_bytes() - bytes0;
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Bench {
            host_millis_per_batch: f64,
            upload_bytes_per_batch: f64,
        }
        let count = count.max(1) as f64;
        to_js(&Bench {
            host_millis_per_batch: millis / count,
            upload_bytes_per_batch: bytes as f64 / count,
        })
    }

    pub fn test_size(&self) -> u32 {
        self.files.borrow().dataset().test.len() as u32
    }
}

/// Bytes uploaded host → device to build batches so far (benchmarks read it).
#[wasm_bindgen]
pub fn batch_upload_bytes() -> f64 {
    crate::dataset::batch_upload_bytes() as f64
}

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
    let (mode, latent) = crate::net::infer_architecture(bytes).map_err(err)?;
    let mut out = serde_json::Map::new();
    // The schedule the file was trained with, when it says (a vaelab file does).
    if let Some(saved) = TrainConfig::saved_in(bytes)
        && let Ok(serde_json::Value::Object(fields)) = crate::config::exact_json(&saved)
            .and_then(|text| serde_json::from_str::<serde_json::Value>(&text))
    {
        for key in crate::settings::keys_of(crate::settings::Group::Schedule) {
            if let Some(v) = fields.get(key) {
                out.insert(key.into(), v.clone());
            }
        }
    }
    out.insert("lossMode".into(), mode.name().into());
    out.insert("latentSize".into(), latent.into());
    settings_to_js(&out)
}

/// The KL's weight planned over the whole run of `config`, about `points`
/// of them: `{x: [epochs], beta: [...], capacity: [...] | null}`.
#[wasm_bindgen]
pub fn schedule_curve(config: JsValue, points: u32) -> Result<JsValue, JsValue> {
    let config = parse_config(config)?;
    config.validate().map_err(err)?;
    let curve = config.schedule_curve((points as usize).clamp(8, 4000));
    #[derive(Serialize)]
    struct Curve {
        x: Vec<f32>,
        beta: Vec<f32>,
        capacity: Option<Vec<f32>>,
    }
    let capacity: Option<Vec<f32>> = curve.iter().map(|(_, w)| w.capacity()).collect();
    to_js(&Curve {
        x: curve.iter().map(|(x, _)| *x).collect(),
        beta: curve.iter().map(|(_, w)| w.beta()).collect(),
        capacity,
    })
}

/// Check a configuration without starting a device; throws naming the bad field.
#[wasm_bindgen]
pub fn validate_config(config: JsValue) -> Result<JsValue, JsValue> {
    settings_to_js(&parse_config(config)?)
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
