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

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor, TensorData};

use safetensors::SafeTensors;

use crate::checkpoint::{self, CheckpointError, PathStack};

mod corrections;
#[cfg(target_arch = "wasm32")]
mod in_place;

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
    #[cfg(target_arch = "wasm32")]
    in_place: bool,
    /// The corrections as the in-place kernel reads them, uploaded once a
    /// step (an upload between launches costs WebGPU a queue submit).
    #[cfg(target_arch = "wasm32")]
    values: Option<Tensor<1>>,
}

impl ModuleMapper for Step<'_> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (id, w, mapper) = param.consume();
        let Some(g) = self.grads.remove::<D>(id) else {
            return Param::from_mapped_value(id, w, mapper);
        };
        #[cfg(target_arch = "wasm32")]
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

#[cfg(target_arch = "wasm32")]
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

/// Each parameter's moments, flattened, under the parameter's name in the
/// model file with PyTorch's suffixes.
struct Save<'a> {
    path: PathStack,
    moments: &'a Store,
    tensors: Vec<(String, Tensor<1>, Vec<usize>)>,
}

impl ModuleVisitor for Save<'_> {
    fn enter_module(&mut self, name: &str, container_type: &str) {
        self.path.enter(name, container_type);
    }
    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.exit();
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let Some(Moments { m, v }) = moments_of::<D>(self.moments, param.id) else {
            return;
        };
        let n = param.shape().num_elements();
        let name = self.path.name();
        self.tensors
            .push((format!("{name}.exp_avg"), m.clone().reshape([n]), vec![n]));
        self.tensors.push((
            format!("{name}.exp_avg_sq"),
            v.clone().reshape([n]),
            vec![n],
        ));
    }
}

/// The moments [`Save`] wrote, read back in each parameter's shape; the
/// first tensor missing or misshapen stops the reading.
struct Load<'a> {
    path: PathStack,
    file: &'a SafeTensors<'a>,
    device: &'a Device,
    moments: Store,
    error: Option<CheckpointError>,
}

impl ModuleVisitor for Load<'_> {
    fn enter_module(&mut self, name: &str, container_type: &str) {
        self.path.enter(name, container_type);
    }
    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.exit();
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if self.error.is_some() {
            return;
        }
        let dims: [usize; D] = param.shape().dims();
        let n = dims.iter().product();
        let name = self.path.name();
        let read = |suffix: &str| -> Result<Tensor<D>, CheckpointError> {
            let data: TensorData =
                checkpoint::tensor_f32(self.file, &format!("{name}.{suffix}"), &[n])?;
            Ok(Tensor::<1>::from_data(data, self.device).reshape(dims))
        };
        match (read("exp_avg"), read("exp_avg_sq")) {
            (Ok(m), Ok(v)) => {
                self.moments.insert(param.id, Box::new(Moments { m, v }));
            }
            (Err(e), _) | (_, Err(e)) => self.error = Some(e),
        }
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
            #[cfg(target_arch = "wasm32")]
            in_place: in_place::applies(&scale.device()),
            scale,
            lr,
            corrections,
            #[cfg(target_arch = "wasm32")]
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

    /// The moments as SafeTensors bytes: `<parameter>.exp_avg` and
    /// `.exp_avg_sq` (PyTorch's names for them), flattened in Burn's layout,
    /// and the step count in the metadata.
    pub async fn to_safetensors<M: Module>(&self, model: &M) -> Result<Vec<u8>, CheckpointError> {
        let mut save = Save {
            path: PathStack::default(),
            moments: &self.moments,
            tensors: Vec::new(),
        };
        model.visit(&mut save);
        let meta = HashMap::from([("adam_steps".to_string(), self.steps.to_string())]);
        checkpoint::serialize(save.tensors, meta).await
    }

    /// The state [`to_safetensors`](Self::to_safetensors) wrote for a model
    /// of `model`'s architecture, on `device`.
    pub fn from_safetensors<M: Module>(
        bytes: &[u8],
        model: &M,
        device: &Device,
    ) -> Result<Adam, CheckpointError> {
        let meta = checkpoint::metadata(bytes)?;
        let steps = meta
            .get("adam_steps")
            .and_then(|s| s.parse::<i32>().ok())
            .ok_or_else(|| {
                CheckpointError::Format("no adam_steps: not an optimiser state".into())
            })?;
        let file = checkpoint::parse(bytes)?;
        let mut load = Load {
            path: PathStack::default(),
            file: &file,
            device,
            moments: Store::new(),
            error: None,
        };
        model.visit(&mut load);
        match load.error {
            Some(e) => Err(e),
            None => Ok(Adam {
                moments: load.moments,
                steps,
                pinned: None,
            }),
        }
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::model::{AutoEncoderConfig, VaeConfig};
    use burn::tensor::Distribution;

    /// Moments of random values in each parameter's shape.
    struct Fill<'a>(&'a mut Store);
    impl ModuleVisitor for Fill<'_> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let device = param.val().device();
            let random = || Tensor::<D>::random(param.shape(), Distribution::Default, &device);
            let moments = Moments::<D> {
                m: random(),
                v: random(),
            };
            self.0.insert(param.id, Box::new(moments));
        }
    }

    /// Two stores hold the same moments, value for value, in each parameter's shape.
    struct Same<'a>(&'a Store, &'a Store);
    impl ModuleVisitor for Same<'_> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let a = moments_of::<D>(self.0, param.id).unwrap();
            let b = moments_of::<D>(self.1, param.id).unwrap();
            for (x, y) in [(&a.m, &b.m), (&a.v, &b.v)] {
                assert_eq!(x.dims(), y.dims());
                assert_eq!(x.clone().into_data(), y.clone().into_data());
            }
        }
    }

    /// A state saved for one architecture is read back whole, value for value
    /// and in each parameter's shape, is refused by another, naming the
    /// tensor; bytes that are no state say so.
    #[test]
    fn a_state_fits_only_its_own_architecture() {
        let device = Device::flex();
        let vae = VaeConfig::new(8).init(&device);
        let ae = AutoEncoderConfig::new(8).init(&device);
        let mut adam = Adam::default();
        let bytes = pollster::block_on(adam.to_safetensors(&vae)).unwrap();
        // No step yet: no moments, so nothing a model could miss... until one.
        assert!(Adam::from_safetensors(&bytes, &vae, &device).is_err());
        adam.steps = 1;
        vae.visit(&mut Fill(&mut adam.moments));
        let bytes = pollster::block_on(adam.to_safetensors(&vae)).unwrap();
        let back = Adam::from_safetensors(&bytes, &vae, &device).unwrap();
        assert_eq!((back.steps, back.moments.len()), (1, 20));
        vae.visit(&mut Same(&adam.moments, &back.moments));
        let err = Adam::from_safetensors(&bytes, &ae, &device).err().unwrap();
        assert!(
            err.to_string().contains("encoder.fc.weight.exp_avg"),
            "{err}"
        );
        let err = Adam::from_safetensors(b"not a state", &vae, &device)
            .err()
            .unwrap();
        assert!(err.to_string().contains("not a SafeTensors file"), "{err}");
    }
}
