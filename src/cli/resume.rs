//! A run's folder as the state it goes on from: after every epoch the model
//! (with its settings, epochs and steps) and Adam's moments are written
//! atomically; `--resume` reads them back and continues with the next epoch
//! exactly as the uninterrupted run would have.

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use vaelab::burn;
use vaelab::train::Trainer;

use super::artifacts::{is_run_artifact, write_atomic};
use super::settings::SettingArgs;
use vaelab::record::EpochRecord;

pub const MODEL_FILE: &str = "model.safetensors";
const METRICS_FILE: &str = "metrics.jsonl";

/// Adam's state that goes with a model of `epochs` finished epochs. Named by
/// the count so that a model file and the state beside it can never be from
/// different epochs: the state is written first, the model renamed over the
/// old one second, older states removed last.
fn optimizer_file(epochs: usize) -> String {
    format!("adam_after_{epochs}_epochs.safetensors")
}

/// Save what `--resume` needs, after the epoch just finished.
pub fn save(dir: &Path, trainer: &Trainer) -> Result<(), String> {
    let epochs = trainer.epoch();
    let adam = pollster::block_on(trainer.optimizer_state()).map_err(|e| e.to_string())?;
    write_atomic(&dir.join(optimizer_file(epochs)), &adam)?;
    let model = pollster::block_on(trainer.save()).map_err(|e| e.to_string())?;
    write_atomic(&dir.join(MODEL_FILE), &model)?;
    for entry in read_dir(dir)? {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("adam_after_") && name != optimizer_file(epochs) {
            remove(&entry.path())?;
        }
    }
    Ok(())
}

/// A fresh run in `dir`: an earlier run's files there are removed (only the
/// names a run writes), so that its pictures never pass for the new run's.
pub fn clear(dir: &Path) -> Result<usize, String> {
    let mut removed = 0;
    for entry in read_dir(dir)? {
        if is_run_artifact(&entry.file_name().to_string_lossy()) {
            remove(&entry.path())?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// The run saved in `dir`, its settings as saved (flags may repeat them;
/// only `--num_epochs` may change, to train further), and the metrics of its
/// finished epochs.
pub fn open(
    dir: &Path,
    settings: &SettingArgs,
    device: &Device,
) -> Result<(Trainer, Vec<EpochRecord>), String> {
    let model_path = dir.join(MODEL_FILE);
    let model = std::fs::read(&model_path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => format!(
            "--resume: {} has no {MODEL_FILE}, so there is nothing to resume (a run writes it after each finished epoch)",
            dir.display()
        ),
        _ => format!("cannot read {}: {e}", model_path.display()),
    })?;
    let epochs = vaelab::checkpoint::metadata(&model)
        .ok()
        .and_then(|m| m.get("epochs_trained")?.parse::<usize>().ok())
        .ok_or_else(|| {
            format!(
                "--resume: {} does not say how many epochs it was trained (not written by vaelab train)",
                model_path.display()
            )
        })?;
    let adam_path = dir.join(optimizer_file(epochs));
    let adam = std::fs::read(&adam_path).map_err(|e| {
        format!(
            "--resume: cannot read {} (Adam's state after epoch {epochs}, written beside the model): {e}",
            adam_path.display()
        )
    })?;
    let mut trainer = Trainer::resume(&model, &adam, device)
        .map_err(|e| format!("--resume: {}: {e}", model_path.display()))?;
    // The run's own command with --resume added is fine; a different value is not.
    let saved = serde_json::to_value(trainer.config()).map_err(|e| e.to_string())?;
    let asked = serde_json::to_value(&settings.config).map_err(|e| e.to_string())?;
    if let Some(s) = settings
        .given
        .iter()
        .find(|s| s.key != "numEpochs" && saved[&s.key] != asked[&s.key])
    {
        return Err(format!(
            "--resume goes on with the settings saved in {} ({} {}); {} cannot change (only --num_epochs, to train further)",
            model_path.display(),
            s.flag,
            saved[&s.key],
            s.flag
        ));
    }
    let asked = settings
        .given
        .iter()
        .any(|s| s.key == "numEpochs")
        .then_some(settings.config.num_epochs);
    match asked {
        Some(n) if n <= epochs => {
            return Err(format!(
                "--resume: the run in {} has trained {epochs} epochs already; --num_epochs must be more than {epochs} to train further",
                dir.display()
            ));
        }
        Some(n) => trainer.set_num_epochs(n).map_err(|e| e.to_string())?,
        None if trainer.is_finished() => {
            return Err(format!(
                "--resume: the run in {} has finished its {epochs} epochs; add --num_epochs N (N > {epochs}) to train further",
                dir.display()
            ));
        }
        None => {}
    }
    let records = finished_records(dir, epochs)?;
    Ok((trainer, records))
}

/// `metrics.jsonl` cut back to the epochs the saved model has finished (a
/// run stopped between writing an epoch's line and its model has one more).
fn finished_records(dir: &Path, epochs: usize) -> Result<Vec<EpochRecord>, String> {
    let path = dir.join(METRICS_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    let mut records = Vec::new();
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let record: EpochRecord = serde_json::from_str(line)
            .map_err(|e| format!("{} line {}: {e}", path.display(), n + 1))?;
        if record.epoch < epochs {
            records.push(record);
        }
    }
    let mut kept = String::new();
    for r in &records {
        kept.push_str(&serde_json::to_string(r).map_err(|e| e.to_string())?);
        kept.push('\n');
    }
    write_atomic(&path, kept.as_bytes())?;
    Ok(records)
}

pub fn metrics_path(dir: &Path) -> PathBuf {
    dir.join(METRICS_FILE)
}

fn read_dir(dir: &Path) -> Result<Vec<std::fs::DirEntry>, String> {
    std::fs::read_dir(dir)
        .and_then(|entries| entries.collect())
        .map_err(|e| format!("cannot list {}: {e}", dir.display()))
}

fn remove(path: &Path) -> Result<(), String> {
    std::fs::remove_file(path).map_err(|e| format!("cannot remove {}: {e}", path.display()))
}
