//! The exercise's AE step (forward, squared error, backward) on Burn's `flex`
//! CPU device, timed per phase, built once per Burn version by
//! `scripts/bench-burn-versions.sh`: the model is `src/model.rs` itself, so a
//! newer Burn is measured on exactly the layers this crate trains. No
//! optimiser step (its cost is the same small share in every version).
#[path = "../src/model.rs"]
#[allow(dead_code)]
mod model;

use burn::tensor::{Device, Distribution, Tensor};
use std::time::Instant;

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("batch steps"))
        .collect();
    let (batch, steps) = (
        args.first().copied().unwrap_or(256),
        args.get(1).copied().unwrap_or(4),
    );
    let device = Device::flex().autodiff();
    let ae = model::AutoEncoderConfig::new(128).init(&device);
    let x: Tensor<4> = Tensor::random([batch, 3, 32, 32], Distribution::Normal(0.0, 1.0), &device);
    let (mut forward, mut backward) = (0.0, 0.0);
    // One untimed step first: the allocator's and the thread pool's warm-up.
    for step in 0..=steps {
        let t0 = Instant::now();
        let loss = (ae.forward(x.clone()) - x.clone()).powi_scalar(2).sum();
        let _ = loss.clone().into_data();
        let t1 = Instant::now();
        drop(loss.backward());
        let t2 = Instant::now();
        if step > 0 {
            forward += (t1 - t0).as_secs_f64();
            backward += (t2 - t1).as_secs_f64();
        }
    }
    let n = steps as f64;
    println!(
        "batch {batch}: forward {:.1} ms, backward {:.1} ms, step {:.1} ms, {:.1} images/s",
        forward / n * 1e3,
        backward / n * 1e3,
        (forward + backward) / n * 1e3,
        batch as f64 * n / (forward + backward)
    );
}
