//! One run's settings and their checks against the settings table (the
//! schedule they describe is `schedule.rs`'s).

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::loss::LossMode;
use crate::schedule::{BetaSchedule, ScheduleParams};

/// One run's settings: a field per row of the settings table (`settings.rs`),
/// whose defaults `Default` restates (a test holds them equal). Field names in
/// JSON are camelCase (the page's URL and the wasm API use them); the command
/// line's flags come from the table's rows. Every field has a default, so a
/// config saved before a field existed still reads.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct TrainConfig {
    pub loss_mode: LossMode,
    pub latent_size: usize,
    pub target_beta: f32,
    pub beta_mode: BetaSchedule,
    /// Cyclical schedule: M, the cycles over the run.
    pub beta_cycles: usize,
    /// Cyclical schedule: R, the fraction of each cycle over which beta rises.
    pub beta_ramp_fraction: f32,
    /// Capacity objective: γ, the weight on |KL − C|.
    pub capacity_gamma: f32,
    /// Capacity objective: C_max in nats, reached at the end of the run.
    pub capacity_max: f32,
    /// Free bits λ in nats per latent dimension (Kingma et al. 2016): the KL
    /// term becomes Σ_j max(λ, E_batch[KL_j]); 0 leaves the exercise's KL.
    pub free_bits: f32,
    pub num_epochs: usize,
    pub batch_size: usize,
    pub lr: f64,
    pub seed: u64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        let p = ScheduleParams::default();
        Self {
            loss_mode: LossMode::Ae,
            latent_size: 128,
            target_beta: 1.0,
            beta_mode: BetaSchedule::Constant,
            beta_cycles: p.cycles,
            beta_ramp_fraction: p.ramp_fraction,
            capacity_gamma: p.gamma,
            capacity_max: p.capacity_max,
            free_bits: 0.0,
            num_epochs: 20,
            batch_size: 256,
            lr: 1e-3,
            seed: 0,
        }
    }
}

#[derive(Debug, Error, PartialEq)]
#[error("{field}: {message}")]
pub struct ConfigError {
    pub field: &'static str,
    pub message: String,
}

/// `value` as JSON text in which every `f32` is the shortest decimal that
/// reads back as the same `f32` (serde_json's own writer does this): a β of
/// 0.8 crosses into the core as 32 bits and comes back as `0.8`, the value the
/// user set, not the 0.800000011920929 a widening to `f64` would show.
pub fn exact_json<T: Serialize + ?Sized>(value: &T) -> Result<String, serde_json::Error> {
    serde_json::to_string(value)
}

impl TrainConfig {
    /// Every numeric setting against its row of the settings table
    /// (`settings.rs`), in the table's order; the enumerated ones are checked
    /// by their types when parsed.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let fields = serde_json::to_value(self).expect("a config is JSON");
        for s in crate::settings::settings()
            .iter()
            .filter(|s| s.choices.is_none())
        {
            let value = fields[&s.key].as_f64().unwrap_or(f64::NAN);
            crate::settings::check(&s.key, value)?;
        }
        Ok(())
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn settings_come_back_as_the_decimals_the_user_set() {
        // Every β and schedule value of the exercise and the page's slider steps.
        for v in [0.8f32, 1.2, 0.1, 0.3, 0.05, 2.5, 25.0, 1000.0, 0.5] {
            let c = TrainConfig {
                target_beta: v,
                beta_ramp_fraction: v.min(1.0),
                capacity_gamma: v,
                capacity_max: v,
                free_bits: v,
                ..Default::default()
            };
            let text = exact_json(&c).unwrap();
            let back: serde_json::Value = serde_json::from_str(&text).unwrap();
            // Read as f64, as JavaScript reads it: the decimal itself.
            let as_f64: f64 = v.to_string().parse().unwrap();
            for key in ["targetBeta", "capacityGamma", "capacityMax", "freeBits"] {
                assert_eq!(
                    back[key].as_f64(),
                    Some(as_f64),
                    "{key} = {v} came back as {}",
                    back[key]
                );
            }
            // The widening it replaces would not have been: the test can fail.
            if v == 0.8 {
                assert_ne!(f64::from(v), as_f64);
            }
        }
    }

    #[test]
    fn config_errors_name_the_field() {
        let mut c = TrainConfig {
            latent_size: 0,
            ..Default::default()
        };
        assert_eq!(c.validate().unwrap_err().field, "latentSize");
        c.latent_size = 16;
        c.lr = f64::NAN;
        assert_eq!(c.validate().unwrap_err().field, "lr");
        c.lr = 1e-3;
        c.target_beta = -1.0;
        assert_eq!(c.validate().unwrap_err().field, "targetBeta");
        c.target_beta = 1.0;
        c.batch_size = 0;
        assert_eq!(c.validate().unwrap_err().field, "batchSize");
        let json = r#"{"lossMode":"vae","latentSise":16}"#;
        let err = serde_json::from_str::<TrainConfig>(json)
            .unwrap_err()
            .to_string();
        assert!(err.contains("latentSise"), "{err}");
    }

    #[test]
    fn schedule_parameters_out_of_range_are_named() {
        let ok = TrainConfig::default();
        assert!(ok.validate().is_ok());
        type Spoil = fn(&mut TrainConfig);
        let cases: [(&str, Spoil); 7] = [
            ("betaCycles", |c| c.beta_cycles = 0),
            ("betaRampFraction", |c| c.beta_ramp_fraction = 0.0),
            ("betaRampFraction", |c| c.beta_ramp_fraction = 1.5),
            ("capacityGamma", |c| c.capacity_gamma = -1.0),
            ("capacityMax", |c| c.capacity_max = -0.5),
            ("freeBits", |c| c.free_bits = -0.1),
            ("freeBits", |c| c.free_bits = f32::NAN),
        ];
        for (field, spoil) in cases {
            let mut c = ok.clone();
            spoil(&mut c);
            let e = c.validate().unwrap_err();
            assert_eq!(e.field, field, "{e}");
        }
        // R = 1 is allowed (the ramp fills the cycle); R just above 0 too.
        let mut c = ok.clone();
        c.beta_ramp_fraction = 1.0;
        assert!(c.validate().is_ok());
        c.beta_ramp_fraction = 1e-3;
        assert!(c.validate().is_ok());
    }

    #[test]
    fn a_config_saved_before_the_schedule_fields_still_reads() {
        let json = r#"{"lossMode":"vae","latentSize":16,"targetBeta":1.0,"betaMode":"linear"}"#;
        let c: TrainConfig = serde_json::from_str(json).unwrap();
        assert_eq!(c.beta_cycles, 4);
        assert_eq!(c.free_bits, 0.0);
        let round: TrainConfig = serde_json::from_str(
            &serde_json::to_string(&TrainConfig {
                beta_mode: BetaSchedule::Capacity,
                capacity_max: 30.0,
                free_bits: 0.25,
                ..c
            })
            .unwrap(),
        )
        .unwrap();
        assert_eq!(round.beta_mode, BetaSchedule::Capacity);
        assert_eq!(round.capacity_max, 30.0);
        assert_eq!(round.free_bits, 0.25);
    }
}
