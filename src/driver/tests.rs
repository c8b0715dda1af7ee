//! The epoch loop's tests, on the CPU.

use super::*;
use crate::cifar::{Cifar10, CifarFile, CifarImages};
use crate::config::TrainConfig;
use crate::dataset::{CifarFiles, Placement};
use burn::tensor::Device;

/// `n` records whose first pixel byte is the image's own index (mod 256).
fn images(n: usize) -> CifarImages {
    let mut bytes = Vec::new();
    for i in 0..n {
        bytes.push((i % 10) as u8);
        bytes.extend((0..3072).map(|p| ((i * 31 + p) % 256) as u8));
    }
    CifarImages::parse("generated", &bytes).unwrap()
}

fn driver(seed: u64, batch: usize, epochs: usize) -> EpochDriver {
    let config = TrainConfig {
        latent_size: 2,
        batch_size: batch,
        num_epochs: epochs,
        seed,
        ..Default::default()
    };
    EpochDriver::new(Trainer::new(config, &Device::flex()).unwrap())
}

fn data(train: usize) -> Dataset {
    Cifar10 {
        train: images(train),
        test: images(3),
    }
    .into()
}

fn clock() -> f64 {
    0.0
}

/// Runs one whole epoch and returns its order as the driver drew it.
fn one_epoch(d: &mut EpochDriver, data: &Dataset) -> (Vec<usize>, Progress) {
    let mut first = pollster::block_on(d.advance(data, Budget::Steps(1), &clock)).unwrap();
    let order = d.order().to_vec();
    let mut steps = first.steps.len();
    while first.epoch_end.is_none() {
        first = pollster::block_on(d.advance(data, Budget::Steps(2), &clock)).unwrap();
        steps += first.steps.len();
    }
    let batch = d.trainer().config().batch_size;
    assert_eq!(steps, order.len().div_ceil(batch));
    (order, first)
}

/// Every step's KL weight over a 2-epoch VAE run of 4 steps per epoch.
fn steps_of(config: TrainConfig) -> Vec<StepMetrics> {
    let config = TrainConfig {
        loss_mode: crate::loss::LossMode::Vae,
        latent_size: 2,
        batch_size: 2,
        num_epochs: 2,
        ..config
    };
    let mut d = EpochDriver::new(Trainer::new(config, &Device::flex()).unwrap());
    let data = data(8);
    let mut steps = Vec::new();
    while !d.is_finished() {
        let p = pollster::block_on(d.advance(&data, Budget::Steps(3), &clock)).unwrap();
        steps.extend(p.steps);
    }
    steps
}

#[test]
fn schedules_move_step_by_step_through_the_epoch() {
    use crate::schedule::BetaSchedule;
    // M = 2 cycles over 2 epochs, R = 0.5: each epoch is a cycle whose
    // first half (2 of its 4 steps) ramps beta from 0 to the target.
    let cyclical = steps_of(TrainConfig {
        beta_mode: BetaSchedule::Cyclical,
        beta_cycles: 2,
        target_beta: 2.0,
        ..Default::default()
    });
    let betas: Vec<f32> = cyclical.iter().map(|s| s.beta).collect();
    assert_eq!(betas, [0.0, 1.0, 2.0, 2.0, 0.0, 1.0, 2.0, 2.0]);
    for s in &cyclical {
        assert_eq!(s.capacity, None);
        assert!((s.total - (s.recon + s.beta * s.kl)).abs() <= 1e-3 * s.total.abs());
    }
    // Capacity: C rises by C_max / 8 per step; the loss is recon + γ|KL − C|.
    let capacity = steps_of(TrainConfig {
        beta_mode: BetaSchedule::Capacity,
        capacity_max: 8.0,
        capacity_gamma: 3.0,
        ..Default::default()
    });
    for (k, s) in capacity.iter().enumerate() {
        assert_eq!(s.capacity, Some(k as f32));
        let want = s.recon + 3.0 * (s.kl - k as f32).abs();
        assert!(
            (s.total - want).abs() <= 1e-3 * want,
            "{} vs {want}",
            s.total
        );
    }
    // Free bits change the objective, not the KL reported: with λ far
    // above every dimension's KL the term is L·λ.
    let floored = steps_of(TrainConfig {
        free_bits: 50.0,
        ..Default::default()
    });
    for s in &floored {
        assert!(s.kl < 50.0);
        let want = s.recon + 2.0 * 50.0;
        assert!(
            (s.total - want).abs() <= 1e-3 * want,
            "{} vs {want}",
            s.total
        );
    }
}

#[test]
fn every_image_once_per_epoch_in_a_new_order() {
    let data = data(11);
    let mut d = driver(7, 4, 3);
    let (a, end) = one_epoch(&mut d, &data);
    let report = end.epoch_end.unwrap();
    assert_eq!(report.epoch, 0);
    assert!(report.test.recon.is_finite() && report.train.recon.is_finite());
    let (b, _) = one_epoch(&mut d, &data);
    for order in [&a, &b] {
        let mut sorted = order.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..11).collect::<Vec<_>>());
    }
    assert_ne!(a, b, "the order must change between epochs");
    // Image-weighted: 11 images in batches of 4, 4, 3 all counted.
    let seen: usize = d.trainer().history().iter().map(|m| m.batch).sum();
    assert_eq!(seen, 22);
}

#[test]
fn the_order_depends_on_the_seed_alone() {
    let data = data(20);
    let (a, _) = one_epoch(&mut driver(1, 8, 1), &data);
    let (b, _) = one_epoch(&mut driver(1, 8, 1), &data);
    let (c, _) = one_epoch(&mut driver(2, 8, 1), &data);
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[test]
fn files_added_or_replaced_mid_epoch_take_effect_at_the_next_epoch() {
    let mut files = CifarFiles::new(Placement::Host);
    files.insert(CifarFile::Train(1), images(8));
    files.insert(CifarFile::Test, images(3));
    let mut d = driver(3, 4, 3);
    let p = pollster::block_on(d.advance(&files.dataset(), Budget::Steps(1), &clock)).unwrap();
    assert_eq!((p.images_in_epoch, p.epoch_size), (4, 8));
    // A second file arrives and the first is replaced by a smaller copy.
    files.insert(CifarFile::Train(2), images(5));
    files.insert(CifarFile::Train(1), images(2));
    let p = pollster::block_on(d.advance(&files.dataset(), Budget::Steps(10), &clock)).unwrap();
    assert_eq!(p.steps.len(), 1, "the epoch keeps its 8 images");
    assert_eq!(p.steps[0].batch, 4);
    assert!(p.epoch_end.is_some());
    let (order, _) = one_epoch(&mut d, &files.dataset());
    assert_eq!(order.len(), 7);
}

#[test]
fn lowering_the_epochs_ends_the_run_after_the_epoch_in_flight() {
    let data = data(8);
    let mut d = driver(5, 4, 10);
    one_epoch(&mut d, &data);
    one_epoch(&mut d, &data);
    pollster::block_on(d.advance(&data, Budget::Steps(1), &clock)).unwrap();
    // Epoch 2 (0-based) is in flight: asking for 1 epoch ends after it.
    assert_eq!(d.set_num_epochs(1).unwrap(), 3);
    assert!(!d.is_finished());
    let p = pollster::block_on(d.advance(&data, Budget::Steps(10), &clock)).unwrap();
    assert_eq!(p.epoch_end.unwrap().epoch, 2);
    assert!(p.finished);
    let p = pollster::block_on(d.advance(&data, Budget::Steps(10), &clock)).unwrap();
    assert!(p.steps.is_empty() && p.finished);
    // At a boundary the run ends at once; raising it continues the run.
    assert_eq!(d.set_num_epochs(2).unwrap(), 3);
    assert!(d.is_finished());
    assert_eq!(d.set_num_epochs(4).unwrap(), 4);
    assert!(!d.is_finished());
    assert!(d.set_num_epochs(0).is_err());
}

#[test]
fn a_time_budget_grows_with_the_measured_step_cost() {
    let data = data(64);
    let mut d = driver(6, 2, 1);
    let t = std::cell::Cell::new(0.0);
    // Every clock read advances 10 ms: a call reads it at its start and
    // end and around each batch, so one step appears to cost 30 ms, of
    // which 10 ms building its batch.
    let clock = || {
        t.set(t.get() + 10.0);
        t.get()
    };
    let p = pollster::block_on(d.advance(&data, Budget::Millis(150.0), &clock)).unwrap();
    assert_eq!(p.steps.len(), 1);
    assert_eq!((p.millis, p.batch_millis), (30.0, 10.0));
    let p = pollster::block_on(d.advance(&data, Budget::Millis(150.0), &clock)).unwrap();
    assert_eq!(p.steps.len(), 5);
}

#[test]
fn an_epochs_seconds_are_its_calls_and_its_test_pass_not_the_time_between() {
    // 12 images in batches of 6: two steps an epoch.
    let data = data(12);
    let mut d = driver(1, 6, 1);
    let t = std::cell::Cell::new(0.0);
    // Every read advances 10 ms.
    let clock = || {
        t.set(t.get() + 10.0);
        t.get()
    };
    let first = pollster::block_on(d.advance(&data, Budget::Steps(1), &clock)).unwrap();
    assert_eq!(
        (first.epoch_end.is_some(), first.epoch_seconds),
        (false, None)
    );
    // A pause of a second between the calls is not the epoch's time.
    t.set(t.get() + 1000.0);
    let last = pollster::block_on(d.advance(&data, Budget::Steps(1), &clock)).unwrap();
    assert!(last.epoch_end.is_some());
    // Two calls of 30 ms (start, two reads around the batch, end) and the
    // test pass after the last (one read: 10 ms).
    assert_eq!((first.millis, last.millis), (30.0, 30.0));
    assert!(
        (last.epoch_seconds.unwrap() - 0.070).abs() < 1e-12,
        "{:?}",
        last.epoch_seconds
    );
}

#[test]
fn no_data_is_an_error_not_a_panic() {
    let mut d = driver(0, 4, 1);
    let empty = Dataset::default();
    let e = pollster::block_on(d.advance(&empty, Budget::Steps(1), &clock)).unwrap_err();
    assert_eq!(e, TrainError::NoData);
    let no_test: Dataset = Cifar10 {
        train: images(4),
        test: CifarImages::default(),
    }
    .into();
    let e = pollster::block_on(d.advance(&no_test, Budget::Steps(1), &clock)).unwrap_err();
    assert_eq!(e, TrainError::NoTestData);
}
