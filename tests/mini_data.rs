#![cfg(not(target_arch = "wasm32"))]
//! Tests on real CIFAR-10 images: the mini slice under `$VAELAB_DATA`.
//! Without it they say loudly that they were skipped.

mod mini;

use std::process::Command;

use mini::{DEVICE_RNG, mini, mini_dir, read, vaelab};

use vaelab::cifar::{CLASSES, Cifar10, CifarFile, DataError};
use vaelab::dataset::{DeviceImages, ImageSet};
use vaelab::{
    burn::tensor::Device, config::TrainConfig, dataset::CifarFiles, dataset::Dataset,
    dataset::Images, dataset::Placement, driver::Budget, driver::EpochDriver, loss::LossMode,
    train::Trainer,
};

fn tar_gz(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut tar = tar::Builder::new(gz);
    for (name, bytes) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append_data(
            &mut header,
            format!("cifar-10-batches-bin/{name}"),
            bytes.as_slice(),
        )
        .unwrap();
    }
    tar.into_inner().unwrap().finish().unwrap()
}

#[test]
#[cfg_attr(
    vaelab_skip_mini,
    ignore = "SKIPPED: no CIFAR-10 mini slice (see the build warning)"
)]
fn parses_the_mini_slice() {
    let data = mini();
    assert_eq!((data.train.len(), data.test.len()), (1000, 500));
    let mut counts = [0usize; 10];
    let mut sum = 0u64;
    for i in 0..data.train.len() {
        counts[data.train.label(i) as usize] += 1;
        sum += data.train.image(i).iter().map(|&p| p as u64).sum::<u64>();
    }
    // A shuffled class mix: every class present, none dominant.
    assert!(
        counts.iter().all(|&c| (50..=150).contains(&c)),
        "{counts:?} over {CLASSES:?}"
    );
    // Mean pixel of CIFAR-10 is about 120.7 (125.3, 122.9, 113.9 per channel).
    let mean = sum as f64 / (1000.0 * 3072.0);
    assert!((110.0..130.0).contains(&mean), "mean pixel {mean}");
}

#[test]
#[cfg_attr(
    vaelab_skip_mini,
    ignore = "SKIPPED: no CIFAR-10 mini slice (see the build warning)"
)]
fn a_tarball_gives_the_same_images_and_a_truncated_one_a_clear_error() {
    let dir = mini_dir();
    let files = read(&dir);
    let archive = tar_gz(&files);
    let from_tar = Cifar10::from_tar_gz("mini.tar.gz", &archive).unwrap();
    let from_dir = mini();
    assert_eq!(from_tar.train.len(), from_dir.train.len());
    assert_eq!(from_tar.test.image(499), from_dir.test.image(499));
    assert_eq!(from_tar.train.label(7), from_dir.train.label(7));
    let err = Cifar10::from_tar_gz("cut.tar.gz", &archive[..archive.len() / 2]).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::Archive { .. } | DataError::BadSize { .. } | DataError::Missing { .. }
        ),
        "{err}"
    );
    assert!(
        err.to_string().contains("cut.tar.gz") || err.to_string().contains(".bin"),
        "{err}"
    );
}

/// One epoch of the AE on 1,000 images must cut the test reconstruction loss
/// well below that of the untrained network (about 1000 for outputs near 0).
#[test]
#[cfg_attr(
    vaelab_skip_mini,
    ignore = "SKIPPED: no CIFAR-10 mini slice (see the build warning)"
)]
fn a_short_run_lowers_the_test_reconstruction_loss() {
    let data = mini();
    let _rng = DEVICE_RNG.lock().unwrap_or_else(|e| e.into_inner());
    let config = TrainConfig {
        loss_mode: LossMode::Ae,
        latent_size: 128,
        batch_size: 32,
        num_epochs: 2,
        ..Default::default()
    };
    let t = Trainer::new(config, &Device::flex()).unwrap();
    let before = pollster::block_on(t.evaluate(&data.test)).unwrap();
    let mut d = EpochDriver::new(t);
    let mut reports = Vec::new();
    let dataset = Dataset::from(data.clone());
    while !d.is_finished() {
        let p = pollster::block_on(d.advance(&dataset, Budget::Steps(8), &|| 0.0)).unwrap();
        reports.extend(p.epoch_end);
    }
    assert_eq!(d.trainer().history().len(), 2 * 1000usize.div_ceil(32));
    assert_eq!(reports.len(), 2);
    let after = pollster::block_on(d.trainer().evaluate(&data.test)).unwrap();
    assert_eq!(
        after, reports[1].test,
        "the AE's evaluation is deterministic"
    );
    eprintln!("test recon {:.1} -> {:.1}", before.recon, after.recon);
    assert!(
        after.recon < 0.6 * before.recon,
        "{} -> {}",
        before.recon,
        after.recon
    );
    assert_eq!(after.kl, 0.0);
}

#[test]
#[cfg_attr(
    vaelab_skip_mini,
    ignore = "SKIPPED: no CIFAR-10 mini slice (see the build warning)"
)]
fn a_short_vae_run_has_finite_falling_losses_and_keeps_its_samples_fixed() {
    let data = mini();
    let _rng = DEVICE_RNG.lock().unwrap_or_else(|e| e.into_inner());
    let config = TrainConfig {
        loss_mode: LossMode::Vae,
        latent_size: 16,
        batch_size: 50,
        num_epochs: 1,
        ..Default::default()
    };
    let mut t = Trainer::new(config, &Device::flex()).unwrap();
    let s0 = pollster::block_on(t.sample(4)).unwrap();
    assert_eq!(s0.len(), 4 * 3072);
    assert_eq!(
        s0,
        pollster::block_on(t.sample(4)).unwrap(),
        "fixed noise gives fixed samples"
    );
    let order: Vec<usize> = (0..data.train.len()).collect();
    for batch in order.chunks(50) {
        t.train_step(&data.train, batch).unwrap();
    }
    let steps = pollster::block_on(t.flush_metrics()).unwrap();
    assert_eq!(steps.len(), 20);
    assert!(
        steps
            .iter()
            .all(|s| s.kl.is_finite() && s.kl >= 0.0 && s.beta == 1.0)
    );
    assert!(
        steps[19].total < steps[0].total,
        "{} -> {}",
        steps[0].total,
        steps[19].total
    );
    let test = pollster::block_on(t.evaluate(&data.test)).unwrap();
    assert!(
        (test.total - test.recon - test.kl).abs() < 1e-3,
        "test total is at beta 1"
    );
    // Saving and loading gives identical reconstructions (the VAE decodes mu).
    let bytes = pollster::block_on(t.save()).unwrap();
    let idx = [0, 1, 2];
    let (x1, r1) = pollster::block_on(t.reconstruct(&data.test, &idx)).unwrap();
    assert_eq!(x1.len(), r1.len());
    let mut u = Trainer::new(t.config().clone(), &Device::flex()).unwrap();
    u.load(&bytes).unwrap();
    let (_, r2) = pollster::block_on(u.reconstruct(&data.test, &idx)).unwrap();
    // Equal up to float summation order (the loaded Linear weights are a transposed layout).
    let diff = r1
        .iter()
        .zip(&r2)
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    assert!(
        diff < 1e-5,
        "reconstructions differ by {diff} after save/load"
    );
}

#[test]
#[cfg_attr(
    vaelab_skip_mini,
    ignore = "SKIPPED: no CIFAR-10 mini slice (see the build warning)"
)]
fn the_command_line_writes_every_artefact_and_eval_reads_the_model() {
    let dir = mini_dir();
    let log = tempfile::tempdir().unwrap();
    let log_dir = log.path().join("vae_run");
    let (ok, err) = vaelab(&[
        "train",
        "--log_dir",
        log_dir.to_str().unwrap(),
        "--loss_mode",
        "vae",
        "--latent_size",
        "16",
        "--num_epochs",
        "2",
        "--batch_size",
        "100",
        "--limit",
        "300",
        "--beta_mode",
        "linear",
        "--target_beta_val",
        "0.8",
        "--data",
        dir.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    for f in [
        "metrics.jsonl",
        "losses.png",
        "model.safetensors",
        "recon_epoch_00.png",
        "recon_epoch_01.png",
        "samples_epoch_00.png",
        "samples_epoch_01.png",
    ] {
        assert!(log_dir.join(f).exists(), "{f} missing; stderr: {err}");
    }
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(log_dir.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    // Linear annealing: beta = 0.8 * epoch / 2.
    assert_eq!(lines[0]["beta"].as_f64().unwrap(), 0.0);
    assert!((lines[1]["beta"].as_f64().unwrap() - 0.4).abs() < 1e-6);
    for key in [
        "train_recon",
        "train_kl",
        "train_total",
        "test_recon",
        "test_kl",
        "test_total",
        "seconds",
    ] {
        assert!(lines[1][key].as_f64().unwrap().is_finite(), "{key}");
    }
    let img = image::open(log_dir.join("samples_epoch_01.png")).unwrap();
    assert_eq!((img.width(), img.height()), (10 * 34 + 2, 10 * 34 + 2));
    let model = log_dir.join("model.safetensors");
    let out = Command::new(env!("CARGO_BIN_EXE_vaelab"))
        .args([
            "eval",
            "--model",
            model.to_str().unwrap(),
            "--data",
            dir.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("vae latent 16") && stdout.contains("recon"),
        "{stdout}"
    );
}

#[test]
fn bad_flags_and_bad_data_are_clear_errors() {
    let (ok, err) = vaelab(&["train", "--log_dir", "/nonexistent/x", "--latent_size", "0"]);
    assert!(!ok && err.contains("--latent_size"), "{err}");
    // The schedules' parameters out of range, each named by its flag.
    for (flag, bad) in [
        ("--beta_cycles", "--beta_cycles=0"),
        ("--beta_ramp_fraction", "--beta_ramp_fraction=0"),
        ("--beta_ramp_fraction", "--beta_ramp_fraction=1.5"),
        ("--capacity_gamma", "--capacity_gamma=-1"),
        ("--capacity_max", "--capacity_max=-2"),
        ("--free_bits", "--free_bits=-0.5"),
    ] {
        let (ok, err) = vaelab(&[
            "train",
            "--log_dir",
            "/nonexistent/x",
            "--beta_mode",
            "cyclical",
            bad,
        ]);
        assert!(
            !ok && err.contains(flag) && err.contains("out of range"),
            "{bad}: {err}"
        );
    }
    let (ok, err) = vaelab(&["train", "--log_dir", "/tmp/x", "--beta_mode", "cosine"]);
    assert!(
        !ok && err.contains("cyclical") && err.contains("capacity"),
        "{err}"
    );
    let (ok, err) = vaelab(&["train", "--log_dir", "/tmp/x", "--data", "/no/such/folder"]);
    assert!(
        !ok && err.contains("not found") && err.contains("/no/such/folder"),
        "{err}"
    );
    let bad = tempfile::tempdir().unwrap();
    std::fs::write(bad.path().join("data_batch_1.bin"), vec![0u8; 3073 * 2 + 5]).unwrap();
    std::fs::write(bad.path().join("test_batch.bin"), vec![0u8; 3073]).unwrap();
    let (ok, err) = vaelab(&[
        "train",
        "--log_dir",
        "/tmp/x",
        "--data",
        bad.path().to_str().unwrap(),
    ]);
    assert!(
        !ok && err.contains("data_batch_1.bin") && err.contains("3073"),
        "{err}"
    );
    let (ok, err) = vaelab(&["train", "--log_dir", "/tmp/x", "--loss_mode", "gan"]);
    assert!(!ok && err.contains("gan"), "{err}");
}

/// `eval` names a damaged model file before it reads any data.
#[test]
fn bad_model_files_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model.safetensors");
    let model = model.to_str().unwrap();
    let mut header = b"{\"encoder.fc.weight\":{\"dtype\":\"F32\",\"shape\":[16,4096],\"data_offsets\":[0,262144]}}".to_vec();
    header.resize(header.len().next_multiple_of(8), b' ');
    let mut truncated = (header.len() as u64).to_le_bytes().to_vec();
    truncated.extend(&header);
    truncated.extend(vec![0u8; 1000]);
    for (bytes, says) in [
        (truncated, "truncated"),
        (b"PK\x03\x04 a zip, not a model".to_vec(), "header length"),
        (vec![1, 2, 3], "too short"),
    ] {
        std::fs::write(model, &bytes).unwrap();
        let (ok, err) = vaelab(&["eval", "--model", model, "--data", "/no/data/needed"]);
        assert!(!ok && err.contains(model) && err.contains(says), "{err}");
    }
}

/// The batches of a whole epoch (its order, its last partial batch) taken
/// from the images resident on a device equal those built on the host, value
/// for value, with chunks small enough that batches span two of them.
#[test]
#[cfg_attr(
    vaelab_skip_mini,
    ignore = "SKIPPED: no CIFAR-10 mini slice (see the build warning)"
)]
fn device_resident_batches_equal_host_batches() {
    let data = mini();
    let device = Device::flex();
    let chunked = DeviceImages::upload_chunked(&data.train, &device, 300);
    let resident = ImageSet::from(chunked);
    let mut files = CifarFiles::new(Placement::Device(device.clone()));
    files.insert(CifarFile::Train(1), data.train.clone());
    let whole = files.dataset().train;
    let mut order: Vec<usize> = (0..data.train.len()).collect();
    order.rotate_left(7);
    order.reverse();
    let values = |t: vaelab::burn::tensor::Tensor<4>| t.into_data().try_to_vec::<f32>().unwrap();
    // 1000 images in batches of 256: three whole batches and one of 232.
    for batch in order.chunks(256) {
        let want = values(Images::batch(&data.train, batch, &device));
        assert_eq!(values(resident.batch(batch, &device)), want);
        assert_eq!(values(whole.batch(batch, &device)), want);
    }
}
