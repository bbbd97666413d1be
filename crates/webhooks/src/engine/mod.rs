//! The delivery engine: one task that claims stored callbacks, groups them
//! into POSTs and hands each POST to a request task, within the settings'
//! concurrency limit.
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

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, mpsc, watch};
use tokio_util::sync::CancellationToken;
use wabiz_domain::callbacks::{AttemptFailure, CallbackKind, CallbackOutcome, PendingCallback};
use wabiz_domain::clock::Clock;
use wabiz_domain::cluster::DeliveryShare;
use wabiz_domain::ports::Store;
use wabiz_domain::settings::application::ApplicationSettings;

use crate::backoff::retry_delay;
use crate::body::compose;
use crate::client;
use crate::metrics::{Delivered, Metrics};

/// Most callbacks of one POST (`webhooks.md` §1.2, Recommended).
pub const MAX_BATCH: usize = 50;
/// Most item bytes of one POST with several callbacks (receivers' body limits
/// start around 100 kB).
pub const MAX_BATCH_BYTES: usize = 64 * 1024;
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
/// Most response bytes read (the body is ignored; reading lets the
/// connection be reused).
const MAX_RESPONSE_BYTES: usize = 64 * 1024;

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

/// A finished request.
struct Done {
    seqs: Vec<i64>,
    kind: CallbackKind,
    result: Result<(), AttemptFailure>,
    /// Unix milliseconds.
    at: i64,
    /// How long the POST took.
    took: Duration,
}

/// A POST ready to go.
struct Batch {
    kind: CallbackKind,
    seqs: Vec<i64>,
    bytes: usize,
    /// Most callbacks it may take.
    cap: usize,
}

/// Reports a request task's end even if it panics, so that its concurrency
/// slot and callbacks are never lost.
struct Reporter {
    tx: mpsc::Sender<Done>,
    seqs: Vec<i64>,
    kind: CallbackKind,
    clock: Arc<dyn Clock>,
    started: std::time::Instant,
    result: Option<Result<(), AttemptFailure>>,
}

impl Reporter {
    fn report(mut self, result: Result<(), AttemptFailure>) {
        self.result = Some(result);
        // Dropped here: that sends it.
    }
}

impl Drop for Reporter {
    fn drop(&mut self) {
        let result = self.result.take().unwrap_or(Err(AttemptFailure::TaskFailed));
        let done = Done {
            seqs: std::mem::take(&mut self.seqs),
            kind: self.kind,
            result,
            at: self.clock.now_millis(),
            took: self.started.elapsed(),
        };
        // The channel has room for every request that can be in flight.
        let _ = self.tx.try_send(done);
    }
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
        let plain_http = url.get(..7).is_some_and(|scheme| scheme.eq_ignore_ascii_case("http://"));
        if plain_http && !self.config.allow_http {
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
            let reporter = Reporter {
                tx,
                seqs: batch.seqs,
                kind: batch.kind,
                clock,
                started: std::time::Instant::now(),
                result: None,
            };
            tokio::spawn(async move {
                let result = post(&client, &url, body).await;
                reporter.report(result);
            });
        }
    }

    /// Applies a finished request to the window; returns what to record.
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
                        subject: cb.subject,
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

/// Chooses the POSTs to start now from the window (oldest first), at most
/// `free` of them. A peer with a callback in flight (or not yet due) is
/// skipped entirely, so its callbacks never overtake each other; a peer's
/// callbacks may share one POST (in order). Callbacks without a peer have no
/// order.
///
/// The backlog that turns batching on counts every undelivered callback the
/// engine holds, in flight ones included: with sends trickling in (zero
/// receipt delays), only a few wait at any moment while the requests in
/// flight are busy, and counting those few alone sent them one per POST
/// (issue 7).
fn plan(window: &BTreeMap<i64, Slot>, now: i64, free: usize, limit: usize) -> Vec<Batch> {
    if free == 0 {
        return Vec::new();
    }
    let cap = if window.len() > limit { MAX_BATCH } else { 1 };
    let fits = |b: &Batch, kind: CallbackKind, size: usize| {
        b.kind == kind && b.seqs.len() < b.cap && b.bytes + size <= MAX_BATCH_BYTES
    };
    let mut batches: Vec<Batch> = Vec::new();
    let mut blocked: HashSet<&str> = HashSet::new();
    let mut batch_of: HashMap<&str, usize> = HashMap::new();
    for (seq, slot) in window {
        let peer = slot.cb.peer.as_str();
        let ordered = !peer.is_empty();
        if slot.in_flight || slot.cb.next_attempt_at > now {
            if ordered {
                blocked.insert(peer);
            }
            continue;
        }
        if ordered && blocked.contains(peer) {
            continue;
        }
        let kind = slot.cb.kind;
        let size = slot.cb.item.len() + slot.cb.contact.as_ref().map_or(0, String::len);
        // A callback that failed before goes alone.
        let alone = slot.cb.attempts > 0;
        let open_new = |batches: &mut Vec<Batch>| {
            (batches.len() < free).then(|| {
                batches.push(Batch { kind, seqs: Vec::new(), bytes: 0, cap: if alone { 1 } else { cap } });
                batches.len() - 1
            })
        };
        let target = match batch_of.get(peer).copied().filter(|_| ordered) {
            // A peer's callbacks stay in the POST its first one went into.
            Some(i) => (!alone && fits(&batches[i], kind, size)).then_some(i),
            None if alone => open_new(&mut batches),
            None => match batches.iter().position(|b| fits(b, kind, size)) {
                Some(i) => Some(i),
                None => open_new(&mut batches),
            },
        };
        match target {
            Some(i) => {
                batches[i].seqs.push(*seq);
                // The first item of a batch may exceed the byte budget alone.
                batches[i].bytes += size;
                if ordered {
                    batch_of.insert(peer, i);
                }
            }
            None if ordered => {
                blocked.insert(peer);
            }
            None => {}
        }
        if batches.len() == free && batches.iter().all(|b| b.seqs.len() >= b.cap) {
            break;
        }
    }
    batches
}

/// One attempt: only a 200 acknowledges.
async fn post(client: &reqwest::Client, url: &str, body: String) -> Result<(), AttemptFailure> {
    let response = client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await
        .map_err(|e| classify(&e))?;
    let status = response.status();
    drain(response).await;
    if status == reqwest::StatusCode::OK { Ok(()) } else { Err(AttemptFailure::Status(status.as_u16())) }
}

/// Reads (and drops) a bounded amount of the response body.
async fn drain(mut response: reqwest::Response) {
    let mut read = 0;
    while let Ok(Some(chunk)) = response.chunk().await {
        read += chunk.len();
        if read > MAX_RESPONSE_BYTES {
            break;
        }
    }
}

/// Why an attempt failed, without the URL (its query may hold the shared
/// secret): the kind, with the causes' texts (a TLS or DNS problem shows
/// there).
fn classify(e: &reqwest::Error) -> AttemptFailure {
    if e.is_timeout() {
        return AttemptFailure::Timeout;
    }
    let mut causes: Vec<String> = Vec::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let text = s.to_string();
        // Wrappers often repeat their cause's text.
        if !causes.iter().any(|t| t.contains(&text)) {
            causes.push(text);
        }
        source = s.source();
    }
    if e.is_connect() { AttemptFailure::Connect(causes) } else { AttemptFailure::Request(causes) }
}

/// Writes outcomes to the store, several requests' worth per transaction,
/// trying again while the database does not answer. A commit that released
/// claims wakes the engine: those callbacks (and retries already due, if the
/// commit was slow) can be claimed again. Deliveries alone free nothing.
async fn record(store: Arc<dyn Store>, mut rx: mpsc::Receiver<Vec<CallbackOutcome>>, wake: Arc<Notify>) {
    const TRIES: u32 = 20;
    while let Some(mut batch) = rx.recv().await {
        while batch.len() < 4096 {
            match rx.try_recv() {
                Ok(more) => batch.extend(more),
                Err(_) => break,
            }
        }
        let releases = batch.iter().any(|o| !matches!(o, CallbackOutcome::Delivered { .. }));
        for attempt in 1..=TRIES {
            match store.finish_callbacks(batch.clone()).await {
                Ok(()) => {
                    if releases {
                        wake.notify_one();
                    }
                    break;
                }
                Err(e) if attempt == TRIES => {
                    // Their claims lapse and they are claimed again: delivered
                    // ones may be sent twice (at-least-once), nothing is lost.
                    tracing::error!(error = %e, outcomes = batch.len(), "webhooks: could not record delivery outcomes");
                }
                Err(e) => {
                    tracing::warn!(error = %e, attempt, "webhooks: recording delivery outcomes failed; retrying");
                    tokio::time::sleep(Duration::from_millis(100 * u64::from(attempt))).await;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(seq: i64, peer: &str, kind: CallbackKind, due: i64, in_flight: bool) -> (i64, Slot) {
        let cb = PendingCallback {
            seq,
            kind,
            peer: peer.into(),
            subject: None,
            item: "{}".into(),
            contact: None,
            created_at: 0,
            attempts: 0,
            next_attempt_at: due,
            last_attempt_at: None,
            last_result: None,
        };
        (seq, Slot { cb, in_flight })
    }

    fn seqs(batches: &[Batch]) -> Vec<Vec<i64>> {
        batches.iter().map(|b| b.seqs.clone()).collect()
    }

    const S: CallbackKind = CallbackKind::Status;
    const M: CallbackKind = CallbackKind::Message;

    #[test]
    fn one_callback_per_post_while_the_backlog_is_small() {
        let w: BTreeMap<_, _> =
            [slot(1, "a", S, 0, false), slot(2, "b", S, 0, false), slot(3, "a", S, 0, false)].into();
        let b = plan(&w, 10, 6, 6);
        assert_eq!(seqs(&b), [vec![1], vec![2]], "a's second waits for its first");
    }

    #[test]
    fn callbacks_in_flight_count_toward_the_backlog() {
        // Five requests in flight (limit 6) and three new callbacks: eight
        // undelivered, more than the limit, so the three share the free slot.
        let mut w: BTreeMap<_, _> = (1..=5).map(|seq| slot(seq, &format!("f{seq}"), S, 0, true)).collect();
        w.extend([slot(6, "a", S, 0, false), slot(7, "b", S, 0, false), slot(8, "c", S, 0, false)]);
        assert_eq!(seqs(&plan(&w, 10, 1, 6)), [vec![6, 7, 8]]);
        // With fewer undelivered than the limit, one per POST.
        let small: BTreeMap<_, _> =
            [slot(1, "f", S, 0, true), slot(2, "a", S, 0, false), slot(3, "b", S, 0, false)].into();
        assert_eq!(seqs(&plan(&small, 10, 5, 6)), [vec![2], vec![3]]);
    }

    #[test]
    fn a_peer_waits_behind_its_own_callbacks() {
        // 1 is in flight; 2 is not due yet; 3 (a) and 4 (b) are behind them.
        let w: BTreeMap<_, _> = [
            slot(1, "a", S, 0, true),
            slot(2, "b", S, 500, false),
            slot(3, "a", S, 0, false),
            slot(4, "b", S, 0, false),
            slot(5, "c", S, 0, false),
        ]
        .into();
        assert_eq!(seqs(&plan(&w, 10, 5, 6)), [vec![5]]);
        assert!(plan(&w, 10, 0, 6).is_empty(), "no free slot, no POST");
    }

    #[test]
    fn callbacks_without_a_peer_have_no_order() {
        let w: BTreeMap<_, _> =
            [slot(1, "", CallbackKind::Error, 0, true), slot(2, "", CallbackKind::Error, 0, false)].into();
        assert_eq!(seqs(&plan(&w, 10, 5, 6)), [vec![2]]);
    }

    #[test]
    fn a_large_backlog_is_batched_by_kind_and_in_order() {
        let mut w = BTreeMap::new();
        for seq in 0..120 {
            let (k, v) = slot(seq, &format!("p{}", seq % 7), if seq == 3 { M } else { S }, 0, false);
            w.insert(k, v);
        }
        let b = plan(&w, 10, 2, 2);
        assert_eq!(b.len(), 2);
        assert_eq!(b[0].seqs.len(), MAX_BATCH);
        assert_eq!(b[1].kind, M);
        // p3's message went out alone; p3's later statuses must wait for it.
        assert_eq!(b[1].seqs, [3]);
        assert!(!b[0].seqs.iter().any(|s| s % 7 == 3 && *s > 3));
        assert!(b[0].seqs.windows(2).all(|p| p[0] < p[1]));
    }

    #[test]
    fn retried_callbacks_go_alone_and_batches_respect_the_byte_budget() {
        let mut w = BTreeMap::new();
        for seq in 0..40 {
            let (k, mut v) = slot(seq, &format!("p{seq}"), S, 0, false);
            if seq == 0 {
                v.cb.attempts = 3;
            }
            v.cb.item = "x".repeat(10_000);
            w.insert(k, v);
        }
        let b = plan(&w, 10, 3, 2);
        assert_eq!(b[0].seqs, [0], "a callback that failed before goes alone");
        assert!(b[1..].iter().all(|b| b.bytes <= MAX_BATCH_BYTES && b.seqs.len() == 6), "{:?}", seqs(&b));
    }
}
