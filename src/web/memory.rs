//! A run's settings checked against the memory its backend allows, before
//! the run starts (`crate::memory`): the CPU engine against wasm32's 4 GiB,
//! less the images it holds; WebGPU against the largest buffer the GPU
//! takes (WebGPU states no total, so that is all a page can check).

use wasm_bindgen::prelude::*;

use super::{WebDataset, err, parse_config};
use crate::cifar::RECORD_BYTES;
use crate::memory::{Allowance, check};

/// wasm32's address space, which a CPU run, its images and the engine share.
const WASM_MEMORY: u64 = 4 << 30;
/// The engine's own share of it besides a run's tensors and the images: its
/// code, the snapshots it reads back and the grids it draws.
const ENGINE_BYTES: u64 = 256 << 20;

#[wasm_bindgen]
impl WebDataset {
    /// The largest buffer the GPU takes, in bytes (the adapter's
    /// `maxStorageBufferBindingSize`, bounded by its `maxBufferSize`).
    pub fn set_buffer_limit(&self, bytes: f64) {
        let ok = bytes.is_finite() && bytes > 0.0;
        self.buffer_limit.set(ok.then_some(bytes as u64));
    }

    /// Refuses, with what it needs and what this backend allows, a run of
    /// `config` that would not fit; a run that fits passes.
    pub fn check_memory(&self, config: JsValue) -> Result<(), JsValue> {
        let mut config = parse_config(config)?;
        // A step takes at most the images the page allows (`?images=`); the
        // files loaded so far do not cap it, as more may join the run.
        if let Some(limit) = self.files.borrow().train_limit() {
            config.batch_size = config.batch_size.min(limit.max(1));
        }
        let allowance = if self.backend == "cpu" {
            let images: usize = self.files.borrow().present().iter().map(|(_, n)| n).sum();
            let held = (images * RECORD_BYTES) as u64;
            Allowance {
                device: format!(
                    "the CPU engine in this browser ({:.1} GB of wasm memory, less {:.1} GB of images and the engine)",
                    WASM_MEMORY as f64 / 1e9,
                    (held + ENGINE_BYTES) as f64 / 1e9
                ),
                total: Some(WASM_MEMORY.saturating_sub(held + ENGINE_BYTES)),
                per_tensor: None,
            }
        } else {
            Allowance {
                device: "this GPU".into(),
                total: None,
                per_tensor: self.buffer_limit.get(),
            }
        };
        check(&config, &allowance).map_err(err)
    }
}
