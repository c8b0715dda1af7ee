//! One finished epoch as a run's metrics file records it: a line of the
//! command line's `metrics.jsonl`, and the same line in the page's export of
//! a run, so one script grades a run from either (issue 25). The page's CSV
//! has these columns too (`www/js/core.json`, held equal by tests/one_table.rs).

use serde::{Deserialize, Serialize};

use crate::driver::EpochReport;

/// One line of `metrics.jsonl`.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct EpochRecord {
    pub epoch: usize,
    pub beta: f32,
    /// The capacity C in nats (`--beta_mode capacity` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(default)]
    pub capacity: Option<f32>,
    pub train_recon: f32,
    pub train_kl: f32,
    pub train_total: f32,
    pub test_recon: f32,
    pub test_kl: f32,
    pub test_total: f32,
    /// Test set's E_x[KL_j] per latent dimension, nats (empty for an AE).
    pub kl_per_dim: Vec<f32>,
    /// Variance over the test set of each dimension's mean (an AE: of z).
    pub latent_variance: Vec<f32>,
    /// Dimensions whose variance exceeds `active_threshold` (Burda et al. 2016).
    pub active_units: usize,
    pub active_threshold: f32,
    pub seconds: f64,
}

impl EpochRecord {
    pub fn new(r: &EpochReport, seconds: f64) -> Self {
        Self {
            epoch: r.epoch,
            beta: r.beta,
            capacity: r.capacity,
            train_recon: r.train.recon,
            train_kl: r.train.kl,
            train_total: r.train.total,
            test_recon: r.test.recon,
            test_kl: r.test.kl,
            test_total: r.test.total,
            kl_per_dim: r.latent.kl_per_dim.clone(),
            latent_variance: r.latent.variance.clone(),
            active_units: r.latent.active_units,
            active_threshold: r.latent.threshold,
            seconds,
        }
    }
}

/// The record's fields in the order a line writes them (`capacity` only under
/// the capacity objective): the columns of the page's CSV.
pub const COLUMNS: [&str; 14] = [
    "epoch",
    "beta",
    "capacity",
    "train_recon",
    "train_kl",
    "train_total",
    "test_recon",
    "test_kl",
    "test_total",
    "kl_per_dim",
    "latent_variance",
    "active_units",
    "active_threshold",
    "seconds",
];

impl EpochRecord {
    /// The record as one line of JSON (no newline).
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).expect("an epoch record is plain numbers")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::latent::LatentUsage;
    use crate::train::EvalMetrics;

    #[test]
    fn a_line_holds_the_columns_in_their_order_and_reads_back() {
        let m = |v| EvalMetrics {
            recon: v,
            kl: v / 10.0,
            total: v * 1.1,
        };
        let report = EpochReport {
            epoch: 3,
            beta: 0.8,
            capacity: Some(12.5),
            train: m(120.0),
            test: m(130.0),
            latent: LatentUsage {
                kl_per_dim: vec![0.5, 0.0],
                variance: vec![0.2, 0.001],
                active_units: 1,
                threshold: 0.01,
                order: vec![0, 1],
            },
        };
        let line = EpochRecord::new(&report, 4.25).to_line();
        // Every column, in order, and nothing else (serde_json's map would sort them).
        let at: Vec<usize> = COLUMNS
            .iter()
            .map(|c| {
                line.find(&format!("\"{c}\":"))
                    .unwrap_or_else(|| panic!("{c} missing: {line}"))
            })
            .collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "{line}");
        assert_eq!(line.matches("\":").count(), COLUMNS.len(), "{line}");
        let back: EpochRecord = serde_json::from_str(&line).unwrap();
        assert_eq!(
            (back.epoch, back.capacity, back.seconds),
            (3, Some(12.5), 4.25)
        );
        // Without the capacity objective the line has no capacity, as before.
        let plain = EpochRecord::new(
            &EpochReport {
                capacity: None,
                ..report
            },
            1.0,
        )
        .to_line();
        assert!(!plain.contains("capacity"), "{plain}");
    }
}
