#![cfg(not(target_arch = "wasm32"))]
//! The quick lesson teaches what the exercise teaches: its protocol
//! (www/js/exercise.json, `quick`: the images, epochs, batch size and learning
//! rate the page's quick lesson trains with), run through the one epoch loop
//! on the full CIFAR-10 training and test sets, reproduces the exercise's
//! qualitative results on every seed:
//! - AE recon at latent 16 > 128 > 1024, each at least 10 % above the next;
//! - the VAE's recon above the AE's at the same latent (1024);
//! - over β 0.8 → 1 → 1.2, recon rising and KL falling;
//! - the annealed run's recon (linear β to 1) below the constant-β run's.
//!
//! 21 runs: ignored by default, run by `scripts/lesson-check.sh` (release
//! build). LESSON_SEEDS, and LESSON_IMAGES / _EPOCHS / _BATCH / _LR for a
//! candidate protocol, LESSON_DEVICE=wgpu on a GPU. EXERCISE.md records the sweep.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;
use vaelab::cifar::{Cifar10, FULL_DIR, TEST_FILE, TRAIN_FILES};
use vaelab::train::EvalMetrics;
use vaelab::{
    burn::tensor::Device, config::TrainConfig, dataset::Dataset, dataset::Images, driver::Budget,
    driver::EpochDriver, train::Trainer,
};

/// The quick lesson's protocol, as the page reads it.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
struct Quick {
    num_epochs: usize,
    images: usize,
    batch_size: usize,
    lr: f64,
}

/// One of the exercise's runs in the table the page, the CLI's scripts and
/// this test read: its settings over the defaults, the VAE runs at the latent
/// the exercise finds sharpest (1024), the annealed one to β 1.
#[derive(Deserialize)]
struct ExerciseRun {
    id: String,
    config: serde_json::Map<String, serde_json::Value>,
    latent: Option<String>,
}

fn exercise() -> (Quick, Vec<(String, TrainConfig)>) {
    let table: serde_json::Value =
        serde_json::from_str(include_str!("../www/js/exercise.json")).expect("exercise.json");
    let mut quick: Quick =
        serde_json::from_value(table["quick"].clone()).expect("exercise.json: quick");
    // A candidate protocol for a sweep, without editing the table.
    let set = |name: &str| {
        std::env::var(name)
            .ok()
            .map(|v| v.parse::<f64>().expect(name))
    };
    if let Some(n) = set("LESSON_IMAGES") {
        quick.images = n as usize;
    }
    if let Some(n) = set("LESSON_EPOCHS") {
        quick.num_epochs = n as usize;
    }
    if let Some(n) = set("LESSON_BATCH") {
        quick.batch_size = n as usize;
    }
    if let Some(lr) = set("LESSON_LR") {
        quick.lr = lr;
    }
    let runs: Vec<ExerciseRun> =
        serde_json::from_value(table["runs"].clone()).expect("exercise.json: runs");
    let runs = runs
        .into_iter()
        .map(|run| {
            let mut c = serde_json::to_value(TrainConfig::default()).unwrap();
            for (k, v) in run.config {
                c[k] = v;
            }
            if run.latent.as_deref() == Some("picked") {
                c["latentSize"] = 1024.into();
            }
            c["numEpochs"] = quick.num_epochs.into();
            c["batchSize"] = quick.batch_size.into();
            c["lr"] = quick.lr.into();
            (run.id, serde_json::from_value(c).expect("a run's config"))
        })
        .collect();
    (quick, runs)
}

fn full_data() -> Dataset {
    let dir: PathBuf = vaelab::data_root().join(FULL_DIR);
    assert!(
        dir.join(TEST_FILE).exists(),
        "no CIFAR-10 at {} (set VAELAB_DATA to a folder holding {FULL_DIR}/)",
        dir.display()
    );
    let files: Vec<(String, Vec<u8>)> = TRAIN_FILES
        .iter()
        .chain([&TEST_FILE])
        .map(|n| (n.to_string(), std::fs::read(dir.join(n)).unwrap()))
        .collect();
    Cifar10::from_files(
        "CIFAR-10",
        files.iter().map(|(n, b)| (n.as_str(), b.as_slice())),
    )
    .unwrap()
    .into()
}

/// Burn's CPU device; `LESSON_DEVICE=wgpu` in a build with the `wgpu`
/// feature trains on the GPU (the sweep takes minutes there, hours here).
fn device() -> Device {
    match std::env::var("LESSON_DEVICE").as_deref() {
        #[cfg(feature = "wgpu")]
        Ok("wgpu") => Device::wgpu_options().init().expect("a wgpu device"),
        Ok("flex") | Err(_) => Device::flex(),
        Ok(other) => panic!("LESSON_DEVICE={other}: flex, or wgpu in a build with --features wgpu"),
    }
}

/// One run of the protocol through the epoch loop the page and the CLI use;
/// the test set is evaluated in full after the last epoch (the epochs before
/// evaluate one image, to spend the time on training). The run is the one
/// `vaelab train` makes with the same flags and seed, to the digit: the loop
/// seeds each epoch's noise afresh, so the shorter test passes do not change
/// the VAE's later draws (checked against the CLI's metrics.jsonl at 4
/// decimals on the CPU device, one thread each; printed so for that).
fn train(config: &TrainConfig, images: usize, data: &Dataset, seed: u64) -> EvalMetrics {
    let config = TrainConfig {
        seed,
        ..config.clone()
    };
    let epochs = config.num_epochs;
    let train = data.train.clone().with_limit(Some(images));
    let during = Dataset {
        train: train.clone(),
        test: data.test.clone().with_limit(Some(1)),
    };
    let last = Dataset {
        train,
        test: data.test.clone(),
    };
    let mut driver = EpochDriver::new(Trainer::new(config, &device()).unwrap());
    let clock = || 0.0;
    loop {
        let data = if driver.trainer().epoch() + 1 == epochs {
            &last
        } else {
            &during
        };
        let p = pollster::block_on(driver.advance(data, Budget::Steps(64), &clock)).unwrap();
        if let Some(report) = p.epoch_end
            && p.finished
        {
            return report.test;
        }
    }
}

#[test]
#[ignore = "21 training runs on all of CIFAR-10 (tens of minutes): scripts/lesson-check.sh"]
fn the_quick_lesson_shows_the_exercise_lessons_on_every_seed() {
    let (q, runs) = exercise();
    let data = full_data();
    let seeds: Vec<u64> = std::env::var("LESSON_SEEDS")
        .map(|s| s.split(',').map(|x| x.parse().unwrap()).collect())
        .unwrap_or(vec![0, 1, 2]);
    println!("protocol {q:?}, test images {}", data.test.len());
    let mut failures = Vec::new();
    for seed in seeds {
        let mut m = BTreeMap::new();
        for (id, config) in &runs {
            let t = train(config, q.images, &data, seed);
            println!(
                "seed {seed} {id:<9} test recon {:9.4} kl {:8.4}",
                t.recon, t.kl
            );
            m.insert(id.as_str(), t);
        }
        let r = |k: &str| m[k].recon;
        let kl = |k: &str| m[k].kl;
        let checks = [
            (r("ae16") > 1.1 * r("ae128"), "AE recon 16 ≥ 10 % above 128"),
            (
                r("ae128") > 1.1 * r("ae1024"),
                "AE recon 128 ≥ 10 % above 1024",
            ),
            (
                r("vae") > r("ae1024"),
                "VAE recon above the AE's at latent 1024",
            ),
            (
                r("vae08") < r("vae") && r("vae") < r("vae12"),
                "recon rising over β 0.8, 1, 1.2",
            ),
            (
                kl("vae08") > kl("vae") && kl("vae") > kl("vae12"),
                "KL falling over β 0.8, 1, 1.2",
            ),
            (
                r("vaeanneal") < r("vae"),
                "annealed recon below constant β's",
            ),
        ];
        for (ok, what) in checks {
            if !ok {
                failures.push(format!("seed {seed}: {what}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "the quick lesson's runs contradict the exercise: {failures:#?}"
    );
}
