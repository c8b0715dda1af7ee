//! Finds the data the tests need, by the library's own rule (`src/data_root.rs`):
//! - the browser tests embed the CIFAR-10 mini slice and the PyTorch fixtures
//!   with `include_bytes!` (a test in a browser has no file system): cfgs
//!   `vaelab_mini` / `vaelab_fixtures` and the folders in `VAELAB_MINI_DIR` /
//!   `VAELAB_FIXTURES_DIR`;
//! - when something is missing, tests that need it are marked ignored with a
//!   SKIPPED reason (cfgs `vaelab_skip_mini` / `vaelab_skip_fixtures`) and the
//!   build prints a warning; but under CI, or when `VAELAB_DATA` names a folder,
//!   they run and fail with the path they looked in. A skip never prints "ok".

#[path = "src/data_root.rs"]
mod data_root;

use std::path::{Path, PathBuf};

fn main() {
    for cfg in [
        "vaelab_mini",
        "vaelab_fixtures",
        "vaelab_skip_mini",
        "vaelab_skip_fixtures",
    ] {
        println!("cargo::rustc-check-cfg=cfg({cfg})");
    }
    println!("cargo::rerun-if-env-changed=VAELAB_DATA");
    println!("cargo::rerun-if-env-changed=CI");
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let setting = std::env::var_os("VAELAB_DATA");
    let strict = setting.is_some() || std::env::var_os("CI").is_some();
    let root = data_root::data_root_in(&manifest, setting);
    let mini = root.join("cifar-10-batches-bin-mini");
    let fixtures = data_root::fixtures_in(&root);
    let have_mini = found(
        &mini,
        &["data_batch_1.bin", "test_batch.bin"],
        "MINI",
        "vaelab_mini",
    );
    let have_fixtures = found(
        &fixtures,
        &[
            "expected.json",
            "ae16_init.safetensors",
            "ae16_after3.safetensors",
            "vae16_init.safetensors",
            "vae16_after3.safetensors",
            "vae16_eps.safetensors",
        ],
        "FIXTURES",
        "vaelab_fixtures",
    );
    if !strict {
        if !have_mini {
            println!("cargo::rustc-cfg=vaelab_skip_mini");
            println!(
                "cargo::warning=SKIPPED: tests that need the CIFAR-10 mini slice (none at {})",
                mini.display()
            );
        }
        if !(have_mini && have_fixtures) {
            println!("cargo::rustc-cfg=vaelab_skip_fixtures");
            println!(
                "cargo::warning=SKIPPED: PyTorch parity tests (no fixtures at {})",
                fixtures.display()
            );
        }
    }
}

/// Whether `dir` holds every file in `needed`; if so, sets `cfg` and `VAELAB_<env>_DIR`.
fn found(dir: &Path, needed: &[&str], env: &str, cfg: &str) -> bool {
    for f in needed {
        println!("cargo::rerun-if-changed={}", dir.join(f).display());
    }
    let dir = match dir.canonicalize() {
        Ok(dir) if needed.iter().all(|f| dir.join(f).is_file()) => dir,
        _ => return false,
    };
    println!("cargo::rustc-cfg={cfg}");
    println!("cargo::rustc-env=VAELAB_{env}_DIR={}", dir.display());
    true
}
