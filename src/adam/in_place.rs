//! Adam's update on WebGPU as one kernel per parameter that writes the new
//! weight and moments into the buffers it read them from (issue 21).
//!
//! Written with Burn's ops, the update is two fused kernels per parameter
//! (its eight tensors exceed one kernel's storage buffers) whose results land
//! in new buffers wherever fusion chooses. One kernel with the weight and
//! moments bound read-write (six buffers) halves the launches, and its
//! results stay where they were read: what a captured, replayed step needs
//! (`train/replay.rs`), without copying them back.
//!
//! The arithmetic is the tensor path's, operation for operation (`Step` in
//! `adam.rs`); the CPU backend keeps that path.

use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, backend_extension};
use burn::tensor::Tensor;
use burn_cubecl::CubeBackend;
use burn_cubecl::tensor::CubeTensor;
use cubecl::{CubeDim, calculate_cube_count_elemwise};

use super::{BETA_1, BETA_2};

mod kernel {
    use cubecl::prelude::*;

    /// Each element's offset in each of the four tensors, which share a shape
    /// but not always a layout (a convolution's gradient comes channels-last).
    #[cube(launch)]
    pub(super) fn adam_kernel(
        w: &mut Tensor<f32>,
        m: &mut Tensor<f32>,
        v: &mut Tensor<f32>,
        g: &Tensor<f32>,
        // The clipping factor, then the bias corrections' factor and ε.
        scale: &Tensor<f32>,
        corrections: &Tensor<f32>,
        // β1, 1 - β1, β2, 1 - β2 and the learning rate as the host computes them
        // in f32 (a shader compiler folds `1.0 - 0.9` at higher precision).
        b1: f32,
        one_minus_b1: f32,
        b2: f32,
        one_minus_b2: f32,
        lr: f32,
        #[comptime] rank: usize,
    ) {
        let mut count = 1usize;
        #[unroll]
        for d in 0..rank {
            count *= w.shape(d);
        }
        if ABSOLUTE_POS >= count {
            terminate!();
        }
        let mut rest = ABSOLUTE_POS;
        let mut at_w = 0usize;
        let mut at_m = 0usize;
        let mut at_v = 0usize;
        let mut at_g = 0usize;
        #[unroll]
        for i in 0..rank {
            let d = rank - 1 - i;
            let index = rest % w.shape(d);
            rest /= w.shape(d);
            at_w += index * w.stride(d);
            at_m += index * m.stride(d);
            at_v += index * v.stride(d);
            at_g += index * g.stride(d);
        }
        let g = g[at_g] * scale[0];
        let m_new = m[at_m] * b1 + g * one_minus_b1;
        let v_new = v[at_v] * b2 + g * g * one_minus_b2;
        m[at_m] = m_new;
        v[at_v] = v_new;
        let update = m_new * corrections[0] / (f32::sqrt(v_new) + corrections[1]);
        w[at_w] -= update * lr;
    }
}

#[backend_extension(Cube, Fusion)]
pub trait AdamInPlace: Backend {
    /// The weight and moments after one step, in the buffers of `w`, `m`
    /// and `v` (copies first where another handle shares one).
    #[fusion(meta = |w, m, v, _g, _scale, _corrections, _lr| (w.clone(), m.clone(), v.clone()))]
    fn adam_in_place(
        w: FloatTensor<Self>,
        m: FloatTensor<Self>,
        v: FloatTensor<Self>,
        g: FloatTensor<Self>,
        scale: FloatTensor<Self>,
        corrections: FloatTensor<Self>,
        lr: f32,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>);
}

/// `t` if nothing else holds its buffer, else a copy: the kernel writes it.
fn writable(t: CubeTensor) -> CubeTensor {
    if t.can_mut() && t.is_nonoverlapping() {
        t
    } else {
        t.copy()
    }
}

impl AdamInPlace for CubeBackend {
    fn adam_in_place(
        w: CubeTensor,
        m: CubeTensor,
        v: CubeTensor,
        g: CubeTensor,
        scale: CubeTensor,
        corrections: CubeTensor,
        lr: f32,
    ) -> (CubeTensor, CubeTensor, CubeTensor) {
        let (w, m, v) = (writable(w), writable(m), writable(v));
        let client = w.client.clone();
        let elements = w.meta.num_elements();
        let rank = w.meta.num_dims();
        let cube_dim = CubeDim::new(&client, elements);
        let cube_count = calculate_cube_count_elemwise(&client, elements, cube_dim);
        kernel::adam_kernel::launch(
            &client,
            cube_count,
            cube_dim,
            w.clone().into_tensor_arg(),
            m.clone().into_tensor_arg(),
            v.clone().into_tensor_arg(),
            g.into_tensor_arg(),
            scale.into_tensor_arg(),
            corrections.into_tensor_arg(),
            BETA_1,
            1.0 - BETA_1,
            BETA_2,
            1.0 - BETA_2,
            lr,
            rank,
        );
        (w, m, v)
    }
}

/// One parameter's step on WebGPU: `(w, m, v)` after it, in their buffers.
pub(super) fn step<const D: usize>(
    w: Tensor<D>,
    m: Tensor<D>,
    v: Tensor<D>,
    g: Tensor<D>,
    scale: Tensor<1>,
    corrections: Tensor<1>,
    lr: f32,
) -> (Tensor<D>, Tensor<D>, Tensor<D>) {
    use burn::backend::Dispatch;
    let (w, m, v) = <Dispatch as AdamInPlace>::adam_in_place(
        w.into_dispatch(),
        m.into_dispatch(),
        v.into_dispatch(),
        g.into_dispatch(),
        scale.into_dispatch(),
        corrections.into_dispatch(),
        lr,
    );
    (
        Tensor::from_dispatch(w),
        Tensor::from_dispatch(m),
        Tensor::from_dispatch(v),
    )
}

/// Whether `device` takes the step as this kernel (WebGPU), not as tensor
/// operations (the CPU).
pub(super) fn applies(device: &burn::tensor::Device) -> bool {
    matches!(device.as_dispatch(), burn::backend::DispatchDevice::Cube(_))
}
