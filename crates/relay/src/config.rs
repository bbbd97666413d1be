//! The relay's options (`--relay-…`, or `WABIZ_RELAY_…`), checked at start:
//! a missing or malformed one stops the server with a message naming it,
//! and the secrets among them never print.

use std::time::Duration;

use crate::graph::GraphConfig;
use crate::secret::Secret;

/// The options as given (flag or environment), before they are checked.
#[derive(Debug, Clone, Default)]
pub struct RelayOptions {
    pub phone_number_id: Option<String>,
    pub waba_id: Option<String>,
    pub access_token: Option<Secret>,
    pub app_secret: Option<Secret>,
    pub verify_token: Option<Secret>,
    pub pin: Option<Secret>,
    pub graph_version: Option<String>,
    pub graph_url: Option<String>,
    pub queue_limit: Option<u64>,
}

/// The relay's configuration, every value checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayConfig {
    /// Cloud's id of the business number.
    pub phone_number_id: String,
    /// The WhatsApp Business Account the number belongs to.
    pub waba_id: String,
    /// A system user's (or business) token with `whatsapp_business_messaging`.
    pub access_token: Secret,
    /// The Meta app's secret: webhook POSTs are signed with it.
    pub app_secret: Secret,
    /// What Meta's verification handshake must present.
    pub verify_token: Secret,
    /// The number's two-step verification PIN (registration).
    pub pin: Secret,
    /// The pinned Graph API version.
    pub graph_version: String,
    /// Where the Graph API is.
    pub graph_url: String,
    /// Most sends waiting for Cloud before a send answers 1016.
    pub queue_limit: u64,
}

/// The Graph API version the relay was written and tested against.
pub const DEFAULT_GRAPH_VERSION: &str = "v23.0";
pub const DEFAULT_GRAPH_URL: &str = "https://graph.facebook.com";
pub const DEFAULT_QUEUE_LIMIT: u64 = 100_000;

/// A relay option that stops the server.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("--{option} (or {env}) {why}")]
pub struct OptionError {
    pub option: &'static str,
    pub env: &'static str,
    pub why: &'static str,
}

fn problem(option: &'static str, env: &'static str, why: &'static str) -> OptionError {
    OptionError { option, env, why }
}

fn digits(value: Option<&str>, option: &'static str, env: &'static str) -> Result<String, OptionError> {
    let v = value.ok_or_else(|| problem(option, env, "is required with --network cloud"))?;
    if v.is_empty() || v.len() > 32 || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(problem(option, env, "must be the numeric id Meta shows (digits only)"));
    }
    Ok(v.to_owned())
}

fn secret(value: Option<&Secret>, option: &'static str, env: &'static str) -> Result<Secret, OptionError> {
    let v = value.ok_or_else(|| problem(option, env, "is required with --network cloud"))?;
    if v.expose().is_empty() || v.expose().chars().any(char::is_whitespace) {
        return Err(problem(option, env, "must be a value without spaces"));
    }
    Ok(v.clone())
}

impl RelayConfig {
    /// Checks every option; the first problem stops the server.
    pub fn from_options(o: &RelayOptions) -> Result<Self, OptionError> {
        let pin = secret(o.pin.as_ref(), "relay-pin", "WABIZ_RELAY_PIN")?;
        if pin.expose().len() != 6 || !pin.expose().bytes().all(|b| b.is_ascii_digit()) {
            return Err(problem("relay-pin", "WABIZ_RELAY_PIN", "must be the number's 6-digit two-step PIN"));
        }
        let graph_version = o.graph_version.clone().unwrap_or_else(|| DEFAULT_GRAPH_VERSION.to_owned());
        let version_ok =
            graph_version.strip_prefix('v').and_then(|v| v.split_once('.')).is_some_and(|(major, minor)| {
                [major, minor].iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
            });
        if !version_ok {
            return Err(problem(
                "relay-graph-version",
                "WABIZ_RELAY_GRAPH_VERSION",
                "must be a Graph API version such as v23.0",
            ));
        }
        let graph_url = o.graph_url.clone().unwrap_or_else(|| DEFAULT_GRAPH_URL.to_owned());
        let scheme_ok = ["https://", "http://"].iter().any(|s| graph_url.starts_with(s) && graph_url.len() > s.len());
        if !scheme_ok || graph_url.chars().any(char::is_whitespace) {
            return Err(problem("relay-graph-url", "WABIZ_RELAY_GRAPH_URL", "must be an http(s):// URL"));
        }
        Ok(Self {
            phone_number_id: digits(
                o.phone_number_id.as_deref(),
                "relay-phone-number-id",
                "WABIZ_RELAY_PHONE_NUMBER_ID",
            )?,
            waba_id: digits(o.waba_id.as_deref(), "relay-waba-id", "WABIZ_RELAY_WABA_ID")?,
            access_token: secret(o.access_token.as_ref(), "relay-access-token", "WABIZ_RELAY_ACCESS_TOKEN")?,
            app_secret: secret(o.app_secret.as_ref(), "relay-app-secret", "WABIZ_RELAY_APP_SECRET")?,
            verify_token: secret(o.verify_token.as_ref(), "relay-verify-token", "WABIZ_RELAY_VERIFY_TOKEN")?,
            pin,
            graph_version,
            graph_url: graph_url.trim_end_matches('/').to_owned(),
            queue_limit: match o.queue_limit {
                Some(0) => {
                    return Err(problem("relay-queue-limit", "WABIZ_RELAY_QUEUE_LIMIT", "must be at least 1"));
                }
                Some(n) => n,
                None => DEFAULT_QUEUE_LIMIT,
            },
        })
    }

    /// What the Graph client needs.
    pub fn graph(&self, timeout: Duration) -> GraphConfig {
        GraphConfig {
            url: self.graph_url.clone(),
            version: self.graph_version.clone(),
            phone_number_id: self.phone_number_id.clone(),
            access_token: self.access_token.clone(),
            timeout,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn complete() -> RelayOptions {
        RelayOptions {
            phone_number_id: Some("106540352242922".into()),
            waba_id: Some("102290129340398".into()),
            access_token: Some(Secret::new("EAAG-very-secret")),
            app_secret: Some(Secret::new("0123456789abcdef0123456789abcdef")),
            verify_token: Some(Secret::new("my-verify-token")),
            pin: Some(Secret::new("123456")),
            graph_version: None,
            graph_url: None,
            queue_limit: None,
        }
    }

    #[test]
    fn complete_options_give_the_pinned_defaults() {
        let c = RelayConfig::from_options(&complete()).unwrap();
        assert_eq!((c.graph_version.as_str(), c.graph_url.as_str()), ("v23.0", "https://graph.facebook.com"));
        let shown = format!("{c:?}");
        for secret in ["EAAG-very-secret", "0123456789abcdef", "my-verify-token", "123456"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
    }

    #[test]
    fn a_missing_or_malformed_option_is_named() {
        type Change = fn(&mut RelayOptions);
        let cases: [(Change, &str); 9] = [
            (|o| o.phone_number_id = None, "--relay-phone-number-id (or WABIZ_RELAY_PHONE_NUMBER_ID) is required"),
            (|o| o.waba_id = Some("12a".into()), "--relay-waba-id (or WABIZ_RELAY_WABA_ID) must be the numeric id"),
            (|o| o.access_token = None, "--relay-access-token"),
            (
                |o| o.app_secret = Some(Secret::new("two words")),
                "--relay-app-secret (or WABIZ_RELAY_APP_SECRET) must be a value without spaces",
            ),
            (|o| o.verify_token = Some(Secret::new("")), "--relay-verify-token"),
            (|o| o.pin = Some(Secret::new("12345")), "--relay-pin (or WABIZ_RELAY_PIN) must be the number's 6-digit"),
            (|o| o.graph_version = Some("latest".into()), "--relay-graph-version"),
            (|o| o.graph_version = Some("v23".into()), "--relay-graph-version"),
            (
                |o| o.graph_url = Some("graph.facebook.com".into()),
                "--relay-graph-url (or WABIZ_RELAY_GRAPH_URL) must be an http(s):// URL",
            ),
        ];
        for (change, named) in cases {
            let mut o = complete();
            change(&mut o);
            let e = RelayConfig::from_options(&o).unwrap_err().to_string();
            assert!(e.starts_with(named), "{e}");
            assert!(!e.contains("12345") && !e.contains("two words"), "no value in the message: {e}");
        }
    }
}
