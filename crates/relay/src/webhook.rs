//! Where Meta calls the relay (`GET|POST /relay/webhook`): the verification
//! handshake, and event POSTs. A POST is checked against its signature, then
//! everything it reports is stored with its callbacks before it is
//! acknowledged: the callback outbox delivers from there, with its
//! persistence, backoff, filters and concurrency limit.
//!
//! Cloud delivers a webhook again until it is acknowledged, and may deliver
//! one more than once anyway: an inbound message is stored once by its
//! `wamid` (`insert_message_once`), and statuses only move a message
//! forward (`statuses.rs`).

use std::sync::Arc;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use wabiz_domain::callbacks::Outbox;
use wabiz_domain::clock::Clock;
use wabiz_domain::events::{Event, EventBus};
use wabiz_domain::media::MediaService;
use wabiz_domain::ports::{MessageRecord, Store, StoreError};
use wabiz_domain::relay::{CloudMedia, CloudWebhooks, RelayCounters, WebhookRefusal};

use crate::graph::Graph;
use crate::inbound::{CloudEvent, events};
use crate::secret::Secret;
use crate::signature;
use crate::statuses::StatusBook;
use crate::users::Users;

/// The media types a customer's message may carry.
const MEDIA_KINDS: [&str; 5] = ["image", "video", "audio", "document", "sticker"];

pub struct WebhookReceiver {
    pub app_secret: Secret,
    pub verify_token: Secret,
    pub phone_number_id: String,
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub outbox: Outbox,
    pub events: Arc<EventBus>,
    pub statuses: Arc<StatusBook>,
    pub users: Users,
    pub counters: Arc<RelayCounters>,
    /// Downloads a customer's media when `media.auto_download` names its type.
    pub graph: Arc<Graph>,
    pub media: Arc<MediaService>,
}

/// The wabiz id of a Cloud media id: the same for every delivery of the
/// webhook, so that a repeated one maps to the same id.
fn media_id_of(cloud_id: &str) -> String {
    let d = Sha256::digest(format!("wabiz-cloud-media:{cloud_id}").as_bytes());
    let mut b = [0_u8; 16];
    b.copy_from_slice(&d[..16]);
    // A version-4-shaped UUID, as wabiz's own media ids are.
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}

/// Unix seconds of a Cloud `timestamp` (a string), or `now`.
fn seconds(v: &Value, now: i64) -> i64 {
    v.as_str().and_then(|t| t.parse().ok()).or_else(|| v.as_i64()).unwrap_or(now)
}

impl WebhookReceiver {
    async fn take(&self, event: CloudEvent) -> Result<(), StoreError> {
        let now = self.clock.now_unix();
        let now_ms = self.clock.now_millis();
        let policy = self.outbox.policy();
        match event {
            CloudEvent::Message { from, contact, mut message } => {
                self.map_media(&mut message).await?;
                let id = message["id"].as_str().unwrap_or_default().to_owned();
                let kind = message["type"].as_str().unwrap_or("unknown").to_owned();
                let at = seconds(&message["timestamp"], now);
                let name = contact.as_ref().and_then(|c| c["profile"]["name"].as_str()).map(str::to_owned);
                let doc = match contact {
                    Some(c) => json!({"contacts": [c], "messages": [message]}),
                    None => json!({"messages": [message]}),
                };
                let mut record = MessageRecord::inbound(id.clone(), from.clone(), kind.clone(), doc.to_string(), at);
                if let Some(name) = name {
                    record = record.named(name);
                }
                let callbacks: Vec<_> = Outbox::inbound(&policy, &doc, now_ms).into_iter().collect();
                if self.store.insert_message_once(&record, &callbacks).await? {
                    self.events.publish_with(|| vec![Event::MessageInbound { id, wa_id: from, kind }]);
                }
            }
            CloudEvent::NumberChanged { from, message } => {
                let id = message["id"].as_str().unwrap_or_default().to_owned();
                let doc = json!({"messages": [message]});
                let record = MessageRecord::inbound(
                    id,
                    from,
                    "system".into(),
                    doc.to_string(),
                    seconds(&message["timestamp"], now),
                );
                // Sent only when the settings ask for it (`webhooks.md` §3).
                let callbacks: Vec<_> = if self.outbox.settings().notify_user_change_number {
                    Outbox::inbound(&policy, &doc, now_ms).into_iter().collect()
                } else {
                    Vec::new()
                };
                self.store.insert_message_once(&record, &callbacks).await?;
            }
            CloudEvent::Status { id, status, .. } => self.statuses.apply(&id, &status).await?,
            CloudEvent::Error { error } => {
                if let Some(cb) = Outbox::error(&policy, &error, None, now_ms) {
                    self.store.enqueue_callbacks(vec![cb]).await?;
                }
            }
        }
        Ok(())
    }

    /// A customer's media: Cloud's id becomes wabiz's, remembered with it
    /// (`GET /v1/media/{id}` fetches it from Cloud).
    async fn map_media(&self, message: &mut Value) -> Result<(), StoreError> {
        let kind = message["type"].as_str().unwrap_or_default().to_owned();
        if !MEDIA_KINDS.contains(&kind.as_str()) {
            return Ok(());
        }
        let object = &mut message[&kind];
        let Some(cloud_id) = object["id"].as_str().map(str::to_owned) else { return Ok(()) };
        let id = media_id_of(&cloud_id);
        let mime_type = object["mime_type"].as_str().unwrap_or("application/octet-stream").to_owned();
        self.store
            .put_cloud_media(&CloudMedia {
                id: id.clone(),
                cloud_id: cloud_id.clone(),
                mime_type: mime_type.clone(),
                at: self.clock.now_unix(),
            })
            .await?;
        object["id"] = json!(id);
        // Cloud's URL needs the relay's token and expires: not for clients.
        if let Some(o) = object.as_object_mut() {
            o.remove("url");
        }
        if self.outbox.auto_downloads(&kind)
            && let Some(file) = self.download(&id, &cloud_id, &mime_type).await
        {
            object["file"] = json!(file);
        }
        Ok(())
    }

    /// Downloads media `id` (Cloud's `cloud_id`) into the media folder, as
    /// `media.auto_download` asks, before its callback goes out; its path,
    /// or `None` when it cannot be fetched now (the callback then goes
    /// without it, and `GET /v1/media/{id}` fetches it from Cloud).
    async fn download(&self, id: &str, cloud_id: &str, mime_type: &str) -> Option<String> {
        // Kept from an earlier delivery of the same webhook.
        if let Ok(Some(_)) = self.media.record(id).await {
            return self.media.location(id);
        }
        let fetched = match self.graph.media(cloud_id).await {
            Ok(info) => self.graph.download(&info.url).await,
            Err(e) => Err(e),
        };
        let bytes = match fetched {
            Ok(bytes) => bytes,
            Err(e) => {
                tracing::warn!(error = %e.on_prem_details(), "relay: a customer's media could not be downloaded");
                return None;
            }
        };
        match self.media.store_bytes_as(id.to_owned(), &bytes, mime_type, "inbound", None).await {
            Ok(_) => self.media.location(id),
            Err(e) => {
                tracing::warn!(error = ?e, "relay: a customer's media could not be stored");
                None
            }
        }
    }
}

#[async_trait::async_trait]
impl CloudWebhooks for WebhookReceiver {
    fn handshake(&self, mode: Option<&str>, token: Option<&str>, challenge: Option<&str>) -> Option<String> {
        let token_ok = token.is_some_and(|t| self.verify_token.matches(t));
        (mode == Some("subscribe") && token_ok).then(|| challenge.unwrap_or_default().to_owned())
    }

    async fn receive(&self, header: Option<&str>, body: &[u8]) -> Result<(), WebhookRefusal> {
        if let Err(e) = signature::verify(self.app_secret.expose().as_bytes(), body, header) {
            RelayCounters::add(&self.counters.webhooks_unsigned);
            return Err(WebhookRefusal::Signature(e.to_string()));
        }
        let Ok(mut doc) = serde_json::from_slice::<Value>(body) else {
            RelayCounters::add(&self.counters.webhooks_malformed);
            return Err(WebhookRefusal::Malformed);
        };
        self.users.fill(&mut doc).await?;
        let (events, skipped) = events(&doc, &self.phone_number_id);
        for s in skipped {
            tracing::debug!(what = %s.what, why = s.why, "relay: part of a webhook has no On-Premises callback");
        }
        for event in events {
            self.take(event).await?;
        }
        self.outbox.stored();
        RelayCounters::add(&self.counters.webhooks_stored);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cloud_media_id_always_gets_the_same_wabiz_id() {
        let a = media_id_of("1013859600285441");
        assert_eq!(a, media_id_of("1013859600285441"));
        assert_ne!(a, media_id_of("1013859600285442"));
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
    }
}
