//! The delivery engine: one task that claims stored callbacks, groups them
//! into POSTs and hands each POST to a request task, within the settings'
//! concurrency limit.
//!
//! The loop (claiming, waking, the window, shutdown) is here; `plan` chooses
//! which held callbacks go into which POST, `attempt` makes one POST and
//! classifies what it got, and `recorder` writes the outcomes to the store.
//!
//! - **Order.** Callbacks of one peer (a customer's `wa_id`) go out in the
//!   order they were stored: while one of a peer's callbacks is in flight or
//!   waiting for a retry, its later ones wait too. A failed callback goes
//!   back to the database with its retry time, and its peer's later ones
//!   with it; the claim query keeps them behind it (`claim_callbacks`).
//!   Callbacks without a peer (errors) have no order.
//! - **Retries.** Anything but a 200 is a failure; the callback is retried
//!   after `min(n × callback_backoff_delay_ms, max_callback_backoff_delay_ms)`
//!   for its `n`-th consecutive failure, forever.
//! - **Batching.** One callback per POST while the backlog is small; once more
//!   callbacks are undelivered (waiting or in flight) than requests may be in
//!   flight, up to [`MAX_BATCH`] of one
//!   kind (and [`MAX_BATCH_BYTES`]) share a POST (`webhooks.md` §1.2). A
//!   callback that failed before goes alone, so one the receiver refuses
//!   cannot hold others back.
//! - **Bounded memory.** At most `window` callbacks are held in memory, and
//!   only ones ready to go or in flight; the rest (callbacks waiting for a
//!   retry among them) wait in the database however long the receiver is
//!   away.
//! - **Durability.** Outcomes are recorded by a second task in batches; a
//!   callback acknowledged just before a crash may be delivered again after
//!   the restart (at-least-once, as the original).

pub(crate) mod attempt;
mod plan;
mod recorder;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, mpsc, watch};
use tokio_util::sync::CancellationToken;
use wabiz_domain::callbacks::{CallbackKind, CallbackOutcome, PendingCallback};
use wabiz_domain::clock::Clock;
use wabiz_domain::cluster::DeliveryShare;
use wabiz_domain::ports::Store;
use wabiz_domain::settings::application::ApplicationSettings;

use crate::backoff::retry_delay;
use crate::body::compose;
use crate::client;
use crate::metrics::{Delivered, Metrics};
use attempt::{Done, Reporter, post};
use plan::plan;
pub use plan::{MAX_BATCH, MAX_BATCH_BYTES};
use recorder::record;
use wabiz_domain::events::{Event, EventBus};

/// Retry times remembered to wake up for (later ones are found by the poll).
const RETRY_TIMES: usize = 1024;
/// How long a claim lasts without renewal.
const LEASE_MS: i64 = 5 * 60 * 1000;
/// How often claims are renewed.
const RENEW_EVERY_MS: i64 = 60 * 1000;
/// Longest wait without looking at the database (other nodes' callbacks,
/// a missed wake-up).
const POLL: Duration = Duration::from_secs(1);
/// How long new callbacks may gather while requests are in flight.
const GATHER: Duration = Duration::from_millis(1);
/// How long requests in flight may finish at shutdown.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// This node's name, written on its claims.
    pub node: String,
    /// `--allow-http-webhooks`.
    pub allow_http: bool,
    /// One attempt's time limit (`webhooks.md` §1.2: 20 s).
    pub timeout: Duration,
    /// Most callbacks held in memory.
    pub window: usize,
    /// In a multiconnect deployment, this node's part of the concurrency
    /// limit (the limit holds deployment-wide); `None` for a single node.
    pub share: Option<watch::Receiver<DeliveryShare>>,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self { node: "wabiz".into(), allow_http: false, timeout: Duration::from_secs(20), window: 4096, share: None }
    }
}

pub struct Engine {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub settings: watch::Receiver<Arc<ApplicationSettings>>,
    pub webhook_ca: watch::Receiver<Option<Arc<str>>>,
    /// Producers ring this after storing callbacks.
    pub wake: Arc<Notify>,
    pub metrics: Arc<Metrics>,
    pub config: EngineConfig,
    /// Where each POST's result is told.
    pub events: Option<Arc<EventBus>>,
}

/// Prepares the queue at start, before anything produces callbacks: a single
/// node takes back the claims of its previous run (which may have crashed),
/// and `callback_persist: false` means what was pending is not delivered.
pub async fn prepare_queue(store: &dyn Store, persist: bool, multiconnect: bool) -> Result<(), String> {
    if multiconnect {
        // Other nodes are delivering: their claims and pending callbacks are
        // theirs. A failed node's claims are freed by the primary master.
        return Ok(());
    }
    if !persist {
        let dropped = store.clear_callbacks().await.map_err(|e| e.to_string())?;
        if dropped > 0 {
            tracing::info!(dropped, "callback_persist is false: pending callbacks of the last run were dropped");
        }
    }
    let released = store.release_callback_claims(None).await.map_err(|e| e.to_string())?;
    if released > 0 {
        tracing::info!(released, "resuming callbacks that were being delivered when the last run ended");
    }
    Ok(())
}

struct Slot {
    cb: PendingCallback,
    in_flight: bool,
}

/// The engine's mutable state, owned by its task.
struct State {
    window: BTreeMap<i64, Slot>,
    /// Requests in flight.
    requests: usize,
    /// Whether the last request failed (to log state changes, not every
    /// attempt).
    failing: bool,
    warned_http: bool,
    /// When callbacks this node failed are due again (earliest first).
    retry_at: BTreeSet<i64>,
}

impl Engine {
    pub async fn run(mut self, shutdown: CancellationToken) {
        let (done_tx, mut done_rx) = mpsc::channel::<Done>(256);
        let (outcomes_tx, outcomes_rx) = mpsc::channel::<Vec<CallbackOutcome>>(1024);
        let recorder = tokio::spawn(record(Arc::clone(&self.store), outcomes_rx, Arc::clone(&self.wake)));
        let mut client = self.client();
        let mut st = State {
            window: BTreeMap::new(),
            requests: 0,
            failing: false,
            warned_http: false,
            retry_at: BTreeSet::new(),
        };
        let mut maybe_more = true;
        let mut renewed_at = self.clock.now_millis();
        let mut poll = tokio::time::interval(POLL);
        poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);

        loop {
            if self.webhook_ca.has_changed().unwrap_or(false) {
                self.webhook_ca.borrow_and_update();
                client = self.client();
            }
            let now = self.clock.now_millis();
            // Renew before claiming more, so that this node never re-claims
            // (and overwrites) what it holds.
            if now - renewed_at >= RENEW_EVERY_MS {
                let held: Vec<i64> = st.window.keys().copied().collect();
                if !held.is_empty()
                    && let Err(e) = self.store.renew_callback_claims(&self.config.node, held, now + LEASE_MS).await
                {
                    tracing::warn!(error = %e, "webhooks: could not renew claims");
                }
                renewed_at = now;
            }
            while st.retry_at.first().is_some_and(|t| *t <= now) {
                st.retry_at.pop_first();
                maybe_more = true;
            }
            let settings = Arc::clone(&self.settings.borrow_and_update());
            let window = self.window(&settings);
            if !self.delivering() {
                self.hand_back(&mut st).await;
            } else if maybe_more && st.window.len() <= window / 2 {
                maybe_more = self.refill(&mut st, now, window).await;
            }
            if let Some(client) = &client {
                self.dispatch(&mut st, &settings, client, now, &done_tx);
            }
            self.metrics.held.store(st.window.len() as u64, std::sync::atomic::Ordering::Relaxed);

            let retry = st.retry_at.first().map(|t| Duration::from_millis(u64::try_from(t - now).unwrap_or(0)));
            tokio::select! {
                () = shutdown.cancelled() => break,
                done = done_rx.recv() => {
                    let Some(done) = done else { break };
                    let mut outcomes = self.finish(&mut st, &settings, done);
                    while let Ok(more) = done_rx.try_recv() {
                        outcomes.extend(self.finish(&mut st, &settings, more));
                    }
                    if outcomes_tx.send(outcomes).await.is_err() {
                        tracing::error!("webhooks: the outcome recorder stopped");
                    }
                }
                () = self.wake.notified() => {
                    maybe_more = true;
                    // Sends with zero receipt delays store their callbacks one
                    // at a time, each waking the engine: taken at once, each
                    // would leave in a POST of its own (twice the POSTs of the
                    // receipt worker's bursts, issue 7). While requests are in
                    // flight the receiver is busy anyway: let more gather.
                    if st.requests > 0 {
                        tokio::time::sleep(GATHER).await;
                    }
                }
                changed = self.settings.changed() => {
                    if changed.is_err() { break }
                }
                _ = poll.tick() => maybe_more = true,
                () = tokio::time::sleep(retry.unwrap_or(POLL)), if retry.is_some() => {}
            }
        }

        // Let requests in flight finish briefly so their outcomes are kept;
        // the rest stay pending and are sent again after the restart.
        let settings = Arc::clone(&self.settings.borrow());
        let grace = tokio::time::sleep(SHUTDOWN_GRACE);
        tokio::pin!(grace);
        while st.requests > 0 {
            tokio::select! {
                done = done_rx.recv() => match done {
                    Some(done) => {
                        let outcomes = self.finish(&mut st, &settings, done);
                        let _ = outcomes_tx.send(outcomes).await;
                    }
                    None => break,
                },
                () = &mut grace => break,
            }
        }
        drop(outcomes_tx);
        let _ = recorder.await;
        if let Err(e) = self.store.release_callback_claims(Some(&self.config.node)).await {
            tracing::warn!(error = %e, "webhooks: could not release claims at shutdown");
        }
    }

    fn client(&self) -> Option<reqwest::Client> {
        let ca = self.webhook_ca.borrow().clone();
        match client::build(ca.as_deref(), self.config.timeout, false) {
            Ok(c) => Some(c),
            Err(e) => {
                tracing::error!(error = %e, "webhooks: cannot build the HTTP client; callbacks wait");
                None
            }
        }
    }

    /// Whether this node delivers now (a node of a deployment that owns no
    /// shard does not).
    fn delivering(&self) -> bool {
        self.config.share.as_ref().is_none_or(|rx| rx.borrow().of_limit(usize::MAX) > 0)
    }

    /// The limit of requests in flight on this node.
    fn node_limit(&self, settings: &ApplicationSettings) -> usize {
        let limit = usize::try_from(settings.webhooks.max_concurrent_requests).unwrap_or(1).max(1);
        match &self.config.share {
            None => limit,
            Some(rx) => rx.borrow().of_limit(limit),
        }
    }

    /// How many callbacks this node holds at most: the whole window on its
    /// own; in a deployment, two rounds of full POSTs of its share, so that
    /// one node does not claim a burst that the others could help deliver.
    fn window(&self, settings: &ApplicationSettings) -> usize {
        match &self.config.share {
            None => self.config.window,
            Some(_) => (self.node_limit(settings) * MAX_BATCH * 2).clamp(1, self.config.window),
        }
    }

    /// Gives back the claims of callbacks held but not in flight, so that
    /// the nodes that deliver take them at once.
    async fn hand_back(&self, st: &mut State) {
        let idle: Vec<i64> = st.window.iter().filter(|(_, slot)| !slot.in_flight).map(|(seq, _)| *seq).collect();
        if idle.is_empty() {
            return;
        }
        match self.store.renew_callback_claims(&self.config.node, idle.clone(), 0).await {
            Ok(()) => {
                for seq in idle {
                    st.window.remove(&seq);
                }
            }
            Err(e) => tracing::warn!(error = %e, "webhooks: could not hand pending callbacks back"),
        }
    }

    /// Claims stored callbacks into the window; whether there may be more.
    async fn refill(&self, st: &mut State, now: i64, window: usize) -> bool {
        let room = window.saturating_sub(st.window.len());
        if room == 0 {
            return true;
        }
        match self.store.claim_callbacks(&self.config.node, now, now + LEASE_MS, room).await {
            Ok(claimed) => {
                let full = claimed.len() == room;
                for cb in claimed {
                    // Never replace what is held (it may be in flight).
                    st.window.entry(cb.seq).or_insert(Slot { cb, in_flight: false });
                }
                full
            }
            Err(e) => {
                tracing::warn!(error = %e, "webhooks: could not read pending callbacks");
                // Try again at the next poll.
                true
            }
        }
    }

    /// Starts as many POSTs as the limit allows.
    fn dispatch(
        &self,
        st: &mut State,
        settings: &ApplicationSettings,
        client: &reqwest::Client,
        now: i64,
        done: &mpsc::Sender<Done>,
    ) {
        // Without a URL, pending callbacks are held until one is set.
        let Some(url) = settings.webhooks.url.as_deref().filter(|u| !u.is_empty()) else { return };
        if crate::client::is_plain_http(url) && !self.config.allow_http {
            if !st.warned_http {
                tracing::warn!("webhooks: the URL is http:// but --allow-http-webhooks is off; callbacks wait");
                st.warned_http = true;
            }
            return;
        }
        st.warned_http = false;
        let limit = self.node_limit(settings);
        if limit == 0 {
            return;
        }
        let free = limit.saturating_sub(st.requests);
        let batches = plan(&st.window, now, free, limit);
        for batch in batches {
            let items: Vec<&PendingCallback> =
                batch.seqs.iter().filter_map(|s| st.window.get(s)).map(|slot| &slot.cb).collect();
            let body = compose(batch.kind, &items);
            for seq in &batch.seqs {
                if let Some(slot) = st.window.get_mut(seq) {
                    slot.in_flight = true;
                }
            }
            st.requests += 1;
            self.metrics.requests.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            self.metrics.in_flight.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let (client, url, tx, clock) = (client.clone(), url.to_owned(), done.clone(), Arc::clone(&self.clock));
            let reporter = Reporter::new(tx, batch.seqs, batch.kind, clock);
            tokio::spawn(async move {
                let result = post(&client, &url, body).await;
                reporter.report(result);
            });
        }
    }

    /// Applies a finished request to the window; returns what to record.
    /// (Its events are read from the window before it changes.)
    fn finish(&self, st: &mut State, settings: &ApplicationSettings, done: Done) -> Vec<CallbackOutcome> {
        use std::sync::atomic::Ordering::Relaxed;
        st.requests = st.requests.saturating_sub(1);
        self.metrics.in_flight.fetch_sub(1, Relaxed);
        let kind = match done.kind {
            CallbackKind::Status => "status_change",
            CallbackKind::Message => "inbound_message",
            CallbackKind::Error => "error",
            CallbackKind::Service => "service",
            CallbackKind::Contact => "contact_check",
        };
        let took = u64::try_from(done.took.as_millis()).unwrap_or(u64::MAX);
        self.metrics.observe_request(kind, done.result.as_ref().copied(), took);
        if let Some(events) = &self.events {
            events.publish_with(|| attempt_events(st, &done));
        }
        let mut outcomes = Vec::with_capacity(done.seqs.len());
        match done.result {
            Ok(()) => {
                if st.failing {
                    tracing::info!("webhooks: the receiver acknowledges again");
                    st.failing = false;
                }
                for seq in done.seqs {
                    let Some(slot) = st.window.remove(&seq) else { continue };
                    let cb = slot.cb;
                    self.metrics.delivered.fetch_add(1, Relaxed);
                    self.metrics.observe_latency(u64::try_from(done.at - cb.created_at).unwrap_or(0));
                    self.metrics.remember(Delivered {
                        seq,
                        kind: cb.kind.as_str(),
                        peer: cb.peer,
                        subject: cb.subject,
                        items: cb.item,
                        created_at: cb.created_at,
                        attempts: cb.attempts + 1,
                        delivered_at: done.at,
                        last_result: "HTTP 200",
                    });
                    outcomes.push(CallbackOutcome::Delivered { seq });
                }
            }
            Err(reason) => {
                if st.failing {
                    tracing::debug!(%reason, "webhooks: callback not acknowledged");
                } else {
                    tracing::warn!(%reason, "webhooks: callback not acknowledged; retrying with backoff");
                    st.failing = true;
                }
                self.metrics.failed_requests.fetch_add(1, Relaxed);
                let mut peers: HashSet<String> = HashSet::new();
                let first = done.seqs.first().copied().unwrap_or(i64::MAX);
                for seq in done.seqs {
                    // Back to the database with its retry time.
                    let Some(slot) = st.window.remove(&seq) else { continue };
                    let mut cb = slot.cb;
                    if !cb.peer.is_empty() {
                        peers.insert(cb.peer.clone());
                    }
                    cb.attempts = cb.attempts.saturating_add(1);
                    let delay = retry_delay(
                        cb.attempts,
                        settings.callback_backoff_delay_ms,
                        settings.max_callback_backoff_delay_ms,
                    );
                    let next_attempt_at = done.at.saturating_add(i64::try_from(delay.as_millis()).unwrap_or(i64::MAX));
                    st.retry_at.insert(next_attempt_at);
                    if st.retry_at.len() > RETRY_TIMES {
                        st.retry_at.pop_last();
                    }
                    self.metrics.failed_callbacks.fetch_add(1, Relaxed);
                    outcomes.push(CallbackOutcome::Failed {
                        seq,
                        attempts: cb.attempts,
                        at: done.at,
                        next_attempt_at,
                        result: reason.clone(),
                    });
                }
                // The peers' later callbacks wait behind the failed ones, in
                // the database (the claim keeps them there until then).
                let behind: Vec<i64> = st
                    .window
                    .range(first..)
                    .filter(|(_, slot)| !slot.in_flight && peers.contains(&slot.cb.peer))
                    .map(|(seq, _)| *seq)
                    .collect();
                for seq in behind {
                    st.window.remove(&seq);
                    outcomes.push(CallbackOutcome::Released { seq });
                }
            }
        }
        outcomes
    }
}

/// One `callback_attempt` event per customer of a finished POST (a POST may
/// carry several customers' callbacks), read from the window before the
/// outcome changes it.
fn attempt_events(st: &State, done: &Done) -> Vec<Event> {
    let mut by_peer: std::collections::BTreeMap<&str, (Vec<String>, usize, u32)> = std::collections::BTreeMap::new();
    for slot in done.seqs.iter().filter_map(|seq| st.window.get(seq)) {
        let entry = by_peer.entry(slot.cb.peer.as_str()).or_default();
        entry.0.extend(slot.cb.subject.clone());
        entry.1 += 1;
        entry.2 = entry.2.max(slot.cb.attempts + 1);
    }
    let result = match &done.result {
        Ok(()) => "HTTP 200".to_owned(),
        Err(failure) => failure.to_string(),
    };
    by_peer
        .into_iter()
        .map(|(peer, (messages, callbacks, attempt))| Event::CallbackAttempt {
            wa_id: (!peer.is_empty()).then(|| peer.to_owned()),
            messages,
            callbacks,
            delivered: done.result.is_ok(),
            result: result.clone(),
            attempt,
        })
        .collect()
}
