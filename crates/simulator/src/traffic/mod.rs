//! Generated traffic: simulated customers writing in at a rate
//! (`POST /simulator/traffic`, `GET|DELETE /simulator/traffic/{id}`).
//!
//! A run is stored (`traffic_runs`) and leased by one node, which generates
//! its messages through the same path as `POST /simulator/inbound`. The n-th
//! message's id is made from the run's id and n, so a run resumed after a
//! restart (or taken over by another node) goes on from what is stored and a
//! message made twice is refused by the store: nothing is delivered twice.

pub mod spec;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use wabiz_domain::WaError;
use wabiz_domain::events::Event;
use wabiz_domain::traffic::{TrafficRun, TrafficState, id_range, message_id};

use crate::control::SimulatorControl;
pub use spec::TrafficSpec;

/// How long a node's lease on a run lasts, and how often it is renewed.
const LEASE_MS: i64 = 10_000;
const RENEW: Duration = Duration::from_secs(2);
/// Most messages stored at once when a run is behind its rate.
const BURST: u64 = 32;

/// What the control plane and the runner share: the runner is woken when a
/// run starts, and this node's runs are cancelled at once when stopped here.
#[derive(Default)]
pub struct TrafficSignal {
    pub(crate) started: Notify,
    running: Mutex<HashMap<String, CancellationToken>>,
}

impl TrafficSignal {
    pub(crate) fn cancel(&self, id: &str) {
        if let Some(token) = self.running.lock().unwrap_or_else(|e| e.into_inner()).remove(id) {
            token.cancel();
        }
    }

    /// A token for running `id` here (cancelled by a stop or by the
    /// shutdown), unless it already runs here.
    fn take(&self, id: &str, shutdown: &CancellationToken) -> Option<CancellationToken> {
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        if running.contains_key(id) {
            return None;
        }
        let token = shutdown.child_token();
        running.insert(id.to_owned(), token.clone());
        Some(token)
    }

    fn done(&self, id: &str) {
        self.running.lock().unwrap_or_else(|e| e.into_inner()).remove(id);
    }
}

/// Runs the stored runs this node holds the lease of.
pub struct TrafficRunner {
    pub control: Arc<SimulatorControl>,
    /// This node's name, written on its leases.
    pub node: String,
}

impl TrafficRunner {
    pub async fn run(self, shutdown: CancellationToken) {
        let signal = Arc::clone(self.control.traffic_signal());
        let me = Arc::new(self);
        loop {
            match me.control.store().running_traffic_runs().await {
                Ok(runs) => {
                    for run in runs {
                        let Some(token) = signal.take(&run.id, &shutdown) else { continue };
                        let me = Arc::clone(&me);
                        tokio::spawn(async move {
                            let id = run.id.clone();
                            me.generate(run, token).await;
                            me.control.traffic_signal().done(&id);
                        });
                    }
                }
                Err(e) => tracing::warn!(error = %e, "traffic: could not read the runs"),
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = signal.started.notified() => {}
                () = tokio::time::sleep(RENEW) => {}
            }
        }
    }

    async fn lease(&self, id: &str) -> bool {
        let now = self.control.now_millis();
        match self.control.store().lease_traffic_run(id, &self.node, now, now + LEASE_MS).await {
            Ok(held) => held,
            Err(e) => {
                tracing::warn!(error = %e, run = %id, "traffic: could not renew the lease");
                false
            }
        }
    }

    /// Generates a run's messages at its rate until it is done, stopped,
    /// or its lease is lost.
    async fn generate(&self, run: TrafficRun, stop: CancellationToken) {
        let spec = match serde_json::from_str::<Value>(&run.spec)
            .ok()
            .and_then(|v| v.as_object().cloned())
            .map(|o| TrafficSpec::parse(&o))
        {
            Some(Ok(spec)) => spec,
            _ => {
                tracing::warn!(run = %run.id, "traffic: a stored run cannot be read; it is stopped");
                let _ = self
                    .control
                    .store()
                    .end_traffic_run(&run.id, TrafficState::Stopped, self.control.now_millis())
                    .await;
                return;
            }
        };
        if !self.lease(&run.id).await {
            return;
        }
        let store = self.control.store();
        let (from, to) = id_range(&run.id);
        let mut n = match store.traffic_progress(&from, &to).await {
            Ok(p) => p.generated,
            Err(e) => {
                tracing::warn!(error = %e, run = %run.id, "traffic: could not read the progress");
                return;
            }
        };
        let total = spec.total().unwrap_or(u64::MAX);
        tracing::info!(run = %run.id, from = n, "traffic: generating");
        // The schedule: message `base + k` is due `k / rate` seconds after `start`.
        let (mut start, mut base) = (tokio::time::Instant::now(), n);
        let mut renewed = tokio::time::Instant::now();
        while n < total {
            if stop.is_cancelled() {
                return;
            }
            if renewed.elapsed() >= RENEW {
                if !self.lease(&run.id).await {
                    tracing::info!(run = %run.id, "traffic: the run was stopped or taken over");
                    return;
                }
                renewed = tokio::time::Instant::now();
            }
            if self.control.network_down() {
                // Customers' messages do not arrive during an outage; the
                // rate starts again from the reconnection.
                tokio::select! {
                    () = stop.cancelled() => return,
                    () = tokio::time::sleep(Duration::from_millis(200)) => {}
                }
                (start, base) = (tokio::time::Instant::now(), n);
                continue;
            }
            let due = base + (start.elapsed().as_secs_f64() * spec.rate).floor() as u64 + 1;
            let upto = due.min(total).min(n + BURST);
            if upto > n {
                let mut batch = tokio::task::JoinSet::new();
                for k in n..upto {
                    let (control, body, id) = (Arc::clone(&self.control), spec.message(k), message_id(&run.id, k));
                    batch.spawn(async move { control.receive_generated(&body, id).await });
                }
                let mut failed = None;
                while let Some(done) = batch.join_next().await {
                    if let Ok(Err(e)) = done {
                        failed = Some(e);
                    }
                }
                match failed {
                    None => n = upto,
                    Some(e) => {
                        // Not registered, the database away: try again shortly.
                        tracing::warn!(run = %run.id, error = ?e.errors.first().and_then(|i| i.details.clone()), "traffic: a message could not be stored; retrying");
                        tokio::select! {
                            () = stop.cancelled() => return,
                            () = tokio::time::sleep(Duration::from_millis(500)) => {}
                        }
                        n = match store.traffic_progress(&from, &to).await {
                            Ok(p) => p.generated.max(n),
                            Err(_) => n,
                        };
                    }
                }
                continue;
            }
            // The spec bounds the rate; a delay past what `Duration` holds still never panics.
            let wait = Duration::try_from_secs_f64((n - base) as f64 / spec.rate).unwrap_or(Duration::MAX);
            let next_at = start.checked_add(wait).unwrap_or_else(|| start + Duration::from_secs(30 * 365 * 86_400));
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep_until(next_at) => {}
            }
        }
        if let Ok(true) = store.end_traffic_run(&run.id, TrafficState::Finished, self.control.now_millis()).await {
            tracing::info!(run = %run.id, generated = n, "traffic: finished");
            self.control.events().publish(Event::Traffic { id: run.id.clone(), state: "finished", generated: n });
        }
    }
}

/// The answer of `GET /simulator/traffic/{id}`.
pub fn view(run: &TrafficRun, generated: u64, pending: u64, webhook: bool, now_ms: i64) -> Result<Value, WaError> {
    let spec: Value = serde_json::from_str(&run.spec).map_err(|_| WaError::internal("A stored run cannot be read"))?;
    let until = run.ended_at.unwrap_or(now_ms);
    let secs = ((until - run.created_at).max(1)) as f64 / 1000.0;
    Ok(json!({
        "id": run.id,
        "state": run.state.as_str(),
        "spec": spec,
        "created_at": run.created_at,
        "ended_at": run.ended_at,
        "generated": generated,
        // Without a webhook URL callbacks are dropped, not delivered.
        "delivered": webhook.then(|| generated.saturating_sub(pending)),
        "pending_callbacks": pending,
        "rate_achieved": (generated as f64 / secs * 100.0).round() / 100.0,
    }))
}
