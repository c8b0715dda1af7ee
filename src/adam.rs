//! PyTorch's `Adam(lr, betas=(0.9, 0.999), eps=1e-8)`, with its state in our
//! hands.
//!
//! Burn's own Adam computes the same update, but keeps its moments where only
//! a synchronous read can reach them (`ModuleOptimizer::to_record`), which
//! WebGPU in a browser does not allow: a run restarted in the browser lost
//! them. Here the moments are plain tensors keyed by the parameters' paths,
//! read back asynchronously into a SafeTensors file like the model's, on every
//! device, so a snapshot is the whole state a run goes on from.

use std::any::Any;
use std::collections::HashMap;

use burn::module::{Module, ModuleMapper, Param, ParamId};
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor};

mod corrections;
#[cfg(all(target_arch = "wasm32", feature = "webgpu"))]
mod in_place;
mod state;

use corrections::Corrections;

const BETA_1: f32 = 0.9;
const BETA_2: f32 = 0.999;
/// PyTorch's default (Burn's is 1e-5).
const EPSILON: f32 = 1e-8;

/// One parameter's first and second moments, in the parameter's own shape.
///
/// Not flattened: flattening a gradient that is a view (CubeCL hands a
/// convolution's weight gradient back channels-last) is a copy kernel, and a
/// reshape between the update's operations splits the fused kernels that make
/// the update, clipping's factor included (as few as one kernel's storage
/// buffers allow: two per parameter on SwiftShader).
struct Moments<const D: usize> {
    m: Tensor<D>,
    v: Tensor<D>,
}

/// Every parameter's [`Moments`], whatever its rank: a `Moments<D>` behind
/// `Any`, taken back out at the rank of the parameter it belongs to.
type Store = HashMap<ParamId, Box<dyn Any>>;

const RANK: &str = "a parameter's moments have its rank";

/// The moments of the parameter `id`, of rank `D`, if it has any yet.
fn moments_of<const D: usize>(store: &Store, id: ParamId) -> Option<&Moments<D>> {
    Some(store.get(&id)?.downcast_ref().expect(RANK))
}

/// The moments of the parameter `id`, taken out of `store`, if it has any yet.
fn take_moments<const D: usize>(store: &mut Store, id: ParamId) -> Option<Moments<D>> {
    Some(*store.remove(&id)?.downcast().expect(RANK))
}

#[derive(Default)]
pub struct Adam {
    moments: Store,
    /// Steps taken: PyTorch's per-parameter `step`, the same for every
    /// parameter here (each step has a gradient for all of them).
    steps: i32,
    /// The next step's [`Corrections`] in buffers that outlive the step, for
    /// a captured step (`train/replay.rs`): a replay reads its numbers where
    /// the capture found them, so they are rewritten there, not uploaded anew.
    pinned: Option<Corrections>,
}

struct Step<'a> {
    moments: &'a mut Store,
    grads: &'a mut GradientsParams,
    /// What every gradient is multiplied by first (global clipping's factor), `[1]`.
    scale: Tensor<1>,
    lr: f64,
    corrections: Corrections,
    /// Whether the step is the in-place kernel's (WebGPU), decided once.
    #[cfg(all(target_arch = "wasm32", feature = "webgpu"))]
    in_place: bool,
    /// The corrections as the in-place kernel reads them, uploaded once a
    /// step (an upload between launches costs WebGPU a queue submit).
    #[cfg(all(target_arch = "wasm32", feature = "webgpu"))]
    values: Option<Tensor<1>>,
}

impl ModuleMapper for Step<'_> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (id, w, mapper) = param.consume();
        let Some(g) = self.grads.remove::<D>(id) else {
            return Param::from_mapped_value(id, w, mapper);
        };
        #[cfg(all(target_arch = "wasm32", feature = "webgpu"))]
        if self.in_place {
            return self.in_place(id, w, g, mapper);
        }
        let g = g.mul(self.scale.clone().reshape([1; D]));
        let moments = match take_moments::<D>(self.moments, id) {
            Some(Moments { m, v }) => Moments {
                m: m.mul_scalar(BETA_1).add(g.clone().mul_scalar(1.0 - BETA_1)),
                v: v.mul_scalar(BETA_2)
                    .add(g.square().mul_scalar(1.0 - BETA_2)),
            },
            None => Moments {
                m: g.clone().mul_scalar(1.0 - BETA_1),
                v: g.square().mul_scalar(1.0 - BETA_2),
            },
        };
        let update = self
            .corrections
            .update(moments.m.clone(), moments.v.clone())
            .mul_scalar(self.lr);
        self.moments.insert(id, Box::new(moments));
        let grad = w.is_require_grad();
        let w = w.inner().sub(update);
        Param::from_mapped_value(id, Tensor::from_inner(w).set_require_grad(grad), mapper)
    }
}

#[cfg(all(target_arch = "wasm32", feature = "webgpu"))]
impl Step<'_> {
    /// The step of `map_float` as one kernel that leaves the weight and
    /// moments in their buffers (`in_place.rs`); a first step's moments start
    /// at zero, which gives the tensor path's first moments exactly.
    fn in_place<const D: usize>(
        &mut self,
        id: ParamId,
        w: Tensor<D>,
        g: Tensor<D>,
        mapper: burn::module::ParamMapper<Tensor<D>>,
    ) -> Param<Tensor<D>> {
        let device = g.device();
        let Moments { m, v } = take_moments::<D>(self.moments, id).unwrap_or_else(|| Moments {
            m: Tensor::zeros(g.shape(), &device),
            v: Tensor::zeros(g.shape(), &device),
        });
        let grad = w.is_require_grad();
        let corrections = self
            .values
            .get_or_insert_with(|| self.corrections.values(&device))
            .clone();
        let (w, m, v) = in_place::step(
            w.inner(),
            m,
            v,
            g,
            self.scale.clone(),
            corrections,
            self.lr as f32,
        );
        self.moments.insert(id, Box::new(Moments { m, v }));
        Param::from_mapped_value(id, Tensor::from_inner(w).set_require_grad(grad), mapper)
    }
}

impl Adam {
    /// Apply `grads`, each multiplied by `scale` (`[1]`: global clipping's
    /// factor, applied in the same fused kernel as the update), to `model`:
    /// one Adam step at learning rate `lr`.
    pub fn step<M: Module>(
        &mut self,
        lr: f64,
        model: M,
        mut grads: GradientsParams,
        scale: Tensor<1>,
    ) -> M {
        self.steps += 1;
        let corrections = match &self.pinned {
            Some(pinned) => pinned.clone(),
            None => Corrections::scalars(self.steps),
        };
        model.map(&mut Step {
            moments: &mut self.moments,
            grads: &mut grads,
            #[cfg(all(target_arch = "wasm32", feature = "webgpu"))]
            in_place: in_place::applies(&scale.device()),
            scale,
            lr,
            corrections,
            #[cfg(all(target_arch = "wasm32", feature = "webgpu"))]
            values: None,
        })
    }

    /// From now on the steps read their bias corrections from a buffer
    /// that [`refresh_pinned`](Self::refresh_pinned) rewrites in place.
    pub(crate) fn pin(&mut self, device: &Device) {
        self.pinned = Some(Corrections::pinned(self.steps + 1, None, device));
    }

    /// Back to scalars, and to new buffers each step.
    pub(crate) fn unpin(&mut self) {
        self.pinned = None;
    }

    pub(crate) fn is_pinned(&self) -> bool {
        self.pinned.is_some()
    }

    /// The pinned buffers hold the next step's corrections.
    pub(crate) fn refresh_pinned(&mut self, device: &Device) {
        if let Some(pinned) = self.pinned.take() {
            self.pinned = Some(Corrections::pinned(self.steps + 1, Some(pinned), device));
        }
    }

    /// Count a step taken outside [`step`](Self::step) (a replay), or take back
    /// one that only a capture recorded (`-1`).
    pub(crate) fn count_steps(&mut self, by: i32) {
        self.steps += by;
    }

    pub fn steps(&self) -> usize {
        self.steps as usize
    }
}
