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
    /// Why no answer came (a refused connection, TLS, a timeout).
    pub failure: Option<String>,
    pub took_ms: u64,
}

/// Why no test callback was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotSent {
    /// `webhooks.url` is not set.
    NoUrl,
    /// The URL is `http://` and `--allow-http-webhooks` is off (deliveries wait).
    PlainHttp,
}

impl Tester {
    /// POSTs `body` to the configured URL once.
    pub async fn send(&self, body: String) -> Result<TestOutcome, NotSent> {
        let settings = Arc::clone(&self.settings.borrow());
        let url = settings.webhooks.url.as_deref().filter(|u| !u.is_empty()).ok_or(NotSent::NoUrl)?;
        if crate::client::is_plain_http(url) && !self.allow_http {
            return Err(NotSent::PlainHttp);
        }
        let ca = self.webhook_ca.borrow().clone();
        let started = Instant::now();
        let client = match crate::client::build(ca.as_deref(), self.timeout, false) {
            Ok(c) => c,
            Err(e) => return Ok(failed(format!("no HTTP client: {e}"), started)),
        };
        let sent = client.post(url).header(reqwest::header::CONTENT_TYPE, "application/json").body(body).send().await;
        let mut response = match sent {
            Ok(r) => r,
            Err(e) => return Ok(failed(classify(&e).to_string(), started)),
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
        Ok(TestOutcome {
            status: Some(status),
            acknowledged: status == 200,
            body: String::from_utf8_lossy(&bytes).into_owned(),
            failure: None,
            took_ms: elapsed_ms(started),
        })
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
