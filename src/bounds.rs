//! The range of every training setting, in one table that the core's
//! validation, the page's inputs and its URL parser all read:
//! `www/js/bounds.json` (the page imports it as a JSON module; the core
//! embeds it here). A setting out of range gets one message everywhere.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::Deserialize;

use crate::train::ConfigError;

/// One setting's row of the table.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Bound {
    pub min: Option<f64>,
    pub max: Option<f64>,
    #[serde(default)]
    pub integer: bool,
    /// The minimum itself is refused: the range is (min, max].
    #[serde(default)]
    pub exclusive_min: bool,
    /// The exercise's values, said after an out-of-range message.
    pub hint: Option<String>,
    /// The names an enumerated setting takes (its serde names in the core).
    /// (`slider`, the part of the range a page slider shows, is the page's alone.)
    pub choices: Option<Vec<String>>,
}

pub const TABLE: &str = include_str!("../www/js/bounds.json");

static BOUNDS: LazyLock<BTreeMap<String, Bound>> =
    LazyLock::new(|| serde_json::from_str(TABLE).expect("www/js/bounds.json is valid"));

/// The table, keyed by the settings' camelCase names.
pub fn bounds() -> &'static BTreeMap<String, Bound> {
    &BOUNDS
}

/// `value` against the row of `field`: finite, an integer where asked, within [min, max].
pub fn check(field: &'static str, value: f64) -> Result<(), ConfigError> {
    let b = &BOUNDS[field];
    let (min, max) = (b.min.unwrap_or(f64::MIN), b.max.unwrap_or(f64::MAX));
    let above_min = if b.exclusive_min {
        value > min
    } else {
        value >= min
    };
    if value.is_finite() && (!b.integer || value.fract() == 0.0) && above_min && value <= max {
        return Ok(());
    }
    let kind = if b.integer {
        "a whole number"
    } else {
        "a number"
    };
    let hint = b
        .hint
        .as_ref()
        .map(|h| format!(" ({h})"))
        .unwrap_or_default();
    Err(ConfigError {
        field,
        message: format!(
            "{value} is out of range: use {kind} from {}{min} to {max}{hint}",
            if b.exclusive_min { "above " } else { "" }
        ),
    })
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::{BetaSchedule, LossMode};

    #[test]
    fn every_setting_of_the_config_has_a_row_and_the_choices_are_the_cores() {
        let config = serde_json::to_value(crate::TrainConfig::default()).unwrap();
        let fields: Vec<&String> = config.as_object().unwrap().keys().collect();
        let rows: Vec<&String> = bounds().keys().collect();
        let (mut fields, mut rows) = (fields, rows);
        fields.sort();
        rows.sort();
        assert_eq!(fields, rows);
        let names = |v: Vec<serde_json::Value>| {
            v.into_iter()
                .map(|v| v.as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        };
        let modes = names(vec![
            serde_json::to_value(LossMode::Ae).unwrap(),
            serde_json::to_value(LossMode::Vae).unwrap(),
        ]);
        let schedules = names(vec![
            serde_json::to_value(BetaSchedule::Constant).unwrap(),
            serde_json::to_value(BetaSchedule::Linear).unwrap(),
            serde_json::to_value(BetaSchedule::Cyclical).unwrap(),
            serde_json::to_value(BetaSchedule::Capacity).unwrap(),
        ]);
        assert_eq!(bounds()["lossMode"].choices.as_ref().unwrap(), &modes);
        assert_eq!(bounds()["betaMode"].choices.as_ref().unwrap(), &schedules);
    }

    #[test]
    fn out_of_range_values_are_named_with_the_range() {
        assert!(check("numEpochs", 20.0).is_ok());
        for (field, value) in [
            ("numEpochs", -5.0),
            ("numEpochs", 2.5),
            ("batchSize", 1e9),
            ("targetBeta", -1.0),
            ("lr", f64::NAN),
            ("lr", 0.0),
        ] {
            let e = check(field, value).unwrap_err();
            assert_eq!(e.field, field);
            assert!(e.message.contains("out of range"), "{e}");
        }
        let e = check("latentSize", 0.0).unwrap_err().to_string();
        assert!(
            e.contains("from 1 to 4096") && e.contains("16, 128 and 1024"),
            "{e}"
        );
    }
}
