//! Step parity with the exercise's PyTorch model, shared by the native test
//! (`tests/pytorch_parity.rs`, on `flex`) and the browser test
//! (`wasm-tests/browser.rs`, on WebGPU). The fixtures and their tolerances are
//! described in `shared/fixtures/pytorch-parity/README.md`: PyTorch's own
//! float32-vs-float64 noise, tight for the AE, looser for the VAE after its
//! first step (Adam turns last-bit differences in small gradients into whole
//! ±lr steps).
//!
//! A second reference, `pytorch-float64.json`, holds the same numbers from
//! PyTorch 2.15 re-running the documented steps in float64
//! (`scripts/pytorch-parity.py`). What the re-runs showed, and how the checks
//! follow from it:
//! - The AE is deterministic to float32 noise: every number is checked
//!   against both references. PyTorch's own float32 and float64 AE weights
//!   after 3 steps lie 1.4e-4 apart (the README says 2e-6, which is a float32
//!   re-run against the fixture), and `flex` lands at 1.25e-3 from the fixture
//!   (one step of `flex` is as close to float64 as PyTorch's float32 is;
//!   Adam turns last-bit differences into ±lr/2 moves of a few dozen weights
//!   over steps 2 and 3): the weights allow 2e-3.
//! - The VAE's trajectory forks after its first step on last-bit differences:
//!   PyTorch's float32 and float64 re-runs on this CPU, `flex` and Chromium's
//!   SwiftShader follow one branch (test KL after 0.5327), the fixture and
//!   Firefox's lavapipe the other (0.5361); the README's 3.6e-2 floor for the
//!   VAE weights is that fork. So the first step and the test losses before it
//!   are checked against both references, and the later numbers against the
//!   nearer of the two, with the README's tolerances.

use safetensors::SafeTensors;
use serde_json::Value;
use vaelab::burn::tensor::{Device, Tensor, TensorData};
use vaelab::cifar::CifarImages;
use vaelab::config::TrainConfig;
use vaelab::loss::LossMode;
use vaelab::net::ZFrom;
use vaelab::train::{EvalMetrics, StepMetrics, Trainer};

/// The fixture files' bytes and the mini slice they were computed from.
pub struct Fixtures<'a> {
    pub expected: &'a str,
    /// `tests/parity/pytorch-float64.json`.
    pub float64: &'a str,
    pub init: &'a [u8],
    pub after3: &'a [u8],
    /// `eps` `[3, 32, 16]`: the VAE's noise per step (unused by the AE).
    pub eps: &'a [u8],
    /// The mini `data_batch_1.bin` and `test_batch.bin`.
    pub train: &'a [u8],
    pub test: &'a [u8],
}

/// One number compared with PyTorch's.
#[derive(Debug)]
pub struct Check {
    pub what: String,
    pub ours: f64,
    pub pytorch: f64,
    pub error: f64,
    pub tolerance: f64,
}

impl Check {
    fn new(what: String, ours: f64, pytorch: f64, tolerance: f64) -> Self {
        Self {
            what,
            ours,
            pytorch,
            error: relative(ours, pytorch),
            tolerance,
        }
    }

    pub fn passed(&self) -> bool {
        self.error <= self.tolerance
    }
}

impl std::fmt::Display for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:<34} ours {:>14.7} pytorch {:>14.7} rel.err {:.2e} (tol {:.0e}) {}",
            self.what,
            self.ours,
            self.pytorch,
            self.error,
            self.tolerance,
            if self.passed() { "ok" } else { "FAILED" }
        )
    }
}

/// Relative error; an expected 0 (the AE's KL) must be met exactly.
fn relative(ours: f64, pytorch: f64) -> f64 {
    if pytorch == 0.0 {
        ours.abs()
    } else {
        (ours - pytorch).abs() / pytorch.abs()
    }
}

fn f32s(file: &SafeTensors, name: &str) -> Vec<f32> {
    let view = file.tensor(name).unwrap_or_else(|e| panic!("{name}: {e}"));
    view.data()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

/// ‖w − w_pt‖ / ‖w_pt − w_init‖ over all parameters together.
fn weight_error(ours: &[u8], pytorch: &[u8], init: &[u8]) -> f64 {
    let (ours, pytorch, init) = (
        SafeTensors::deserialize(ours).unwrap(),
        SafeTensors::deserialize(pytorch).unwrap(),
        SafeTensors::deserialize(init).unwrap(),
    );
    let (mut diff, mut moved) = (0f64, 0f64);
    let mut names = pytorch.names();
    names.sort();
    assert_eq!(names.len(), ours.names().len(), "same parameters");
    for name in names {
        let (o, p, i) = (f32s(&ours, name), f32s(&pytorch, name), f32s(&init, name));
        assert_eq!(o.len(), p.len(), "{name}");
        let (mut d, mut m) = (0f64, 0f64);
        for ((o, p), i) in o.iter().zip(&p).zip(&i) {
            d += (*o as f64 - *p as f64).powi(2);
            m += (*p as f64 - *i as f64).powi(2);
        }
        println!(
            "  {name:<28} |w - w_pt| {:.3e}  |w_pt - w_init| {:.3e}",
            d.sqrt(),
            m.sqrt()
        );
        diff += d;
        moved += m;
    }
    diff.sqrt() / moved.sqrt()
}

#[derive(Default)]
struct Checks(Vec<Check>);

impl Checks {
    /// One number against the fixture and the re-run, with tolerances
    /// `(fixture, float64)`.
    fn both(&mut self, what: String, ours: f32, fixture: &Value, rerun: &Value, tol: (f64, f64)) {
        let name = format!("{what} (fixture)");
        self.0
            .push(Check::new(name, ours as f64, num(fixture), tol.0));
        let name = format!("{what} (float64)");
        self.0
            .push(Check::new(name, ours as f64, num(rerun), tol.1));
    }

    /// One number against whichever reference lies nearer (the VAE after its
    /// fork), with the README's tolerance.
    fn nearer(&mut self, what: String, ours: f32, fixture: &Value, rerun: &Value, tol: f64) {
        let (f, r) = (num(fixture), num(rerun));
        let (label, reference) = if relative(ours as f64, f) <= relative(ours as f64, r) {
            ("fixture", f)
        } else {
            ("float64", r)
        };
        let name = format!("{what} (nearer: {label})");
        self.0.push(Check::new(name, ours as f64, reference, tol));
    }
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("number: {v}"))
}

/// Tolerances of the fixture README for `(step, quantity)` (step 0 = the
/// first), and against the float64 re-run where both are checked (PyTorch's
/// own float32 lies within 1e-6 of it for the AE, 1.6e-6 for the VAE's first step).
fn tolerance(mode: LossMode, step: usize, what: &str) -> (f64, f64) {
    let readme = match (mode, step, what) {
        (LossMode::Ae, ..) => 1e-4,
        (LossMode::Vae, 0, "kl") => 1e-3,
        (LossMode::Vae, 0, _) => 1e-4,
        (LossMode::Vae, ..) => 3e-3,
    };
    let float64 = match mode {
        LossMode::Ae => 1e-5,
        LossMode::Vae => 1e-3,
    };
    (readme, float64)
}

/// A trainer for `run` (its spec in `expected.json`) holding PyTorch's
/// initial weights.
fn trainer_for(spec: &Value, fx: &Fixtures<'_>, device: &Device) -> Trainer {
    let config = TrainConfig {
        loss_mode: spec["mode"].as_str().unwrap().parse().unwrap(),
        latent_size: num(&spec["latent"]) as usize,
        target_beta: num(&spec["beta"]) as f32,
        batch_size: num(&spec["batch"]) as usize,
        lr: num(&spec["lr"]),
        ..TrainConfig::default()
    };
    let mut trainer = Trainer::new(config, device).expect("trainer");
    trainer
        .load(fx.init)
        .expect("PyTorch's initial weights load");
    trainer
}

/// The documented steps: PyTorch's batches in order, and its noise for the VAE.
async fn take_steps(trainer: &mut Trainer, spec: &Value, fx: &Fixtures<'_>) -> Vec<StepMetrics> {
    let config = trainer.config().clone();
    let (batch, latent) = (config.batch_size, config.latent_size);
    let train = CifarImages::parse("data_batch_1.bin", fx.train).unwrap();
    let eps = SafeTensors::deserialize(fx.eps).unwrap();
    let eps = f32s(&eps, "eps");
    let steps = spec["steps"].as_array().unwrap().len();
    for s in 0..steps {
        let indices: Vec<usize> = (batch * s..batch * (s + 1)).collect();
        let x = train.batch(&indices, trainer.device());
        let z = match config.loss_mode {
            LossMode::Ae => ZFrom::Sample,
            LossMode::Vae => {
                let rows = eps[s * batch * latent..(s + 1) * batch * latent].to_vec();
                ZFrom::Noise(Tensor::from_data(
                    TensorData::new(rows, [batch, latent]),
                    trainer.device(),
                ))
            }
        };
        trainer.train_on_with(x, z).unwrap();
    }
    let metrics = trainer.flush_metrics().await.unwrap();
    assert_eq!(metrics.len(), steps);
    metrics
}

/// The documented steps of `run` on `device`, from PyTorch's initial weights,
/// then the test losses (decoded at the mean) on the first `test_images` of
/// the mini test set: for comparing two devices (or two builds) with each
/// other.
#[allow(
    dead_code,
    reason = "the browser test compares WebGPU with the CPU; the native test has one device"
)]
pub async fn steps_on(
    run: &str,
    fx: &Fixtures<'_>,
    device: &Device,
    test_images: usize,
) -> (Vec<StepMetrics>, EvalMetrics) {
    let expected: Value = serde_json::from_str(fx.expected).expect("expected.json");
    let spec = &expected["runs"][run];
    let mut trainer = trainer_for(spec, fx, device);
    let steps = take_steps(&mut trainer, spec, fx).await;
    let eval = test_losses(&trainer, fx, test_images).await;
    (steps, eval)
}

/// The test losses of `trainer`, decoded at the mean, on the first
/// `test_images` of the mini test set.
#[allow(dead_code, reason = "used by the browser test and `steps_on` only")]
pub async fn test_losses(trainer: &Trainer, fx: &Fixtures<'_>, test_images: usize) -> EvalMetrics {
    let bytes = &fx.test[..test_images * vaelab::cifar::RECORD_BYTES];
    let test = CifarImages::parse("test_batch.bin", bytes).unwrap();
    trainer.evaluate_with(&test, ZFrom::Mean).await.unwrap()
}

/// What [`run`] found: every number compared with PyTorch's, and the steps'
/// own numbers with the trainer after them, so that a test can compare the
/// same steps with another device without taking them again (on an emulated
/// GPU each step is seconds).
pub struct Run {
    pub checks: Vec<Check>,
    #[allow(dead_code, reason = "the native test has one device to compare")]
    pub steps: Vec<StepMetrics>,
    #[allow(dead_code, reason = "the native test has one device to compare")]
    pub trainer: Trainer,
}

/// Loads PyTorch's initial weights for `run` (`"ae16"` or `"vae16"`), takes
/// the three documented steps (with PyTorch's noise for the VAE) and compares
/// every number with the fixture and with the float64 re-run. `evaluate` adds
/// the test losses before and after (500 forward passes each: minutes on an
/// emulated GPU, so the browser test leaves them to the native one and
/// compares its own device's test losses on 32 images, [`test_losses`] of the
/// returned trainer, with the CPU's from [`steps_on`]).
pub async fn run(run: &str, fx: &Fixtures<'_>, device: &Device, evaluate: bool) -> Run {
    let expected: Value = serde_json::from_str(fx.expected).expect("expected.json");
    let float64: Value = serde_json::from_str(fx.float64).expect("pytorch-float64.json");
    let (spec, rerun) = (&expected["runs"][run], &float64[run]);
    let mode: LossMode = spec["mode"].as_str().unwrap().parse().unwrap();
    let mut trainer = trainer_for(spec, fx, device);
    let test = CifarImages::parse("test_batch.bin", fx.test).unwrap();
    let mut checks = Checks::default();
    let eval = |checks: &mut Checks, when: &str, m: EvalMetrics| {
        let key = format!("eval_{when}");
        let (e, r) = (&spec[&key], &rerun[&key]);
        for (what, ours, field) in [
            ("recon at mu", m.recon, "recon_at_mean"),
            ("KL", m.kl, "kl"),
        ] {
            let what = format!("{run} test {what}, {when}");
            match (mode, when) {
                (LossMode::Vae, "after") => checks.nearer(what, ours, &e[field], &r[field], 3e-3),
                _ => checks.both(
                    what,
                    ours,
                    &e[field],
                    &r[field],
                    (1e-4, tolerance(mode, 0, "").1),
                ),
            }
        }
    };
    if evaluate {
        let m = trainer.evaluate_with(&test, ZFrom::Mean).await.unwrap();
        eval(&mut checks, "init", m);
    }

    let metrics = take_steps(&mut trainer, spec, fx).await;
    let steps = spec["steps"].as_array().unwrap();
    for (s, m) in metrics.iter().enumerate() {
        let (e, r) = (&steps[s], &rerun["steps"][s]);
        for (what, ours, key) in [
            ("recon", m.recon, "recon"),
            ("kl", m.kl, "kl"),
            ("total", m.total, "total"),
            ("grad norm", m.grad_norm, "grad_global_norm_before_clip"),
        ] {
            let name = format!("{run} step {} {what}", s + 1);
            let tol = tolerance(mode, s, what);
            match (mode, s) {
                (LossMode::Vae, 1..) => checks.nearer(name, ours, &e[key], &r[key], tol.0),
                _ => checks.both(name, ours, &e[key], &r[key], tol),
            }
        }
    }

    let saved = trainer.save().await.unwrap();
    let error = weight_error(&saved, fx.after3, fx.init);
    let weights = Check {
        what: format!("{run} weights after 3 steps (fixture)"),
        ours: error,
        pytorch: 0.0,
        error,
        tolerance: match mode {
            LossMode::Ae => 2e-3,
            LossMode::Vae => 0.1,
        },
    };
    if evaluate {
        let m = trainer.evaluate_with(&test, ZFrom::Mean).await.unwrap();
        eval(&mut checks, "after", m);
    }
    checks.0.push(weights);
    Run {
        checks: checks.0,
        steps: metrics,
        trainer,
    }
}

/// Every check printed, then one failure naming those outside tolerance.
pub fn assert_all(checks: &[Check]) {
    for c in checks {
        println!("{c}");
    }
    let failed: Vec<String> = checks
        .iter()
        .filter(|c| !c.passed())
        .map(|c| c.to_string())
        .collect();
    assert!(
        failed.is_empty(),
        "outside PyTorch's tolerance:\n{}",
        failed.join("\n")
    );
}
