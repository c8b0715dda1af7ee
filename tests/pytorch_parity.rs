#![cfg(not(target_arch = "wasm32"))]
//! Three training steps from PyTorch's initial weights, on the `flex` CPU
//! device, against the numbers the exercise's PyTorch model printed.

mod parity;

use vaelab::burn::tensor::Device;
use vaelab::cifar::MINI_DIR;

fn read(dir: &std::path::Path, name: &str) -> Vec<u8> {
    let path = dir.join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn check(run: &str) {
    let fixtures = vaelab::fixtures_dir();
    let mini = vaelab::data_root().join(MINI_DIR);
    let expected = String::from_utf8(read(&fixtures, "expected.json")).unwrap();
    let (init, after3, eps) = (
        read(&fixtures, &format!("{run}_init.safetensors")),
        read(&fixtures, &format!("{run}_after3.safetensors")),
        read(&fixtures, "vae16_eps.safetensors"),
    );
    let (train, test) = (
        read(&mini, "data_batch_1.bin"),
        read(&mini, "test_batch.bin"),
    );
    let fx = parity::Fixtures {
        expected: &expected,
        float64: include_str!("parity/pytorch-float64.json"),
        init: &init,
        after3: &after3,
        eps: &eps,
        train: &train,
        test: &test,
    };
    let run = pollster::block_on(parity::run(run, &fx, &Device::flex(), true));
    parity::assert_all(&run.checks);
}

#[test]
#[cfg_attr(
    vaelab_skip_fixtures,
    ignore = "SKIPPED: no PyTorch fixtures or mini slice under the data root (see the build warning)"
)]
fn ae16_three_steps_match_pytorch() {
    check("ae16");
}

#[test]
#[cfg_attr(
    vaelab_skip_fixtures,
    ignore = "SKIPPED: no PyTorch fixtures or mini slice under the data root (see the build warning)"
)]
fn vae16_three_steps_with_pytorch_noise_match_pytorch() {
    check("vae16");
}
