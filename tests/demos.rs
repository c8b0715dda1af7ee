#![cfg(not(target_arch = "wasm32"))]
//! The page's runs beyond the exercise (www/js/demos.json) show what they
//! say they show, trained through the one epoch loop on the mini slice
//! (1,000 images, 2 epochs of batch 64: 32 steps, as a class would see the
//! first epochs of the preset):
//! - `collapse` (latent 16, β 100): posterior collapse: no unit is active and
//!   the test KL, summed over the units, stays below 0.1 nats;
//! - `freebits` (the same with free bits λ 0.5): the units keep information:
//!   at least half of them active and a test KL of several nats, its
//!   reconstructions better than the collapsed run's.

mod mini;

use mini::{DEVICE_RNG, mini};
use serde::Deserialize;
use vaelab::driver::{Budget, EpochReport};
use vaelab::{
    burn::tensor::Device, config::TrainConfig, dataset::Dataset, driver::EpochDriver,
    train::Trainer,
};

/// A demo as the page reads it: its settings over the defaults.
#[derive(Deserialize)]
struct Demo {
    id: String,
    config: serde_json::Map<String, serde_json::Value>,
}

fn demos() -> Vec<(String, TrainConfig)> {
    let table: serde_json::Value =
        serde_json::from_str(include_str!("../www/js/demos.json")).expect("demos.json");
    let demos: Vec<Demo> = serde_json::from_value(table["runs"].clone()).expect("demos.json: runs");
    demos
        .into_iter()
        .map(|d| {
            let mut c = serde_json::to_value(TrainConfig::default()).unwrap();
            for (k, v) in d.config {
                c[k] = v;
            }
            c["numEpochs"] = 2.into();
            c["batchSize"] = 64.into();
            (d.id, serde_json::from_value(c).expect("a demo's config"))
        })
        .collect()
}

/// The last epoch's report of a demo trained on the mini slice.
fn train(config: TrainConfig, data: &Dataset) -> EpochReport {
    let mut d = EpochDriver::new(Trainer::new(config, &Device::flex()).unwrap());
    let mut last = None;
    while !d.is_finished() {
        let p = pollster::block_on(d.advance(data, Budget::Steps(16), &|| 0.0)).unwrap();
        last = p.epoch_end.or(last);
    }
    last.unwrap()
}

#[test]
#[cfg_attr(
    vaelab_skip_mini,
    ignore = "SKIPPED: no CIFAR-10 mini slice (see the build warning)"
)]
fn each_demo_shows_what_it_says() {
    let data = Dataset::from(mini());
    let _rng = DEVICE_RNG.lock().unwrap_or_else(|e| e.into_inner());
    let runs = demos();
    let ids: Vec<&str> = runs.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, ["collapse", "freebits"], "a demo without a check here");
    let reports: Vec<EpochReport> = runs.iter().map(|(_, c)| train(c.clone(), &data)).collect();
    let [collapse, freebits] = &reports[..] else {
        unreachable!()
    };
    for (id, r) in ids.iter().zip(&reports) {
        eprintln!(
            "{id}: active units {}/16, test KL {:.3}, test recon {:.1}",
            r.latent.active_units, r.test.kl, r.test.recon
        );
    }
    assert_eq!(collapse.latent.active_units, 0, "collapse: no unit active");
    assert!(
        collapse.test.kl < 0.1,
        "collapse: test KL {}",
        collapse.test.kl
    );
    assert!(
        freebits.latent.active_units >= 8,
        "free bits: {} units active",
        freebits.latent.active_units
    );
    assert!(
        freebits.test.kl > 2.0,
        "free bits: test KL {}",
        freebits.test.kl
    );
    assert!(
        freebits.test.recon < collapse.test.recon - 20.0,
        "free bits reconstruct better: {} against {}",
        freebits.test.recon,
        collapse.test.recon
    );
}
