//! How the KL term enters the VAE's loss, step by step.
//!
//! The exercise's `linear` mode rises from 0 at epoch 0 towards the target,
//! reaching it only at `max_epochs` (one past the last trained epoch), and
//! holds beta constant within an epoch. We follow those words literally; the
//! page says so, since some solutions reach the target at the last epoch.
//!
//! The schedules beyond the exercise move with the run's progress
//! `t = (epoch + fraction of the epoch done) / epochs`, step by step, as their
//! papers do (per iteration): a 4-cycle schedule over a 2-epoch run still
//! shows four cycles.

use serde::{Deserialize, Serialize};

use crate::config::TrainConfig;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum BetaSchedule {
    /// beta = target in every epoch.
    #[default]
    Constant,
    /// beta = target * epoch / max_epochs, held constant within an epoch.
    Linear,
    /// Fu et al., NAACL 2019: M cycles over the run; in each, beta rises
    /// linearly from 0 to the target over the first fraction R, then stays.
    Cyclical,
    /// Burgess et al. 2018: loss = recon + γ·|KL − C|, the capacity C rising
    /// linearly from 0 to C_max over the run. The target beta is not used.
    Capacity,
}

/// The parameters of the schedules beyond the exercise (their defaults are the papers').
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScheduleParams {
    /// M: cycles over the run (cyclical).
    pub cycles: usize,
    /// R: the fraction of each cycle over which beta rises (cyclical), in (0, 1].
    pub ramp_fraction: f32,
    /// γ: the weight on |KL − C| (capacity).
    pub gamma: f32,
    /// C_max in nats, reached at the end of the run (capacity).
    pub capacity_max: f32,
}

/// What multiplies the KL in one step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum KlWeight {
    /// loss = recon + beta · KL.
    Beta(f32),
    /// loss = recon + gamma · |KL − capacity|.
    Capacity { gamma: f32, capacity: f32 },
}

impl KlWeight {
    /// The KL's weight as a curve shows it: beta, or gamma for the capacity objective.
    pub fn beta(self) -> f32 {
        match self {
            KlWeight::Beta(b) => b,
            KlWeight::Capacity { gamma, .. } => gamma,
        }
    }

    /// The capacity C in force, if this is the capacity objective.
    pub fn capacity(self) -> Option<f32> {
        match self {
            KlWeight::Beta(_) => None,
            KlWeight::Capacity { capacity, .. } => Some(capacity),
        }
    }
}

impl BetaSchedule {
    /// The KL's weight at `fraction` ∈ [0, 1) of the way through `epoch`.
    pub fn weight(
        self,
        target: f32,
        epoch: usize,
        fraction: f32,
        max_epochs: usize,
        p: &ScheduleParams,
    ) -> KlWeight {
        let t = if max_epochs == 0 {
            1.0
        } else {
            ((epoch as f64 + fraction as f64) / max_epochs as f64).min(1.0)
        };
        match self {
            BetaSchedule::Constant => KlWeight::Beta(target),
            BetaSchedule::Linear => {
                if max_epochs == 0 {
                    return KlWeight::Beta(target);
                }
                KlWeight::Beta(target * epoch.min(max_epochs) as f32 / max_epochs as f32)
            }
            BetaSchedule::Cyclical => {
                let tau = (t * p.cycles.max(1) as f64).fract();
                let rise = (tau / p.ramp_fraction as f64).min(1.0);
                // The run's very end (t = 1) is a cycle's end, not a new start.
                let rise = if t >= 1.0 { 1.0 } else { rise };
                KlWeight::Beta((target as f64 * rise) as f32)
            }
            BetaSchedule::Capacity => KlWeight::Capacity {
                gamma: p.gamma,
                capacity: (p.capacity_max as f64 * t) as f32,
            },
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            BetaSchedule::Constant => "constant",
            BetaSchedule::Linear => "linear",
            BetaSchedule::Cyclical => "cyclical",
            BetaSchedule::Capacity => "capacity",
        }
    }
}

/// A run's schedule: how its settings weight the KL at each step.
impl TrainConfig {
    /// This config with the schedule group's settings (`settings.json`) taken
    /// from `from`: what a mid-run change of β or its schedule replaces.
    pub fn with_schedule_of(&self, from: &TrainConfig) -> TrainConfig {
        let json = |c: &TrainConfig| serde_json::to_value(c).expect("a config is JSON");
        let (mut to, from) = (json(self), json(from));
        for key in crate::settings::keys_of(crate::settings::Group::Schedule) {
            to[key] = from[key].clone();
        }
        serde_json::from_value(to).expect("a config's own fields read back")
    }

    pub fn schedule_params(&self) -> ScheduleParams {
        ScheduleParams {
            cycles: self.beta_cycles,
            ramp_fraction: self.beta_ramp_fraction,
            gamma: self.capacity_gamma,
            capacity_max: self.capacity_max,
        }
    }

    /// The KL's weight at `fraction` of the way through `epoch`.
    pub fn kl_weight(&self, epoch: usize, fraction: f32) -> KlWeight {
        self.beta_mode.weight(
            self.target_beta,
            epoch,
            fraction,
            self.num_epochs,
            &self.schedule_params(),
        )
    }

    /// The KL's weight over the whole run at `x` = epoch + fraction, about
    /// `points` of them (at least 4 an epoch, so a cycle's ramp shows): the
    /// plan the page draws before any step is taken.
    pub fn schedule_curve(&self, points: usize) -> Vec<(f32, KlWeight)> {
        let epochs = self.num_epochs.max(1);
        let per_epoch = (points / epochs).max(4);
        (0..=epochs * per_epoch)
            .map(|i| {
                let (epoch, k) = (i / per_epoch, i % per_epoch);
                let fraction = k as f32 / per_epoch as f32;
                (i as f32 / per_epoch as f32, self.kl_weight(epoch, fraction))
            })
            .collect()
    }

    /// The schedule in words, for the command line's log, in the page's own
    /// words (`describeSchedule` in www/js/state.js; tests/one_table.rs holds
    /// the two equal).
    pub fn describe_schedule(&self) -> String {
        let t = self.target_beta;
        let base = match self.beta_mode {
            BetaSchedule::Constant => format!("β {t}"),
            BetaSchedule::Linear => format!("β 0→{t} linear"),
            BetaSchedule::Cyclical => format!(
                "β 0→{t} cyclical ×{} (ramp {})",
                self.beta_cycles, self.beta_ramp_fraction
            ),
            BetaSchedule::Capacity => format!(
                "capacity C 0→{} nats, γ {}",
                self.capacity_max, self.capacity_gamma
            ),
        };
        if self.free_bits > 0.0 {
            format!("{base} · free bits {}", self.free_bits)
        } else {
            base
        }
    }
}

impl Default for ScheduleParams {
    fn default() -> Self {
        Self {
            cycles: 4,
            ramp_fraction: 0.5,
            gamma: 1000.0,
            capacity_max: 25.0,
        }
    }
}

impl std::str::FromStr for BetaSchedule {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "constant" => Ok(BetaSchedule::Constant),
            "linear" => Ok(BetaSchedule::Linear),
            "cyclical" => Ok(BetaSchedule::Cyclical),
            "capacity" => Ok(BetaSchedule::Capacity),
            other => Err(format!(
                "unknown beta_mode '{other}': expected 'constant', 'linear', 'cyclical' or 'capacity'"
            )),
        }
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::loss::LossMode;

    /// Beta in force at the start of `epoch` under the default parameters.
    fn beta(s: BetaSchedule, target: f32, epoch: usize, max_epochs: usize) -> f32 {
        s.weight(target, epoch, 0.0, max_epochs, &ScheduleParams::default())
            .beta()
    }

    fn close(a: f32, b: f32) -> bool {
        (a - b).abs() < 1e-5
    }

    #[test]
    fn constant_is_the_target_at_every_epoch() {
        for epoch in [0, 10, 20] {
            assert_eq!(beta(BetaSchedule::Constant, 1.2, epoch, 20), 1.2);
        }
    }

    #[test]
    fn linear_rises_from_zero_to_the_target_at_max_epochs() {
        let s = BetaSchedule::Linear;
        assert_eq!(beta(s, 1.0, 0, 20), 0.0);
        assert!((beta(s, 1.0, 10, 20) - 0.5).abs() < 1e-7);
        assert!((beta(s, 0.8, 10, 20) - 0.4).abs() < 1e-7);
        assert_eq!(beta(s, 1.0, 20, 20), 1.0);
        // The last trained epoch (19 of 20) stays just short of the target.
        assert!((beta(s, 1.0, 19, 20) - 0.95).abs() < 1e-6);
        // Held within an epoch, whatever the fraction done.
        let p = ScheduleParams::default();
        assert_eq!(s.weight(1.0, 10, 0.9, 20, &p), KlWeight::Beta(0.5));
    }

    #[test]
    fn cyclical_restarts_each_cycle_and_holds_after_the_ramp() {
        // 20 epochs, M = 4 cycles of 5 epochs, R = 0.5: each ramp lasts 2.5 epochs.
        let p = ScheduleParams::default();
        let b = |epoch, fraction| {
            BetaSchedule::Cyclical
                .weight(2.0, epoch, fraction, 20, &p)
                .beta()
        };
        // Cycle starts: 0 at epochs 0, 5, 10, 15.
        for start in [0, 5, 10, 15] {
            assert_eq!(b(start, 0.0), 0.0, "cycle starting at epoch {start}");
        }
        // Half way up the ramp (1.25 epochs in): half the target.
        assert!(close(b(1, 0.25), 1.0));
        assert!(close(b(6, 0.25), 1.0));
        // The ramp ends 2.5 epochs in; then beta stays at the target.
        assert!(close(b(2, 0.5), 2.0));
        assert!(close(b(3, 0.0), 2.0));
        assert!(close(b(4, 0.99), 2.0));
        // R = 1: the ramp fills the cycle.
        let p1 = ScheduleParams {
            ramp_fraction: 1.0,
            ..p
        };
        let b1 = BetaSchedule::Cyclical.weight(1.0, 2, 0.5, 20, &p1).beta();
        assert!(close(b1, 0.5));
        // M = 1: one ramp over the first half of the run.
        let m1 = ScheduleParams { cycles: 1, ..p };
        assert!(close(
            BetaSchedule::Cyclical.weight(1.0, 5, 0.0, 20, &m1).beta(),
            0.5
        ));
        assert!(close(
            BetaSchedule::Cyclical.weight(1.0, 15, 0.0, 20, &m1).beta(),
            1.0
        ));
    }

    #[test]
    fn capacity_rises_from_zero_to_c_max_over_the_run() {
        let p = ScheduleParams::default();
        let c = |epoch, fraction| {
            BetaSchedule::Capacity
                .weight(1.0, epoch, fraction, 20, &p)
                .capacity()
                .unwrap()
        };
        assert_eq!(c(0, 0.0), 0.0);
        // The middle of the run: C_max / 2 = 12.5 nats.
        assert!(close(c(10, 0.0), 12.5));
        assert!(close(c(9, 0.5), 11.875));
        assert!(close(c(20, 0.0), 25.0));
        assert_eq!(
            BetaSchedule::Capacity.weight(1.0, 3, 0.0, 20, &p).beta(),
            1000.0
        );
    }

    #[test]
    fn parses_every_mode_and_names_a_bad_one() {
        for s in [
            BetaSchedule::Constant,
            BetaSchedule::Linear,
            BetaSchedule::Cyclical,
            BetaSchedule::Capacity,
        ] {
            assert_eq!(s.name().parse::<BetaSchedule>(), Ok(s));
        }
        assert!(
            "cosine"
                .parse::<BetaSchedule>()
                .unwrap_err()
                .contains("cosine")
        );
    }

    #[test]
    fn a_schedule_change_takes_the_schedule_and_keeps_the_rest() {
        let now = TrainConfig::default();
        let from = TrainConfig {
            loss_mode: LossMode::Vae,
            latent_size: 16,
            target_beta: 0.8,
            beta_mode: BetaSchedule::Capacity,
            beta_cycles: 7,
            beta_ramp_fraction: 0.3,
            capacity_gamma: 10.0,
            capacity_max: 5.0,
            free_bits: 0.25,
            num_epochs: 3,
            batch_size: 32,
            lr: 0.01,
            seed: 9,
        };
        let c = now.with_schedule_of(&from);
        // How the KL is weighted comes from `from`…
        assert_eq!(
            (
                c.target_beta,
                c.beta_mode,
                c.beta_cycles,
                c.beta_ramp_fraction
            ),
            (0.8, BetaSchedule::Capacity, 7, 0.3)
        );
        assert_eq!(
            (c.capacity_gamma, c.capacity_max, c.free_bits),
            (10.0, 5.0, 0.25)
        );
        // …the network, the optimiser and the data's order stay.
        assert_eq!(
            (
                c.loss_mode,
                c.latent_size,
                c.num_epochs,
                c.batch_size,
                c.lr,
                c.seed
            ),
            (LossMode::Ae, 128, 20, 256, 1e-3, 0)
        );
    }

    #[test]
    fn the_planned_curve_is_the_schedule_at_each_point() {
        let c = TrainConfig {
            beta_mode: BetaSchedule::Cyclical,
            num_epochs: 4,
            beta_cycles: 2,
            target_beta: 1.0,
            ..Default::default()
        };
        let curve = c.schedule_curve(16);
        assert_eq!(curve.len(), 17);
        // x = 0, 0.25, …, 4; a cycle every 2 epochs, ramping over its first epoch.
        let betas: Vec<f32> = curve.iter().map(|(_, w)| w.beta()).collect();
        assert_eq!(
            &betas[..9],
            &[0.0, 0.25, 0.5, 0.75, 1.0, 1.0, 1.0, 1.0, 0.0]
        );
        assert_eq!(curve[16], (4.0, KlWeight::Beta(1.0)));
    }
}
