//! Finding CIFAR-10 on disk: a folder of `.bin` files or the official tarball.

use std::path::Path;

use vaelab::cifar::{Cifar10, TEST_FILE, TRAIN_FILES};

pub fn load(path: &Path) -> Result<Cifar10, String> {
    let shown = path.display();
    let meta = std::fs::metadata(path).map_err(|e| {
        format!(
            "CIFAR-10 not found at {shown} ({e}). Point --data or VAELAB_DATA at a folder of \
             data_batch_*.bin + test_batch.bin or at cifar-10-binary.tar.gz; `scripts/get-data.sh` downloads it"
        )
    })?;
    if meta.is_dir() {
        let mut files = Vec::new();
        for name in TRAIN_FILES.iter().chain([&TEST_FILE]) {
            let p = path.join(name);
            if p.exists() {
                let bytes =
                    std::fs::read(&p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
                files.push((name.to_string(), bytes));
            }
        }
        Cifar10::from_files(
            &shown.to_string(),
            files.iter().map(|(n, b)| (n.as_str(), b.as_slice())),
        )
        .map_err(|e| e.to_string())
    } else {
        let bytes = std::fs::read(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
        Cifar10::from_tar_gz(&shown.to_string(), &bytes).map_err(|e| e.to_string())
    }
}
