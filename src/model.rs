//! The exercise's encoder and decoder, layer for layer.
//!
//! Field names mirror the PyTorch module indices (`conv0`, `conv2`, … and
//! `deconv1`, `deconv3`, …) so that `checkpoint.rs` can map them onto
//! `encoder.convs.0`, `decoder.deconvs.1` and so on with one regex each.
//! Burn's default initialisers (Kaiming-uniform, gain 1/sqrt(3), fan-in) are
//! exactly PyTorch's defaults for Conv2d, ConvTranspose2d and Linear, weights
//! and biases alike, so no custom initialiser is needed.

use burn::config::Config;
use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};

/// Channels x height x width after the encoder's last convolution.
pub const FEATURES: [usize; 3] = [256, 4, 4];
const FLAT: usize = 256 * 4 * 4;

fn conv3(cin: usize, cout: usize, stride: usize, device: &Device) -> Conv2d {
    Conv2dConfig::new([cin, cout], [3, 3])
        .with_stride([stride, stride])
        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
        .init(device)
}

fn deconv4(cin: usize, cout: usize, device: &Device) -> ConvTranspose2d {
    ConvTranspose2dConfig::new([cin, cout], [4, 4])
        .with_stride([2, 2])
        .with_padding([1, 1])
        .init(device)
}

/// Conv stack + `Linear(4096, out)`; `out` is the latent size for the AE and
/// twice it for the VAE (mean, then log standard deviation).
#[derive(Module, Debug)]
pub struct Encoder {
    pub conv0: Conv2d,
    pub conv2: Conv2d,
    pub conv4: Conv2d,
    pub conv6: Conv2d,
    pub fc: Linear,
}

#[derive(Config, Debug)]
pub struct EncoderConfig {
    /// Width of the final linear layer.
    pub out_features: usize,
}

impl EncoderConfig {
    pub fn init(&self, device: &Device) -> Encoder {
        Encoder {
            conv0: conv3(3, 32, 1, device),
            conv2: conv3(32, 64, 2, device),
            conv4: conv3(64, 128, 2, device),
            conv6: conv3(128, 256, 2, device),
            fc: LinearConfig::new(FLAT, self.out_features).init(device),
        }
    }
}

impl Encoder {
    /// `[N, 3, 32, 32]` → `[N, out_features]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let x = relu(self.conv0.forward(x));
        let x = relu(self.conv2.forward(x));
        let x = relu(self.conv4.forward(x));
        let x = self.conv6.forward(x);
        let n = x.dims()[0];
        self.fc.forward(x.reshape([n, FLAT]))
    }
}

/// `Linear(latent, 4096)` → reshape → ReLU → three stride-2 transposed convs
/// with ReLUs → `Conv2d(32, 3)`. No output squashing, as in the exercise.
#[derive(Module, Debug)]
pub struct Decoder {
    pub fc: Linear,
    pub deconv1: ConvTranspose2d,
    pub deconv3: ConvTranspose2d,
    pub deconv5: ConvTranspose2d,
    pub conv7: Conv2d,
}

#[derive(Config, Debug)]
pub struct DecoderConfig {
    pub latent_size: usize,
}

impl DecoderConfig {
    pub fn init(&self, device: &Device) -> Decoder {
        Decoder {
            fc: LinearConfig::new(self.latent_size, FLAT).init(device),
            deconv1: deconv4(256, 128, device),
            deconv3: deconv4(128, 64, device),
            deconv5: deconv4(64, 32, device),
            conv7: conv3(32, 3, 1, device),
        }
    }
}

impl Decoder {
    /// `[N, latent]` → `[N, 3, 32, 32]`.
    pub fn forward(&self, z: Tensor<2>) -> Tensor<4> {
        let n = z.dims()[0];
        let [c, h, w] = FEATURES;
        let x = relu(self.fc.forward(z).reshape([n, c, h, w]));
        let x = relu(self.deconv1.forward(x));
        let x = relu(self.deconv3.forward(x));
        let x = relu(self.deconv5.forward(x));
        self.conv7.forward(x)
    }
}

#[derive(Module, Debug)]
pub struct AutoEncoder {
    pub encoder: Encoder,
    pub decoder: Decoder,
}

#[derive(Config, Debug)]
pub struct AutoEncoderConfig {
    pub latent_size: usize,
}

impl AutoEncoderConfig {
    pub fn init(&self, device: &Device) -> AutoEncoder {
        AutoEncoder {
            encoder: EncoderConfig::new(self.latent_size).init(device),
            decoder: DecoderConfig::new(self.latent_size).init(device),
        }
    }
}

impl AutoEncoder {
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        self.decoder.forward(self.encoder.forward(x))
    }
}

#[derive(Module, Debug)]
pub struct Vae {
    pub encoder: Encoder,
    pub decoder: Decoder,
}

#[derive(Config, Debug)]
pub struct VaeConfig {
    pub latent_size: usize,
}

impl VaeConfig {
    pub fn init(&self, device: &Device) -> Vae {
        Vae {
            encoder: EncoderConfig::new(2 * self.latent_size).init(device),
            decoder: DecoderConfig::new(self.latent_size).init(device),
        }
    }
}

impl Vae {
    /// `(mu, log_std)`, each `[N, latent]`: the first half of the encoder's
    /// output is the mean, the second the log standard deviation.
    pub fn encode(&self, x: Tensor<4>) -> (Tensor<2>, Tensor<2>) {
        let h = self.encoder.forward(x);
        let latent = h.dims()[1] / 2;
        let mu = h.clone().narrow(1, 0, latent);
        let log_std = h.narrow(1, latent, latent);
        (mu, log_std)
    }

    /// Reparameterised sample `z = mu + exp(log_std) * eps` with `eps` given,
    /// so that callers control the noise (fixed for tests, fresh for training).
    pub fn reparameterize(mu: Tensor<2>, log_std: Tensor<2>, eps: Tensor<2>) -> Tensor<2> {
        mu + log_std.exp() * eps
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use burn::tensor::Distribution;

    fn input(n: usize, device: &Device) -> Tensor<4> {
        Tensor::random([n, 3, 32, 32], Distribution::Uniform(-1.0, 1.0), device)
    }

    #[test]
    fn shapes_for_the_exercise_latent_sizes() {
        let device = Device::flex();
        for latent in [16, 128, 1024] {
            let ae = AutoEncoderConfig::new(latent).init(&device);
            assert_eq!(ae.encoder.forward(input(2, &device)).dims(), [2, latent]);
            assert_eq!(ae.forward(input(2, &device)).dims(), [2, 3, 32, 32]);
            let vae = VaeConfig::new(latent).init(&device);
            let (mu, log_std) = vae.encode(input(2, &device));
            assert_eq!(mu.dims(), [2, latent]);
            assert_eq!(log_std.dims(), [2, latent]);
            assert_eq!(vae.decoder.forward(mu).dims(), [2, 3, 32, 32]);
        }
    }

    #[test]
    fn parameter_counts_equal_pytorch() {
        let device = Device::flex();
        // The SPEC's counts, as `sum(p.numel() for p in model.parameters())` gives them.
        assert_eq!(
            AutoEncoderConfig::new(16).init(&device).num_params(),
            1_212_819
        );
        assert_eq!(
            AutoEncoderConfig::new(128).init(&device).num_params(),
            2_130_435
        );
        assert_eq!(
            AutoEncoderConfig::new(1024).init(&device).num_params(),
            9_471_363
        );
        assert_eq!(VaeConfig::new(1024).init(&device).num_params(), 13_666_691);
    }

    /// PyTorch draws weights and biases from U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
    /// where ConvTranspose2d's fan_in is `out_channels * k * k`.
    #[test]
    fn initial_weights_follow_pytorch_bounds() {
        let device = Device::flex();
        let ae = AutoEncoderConfig::new(16).init(&device);
        let check = |w: Tensor<4>, b: Tensor<1>, fan_in: usize| {
            let bound = 1.0 / (fan_in as f32).sqrt();
            for t in [w.flatten::<1>(0, 3), b] {
                let v = t.into_data().try_to_vec::<f32>().unwrap();
                let max = v.iter().fold(0f32, |m, x| m.max(x.abs()));
                assert!(max <= bound * 1.0001, "max {max} above bound {bound}");
                assert!(max > bound * 0.8, "max {max} far below bound {bound}");
            }
        };
        let c = &ae.encoder.conv2;
        check(c.weight.val(), c.bias.as_ref().unwrap().val(), 32 * 9);
        let d = &ae.decoder.deconv1;
        check(d.weight.val(), d.bias.as_ref().unwrap().val(), 128 * 16);
        let fc = &ae.decoder.fc;
        let bound = 1.0 / 16f32.sqrt();
        let w = fc.weight.val().into_data().try_to_vec::<f32>().unwrap();
        assert!(w.iter().all(|x| x.abs() <= bound * 1.0001));
    }
}
