//! The mini slice of CIFAR-10 and the command line, for the tests that use them.
#![allow(dead_code)] // each test file uses some of these

use std::path::{Path, PathBuf};
use std::process::Command;

use vaelab::cifar::{Cifar10, MINI_DIR, TEST_FILE, TRAIN_FILES};

/// The mini slice under the data root. Tests that call this carry
/// `needs_mini!`: where build.rs found no slice and neither `CI` nor
/// `VAELAB_DATA` is set they are ignored with a SKIPPED reason; otherwise they
/// run, and a missing slice fails them here with the path looked in.
pub fn mini_dir() -> PathBuf {
    let dir = vaelab::data_root().join(MINI_DIR);
    assert!(
        dir.join(TEST_FILE).exists(),
        "no CIFAR-10 mini slice at {} (set VAELAB_DATA to a folder holding {MINI_DIR}/)",
        dir.display()
    );
    dir
}

pub fn read(dir: &Path) -> Vec<(String, Vec<u8>)> {
    TRAIN_FILES
        .iter()
        .chain([&TEST_FILE])
        .filter(|n| dir.join(n).exists())
        .map(|n| (n.to_string(), std::fs::read(dir.join(n)).unwrap()))
        .collect()
}

pub fn mini() -> Cifar10 {
    let files = read(&mini_dir());
    Cifar10::from_files(
        "mini",
        files.iter().map(|(n, b)| (n.as_str(), b.as_slice())),
    )
    .unwrap()
}

/// Burn's flex device has one random generator per process: tests that seed it
/// and draw from it (initialisation, the VAE's noise) take turns, or a test
/// running beside them starts from other weights than its seed gives.
pub static DEVICE_RNG: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Run the `vaelab` binary: did it succeed, and its standard error.
pub fn vaelab(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_vaelab"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
