//! PyTorch's `Adam(lr, betas=(0.9, 0.999), eps=1e-8)`, with its state in our
//! hands.
//!
//! Burn's own Adam computes the same update, but keeps its moments where only
//! a synchronous read can reach them (`ModuleOptimizer::to_record`), which
//! WebGPU in a browser does not allow: a run restarted in the browser lost
//! them. Here the moments are plain tensors keyed by the parameters' paths,
//! read back asynchronously into a SafeTensors file like the model's, on every
//! device, so a snapshot is the whole state a run goes on from.

use std::collections::HashMap;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor, TensorData};

use crate::checkpoint::{self, CheckpointError, PathStack};

const BETA_1: f32 = 0.9;
const BETA_2: f32 = 0.999;
/// PyTorch's default (Burn's is 1e-5).
const EPSILON: f32 = 1e-8;

/// One parameter's first and second moments, flattened.
struct Moments {
    m: Tensor<1>,
    v: Tensor<1>,
}

#[derive(Default)]
pub struct Adam {
    moments: HashMap<ParamId, Moments>,
    /// Steps taken: PyTorch's per-parameter `step`, the same for every
    /// parameter here (each step has a gradient for all of them).
    steps: i32,
}

struct Step<'a> {
    moments: &'a mut HashMap<ParamId, Moments>,
    grads: &'a mut GradientsParams,
    lr: f64,
    steps: i32,
}

impl ModuleMapper for Step<'_> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (id, w, mapper) = param.consume();
        let Some(g) = self.grads.remove::<D>(id) else {
            return Param::from_mapped_value(id, w, mapper);
        };
        let dims = w.dims();
        let n = dims.iter().product::<usize>();
        let g = g.reshape([n]);
        let moments = match self.moments.remove(&id) {
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
        // Burn's arrangement of PyTorch's update, kept to the operation so
        // that the parity tests' numbers stay what they were:
        // m / (1 - b1^t) / (sqrt(v / (1 - b2^t)) + eps).
        let bias_2 = (1.0 - BETA_2.powi(self.steps)).sqrt();
        let factor = bias_2 / (1.0 - BETA_1.powi(self.steps));
        let update = moments
            .m
            .clone()
            .mul_scalar(factor)
            .div(moments.v.clone().sqrt().add_scalar(EPSILON * bias_2))
            .mul_scalar(self.lr);
        self.moments.insert(id, moments);
        let grad = w.is_require_grad();
        let w = w.inner().reshape([n]).sub(update).reshape(dims);
        Param::from_mapped_value(id, Tensor::from_inner(w).set_require_grad(grad), mapper)
    }
}

/// The parameters' ids and their names in the model file.
struct Names {
    path: PathStack,
    names: Vec<(ParamId, String, usize)>,
}

impl ModuleVisitor for Names {
    fn enter_module(&mut self, name: &str, container_type: &str) {
        self.path.enter(name, container_type);
    }
    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.exit();
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let n = param.shape().num_elements();
        self.names.push((param.id, self.path.name(), n));
    }
}

fn names<M: Module>(model: &M) -> Vec<(ParamId, String, usize)> {
    let mut v = Names {
        path: PathStack::default(),
        names: Vec::new(),
    };
    model.visit(&mut v);
    v.names
}

impl Adam {
    /// Apply `grads` to `model`: one Adam step at learning rate `lr`.
    pub fn step<M: Module>(&mut self, lr: f64, model: M, mut grads: GradientsParams) -> M {
        self.steps += 1;
        model.map(&mut Step {
            moments: &mut self.moments,
            grads: &mut grads,
            lr,
            steps: self.steps,
        })
    }

    pub fn steps(&self) -> usize {
        self.steps as usize
    }

    /// The moments as SafeTensors bytes: `<parameter>.exp_avg` and
    /// `.exp_avg_sq` (PyTorch's names for them), flattened in Burn's layout,
    /// and the step count in the metadata.
    pub async fn to_safetensors<M: Module>(&self, model: &M) -> Result<Vec<u8>, CheckpointError> {
        let mut tensors = Vec::new();
        for (id, name, n) in names(model) {
            if let Some(Moments { m, v }) = self.moments.get(&id) {
                tensors.push((format!("{name}.exp_avg"), m.clone(), vec![n]));
                tensors.push((format!("{name}.exp_avg_sq"), v.clone(), vec![n]));
            }
        }
        let meta = HashMap::from([("adam_steps".to_string(), self.steps.to_string())]);
        checkpoint::serialize(tensors, meta).await
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
        let mut moments = HashMap::new();
        for (id, name, n) in names(model) {
            let read = |suffix: &str| -> Result<Tensor<1>, CheckpointError> {
                let data: TensorData =
                    checkpoint::tensor_f32(&file, &format!("{name}.{suffix}"), &[n])?;
                Ok(Tensor::from_data(data, device))
            };
            moments.insert(
                id,
                Moments {
                    m: read("exp_avg")?,
                    v: read("exp_avg_sq")?,
                },
            );
        }
        Ok(Adam { moments, steps })
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::model::{AutoEncoderConfig, VaeConfig};

    /// A state saved for one architecture is refused by another, naming the
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
        for (id, _, n) in names(&vae) {
            let zeros = || Tensor::<1>::zeros([n], &device);
            adam.moments.insert(
                id,
                Moments {
                    m: zeros(),
                    v: zeros(),
                },
            );
        }
        let bytes = pollster::block_on(adam.to_safetensors(&vae)).unwrap();
        let back = Adam::from_safetensors(&bytes, &vae, &device).unwrap();
        assert_eq!((back.steps, back.moments.len()), (1, 20));
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
