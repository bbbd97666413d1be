//! Receipts: the simulated network moves every accepted outbound message on
//! (`steps.rs` says how), either at acceptance or later in its worker.
//!
//! The next step of each message is stored with it (`next_event_at`), so the
//! work survives a crash or restart: the worker simply picks up what is due.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tokio_util::sync::CancellationToken;
use wabiz_domain::callbacks::Outbox;
use wabiz_domain::clock::Clock;
use wabiz_domain::cluster::{ClusterStore, ShardScope};
use wabiz_domain::events::{Event, EventBus};
use wabiz_domain::messages::OutMessageCounters;
use wabiz_domain::ports::{DueMessage, MessageRecord, Store, StoreError, Transition};

use crate::chaos::Chaos;
use crate::links::LinkFetcher;
use crate::steps::{Delays, build_steps};

/// What the stored steps reached, for `out_message_*`.
fn reached(steps: &[Transition]) -> OutMessageCounters {
    let reached = OutMessageCounters::default();
    for t in steps.iter().filter(|t| t.moves()) {
        reached.add(t.status, 1);
    }
    reached
}

/// The events of stored steps: each status a message reached, and the
/// replies stored with them.
pub(crate) fn step_events(due: &[DueMessage], steps: &[Transition]) -> Vec<Event> {
    let peer_of: std::collections::HashMap<&str, &str> = due.iter().map(|d| (d.id.as_str(), d.peer.as_str())).collect();
    let mut events = Vec::with_capacity(steps.len());
    for t in steps.iter().filter(|t| t.moves()) {
        let wa_id = peer_of.get(t.id.as_str()).copied().unwrap_or_default().to_owned();
        events.push(Event::MessageStatus { id: t.id.clone(), wa_id, status: t.status, errors: t.errors.clone() });
        if let Some(reply) = &t.reply {
            events.push(Event::MessageInbound {
                id: reply.id.clone(),
                wa_id: reply.peer.clone(),
                kind: reply.kind.clone(),
            });
        }
    }
    events
}

/// Applies due steps until shut down.
pub struct ReceiptWorker {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub delays: Delays,
    pub wake: Arc<Notify>,
    /// The registered business number (replies quote messages it sent).
    pub business: Arc<dyn Fn() -> Option<String> + Send + Sync>,
    /// Where status callbacks and replies go.
    pub outbox: Outbox,
    /// Downloads media sent by link before it is `sent`.
    pub links: Option<Arc<LinkFetcher>>,
    /// What the stored steps reached (`out_message_*`).
    pub counters: Arc<OutMessageCounters>,
    /// In a multiconnect deployment: only the shards this node owns.
    pub shards: Option<Shards>,
    /// Where each step is told.
    pub events: Arc<EventBus>,
    /// During a chaos outage the worker waits.
    pub chaos: Arc<Chaos>,
}

/// The worker's rules applied at acceptance: with zero delays a message is
/// stored already `read` (or however far its customer takes it at once),
/// with the callback reporting its statuses, in the one write that accepts
/// it. The worker would do the same a moment later, after reading the
/// message back and updating it; this saves that round trip.
pub(crate) struct SettleAtOnce {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    delays: Delays,
    wake: Arc<Notify>,
    outbox: Outbox,
    counters: Arc<OutMessageCounters>,
    events: Arc<EventBus>,
}

impl SettleAtOnce {
    /// Stores `m` (as accepted) with the steps due now and their callbacks;
    /// `Ok(false)` when nothing was stored because no step is due at once,
    /// or the first needs work first (a media link to fetch): the caller
    /// then stores the message and the worker moves it on.
    pub(crate) async fn store_settled(&self, m: &MessageRecord, business: &str) -> Result<bool, StoreError> {
        let now = self.clock.now_millis();
        if m.next_event_at.is_none_or(|at| at > now) {
            return Ok(false);
        }
        let due = m.due();
        // The link is fetched by the worker, off the request path.
        if LinkFetcher::needed(&due) {
            return Ok(false);
        }
        let due = [due];
        let steps = match build_steps(self.store.as_ref(), &self.outbox, business, self.delays, &due, now).await {
            Ok(steps) => steps,
            Err(e) => {
                // The worker will try again.
                tracing::warn!(error = %e, "simulated network: could not open a conversation at acceptance");
                return Ok(false);
            }
        };
        if steps.is_empty() || steps.iter().any(|t| !t.moves()) {
            return Ok(false);
        }
        let reached = reached(&steps);
        let later = steps.last().and_then(|t| t.next_event_at).is_some();
        let events = self.events.watched().then(|| {
            let mut events = vec![accepted_event(m)];
            events.extend(step_events(&due, &steps));
            events
        });
        self.store.insert_message_with_steps(m, steps).await?;
        self.counters.merge(&reached);
        self.outbox.stored();
        if let Some(events) = events {
            self.events.publish_with(|| events);
        }
        if later {
            // A step is left for the worker (a slow customer): it plans its sleep again.
            self.wake.notify_one();
        }
        Ok(true)
    }
}

/// The event of a message the network took.
pub(crate) fn accepted_event(m: &MessageRecord) -> Event {
    Event::MessageAccepted { id: m.id.clone(), wa_id: m.peer.clone(), kind: m.kind.clone() }
}

/// The shards a node of a deployment works on, and the fenced queries.
pub struct Shards {
    pub store: Arc<dyn ClusterStore>,
    pub scope: watch::Receiver<Arc<ShardScope>>,
}

/// Most steps applied in one transaction.
const BATCH: usize = 512;
/// Longest sleep without looking (a bound on latency if a wake-up is missed).
const MAX_IDLE: Duration = Duration::from_secs(1);

impl ReceiptWorker {
    /// Downloads the links of due media messages (concurrently); a link that
    /// cannot be fetched becomes the message's failure.
    async fn fetch_links(&self, due: &mut Vec<DueMessage>) -> Vec<DueMessage> {
        let Some(links) = &self.links else { return std::mem::take(due) };
        let mut tasks = tokio::task::JoinSet::new();
        for (i, d) in due.iter().enumerate().filter(|(_, d)| LinkFetcher::needed(d)) {
            let (links, d) = (Arc::clone(links), d.clone());
            tasks.spawn(async move { (i, links.fetch(&d).await) });
        }
        while let Some(done) = tasks.join_next().await {
            if let Ok((i, Some(failure))) = done {
                due[i].failure = Some(failure);
            }
        }
        std::mem::take(due)
    }

    /// The next step of each due message, with the callbacks that report it.
    async fn steps(&self, due: &[DueMessage], now: i64) -> Result<Vec<Transition>, StoreError> {
        let business = (self.business)().unwrap_or_default();
        build_steps(self.store.as_ref(), &self.outbox, &business, self.delays, due, now).await
    }

    /// The steps taken at acceptance, when a message's first step is due at
    /// once (no `sent` delay) and this node works on every message (no
    /// shards: in a deployment the shard's owner moves it on).
    pub(crate) fn settle_at_once(&self) -> Option<SettleAtOnce> {
        (self.delays.sent_ms == 0 && self.shards.is_none()).then(|| SettleAtOnce {
            store: Arc::clone(&self.store),
            clock: Arc::clone(&self.clock),
            delays: self.delays,
            wake: Arc::clone(&self.wake),
            outbox: self.outbox.clone(),
            counters: Arc::clone(&self.counters),
            events: Arc::clone(&self.events),
        })
    }

    async fn due(&self, scope: Option<&ShardScope>, now: i64) -> Result<Vec<DueMessage>, StoreError> {
        match (&self.shards, scope) {
            (Some(shards), Some(scope)) => shards.store.due_messages_in(scope, now, BATCH).await,
            _ => self.store.due_messages(now, BATCH).await,
        }
    }

    /// Stores the steps; `false` when this node no longer owns the shards
    /// it read them under (the new owner does them).
    async fn apply(&self, scope: Option<&ShardScope>, steps: Vec<Transition>) -> Result<bool, StoreError> {
        match (&self.shards, scope) {
            (Some(shards), Some(scope)) => shards.store.apply_transitions_in(scope, steps).await,
            _ => self.store.apply_transitions(steps).await.map(|()| true),
        }
    }

    async fn next_event(&self, scope: Option<&ShardScope>) -> Result<Option<i64>, StoreError> {
        match (&self.shards, scope) {
            (Some(shards), Some(scope)) => shards.store.next_message_event_in(scope).await,
            _ => self.store.next_message_event().await,
        }
    }

    pub async fn run(self, shutdown: CancellationToken) {
        let mut scope_rx = self.shards.as_ref().map(|s| s.scope.clone());
        loop {
            if shutdown.is_cancelled() {
                return;
            }
            if self.chaos.outage() {
                // Nothing moves until the network reconnects (re-checked each
                // second, should the notification come before the wait).
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = self.chaos.reconnected.notified() => {}
                    () = tokio::time::sleep(MAX_IDLE) => {}
                }
                continue;
            }
            let scope = scope_rx.as_mut().map(|rx| Arc::clone(&rx.borrow_and_update()));
            let scope = scope.as_deref();
            let now = self.clock.now_millis();
            match self.due(scope, now).await {
                Ok(mut due) if !due.is_empty() => {
                    let due = self.fetch_links(&mut due).await;
                    // Downloads take time: the steps happen now.
                    let now = self.clock.now_millis();
                    match self.steps(&due, now).await {
                        Ok(steps) => {
                            let reached = reached(&steps);
                            let events = self.events.watched().then(|| step_events(&due, &steps));
                            match self.apply(scope, steps).await {
                                Ok(true) => {
                                    self.counters.merge(&reached);
                                    self.outbox.stored();
                                    if let Some(events) = events {
                                        self.events.publish_with(|| events);
                                    }
                                    continue;
                                }
                                Ok(false) => {
                                    tracing::info!("simulated network: a shard moved away; its owner takes over");
                                    continue;
                                }
                                Err(e) => tracing::warn!(error = %e, "simulated network: could not record receipts"),
                            }
                        }
                        Err(e) => tracing::warn!(error = %e, "simulated network: could not open conversations"),
                    }
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "simulated network: could not read due messages"),
            }
            let wait = match self.next_event(scope).await {
                Ok(Some(at)) => Duration::from_millis(u64::try_from(at - now).unwrap_or(0)).min(MAX_IDLE),
                _ => MAX_IDLE,
            };
            let scope_changed = async {
                match scope_rx.as_mut() {
                    Some(rx) => {
                        if rx.changed().await.is_err() {
                            std::future::pending::<()>().await;
                        }
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = self.wake.notified() => {}
                () = scope_changed => {}
                () = tokio::time::sleep(wait) => {}
            }
        }
    }
}
