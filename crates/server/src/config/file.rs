//! `--config FILE`: `serve`'s options from a TOML file.
//!
//! The file's keys are the flags' names without `--` (`data-dir`, or
//! `data_dir`). Precedence is flag > environment > file > default: clap
//! parses the command line and the environment first, then each file value
//! whose option came from neither is handed to clap as if it were a flag and
//! parsed again, so a file value is checked by the same parser as the flag.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::parser::ValueSource;
use clap::{ArgAction, ArgMatches, CommandFactory as _, FromArgMatches as _};

use super::Cli;

/// Where an option's value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Flag,
    /// The environment variable's name.
    Environment(String),
    File(PathBuf),
    Default,
    /// No value: the option is off or left to the server's own choice.
    Unset,
}

/// The command line with the file applied, and what that took.
pub struct Parsed {
    pub cli: Cli,
    /// The subcommand's matches after the file was applied.
    pub matches: ArgMatches,
    /// The file that was read, and the option ids it supplied.
    pub file: Option<(PathBuf, Vec<String>)>,
}

/// Why the command line or the file was refused.
#[derive(Debug)]
pub enum ConfigError {
    /// clap's own error (it also covers `--help` and `--version`).
    Cli(clap::Error),
    /// A bad file: the message names the file and the key.
    File(String),
}

impl Parsed {
    /// Where the value of option `id` (clap's id: `data_dir`), one of the
    /// subcommand's options, came from.
    pub fn source_of(&self, id: &str) -> Source {
        match self.matches.value_source(id) {
            Some(ValueSource::CommandLine) => match &self.file {
                Some((path, ids)) if ids.iter().any(|i| i == id) => Source::File(path.clone()),
                _ => Source::Flag,
            },
            Some(ValueSource::EnvVariable) => Source::Environment(env_name(id).unwrap_or_default()),
            Some(ValueSource::DefaultValue) => Source::Default,
            _ => Source::Unset,
        }
    }
}

fn env_name(id: &str) -> Option<String> {
    let serve = serve_command();
    let arg = serve.get_arguments().find(|a| a.get_id() == id)?;
    arg.get_env().map(|e| e.to_string_lossy().into_owned())
}

/// `serve`'s options: the set of keys a file may hold.
pub fn serve_command() -> clap::Command {
    let cli = Cli::command();
    cli.find_subcommand("serve").cloned().unwrap_or_else(|| clap::Command::new("serve"))
}

/// Parses `argv` (program name first) and applies the `--config` file, if
/// the subcommand takes one and it is given.
pub fn parse(argv: Vec<OsString>) -> Result<Parsed, ConfigError> {
    // A first, lenient pass finds the subcommand, the file and what the
    // command line and environment set: a rule that the file completes
    // (`--tls-cert-file` here, `tls-key-file` there) must not fail it.
    let first = Cli::command().ignore_errors(true).try_get_matches_from(&argv).ok();
    let found = first.as_ref().map(|m| {
        let run = innermost(m);
        let path = run.matches.try_get_one::<PathBuf>("config").ok().flatten().cloned();
        (run, path)
    });
    let (full, file) = match found {
        Some((run, Some(path))) => {
            let FileArguments { flags, ids, secrets } = file_arguments(&path, &run.command, &run.matches)?;
            (with_file_flags(argv, &run.chain, flags), Some((path, ids, secrets)))
        }
        _ => (argv, None),
    };
    let matches = Cli::command().try_get_matches_from(&full).map_err(|e| match &file {
        None => ConfigError::Cli(e),
        Some((path, _, secrets)) => {
            let mut first = e.to_string().lines().next().unwrap_or_default().trim_start_matches("error: ").to_owned();
            for secret in secrets {
                first = first.replace(secret.as_str(), "***");
            }
            ConfigError::File(format!("{}: {first}", path.display()))
        }
    })?;
    let cli = Cli::from_arg_matches(&matches).map_err(ConfigError::Cli)?;
    Ok(Parsed { cli, matches: innermost(&matches).matches, file: file.map(|(path, ids, _)| (path, ids)) })
}

/// `argv` with the file's flags right after the innermost subcommand's
/// name, where they are options whatever follows (a `--`, a positional).
fn with_file_flags(argv: Vec<OsString>, chain: &[String], extra: Vec<String>) -> Vec<OsString> {
    let mut at = 1;
    for name in chain {
        if let Some(i) = argv.iter().skip(at).position(|a| a.to_str() == Some(name.as_str())) {
            at += i + 1;
        }
    }
    let mut full = argv;
    let tail = full.split_off(at.min(full.len()));
    full.extend(extra.into_iter().map(OsString::from));
    full.extend(tail);
    full
}

/// The subcommand that was run (`wabiz db status` → `status`).
struct Run {
    command: clap::Command,
    matches: ArgMatches,
    /// The names of the subcommands, outermost first (`["db", "status"]`).
    chain: Vec<String>,
}

fn innermost(matches: &ArgMatches) -> Run {
    let (mut command, mut current, mut chain) = (Cli::command(), matches.clone(), Vec::new());
    while let Some((name, sub)) = current.subcommand() {
        let (name, sub) = (name.to_owned(), sub.clone());
        command = command.find_subcommand(&name).cloned().unwrap_or_else(|| clap::Command::new("none"));
        chain.push(name);
        current = sub;
    }
    Run { command, matches: current, chain }
}

/// The file's values as flags (`--data-dir=…`) for the options that neither
/// the command line nor the environment set, and their ids.
fn file_arguments(path: &Path, subcommand: &clap::Command, given: &ArgMatches) -> Result<FileArguments, ConfigError> {
    let shown = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::File(format!("cannot read {shown}: {e}")))?;
    let table: toml::Table =
        text.parse().map_err(|e: toml::de::Error| ConfigError::File(format!("{shown}: {}", e.message())))?;
    let serve = serve_command();
    let (mut flags, mut ids, mut secrets) = (Vec::new(), Vec::new(), Vec::new());
    for (key, value) in &table {
        let name = key.replace('_', "-");
        let Some(arg) = serve.get_arguments().find(|a| a.get_long() == Some(name.as_str()) && name != "config") else {
            return Err(ConfigError::File(format!(
                "{shown}: unknown key '{key}' (the keys are `wabiz serve`'s options without the --, \
                 as `wabiz serve --help` lists them)"
            )));
        };
        let id = arg.get_id().as_str();
        if let Some(secret) = value.as_str().filter(|v| arg.is_hide_env_values_set() && !v.is_empty()) {
            secrets.push(secret.to_owned());
        }
        // A key for another command (`wabiz backup` reads only where the data is).
        if !subcommand.get_arguments().any(|a| a.get_id() == id) {
            continue;
        }
        if matches!(given.value_source(id), Some(ValueSource::CommandLine | ValueSource::EnvVariable)) {
            continue;
        }
        let is_switch = matches!(arg.get_action(), ArgAction::SetTrue);
        match (value, is_switch) {
            (toml::Value::Boolean(true), true) => flags.push(format!("--{name}")),
            (toml::Value::Boolean(false), true) => continue,
            (_, true) => {
                return Err(ConfigError::File(format!("{shown}: key '{key}' takes true or false")));
            }
            (toml::Value::String(s), false) => flags.push(format!("--{name}={s}")),
            (toml::Value::Integer(n), false) => flags.push(format!("--{name}={n}")),
            (toml::Value::Float(n), false) => flags.push(format!("--{name}={n}")),
            (toml::Value::Boolean(b), false) => flags.push(format!("--{name}={b}")),
            (toml::Value::Array(items), false) if takes_a_list(arg) => {
                let items: Option<Vec<&str>> = items.iter().map(toml::Value::as_str).collect();
                let Some(items) = items else {
                    return Err(ConfigError::File(format!("{shown}: key '{key}' takes a list of strings")));
                };
                flags.push(format!("--{name}={}", items.join(",")));
            }
            (_, false) => {
                let what = if takes_a_list(arg) { "a list of strings or a string" } else { "a string or a number" };
                return Err(ConfigError::File(format!("{shown}: key '{key}' takes {what}")));
            }
        }
        ids.push(id.to_owned());
    }
    Ok(FileArguments { flags, ids, secrets })
}

/// What a config file adds to the command line.
struct FileArguments {
    /// `--key=value`, for the options nothing else set.
    flags: Vec<String>,
    /// Their ids, to report the file as their source.
    ids: Vec<String>,
    /// The secrets the file holds, kept out of error messages.
    secrets: Vec<String>,
}

/// An option whose value is a comma-separated list (`value_name = "LIST"`),
/// which a file may also give as a TOML array.
fn takes_a_list(arg: &clap::Arg) -> bool {
    arg.get_value_names().is_some_and(|names| names.iter().any(|n| n.as_str() == "LIST"))
}
