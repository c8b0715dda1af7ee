//! Finds the CIFAR-10 mini slice for the browser tests, which embed it with
//! `include_bytes!` (a test in a browser has no file system). Sets the
//! `vaelab_mini` cfg and `VAELAB_MINI_DIR` when the data root holds
//! `cifar-10-batches-bin-mini/`; without it the browser tests report a skip.
//! The data root is found as `vaelab::data_root()` finds it: `$VAELAB_DATA`;
//! unset, `./data`, or the shared `../shared/data` when only that exists.

use std::path::PathBuf;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(vaelab_mini)");
    println!("cargo::rerun-if-env-changed=VAELAB_DATA");
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let root = match std::env::var_os("VAELAB_DATA") {
        Some(root) => PathBuf::from(root),
        None if !manifest.join("data").exists() && manifest.join("../shared/data").exists() => {
            "../shared/data".into()
        }
        None => "data".into(),
    };
    let dir = manifest.join(root).join("cifar-10-batches-bin-mini");
    let needed = ["data_batch_1.bin", "test_batch.bin"];
    for f in needed {
        println!("cargo::rerun-if-changed={}", dir.join(f).display());
    }
    if needed.iter().all(|f| dir.join(f).is_file())
        && let Ok(dir) = dir.canonicalize()
    {
        println!("cargo::rustc-cfg=vaelab_mini");
        println!("cargo::rustc-env=VAELAB_MINI_DIR={}", dir.display());
    }
}
