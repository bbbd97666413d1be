//! Sending (`POST /v1/messages`): validation, the checks that need the
//! server's state (registration, the recipient, media ids), then one durable
//! write. A 201 means the message is on disk.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

use super::inbound;
use super::templates::{self, Template};
use super::validate::{MediaRef, MessageType, OutboundMessage, RecipientType, Rules, TemplateCall, validate};
use crate::callbacks::Outbox;
use crate::clock::Clock;
use crate::contacts::{ContactsService, normalize};
use crate::error::{ErrorCode, ErrorItem, WaError};
use crate::groups::GroupService;
use crate::media::MediaService;
use crate::network::{ImmediateSteps, Network};
use crate::ports::{MessageRecord, Store, TemplateRecord};

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
    media: Arc<MediaService>,
    clock: Arc<dyn Clock>,
    rules: Rules,
    /// `--simulator-open-window`: every customer counts as inside the 24-hour window.
    open_window: bool,
    /// The legacy "unknown contact" rule (`--contacts-legacy-validation`).
    contacts: Option<Arc<ContactsService>>,
    outbox: Outbox,
    /// Groups, for `recipient_type: group` sends and customers writing in groups.
    groups: Option<Arc<GroupService>>,
    /// Stores the network's steps that are due at once with the message.
    immediate: Option<Arc<dyn ImmediateSteps>>,
}

/// The pricing category of free-form messages (and of templates the registry
/// does not know, which fail anyway).
const SERVICE: &str = "service";

/// How long an undelivered message is tried (`messages.md` §9, Recommended).
const DEFAULT_TTL_SECS: u64 = 30 * 24 * 3600;

/// The customer-service window (`messages.md` §11).
const WINDOW_SECS: i64 = 24 * 3600;

/// A new outbound message id: `gB` and 25 base64url characters, the shape of
/// the original's ids (clients must not parse them). The first 6 bytes are
/// the time in milliseconds and the other 13 random, so that the ids stored
/// in one commit sit side by side in the primary-key index: random keys
/// dirtied one index page per message, written again at every checkpoint.
/// The random bytes come from the thread's CSPRNG (`rand`, seeded from the
/// OS): a `getrandom` system call per message was 1 % of the send path.
pub fn new_outbound_id() -> String {
    let mut raw = [0u8; 19];
    let millis =
        u64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis()))
            .unwrap_or(u64::MAX);
    raw[..6].copy_from_slice(&millis.to_be_bytes()[2..]);
    rand::Rng::fill_bytes(&mut rand::rng(), &mut raw[6..]);
    let mut id = String::with_capacity(27);
    id.push_str("gB");
    id.push_str(&URL_SAFE_NO_PAD.encode(raw)[..25]);
    id
}

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
        media: Arc<MediaService>,
        clock: Arc<dyn Clock>,
        rules: Rules,
        open_window: bool,
        outbox: Outbox,
    ) -> Self {
        Self { store, network, media, clock, rules, open_window, contacts: None, outbox, groups: None, immediate: None }
    }

    /// Lets the network store the steps it takes at once with each message.
    pub fn with_immediate_steps(mut self, immediate: Arc<dyn ImmediateSteps>) -> Self {
        self.immediate = Some(immediate);
        self
    }

    /// Lets sends and inbound messages reach groups.
    pub fn with_groups(mut self, groups: Arc<GroupService>) -> Self {
        self.groups = Some(groups);
        self
    }

    /// The group, if the business is in it (404/1012 otherwise).
    async fn known_group(&self, id: &str) -> Result<crate::groups::Group, WaError> {
        let unknown = || WaError::new(ErrorCode::GroupUnknown, "Group is unknown");
        let Some(groups) = &self.groups else { return Err(unknown()) };
        groups.get(id).await.map_err(|e| if e.code() == Some(ErrorCode::ResourceNotFound) { unknown() } else { e })
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
                let wa_id = normalize(&msg.to, self.network.registered_country_code())
                    .ok_or_else(|| WaError::invalid_value("to", &msg.to))?;
                if wa_id == own {
                    return Err(WaError::new(ErrorCode::BadUser, "Cannot send a message to your own number"));
                }
                let contact = (wa_id != msg.to).then(|| (msg.to.clone(), wa_id.clone()));
                (wa_id, contact)
            }
            RecipientType::Group => {
                self.known_group(&msg.to).await?;
                (msg.to.clone(), None)
            }
        };
        let to_group = msg.recipient_type == RecipientType::Group;
        if let (Some(contacts), false) = (&self.contacts, to_group) {
            contacts.send_gate(&peer).await?;
        }
        self.check_media(&msg).await?;
        let (failure, category) = match &msg.template {
            Some(call) => self.template_check(call).await?,
            // The customer-service window is a one-to-one rule.
            None if msg.kind.is_free_form() && !to_group => (self.window_failure(&peer).await?, SERVICE.to_owned()),
            None => (None, SERVICE.to_owned()),
        };

        let now = self.clock.now_unix();
        let record = MessageRecord {
            id: new_outbound_id(),
            direction: "outbound".into(),
            recipient_type: if to_group { "group" } else { "individual" }.into(),
            peer,
            kind: msg.kind.as_str().into(),
            content: msg.content.to_string(),
            status: "accepted".into(),
            created_at: now,
            updated_at: now,
            next_event_at: self.network.first_step_at(self.clock.now_millis()),
            failure,
            category: Some(category),
            conversation: None,
            // Undelivered messages expire after their `ttl` (default 30 days).
            expires_at: Some(self.clock.now_millis().saturating_add(
                i64::try_from(msg.ttl_secs.unwrap_or(DEFAULT_TTL_SECS)).unwrap_or(i64::MAX / 2000).saturating_mul(1000),
            )),
        };
        let stored_with_steps = match &self.immediate {
            Some(immediate) => immediate.store_with_steps(&record).await?,
            None => false,
        };
        if !stored_with_steps {
            self.store.insert_message(&record, &[]).await?;
            self.network.outbound_accepted();
        }
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
        Ok(Sent { id: record.id, contact })
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
        if message.direction != "inbound" {
            return Err(WaError::invalid("Only received messages can be marked as read"));
        }
        // Reading a message reads the earlier ones of the chat too; again is fine.
        self.store.mark_inbound_read(id, self.clock.now_unix()).await?;
        Ok(())
    }

    /// A free-form message fails with 470 unless the customer wrote within the
    /// last 24 hours (reported by status, after the 201).
    async fn window_failure(&self, peer: &str) -> Result<Option<String>, WaError> {
        if self.open_window {
            return Ok(None);
        }
        let now = self.clock.now_unix();
        let open = self.store.last_inbound_at(peer).await?.is_some_and(|at| now - at <= WINDOW_SECS);
        if open {
            return Ok(None);
        }
        let item = ErrorItem::new(
            ErrorCode::ReEngagementMessage,
            "Message failed to send because more than 24 hours have passed since the customer last replied to this number",
        );
        Ok(serde_json::to_string(&[item]).ok())
    }

    /// `POST /simulator/inbound`: a simulated customer writes to the business.
    /// Media is stored first; the message is stored in its callback shape.
    pub async fn receive(&self, body: &Map<String, Value>) -> Result<String, WaError> {
        let req = inbound::parse(body)?;
        let Some(own) = self.network.registered_number() else {
            return Err(WaError::new(ErrorCode::ServiceNotReady, "Service not ready"));
        };
        let wa_id = normalize(&req.from, self.network.registered_country_code())
            .ok_or_else(|| WaError::invalid_value("from", &req.from))?;
        if wa_id == own {
            return Err(WaError::new(ErrorCode::BadUser, "A customer cannot have the business's own number"));
        }
        let object = match &req.media {
            None => req.object.clone(),
            Some(m) => {
                let record = self.media.store_bytes(&m.bytes, &m.mime_type, "inbound", m.filename.clone()).await?;
                let mut o = json!({ "id": record.id, "mime_type": record.mime_type, "sha256": record.sha256 });
                if self.outbox.auto_downloads(&req.kind)
                    && let Some(file) = self.media.location(&record.id)
                {
                    o["file"] = json!(file);
                }
                if let Some(c) = &m.caption {
                    o["caption"] = json!(c);
                }
                if let Some(f) = &m.filename {
                    o["filename"] = json!(f);
                }
                o
            }
        };
        // A customer writing in a group must be one of its participants.
        let group_id = match body.get("group_id") {
            None | Some(Value::Null) => None,
            Some(Value::String(g)) => {
                let group = self.known_group(g).await?;
                if !group.participants.contains(&wa_id) {
                    return Err(WaError::new(
                        ErrorCode::NotGroupParticipant,
                        format!("{wa_id} is not a participant of group {g}"),
                    ));
                }
                Some(g.clone())
            }
            Some(other) => return Err(WaError::invalid_json_value("group_id", other)),
        };
        let id = inbound::new_inbound_id();
        let now = self.clock.now_unix();
        let mut content = inbound::callback(&id, &wa_id, now, &req, object);
        if let Some(g) = &group_id {
            content["messages"][0]["group_id"] = json!(g);
        }
        let record = MessageRecord::inbound(id.clone(), wa_id, req.kind.clone(), content.to_string(), now);
        let callback = Outbox::inbound(&self.outbox.policy(), &content, self.clock.now_millis());
        self.store.insert_message(&record, callback.as_slice()).await?;
        self.outbox.stored();
        Ok(id)
    }

    /// `POST /simulator/customers/{wa_id}/change-number`: a customer moves to a
    /// new number. Stored as a system message; its callback (no `contacts`)
    /// goes out only with `notify_user_change_number` (`webhooks.md` §3).
    pub async fn customer_changed_number(&self, wa_id: &str, body: &Map<String, Value>) -> Result<String, WaError> {
        let cc = self.network.registered_country_code();
        let old = normalize(wa_id, cc).ok_or_else(|| WaError::not_found(format!("Customer {wa_id} not found")))?;
        let new = match body.get("new_wa_id") {
            None | Some(Value::Null) => return Err(WaError::missing_parameter("new_wa_id")),
            Some(Value::String(n)) => normalize(n, cc).ok_or_else(|| WaError::invalid_value("new_wa_id", n))?,
            Some(other) => return Err(WaError::invalid_json_value("new_wa_id", other)),
        };
        if new == old {
            return Err(WaError::invalid("The new number is the customer's current number"));
        }
        let id = inbound::new_inbound_id();
        let now = self.clock.now_unix();
        let content = json!({ "messages": [{
            "from": old, "id": id, "timestamp": now.to_string(), "type": "system",
            "system": { "type": "user_changed_number", "body": format!("User {old} changed from {old} to {new}"), "new_wa_id": new },
        }]});
        let record = MessageRecord::inbound(id.clone(), old, "system".into(), content.to_string(), now);
        let callback = if self.outbox.settings().notify_user_change_number {
            Outbox::inbound(&self.outbox.policy(), &content, self.clock.now_millis())
        } else {
            None
        };
        self.store.insert_message(&record, callback.as_slice()).await?;
        self.outbox.stored();
        Ok(id)
    }

    /// `POST /simulator/errors`: fault injection: an out-of-band `errors`
    /// callback (`webhooks.md` §5) with a code of the table and optional
    /// details, so that an integration's error handling can be tried.
    pub async fn inject_error(&self, body: &Map<String, Value>) -> Result<(), WaError> {
        let code = match body.get("code") {
            None | Some(Value::Null) => return Err(WaError::missing_parameter("code")),
            Some(v) => v
                .as_u64()
                .and_then(|c| u16::try_from(c).ok())
                .and_then(ErrorCode::from_code)
                .ok_or_else(|| WaError::invalid_json_value("code", v))?,
        };
        let item = match body.get("details") {
            None | Some(Value::Null) => ErrorItem::bare(code),
            Some(Value::String(d)) => ErrorItem::new(code, d.clone()),
            Some(other) => return Err(WaError::invalid_json_value("details", other)),
        };
        let mut value = serde_json::to_value(&item).map_err(|_| WaError::internal("Cannot encode the error"))?;
        value["href"] = json!("https://developers.facebook.com/docs/whatsapp/api/errors/");
        if let Some(cb) = Outbox::error(&self.outbox.policy(), &value, None, self.clock.now_millis()) {
            self.store.enqueue_callbacks(vec![cb]).await?;
            self.outbox.stored();
        }
        Ok(())
    }

    /// `POST /simulator/messages/{id}/delete`: the customer deletes a message
    /// they sent; the business hears of it by a `deleted` status.
    pub async fn customer_deleted(&self, id: &str) -> Result<(), WaError> {
        let Some(m) = self.store.get_message(id).await? else {
            return Err(WaError::not_found(format!("Message {id} not found")));
        };
        if m.direction != "inbound" || m.kind == "system" {
            return Err(WaError::invalid("Only a message the customer sent can be deleted by the customer"));
        }
        let now = self.clock.now_millis();
        if let Some(cb) = Outbox::deleted(&self.outbox.policy(), id, &m.peer, now / 1000, now) {
            self.store.enqueue_callbacks(vec![cb]).await?;
            self.outbox.stored();
        }
        Ok(())
    }

    /// How a template send will fail, if it does not fit the registry (the
    /// failure is reported by status, after the 201), and its pricing category.
    async fn template_check(&self, call: &TemplateCall) -> Result<(Option<String>, String), WaError> {
        let defs: Vec<Template> = self
            .store
            .find_templates(&call.namespace, &call.name)
            .await?
            .into_iter()
            .filter_map(|r| {
                let components = serde_json::from_str(&r.components).ok()?;
                Some(Template {
                    namespace: r.namespace,
                    name: r.name,
                    language: r.language,
                    components,
                    category: r.category,
                })
            })
            .collect();
        let failure = templates::check(call, &defs).and_then(|e| serde_json::to_string(&[e]).ok());
        let category = defs
            .iter()
            .find(|t| t.language == call.language)
            .map_or_else(|| "utility".to_owned(), |t| t.category.to_ascii_lowercase());
        Ok((failure, category))
    }

    /// `POST /simulator/templates`: adds or replaces an approved template.
    pub async fn register_template(&self, body: &Map<String, Value>) -> Result<Template, WaError> {
        let t = Template::parse(body)?;
        let record = TemplateRecord {
            namespace: t.namespace.clone(),
            name: t.name.clone(),
            language: t.language.clone(),
            components: t.components.to_string(),
            created_at: self.clock.now_unix(),
            category: t.category.clone(),
        };
        self.store.put_template(&record).await?;
        Ok(t)
    }

    /// `GET /simulator/templates`.
    pub async fn templates(&self) -> Result<Vec<Template>, WaError> {
        Ok(self
            .store
            .list_templates()
            .await?
            .into_iter()
            .map(|r| Template {
                components: serde_json::from_str(&r.components).unwrap_or(Value::Null),
                category: r.category,
                namespace: r.namespace,
                name: r.name,
                language: r.language,
            })
            .collect())
    }

    /// `DELETE /simulator/templates`: one language, or every language of a name.
    pub async fn delete_templates(&self, namespace: &str, name: &str, language: Option<&str>) -> Result<u64, WaError> {
        match self.store.delete_templates(namespace, name, language).await? {
            0 => Err(WaError::not_found("Template not found")),
            n => Ok(n),
        }
    }

    /// The last `limit` messages exchanged with a customer, oldest first.
    pub async fn conversation(&self, wa_id: &str, limit: usize) -> Result<Vec<MessageRecord>, WaError> {
        Ok(self.store.conversation(wa_id, limit).await?)
    }

    /// A message's status history.
    pub async fn statuses(&self, id: &str) -> Result<Vec<crate::ports::StatusRecord>, WaError> {
        Ok(self.store.message_statuses(id).await?)
    }

    /// A stored message (the simulator's control API shows them).
    pub async fn get(&self, id: &str) -> Result<Option<MessageRecord>, WaError> {
        Ok(self.store.get_message(id).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outbound_ids_look_like_the_originals() {
        let id = new_outbound_id();
        assert_eq!(id.len(), 27);
        assert!(id.starts_with("gB"));
        assert!(id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        assert_ne!(id, new_outbound_id());
        // Ids made together share their leading characters (the time), so
        // they are stored side by side; the rest differs.
        let (a, b) = (new_outbound_id(), new_outbound_id());
        assert_eq!(a[..7], b[..7], "{a} {b}");
        assert_ne!(a[9..], b[9..], "{a} {b}");
    }

    #[test]
    fn limits() {
        assert_eq!(base_mime("audio/ogg; codecs=opus"), "audio/ogg");
        assert!(media_limits(MessageType::Text).is_none());
        assert_eq!(media_limits(MessageType::Image).map(|l| l.1), Some(5 * 1024 * 1024));
    }
}
