//! `vaelab train`: one run of the exercise, with its artefacts.

use std::path::PathBuf;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use vaelab::train::{RECON_COUNT, SAMPLE_COUNT, TrainError};
use vaelab::{
    dataset::Dataset, dataset::Images, driver::Budget, driver::EpochDriver, grid, loss::LossMode,
    train::Trainer,
};

use super::artifacts::{append_jsonl, write_png};
use super::settings::SettingArgs;
use super::{DataArgs, DeviceArgs, data, plot, resume};
use vaelab::record::EpochRecord;

#[derive(clap::Args)]
pub struct TrainArgs {
    /// Folder for metrics.jsonl, the PNGs, model.safetensors and Adam's state,
    /// all written after every epoch (created if missing; an earlier run's files
    /// there are replaced).
    #[arg(long = "log_dir")]
    log_dir: PathBuf,
    /// Go on with the run in --log_dir from its last finished epoch, with its
    /// saved settings, weights and Adam's moments (--num_epochs may raise its length).
    #[arg(long)]
    resume: bool,
    #[command(flatten)]
    settings: SettingArgs,
    /// Train on the first N training images only (quick runs).
    #[arg(long)]
    limit: Option<usize>,
    /// Read losses back from the device every K steps.
    #[arg(long = "metrics_every", default_value_t = 10)]
    metrics_every: usize,
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    device: DeviceArgs,
}

pub fn run(args: TrainArgs) -> Result<(), String> {
    args.settings.config.validate().map_err(flag_error)?;
    let mut data = data::load(&args.data.path())?;
    if let Some(n) = args.limit {
        if n == 0 {
            return Err("--limit must be at least 1".into());
        }
        data.train.truncate(n);
    }
    // Held on the host: the CLI's devices take their batches from there.
    let data = Dataset::from(data);
    let device = args.device.init()?;
    let dir = &args.log_dir;
    let (trainer, mut records) = if args.resume {
        let (trainer, records) = resume::open(dir, &args.settings, &device)?;
        eprintln!(
            "resuming {} after epoch {} of {}",
            dir.display(),
            trainer.epoch(),
            trainer.config().num_epochs
        );
        (trainer, records)
    } else {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        if resume::clear(dir)? > 0 {
            eprintln!("replacing the earlier run in {}", dir.display());
        }
        let trainer =
            Trainer::new(args.settings.config.clone(), &device).map_err(|e| e.to_string())?;
        (trainer, Vec::new())
    };
    let config = trainer.config().clone();
    let metrics_path = resume::metrics_path(dir);
    eprintln!(
        "{} latent {} ({} parameters), {}, {} train / {} test images, {:?} device",
        config.loss_mode.name(),
        config.latent_size,
        trainer.net().num_params(),
        config.describe_schedule(),
        data.train.len(),
        data.test.len(),
        args.device.device,
    );

    let n_train = data.train.len();
    let steps_per_epoch = n_train.div_ceil(config.batch_size);
    let bar = ProgressBar::new((n_train * config.num_epochs) as u64);
    bar.set_position((n_train * trainer.epoch()) as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} images  {per_sec}  ETA {eta}  {msg}")
            .expect("valid template"),
    );
    let recon_idx: Vec<usize> = (0..RECON_COUNT.min(data.test.len())).collect();
    let budget = Budget::Steps(args.metrics_every.max(1));
    let started = Instant::now();
    let clock = || started.elapsed().as_secs_f64() * 1e3;
    let mut driver = EpochDriver::new(trainer);
    while !driver.is_finished() {
        // Every finished epoch is saved before the next call.
        let epochs_saved = driver.trainer().epoch();
        let progress = pollster::block_on(driver.advance(&data, budget, &clock))
            .map_err(|e| stopped(&bar, dir, epochs_saved, e))?;
        bar.inc(progress.steps.iter().map(|m| m.batch as u64).sum());
        if let Some(m) = progress.steps.last() {
            bar.set_message(format!(
                "epoch {}/{}  recon {:.1}  kl {:.1}",
                m.epoch + 1,
                config.num_epochs,
                m.recon,
                m.kl
            ));
        }
        let (Some(report), Some(seconds)) = (progress.epoch_end, progress.epoch_seconds) else {
            continue;
        };
        let epoch = report.epoch;
        let record = EpochRecord::new(&report, seconds);
        let weight = match record.capacity {
            Some(c) => format!("C {c:.2} nats"),
            None => format!("beta {:.3}", record.beta),
        };
        let line = format!(
            "epoch {epoch:>2}  {weight}  train recon {:8.3} kl {:7.3}  test recon {:8.3} kl {:7.3}  active units {}/{}  {:.1}s",
            record.train_recon,
            record.train_kl,
            record.test_recon,
            record.test_kl,
            record.active_units,
            config.latent_size,
            record.seconds
        );
        // A hidden bar (output not a terminal, e.g. a log file) drops its
        // println: the epoch lines must reach the log all the same.
        if bar.is_hidden() {
            eprintln!("{line}");
        } else {
            bar.println(line);
        }
        append_jsonl(&metrics_path, &record)?;
        records.push(record);

        let trainer = driver.trainer();
        let (originals, recon) = pollster::block_on(trainer.reconstruct(&data.test, &recon_idx))
            .map_err(|e| e.to_string())?;
        let (w, h, rgba) = grid::recon_pairs_rgba(&originals, &recon, 6);
        write_png(&dir.join(format!("recon_epoch_{epoch:02}.png")), w, h, rgba)?;
        if config.loss_mode == LossMode::Vae {
            let samples =
                pollster::block_on(trainer.sample(SAMPLE_COUNT)).map_err(|e| e.to_string())?;
            let (w, h, rgba) = grid::samples_rgba(&samples, 10);
            write_png(
                &dir.join(format!("samples_epoch_{epoch:02}.png")),
                w,
                h,
                rgba,
            )?;
        }
        let (w, h, rgba) = plot::losses_png(
            trainer.history(),
            &records,
            steps_per_epoch,
            config.loss_mode == LossMode::Vae,
        );
        write_png(&dir.join("losses.png"), w, h, rgba)?;
        resume::save(dir, trainer)?;
    }
    bar.finish_and_clear();
    eprintln!("wrote {}", dir.display());
    Ok(())
}

/// A setting the core refuses, named by its flag (the table's row).
fn flag_error(e: vaelab::config::ConfigError) -> String {
    format!("{}: {}", vaelab::settings::setting(e.field).flag, e.message)
}

/// Training stopped (a NaN loss, a device error): what is kept, and how to go on.
fn stopped(bar: &ProgressBar, dir: &std::path::Path, epochs_saved: usize, e: TrainError) -> String {
    bar.abandon();
    match epochs_saved {
        0 => format!("{e}. No epoch had finished, so no model was saved"),
        n => format!(
            "{e}. The model and Adam's state after epoch {n} are kept in {}; `--resume` goes on from there",
            dir.display()
        ),
    }
}
