//! Model files in the exercise's PyTorch layout, as SafeTensors.
//!
//! Names follow the PyTorch modules (`encoder.convs.{0,2,4,6}`, `encoder.fc`,
//! `decoder.fc`, `decoder.deconvs.{1,3,5,7}`) and Linear weights are stored
//! `[out, in]` as PyTorch keeps them (Burn keeps `[in, out]`), so a file
//! loads with `model.load_state_dict(safetensors.torch.load_file(path))` and a
//! PyTorch-trained file loads here. Reads go through `into_data_async` so the
//! same code saves from WebGPU in a browser, where blocking reads are not allowed.

use std::collections::HashMap;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::{Tensor, TensorData};
use safetensors::{Dtype, SafeTensorError, SafeTensors};
use thiserror::Error;

#[derive(Debug, Error, PartialEq)]
pub enum CheckpointError {
    #[error("not a SafeTensors file: {0}")]
    Format(String),
    #[error("the model file has no tensor '{0}'; it is not a VAE Lab / exercise model")]
    MissingTensor(String),
    #[error("tensor '{name}' has shape {found:?}, expected {expected:?} for this model")]
    Shape {
        name: String,
        found: Vec<usize>,
        expected: Vec<usize>,
    },
    #[error("tensor '{name}' is stored as {dtype}; only float32 (F32) is supported")]
    Dtype { name: String, dtype: String },
    #[error("this file holds {found}, but the run is {expected}; open it as its own run instead")]
    Architecture { found: String, expected: String },
    #[error("reading tensor '{name}' from the device failed: {reason}")]
    Read { name: String, reason: String },
}

/// The PyTorch name of a parameter at Burn module path `path`.
pub fn pytorch_name(path: &[String]) -> String {
    let mut parts: Vec<String> = Vec::with_capacity(path.len() + 1);
    for p in path {
        match p.as_str() {
            "conv0" | "conv2" | "conv4" | "conv6" => {
                parts.push("convs".into());
                parts.push(p[4..].into());
            }
            "deconv1" | "deconv3" | "deconv5" | "conv7" => {
                parts.push("deconvs".into());
                parts.push(p.trim_start_matches("de")[4..].into());
            }
            other => parts.push(other.into()),
        }
    }
    parts.join(".")
}

/// Tracks the module path during a visit or map.
#[derive(Default)]
pub(crate) struct PathStack {
    names: Vec<String>,
    containers: Vec<String>,
}

impl PathStack {
    /// The PyTorch name of the parameter being visited.
    pub(crate) fn name(&self) -> String {
        pytorch_name(&self.names)
    }
    pub(crate) fn enter(&mut self, name: &str, container: &str) {
        self.names.push(name.into());
        self.containers.push(container.into());
    }
    pub(crate) fn exit(&mut self) {
        self.names.pop();
        self.containers.pop();
    }
    /// Linear weights are transposed between Burn's `[in, out]` and PyTorch's `[out, in]`.
    fn is_linear_weight(&self) -> bool {
        self.names.last().map(String::as_str) == Some("weight")
            && self.containers.last().map(String::as_str) == Some("Struct:Linear")
    }
}

struct Collect {
    path: PathStack,
    /// (name, tensor in PyTorch layout)
    tensors: Vec<(String, Tensor<1>, Vec<usize>)>,
}

impl ModuleVisitor for Collect {
    fn enter_module(&mut self, name: &str, container_type: &str) {
        self.path.enter(name, container_type);
    }
    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.exit();
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let mut t = param.val();
        if D == 2 && self.path.is_linear_weight() {
            t = t.transpose();
        }
        let shape = t.dims().to_vec();
        self.tensors
            .push((pytorch_name(&self.path.names), t.flatten(0, D - 1), shape));
    }
}

/// Serialise `model` to SafeTensors bytes in PyTorch's names and layouts.
pub async fn to_safetensors<M: Module>(
    model: &M,
    metadata: HashMap<String, String>,
) -> Result<Vec<u8>, CheckpointError> {
    let mut collect = Collect {
        path: PathStack::default(),
        tensors: Vec::new(),
    };
    model.visit(&mut collect);
    serialize(collect.tensors, metadata).await
}

/// SafeTensors bytes of `(name, flat tensor, shape)` as float32, read back
/// from the device asynchronously.
pub(crate) async fn serialize(
    tensors: Vec<(String, Tensor<1>, Vec<usize>)>,
    metadata: HashMap<String, String>,
) -> Result<Vec<u8>, CheckpointError> {
    let mut blobs: Vec<(String, Vec<u8>, Vec<usize>)> = Vec::new();
    for (name, tensor, shape) in tensors {
        let data = tensor
            .into_data_async()
            .await
            .map_err(|e| CheckpointError::Read {
                name: name.clone(),
                reason: format!("{e:?}"),
            })?;
        let values =
            data.convert::<f32>()
                .try_to_vec::<f32>()
                .map_err(|e| CheckpointError::Read {
                    name: name.clone(),
                    reason: format!("{e:?}"),
                })?;
        let bytes = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        blobs.push((name, bytes, shape));
    }
    let views = blobs
        .iter()
        .map(|(name, bytes, shape)| {
            let view = safetensors::tensor::TensorView::new(Dtype::F32, shape.clone(), bytes)
                .map_err(|e| CheckpointError::Format(e.to_string()))?;
            Ok((name.clone(), view))
        })
        .collect::<Result<Vec<_>, CheckpointError>>()?;
    safetensors::serialize(views, Some(metadata))
        .map_err(|e| CheckpointError::Format(e.to_string()))
}

/// The file parsed, or what is wrong with it in words a student can act on.
pub(crate) fn parse(bytes: &[u8]) -> Result<SafeTensors<'_>, CheckpointError> {
    SafeTensors::deserialize(bytes).map_err(|e| format_error(e, bytes.len()))
}

fn format_error(e: SafeTensorError, len: usize) -> CheckpointError {
    CheckpointError::Format(match e {
        SafeTensorError::HeaderTooSmall => {
            format!("the file is too short ({len} bytes) to be a model file")
        }
        SafeTensorError::HeaderTooLarge | SafeTensorError::InvalidHeaderLength => format!(
            "the header length in its first 8 bytes does not fit the file ({len} bytes): it is damaged or not a model file"
        ),
        SafeTensorError::MetadataIncompleteBuffer | SafeTensorError::InvalidOffset(_) => format!(
            "the file is truncated or damaged: its header lists more tensor bytes than the {len} bytes it has"
        ),
        SafeTensorError::InvalidHeader(_)
        | SafeTensorError::InvalidHeaderDeserialization(_)
        | SafeTensorError::JsonError(_) => {
            "its header is not the JSON a SafeTensors file starts with".into()
        }
        other => other.to_string(),
    })
}

/// Shape of tensor `name` in a SafeTensors file, if present.
pub fn tensor_shape(bytes: &[u8], name: &str) -> Result<Option<Vec<usize>>, CheckpointError> {
    let file = parse(bytes)?;
    Ok(file.tensor(name).ok().map(|t| t.shape().to_vec()))
}

/// String metadata stored in a SafeTensors file's header.
pub fn metadata(bytes: &[u8]) -> Result<HashMap<String, String>, CheckpointError> {
    let (_, meta) = SafeTensors::read_metadata(bytes).map_err(|e| format_error(e, bytes.len()))?;
    Ok(meta.metadata().clone().unwrap_or_default())
}

struct Assign<'a> {
    path: PathStack,
    file: &'a SafeTensors<'a>,
    error: Option<CheckpointError>,
}

impl Assign<'_> {
    fn load(&self, expected: &[usize]) -> Result<TensorData, CheckpointError> {
        tensor_f32(self.file, &pytorch_name(&self.path.names), expected)
    }
}

/// Float32 tensor `name` of a parsed file, which must have shape `expected`.
pub(crate) fn tensor_f32(
    file: &SafeTensors<'_>,
    name: &str,
    expected: &[usize],
) -> Result<TensorData, CheckpointError> {
    let name = name.to_string();
    let view = file
        .tensor(&name)
        .map_err(|_| CheckpointError::MissingTensor(name.clone()))?;
    if view.dtype() != Dtype::F32 {
        return Err(CheckpointError::Dtype {
            name,
            dtype: format!("{:?}", view.dtype()),
        });
    }
    if view.shape() != expected {
        return Err(CheckpointError::Shape {
            name,
            found: view.shape().to_vec(),
            expected: expected.to_vec(),
        });
    }
    let values: Vec<f32> = view
        .data()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    Ok(TensorData::new(values, expected.to_vec()))
}

impl ModuleMapper for Assign<'_> {
    fn enter_module(&mut self, name: &str, container_type: &str) {
        self.path.enter(name, container_type);
    }
    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.exit();
    }
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        if self.error.is_some() {
            return param;
        }
        let transpose = D == 2 && self.path.is_linear_weight();
        let mut expected = param.shape().dims::<D>().to_vec();
        if transpose {
            expected.reverse();
        }
        match self.load(&expected) {
            Ok(data) => param.map(|old| {
                let grad = old.is_require_grad();
                let t = Tensor::<D>::from_data(data, &old.device());
                let t = if transpose { t.transpose() } else { t };
                t.set_require_grad(grad)
            }),
            Err(e) => {
                self.error = Some(e);
                param
            }
        }
    }
}

/// Replace every parameter of `model` with the file's tensor of the same name.
/// Every parameter must be present with the right shape; extra tensors are ignored.
pub fn load_into<M: Module>(model: M, bytes: &[u8]) -> Result<M, CheckpointError> {
    let file = parse(bytes)?;
    let mut assign = Assign {
        path: PathStack::default(),
        file: &file,
        error: None,
    };
    let model = model.map(&mut assign);
    match assign.error {
        Some(e) => Err(e),
        None => Ok(model),
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::model::{AutoEncoderConfig, VaeConfig};
    use burn::tensor::Device;

    fn names(path: &str) -> Vec<String> {
        path.split('.').map(String::from).collect()
    }

    #[test]
    fn names_follow_the_pytorch_sequential_indices() {
        assert_eq!(
            pytorch_name(&names("encoder.conv6.bias")),
            "encoder.convs.6.bias"
        );
        assert_eq!(
            pytorch_name(&names("encoder.fc.weight")),
            "encoder.fc.weight"
        );
        assert_eq!(
            pytorch_name(&names("decoder.deconv3.weight")),
            "decoder.deconvs.3.weight"
        );
        assert_eq!(
            pytorch_name(&names("decoder.conv7.weight")),
            "decoder.deconvs.7.weight"
        );
    }

    /// The state_dict of the exercise's PyTorch VAE at latent 16, name by name.
    #[test]
    fn saved_file_has_the_pytorch_state_dict_names_and_shapes() {
        let vae = VaeConfig::new(16).init(&Device::flex());
        let bytes = pollster::block_on(to_safetensors(&vae, HashMap::new())).unwrap();
        let file = SafeTensors::deserialize(&bytes).unwrap();
        let expected: &[(&str, &[usize])] = &[
            ("encoder.convs.0.weight", &[32, 3, 3, 3]),
            ("encoder.convs.0.bias", &[32]),
            ("encoder.convs.2.weight", &[64, 32, 3, 3]),
            ("encoder.convs.4.weight", &[128, 64, 3, 3]),
            ("encoder.convs.6.weight", &[256, 128, 3, 3]),
            ("encoder.fc.weight", &[32, 4096]),
            ("encoder.fc.bias", &[32]),
            ("decoder.fc.weight", &[4096, 16]),
            ("decoder.fc.bias", &[4096]),
            ("decoder.deconvs.1.weight", &[256, 128, 4, 4]),
            ("decoder.deconvs.3.weight", &[128, 64, 4, 4]),
            ("decoder.deconvs.5.weight", &[64, 32, 4, 4]),
            ("decoder.deconvs.5.bias", &[32]),
            ("decoder.deconvs.7.weight", &[3, 32, 3, 3]),
            ("decoder.deconvs.7.bias", &[3]),
        ];
        for (name, shape) in expected {
            assert_eq!(file.tensor(name).unwrap().shape(), *shape, "{name}");
        }
        assert_eq!(file.len(), 20);
    }

    #[test]
    fn round_trip_restores_every_value_and_transposes_linear_weights() {
        let device = Device::flex();
        let a = AutoEncoderConfig::new(16).init(&device);
        let bytes = pollster::block_on(to_safetensors(&a, HashMap::new())).unwrap();
        // Linear weight stored [out, in]: element (o, i) is Burn's (i, o).
        let file = SafeTensors::deserialize(&bytes).unwrap();
        let stored = file.tensor("decoder.fc.weight").unwrap();
        let w = a
            .decoder
            .fc
            .weight
            .val()
            .into_data()
            .try_to_vec::<f32>()
            .unwrap(); // [16, 4096]
        let at = |o: usize, i: usize| {
            let k = (o * 16 + i) * 4;
            f32::from_le_bytes(stored.data()[k..k + 4].try_into().unwrap())
        };
        assert_eq!(at(5, 3), w[3 * 4096 + 5]);
        let b = load_into(AutoEncoderConfig::new(16).init(&device), &bytes).unwrap();
        let x = a.decoder.fc.weight.val().into_data();
        let y = b.decoder.fc.weight.val().into_data();
        assert_eq!(x, y);
        let x = a.encoder.conv4.bias.as_ref().unwrap().val().into_data();
        let y = b.encoder.conv4.bias.as_ref().unwrap().val().into_data();
        assert_eq!(x, y);
    }

    #[test]
    fn wrong_architecture_and_garbage_are_clear_errors() {
        let device = Device::flex();
        let a = AutoEncoderConfig::new(16).init(&device);
        let bytes = pollster::block_on(to_safetensors(&a, HashMap::new())).unwrap();
        let err = load_into(AutoEncoderConfig::new(128).init(&device), &bytes).unwrap_err();
        assert!(matches!(err, CheckpointError::Shape { .. }), "{err}");
        let err = load_into(AutoEncoderConfig::new(16).init(&device), b"nonsense").unwrap_err();
        assert!(matches!(err, CheckpointError::Format(_)), "{err}");
    }

    /// Every way a file can be wrong names what is wrong.
    #[test]
    fn malformed_files_are_clear_errors() {
        let device = Device::flex();
        let ae = || AutoEncoderConfig::new(16).init(&device);
        let good = pollster::block_on(to_safetensors(&ae(), HashMap::new())).unwrap();
        let message = |bytes: &[u8]| load_into(ae(), bytes).unwrap_err().to_string();

        let truncated = message(&good[..good.len() / 2]);
        assert!(truncated.contains("truncated"), "{truncated}");
        let mut absurd = good.clone();
        absurd[..8].copy_from_slice(&u64::MAX.to_le_bytes());
        let absurd = message(&absurd);
        assert!(absurd.contains("header"), "{absurd}");
        assert!(message(b"abc").contains("too short"), "{}", message(b"abc"));

        // The good file with one tensor stored as float16, or with another shape.
        let replaced = |dtype, shape: Vec<usize>, data: &[u8]| {
            let file = SafeTensors::deserialize(&good).unwrap();
            let mut views: Vec<(String, safetensors::tensor::TensorView)> = file
                .tensors()
                .into_iter()
                .filter(|(n, _)| n != "encoder.convs.0.bias")
                .collect();
            let view = safetensors::tensor::TensorView::new(dtype, shape, data).unwrap();
            views.push(("encoder.convs.0.bias".into(), view));
            safetensors::serialize(views, None).unwrap()
        };
        let dtype = message(&replaced(Dtype::F16, vec![32], &[0u8; 64]));
        assert!(
            dtype.contains("F16") && dtype.contains("float32"),
            "{dtype}"
        );
        let shape = message(&replaced(Dtype::F32, vec![33], &[0u8; 132]));
        assert!(shape.contains("[33]") && shape.contains("[32]"), "{shape}");
        let empty =
            safetensors::serialize(Vec::<(&str, safetensors::tensor::TensorView)>::new(), None)
                .unwrap();
        assert!(
            message(&empty).contains("encoder.convs.0.weight"),
            "{}",
            message(&empty)
        );
    }
}
