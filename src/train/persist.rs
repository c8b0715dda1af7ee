//! A trainer's model to and from SafeTensors bytes, with the settings it was
//! trained with in the file's metadata.

use std::collections::HashMap;

use super::{TrainError, Trainer};
use crate::checkpoint::CheckpointError;
use crate::config::TrainConfig;
use crate::loss::LossMode;
use crate::net::{Net, infer_architecture};
use crate::optim::adam;

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
        Ok(self.net().to_safetensors(meta).await?)
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
        self.optim = adam();
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
