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
        let meta = crate::checkpoint::metadata(model)?;
        let count = |key: &str| -> Result<usize, TrainError> {
            meta.get(key).and_then(|v| v.parse().ok()).ok_or_else(|| {
                TrainError::Argument(format!(
                    "the model file does not say its {key}, so its run cannot be resumed"
                ))
            })
        };
        let (epochs, steps) = (count("epochs_trained")?, count("steps")?);
        let mut trainer = Trainer::new(config, device)?;
        trainer.load(model)?;
        let inner = trainer.device.clone().inner();
        let adam = match trainer.net() {
            Net::Ae(m) => Adam::from_safetensors(optimizer, m, &inner),
            Net::Vae(m) => Adam::from_safetensors(optimizer, m, &inner),
        };
        trainer.optim = adam.map_err(|e| {
            TrainError::Argument(format!(
                "the saved optimiser state does not fit this model: {e}"
            ))
        })?;
        trainer.set_epoch(epochs);
        trainer.step = steps;
        Ok(trainer)
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
