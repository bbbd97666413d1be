//! The sender: hands queued sends to the Cloud API, each customer's in the
//! order they were accepted.
//!
//! It claims the heads of the customers' queues (`RelayStore`), sends them
//! concurrently (one per customer at a time), and records each outcome:
//! taken (the `wamid` is remembered, and statuses that came early are
//! applied), to try again with backoff (rate limits, Cloud's 5xx, no
//! answer), or refused (the message fails, reported by a `failed` status
//! callback with the On-Premises code). A send claimed by a node that dies
//! is claimed again when its lease ends: a send Cloud took but the relay
//! did not record goes out twice (the Graph API has no idempotency key).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use wabiz_domain::WaError;
use wabiz_domain::callbacks::{Outbox, StatusEvent};
use wabiz_domain::clock::Clock;
use wabiz_domain::events::{Event, EventBus};
use wabiz_domain::media::MediaService;
use wabiz_domain::messages::lifecycle::{Failure, MessageStatus};
use wabiz_domain::messages::validate::{MessageType, OutboundMessage};
use wabiz_domain::messages::{OutMessageCounters, RecipientType};
use wabiz_domain::ports::{Store, StoreError, Transition};
use wabiz_domain::relay::{CloudMedia, CloudSend, RelayCounters};

use crate::errors::{CloudError, Disposition};
use crate::graph::Graph;
use crate::network::Link;
use crate::outbound::{CloudIds, cloud_request};
use crate::statuses::StatusBook;
use crate::users::is_relay_wa_id;

/// Most sends in flight at once (at most one per customer).
const IN_FLIGHT: usize = 64;
/// How long a claim holds: longer than a Graph call may take (30 s), so
/// that a live node's send is never claimed twice.
const LEASE: Duration = Duration::from_secs(45);
/// Longest sleep without looking (a bound on latency if a wake-up is missed,
/// and how soon another node's sends are seen).
const MAX_IDLE: Duration = Duration::from_secs(1);
/// Backoff: a second after the first failed try, doubling, at most a minute.
const FIRST_RETRY_MS: i64 = 1_000;
const MAX_RETRY_MS: i64 = 60_000;
/// A status kept for a `wamid` the relay never recorded is forgotten after
/// Cloud's week of webhook retries; the sweep runs hourly.
const PARKED_KEPT_SECS: i64 = 7 * 24 * 3600;
const SWEEP_EVERY_MS: i64 = 3_600_000;
/// Cloud keeps uploaded media 30 days; one is uploaded again after 29.
const MEDIA_KEPT_SECS: i64 = 29 * 24 * 3600;

/// The wait before try number `attempts + 1`.
fn backoff_ms(attempts: u32) -> i64 {
    let doubled = FIRST_RETRY_MS.saturating_mul(1_i64 << attempts.min(16));
    doubled.min(MAX_RETRY_MS)
}

pub struct Sender {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub graph: Arc<Graph>,
    pub media: Arc<MediaService>,
    pub outbox: Outbox,
    pub events: Arc<EventBus>,
    pub statuses: Arc<StatusBook>,
    pub wake: Arc<Notify>,
    pub link: Arc<Link>,
    pub counters: Arc<OutMessageCounters>,
    /// Its `queued` is the relay's own figure of the sends waiting, kept
    /// current for the queue's limit: counted at start, then followed (with
    /// other nodes, counted again when idle; a recount may miss an
    /// acceptance made meanwhile, so the limit is approximate there).
    pub metrics: Arc<RelayCounters>,
    /// The only node on its database: claims left by an earlier run are
    /// handed back at start.
    pub alone: bool,
}

/// Cloud's ids for what a send names, looked up before it is translated.
struct Ids {
    media: HashMap<String, String>,
    messages: HashMap<String, String>,
}

impl CloudIds for Ids {
    fn media(&self, id: &str) -> Option<String> {
        self.media.get(id).cloned()
    }

    fn message(&self, id: &str) -> Option<String> {
        self.messages.get(id).cloned()
    }
}

/// Why a send did not go out this time.
enum Outcome {
    Later,
    Refused(Failure),
}

impl From<StoreError> for Outcome {
    fn from(e: StoreError) -> Self {
        tracing::warn!(error = %e, "relay: the store failed during a send; it is tried again");
        Outcome::Later
    }
}

/// Every string under an `id` key (media objects name their media there).
fn ids_in(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(o) => {
            for (k, v) in o {
                match (k.as_str(), v) {
                    ("id", Value::String(s)) => out.push(s.clone()),
                    _ => ids_in(v, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|v| ids_in(v, out)),
        _ => {}
    }
}

impl Sender {
    /// Sends until shut down.
    pub async fn run(self: Arc<Self>, shutdown: CancellationToken) {
        // A single node keeps the figure of waiting sends itself from here
        // (each acceptance adds one, each send out of the queue takes one).
        self.count_queue().await;
        if self.alone {
            match self.store.release_cloud_claims(self.clock.now_millis()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(sends = n, "relay: sends claimed before a stop are sent again"),
                Err(e) => tracing::warn!(error = %e, "relay: could not hand back earlier claims"),
            }
        }
        // Sends in flight. A slow one holds back its own customer only: the
        // others' are claimed beside it, up to `IN_FLIGHT` at once.
        let mut tasks = tokio::task::JoinSet::new();
        let mut next_sweep = 0_i64;
        loop {
            if shutdown.is_cancelled() {
                return;
            }
            while tasks.try_join_next().is_some() {}
            let now = self.clock.now_millis();
            let room = IN_FLIGHT.saturating_sub(tasks.len());
            let claimed = if room == 0 {
                Vec::new()
            } else {
                let lease = i64::try_from(LEASE.as_millis()).unwrap_or(i64::MAX);
                match self.store.claim_cloud_sends(now, now.saturating_add(lease), room).await {
                    Ok(c) => c,
                    Err(e) => {
                        tracing::warn!(error = %e, "relay: could not read the queue of sends");
                        Vec::new()
                    }
                }
            };
            if !claimed.is_empty() {
                for send in claimed {
                    let me = Arc::clone(&self);
                    tasks.spawn(async move { me.deliver(send).await });
                }
                continue;
            }
            if now >= next_sweep {
                next_sweep = now.saturating_add(SWEEP_EVERY_MS);
                let before = self.clock.now_unix().saturating_sub(PARKED_KEPT_SECS);
                match self.store.forget_parked_statuses(before).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(statuses = n, "relay: statuses of messages it never sent were forgotten"),
                    Err(e) => tracing::warn!(error = %e, "relay: could not forget old kept statuses"),
                }
            }
            // Other nodes queue and send too: their figure comes from the store.
            if !self.alone {
                self.count_queue().await;
            }
            // Until the next head is due; a head due already but not handed
            // out is another node's or in flight here: no reason to spin.
            let wait = match self.store.next_cloud_send().await {
                Ok(Some(at)) if at > now => Duration::from_millis(u64::try_from(at - now).unwrap_or(0)).min(MAX_IDLE),
                _ => MAX_IDLE,
            };
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = self.wake.notified() => {}
                () = tokio::time::sleep(wait) => {}
                // A send ended: its customer's next one may be due.
                Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            }
        }
    }

    /// One try of one send, and its outcome recorded.
    async fn deliver(&self, send: CloudSend) {
        let outcome = match self.try_send(&send).await {
            Ok(()) => {
                self.left_queue();
                return;
            }
            Err(outcome) => outcome,
        };
        let recorded = match outcome {
            Outcome::Later => {
                RelayCounters::add(&self.metrics.retried);
                let at = self.clock.now_millis().saturating_add(backoff_ms(send.attempts));
                self.store.cloud_send_later(send.seq, at).await
            }
            Outcome::Refused(failure) => {
                RelayCounters::add(&self.metrics.refused);
                let refused = self.refuse(&send, failure).await;
                if refused.is_ok() {
                    self.left_queue();
                }
                refused
            }
        };
        if let Err(e) = recorded {
            // The lease runs out and the send is claimed again.
            tracing::warn!(error = %e, message = %send.message_id, "relay: could not record a send's outcome");
        }
    }

    /// Reads how many sends wait from the store.
    async fn count_queue(&self) {
        match self.store.cloud_backlog().await {
            Ok((n, _)) => self.metrics.queued.store(n, Ordering::Relaxed),
            Err(e) => tracing::warn!(error = %e, "relay: could not count the queue of sends"),
        }
    }

    /// One send fewer waits.
    fn left_queue(&self) {
        let _ = self.metrics.queued.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| Some(n.saturating_sub(1)));
    }

    async fn try_send(&self, send: &CloudSend) -> Result<(), Outcome> {
        // Its `ttl` ran out while Cloud would not take it (an outage).
        if send.expires_at.is_some_and(|at| self.clock.now_millis() >= at) {
            return Err(Outcome::Refused(Failure::new(
                wabiz_domain::ErrorCode::MessageExpired,
                "The Cloud API did not take the message within its ttl",
            )));
        }
        let content: Value = serde_json::from_str(&send.content).unwrap_or(Value::Null);
        let Some(kind) = MessageType::parse(&send.kind) else {
            return Err(Outcome::Refused(Failure::new(
                wabiz_domain::ErrorCode::ParameterValueNotValid,
                format!("type '{}' cannot be sent through the Cloud API", send.kind),
            )));
        };
        let ids = self.ids(send, &content).await?;
        let message = OutboundMessage {
            to: send.peer.clone(),
            recipient_type: RecipientType::Individual,
            kind,
            preview_url: send.envelope.preview_url,
            render_mentions: false,
            ttl_secs: None,
            context_message_id: send.envelope.context.clone(),
            content,
            media: Vec::new(),
            template: None,
        };
        let mut body = cloud_request(&message, &send.peer, &ids).map_err(|e| Outcome::Refused(failure_of(&e)))?;
        if is_relay_wa_id(&send.peer) {
            // A customer known by user id only: Cloud takes it instead of a number.
            let Some(user) = self.store.user_of_wa_id(&send.peer).await? else {
                return Err(Outcome::Refused(Failure::new(
                    wabiz_domain::ErrorCode::UserNotValid,
                    format!("{} is not a customer the Cloud API named", send.peer),
                )));
            };
            if let Some(o) = body.as_object_mut() {
                o.remove("to");
                o.insert("recipient".into(), Value::String(user));
            }
        }
        let answer = self.graph.send(&body).await;
        self.link.observe(&answer);
        match answer {
            Ok(accepted) => {
                self.store.cloud_send_taken(send.seq, &send.message_id, &accepted.wamid).await?;
                RelayCounters::add(&self.metrics.taken);
                if let Err(e) = self.statuses.release(&accepted.wamid).await {
                    tracing::warn!(error = %e, "relay: statuses that came early could not be applied");
                }
                Ok(())
            }
            Err(e) => Err(self.outcome_of(&e, send)),
        }
    }

    fn outcome_of(&self, e: &CloudError, send: &CloudSend) -> Outcome {
        match e.disposition() {
            Disposition::TryAgain => {
                tracing::info!(message = %send.message_id, attempts = send.attempts + 1, error = %e.on_prem_details(), "relay: Cloud asked to try a send again");
                Outcome::Later
            }
            Disposition::Fail(code) => Outcome::Refused(Failure::new(code, e.on_prem_details())),
        }
    }

    /// Cloud's ids for the media and the quoted message a send names.
    async fn ids(&self, send: &CloudSend, content: &Value) -> Result<Ids, Outcome> {
        let mut ids = Ids { media: HashMap::new(), messages: HashMap::new() };
        if let Some(quoted) = &send.envelope.context {
            // An inbound message's id is its wamid already.
            let wamid = self.store.wamid_of_message(quoted).await?.unwrap_or_else(|| quoted.clone());
            ids.messages.insert(quoted.clone(), wamid);
        }
        let mut named = Vec::new();
        ids_in(content, &mut named);
        for id in named {
            if let Some(cloud) = self.cloud_media_id(&id).await? {
                ids.media.insert(id, cloud);
            }
        }
        Ok(ids)
    }

    /// The Cloud media id of wabiz media `id`: uploaded before, or now.
    async fn cloud_media_id(&self, id: &str) -> Result<Option<String>, Outcome> {
        let now = self.clock.now_unix();
        if let Some(known) = self.store.cloud_media(id).await?
            && now - known.at < MEDIA_KEPT_SECS
        {
            return Ok(Some(known.cloud_id));
        }
        let (record, mut file, _) = match self.media.open(id).await {
            Ok(opened) => opened,
            // Not wabiz media: the translation says so if it was meant to be.
            Err(_) => return Ok(None),
        };
        let mut bytes = Vec::new();
        if let Err(e) = tokio::io::AsyncReadExt::read_to_end(&mut file, &mut bytes).await {
            tracing::warn!(error = %e, "relay: a media file could not be read for upload");
            return Err(Outcome::Later);
        }
        let name = record.filename.clone().unwrap_or_else(|| record.id.clone());
        let uploaded = self.graph.upload(bytes, &record.mime_type, &name).await;
        self.link.observe(&uploaded);
        let cloud_id = match uploaded {
            Ok(cloud_id) => cloud_id,
            Err(e) => {
                return Err(match e.disposition() {
                    Disposition::TryAgain => Outcome::Later,
                    Disposition::Fail(code) => Outcome::Refused(Failure::new(code, e.on_prem_details())),
                });
            }
        };
        RelayCounters::add(&self.metrics.uploads);
        let media = CloudMedia { id: id.to_owned(), cloud_id: cloud_id.clone(), mime_type: record.mime_type, at: now };
        self.store.put_cloud_media(&media).await?;
        Ok(Some(cloud_id))
    }

    /// The message fails: out of the queue, with its `failed` callback.
    async fn refuse(&self, send: &CloudSend, failure: Failure) -> Result<(), StoreError> {
        let at = self.clock.now_unix();
        let event = StatusEvent {
            message_id: &send.message_id,
            recipient_id: &send.peer,
            status: MessageStatus::Failed,
            at,
            errors: Some(&failure),
            conversation: None,
            group: None,
        };
        let callback = Outbox::status(&self.outbox.policy(), &event, self.clock.now_millis());
        tracing::info!(message = %send.message_id, errors = %failure.to_json(), "relay: Cloud refused a send");
        let transition = Transition {
            id: send.message_id.clone(),
            from_status: MessageStatus::Accepted,
            status: MessageStatus::Failed,
            at,
            errors: Some(failure.clone()),
            next_event_at: None,
            reply: None,
            conversation: None,
            callbacks: callback.into_iter().collect(),
        };
        self.store.cloud_send_refused(send.seq, transition).await?;
        self.outbox.stored();
        self.counters.add(MessageStatus::Failed, 1);
        self.events.publish_with(|| {
            vec![Event::MessageStatus {
                id: send.message_id.clone(),
                wa_id: send.peer.clone(),
                status: MessageStatus::Failed,
                errors: Some(failure),
            }]
        });
        Ok(())
    }
}

/// A request the translation refused, as the message's failure.
fn failure_of(e: &WaError) -> Failure {
    Failure(e.errors.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_a_minute() {
        assert_eq!(backoff_ms(0), 1_000);
        assert_eq!(backoff_ms(1), 2_000);
        assert_eq!(backoff_ms(5), 32_000);
        assert_eq!(backoff_ms(6), 60_000);
        assert_eq!(backoff_ms(40), 60_000);
    }

    #[test]
    fn media_ids_are_found_wherever_the_object_names_them() {
        let content = serde_json::json!({"header": {"type": "image", "image": {"id": "m1"}}, "body": {"text": "x"},
            "components": [{"parameters": [{"type": "document", "document": {"id": "m2", "filename": "a.pdf"}}]}]});
        let mut found = Vec::new();
        ids_in(&content, &mut found);
        found.sort();
        assert_eq!(found, ["m1", "m2"]);
    }
}
