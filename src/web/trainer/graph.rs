//! Benchmark hooks for a replayed training step (issue 21, `train/replay.rs`):
//! `www/bench.html?graph=1` times replayed steps against the usual ones.

use wasm_bindgen::prelude::*;

use super::super::{err, now_ms, to_js};
use super::{State, WebTrainer};
use crate::dataset::Images;

/// The batch of step `k`: consecutive images from a step-dependent start.
fn indices(k: usize, batch: usize, n: usize) -> Vec<usize> {
    let start = (k * 7919 * batch) % n;
    let mut v: Vec<usize> = (0..batch).map(|i| (start + i) % n).collect();
    v.sort_unstable();
    v
}

#[wasm_bindgen]
impl WebTrainer {
    /// Capture the step (after its warm-up steps). Resolves to `{captureMillis}`.
    pub async fn bench_graph_capture(&self) -> Result<JsValue, JsValue> {
        let state = self.state.clone();
        let mut s = lock!(state);
        let data = s.data();
        let trainer = s.driver.trainer_mut();
        let batch = trainer.config().batch_size.min(data.train.len());
        let device = trainer.device().clone();
        let t0 = now_ms();
        // The same batch for every step before the replays.
        let first = indices(0, batch, data.train.len());
        let graph = trainer
            .capture_step(|| data.train.batch(&first, &device))
            .await
            .map_err(err)?;
        s.graph = Some(graph);
        #[derive(serde::Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Out {
            capture_millis: f64,
        }
        to_js(&Out {
            capture_millis: now_ms() - t0,
        })
    }

    /// `steps` replayed steps (the recorded one, then each on its own batch),
    /// then their losses read back. Resolves to `{batchMillis, losses}`.
    pub async fn bench_graph_replay(&self, steps: u32) -> Result<JsValue, JsValue> {
        let state = self.state.clone();
        let mut s = lock!(state);
        let data = s.data();
        let State { driver, graph, .. } = &mut *s;
        let graph = graph.as_mut().ok_or_else(|| err("no step captured"))?;
        let trainer = driver.trainer_mut();
        let batch = trainer.config().batch_size.min(data.train.len());
        let mut batch_millis = 0.0;
        trainer.replay_recorded_step(graph).map_err(err)?;
        for k in 1..steps as usize {
            let t = now_ms();
            let x = data
                .train
                .batch(&indices(k, batch, data.train.len()), trainer.device());
            batch_millis += now_ms() - t;
            trainer.replay_step(graph, x).map_err(err)?;
        }
        let losses: Vec<f32> = trainer
            .flush_metrics()
            .await
            .map_err(err)?
            .iter()
            .map(|m| m.total)
            .collect();
        #[derive(serde::Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Out {
            batch_millis: f64,
            losses: Vec<f32>,
        }
        to_js(&Out {
            batch_millis,
            losses,
        })
    }
}
