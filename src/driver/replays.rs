//! The epoch loop's steps as replays of one captured step (issue 21,
//! `train/replay.rs`): on WebGPU a replay skips Burn's autodiff, fusion and
//! launch path, most of the host's work per step. Replays train exactly as
//! the usual steps do (the wasm test `an_epoch_loop_of_replays_trains_as_usual_steps`),
//! so the loop only chooses which it takes:
//! - the capture takes its warm-up steps on the epoch's next batches, so it
//!   waits for a call whose budget grants them and an epoch with enough full
//!   batches left;
//! - a batch of another size (an epoch's last), a changed model (loaded) or
//!   objective (β·KL and the capacity objective swapped, a new γ or free
//!   bits) lets the graph go and takes the usual step; the next epoch
//!   captures again;
//! - a capture refused for any other reason ends replays for the run.

use burn::tensor::Tensor;

use super::{EpochDriver, next_batch};
use crate::dataset::Images;
use crate::train::TrainError;
use crate::train::replay::{StepGraph, WARMUP_STEPS};

/// Whether the loop replays, and the step it replays.
pub(super) enum Replays {
    /// Usual steps only (the CPU, the command line, or a refused capture).
    Off,
    /// Capture when enough of the epoch remains.
    Wanted,
    Held(Box<StepGraph>),
}

impl EpochDriver {
    /// Take the steps as replays of a captured one where a capture can be
    /// made (WebGPU), or only usual steps.
    pub fn replay_steps(&mut self, on: bool) {
        let held = std::mem::replace(
            &mut self.replays,
            if on { Replays::Wanted } else { Replays::Off },
        );
        if let Replays::Held(graph) = held {
            self.trainer.release_graph(*graph);
        }
    }

    /// Whether the loop should capture before its next step: replays wanted,
    /// the call's budget granting the capture's steps
    /// (at most a run's first, the warm-up and the recorded one: a call
    /// returns within its budget and one step), and the epoch holding their
    /// batches and one replay more. Where steps are slow (a budget of one or
    /// two steps) the host's share of a step is small and the loop stays usual.
    pub(super) fn should_capture(&self, batch_size: usize, budget_steps: usize) -> bool {
        let full = (self.order.len() - self.cursor) / batch_size;
        matches!(self.replays, Replays::Wanted)
            && budget_steps >= WARMUP_STEPS + 2
            && full >= WARMUP_STEPS + 3
    }

    /// Capture a step on the epoch's next batches and replay the recorded
    /// one. Returns the steps taken, and of them the replayed.
    pub(super) async fn capture(
        &mut self,
        batch_size: usize,
    ) -> Result<(usize, usize), TrainError> {
        let Self {
            trainer,
            order,
            cursor,
            epoch_train,
            ..
        } = self;
        let device = trainer.device().clone();
        let (mut drawn, mut last) = (0, *cursor);
        let mut batch = Vec::with_capacity(batch_size);
        let captured = trainer
            .capture_step(|| {
                (last, drawn) = (*cursor, drawn + 1);
                let at = next_batch(order, cursor, batch_size, &mut batch);
                (epoch_train.batch(&batch, &device), at)
            })
            .await;
        match captured {
            Ok(mut graph) => {
                self.trainer.replay_recorded_step(&mut graph)?;
                self.replays = Replays::Held(Box::new(graph));
                Ok((drawn, 1))
            }
            Err(TrainError::Graph(_) | TrainError::Argument(_)) => {
                // Refused: the last batch drawn is the usual step's again.
                self.replays = Replays::Off;
                if drawn > 0 {
                    self.cursor = last;
                }
                Ok((drawn.saturating_sub(1), 0))
            }
            Err(e) => Err(e),
        }
    }

    /// One step on `x`: a replay where the held graph takes it, else the
    /// usual step (letting a graph that no longer fits go). Whether it
    /// replayed.
    pub(super) fn step_on(&mut self, x: Tensor<4>) -> Result<bool, TrainError> {
        if let Replays::Held(graph) = &mut self.replays {
            if self.trainer.replays(graph, x.dims()[0]) {
                return self.trainer.replay_step(graph, x).map(|()| true);
            }
            let Replays::Held(graph) = std::mem::replace(&mut self.replays, Replays::Wanted) else {
                unreachable!("held above")
            };
            self.trainer.release_graph(*graph);
        }
        self.trainer.train_on(x).map(|()| false)
    }
}
