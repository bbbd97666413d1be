//! "Send a test callback" (`POST /wabiz/webhook/test`): one POST to the
//! configured URL with the rules real deliveries follow (the same trust
//! settings, time limit and `http://` rule), outside the queue, so that a
//! user sees at once what the receiver answers.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;
use wabiz_domain::settings::application::ApplicationSettings;

use crate::engine::attempt::classify;

/// Most bytes of the receiver's answer kept to show.
const SHOWN_BYTES: usize = 2048;

/// Sends test callbacks for the current settings.
pub struct Tester {
    pub settings: watch::Receiver<Arc<ApplicationSettings>>,
    pub webhook_ca: watch::Receiver<Option<Arc<str>>>,
    /// `--allow-http-webhooks`.
    pub allow_http: bool,
    /// One attempt's time limit, as for deliveries.
    pub timeout: Duration,
}

/// What the receiver did with the test callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestOutcome {
    /// The HTTP status it answered, if it answered.
    pub status: Option<u16>,
    /// Whether a real callback would count as delivered (only a 200 does).
    pub acknowledged: bool,
    /// The start of its answer's body (at most 2 KiB, as text).
    pub body: String,
    /// Why no answer came (a refused connection, TLS, a timeout), or why
    /// nothing was sent (no URL; an `http://` one the server may not call).
    pub failure: Option<String>,
    pub took_ms: u64,
}

impl Tester {
    /// POSTs `body` to the configured URL once. Nothing sent is an outcome
    /// too: the user sees why, as for a refused connection.
    pub async fn send(&self, body: String) -> TestOutcome {
        let started = Instant::now();
        let settings = Arc::clone(&self.settings.borrow());
        let Some(url) = settings.webhooks.url.as_deref().filter(|u| !u.is_empty()) else {
            return failed("not sent: no webhook URL is set (webhooks.url)".into(), started);
        };
        if crate::client::is_plain_http(url) && !self.allow_http {
            let why = "not sent: the URL is http:// and the server runs without --allow-http-webhooks (callbacks wait)";
            return failed(why.into(), started);
        }
        let ca = self.webhook_ca.borrow().clone();
        let client = match crate::client::build(ca.as_deref(), self.timeout, false) {
            Ok(c) => c,
            Err(e) => return failed(format!("no HTTP client: {e}"), started),
        };
        let sent = client.post(url).header(reqwest::header::CONTENT_TYPE, "application/json").body(body).send().await;
        let mut response = match sent {
            Ok(r) => r,
            Err(e) => return failed(classify(&e).to_string(), started),
        };
        let status = response.status().as_u16();
        let mut bytes = Vec::new();
        while bytes.len() < SHOWN_BYTES {
            match response.chunk().await {
                Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
                _ => break,
            }
        }
        bytes.truncate(SHOWN_BYTES);
        TestOutcome {
            status: Some(status),
            acknowledged: status == 200,
            body: String::from_utf8_lossy(&bytes).into_owned(),
            failure: None,
            took_ms: elapsed_ms(started),
        }
    }
}

fn failed(why: String, started: Instant) -> TestOutcome {
    TestOutcome {
        status: None,
        acknowledged: false,
        body: String::new(),
        failure: Some(why),
        took_ms: elapsed_ms(started),
    }
}

fn elapsed_ms(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tester(url: Option<&str>, allow_http: bool) -> Tester {
        let mut settings = ApplicationSettings::default();
        settings.webhooks.url = url.map(str::to_owned);
        Tester {
            settings: watch::channel(Arc::new(settings)).1,
            webhook_ca: watch::channel(None).1,
            allow_http,
            timeout: Duration::from_secs(1),
        }
    }

    /// An `http://` URL kept from a run with `--allow-http-webhooks`: the
    /// settings refuse to store one otherwise, so only a restart without the
    /// flag gets here, and deliveries wait as the test says.
    #[tokio::test]
    async fn what_deliveries_would_not_do_is_not_done_and_said_so() {
        let plain = tester(Some("http://127.0.0.1:9/hook"), false).send("{}".into()).await;
        assert_eq!((plain.status, plain.acknowledged), (None, false));
        assert!(plain.failure.as_deref().is_some_and(|f| f.contains("--allow-http-webhooks")), "{plain:?}");
        let none = tester(None, true).send("{}".into()).await;
        assert!(none.failure.as_deref().is_some_and(|f| f.contains("no webhook URL")), "{none:?}");
    }
}
