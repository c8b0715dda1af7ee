//! The one rule for where CIFAR-10 and the PyTorch fixtures live. Compiled
//! into the library (the command line, the native tests) and into `build.rs`
//! (the browser tests, which embed the files); `scripts/data-root.sh` says the
//! same in shell for the scripts and the page tests, and a native test checks
//! that the two agree.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// `$VAELAB_DATA` when set (relative paths from `base`); unset, `base/data`,
/// or the project's shared `base/../shared/data` when only that exists.
pub fn data_root_in(base: &Path, setting: Option<OsString>) -> PathBuf {
    if let Some(root) = setting {
        return base.join(root);
    }
    let (local, shared) = (base.join("data"), base.join("../shared/data"));
    if !local.exists() && shared.exists() {
        shared
    } else {
        local
    }
}

/// The exercise's PyTorch parity fixtures sit beside the data root:
/// `<root>/../fixtures/pytorch-parity` (in the shared folder, `shared/fixtures/`).
pub fn fixtures_in(root: &Path) -> PathBuf {
    root.join("../fixtures/pytorch-parity")
}
