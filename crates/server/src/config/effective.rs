//! `wabiz config`: the configuration `wabiz serve` would run with, each value
//! followed by where it came from. The output is itself a valid config file;
//! secrets are masked and their lines commented out.

use clap::ArgAction;

use super::file::{Parsed, Source, serve_command};

/// The original containers' variables `serve` reads as fall-backs.
const FALLBACKS: &[&str] = &[
    "WA_API_KEY",
    "WA_APP_MULTICONNECT",
    "WA_MASTER_NODE",
    "WA_VERSION",
    "WA_WEB_JWT_CRYPTO_KEY",
    "WA_WEB_SERVERNAME",
    "WEBAPP_HOSTNAME",
];

const MASK: &str = "********";

/// Renders the effective configuration. `env` looks up the fall-back
/// variables (only their names are shown).
pub fn render(parsed: &Parsed, env: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::from(
        "# The configuration `wabiz serve` runs with: each value, then where it came from\n\
         # (flag > environment > file > default). Secrets are masked.\n",
    );
    if let Some((path, _)) = &parsed.file {
        out.push_str(&format!("# Config file: {}\n", path.display()));
    }
    for arg in serve_command().get_arguments() {
        let Some(long) = arg.get_long() else { continue };
        if matches!(long, "help" | "version" | "config") {
            continue;
        }
        let id = arg.get_id().as_str();
        let raw = parsed.matches.get_raw(id).and_then(|mut v| v.next()).map(|v| v.to_string_lossy().into_owned());
        let line = match (matches!(arg.get_action(), ArgAction::SetTrue), raw) {
            (true, _) => format!("{long} = {}", parsed.matches.get_flag(id)),
            (false, Some(value)) => {
                let shown = if !arg.is_hide_env_values_set() {
                    value.clone()
                } else if id == "database" {
                    wabiz_store::redact_url(&value)
                } else {
                    MASK.to_owned()
                };
                // A masked value is commented out: read back, it would be wrong.
                let comment = if shown == value { "" } else { "# " };
                format!("{comment}{long} = {}", toml::Value::String(shown))
            }
            (false, None) => format!("# {long} ="),
        };
        let source = match parsed.source_of(id) {
            Source::Flag => "flag".to_owned(),
            Source::Environment(name) => format!("environment {name}"),
            Source::File(path) => format!("file {}", path.display()),
            Source::Default => "default".to_owned(),
            Source::Unset => "not set".to_owned(),
        };
        out.push_str(&format!("{line:<48} # {source}\n"));
    }
    let used: Vec<&str> = FALLBACKS.iter().copied().filter(|name| env(name).is_some()).collect();
    if !used.is_empty() {
        out.push_str(&format!("# Also read, as fall-backs of the original containers: {}\n", used.join(", ")));
    }
    out
}
