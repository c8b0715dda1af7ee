//! A training step that leaves its results in the buffers it read: what a
//! captured step needs (`train/replay.rs`). A replay reruns the recorded
//! kernels on the recorded buffers, so the next replay reads the weights and
//! moments where the capture read them; a step that wrote new buffers would
//! have its successor start again from the old values. Burn gives no such
//! contract (where a result goes is fusion's choice), so the step's results
//! are copied back into the buffers it started from, as its last kernels.

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::Tensor;

use super::{Adam, Moments, RANK, Store, moments_of, take_moments};
use crate::train::replay::write_into;

/// The weights (without gradient tracking) and moments a step starts from.
pub(crate) struct Held(Store);

struct Hold<'a> {
    moments: &'a Store,
    held: Store,
}

impl ModuleVisitor for Hold<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let Some(Moments { m, v }) = moments_of::<D>(self.moments, param.id) else {
            return;
        };
        // The weight and its moments, taken back at its rank by `WriteBack`.
        let held: (Tensor<D>, Moments<D>) = (
            param.val().inner(),
            Moments {
                m: m.clone(),
                v: v.clone(),
            },
        );
        self.held.insert(param.id, Box::new(held));
    }
}

struct WriteBack<'a> {
    moments: &'a mut Store,
    held: Store,
}

impl ModuleMapper for WriteBack<'_> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (id, w, mapper) = param.consume();
        let Some(held) = self.held.remove(&id) else {
            return Param::from_mapped_value(id, w, mapper);
        };
        let (held_w, held_m): (Tensor<D>, Moments<D>) = *held.downcast().expect(RANK);
        let grad = w.is_require_grad();
        let w = Tensor::from_inner(write_into(held_w, w.inner())).set_require_grad(grad);
        if let Some(Moments { m, v }) = take_moments::<D>(self.moments, id) {
            let moments = Moments {
                m: write_into(held_m.m, m),
                v: write_into(held_m.v, v),
            };
            self.moments.insert(id, Box::new(moments));
        }
        Param::from_mapped_value(id, w, mapper)
    }
}

impl Adam {
    /// The state a step is about to start from (parameters that have moments,
    /// that is every one after the first step).
    pub(crate) fn hold<M: Module>(&self, model: &M) -> Held {
        let mut hold = Hold {
            moments: &self.moments,
            held: Store::new(),
        };
        model.visit(&mut hold);
        Held(hold.held)
    }

    /// `model` and the moments, after a step, written into the buffers of
    /// `held`: the step's last kernels.
    pub(crate) fn write_back<M: Module>(&mut self, model: M, held: Held) -> M {
        model.map(&mut WriteBack {
            moments: &mut self.moments,
            held: held.0,
        })
    }
}
