//! The optimiser step: PyTorch's global gradient clipping, then Adam (adam.rs).

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::Tensor;

use crate::adam::Adam;

/// PyTorch's `clip_grad_norm_(model.parameters(), 1.0)`.
pub const MAX_GRAD_NORM: f32 = 1.0;

/// The most elements one reduction sums alone. A reduction to one value runs
/// in one workgroup (CubeCL gives each output one cube at most): past this the
/// first dimension is summed first, in parallel over the others. Kept well
/// below 2^18: on Mesa's lavapipe (Firefox's WebGPU here) one-workgroup sums
/// came out as if only their first 262,144 elements counted (a transposed
/// convolution's weight gradient, 524,288 elements, 48 % short; a
/// convolution's, 294,912, 5 to 7 % short), and a workgroup reads 65,536
/// floats in microseconds anyway.
pub const ONE_WORKGROUP_SUMS: usize = 1 << 16;

/// The sum of squares of each gradient, one `[1, 1, 1, 1]` tensor per parameter.
struct SquaredSums<'a> {
    grads: &'a GradientsParams,
    sums: Vec<Tensor<4>>,
}

impl ModuleVisitor for SquaredSums<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(g) = self.grads.get::<D>(param.id) {
            // Every gradient seen at rank 4 first (leading unit dimensions:
            // never a copy), so that all the sums have one shape and their
            // additions fuse; fusion cannot follow a reshape that lowers the
            // rank. Summed over all dimensions as one reduction: CubeCL folds
            // dimensions adjacent in memory into one axis and sums it in one
            // launch, where `sum()` without float atomics (WebGPU has none)
            // reduces one dimension per launch.
            let mut shape = [1; 4];
            shape[4 - D..].copy_from_slice(&g.dims());
            let mut squares = g.reshape(shape).square();
            // One reduction is one workgroup: see ONE_WORKGROUP_SUMS.
            if shape.iter().product::<usize>() > ONE_WORKGROUP_SUMS {
                squares = squares.sum_dim(4 - D);
            }
            self.sums.push(squares.sum_dims(&[0, 1, 2, 3]));
        }
    }
}

/// PyTorch's `clip_grad_norm_` norm: the norm of all gradients together,
/// `[1, 1, 1, 1]`, on the device (no read-back); None for a model without
/// gradients.
pub fn global_norm<M: Module>(model: &M, grads: &GradientsParams) -> Option<Tensor<4>> {
    let mut squares = SquaredSums {
        grads,
        sums: Vec::new(),
    };
    model.visit(&mut squares);
    // All the reductions first, then all the additions: with fusion the
    // additions run as a few fused kernels instead of one launch each (they
    // were interleaved with the reductions, which break a fused chain).
    Some(squares.sums.into_iter().reduce(|a, b| a + b)?.sqrt())
}

/// PyTorch's `clip_grad_norm_` factor for a global norm: every gradient is
/// multiplied by `min(1, max_norm / (total_norm + 1e-6))`. Burn's own
/// `GradientClipping::Norm` clips each tensor by its own norm instead.
pub fn clip_factor(total_norm: Tensor<4>, max_norm: f32) -> Tensor<4> {
    total_norm
        .add_scalar(1e-6)
        .recip()
        .mul_scalar(max_norm)
        .clamp_max(1.0)
}

/// One optimiser step as the exercise takes it: gradients of `loss`, clipped
/// to one global norm of [`MAX_GRAD_NORM`], then Adam. Returns the new model and
/// the gradient norm before clipping (still on the device). Adam multiplies
/// each gradient by the clipping factor in its own fused update, so clipping
/// adds no kernel per parameter beyond its one sum of squares.
pub fn optimize<M: Module>(
    optim: &mut Adam,
    lr: f64,
    model: M,
    loss: &Tensor<1>,
) -> (M, Tensor<1>) {
    let grads = GradientsParams::from_grads(loss.backward(), &model);
    let norm = global_norm(&model, &grads).unwrap_or_else(|| Tensor::zeros([1; 4], &loss.device()));
    let factor = clip_factor(norm.clone(), MAX_GRAD_NORM).reshape([1]);
    (optim.step(lr, model, grads, factor), norm.reshape([1]))
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::loss::recon_loss;
    use crate::model::AutoEncoderConfig;
    use burn::module::Module;
    use burn::tensor::{Device, Distribution, TensorData};

    /// Squared norm of every gradient, read on the CPU, keyed by parameter order.
    struct ReadNorms<'a> {
        grads: &'a GradientsParams,
        out: Vec<f64>,
    }
    impl ModuleVisitor for ReadNorms<'_> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let g = self.grads.get::<D>(param.id).unwrap();
            let v = g.into_data().try_to_vec::<f32>().unwrap();
            self.out.push(v.iter().map(|x| (*x as f64).powi(2)).sum());
        }
    }

    fn norms<M: Module>(m: &M, grads: &GradientsParams) -> Vec<f64> {
        let mut r = ReadNorms { grads, out: vec![] };
        m.visit(&mut r);
        r.out
    }

    fn read(t: Tensor<4>) -> f64 {
        t.into_data().try_to_vec::<f32>().unwrap()[0] as f64
    }

    /// Global clipping's norm is over all parameters together (PyTorch), not
    /// each tensor's own (Burn), and its factor brings that norm to 1.
    #[test]
    fn clipping_uses_one_global_norm() {
        let device = Device::flex().autodiff();
        let m = AutoEncoderConfig::new(4).init(&device);
        let x = Tensor::<4>::random([8, 3, 32, 32], Distribution::Uniform(-1.0, 1.0), &device);
        let loss = recon_loss(x.clone(), m.forward(x));
        let grads = GradientsParams::from_grads(loss.backward(), &m);
        let each = norms(&m, &grads);
        let total: f64 = each.iter().sum::<f64>().sqrt();
        assert!(total > 2.0, "test needs a large gradient, got {total}");
        assert!(
            each.iter().all(|n| n.sqrt() < total * 0.999),
            "the test must tell one norm from each tensor's"
        );
        let reported = global_norm(&m, &grads).unwrap();
        let factor = read(clip_factor(reported.clone(), 1.0));
        let reported = read(reported);
        assert!(
            (reported - total).abs() / total < 1e-4,
            "{reported} vs {total}"
        );
        let want = 1.0 / (total + 1e-6);
        assert!(
            (factor - want).abs() / want < 1e-4,
            "factor {factor} vs {want}"
        );
        assert!(
            (total * factor - 1.0).abs() < 1e-3,
            "norm after clipping {}",
            total * factor
        );
    }

    #[test]
    fn small_gradients_are_left_alone() {
        let device = Device::flex().autodiff();
        let m = AutoEncoderConfig::new(4).init(&device);
        let x = Tensor::<4>::random([2, 3, 32, 32], Distribution::Uniform(-1.0, 1.0), &device);
        let loss = recon_loss(x.clone(), m.forward(x)).mul_scalar(1e-6);
        let grads = GradientsParams::from_grads(loss.backward(), &m);
        let norm = global_norm(&m, &grads).unwrap();
        assert!(read(norm.clone()) < 1.0);
        assert_eq!(read(clip_factor(norm, 1.0)), 1.0);
    }

    /// A gradient too large for one workgroup's sum is summed in two passes,
    /// to the same norm, and one of each rank beside it counts once.
    #[test]
    fn a_gradient_past_one_workgroup_counts_whole() {
        #[derive(Module, Debug)]
        struct Wide {
            w: Param<Tensor<2>>,
            b: Param<Tensor<1>>,
        }
        let device = Device::flex().autodiff();
        let (rows, cols) = (1 << 11, 1 << 10);
        assert!(rows * cols > ONE_WORKGROUP_SUMS);
        let param = |t: Tensor<2>| Param::from_tensor(t.require_grad());
        let wide = Wide {
            w: param(Tensor::zeros([rows, cols], &device)),
            b: Param::from_tensor(Tensor::zeros([3], &device).require_grad()),
        };
        // loss = sum(w * c) + sum(b * d): the gradients are c and d.
        let c: Vec<f32> = (0..rows * cols)
            .map(|k| ((k % 7) as f32 - 3.0) * 1e-3)
            .collect();
        let d = [0.5f32, -1.0, 2.0];
        let ct = Tensor::<2>::from_data(TensorData::new(c.clone(), [rows, cols]), &device);
        let dt = Tensor::<1>::from_data(TensorData::new(d.to_vec(), [3]), &device);
        let loss = (wide.w.val() * ct).sum() + (wide.b.val() * dt).sum();
        let grads = GradientsParams::from_grads(loss.backward(), &wide);
        let want = c
            .iter()
            .chain(&d)
            .map(|&x| (x as f64).powi(2))
            .sum::<f64>()
            .sqrt();
        let got = read(global_norm(&wide, &grads).unwrap());
        assert!((got - want).abs() / want < 1e-5, "{got} vs {want}");
    }

    /// One parameter vector whose gradient is whatever the test's loss says.
    #[derive(Module, Debug)]
    struct Probe {
        w: Param<Tensor<1>>,
    }

    fn probe(w: &[f32], device: &Device) -> Probe {
        let t =
            Tensor::<1>::from_data(burn::tensor::TensorData::new(w.to_vec(), [w.len()]), device);
        Probe {
            w: Param::from_tensor(t.require_grad()),
        }
    }

    /// A step of the trainer's optimiser on `loss = sum(w * c)`, whose gradient is `c`.
    fn step_with_gradient(optim: &mut Adam, p: Probe, c: &[f32]) -> (Probe, f32) {
        let device = p.w.val().device();
        let c = Tensor::<1>::from_data(
            burn::tensor::TensorData::new(c.to_vec(), [c.len()]),
            &device,
        );
        let loss = (p.w.val() * c).sum();
        let (p, norm) = optimize(optim, LR, p, &loss);
        (p, norm.into_data().try_to_vec::<f32>().unwrap()[0])
    }

    fn weights(p: &Probe) -> Vec<f64> {
        let v = p.w.val().into_data().try_to_vec::<f32>().unwrap();
        v.into_iter().map(f64::from).collect()
    }

    const LR: f64 = 1e-3;

    /// Adam with PyTorch's defaults, in f64: `(m, v, t)` per element.
    struct ClosedFormAdam {
        m: Vec<f64>,
        v: Vec<f64>,
        t: i32,
        eps: f64,
    }

    impl ClosedFormAdam {
        fn new(n: usize, eps: f64) -> Self {
            Self {
                m: vec![0.0; n],
                v: vec![0.0; n],
                t: 0,
                eps,
            }
        }
        fn step(&mut self, w: &mut [f64], g: &[f64]) {
            self.t += 1;
            for k in 0..w.len() {
                self.m[k] = 0.9 * self.m[k] + 0.1 * g[k];
                self.v[k] = 0.999 * self.v[k] + 0.001 * g[k] * g[k];
                let m_hat = self.m[k] / (1.0 - 0.9f64.powi(self.t));
                let v_hat = self.v[k] / (1.0 - 0.999f64.powi(self.t));
                w[k] -= LR * m_hat / (v_hat.sqrt() + self.eps);
            }
        }
    }

    /// Gradients near 1e-8 move a weight by about lr/2 with PyTorch's eps
    /// (1e-8) and by almost nothing with Burn's default (1e-5).
    #[test]
    fn adam_takes_pytorchs_eps() {
        let device = Device::flex().autodiff();
        let w0 = [0.5f32, -0.25, 1.0, 0.0];
        let c = [1e-9f32, -1e-8, 3e-8, 0.2];
        let (p, norm) = step_with_gradient(&mut Adam::default(), probe(&w0, &device), &c);
        assert!((norm as f64 - 0.2).abs() < 1e-6, "norm {norm}");
        let got = weights(&p);
        let g: Vec<f64> = c.iter().map(|&x| x as f64).collect();
        let mut want: Vec<f64> = w0.iter().map(|&x| x as f64).collect();
        let mut with_burns_eps = want.clone();
        ClosedFormAdam::new(4, 1e-8).step(&mut want, &g);
        ClosedFormAdam::new(4, 1e-5).step(&mut with_burns_eps, &g);
        for k in 0..4 {
            let moved = got[k] - w0[k] as f64;
            let expected = want[k] - w0[k] as f64;
            assert!(
                (moved - expected).abs() <= 1e-3 * expected.abs() + 1e-9,
                "element {k}: moved {moved:e}, Adam with eps 1e-8 moves {expected:e}"
            );
        }
        // The test can tell the two apart: element 1 moves lr/2 vs lr/1000.
        let burns = with_burns_eps[1] - w0[1] as f64;
        assert!(
            (got[1] - w0[1] as f64 - burns).abs() > 1e-4,
            "indistinguishable from eps 1e-5"
        );
    }

    /// The trainer's step clips before Adam: a huge first gradient enters
    /// Adam's moments at norm 1, so the second step, with a small gradient,
    /// moves the weights as the clipped history says, not as the raw one would.
    #[test]
    fn the_optimiser_step_clips_before_adam() {
        let device = Device::flex().autodiff();
        let w0 = [0.1f32, 0.2, 0.3, 0.4];
        let huge = [3e3f32, -4e3, 0.0, 0.0];
        let small = [0.1f32, 0.1, 0.3, -0.2];
        let mut optim = Adam::default();
        let (p, norm1) = step_with_gradient(&mut optim, probe(&w0, &device), &huge);
        let (p, norm2) = step_with_gradient(&mut optim, p, &small);
        assert!((norm1 as f64 - 5e3).abs() < 1e-2, "first norm {norm1}");
        assert!(
            (norm2 as f64 - 0.15f64.sqrt()).abs() < 1e-5,
            "second norm {norm2}"
        );
        let got = weights(&p);

        let f64s = |c: &[f32]| c.iter().map(|&x| x as f64).collect::<Vec<_>>();
        let expect = |first: Vec<f64>| {
            let mut w = f64s(&w0);
            let mut adam = ClosedFormAdam::new(4, 1e-8);
            adam.step(&mut w, &first);
            adam.step(&mut w, &f64s(&small));
            w
        };
        let clipped = expect(f64s(&huge).iter().map(|g| g / (5e3 + 1e-6)).collect());
        let unclipped = expect(f64s(&huge));
        for k in 0..4 {
            assert!(
                (got[k] - clipped[k]).abs() < 1e-7,
                "element {k}: {} vs clipped {} (unclipped {})",
                got[k],
                clipped[k],
                unclipped[k]
            );
        }
        assert!(
            (clipped[0] - unclipped[0]).abs() > 1e-4,
            "the test must tell clipping apart"
        );
    }
}
