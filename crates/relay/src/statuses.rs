//! Cloud statuses applied to the messages the relay sent, in order and once.
//!
//! Cloud may deliver a status twice, or `read` before `delivered`; an
//! On-Premises client expects each of `sent`, `delivered`, `read` once, in
//! that order. So a status moves a message only forward: one that is behind
//! (or equal to) where the message is has been reported already and is
//! dropped, and one that skips a step brings the steps it skipped with it,
//! reported at its time. The store applies a step only if the message is
//! still where it was read (`Transition::from_status`), so two nodes given
//! the same webhook report it once.
//!
//! A status may also come before its send is recorded (Cloud's webhook
//! overtook the answer to the send): it is kept (`park_cloud_status`) and
//! applied when the sender records the `wamid`.

use std::sync::Arc;

use serde_json::{Value, json};
use wabiz_domain::callbacks::{CallbackKind, NewCallback, Outbox};
use wabiz_domain::clock::Clock;
use wabiz_domain::events::{Event, EventBus};
use wabiz_domain::messages::OutMessageCounters;
use wabiz_domain::messages::lifecycle::{Direction, Failure, MessageStatus};
use wabiz_domain::ports::{Store, StoreError, Transition};

/// Applies Cloud statuses (`statuses[]` items in On-Premises shape, still
/// naming the message by its `wamid`).
pub struct StatusBook {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub outbox: Outbox,
    pub events: Arc<EventBus>,
    pub counters: Arc<OutMessageCounters>,
}

/// The statuses between `from` and `to`, `to` included, in order; empty
/// when `to` tells nothing new.
fn steps(from: MessageStatus, to: MessageStatus) -> Vec<MessageStatus> {
    use MessageStatus::{Accepted, Delivered, Failed, Read, Sent};
    match (from, to) {
        (Failed | Read, _) => Vec::new(),
        (_, Failed) => vec![Failed],
        (_, Sent | Delivered | Read) => {
            [Sent, Delivered, Read].into_iter().filter(|s| s.rank() > from.rank() && s.rank() <= to.rank()).collect()
        }
        (_, Accepted | MessageStatus::Received | MessageStatus::Deleted) => Vec::new(),
    }
}

impl StatusBook {
    /// Applies one status, or keeps it until its `wamid` is known.
    pub async fn apply(&self, wamid: &str, item: &Value) -> Result<(), StoreError> {
        if let Some(id) = self.store.message_of_wamid(wamid).await? {
            return self.apply_to(&id, item).await;
        }
        self.store.park_cloud_status(wamid, &item.to_string(), self.clock.now_unix()).await?;
        // The sender may have recorded it meanwhile, and found nothing parked.
        if self.store.message_of_wamid(wamid).await?.is_some() {
            self.release(wamid).await?;
        }
        Ok(())
    }

    /// Applies the statuses kept for `wamid`, now that it is recorded.
    pub async fn release(&self, wamid: &str) -> Result<(), StoreError> {
        let parked = self.store.take_parked_statuses(wamid).await?;
        if parked.is_empty() {
            return Ok(());
        }
        let Some(id) = self.store.message_of_wamid(wamid).await? else { return Ok(()) };
        for item in parked {
            match serde_json::from_str::<Value>(&item) {
                Ok(item) => self.apply_to(&id, &item).await?,
                Err(e) => tracing::warn!(error = %e, "relay: a kept status could not be read"),
            }
        }
        Ok(())
    }

    /// Applies `item` to message `id`. Another task may move the message
    /// between the read and the write (the sender applying kept statuses
    /// while a webhook brings the next one): the store then skips these
    /// steps, and they are worked out again from where the message is.
    async fn apply_to(&self, id: &str, item: &Value) -> Result<(), StoreError> {
        for _ in 0..ATTEMPTS {
            if self.apply_once(id, item).await? == Applied::Settled {
                return Ok(());
            }
        }
        tracing::warn!(message = %id, "relay: a status kept losing the race to other steps of its message");
        Ok(())
    }

    async fn apply_once(&self, id: &str, item: &Value) -> Result<Applied, StoreError> {
        let Some(message) = self.store.get_message(id).await? else {
            // Garbage collection took it: nobody to tell.
            return Ok(Applied::Settled);
        };
        let Some(to) = item["status"].as_str().and_then(MessageStatus::parse) else { return Ok(Applied::Settled) };
        if message.direction != Direction::Outbound {
            return Ok(Applied::Settled);
        }
        let chain = steps(message.status, to);
        if chain.is_empty() {
            return Ok(Applied::Settled);
        }
        let at =
            item["timestamp"].as_str().and_then(|t| t.parse::<i64>().ok()).unwrap_or_else(|| self.clock.now_unix());
        let policy = self.outbox.policy();
        let now_ms = self.clock.now_millis();
        let mut from = message.status;
        let mut transitions = Vec::with_capacity(chain.len());
        for status in chain {
            // Cloud's own item for the status it reported; the bare status
            // for the steps it skipped.
            let mut shown = if status == to {
                item.clone()
            } else {
                json!({"status": status.as_str(), "timestamp": at.to_string()})
            };
            shown["id"] = json!(message.id);
            shown["recipient_id"] = json!(message.peer);
            if !policy.pricing
                && let Some(o) = shown.as_object_mut()
            {
                o.remove("pricing");
                o.remove("conversation");
            }
            let errors = (status == MessageStatus::Failed).then(|| failure_of(&shown));
            let callbacks = policy
                .wants_status(status)
                .then(|| NewCallback {
                    kind: CallbackKind::Status,
                    peer: message.peer.clone(),
                    subject: Some(message.id.clone()),
                    item: shown.to_string(),
                    contact: None,
                    created_at: now_ms,
                })
                .into_iter()
                .collect();
            transitions.push(Transition {
                id: message.id.clone(),
                from_status: from,
                status,
                at,
                errors,
                next_event_at: None,
                reply: None,
                conversation: None,
                callbacks,
            });
            from = status;
        }
        let reached: Vec<MessageStatus> = transitions.iter().map(|t| t.status).collect();
        self.store.apply_transitions(transitions).await?;
        let now = self.store.get_message(id).await?.map(|m| m.status);
        if now != reached.last().copied() {
            return Ok(Applied::Raced);
        }
        self.outbox.stored();
        for status in &reached {
            self.counters.add(*status, 1);
        }
        self.events.publish_with(|| {
            reached
                .iter()
                .map(|status| Event::MessageStatus {
                    id: message.id.clone(),
                    wa_id: message.peer.clone(),
                    status: *status,
                    errors: None,
                })
                .collect()
        });
        Ok(Applied::Settled)
    }
}

/// How often a status is worked out again after losing a race.
const ATTEMPTS: usize = 5;

/// What one try of a status came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Applied {
    /// Applied, or nothing to apply.
    Settled,
    /// The message moved meanwhile; nothing was applied.
    Raced,
}

/// The errors of a `failed` item, as stored with the message.
fn failure_of(item: &Value) -> Failure {
    match item.get("errors") {
        Some(errors) => Failure::from_json(&errors.to_string()),
        None => Failure::new(
            wabiz_domain::ErrorCode::GenericDeliveryError,
            "The Cloud API reported the message failed without saying why",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use MessageStatus::{Accepted, Delivered, Failed, Read, Sent};

    #[test]
    fn statuses_only_move_forward_and_bring_the_skipped_steps() {
        assert_eq!(steps(Accepted, Sent), [Sent]);
        assert_eq!(steps(Sent, Read), [Delivered, Read]);
        assert_eq!(steps(Accepted, Read), [Sent, Delivered, Read]);
        assert_eq!(steps(Read, Delivered), []);
        assert_eq!(steps(Delivered, Delivered), []);
        assert_eq!(steps(Delivered, Failed), [Failed]);
        assert_eq!(steps(Failed, Read), []);
        assert_eq!(steps(Read, Failed), []);
    }
}
