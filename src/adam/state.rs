//! The optimiser's state as a SafeTensors file beside the model's: what a
//! snapshot keeps so that a run goes on from it exactly.

use std::collections::HashMap;

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::{Device, Tensor, TensorData};
use safetensors::SafeTensors;

use super::{Adam, Moments, Store, moments_of};
use crate::checkpoint::{self, CheckpointError, PathStack};

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
