//! A training step recorded once and replayed (issue 21): CubeCL's software
//! graph (cubecl-wgpu `compute/graph.rs`) resolves each launch's pipeline,
//! bindings and bind group while recording, and a replay re-encodes them, so
//! a replayed step skips Burn's autodiff, fusion and launch path on the host.
//!
//! A replay reruns the recorded kernels on the recorded buffers with the
//! recorded scalars. So everything that changes from step to step lives in a
//! buffer the capture read and is rewritten in place between replays: the
//! batch, the VAE's noise and the KL's weight, β or the capacity C
//! ([`Inputs`]), Adam's bias corrections
//! (`Adam::pin`), and the weights and moments, which Adam's kernel writes
//! where it read them (`adam/in_place.rs`; on the CPU and natively Burn's
//! ops write new buffers, and the capture is refused). What stays recorded as a
//! constant and could change during a run ([`Constants`]: the objective's
//! form, the capacity objective's γ, free bits' floor) is checked before each
//! replay. The capture run records without executing:
//! the step it recorded is taken back and the first replay runs it.
//!
//! Burn's `burn::tensor::capture` cannot be used in a page: its warm-up waits
//! for the device with a blocking sync, which never returns where the
//! device's answer needs the event loop. The warm-up here awaits a read.

use burn::tensor::{Device, Tensor};
use burn_backend::{Backend, BackendGraph};
use burn_dispatch::Dispatch;

use super::{Pending, TrainError, Trainer};
use crate::checkpoint;
use crate::loss::LossMode;
use crate::net::Net;
use crate::schedule::KlWeight;

mod inputs;
use inputs::Inputs;
pub(crate) use inputs::write_into;

/// Steps run in the captured arrangement before the capture, each awaited:
/// fusion settles its kernels and the memory pools their buffers (as Burn's
/// own capture does, three).
pub(crate) const WARMUP_STEPS: usize = 3;

/// One recorded training step and the buffers it reads that are not the
/// model's: a replay needs them alive. While it is held, the trainer's steps
/// are its replays (`train_on` is refused) until
/// [`release_graph`](Trainer::release_graph).
pub struct StepGraph {
    /// The inner (non-autodiff) device the graph was captured on.
    device: Device,
    graph: BackendGraph<Dispatch>,
    /// The batch buffer every replay reads.
    x: Option<Tensor<4>>,
    /// The step's losses, rewritten by every replay.
    values: Tensor<1>,
    /// The batch size of the recorded step, until a replay takes it.
    next: Option<usize>,
    inputs: Inputs,
    constants: Constants,
}

/// What the recorded kernels hold as constants that a run's settings can
/// change: a replay after a change would train on the old values.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Constants {
    /// Free bits' floor.
    free_bits: f32,
    /// The capacity objective's γ (`γ·|KL − C|`, C in a buffer); `None`
    /// for `β·KL` (β in a buffer).
    capacity_gamma: Option<f32>,
}

/// Whether two SafeTensors files hold the same tensors, byte for byte
/// (their metadata aside: a map, in no fixed order).
fn same_tensors(a: &[u8], b: &[u8]) -> Result<bool, TrainError> {
    let (a, b) = (checkpoint::parse(a)?, checkpoint::parse(b)?);
    Ok(a.len() == b.len()
        && a.tensors()
            .iter()
            .all(|(name, t)| b.tensor(name).is_ok_and(|u| u.data() == t.data())))
}

fn graph_error(what: &str, e: impl std::fmt::Debug) -> TrainError {
    TrainError::Graph(format!("{what}: {e:?}"))
}

impl Trainer {
    /// One step that leaves the weights and moments in the buffers it read:
    /// on WebGPU Adam's kernel writes them in place (`adam/in_place.rs`).
    fn step_in_place(&mut self, x: Tensor<4>, inputs: &Inputs) -> Result<(), TrainError> {
        self.take_step(x, inputs.z(), inputs.weight.clone())
    }

    /// The constants the next step's kernels would hold (the AE's, without
    /// a KL, neither).
    fn constants(&self) -> Constants {
        match (self.config.loss_mode, self.kl_weight()) {
            (LossMode::Ae, _) => Constants {
                free_bits: 0.0,
                capacity_gamma: None,
            },
            (LossMode::Vae, weight) => Constants {
                free_bits: self.config.free_bits,
                capacity_gamma: match weight {
                    KlWeight::Beta(_) => None,
                    KlWeight::Capacity { gamma, .. } => Some(gamma),
                },
            },
        }
    }

    /// Whether the next step can be the one recorded with `recorded`.
    fn check_constants(&self, recorded: Constants) -> Result<(), TrainError> {
        let now = self.constants();
        if now != recorded {
            return Err(TrainError::Argument(format!(
                "graph replay: the objective or free bits changed since the capture ({recorded:?}, now {now:?}); release the graph and capture again"
            )));
        }
        Ok(())
    }

    /// Whether a batch of `batch` images can be a replay of `graph`: its
    /// recorded step taken, the batch of the recorded size, and the model,
    /// objective and free bits as they were at the capture.
    pub fn replays(&self, graph: &StepGraph, batch: usize) -> bool {
        graph.next.is_none()
            && graph.x.as_ref().is_some_and(|x| x.dims()[0] == batch)
            && self.optim.is_pinned()
            && self.constants() == graph.constants
    }

    /// Record a training step, for batches shaped like `next_batch`'s. Takes
    /// the steps it warms up with on the batches `next_batch` gives, in order,
    /// as usual steps of the run; the batch after them is the recorded step's,
    /// which the first [`replay_step`](Self::replay_step) takes. Each batch
    /// comes with where it lies in the epoch
    /// ([`set_epoch_fraction`](Self::set_epoch_fraction)'s value), set for its
    /// step. A capture refused after drawing leaves the last batch drawn
    /// untrained.
    pub async fn capture_step(
        &mut self,
        mut next_batch: impl FnMut() -> (Tensor<4>, f32),
    ) -> Result<StepGraph, TrainError> {
        if self.optim.steps() == 0 {
            // The first step creates the moments: its kernels are not a later step's.
            let (x, at) = next_batch();
            self.set_epoch_fraction(at);
            self.train_on(x)?;
            self.flush_metrics().await?;
        }
        let inner = self.device.clone().inner();
        self.optim.pin(&inner);
        let recorded = self.record(inner, &mut next_batch).await;
        if recorded.is_err() {
            self.optim.unpin();
        }
        recorded
    }

    /// [`capture_step`](Self::capture_step) once the corrections are pinned.
    async fn record(
        &mut self,
        inner: Device,
        next_batch: &mut impl FnMut() -> (Tensor<4>, f32),
    ) -> Result<StepGraph, TrainError> {
        let dispatch = inner.as_dispatch();
        let (first, mut at) = next_batch();
        // An `Option` so that each refresh takes the only handle (written in place).
        let mut x = Some(first.detach().inner());
        let vae = matches!(self.net(), Net::Vae(_));
        let batch_size = x.as_ref().map_or(0, |x| x.dims()[0]);
        let mut inputs = Inputs::new(vae, batch_size, self.config.latent_size, &inner);
        Dispatch::graph_prepare(dispatch).map_err(|e| graph_error("prepare", e))?;
        let mut warm_up = async || -> Result<_, TrainError> {
            for _ in 0..WARMUP_STEPS {
                self.set_epoch_fraction(at);
                inputs.refresh(self.kl_weight(), &inner);
                let fixed = x.take().expect("the batch buffer");
                self.step_in_place(Tensor::from_inner(fixed.clone()), &inputs)?;
                self.optim.refresh_pinned(&inner);
                let (next, next_at) = next_batch();
                x = Some(write_into(fixed, next.detach().inner()));
                at = next_at;
                self.flush_metrics().await?;
            }
            self.set_epoch_fraction(at);
            let before = (self.save().await?, self.optimizer_state().await?);
            // Recorded with the last warm-up step's noise and β in the
            // buffers: the first replay draws its own.
            Dispatch::graph_start_capture(dispatch).map_err(|e| graph_error("start", e))?;
            Ok(before)
        };
        let before = match warm_up().await {
            Ok(before) => before,
            Err(e) => {
                // A capture prepared and never recorded holds the stream until closed.
                let _ = Dispatch::graph_stop_capture(dispatch);
                return Err(e);
            }
        };
        let x = x.expect("the batch buffer");
        let recorded = self.step_in_place(Tensor::from_inner(x.clone()), &inputs);
        let graph = Dispatch::graph_stop_capture(dispatch);
        recorded?;
        // Recorded, not run: the first replay takes this step, on `x` as it is.
        let Pending { values, batch, .. } = self.pending.pop().expect("the recorded step's losses");
        self.step -= 1;
        self.optim.count_steps(-1);
        // Nothing ran, so a step that left its results where it read them
        // leaves the weights and moments as they were; one whose results went
        // to new buffers (a copy where an in-place write was meant) leaves
        // them in buffers nothing has written, and replays would not train.
        let after = (self.save().await?, self.optimizer_state().await?);
        if !same_tensors(&before.0, &after.0)? || !same_tensors(&before.1, &after.1)? {
            self.restore(&before.0, &before.1)?;
            return Err(TrainError::Graph(
                "the recorded step did not leave its results where it read them; the run goes on from before the capture".into(),
            ));
        }
        let graph = graph.map_err(|e| graph_error("stop", e))?;
        Ok(StepGraph {
            device: inner,
            graph,
            x: Some(x),
            values,
            next: Some(batch),
            inputs,
            constants: self.constants(),
        })
    }

    /// One training step on `x` by replaying `graph` (after its recorded
    /// step): the same step as [`train_on`](Self::train_on), its losses read
    /// the same way.
    pub fn replay_step(&mut self, graph: &mut StepGraph, x: Tensor<4>) -> Result<(), TrainError> {
        if graph.next.is_some() {
            return Err(TrainError::Argument(
                "graph replay: the recorded step comes first (replay_recorded_step)".into(),
            ));
        }
        self.check_constants(graph.constants)?;
        let fixed = graph.x.take().expect("the graph's batch");
        if fixed.dims() != x.dims() {
            let dims = fixed.dims();
            graph.x = Some(fixed);
            return Err(TrainError::Argument(format!(
                "graph replay: a batch of {:?}, recorded for {dims:?}",
                x.dims()
            )));
        }
        let batch = x.dims()[0];
        graph.x = Some(write_into(fixed, x.detach().inner()));
        self.replay(graph, batch)
    }

    /// The step the capture recorded, on the batch it was given.
    pub fn replay_recorded_step(&mut self, graph: &mut StepGraph) -> Result<(), TrainError> {
        self.check_constants(graph.constants)?;
        let batch = graph.next.take().ok_or_else(|| {
            TrainError::Argument("graph replay: the recorded step was taken already".into())
        })?;
        self.replay(graph, batch)
    }

    /// The weights and moments of `model` and `optimizer` (as `save` and
    /// `optimizer_state` wrote them), back in fresh buffers, unpinned.
    fn restore(&mut self, model: &[u8], optimizer: &[u8]) -> Result<(), TrainError> {
        let (net, _, _) = Net::from_safetensors(model, &self.device)?;
        self.net = Some(net);
        self.optim = self.optimizer_from(optimizer)?;
        Ok(())
    }

    /// Back to the usual steps: the model and moments stay where they are,
    /// and the graph's buffers are let go.
    pub fn release_graph(&mut self, graph: StepGraph) {
        self.optim.unpin();
        drop(graph);
    }

    fn replay(&mut self, graph: &mut StepGraph, batch: usize) -> Result<(), TrainError> {
        if !self.optim.is_pinned() {
            return Err(TrainError::Argument(
                "graph replay: the model changed since the capture (loaded or restored); capture again".into(),
            ));
        }
        let weight = self.kl_weight();
        graph.inputs.refresh(weight, &graph.device);
        self.optim.count_steps(1);
        // Safety: the graph's buffers are alive (the model's and Adam's
        // tensors, the batch, inputs and losses here, the rest in pages the
        // graph guards), and everything runs on this thread's one stream.
        unsafe { Dispatch::graph_replay(graph.device.as_dispatch(), &graph.graph) }
            .map_err(|e| graph_error("replay", e))?;
        self.optim.refresh_pinned(&graph.device);
        self.step += 1;
        // The next replay rewrites the losses' buffer: keep a copy.
        self.pending.push(Pending {
            values: graph.values.clone().mul_scalar(1.0),
            step: self.step,
            epoch: self.epoch,
            weight,
            batch,
        });
        Ok(())
    }
}
