//! The webhook receiver the bench delivers to: answers 200 at once, counts
//! status items, notes when the first and last arrived, and when the
//! `delivered` status of each probe message (recipients starting with
//! [`PROBE_PREFIX`]) arrived.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::Result;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use serde_json::Value;

/// Recipients of the probe's messages.
pub const PROBE_PREFIX: &str = "1631999";

#[derive(Default)]
struct Shared {
    statuses: AtomicU64,
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

async fn hook(State(shared): State<Arc<Shared>>, body: Bytes) -> &'static str {
    let now = Instant::now();
    shared.posts.fetch_add(1, Ordering::Relaxed);
    if let Ok(v) = serde_json::from_slice::<Value>(&body)
        && let Some(items) = v.get("statuses").and_then(Value::as_array)
    {
        shared.statuses.fetch_add(items.len() as u64, Ordering::Relaxed);
        shared.first.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert(now);
        *shared.last.lock().unwrap_or_else(|e| e.into_inner()) = Some(now);
        let probe = |s: &&Value| {
            s["status"] == "delivered" && s["recipient_id"].as_str().is_some_and(|r| r.starts_with(PROBE_PREFIX))
        };
        for s in items.iter().filter(probe) {
            if let Some(id) = s["id"].as_str() {
                shared.probes.lock().unwrap_or_else(|e| e.into_inner()).entry(id.to_owned()).or_insert(now);
            }
        }
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

    pub fn posts(&self) -> u64 {
        self.shared.posts.load(Ordering::Relaxed)
    }

    pub fn first_and_last(&self) -> (Option<Instant>, Option<Instant>) {
        (
            *self.shared.first.lock().unwrap_or_else(|e| e.into_inner()),
            *self.shared.last.lock().unwrap_or_else(|e| e.into_inner()),
        )
    }
}
