//! Sending (`POST /v1/messages`): validation, the checks that need the
//! server's state (registration, the recipient, media ids, the decisions that
//! show up later as a `failed` status), then the message is handed to the
//! network once, which stores it. A 201 means the message is on disk.

use std::sync::Arc;

use serde_json::{Map, Value};

use super::lifecycle::{Direction, Failure, MessageStatus, PricingCategory, RecipientType};
use super::registry::TemplateRegistry;
use super::templates;
use super::validate::{MediaRef, MessageType, OutboundMessage, Rules, TemplateCall, validate};
use crate::clock::Clock;
use crate::contacts::ContactsService;
use crate::error::{ErrorCode, WaError};
use crate::groups::GroupService;
use crate::network::Network;
use crate::ports::{MessageRecord, Store};
use crate::relay::SendEnvelope;

/// What a send answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub id: String,
    /// `(input, wa_id)` when the recipient was written otherwise than its `wa_id`.
    pub contact: Option<(String, String)>,
}

pub struct MessageService {
    store: Arc<dyn Store>,
    network: Arc<dyn Network>,
    clock: Arc<dyn Clock>,
    rules: Rules,
    /// `--simulator-open-window`: every customer counts as inside the 24-hour window.
    open_window: bool,
    /// The legacy "unknown contact" rule (`--contacts-legacy-validation`).
    contacts: Option<Arc<ContactsService>>,
    /// Groups, for `recipient_type: group` sends.
    groups: Option<Arc<GroupService>>,
    /// What template sends are checked against.
    templates: Arc<TemplateRegistry>,
}

/// How long an undelivered message is tried (`messages.md` §9, Recommended).
const DEFAULT_TTL_SECS: u64 = 30 * 24 * 3600;

/// The customer-service window (`messages.md` §11).
const WINDOW_SECS: i64 = 24 * 3600;

/// The size limit of a media message type (`image`, …) when sent, in bytes.
pub fn media_size_limit(kind: &str) -> Option<u64> {
    let kind = MessageType::ORDER.iter().copied().find(|t| t.as_str() == kind)?;
    media_limits(kind).map(|(_, limit)| limit)
}

/// The MIME types and size limit a media type accepts when sent (`media.md` §1).
fn media_limits(kind: MessageType) -> Option<(&'static [&'static str], u64)> {
    const MB: u64 = 1024 * 1024;
    Some(match kind {
        MessageType::Image => (&["image/jpeg", "image/png"], 5 * MB),
        MessageType::Audio => (&["audio/aac", "audio/mp4", "audio/amr", "audio/mpeg", "audio/ogg"], 16 * MB),
        MessageType::Video => (&["video/mp4", "video/3gpp"], 16 * MB),
        MessageType::Sticker => (&["image/webp"], 500 * 1024),
        // Any type of document.
        MessageType::Document => (&[], 100 * MB),
        _ => return None,
    })
}

fn base_mime(mime: &str) -> String {
    mime.split(';').next().unwrap_or_default().trim().to_ascii_lowercase()
}

impl MessageService {
    pub fn new(
        store: Arc<dyn Store>,
        network: Arc<dyn Network>,
        clock: Arc<dyn Clock>,
        rules: Rules,
        open_window: bool,
        templates: Arc<TemplateRegistry>,
    ) -> Self {
        Self { store, network, clock, rules, open_window, contacts: None, groups: None, templates }
    }

    /// Lets sends reach groups.
    pub fn with_groups(mut self, groups: Arc<GroupService>) -> Self {
        self.groups = Some(groups);
        self
    }

    /// Applies the legacy contact rule to sends.
    pub fn with_contacts(mut self, contacts: Arc<ContactsService>) -> Self {
        self.contacts = Some(contacts);
        self
    }

    /// `POST /v1/messages`.
    pub async fn send(&self, body: &Map<String, Value>) -> Result<Sent, WaError> {
        let msg = validate(body, self.rules)?;
        let Some(own) = self.network.registered_number() else {
            return Err(WaError::new(ErrorCode::ServiceNotReady, "Service not ready"));
        };
        let (peer, contact) = match msg.recipient_type {
            RecipientType::Individual => {
                let wa_id =
                    self.network.wa_id_for_input(&msg.to).ok_or_else(|| WaError::invalid_value("to", &msg.to))?;
                if wa_id == own {
                    return Err(WaError::new(ErrorCode::BadUser, "Cannot send a message to your own number"));
                }
                let contact = (wa_id != msg.to).then(|| (msg.to.clone(), wa_id.clone()));
                (wa_id, contact)
            }
            RecipientType::Group => {
                let Some(groups) = &self.groups else {
                    return Err(WaError::new(ErrorCode::GroupUnknown, "Group is unknown"));
                };
                groups.known(&msg.to).await?;
                (msg.to.clone(), None)
            }
        };
        let to_group = msg.recipient_type == RecipientType::Group;
        if let (Some(contacts), false) = (&self.contacts, to_group) {
            contacts.send_gate(&peer).await?;
        }
        self.check_media(&msg).await?;
        let (failure, category) = match &msg.template {
            // The real WhatsApp behind the network decides (and reports) these.
            _ if !self.network.applies_whatsapp_rules() => (None, PricingCategory::Service),
            Some(call) => self.template_check(call).await?,
            // The customer-service window is a one-to-one rule.
            None if msg.kind.is_free_form() && !to_group => {
                (self.window_failure(&peer).await?, PricingCategory::Service)
            }
            None => (None, PricingCategory::Service),
        };

        let now = self.clock.now_unix();
        let record = MessageRecord {
            id: crate::ids::outbound_message(),
            direction: Direction::Outbound,
            recipient_type: msg.recipient_type,
            peer,
            kind: msg.kind.as_str().into(),
            content: msg.content.to_string(),
            status: MessageStatus::Accepted,
            created_at: now,
            updated_at: now,
            // The network says when it acts first.
            next_event_at: None,
            failure,
            category: Some(category),
            conversation: None,
            // Undelivered messages expire after their `ttl` (default 30 days).
            expires_at: Some(self.clock.now_millis().saturating_add(
                i64::try_from(msg.ttl_secs.unwrap_or(DEFAULT_TTL_SECS)).unwrap_or(i64::MAX / 2000).saturating_mul(1000),
            )),
            // The network's to decide.
            plan: None,
            group: None,
            sender_name: None,
        };
        let id = record.id.clone();
        let envelope = SendEnvelope { preview_url: msg.preview_url, context: msg.context_message_id.clone() };
        self.network.accept_outbound(record, envelope).await?;
        // Sending restarts the 30-day clock of the media it uses (media GC).
        let used: Vec<String> = msg
            .media
            .iter()
            .filter_map(|m| match m {
                MediaRef::Id(id) => Some(id.clone()),
                MediaRef::Link { .. } => None,
            })
            .collect();
        if !used.is_empty() {
            self.store.touch_media(used, now).await?;
        }
        Ok(Sent { id, contact })
    }

    /// Media given by id must exist; for media messages its type and size must
    /// suit the message type (`media.md` §1: the limits apply when sending).
    async fn check_media(&self, msg: &OutboundMessage) -> Result<(), WaError> {
        for media in &msg.media {
            let MediaRef::Id(id) = media else { continue };
            let Some(record) = self.store.get_media(id).await? else {
                return Err(WaError::not_found(format!("Media id {id} not found")));
            };
            let Some((types, limit)) = media_limits(msg.kind) else { continue };
            let mime = base_mime(&record.mime_type);
            let kind = msg.kind.as_str();
            if !types.is_empty() && !types.contains(&mime.as_str()) {
                return Err(WaError::invalid(format!("Unsupported media type '{mime}' for type '{kind}'")));
            }
            if record.size > limit {
                return Err(WaError::invalid(format!("Media size exceeds limit for type '{kind}'")));
            }
        }
        Ok(())
    }

    /// `PUT /v1/messages/{id}`: marks an inbound message read (idempotent).
    pub async fn mark_read(&self, id: &str, body: &Map<String, Value>) -> Result<(), WaError> {
        match body.get("status") {
            None | Some(Value::Null) => return Err(WaError::missing_parameter("status")),
            Some(Value::String(s)) if s == "read" => {}
            Some(other) => return Err(WaError::invalid_json_value("status", other)),
        }
        let Some(message) = self.store.get_message(id).await? else {
            return Err(WaError::not_found(format!("Message {id} not found")));
        };
        if message.direction != Direction::Inbound {
            return Err(WaError::invalid("Only received messages can be marked as read"));
        }
        self.network.mark_read(&message).await?;
        // Reading a message reads the earlier ones of the chat too; again is fine.
        self.store.mark_inbound_read(id, self.clock.now_unix()).await?;
        Ok(())
    }

    /// A free-form message fails with 470 unless the customer wrote within the
    /// last 24 hours (reported by status, after the 201).
    async fn window_failure(&self, peer: &str) -> Result<Option<Failure>, WaError> {
        if self.open_window {
            return Ok(None);
        }
        let now = self.clock.now_unix();
        let open = self.store.last_inbound_at(peer).await?.is_some_and(|at| now - at <= WINDOW_SECS);
        if open {
            return Ok(None);
        }
        Ok(Some(Failure::new(
            ErrorCode::ReEngagementMessage,
            "Message failed to send because more than 24 hours have passed since the customer last replied to this number",
        )))
    }

    /// How a template send will fail, if it does not fit the registry (the
    /// failure is reported by status, after the 201), and its pricing category.
    async fn template_check(&self, call: &TemplateCall) -> Result<(Option<Failure>, PricingCategory), WaError> {
        let defs = self.templates.find(&call.namespace, &call.name).await?;
        let failure = templates::check(call, &defs).map(Failure::from);
        let category = defs
            .iter()
            .find(|t| t.language == call.language)
            .and_then(|t| PricingCategory::of_template(&t.category))
            .unwrap_or(PricingCategory::Utility);
        Ok((failure, category))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits() {
        assert_eq!(base_mime("audio/ogg; codecs=opus"), "audio/ogg");
        assert!(media_limits(MessageType::Text).is_none());
        assert_eq!(media_limits(MessageType::Image).map(|l| l.1), Some(5 * 1024 * 1024));
    }
}
