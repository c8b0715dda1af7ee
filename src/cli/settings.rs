//! The training settings as `vaelab train` flags: one flag per row of the
//! settings table (`www/js/settings.json`), with the row's name, default,
//! range and help, so the command line never restates what the table says.

use clap::builder::{PossibleValuesParser, ValueParser};
use clap::parser::ValueSource;
use clap::{Arg, ArgMatches, Args, Command, FromArgMatches};
use serde_json::{Map, Value};
use vaelab::config::TrainConfig;
use vaelab::settings::{Setting, settings};

/// The run's settings, read from the flags (each absent one at the table's
/// default), and the flags the command line gave (`--resume` takes only some).
pub struct SettingArgs {
    pub config: TrainConfig,
    pub given: Vec<&'static Setting>,
}

/// A setting's flag: a choice among the row's names, or a number the row's
/// range accepts (refused at parse time in the core's words).
fn arg(s: &'static Setting) -> Arg {
    let long = s.flag.trim_start_matches("--");
    let default = match &s.default {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    let parser = match &s.choices {
        Some(choices) => ValueParser::new(PossibleValuesParser::new(
            choices.iter().map(String::as_str),
        )),
        None => ValueParser::new(move |text: &str| -> Result<f64, String> {
            let v: f64 = text
                .trim()
                .parse()
                .map_err(|_| format!("{text} is not a number"))?;
            s.problem(v).map_or(Ok(v), Err)
        }),
    };
    let arg = Arg::new(s.key.as_str())
        .long(long)
        .value_name(long.to_uppercase())
        .default_value(default)
        .value_parser(parser);
    // The row's help, or else what the exercise uses.
    match s.help.as_ref().or(s.hint.as_ref()) {
        Some(help) => arg.help(help.as_str()),
        None => arg,
    }
}

impl Args for SettingArgs {
    fn augment_args(cmd: Command) -> Command {
        settings().iter().fold(cmd, |cmd, s| cmd.arg(arg(s)))
    }

    fn augment_args_for_update(cmd: Command) -> Command {
        Self::augment_args(cmd)
    }
}

impl FromArgMatches for SettingArgs {
    fn from_arg_matches(m: &ArgMatches) -> Result<Self, clap::Error> {
        let mut fields = Map::new();
        let mut given = Vec::new();
        for s in settings() {
            if m.value_source(&s.key) == Some(ValueSource::CommandLine) {
                given.push(s);
            }
            let value = match s.choices {
                Some(_) => m.get_one::<String>(&s.key).map(|v| Value::from(v.as_str())),
                // A whole number reads as one: `usize` and `u64` fields refuse `4.0`.
                None => m.get_one::<f64>(&s.key).map(|&v| match s.integer {
                    true => Value::from(v as u64),
                    false => Value::from(v),
                }),
            };
            fields.insert(s.key.clone(), value.expect("every setting has a default"));
        }
        serde_json::from_value(Value::Object(fields))
            .map(|config| SettingArgs { config, given })
            .map_err(|e| clap::Error::raw(clap::error::ErrorKind::ValueValidation, e))
    }

    fn update_from_arg_matches(&mut self, m: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(m)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        settings: SettingArgs,
    }

    fn parse(args: &[&str]) -> Result<TrainConfig, String> {
        Cli::try_parse_from(std::iter::once("vaelab").chain(args.iter().copied()))
            .map(|c| c.settings.config)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn no_flags_is_the_default_config() {
        assert_eq!(parse(&[]).unwrap(), TrainConfig::default());
    }

    /// A flag at its default value counts as given; an absent one does not.
    #[test]
    fn the_flags_given_are_known() {
        let given = |args: &[&str]| {
            Cli::try_parse_from(std::iter::once("vaelab").chain(args.iter().copied()))
                .unwrap()
                .settings
                .given
                .iter()
                .map(|s| s.flag.as_str())
                .collect::<Vec<_>>()
        };
        assert!(given(&[]).is_empty());
        assert_eq!(given(&["--num_epochs", "20"]), ["--num_epochs"]);
        assert_eq!(given(&["--lr", "0.01", "--seed", "3"]).len(), 2);
    }

    #[test]
    fn every_flag_sets_its_field() {
        let c = parse(&[
            "--loss_mode",
            "vae",
            "--latent_size",
            "16",
            "--target_beta_val",
            "0.8",
            "--beta_mode",
            "cyclical",
            "--beta_cycles",
            "3",
            "--beta_ramp_fraction",
            "0.25",
            "--capacity_gamma",
            "10",
            "--capacity_max",
            "5",
            "--free_bits",
            "0.5",
            "--num_epochs",
            "2",
            "--batch_size",
            "64",
            "--lr",
            "0.003",
            "--seed",
            "7",
        ])
        .unwrap();
        assert_eq!(
            c,
            TrainConfig {
                loss_mode: vaelab::loss::LossMode::Vae,
                latent_size: 16,
                target_beta: 0.8,
                beta_mode: vaelab::schedule::BetaSchedule::Cyclical,
                beta_cycles: 3,
                beta_ramp_fraction: 0.25,
                capacity_gamma: 10.0,
                capacity_max: 5.0,
                free_bits: 0.5,
                num_epochs: 2,
                batch_size: 64,
                lr: 0.003,
                seed: 7,
            }
        );
    }

    #[test]
    fn a_value_out_of_range_is_named_by_its_flag_and_the_tables_range() {
        let e = parse(&["--num_epochs", "2.5"]).unwrap_err();
        assert!(
            e.contains("--num_epochs") && e.contains("a whole number from 1 to 10000"),
            "{e}"
        );
        let e = parse(&["--lr", "abc"]).unwrap_err();
        assert!(e.contains("--lr") && e.contains("not a number"), "{e}");
        let e = parse(&["--beta_mode", "cosine"]).unwrap_err();
        assert!(e.contains("cyclical") && e.contains("capacity"), "{e}");
    }
}
