//! A training step recorded once and replayed (issue 21): CubeCL's software
//! graph (cubecl-wgpu `compute/graph.rs`) resolves each launch's pipeline,
//! bindings and bind group while recording, and a replay re-encodes them, so
//! a replayed step skips Burn's autodiff, fusion and launch path on the host.
//!
//! A replay reruns the recorded kernels on the recorded buffers with the
//! recorded scalars. So everything that changes from step to step lives in a
//! buffer the capture read and is rewritten in place between replays: the
//! batch, Adam's bias corrections (`Adam::pin`), and the weights and moments,
//! which the step itself copies back into the buffers it read
//! (`adam/held.rs`). The capture run records without executing: the step it
//! recorded is taken back and the first replay runs it.
//!
//! Burn's `burn::tensor::capture` cannot be used in a page: its warm-up waits
//! for the device with a blocking sync, which never returns where the
//! device's answer needs the event loop. The warm-up here awaits a read.

use burn::tensor::{Device, Tensor};
use burn_backend::{Backend, BackendGraph};
use burn_dispatch::Dispatch;

use super::{Pending, TrainError, Trainer};
use crate::loss::LossMode;
use crate::net::{Net, ZFrom};

/// Steps run in the captured arrangement before the capture, each awaited:
/// fusion settles its kernels and the memory pools their buffers (as Burn's
/// own capture does, three).
const WARMUP_STEPS: usize = 3;

/// `dst`'s buffer holding `src`'s values, in place: `dst` must be the only
/// handle to its buffer (CubeCL writes a slice assignment in place then,
/// `burn-cubecl kernel/index/slice_assign.rs`, and copies otherwise).
pub(crate) fn write_into<const D: usize>(dst: Tensor<D>, src: Tensor<D>) -> Tensor<D> {
    let ranges = dst.dims().map(|d| 0..d);
    dst.slice_assign(ranges, src)
}

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
}

fn graph_error(what: &str, e: impl std::fmt::Debug) -> TrainError {
    TrainError::Device(format!("graph capture: {what}: {e:?}"))
}

impl Trainer {
    /// One step that leaves the weights and moments in the buffers it read.
    fn step_in_place(&mut self, x: Tensor<4>) -> Result<(), TrainError> {
        let held = match self.net() {
            Net::Ae(m) => self.optim.hold(m),
            Net::Vae(m) => self.optim.hold(m),
        };
        self.take_step(x, ZFrom::Sample)?;
        self.net = Some(
            match self.net.take().expect("model present between steps") {
                Net::Ae(m) => Net::Ae(self.optim.write_back(m, held)),
                Net::Vae(m) => Net::Vae(self.optim.write_back(m, held)),
            },
        );
        Ok(())
    }

    /// Record a training step, for batches shaped like `next_batch`'s. Takes
    /// the steps it warms up with on the batches `next_batch` gives, in order,
    /// as usual steps of the run; the batch after them is the recorded step's,
    /// which the first [`replay_step`](Self::replay_step) takes. The AE only:
    /// the VAE's noise and β would be recorded as constants.
    pub async fn capture_step(
        &mut self,
        mut next_batch: impl FnMut() -> Tensor<4>,
    ) -> Result<StepGraph, TrainError> {
        if self.config.loss_mode != LossMode::Ae {
            return Err(TrainError::Argument(
                "graph capture: only the AE's step can be replayed yet".into(),
            ));
        }
        if self.optim.steps() == 0 {
            // The first step creates the moments: its kernels are not a later step's.
            self.train_on(next_batch())?;
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
        next_batch: &mut impl FnMut() -> Tensor<4>,
    ) -> Result<StepGraph, TrainError> {
        let dispatch = inner.as_dispatch();
        let mut x = next_batch().detach().inner();
        Dispatch::graph_prepare(dispatch).map_err(|e| graph_error("prepare", e))?;
        for _ in 0..WARMUP_STEPS {
            self.step_in_place(Tensor::from_inner(x.clone()))?;
            self.optim.refresh_pinned(&inner);
            x = write_into(x, next_batch().detach().inner());
            self.flush_metrics().await?;
        }
        Dispatch::graph_start_capture(dispatch).map_err(|e| graph_error("start", e))?;
        let recorded = self.step_in_place(Tensor::from_inner(x.clone()));
        let graph = Dispatch::graph_stop_capture(dispatch);
        recorded?;
        let graph = graph.map_err(|e| graph_error("stop", e))?;
        // Recorded, not run: the first replay takes this step, on `x` as it is.
        let Pending { values, batch, .. } = self.pending.pop().expect("the recorded step's losses");
        self.step -= 1;
        self.optim.count_steps(-1);
        Ok(StepGraph {
            device: inner,
            graph,
            x: Some(x),
            values,
            next: Some(batch),
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
        let batch = graph.next.take().ok_or_else(|| {
            TrainError::Argument("graph replay: the recorded step was taken already".into())
        })?;
        self.replay(graph, batch)
    }

    /// Back to the usual steps: the model and moments stay where they are,
    /// and the graph's buffers are let go.
    pub fn release_graph(&mut self, graph: StepGraph) {
        self.optim.unpin();
        drop(graph);
    }

    fn replay(&mut self, graph: &mut StepGraph, batch: usize) -> Result<(), TrainError> {
        let weight = self.kl_weight();
        self.optim.count_steps(1);
        // Safety: the graph's buffers are alive (the model's and Adam's
        // tensors, the batch and losses here, the rest in pages the graph
        // guards), and everything runs on this thread's one stream.
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
