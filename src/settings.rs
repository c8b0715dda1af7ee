//! Every training setting, in one table that the core's validation, the
//! command line's flags, the page's inputs and its URL parser all read:
//! `www/js/settings.json` (the page imports it as a JSON module; the core
//! embeds it here). A row holds a setting's default, range, group, page
//! input and flag, so a setting out of range gets one message everywhere and
//! adding a setting is one row plus the code that uses it.

use std::sync::LazyLock;

use serde::Deserialize;

use crate::config::ConfigError;

/// Which part of a run a setting shapes.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum Group {
    /// The network: changing it needs a new run.
    Architecture,
    /// How the KL is weighted: changed mid-run, it applies from the next step,
    /// and a saved model carries it back.
    Schedule,
    /// The optimiser and the data's order.
    Training,
}

/// One setting's row of the table.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Setting {
    /// The setting's name in JSON, the URL and the wasm API (camelCase).
    pub key: String,
    pub group: Group,
    /// `TrainConfig::default()`'s value (a test holds them equal).
    pub default: serde_json::Value,
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
    pub choices: Option<Vec<String>>,
    /// The command line's flag, the exercise's `train.py` name.
    pub flag: String,
    /// The flag's line in `vaelab train --help`.
    pub help: Option<String>,
    /// The page's control (a CSS selector) and the part of the range a page
    /// slider shows: the page's alone.
    pub input: String,
    pub slider: Option<serde_json::Value>,
}

pub const TABLE: &str = include_str!("../www/js/settings.json");

static SETTINGS: LazyLock<Vec<Setting>> =
    LazyLock::new(|| serde_json::from_str(TABLE).expect("www/js/settings.json is valid"));

/// The table's rows, in the page's order.
pub fn settings() -> &'static [Setting] {
    &SETTINGS
}

/// The row of `key`; every key the core names has one (a test checks).
pub fn setting(key: &str) -> &'static Setting {
    SETTINGS
        .iter()
        .find(|s| s.key == key)
        .unwrap_or_else(|| panic!("no setting {key} in www/js/settings.json"))
}

/// The keys of one group, in the table's order.
pub fn keys_of(group: Group) -> impl Iterator<Item = &'static str> {
    SETTINGS
        .iter()
        .filter(move |s| s.group == group)
        .map(|s| s.key.as_str())
}

impl Setting {
    /// `value` against this row: finite, an integer where asked, within [min, max];
    /// the refusal in the words the page uses too.
    pub fn problem(&self, value: f64) -> Option<String> {
        let (min, max) = (self.min.unwrap_or(f64::MIN), self.max.unwrap_or(f64::MAX));
        let above_min = if self.exclusive_min {
            value > min
        } else {
            value >= min
        };
        if value.is_finite() && (!self.integer || value.fract() == 0.0) && above_min && value <= max
        {
            return None;
        }
        let kind = if self.integer {
            "a whole number"
        } else {
            "a number"
        };
        let hint = self
            .hint
            .as_ref()
            .map(|h| format!(" ({h})"))
            .unwrap_or_default();
        Some(format!(
            "{value} is out of range: use {kind} from {}{min} to {max}{hint}",
            if self.exclusive_min { "above " } else { "" }
        ))
    }
}

/// `value` against the row of `field`.
pub fn check(field: &str, value: f64) -> Result<(), ConfigError> {
    let row = setting(field);
    match row.problem(value) {
        None => Ok(()),
        Some(message) => Err(ConfigError {
            field: &row.key,
            message,
        }),
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::{loss::LossMode, schedule::BetaSchedule};

    #[test]
    fn every_setting_of_the_config_has_a_row_and_the_choices_are_the_cores() {
        let config = serde_json::to_value(crate::config::TrainConfig::default()).unwrap();
        let fields: Vec<&String> = config.as_object().unwrap().keys().collect();
        let rows: Vec<&String> = settings().iter().map(|s| &s.key).collect();
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
        assert_eq!(setting("lossMode").choices.as_ref().unwrap(), &modes);
        assert_eq!(setting("betaMode").choices.as_ref().unwrap(), &schedules);
    }

    /// Numbers compare by value: the table writes `1`, the config `1.0`.
    fn same(a: &serde_json::Value, b: &serde_json::Value) -> bool {
        match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) => x == y,
            _ => a == b,
        }
    }

    #[test]
    fn the_configs_defaults_are_the_tables() {
        let text = crate::config::exact_json(&crate::config::TrainConfig::default()).unwrap();
        let config: serde_json::Value = serde_json::from_str(&text).unwrap();
        for s in settings() {
            assert!(
                same(&config[&s.key], &s.default),
                "{}: TrainConfig::default() has {}, the table {}",
                s.key,
                config[&s.key],
                s.default
            );
            if let Some(problem) = s.default.as_f64().and_then(|v| s.problem(v)) {
                panic!("{}'s default {problem}", s.key);
            }
        }
    }

    #[test]
    fn flags_are_the_exercises_snake_case_names() {
        for s in settings() {
            let snake: String = s
                .key
                .chars()
                .flat_map(|c| {
                    let lower = c.to_ascii_lowercase();
                    (c.is_ascii_uppercase().then_some('_').into_iter()).chain([lower])
                })
                .collect();
            // train.py's one exception: `--target_beta_val`.
            let expected = match snake.as_str() {
                "target_beta" => "--target_beta_val".to_string(),
                other => format!("--{other}"),
            };
            assert_eq!(s.flag, expected, "{}", s.key);
        }
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
