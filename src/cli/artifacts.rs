//! Files a run leaves in `--log_dir`.

use std::io::Write;
use std::path::Path;

use serde::Serialize;

pub fn write_png(path: &Path, width: usize, height: usize, rgba: Vec<u8>) -> Result<(), String> {
    let img = image::RgbaImage::from_raw(width as u32, height as u32, rgba)
        .ok_or_else(|| format!("{}: image buffer has the wrong size", path.display()))?;
    img.save(path)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

pub fn append_jsonl(path: &Path, record: &impl Serialize) -> Result<(), String> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    let line = serde_json::to_string(record).map_err(|e| e.to_string())?;
    writeln!(f, "{line}").map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Write `bytes` to `path` so that the file is either the old one or the new
/// one whole: written beside it under a temporary name, then renamed over it
/// (a full disk or a kill mid-write leaves the previous epoch's file intact).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".partial");
    let tmp = Path::new(&tmp);
    let written = std::fs::File::create(tmp).and_then(|mut f| {
        f.write_all(bytes)?;
        f.sync_all()
    });
    written
        .and_then(|()| std::fs::rename(tmp, path))
        .map_err(|e| {
            let _ = std::fs::remove_file(tmp);
            format!("cannot write {}: {e}", path.display())
        })
}

/// The file names a run writes into its folder: a new run removes an older
/// run's (nothing else), so its pictures and model never sit beside new metrics.
pub fn is_run_artifact(name: &str) -> bool {
    if let Some(written) = name.strip_suffix(".partial") {
        return is_run_artifact(written);
    }
    let numbered = |prefix: &str, suffix: &str| {
        name.strip_prefix(prefix)
            .and_then(|rest| rest.strip_suffix(suffix))
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    };
    matches!(name, "metrics.jsonl" | "losses.png" | "model.safetensors")
        || numbered("recon_epoch_", ".png")
        || numbered("samples_epoch_", ".png")
        || numbered("adam_after_", "_epochs.safetensors")
}
