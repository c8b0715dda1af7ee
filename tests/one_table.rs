//! The settings table and the words the page and the command line share:
//! the page's JavaScript (run by Node, as the page tests run it) and the core
//! must agree on them. Node is part of the test set-up (scripts/setup.sh);
//! without it this test says SKIPPED, or fails under CI.
#![cfg(not(target_arch = "wasm32"))]

use std::process::Command;

use vaelab::{config::TrainConfig, loss::LossMode, schedule::BetaSchedule};

/// `expression` evaluated by Node with the page's modules `state` and
/// `settings` imported, as JSON.
fn page_js(expression: &str) -> Option<serde_json::Value> {
    let www = concat!(env!("CARGO_MANIFEST_DIR"), "/www/js");
    let script = format!(
        "const state = await import('{www}/state.js'); const settings = await import('{www}/settings.js');\n\
         process.stdout.write(JSON.stringify({expression}));"
    );
    let out = match Command::new("node")
        .args(["--input-type=module", "-e", &script])
        .output()
    {
        Ok(out) => out,
        Err(e) if std::env::var_os("CI").is_none() => {
            eprintln!("SKIPPED: node is not installed ({e}); scripts/setup.sh installs it");
            return None;
        }
        Err(e) => panic!("node is needed under CI: {e}"),
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_slice(&out.stdout).unwrap())
}

#[test]
fn the_page_and_the_core_describe_a_schedule_in_the_same_words() {
    let configs = [
        TrainConfig::default(),
        TrainConfig {
            loss_mode: LossMode::Vae,
            target_beta: 0.8,
            ..Default::default()
        },
        TrainConfig {
            beta_mode: BetaSchedule::Linear,
            target_beta: 1.2,
            ..Default::default()
        },
        TrainConfig {
            beta_mode: BetaSchedule::Cyclical,
            beta_cycles: 3,
            beta_ramp_fraction: 0.25,
            free_bits: 0.5,
            ..Default::default()
        },
        TrainConfig {
            beta_mode: BetaSchedule::Capacity,
            capacity_gamma: 100.0,
            capacity_max: 12.5,
            ..Default::default()
        },
    ];
    let json = vaelab::config::exact_json(&configs).unwrap();
    let Some(page) = page_js(&format!("({json}).map(state.describeSchedule)")) else {
        return;
    };
    for (c, words) in configs.iter().zip(page.as_array().unwrap()) {
        assert_eq!(words.as_str().unwrap(), c.describe_schedule(), "{c:?}");
    }
}

#[test]
fn the_pages_defaults_and_groups_are_the_cores() {
    let Some(page) = page_js("[settings.DEFAULTS, settings.SCHEDULE_KEYS]") else {
        return;
    };
    let defaults: TrainConfig = serde_json::from_value(page[0].clone()).unwrap();
    assert_eq!(defaults, TrainConfig::default());
    let schedule: Vec<&str> =
        vaelab::settings::keys_of(vaelab::settings::Group::Schedule).collect();
    let page_schedule: Vec<&str> = page[1]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap())
        .collect();
    assert_eq!(page_schedule, schedule);
}

#[test]
fn the_pages_copy_of_the_cores_constants_is_the_cores() {
    let core: serde_json::Value =
        serde_json::from_str(include_str!("../www/js/core.json")).unwrap();
    let files: Vec<&str> = core["trainFiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert_eq!(files, vaelab::cifar::TRAIN_FILES);
    assert_eq!(core["testFile"], vaelab::cifar::TEST_FILE);
    assert_eq!(core["recordBytes"], vaelab::cifar::RECORD_BYTES);
    assert_eq!(
        core["imageSize"].as_u64().unwrap().pow(2) * 3,
        vaelab::cifar::IMAGE_BYTES as u64
    );
    assert_eq!(core["gridGap"], vaelab::grid::GAP);
    // The page's metrics CSV has the command line's metrics.jsonl fields.
    assert_eq!(
        core["metricsColumns"],
        serde_json::json!(vaelab::record::COLUMNS)
    );
    assert_eq!(core["sampleCount"], vaelab::train::SAMPLE_COUNT);
    // A grid of one image is the image and a gap all round: the gap the page assumes.
    let (w, _, _) = vaelab::grid::samples_rgba(&[0.5; 3 * 32 * 32], 1);
    assert_eq!(
        w as u64,
        core["imageSize"].as_u64().unwrap() + 2 * core["gridGap"].as_u64().unwrap()
    );
}
