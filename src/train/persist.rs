//! A trainer's model to and from SafeTensors bytes, with the settings it was
//! trained with in the file's metadata; and the whole state a run goes on
//! from: that file plus Adam's moments.

use std::collections::HashMap;

use super::{TrainError, Trainer};
use crate::adam::Adam;
use crate::checkpoint::CheckpointError;
use crate::config::TrainConfig;
use crate::loss::LossMode;
use crate::net::{Net, infer_architecture};
use burn::tensor::Device;

impl Trainer {
    /// The model as SafeTensors bytes in the exercise's PyTorch layout.
    pub async fn save(&self) -> Result<Vec<u8>, TrainError> {
        let mut meta = HashMap::new();
        meta.insert("producer".into(), "vaelab".into());
        meta.insert("loss_mode".into(), self.config.loss_mode.name().into());
        meta.insert("latent_size".into(), self.config.latent_size.to_string());
        meta.insert(
            "config".into(),
            serde_json::to_string(&self.config).unwrap_or_default(),
        );
        meta.insert("epochs_trained".into(), self.epoch.to_string());
        meta.insert("steps".into(), self.step.to_string());
        Ok(self.net().to_safetensors(meta).await?)
    }

    /// Adam's moments and step count as SafeTensors bytes: with the model
    /// file from [`save`](Self::save) taken at the same moment, all that
    /// [`resume`](Self::resume) needs. Read back asynchronously, as the
    /// model is, so a browser on WebGPU saves it too.
    pub async fn optimizer_state(&self) -> Result<Vec<u8>, TrainError> {
        Ok(match self.net() {
            Net::Ae(m) => self.optim.to_safetensors(m).await?,
            Net::Vae(m) => self.optim.to_safetensors(m).await?,
        })
    }

    /// The run saved in `model` (by [`save`](Self::save)) and `optimizer`
    /// (by [`optimizer_state`](Self::optimizer_state)), ready to go on with
    /// the epoch after the last one it finished: its settings as they were
    /// then, its weights, Adam's moments, its step count. A driver taking it
    /// replays the earlier epochs' shuffles and seeds the epoch's noise from
    /// the seed and the epoch, so the steps that follow are the ones the
    /// uninterrupted run takes.
    pub fn resume(model: &[u8], optimizer: &[u8], device: &Device) -> Result<Trainer, TrainError> {
        let config = TrainConfig::saved_in(model).ok_or_else(|| {
            TrainError::Argument(
                "the model file does not hold the settings it was trained with (not written by VAE Lab), so its run cannot be resumed".into(),
            )
        })?;
        let (epochs, steps) = match reached(model)? {
            (Some(epochs), Some(steps)) => (epochs, steps),
            (None, _) => return Err(unsaid("epochs_trained")),
            (_, None) => return Err(unsaid("steps")),
        };
        let mut trainer = Trainer::new(config, device)?;
        trainer.load(model)?;
        trainer.optim = trainer.optimizer_from(optimizer)?;
        trainer.set_epoch(epochs);
        trainer.step = steps;
        Ok(trainer)
    }

    /// A model file opened to be looked at and trained further: its
    /// architecture and, when VAE Lab wrote it, the schedule it was trained
    /// with, over `page`'s other settings; its weights; and the epoch and
    /// step it had reached (a file from the exercise's PyTorch code: the
    /// start), so that training goes on along its schedule, not from epoch 0.
    /// Adam starts afresh: its moments are not part of a model file.
    pub fn open(bytes: &[u8], page: &TrainConfig, device: &Device) -> Result<Trainer, TrainError> {
        let (loss_mode, latent_size) = infer_architecture(bytes)?;
        let schedule = TrainConfig::saved_in(bytes).unwrap_or_else(|| page.clone());
        let config = TrainConfig {
            loss_mode,
            latent_size,
            ..page.with_schedule_of(&schedule)
        };
        let (epochs, steps) = reached(bytes)?;
        let mut trainer = Trainer::new(config, device)?;
        trainer.load(bytes)?;
        trainer.set_epoch(epochs.unwrap_or(0));
        trainer.step = steps.unwrap_or(0);
        Ok(trainer)
    }

    /// Adam's state as [`optimizer_state`](Self::optimizer_state) wrote it,
    /// for this trainer's model.
    pub(super) fn optimizer_from(&self, optimizer: &[u8]) -> Result<Adam, TrainError> {
        let inner = self.device.clone().inner();
        match self.net() {
            Net::Ae(m) => Adam::from_safetensors(optimizer, m, &inner),
            Net::Vae(m) => Adam::from_safetensors(optimizer, m, &inner),
        }
        .map_err(|e| {
            TrainError::Argument(format!(
                "the saved optimiser state does not fit this model: {e}"
            ))
        })
    }

    /// Replace the weights with a saved model of the same architecture and
    /// restart Adam's moments (they are not part of the file).
    pub fn load(&mut self, bytes: &[u8]) -> Result<(), TrainError> {
        let (mode, latent) = infer_architecture(bytes)?;
        if mode != self.config.loss_mode || latent != self.config.latent_size {
            let described = |mode, latent| match mode {
                LossMode::Ae => format!("an AE with latent size {latent}"),
                LossMode::Vae => format!("a VAE with latent size {latent}"),
            };
            return Err(TrainError::Checkpoint(CheckpointError::Architecture {
                found: described(mode, latent),
                expected: described(self.config.loss_mode, self.config.latent_size),
            }));
        }
        let (net, _, _) = Net::from_safetensors(bytes, &self.device)?;
        self.net = Some(net);
        self.optim = Adam::default();
        Ok(())
    }
}

/// The epochs and steps a model file says it was trained for (`None`: it
/// does not say, as a PyTorch file does not).
fn reached(bytes: &[u8]) -> Result<(Option<usize>, Option<usize>), TrainError> {
    let meta = crate::checkpoint::metadata(bytes)?;
    let count = |key: &str| -> Result<Option<usize>, TrainError> {
        meta.get(key)
            .map(|v| {
                v.parse().map_err(|_| {
                    TrainError::Argument(format!("the model file's {key} is {v:?}, not a count"))
                })
            })
            .transpose()
    };
    let epochs = count("epochs_trained")?;
    let most = crate::settings::setting("numEpochs")
        .max
        .unwrap_or(f64::MAX);
    if let Some(n) = epochs.filter(|&n| n as f64 > most) {
        return Err(TrainError::Argument(format!(
            "the model file says it was trained for {n} epochs, more than a run may have ({most})"
        )));
    }
    Ok((epochs, count("steps")?))
}

fn unsaid(key: &str) -> TrainError {
    TrainError::Argument(format!(
        "the model file does not say its {key}, so its run cannot be resumed"
    ))
}

impl TrainConfig {
    /// The settings a model file was trained with, when `save` wrote them (a
    /// file from the exercise's PyTorch code has none): a reopened run keeps
    /// its schedule.
    pub fn saved_in(bytes: &[u8]) -> Option<TrainConfig> {
        let meta = crate::checkpoint::metadata(bytes).ok()?;
        serde_json::from_str(meta.get("config")?).ok()
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use burn::tensor::Device;

    #[test]
    fn a_saved_model_keeps_its_schedule() {
        let config = TrainConfig {
            loss_mode: LossMode::Vae,
            latent_size: 8,
            beta_mode: crate::schedule::BetaSchedule::Cyclical,
            beta_cycles: 3,
            beta_ramp_fraction: 0.25,
            free_bits: 0.5,
            ..Default::default()
        };
        let t = Trainer::new(config.clone(), &Device::flex()).unwrap();
        let bytes = pollster::block_on(t.save()).unwrap();
        assert_eq!(TrainConfig::saved_in(&bytes), Some(config));
        assert_eq!(TrainConfig::saved_in(b"not a model"), None);
    }

    /// An opened file goes on from the epoch and step it reached, under the
    /// schedule it was trained with and the page's other settings; a file
    /// that says nothing of them (PyTorch's) starts at epoch 0 under the
    /// page's schedule; a count that is not one is named.
    #[test]
    fn an_opened_model_keeps_its_epochs_steps_and_schedule() {
        let device = Device::flex();
        let trained = TrainConfig {
            loss_mode: LossMode::Vae,
            latent_size: 8,
            beta_mode: crate::schedule::BetaSchedule::Cyclical,
            beta_cycles: 3,
            num_epochs: 10,
            ..Default::default()
        };
        let mut t = Trainer::new(trained.clone(), &device).unwrap();
        t.set_epoch(3);
        t.step = 40;
        let bytes = pollster::block_on(t.save()).unwrap();
        let page = TrainConfig {
            loss_mode: LossMode::Ae,
            latent_size: 32,
            target_beta: 2.0,
            lr: 0.01,
            num_epochs: 12,
            ..Default::default()
        };
        let opened = Trainer::open(&bytes, &page, &device).unwrap();
        assert_eq!((opened.epoch(), opened.step), (3, 40));
        let expected = TrainConfig {
            lr: 0.01,
            num_epochs: 12,
            ..trained
        };
        assert_eq!(opened.config(), &expected);

        let with = |meta: &[(&str, &str)]| {
            let meta = meta
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            pollster::block_on(t.net().to_safetensors(meta)).unwrap()
        };
        let bare = Trainer::open(&with(&[]), &page, &device).unwrap();
        assert_eq!((bare.epoch(), bare.step), (0, 0));
        assert_eq!(bare.config().target_beta, 2.0);
        assert_eq!(bare.config().latent_size, 8);
        for (meta, says) in [
            (
                ("epochs_trained", "three"),
                "epochs_trained is \"three\", not a count",
            ),
            (
                ("epochs_trained", "20000"),
                "trained for 20000 epochs, more than a run may have (10000)",
            ),
            (("steps", "-1"), "steps is \"-1\", not a count"),
        ] {
            let e = Trainer::open(&with(&[meta]), &page, &device).err().unwrap();
            assert!(e.to_string().contains(says), "{e}");
        }
    }

    #[test]
    fn a_vae_file_loaded_into_an_ae_run_says_so() {
        let device = Device::flex();
        let config = |loss_mode| TrainConfig {
            loss_mode,
            latent_size: 8,
            ..Default::default()
        };
        let vae = Trainer::new(config(LossMode::Vae), &device).unwrap();
        let bytes = pollster::block_on(vae.save()).unwrap();
        let mut ae = Trainer::new(config(LossMode::Ae), &device).unwrap();
        let err = ae.load(&bytes).unwrap_err().to_string();
        assert!(
            err.contains("a VAE with latent size 8") && err.contains("an AE with latent size 8"),
            "{err}"
        );
    }
}
