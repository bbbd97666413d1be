//! Callbacks (`webhooks.md`): the events the server POSTs to `webhooks.url`,
//! in the On-Premises shape (flat `contacts`/`messages`/`statuses`/`errors`).
//!
//! Producers (sends, receipts, inbound messages) turn events into
//! [`NewCallback`]s here and hand them to the store *in the same transaction*
//! as the change they report, so an event is on disk exactly when its cause
//! is. The delivery engine (`wabiz-webhooks`) reads them back, batches them
//! into POST bodies, and retries until the receiver answers 200.

use std::sync::Arc;

use serde_json::{Value, json};
use tokio::sync::{Notify, watch};

use crate::messages::lifecycle::{Failure, MessageStatus, PricingCategory};
use crate::settings::application::ApplicationSettings;

/// The top-level key a callback item goes under; items of one kind can share
/// a POST.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallbackKind {
    /// A `statuses[]` item.
    Status,
    /// A `messages[]` item, with its sender in `contacts[]` (not for system
    /// messages).
    Message,
    /// An `errors[]` item (out-of-band problems).
    Error,
    /// A `services[]` item (garbage-collection results).
    Service,
    /// A `contacts[]` item (a background contact check's result).
    Contact,
}

impl CallbackKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CallbackKind::Status => "statuses",
            CallbackKind::Message => "messages",
            CallbackKind::Error => "errors",
            CallbackKind::Service => "services",
            CallbackKind::Contact => "contacts",
        }
    }

    pub fn parse(s: &str) -> Option<CallbackKind> {
        Some(match s {
            "statuses" => CallbackKind::Status,
            "messages" => CallbackKind::Message,
            "errors" => CallbackKind::Error,
            "services" => CallbackKind::Service,
            "contacts" => CallbackKind::Contact,
            _ => return None,
        })
    }
}

/// A callback to store (and then deliver).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCallback {
    pub kind: CallbackKind,
    /// The ordering key: callbacks with the same peer (a customer's `wa_id`,
    /// a group id) are delivered in the order they were stored.
    pub peer: String,
    /// The message the callback is about, for looking it up.
    pub subject: Option<String>,
    /// The item (JSON text) that goes into the kind's array; several items
    /// of one message's status chain are stored as one callback, their texts
    /// joined by commas (see [`NewCallback::append`]).
    pub item: String,
    /// For messages: the sender's `contacts[]` item (JSON text).
    pub contact: Option<String>,
    /// Unix milliseconds: when it may be delivered (its creation, unless it
    /// is held back, see [`NewCallback::hold_back`]).
    pub created_at: i64,
}

impl NewCallback {
    /// Holds the callback back for `ms` outside its customer's order, so that
    /// the customer's later callbacks overtake it (the simulator's chaos).
    pub fn hold_back(&mut self, ms: u64) {
        self.peer.clear();
        self.created_at = self.created_at.saturating_add(i64::try_from(ms).unwrap_or(i64::MAX / 2));
    }

    /// Adds `next`'s item after this one's: both go in one row and one POST,
    /// in this order. Only for callbacks of the same kind and peer.
    pub fn append(&mut self, next: &NewCallback) {
        debug_assert!(self.kind == next.kind && self.peer == next.peer);
        self.item.push(',');
        self.item.push_str(&next.item);
    }
}

/// A stored callback not yet acknowledged, with its delivery history so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingCallback {
    pub seq: i64,
    pub kind: CallbackKind,
    pub peer: String,
    pub subject: Option<String>,
    pub item: String,
    pub contact: Option<String>,
    /// Unix milliseconds.
    pub created_at: i64,
    /// Failed attempts so far.
    pub attempts: u32,
    /// Not before this (Unix milliseconds).
    pub next_attempt_at: i64,
    pub last_attempt_at: Option<i64>,
    /// What the last attempt got (`HTTP 500`, `timeout`, …).
    pub last_result: Option<String>,
}

/// What became of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallbackOutcome {
    /// Acknowledged with 200: the callback is done.
    Delivered { seq: i64 },
    /// Not acknowledged: try again at `next_attempt_at`. The claim is
    /// released: the callback waits in the database, not in memory.
    Failed { seq: i64, attempts: u32, at: i64, next_attempt_at: i64, result: AttemptFailure },
    /// Given back unattempted (it waits behind a failed one of its peer).
    Released { seq: i64 },
}

/// What one attempt got when it was not acknowledged.
///
/// Its text ([`Display`](std::fmt::Display)) is what the queue view shows as a
/// callback's `last_result` (`HTTP 500`, `timeout`, `connection failed: …`,
/// `TLS failed: …`);
/// its [label](AttemptFailure::as_label) names it in the request metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptFailure {
    /// The receiver answered with a status other than 200.
    Status(u16),
    /// No answer within the attempt's time limit.
    Timeout,
    /// No connection (refused, name resolution…), with the texts of the
    /// error's causes, outermost first. They never hold the URL, whose query
    /// may carry the shared secret.
    Connect(Vec<String>),
    /// The TLS handshake failed (a certificate not trusted or not for this
    /// name, a receiver that does not speak TLS); its causes, as for `Connect`.
    Tls(Vec<String>),
    /// The request failed otherwise; its causes, as for `Connect`.
    Request(Vec<String>),
    /// The task making the request ended without a result (it panicked).
    TaskFailed,
}

impl AttemptFailure {
    /// The metrics label: the status code, or the kind of failure in
    /// snake case (`timeout`, `connection_failed`, `tls_failed`,
    /// `request_failed`, `request_task_failed`).
    pub fn as_label(&self) -> std::borrow::Cow<'static, str> {
        match self {
            AttemptFailure::Status(status) => status.to_string().into(),
            AttemptFailure::Timeout => "timeout".into(),
            AttemptFailure::Connect(_) => "connection_failed".into(),
            AttemptFailure::Tls(_) => "tls_failed".into(),
            AttemptFailure::Request(_) => "request_failed".into(),
            AttemptFailure::TaskFailed => "request_task_failed".into(),
        }
    }
}

impl std::fmt::Display for AttemptFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (what, causes) = match self {
            AttemptFailure::Status(status) => return write!(f, "HTTP {status}"),
            AttemptFailure::Timeout => return f.write_str("timeout"),
            AttemptFailure::TaskFailed => return f.write_str("request task failed"),
            AttemptFailure::Connect(causes) => ("connection failed", causes),
            AttemptFailure::Tls(causes) => ("TLS failed", causes),
            AttemptFailure::Request(causes) => ("request failed", causes),
        };
        f.write_str(what)?;
        causes.iter().try_for_each(|cause| write!(f, ": {cause}"))
    }
}

// Kept beside the type rather than in the module's tests below, which are
// about the producers.
#[cfg(test)]
mod attempt_failure_tests {
    use super::AttemptFailure;

    #[test]
    fn text_is_what_the_queue_view_shows() {
        let cases = [
            (AttemptFailure::Status(500), "HTTP 500"),
            (AttemptFailure::Timeout, "timeout"),
            (AttemptFailure::Connect(Vec::new()), "connection failed"),
            (
                AttemptFailure::Connect(vec!["client error (Connect)".into(), "tcp connect error".into()]),
                "connection failed: client error (Connect): tcp connect error",
            ),
            (AttemptFailure::Request(vec!["builder error".into()]), "request failed: builder error"),
            (
                AttemptFailure::Tls(vec!["invalid peer certificate: UnknownIssuer".into()]),
                "TLS failed: invalid peer certificate: UnknownIssuer",
            ),
            (AttemptFailure::TaskFailed, "request task failed"),
        ];
        for (failure, text) in cases {
            assert_eq!(failure.to_string(), text);
        }
    }

    #[test]
    fn labels_name_the_kind_of_failure() {
        let cases = [
            (AttemptFailure::Status(503), "503"),
            (AttemptFailure::Timeout, "timeout"),
            (AttemptFailure::Connect(vec!["tcp connect error".into()]), "connection_failed"),
            (AttemptFailure::Tls(vec!["invalid peer certificate".into()]), "tls_failed"),
            (AttemptFailure::Request(Vec::new()), "request_failed"),
            (AttemptFailure::TaskFailed, "request_task_failed"),
        ];
        for (failure, label) in cases {
            assert_eq!(failure.as_label(), label);
        }
    }
}

/// A pricing conversation (`webhooks.md` §4): one per customer and category,
/// open for 24 hours from the first message that opened it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Conversation {
    pub id: String,
    pub category: PricingCategory,
    /// Unix seconds.
    pub expires_at: i64,
    /// True on the message that opened it (its `sent` status carries the
    /// expiration time).
    #[serde(default)]
    pub opened_here: bool,
}

/// How long a conversation stays open.
pub const CONVERSATION_SECS: i64 = 24 * 3600;

impl Conversation {
    /// A conversation opened at `now` (Unix seconds) by the message whose
    /// `sent` status will report it: a new id (32 hex characters, like the
    /// originals), open for [`CONVERSATION_SECS`].
    pub fn open(category: PricingCategory, now: i64) -> Self {
        Self { id: crate::ids::conversation(), category, expires_at: now + CONVERSATION_SECS, opened_here: true }
    }

    /// Whether it is still open at `now` (Unix seconds).
    pub fn is_open_at(&self, now: i64) -> bool {
        self.expires_at > now
    }

    /// The same conversation as a later message of it sees it.
    pub fn joined(&self) -> Self {
        Self { opened_here: false, ..self.clone() }
    }
}

/// Which callbacks the settings ask for, read once per batch of events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackPolicy {
    /// `webhooks.url` is set. Without it events are dropped, not queued
    /// (`webhooks.md` §1.1), so setting a URL later replays nothing.
    pub enabled: bool,
    pub sent: bool,
    pub delivered: bool,
    pub read: bool,
    /// `conversation`/`pricing` blocks on statuses (unless the deprecated
    /// `webhook_payload_conversation_pricingmodel_disabled` is set).
    pub pricing: bool,
}

impl CallbackPolicy {
    pub fn of(settings: &ApplicationSettings) -> Self {
        let m = &settings.webhooks.message;
        Self {
            enabled: settings.webhooks.url.as_deref().is_some_and(|u| !u.is_empty()),
            sent: m.sent,
            delivered: m.delivered,
            read: m.read,
            pricing: !settings.webhook_payload_conversation_pricingmodel_disabled,
        }
    }

    /// Whether a status callback is wanted (`failed` always is).
    pub fn wants_status(&self, status: MessageStatus) -> bool {
        self.enabled
            && match status {
                MessageStatus::Sent => self.sent,
                MessageStatus::Delivered => self.delivered,
                MessageStatus::Read => self.read,
                _ => true,
            }
    }
}

/// A status change to report.
#[derive(Debug, Clone, Copy)]
pub struct StatusEvent<'a> {
    pub message_id: &'a str,
    pub recipient_id: &'a str,
    pub status: MessageStatus,
    /// Unix seconds.
    pub at: i64,
    /// Why it failed (for `failed`).
    pub errors: Option<&'a Failure>,
    pub conversation: Option<&'a Conversation>,
    /// For a message to a group: the participant whose receipt this is
    /// (`delivered`, `read`), and the group's `recipient_type`.
    pub group: Option<GroupReceipt<'a>>,
}

/// The group part of a status (`groups.md` §5, Recommended): the status of a
/// group message names the group as `recipient_id`, says `recipient_type:
/// group`, and each participant's receipt names them in `participant_id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupReceipt<'a> {
    pub participant_id: Option<&'a str>,
}

/// The `statuses[]` item of a status change (`webhooks.md` §4): `conversation`
/// and `pricing` on `sent` and `delivered`, `expiration_timestamp` only on the
/// `sent` status of the message that opened the conversation, `errors` on
/// `failed`. Written straight to JSON text from borrowed fields: every
/// outbound message makes three of these, and building a `Value` tree first
/// cost about a tenth of the server's worker time (issue 7). The fields are in
/// the order a `Value` map would print them (sorted), so the text is the same.
pub fn status_item(e: &StatusEvent<'_>, pricing: bool) -> String {
    let priced = match (pricing, e.conversation, e.status) {
        (true, Some(c), MessageStatus::Sent | MessageStatus::Delivered) => Some(c),
        _ => None,
    };
    let item = StatusItem {
        conversation: priced.map(|c| ConversationItem {
            expiration_timestamp: (e.status == MessageStatus::Sent && c.opened_here).then_some(c.expires_at),
            id: &c.id,
            origin: Origin { kind: c.category },
        }),
        errors: e.errors,
        id: e.message_id,
        participant_id: e.group.and_then(|g| g.participant_id),
        pricing: priced.map(|c| Pricing { billable: true, category: c.category, pricing_model: "CBP" }),
        recipient_id: e.recipient_id,
        recipient_type: e.group.map(|_| "group"),
        status: e.status,
        timestamp: Seconds(e.at),
    };
    // Serialising these plain structs cannot fail.
    serde_json::to_string(&item).unwrap_or_default()
}

#[derive(serde::Serialize)]
struct StatusItem<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    conversation: Option<ConversationItem<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<&'a Failure>,
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    participant_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pricing: Option<Pricing<'a>>,
    recipient_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    recipient_type: Option<&'static str>,
    status: MessageStatus,
    timestamp: Seconds,
}

#[derive(serde::Serialize)]
struct ConversationItem<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    expiration_timestamp: Option<i64>,
    id: &'a str,
    origin: Origin,
}

#[derive(serde::Serialize)]
struct Origin {
    #[serde(rename = "type")]
    kind: PricingCategory,
}

#[derive(serde::Serialize)]
struct Pricing<'a> {
    billable: bool,
    category: PricingCategory,
    pricing_model: &'a str,
}

/// Unix seconds written as a JSON string, as the original does.
struct Seconds(i64);

impl serde::Serialize for Seconds {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

/// Turns events into callbacks by the current settings, and wakes the
/// delivery engine once they are stored.
#[derive(Clone)]
pub struct Outbox {
    settings: watch::Receiver<Arc<ApplicationSettings>>,
    wake: Arc<Notify>,
}

impl Outbox {
    pub fn new(settings: watch::Receiver<Arc<ApplicationSettings>>) -> Self {
        Self { settings, wake: Arc::new(Notify::new()) }
    }

    /// The delivery engine waits on this.
    pub fn wake_handle(&self) -> Arc<Notify> {
        Arc::clone(&self.wake)
    }

    /// Tells the delivery engine that new callbacks are stored.
    pub fn stored(&self) {
        self.wake.notify_one();
    }

    pub fn policy(&self) -> CallbackPolicy {
        CallbackPolicy::of(&self.settings.borrow())
    }

    /// The effective application settings now.
    pub fn settings(&self) -> Arc<ApplicationSettings> {
        Arc::clone(&self.settings.borrow())
    }

    /// Whether inbound media of `kind` is downloaded before its callback goes
    /// out (`media.auto_download`): such callbacks carry the stored file's
    /// path (`file`); the others only the id, fetched on demand.
    pub fn auto_downloads(&self, kind: &str) -> bool {
        self.settings.borrow().media_auto_download.iter().any(|k| k.as_str() == kind)
    }

    /// The callback of a status change, if the settings want it.
    pub fn status(policy: &CallbackPolicy, e: &StatusEvent<'_>, now_ms: i64) -> Option<NewCallback> {
        if !policy.wants_status(e.status) {
            return None;
        }
        Some(NewCallback {
            kind: CallbackKind::Status,
            peer: e.recipient_id.to_owned(),
            subject: Some(e.message_id.to_owned()),
            item: status_item(e, policy.pricing),
            contact: None,
            created_at: now_ms,
        })
    }

    /// The callback of an inbound message in its callback shape
    /// (`{"contacts":[…],"messages":[…]}`, as stored), if callbacks are on;
    /// ordered with the sender's other callbacks.
    pub fn inbound(policy: &CallbackPolicy, doc: &Value, now_ms: i64) -> Option<NewCallback> {
        let message = doc.get("messages")?.get(0)?;
        let from = message.get("from").and_then(Value::as_str).unwrap_or_default();
        Self::message(policy, from, doc, now_ms)
    }

    /// A `system` group event (`{"messages":[…]}`), ordered with the group's
    /// other callbacks.
    pub fn group_event(policy: &CallbackPolicy, group_id: &str, doc: &Value, now_ms: i64) -> Option<NewCallback> {
        Self::message(policy, group_id, doc, now_ms)
    }

    fn message(policy: &CallbackPolicy, peer: &str, doc: &Value, now_ms: i64) -> Option<NewCallback> {
        if !policy.enabled {
            return None;
        }
        let message = doc.get("messages")?.get(0)?;
        Some(NewCallback {
            kind: CallbackKind::Message,
            peer: peer.to_owned(),
            subject: message.get("id").and_then(Value::as_str).map(str::to_owned),
            item: message.to_string(),
            // System messages have no sender card.
            contact: doc.get("contacts").and_then(|c| c.get(0)).map(Value::to_string),
            created_at: now_ms,
        })
    }

    /// A background contact check's result (`webhooks.md` §6): the item shape
    /// of the `/v1/contacts` answer, `wa_id` only when `valid`.
    pub fn contact_result(
        policy: &CallbackPolicy,
        input: &str,
        wa_id: &str,
        status: &str,
        now_ms: i64,
    ) -> Option<NewCallback> {
        if !policy.enabled {
            return None;
        }
        let mut item = json!({ "input": input, "status": status });
        if status == "valid" {
            item["wa_id"] = json!(wa_id);
        }
        Some(NewCallback {
            kind: CallbackKind::Contact,
            peer: wa_id.to_owned(),
            subject: None,
            item: item.to_string(),
            contact: None,
            created_at: now_ms,
        })
    }

    /// A status of an inbound message the customer deleted (`deleted`,
    /// `webhooks.md` §4); sent whatever the filters, like `failed`.
    pub fn deleted(
        policy: &CallbackPolicy,
        message_id: &str,
        wa_id: &str,
        at: i64,
        now_ms: i64,
    ) -> Option<NewCallback> {
        let e = StatusEvent {
            message_id,
            recipient_id: wa_id,
            status: MessageStatus::Deleted,
            at,
            errors: None,
            conversation: None,
            group: None,
        };
        Self::status(policy, &e, now_ms)
    }

    /// An `errors[]` callback (out-of-band failures), if callbacks are on.
    pub fn error(policy: &CallbackPolicy, item: &Value, subject: Option<&str>, now_ms: i64) -> Option<NewCallback> {
        Self::unordered(policy, CallbackKind::Error, item, subject, now_ms)
    }

    /// A `services[]` callback (a garbage-collection result), if callbacks are on.
    pub fn service(policy: &CallbackPolicy, item: &Value, now_ms: i64) -> Option<NewCallback> {
        Self::unordered(policy, CallbackKind::Service, item, None, now_ms)
    }

    /// A callback with no peer: no order with any other.
    fn unordered(
        policy: &CallbackPolicy,
        kind: CallbackKind,
        item: &Value,
        subject: Option<&str>,
        now_ms: i64,
    ) -> Option<NewCallback> {
        policy.enabled.then(|| NewCallback {
            kind,
            peer: String::new(),
            subject: subject.map(str::to_owned),
            item: item.to_string(),
            contact: None,
            created_at: now_ms,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;
    use MessageStatus::{Delivered, Failed, Read, Sent};

    fn settings(patch: Value) -> ApplicationSettings {
        let base = ApplicationSettings::default();
        base.patched(&patch, crate::settings::application::PatchRules { allow_http_webhooks: false }).unwrap()
    }

    #[test]
    fn policy_follows_the_settings() {
        let off = CallbackPolicy::of(&ApplicationSettings::default());
        assert!(!off.enabled && !off.wants_status(Failed));
        let on = CallbackPolicy::of(&settings(json!({"webhooks": {"url": "https://h.example/x"}})));
        assert!(on.wants_status(Sent) && on.wants_status(Read) && on.wants_status(Failed));
        let quiet = CallbackPolicy::of(&settings(
            json!({"webhooks": {"url": "https://h.example/x", "message": {"read": false}}, "sent_status": false}),
        ));
        assert!(!quiet.wants_status(Sent) && quiet.wants_status(Delivered) && !quiet.wants_status(Read));
        assert!(quiet.wants_status(Failed));
    }

    #[test]
    fn status_items_carry_conversation_where_documented() {
        let c = Conversation {
            id: "c0ffee".into(),
            category: PricingCategory::Service,
            expires_at: 86_500,
            opened_here: true,
        };
        let e = |status, conversation| StatusEvent {
            message_id: "gBx",
            recipient_id: "16315551234",
            status,
            at: 100,
            errors: None,
            conversation,
            group: None,
        };
        let item = |e: &StatusEvent<'_>, pricing| -> Value {
            serde_json::from_str(&status_item(e, pricing)).expect("an item is JSON")
        };
        let sent = item(&e(Sent, Some(&c)), true);
        assert_eq!(sent["timestamp"], "100");
        assert_eq!(
            sent["conversation"],
            json!({"id": "c0ffee", "origin": {"type": "service"}, "expiration_timestamp": 86_500})
        );
        assert_eq!(sent["pricing"], json!({"billable": true, "pricing_model": "CBP", "category": "service"}));
        let delivered = item(&e(Delivered, Some(&c)), true);
        assert!(delivered["conversation"].get("expiration_timestamp").is_none());
        assert!(item(&e(Read, Some(&c)), true).get("conversation").is_none());
        assert!(item(&e(Sent, Some(&c)), false).get("pricing").is_none());
        let window = Failure(vec![crate::error::ErrorItem::bare(ErrorCode::ReEngagementMessage)]);
        let failed = StatusEvent { errors: Some(&window), ..e(Failed, None) };
        assert_eq!(item(&failed, true)["errors"][0]["code"], 470);
        // The text is what a sorted `Value` map prints: integrations that
        // compare stored bodies see no change.
        assert_eq!(
            status_item(&e(Sent, Some(&c)), true),
            json!({
                "id": "gBx", "recipient_id": "16315551234", "status": "sent", "timestamp": "100",
                "conversation": {"id": "c0ffee", "origin": {"type": "service"}, "expiration_timestamp": 86_500},
                "pricing": {"billable": true, "pricing_model": "CBP", "category": "service"},
            })
            .to_string()
        );
    }

    #[test]
    fn inbound_callbacks_split_sender_and_message() {
        let on = CallbackPolicy::of(&settings(json!({"webhooks": {"url": "https://h.example/x"}})));
        let stored = json!({"contacts":[{"profile":{"name":"K"},"wa_id":"1"}],"messages":[{"from":"1","id":"ABx","timestamp":"5","type":"text","text":{"body":"hi"}}]});
        let cb = Outbox::inbound(&on, &stored, 7).unwrap();
        assert_eq!((cb.kind, cb.peer.as_str(), cb.subject.as_deref()), (CallbackKind::Message, "1", Some("ABx")));
        assert_eq!(cb.contact.as_deref(), Some(r#"{"profile":{"name":"K"},"wa_id":"1"}"#));
        let off = CallbackPolicy::of(&ApplicationSettings::default());
        assert!(Outbox::inbound(&off, &stored, 7).is_none());
        let event =
            Outbox::group_event(&on, "1-2", &json!({"messages":[{"from":"1","id":"ABy","type":"system"}]}), 7).unwrap();
        assert_eq!((event.peer.as_str(), event.contact), ("1-2", None), "ordered by group, no sender card");
    }
}
