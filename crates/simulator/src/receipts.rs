//! Receipts: the simulated network moves every accepted outbound message on —
//! `sent`, `delivered`, `read`, or `failed` — after configurable delays, by the
//! rules of the simulated customers (the magic numbers below).
//!
//! The next step of each message is stored with it (`next_event_at`), so the
//! work survives a crash or restart: the worker simply picks up what is due.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::sync::{Notify, watch};
use tokio_util::sync::CancellationToken;
use wabiz_domain::callbacks::{CallbackKind, Conversation, NewCallback, Outbox, StatusEvent};
use wabiz_domain::clock::Clock;
use wabiz_domain::cluster::{ClusterStore, ShardScope};
use wabiz_domain::error::{ErrorCode, ErrorItem};
use wabiz_domain::messages::OutMessageCounters;
use wabiz_domain::messages::inbound::{InboundRequest, callback, new_inbound_id};
use wabiz_domain::network::ImmediateSteps;
use wabiz_domain::ports::{DueMessage, MessageRecord, Store, StoreError, Transition};

use crate::links::LinkFetcher;

/// Delays between the steps, in milliseconds (all zero for load tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delays {
    /// Accepted → `sent`.
    pub sent_ms: u64,
    /// `sent` → `delivered`.
    pub delivered_ms: u64,
    /// `delivered` → `read`.
    pub read_ms: u64,
}

impl Default for Delays {
    fn default() -> Self {
        Self { sent_ms: 100, delivered_ms: 500, read_ms: 2000 }
    }
}

/// How a simulated customer behaves, chosen by its `wa_id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Customer {
    /// Every number not listed below: sent, delivered, read.
    Ordinary,
    /// `15550000001`: not a WhatsApp user; the message fails with 1013, never sent.
    NotOnWhatsApp,
    /// `15550000002`: sent, then fails with 1026 (receiver incapable).
    Incapable,
    /// `15550000003`: sent and delivered, never read.
    NeverReads,
    /// `15550000004`: delivered only after ten times the delivery delay (at least 5 s).
    Slow,
    /// `15550000005`: reads, then replies with the text it received (`Echo: …`).
    Echo,
    /// `15550000006`: reads, then replies with a canned text.
    AutoReply,
}

/// The magic numbers, as documented in the README.
pub const MAGIC_NUMBERS: &[(&str, Customer)] = &[
    ("15550000001", Customer::NotOnWhatsApp),
    ("15550000002", Customer::Incapable),
    ("15550000003", Customer::NeverReads),
    ("15550000004", Customer::Slow),
    ("15550000005", Customer::Echo),
    ("15550000006", Customer::AutoReply),
];

/// What the auto-replying customer says.
pub const AUTO_REPLY: &str = "Thanks for your message! This is an automatic reply from a simulated customer.";

/// The reply a customer sends once it has read `due` (answering customers
/// only): a text quoting the message, from the customer to `business`.
pub fn reply_to(due: &DueMessage, business: &str, now_ms: i64) -> Option<MessageRecord> {
    let (text, name) = match customer(&due.peer) {
        Customer::Echo => {
            let body = serde_json::from_str::<serde_json::Value>(&due.content)
                .ok()
                .and_then(|c| c.get("body").and_then(serde_json::Value::as_str).map(str::to_owned));
            (format!("Echo: {}", body.unwrap_or_else(|| format!("[{}]", due.kind))), "Echo Customer")
        }
        Customer::AutoReply => (AUTO_REPLY.to_owned(), "Auto-reply Customer"),
        _ => return None,
    };
    let req = InboundRequest {
        from: due.peer.clone(),
        kind: "text".into(),
        object: json!({ "body": text }),
        media: None,
        profile_name: Some(name.into()),
        context: Some(json!({ "from": business, "id": due.id })),
    };
    let id = new_inbound_id();
    let at = now_ms / 1000;
    let content = callback(&id, &due.peer, at, &req, req.object.clone());
    Some(MessageRecord::inbound(id, due.peer.clone(), "text".into(), content.to_string(), at))
}

pub fn customer(wa_id: &str) -> Customer {
    MAGIC_NUMBERS.iter().find(|(n, _)| *n == wa_id).map_or(Customer::Ordinary, |(_, c)| *c)
}

fn errors_json(code: ErrorCode, details: &'static str) -> Option<String> {
    serde_json::to_string(&[ErrorItem::new(code, details)]).ok()
}

/// The next step of a due message at `now_ms`, or `None` when it has none.
pub fn next_step(due: &DueMessage, now_ms: i64, delays: Delays) -> Option<Transition> {
    let who = customer(&due.peer);
    let after = |ms: u64| Some(now_ms.saturating_add(i64::try_from(ms).unwrap_or(i64::MAX)));
    let delivered_delay = match who {
        Customer::Slow => delays.delivered_ms.saturating_mul(10).max(5_000),
        _ => delays.delivered_ms,
    };
    // A message still undelivered at its `ttl` expires (410) instead.
    let expired = due.expires_at.is_some_and(|at| now_ms >= at);
    let (status, errors, next) = match (due.status.as_str(), who) {
        ("accepted" | "sent", _) if expired => (
            "failed",
            errors_json(ErrorCode::MessageExpired, "Message was not delivered within its time-to-live"),
            None,
        ),
        // A recipient who is not on WhatsApp fails first; then a failure decided
        // at acceptance (a template that does not fit, the 24-hour window).
        ("accepted", Customer::NotOnWhatsApp) => {
            ("failed", errors_json(ErrorCode::UserNotValid, "Recipient is not a valid WhatsApp user"), None)
        }
        ("accepted", _) if due.failure.is_some() => ("failed", due.failure.clone(), None),
        // Delivery later than the expiry: the next step happens at the expiry.
        ("accepted", _) => {
            let next = after(delivered_delay).map(|at| due.expires_at.map_or(at, |exp| at.min(exp)));
            ("sent", None, next)
        }
        ("sent", Customer::Incapable) => (
            "failed",
            errors_json(ErrorCode::ReceiverIncapable, "Receiver is incapable of receiving this message"),
            None,
        ),
        ("sent", Customer::NeverReads) => ("delivered", None, None),
        ("sent", _) => ("delivered", None, after(delays.read_ms)),
        ("delivered", _) => ("read", None, None),
        _ => return None,
    };
    Some(Transition {
        id: due.id.clone(),
        from_status: due.status.clone(),
        status: status.into(),
        at: now_ms / 1000,
        errors,
        next_event_at: next,
        reply: None,
        conversation: None,
        callbacks: Vec::new(),
    })
}

/// The steps of `d` due at `now`: the next one, and those after it that
/// are due at once (zero delays).
pub fn chain(d: &DueMessage, now: i64, delays: Delays, business: &str) -> Vec<Transition> {
    let mut chain = Vec::new();
    let mut cur = d.clone();
    while let Some(mut t) = next_step(&cur, now, delays) {
        // A reply is stored with the step that triggers it.
        if t.status == "read" {
            t.reply = reply_to(d, business, now);
        }
        let again = t.next_event_at.is_some_and(|at| at <= now) && chain.len() < 8;
        cur.status = t.status.clone();
        chain.push(t);
        if !again {
            return chain;
        }
    }
    if chain.is_empty() {
        // Nothing left to do: just stop scheduling it.
        chain.push(Transition {
            id: d.id.clone(),
            from_status: d.status.clone(),
            status: d.status.clone(),
            at: now / 1000,
            errors: None,
            next_event_at: None,
            reply: None,
            conversation: None,
            callbacks: Vec::new(),
        });
    }
    chain
}

/// The statuses of one message's steps stored in one transaction become one
/// callback (one row, one POST) instead of one each: a third of the queue
/// writes with zero delays. It goes with the last step that carries a status,
/// or before any other callback (a reply) so that the customer's order holds.
fn merge_status_callbacks(chain: &mut [Transition]) {
    let Some(last_with_status) = chain.iter().rposition(|t| t.callbacks.iter().any(|c| c.kind == CallbackKind::Status))
    else {
        return;
    };
    let mut pending: Option<NewCallback> = None;
    for (i, t) in chain.iter_mut().enumerate() {
        let mut out = Vec::with_capacity(t.callbacks.len());
        for cb in std::mem::take(&mut t.callbacks) {
            if cb.kind == CallbackKind::Status {
                match &mut pending {
                    Some(p) => p.append(&cb),
                    None => {
                        // Room for the usual three statuses, grown once.
                        let mut cb = cb;
                        cb.item.reserve(2 * (cb.item.len() + 1));
                        pending = Some(cb);
                    }
                }
            } else {
                out.extend(pending.take());
                out.push(cb);
            }
        }
        if i == last_with_status {
            out.extend(pending.take());
        }
        t.callbacks = out;
    }
}

/// The next step of each due message, with the callbacks that report it.
/// A `sent` step opens (or joins) the customer's pricing conversation
/// first, so that its status can name it.
async fn build_steps(
    store: &dyn Store,
    outbox: &Outbox,
    business: &str,
    delays: Delays,
    due: &[DueMessage],
    now: i64,
) -> Result<Vec<Transition>, StoreError> {
    let policy = outbox.policy();
    // Each message's steps that are due now, in order: with zero delays
    // `sent`, `delivered` and `read` are stored in one transaction.
    let chains: Vec<Vec<Transition>> = due.iter().map(|d| chain(d, now, delays, business)).collect();

    // The messages becoming `sent` and their conversations.
    let sending: Vec<usize> = chains
        .iter()
        .enumerate()
        .filter(|(_, chain)| chain.iter().any(|t| t.status == "sent" && t.from_status != "sent"))
        .map(|(i, _)| i)
        .collect();
    let wanted: Vec<(String, String)> = sending
        .iter()
        .map(|&i| (due[i].peer.clone(), due[i].category.clone().unwrap_or_else(|| "service".into())))
        .collect();
    let opened = if wanted.is_empty() { Vec::new() } else { store.open_conversations(wanted, now / 1000).await? };
    let mut conversation_of: std::collections::HashMap<usize, Conversation> = sending.into_iter().zip(opened).collect();

    let mut steps = Vec::with_capacity(chains.iter().map(Vec::len).sum());
    for (i, (d, chain)) in due.iter().zip(chains).enumerate() {
        let first = steps.len();
        // The conversation the message is in, once known.
        let mut current: Option<Conversation> = d
            .conversation
            .as_deref()
            .and_then(|c| serde_json::from_str::<Conversation>(c).ok())
            .map(|c| Conversation { opened_here: false, ..c });
        for mut t in chain {
            if t.status == t.from_status {
                steps.push(t);
                continue;
            }
            let conversation = if t.status == "sent" {
                let c = conversation_of.remove(&i);
                t.conversation = c.as_ref().and_then(|c| serde_json::to_string(c).ok());
                current = c.clone().map(|c| Conversation { opened_here: false, ..c });
                c
            } else {
                // Only the `sent` status tells that the conversation opened here.
                current.clone()
            };
            let event = StatusEvent {
                message_id: &d.id,
                recipient_id: &d.peer,
                status: &t.status,
                at: t.at,
                errors: t.errors.as_deref(),
                conversation: conversation.as_ref(),
            };
            t.callbacks.extend(Outbox::status(&policy, &event, now));
            if let Some(reply) = &t.reply {
                let doc = serde_json::from_str::<serde_json::Value>(&reply.content).ok();
                t.callbacks.extend(doc.and_then(|doc| Outbox::inbound(&policy, &doc, now)));
            }
            steps.push(t);
        }
        merge_status_callbacks(&mut steps[first..]);
    }
    Ok(steps)
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
}

/// The worker's rules applied at acceptance: with zero delays a message is
/// stored already `read` (or however far its customer takes it at once),
/// with the callback reporting its statuses, in the one write that accepts
/// it. The worker would have done the same a moment later, after reading
/// the message back and updating it (issue 7).
pub struct ImmediateReceipts {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    delays: Delays,
    wake: Arc<Notify>,
    business: Arc<dyn Fn() -> Option<String> + Send + Sync>,
    outbox: Outbox,
    counters: Arc<OutMessageCounters>,
}

#[async_trait::async_trait]
impl ImmediateSteps for ImmediateReceipts {
    async fn store_with_steps(&self, m: &MessageRecord) -> Result<bool, StoreError> {
        let now = self.clock.now_millis();
        if m.direction != "outbound" || m.next_event_at.is_none_or(|at| at > now) {
            return Ok(false);
        }
        let due = DueMessage {
            id: m.id.clone(),
            peer: m.peer.clone(),
            status: m.status.clone(),
            failure: m.failure.clone(),
            kind: m.kind.clone(),
            content: m.content.clone(),
            category: m.category.clone(),
            conversation: m.conversation.clone(),
            expires_at: m.expires_at,
        };
        // The link is fetched by the worker, off the request path.
        if LinkFetcher::needed(&due) {
            return Ok(false);
        }
        let business = (self.business)().unwrap_or_default();
        let steps = match build_steps(self.store.as_ref(), &self.outbox, &business, self.delays, &[due], now).await {
            Ok(steps) => steps,
            Err(e) => {
                // The worker will try again.
                tracing::warn!(error = %e, "simulated network: could not open a conversation at acceptance");
                return Ok(false);
            }
        };
        if steps.is_empty() || steps.iter().any(|t| t.status == t.from_status) {
            return Ok(false);
        }
        let reached = OutMessageCounters::default();
        for t in &steps {
            reached.add(&t.status, 1);
        }
        let later = steps.last().and_then(|t| t.next_event_at).is_some();
        self.store.insert_message_with_steps(m, steps).await?;
        self.counters.merge(&reached);
        self.outbox.stored();
        if later {
            // A step is left for the worker (a slow customer): it plans its sleep again.
            self.wake.notify_one();
        }
        Ok(true)
    }
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
    pub fn immediate(&self) -> Option<ImmediateReceipts> {
        (self.delays.sent_ms == 0 && self.shards.is_none()).then(|| ImmediateReceipts {
            store: Arc::clone(&self.store),
            clock: Arc::clone(&self.clock),
            delays: self.delays,
            wake: Arc::clone(&self.wake),
            business: Arc::clone(&self.business),
            outbox: self.outbox.clone(),
            counters: Arc::clone(&self.counters),
        })
    }

    /// Limits the worker to the shards this node owns (multiconnect).
    pub fn in_shards(mut self, store: Arc<dyn ClusterStore>, scope: watch::Receiver<Arc<ShardScope>>) -> Self {
        self.shards = Some(Shards { store, scope });
        self
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
                            let reached = OutMessageCounters::default();
                            for t in steps.iter().filter(|t| t.status != t.from_status) {
                                reached.add(&t.status, 1);
                            }
                            match self.apply(scope, steps).await {
                                Ok(true) => {
                                    self.counters.merge(&reached);
                                    self.outbox.stored();
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

#[cfg(test)]
mod tests {
    use super::*;

    fn step(status: &str, callbacks: &[(CallbackKind, &str)]) -> Transition {
        Transition {
            id: "m".into(),
            from_status: String::new(),
            status: status.into(),
            at: 0,
            errors: None,
            next_event_at: None,
            reply: None,
            conversation: None,
            callbacks: callbacks
                .iter()
                .map(|(kind, item)| NewCallback {
                    kind: *kind,
                    peer: "1555".into(),
                    subject: Some("m".into()),
                    item: (*item).into(),
                    contact: None,
                    created_at: 0,
                })
                .collect(),
        }
    }

    fn items(chain: &[Transition]) -> Vec<Vec<String>> {
        chain.iter().map(|t| t.callbacks.iter().map(|c| c.item.clone()).collect()).collect()
    }

    #[test]
    fn a_chain_of_statuses_becomes_one_callback_in_order() {
        let s = CallbackKind::Status;
        let mut chain = vec![step("sent", &[(s, "1")]), step("delivered", &[(s, "2")]), step("read", &[(s, "3")])];
        merge_status_callbacks(&mut chain);
        assert_eq!(items(&chain), [vec![], vec![], vec!["1,2,3".to_owned()]]);

        // A reply keeps its place after the statuses before it.
        let mut chain = vec![
            step("sent", &[(s, "1")]),
            step("read", &[(s, "2"), (CallbackKind::Message, "reply")]),
            step("x", &[]),
        ];
        merge_status_callbacks(&mut chain);
        assert_eq!(items(&chain), [vec![], vec!["1,2".to_owned(), "reply".to_owned()], vec![]]);

        // Filtered statuses (no callback) leave the others alone.
        let mut chain = vec![step("sent", &[]), step("delivered", &[(s, "2")]), step("read", &[])];
        merge_status_callbacks(&mut chain);
        assert_eq!(items(&chain), [vec![], vec!["2".to_owned()], vec![]]);
    }

    fn due(peer: &str, status: &str) -> DueMessage {
        DueMessage {
            id: "m".into(),
            peer: peer.into(),
            status: status.into(),
            failure: None,
            kind: "text".into(),
            content: r#"{"body":"hello"}"#.into(),
            category: None,
            conversation: None,
            expires_at: None,
        }
    }

    fn walk(peer: &str, delays: Delays) -> Vec<(String, Option<i64>)> {
        let mut status = "accepted".to_owned();
        let mut now = 1_000_000;
        let mut out = Vec::new();
        while let Some(t) = next_step(&due(peer, &status), now, delays) {
            out.push((t.status.clone(), t.next_event_at.map(|n| n - now)));
            status = t.status;
            match t.next_event_at {
                Some(n) => now = n,
                None => break,
            }
        }
        out
    }

    #[test]
    fn customers_follow_their_rules() {
        let d = Delays { sent_ms: 10, delivered_ms: 20, read_ms: 30 };
        let s = |v: &[(&str, Option<i64>)]| v.iter().map(|(a, b)| ((*a).to_owned(), *b)).collect::<Vec<_>>();
        assert_eq!(walk("16315551234", d), s(&[("sent", Some(20)), ("delivered", Some(30)), ("read", None)]));
        assert_eq!(walk("15550000001", d), s(&[("failed", None)]));
        assert_eq!(walk("15550000002", d), s(&[("sent", Some(20)), ("failed", None)]));
        assert_eq!(walk("15550000003", d), s(&[("sent", Some(20)), ("delivered", None)]));
        assert_eq!(walk("15550000004", d), s(&[("sent", Some(5_000)), ("delivered", Some(30)), ("read", None)]));
        let zero = Delays { sent_ms: 0, delivered_ms: 0, read_ms: 0 };
        assert_eq!(walk("16315551234", zero).len(), 3);
        assert!(next_step(&due("1", "read"), 0, d).is_none());
        let doomed = DueMessage { failure: Some("[{\"code\":2001}]".into()), ..due("16315551234", "accepted") };
        let t = next_step(&doomed, 0, d).unwrap();
        assert_eq!(
            (t.status.as_str(), t.errors.as_deref(), t.next_event_at),
            ("failed", Some("[{\"code\":2001}]"), None)
        );
    }

    #[test]
    fn answering_customers_reply_once_read() {
        let d = Delays::default();
        let read = |peer: &str| next_step(&due(peer, "delivered"), 0, d).unwrap();
        assert_eq!(read("15550000005").status, "read");
        let echo = reply_to(&due("15550000005", "delivered"), "16315550100", 9_000).unwrap();
        let cb: serde_json::Value = serde_json::from_str(&echo.content).unwrap();
        assert_eq!(cb["messages"][0]["text"]["body"], "Echo: hello");
        assert_eq!(cb["messages"][0]["context"], json!({"from": "16315550100", "id": "m"}));
        assert_eq!((echo.direction.as_str(), echo.peer.as_str(), echo.created_at), ("inbound", "15550000005", 9));
        let auto = reply_to(&due("15550000006", "delivered"), "1", 0).unwrap();
        assert!(auto.content.contains(AUTO_REPLY));
        assert!(reply_to(&due("16315551234", "delivered"), "1", 0).is_none());
    }

    #[test]
    fn steps_due_at_once_are_chained() {
        let zero = Delays { sent_ms: 0, delivered_ms: 0, read_ms: 0 };
        let statuses = |c: Vec<Transition>| c.into_iter().map(|t| (t.from_status, t.status)).collect::<Vec<_>>();
        let s = |a: &str, b: &str| (a.to_owned(), b.to_owned());
        assert_eq!(
            statuses(chain(&due("16315551234", "accepted"), 7, zero, "1")),
            [s("accepted", "sent"), s("sent", "delivered"), s("delivered", "read")]
        );
        let echo = chain(&due("15550000005", "accepted"), 7, zero, "1");
        assert!(echo[2].reply.is_some(), "the reply comes with the read step");
        // With delays, one step at a time.
        assert_eq!(
            statuses(chain(&due("16315551234", "accepted"), 7, Delays::default(), "1")),
            [s("accepted", "sent")]
        );
        // Nothing left: one step that only stops the schedule.
        assert_eq!(statuses(chain(&due("16315551234", "read"), 7, zero, "1")), [s("read", "read")]);
    }

    #[test]
    fn undelivered_messages_expire_at_their_ttl() {
        let d = Delays { sent_ms: 0, delivered_ms: 0, read_ms: 0 };
        let slow = DueMessage { expires_at: Some(1_000), ..due("15550000004", "accepted") };
        let sent = next_step(&slow, 0, d).unwrap();
        assert_eq!((sent.status.as_str(), sent.next_event_at), ("sent", Some(1_000)), "wakes at the expiry");
        let expired = next_step(&DueMessage { status: "sent".into(), ..slow.clone() }, 1_000, d).unwrap();
        assert_eq!(expired.status, "failed");
        assert!(expired.errors.unwrap().contains("410"));
        // Delivered in time: the ttl changes nothing.
        let quick = DueMessage { expires_at: Some(1_000), ..due("16315551234", "sent") };
        assert_eq!(next_step(&quick, 10, d).unwrap().status, "delivered");
    }

    #[test]
    fn failures_carry_their_error() {
        let t = next_step(&due("15550000001", "accepted"), 5_000, Delays::default()).unwrap();
        assert_eq!(t.at, 5);
        let errors: serde_json::Value = serde_json::from_str(t.errors.as_deref().unwrap()).unwrap();
        assert_eq!(errors[0]["code"], 1013);
        assert_eq!(errors[0]["title"], "User is not valid");
    }
}
