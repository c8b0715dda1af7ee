#![cfg(not(target_arch = "wasm32"))]
//! A run goes on from its last finished epoch exactly as if it had never
//! stopped: the saved state is the whole state (weights, Adam's moments, the
//! step, the settings as they are now), the shuffles' stream is replayed up
//! to the epoch and the epoch's noise comes from the seed and the epoch alone.
//! On the mini slice of CIFAR-10.

mod mini;

use std::path::Path;

use mini::{DEVICE_RNG, mini, mini_dir, vaelab};
use vaelab::train::StepMetrics;
use vaelab::{
    burn::tensor::Device, config::TrainConfig, dataset::Dataset, driver::Budget,
    driver::EpochDriver, loss::LossMode, train::Trainer,
};

/// Float32 results of the same computation on the CPU device: the parity
/// tests' relative tolerance.
const TOLERANCE: f64 = 1e-4;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= TOLERANCE * a.abs().max(b.abs()).max(1.0)
}

/// The steps of the driver's next epoch.
fn next_epoch(driver: &mut EpochDriver, data: &Dataset) -> Vec<StepMetrics> {
    let mut steps = Vec::new();
    loop {
        let p = pollster::block_on(driver.advance(data, Budget::Steps(4), &|| 0.0)).unwrap();
        steps.extend(p.steps);
        if p.epoch_end.is_some() {
            return steps;
        }
    }
}

fn losses(steps: &[StepMetrics]) -> Vec<(usize, f64, f64, f64)> {
    steps
        .iter()
        .map(|m| (m.step, m.recon as f64, m.kl as f64, m.grad_norm as f64))
        .collect()
}

/// The second epoch after a resume repeats the uninterrupted run's steps;
/// the same weights with a fresh Adam (what a restart did before) do not,
/// which shows the comparison sees the optimiser's state.
#[test]
#[cfg_attr(
    vaelab_skip_mini,
    ignore = "SKIPPED: no CIFAR-10 mini slice (see the build warning)"
)]
fn a_resumed_vae_takes_the_uninterrupted_runs_steps() {
    let mut data = mini();
    data.train.truncate(96);
    let data = Dataset::from(data);
    let _rng = DEVICE_RNG.lock().unwrap_or_else(|e| e.into_inner());
    let device = Device::flex();
    let config = TrainConfig {
        loss_mode: LossMode::Vae,
        latent_size: 8,
        batch_size: 16,
        num_epochs: 2,
        seed: 3,
        ..Default::default()
    };
    let mut run = EpochDriver::new(Trainer::new(config, &device).unwrap());
    next_epoch(&mut run, &data);
    // A β changed mid-run is part of the state that goes on.
    let mut schedule = run.trainer().config().clone();
    schedule.target_beta = 0.5;
    run.trainer_mut().set_schedule(&schedule).unwrap();
    let model = pollster::block_on(run.trainer().save()).unwrap();
    let adam = pollster::block_on(run.trainer().optimizer_state()).unwrap();
    let uninterrupted = losses(&next_epoch(&mut run, &data));
    assert_eq!(
        uninterrupted.first().map(|l| l.0),
        Some(7),
        "6 steps an epoch"
    );

    let resumed = Trainer::resume(&model, &adam, &device).unwrap();
    assert_eq!(resumed.config().target_beta, 0.5);
    assert_eq!(resumed.epoch(), 1);
    let mut resumed = EpochDriver::new(resumed);
    let again = losses(&next_epoch(&mut resumed, &data));
    assert_eq!(again.len(), uninterrupted.len());
    for (a, b) in uninterrupted.iter().zip(&again) {
        assert_eq!(a.0, b.0, "step numbers go on");
        assert!(
            close(a.1, b.1) && close(a.2, b.2) && close(a.3, b.3),
            "step {}: uninterrupted {a:?}, resumed {b:?}",
            a.0
        );
    }

    let mut fresh_adam = Trainer::new(TrainConfig::saved_in(&model).unwrap(), &device).unwrap();
    fresh_adam.load(&model).unwrap();
    fresh_adam.set_epoch(1);
    let mut fresh_adam = EpochDriver::new(fresh_adam);
    let other = losses(&next_epoch(&mut fresh_adam, &data));
    assert!(
        close(other[0].1, uninterrupted[0].1),
        "same weights, same first batch and noise"
    );
    let last = other.len() - 1;
    assert!(
        !close(other[last].1, uninterrupted[last].1),
        "Adam's moments must change the later steps: {:?} vs {:?}",
        other[last],
        uninterrupted[last]
    );
}

fn metrics(dir: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// `vaelab train` stopped after one epoch and `--resume`d to three writes
/// the metrics of the run that trained three epochs at once; the folder holds
/// one model and the Adam state beside it.
#[test]
#[cfg_attr(
    vaelab_skip_mini,
    ignore = "SKIPPED: no CIFAR-10 mini slice (see the build warning)"
)]
fn the_command_line_resumes_a_run_where_it_stopped() {
    let data = mini_dir();
    let data = data.to_str().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let (whole, parts) = (tmp.path().join("whole"), tmp.path().join("parts"));
    let train = |dir: &Path, extra: &[&str]| {
        let mut args = vec!["train", "--log_dir", dir.to_str().unwrap(), "--data", data];
        args.extend(["--limit", "96", "--batch_size", "16"]);
        args.extend(extra);
        vaelab(&args)
    };
    let run = ["--loss_mode", "vae", "--latent_size", "8", "--seed", "5"];
    let (ok, err) = train(&whole, &[&run[..], &["--num_epochs", "3"]].concat());
    assert!(ok, "{err}");
    let (ok, err) = train(&parts, &[&run[..], &["--num_epochs", "1"]].concat());
    assert!(ok, "{err}");
    assert!(
        parts.join("adam_after_1_epochs.safetensors").exists(),
        "{err}"
    );

    // Only the length may change on resume; a finished run says how to go on.
    let (ok, err) = train(&parts, &["--resume", "--latent_size", "16"]);
    assert!(
        !ok && err.contains("(--latent_size 8); --latent_size cannot change"),
        "{err}"
    );
    let (ok, err) = train(&parts, &[&run[..], &["--resume"]].concat());
    assert!(
        !ok && err.contains("has finished its 1 epochs") && err.contains("--num_epochs"),
        "{err}"
    );
    let (ok, err) = train(&parts, &["--resume", "--num_epochs", "3"]);
    assert!(ok && err.contains("resuming"), "{err}");

    let (a, b) = (metrics(&whole), metrics(&parts));
    assert_eq!(b.len(), 3, "{b:?}");
    for (a, b) in a.iter().zip(&b) {
        for key in ["train_recon", "train_kl", "test_recon", "test_kl"] {
            let (x, y) = (a[key].as_f64().unwrap(), b[key].as_f64().unwrap());
            assert!(close(x, y), "epoch {}: {key} {x} vs {y}", a["epoch"]);
        }
    }
    assert_eq!(files(&whole), files(&parts));
    assert!(files(&parts).contains(&"adam_after_3_epochs.safetensors".to_string()));
    assert_eq!(
        files(&parts)
            .iter()
            .filter(|f| f.starts_with("adam_"))
            .count(),
        1
    );
}

/// A new run into a used folder removes the old run's files (and nothing
/// else); `--resume` where nothing was saved says so.
#[test]
#[cfg_attr(
    vaelab_skip_mini,
    ignore = "SKIPPED: no CIFAR-10 mini slice (see the build warning)"
)]
fn a_new_run_replaces_the_old_runs_files_and_an_empty_folder_cannot_resume() {
    let data = mini_dir();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let log_dir = dir.to_str().unwrap();
    let (ok, err) = vaelab(&["train", "--log_dir", log_dir, "--resume"]);
    assert!(!ok && err.contains("nothing to resume"), "{err}");
    for stale in [
        "recon_epoch_07.png",
        "samples_epoch_07.png",
        "adam_after_8_epochs.safetensors",
        "model.safetensors.partial",
    ] {
        std::fs::write(dir.join(stale), b"an older run").unwrap();
    }
    std::fs::write(dir.join("notes.txt"), b"the student's").unwrap();
    let (ok, err) = vaelab(&[
        "train",
        "--log_dir",
        log_dir,
        "--data",
        data.to_str().unwrap(),
        "--limit",
        "32",
        "--batch_size",
        "16",
        "--latent_size",
        "8",
        "--num_epochs",
        "1",
    ]);
    assert!(ok && err.contains("replacing the earlier run"), "{err}");
    assert_eq!(
        files(dir),
        [
            "adam_after_1_epochs.safetensors",
            "losses.png",
            "metrics.jsonl",
            "model.safetensors",
            "notes.txt",
            "recon_epoch_00.png",
        ]
    );
}
