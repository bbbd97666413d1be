//! The webhook receiver the bench delivers to: answers 200 at once, counts
//! status items (by status) and inbound message items, notes when the first
//! and last arrived, and when the `delivered` status of each probe message
//! (recipients starting with [`PROBE_PREFIX`]) arrived.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::Result;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use serde::Deserialize;

/// Recipients of the probe's messages.
pub const PROBE_PREFIX: &str = "1631999";

#[derive(Default)]
struct Shared {
    statuses: AtomicU64,
    /// `failed` statuses (a message that will never be read).
    failed: AtomicU64,
    /// Inbound messages (`messages` items: customers writing in).
    messages: AtomicU64,
    posts: AtomicU64,
    first: Mutex<Option<Instant>>,
    last: Mutex<Option<Instant>>,
    /// Probe ids → when their `delivered` status arrived.
    probes: Mutex<HashMap<String, Instant>>,
}

pub struct Receiver {
    url: String,
    shared: Arc<Shared>,
}

/// The part of a callback body the receiver reads. The rest of each status
/// (conversation, pricing) is skipped by the parser without being built:
/// the receiver shares the machine with the server it measures, and
/// building every status as a `Value` tree cost it a seventh of the
/// server's CPU.
#[derive(Deserialize)]
struct Body<'a> {
    #[serde(borrow, default)]
    statuses: Vec<StatusItem<'a>>,
    /// Only counted: each item is skipped unread.
    #[serde(default)]
    messages: Vec<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
struct StatusItem<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
    #[serde(borrow)]
    status: Cow<'a, str>,
    #[serde(borrow, default)]
    recipient_id: Option<Cow<'a, str>>,
}

/// What one callback body holds.
#[derive(Debug, Default, PartialEq, Eq)]
struct Items {
    statuses: u64,
    failed: u64,
    messages: u64,
    /// The ids of the probe messages it reports `delivered`.
    probes: Vec<String>,
}

fn read_body(body: &[u8]) -> Items {
    let Ok(v) = serde_json::from_slice::<Body<'_>>(body) else { return Items::default() };
    let probe = |s: &&StatusItem<'_>| {
        s.status == "delivered" && s.recipient_id.as_deref().is_some_and(|r| r.starts_with(PROBE_PREFIX))
    };
    Items {
        statuses: v.statuses.len() as u64,
        failed: v.statuses.iter().filter(|s| s.status == "failed").count() as u64,
        messages: v.messages.len() as u64,
        probes: v.statuses.iter().filter(probe).map(|s| s.id.to_string()).collect(),
    }
}

async fn hook(State(shared): State<Arc<Shared>>, body: Bytes) -> &'static str {
    let now = Instant::now();
    shared.posts.fetch_add(1, Ordering::Relaxed);
    let Items { statuses, failed, messages, probes } = read_body(&body);
    if statuses + messages > 0 {
        shared.statuses.fetch_add(statuses, Ordering::Relaxed);
        shared.failed.fetch_add(failed, Ordering::Relaxed);
        shared.messages.fetch_add(messages, Ordering::Relaxed);
        shared.first.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert(now);
        *shared.last.lock().unwrap_or_else(|e| e.into_inner()) = Some(now);
    }
    for id in probes {
        shared.probes.lock().unwrap_or_else(|e| e.into_inner()).entry(id).or_insert(now);
    }
    "ok"
}

impl Receiver {
    pub async fn start() -> Result<Receiver> {
        let shared = Arc::new(Shared::default());
        let app = axum::Router::new().route("/hook", post(hook)).with_state(Arc::clone(&shared));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}/hook", listener.local_addr()?);
        tokio::spawn(async move { axum::serve(listener, app).await });
        Ok(Receiver { url, shared })
    }

    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// When the `delivered` status of a probe message arrived.
    pub fn delivered_at(&self, id: &str) -> Option<Instant> {
        self.shared.probes.lock().unwrap_or_else(|e| e.into_inner()).get(id).copied()
    }

    pub fn statuses(&self) -> u64 {
        self.shared.statuses.load(Ordering::Relaxed)
    }

    pub fn failed(&self) -> u64 {
        self.shared.failed.load(Ordering::Relaxed)
    }

    /// Inbound messages delivered.
    pub fn messages(&self) -> u64 {
        self.shared.messages.load(Ordering::Relaxed)
    }

    pub fn posts(&self) -> u64 {
        self.shared.posts.load(Ordering::Relaxed)
    }

    /// When the first and the last counted item (status or message) arrived.
    pub fn first_and_last(&self) -> (Option<Instant>, Option<Instant>) {
        (
            *self.shared.first.lock().unwrap_or_else(|e| e.into_inner()),
            *self.shared.last.lock().unwrap_or_else(|e| e.into_inner()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_statuses_and_failures_and_finds_delivered_probes() {
        let body = format!(
            r#"{{"statuses":[
                {{"id":"gBa","recipient_id":"{p}0001","status":"sent","timestamp":"1",
                  "conversation":{{"id":"c","origin":{{"type":"service"}}}},"pricing":{{"billable":true}}}},
                {{"id":"gBa","recipient_id":"{p}0001","status":"delivered","timestamp":"1"}},
                {{"id":"gBb","recipient_id":"16315560001","status":"delivered","timestamp":"1"}},
                {{"id":"gBc","recipient_id":"{p}0002","status":"read","timestamp":"2"}}]}}"#,
            p = PROBE_PREFIX
        );
        assert_eq!(
            read_body(body.as_bytes()),
            Items { statuses: 4, probes: vec!["gBa".to_owned()], ..Items::default() }
        );
        let failed = br#"{"statuses":[{"id":"gBd","recipient_id":"1","status":"failed","timestamp":"1","errors":[{"code":470}]}]}"#;
        assert_eq!(read_body(failed), Items { statuses: 1, failed: 1, ..Items::default() });
        assert_eq!(read_body(b"not json"), Items::default());
    }

    #[test]
    fn counts_inbound_messages() {
        let body = br#"{"contacts":[{"profile":{"name":"A"},"wa_id":"16315590001"}],
            "messages":[{"from":"16315590001","id":"ABx","text":{"body":"hi"},"timestamp":"1","type":"text"},
                        {"from":"16315590002","id":"ABy","type":"image","image":{"id":"m"},"timestamp":"1"}]}"#;
        assert_eq!(read_body(body), Items { messages: 2, ..Items::default() });
    }
}
