//! The storage port. One trait, [`Store`], made of small per-concern traits;
//! `wabiz-store` implements it twice (SQLite, PostgreSQL) and one conformance
//! suite proves the two behave the same.

use std::sync::Arc;

use async_trait::async_trait;

use crate::callbacks::{CallbackOutcome, Conversation, NewCallback, PendingCallback};
use crate::error::{ErrorCode, WaError};
use crate::messages::lifecycle::{Direction, Failure, MessageStatus, PricingCategory, RecipientType};
use crate::messages::plan::DeliveryPlan;
use crate::traffic::{TrafficProgress, TrafficRun, TrafficState};
use crate::users::Role;

/// A storage failure. The variants say what the caller can do about it; the
/// message is for the log only (it may hold SQL or driver text).
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached or refused the work (retry later).
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// Anything else the engine reported.
    #[error("storage error: {0}")]
    Other(String),
}

impl From<StoreError> for WaError {
    fn from(e: StoreError) -> Self {
        // The engine's message may contain SQL or paths: it travels as the
        // cause, which is logged where the error ends and never returned.
        WaError::new(ErrorCode::DatabaseError, "The database could not complete the request").with_cause(e)
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// A user as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub username: String,
    /// PHC string (`$argon2id$…`).
    pub password_hash: String,
    pub role: Role,
    /// True while the password is still the factory default (only `admin`).
    pub password_is_default: bool,
    pub created_at: i64,
}

/// An issued bearer token as stored. Only a SHA-256 digest of the token is kept,
/// so a copy of the database does not hand out live credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    pub digest: String,
    pub username: String,
    pub issued_at: i64,
    pub expires_at: i64,
}

/// Small key/value facts about the installation (signing key, registration state).
#[async_trait]
pub trait MetaStore: Send + Sync {
    async fn get_meta(&self, key: &str) -> StoreResult<Option<String>>;
    async fn put_meta(&self, key: &str, value: &str) -> StoreResult<()>;
    /// Stores `value` unless the key exists; returns the value that is stored
    /// afterwards (so concurrent first starts of several nodes agree).
    async fn put_meta_if_absent(&self, key: &str, value: &str) -> StoreResult<String>;
}

#[async_trait]
pub trait UserStore: Send + Sync {
    /// Inserts a user; `Ok(false)` if the name is taken.
    async fn insert_user(&self, user: &UserRecord) -> StoreResult<bool>;
    async fn get_user(&self, username: &str) -> StoreResult<Option<UserRecord>>;
    /// Every user, by name (`wabiz users list`; an installation has a handful).
    async fn list_users(&self) -> StoreResult<Vec<UserRecord>>;
    /// Replaces the password hash; `Ok(false)` if there is no such user.
    async fn set_password(&self, username: &str, password_hash: &str, is_default: bool) -> StoreResult<bool>;
    /// Deletes the user and, in the same transaction, all of its tokens;
    /// `Ok(false)` if there was no such user.
    async fn delete_user(&self, username: &str) -> StoreResult<bool>;
}

#[async_trait]
pub trait TokenStore: Send + Sync {
    async fn insert_token(&self, token: &TokenRecord) -> StoreResult<()>;
    async fn find_token(&self, digest: &str) -> StoreResult<Option<TokenRecord>>;
    /// `Ok(false)` if the token was not stored.
    async fn delete_token(&self, digest: &str) -> StoreResult<bool>;
    /// Deletes tokens whose `expires_at` is before `before`; returns how many.
    async fn purge_expired_tokens(&self, before: i64) -> StoreResult<u64>;
}

/// One change of [`SettingsStore::write_settings`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SettingWrite {
    /// Stores a settings document (JSON text) under `name`.
    Put {
        name: String,
        value: String,
    },
    Delete {
        name: String,
    },
    /// Stores binary data (the profile photo) under `name`.
    PutBlob {
        name: String,
        data: Vec<u8>,
    },
    DeleteBlob {
        name: String,
    },
    /// Sets a meta value (registration state restored from a backup).
    PutMeta {
        key: String,
        value: String,
    },
}

/// Settings documents and blobs. Writes are applied together or not at all
/// (a restore replaces several documents at once).
#[async_trait]
pub trait SettingsStore: Send + Sync {
    async fn get_setting(&self, name: &str) -> StoreResult<Option<String>>;
    async fn get_blob(&self, name: &str) -> StoreResult<Option<Vec<u8>>>;
    async fn write_settings(&self, writes: Vec<SettingWrite>, now: i64) -> StoreResult<()>;
}

/// A media file's metadata (the bytes are in [`crate::media::MediaFiles`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaRecord {
    pub id: String,
    pub mime_type: String,
    pub size: u64,
    pub sha256: String,
    /// `upload` or `inbound`.
    pub origin: String,
    pub filename: Option<String>,
    pub created_at: i64,
}

#[async_trait]
pub trait MediaStore: Send + Sync {
    /// `Ok(false)` if the id exists already.
    async fn insert_media(&self, media: &MediaRecord) -> StoreResult<bool>;
    async fn get_media(&self, id: &str) -> StoreResult<Option<MediaRecord>>;
    /// `Ok(false)` if there was no such media.
    async fn delete_media(&self, id: &str) -> StoreResult<bool>;
}

/// A message as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRecord {
    pub id: String,
    pub direction: Direction,
    pub recipient_type: RecipientType,
    /// The customer's `wa_id` (or the group id).
    pub peer: String,
    pub kind: String,
    /// The type object (JSON text) as sent or received.
    pub content: String,
    pub status: MessageStatus,
    pub created_at: i64,
    pub updated_at: i64,
    /// When the network next moves it on (Unix milliseconds); `None` when done.
    pub next_event_at: Option<i64>,
    /// Why it will fail, decided at acceptance.
    pub failure: Option<Failure>,
    /// Outbound: the pricing category (`service`, or the template's).
    pub category: Option<PricingCategory>,
    /// Outbound: the pricing conversation it was sent in, once `sent`.
    pub conversation: Option<Conversation>,
    /// Outbound: when it expires if still undelivered (Unix milliseconds).
    pub expires_at: Option<i64>,
    /// Outbound: the network's own plan for it (chaos), if any; boxed, as
    /// few messages have one.
    pub plan: Option<Box<DeliveryPlan>>,
    /// Inbound: the group it was written in, when a participant wrote in a
    /// group (`peer` stays the participant, whose window and receipts it is).
    pub group: Option<String>,
    /// Inbound: the profile name the customer showed with it. It names the
    /// chat in the list of chats; it is not kept with the message itself.
    pub sender_name: Option<String>,
}

impl MessageRecord {
    /// A message a customer sent (stored in its callback shape, `content`),
    /// received at `at` (Unix seconds).
    pub fn inbound(id: String, peer: String, kind: String, content: String, at: i64) -> Self {
        Self {
            id,
            direction: Direction::Inbound,
            recipient_type: RecipientType::Individual,
            peer,
            kind,
            content,
            status: MessageStatus::Received,
            created_at: at,
            updated_at: at,
            next_event_at: None,
            failure: None,
            category: None,
            conversation: None,
            expires_at: None,
            plan: None,
            group: None,
            sender_name: None,
        }
    }

    /// The same message, showing the customer's profile name.
    pub fn named(self, name: impl Into<String>) -> Self {
        Self { sender_name: Some(name.into()), ..self }
    }

    /// The same message, written in group `group_id`.
    pub fn in_group(self, group_id: Option<String>) -> Self {
        Self { group: group_id, ..self }
    }

    /// The chat it belongs to: its group, or the customer (or the group it
    /// was sent to).
    pub fn chat(&self) -> &str {
        self.group.as_deref().unwrap_or(&self.peer)
    }

    /// Whether its chat is a customer's or a group's.
    pub fn chat_kind(&self) -> RecipientType {
        if self.group.is_some() { RecipientType::Group } else { self.recipient_type }
    }

    /// The name it gives its chat: the customer's profile name, outside groups
    /// (a group is named by its subject, not by who wrote last).
    pub fn chat_name(&self) -> Option<&str> {
        self.group.is_none().then_some(self.sender_name.as_deref()).flatten()
    }

    /// The part of an outbound message the network's steps need.
    pub fn due(&self) -> DueMessage {
        DueMessage {
            id: self.id.clone(),
            peer: self.peer.clone(),
            recipient_type: self.recipient_type,
            status: self.status,
            failure: self.failure.clone(),
            kind: self.kind.clone(),
            content: self.content.clone(),
            category: self.category,
            conversation: self.conversation.clone(),
            expires_at: self.expires_at,
            plan: self.plan.clone(),
        }
    }
}

/// An outbound message whose next step is due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueMessage {
    pub id: String,
    pub peer: String,
    /// A customer, or a group (whose receipts come per participant).
    pub recipient_type: RecipientType,
    pub status: MessageStatus,
    pub failure: Option<Failure>,
    pub kind: String,
    /// The type object as sent (JSON text).
    pub content: String,
    pub category: Option<PricingCategory>,
    /// The conversation it was sent in, once `sent`.
    pub conversation: Option<Conversation>,
    /// When it expires if still undelivered (Unix milliseconds).
    pub expires_at: Option<i64>,
    /// The network's own plan for it (chaos), if any.
    pub plan: Option<Box<DeliveryPlan>>,
}

/// A status change of a message. It applies only if the message is still in
/// `from_status` (two workers on one database cannot move it backwards).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub id: String,
    pub from_status: MessageStatus,
    pub status: MessageStatus,
    /// Unix seconds.
    pub at: i64,
    /// Why it failed (for `failed`).
    pub errors: Option<Failure>,
    /// When the next step is due (Unix milliseconds), if any.
    pub next_event_at: Option<i64>,
    /// A message the customer sends back, stored with the step (same transaction).
    pub reply: Option<MessageRecord>,
    /// The conversation the message was sent in (set with `sent`).
    pub conversation: Option<Conversation>,
    /// The callbacks that report the step (and the reply), stored with it.
    pub callbacks: Vec<NewCallback>,
}

impl Transition {
    /// Whether the step changes the status (a step that does not only stops
    /// the message's schedule).
    pub fn moves(&self) -> bool {
        self.status != self.from_status
    }
}

/// One entry of a message's status history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusRecord {
    pub status: MessageStatus,
    pub at: i64,
    pub errors: Option<Failure>,
}

#[async_trait]
pub trait MessageStore: Send + Sync {
    /// Stores a new message and the callbacks that report it, in one
    /// transaction; when this returns `Ok`, they are on disk.
    async fn insert_message(&self, message: &MessageRecord, callbacks: &[NewCallback]) -> StoreResult<()>;
    async fn get_message(&self, id: &str) -> StoreResult<Option<MessageRecord>>;
    /// Outbound messages whose next step is due at `now_ms`, oldest first.
    async fn due_messages(&self, now_ms: i64, limit: usize) -> StoreResult<Vec<DueMessage>>;
    /// The earliest pending step, if any (Unix milliseconds).
    async fn next_message_event(&self) -> StoreResult<Option<i64>>;
    /// Applies status changes in one transaction, each with its history entry
    /// and its reply; a change whose `from_status` no longer holds is skipped.
    async fn apply_transitions(&self, transitions: Vec<Transition>) -> StoreResult<()>;
    /// Stores a new message together with the steps the network took at
    /// once (`steps`: this message's, in order, from its stored status), as
    /// `insert_message` then `apply_transitions` would. An engine may write
    /// the message in its final state in one transaction instead (SQLite
    /// does: an insert and no update, on the one writer).
    async fn insert_message_with_steps(&self, message: &MessageRecord, steps: Vec<Transition>) -> StoreResult<()> {
        self.insert_message(message, &[]).await?;
        self.apply_transitions(steps).await
    }
    /// A message's status history, in order.
    async fn message_statuses(&self, id: &str) -> StoreResult<Vec<StatusRecord>>;
    /// The last `limit` messages exchanged with `peer`, oldest first.
    async fn conversation(&self, peer: &str, limit: usize) -> StoreResult<Vec<MessageRecord>>;
    /// When the customer last wrote (Unix seconds), for the 24-hour window.
    async fn last_inbound_at(&self, peer: &str) -> StoreResult<Option<i64>>;
    /// Marks an inbound message and the earlier unread ones of the same chat as
    /// read; returns how many changed.
    async fn mark_inbound_read(&self, id: &str, at: i64) -> StoreResult<u64>;
    /// The chats, each with its last message and unread count: the most
    /// recent first, or those whose number or name starts with `search`
    /// (in number, then name order). Each query reads at most `limit` chats
    /// and [`UNREAD_CAP`] unread messages a chat, whatever is stored.
    async fn chats(&self, search: Option<&str>, limit: usize) -> StoreResult<Vec<ChatSummary>>;
}

/// The most unread messages a chat's count reads (shown as "99+").
pub const UNREAD_CAP: u64 = 100;

/// One chat of the list (`MessageStore::chats`): a customer, or a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatSummary {
    /// The customer's `wa_id`, or the group id.
    pub id: String,
    pub recipient_type: RecipientType,
    /// The profile name the customer last showed, if they ever wrote.
    pub name: Option<String>,
    /// Its last message (`None` once garbage collection took it).
    pub last: Option<MessageRecord>,
    /// When it last had a message (Unix seconds).
    pub last_at: i64,
    /// Inbound messages not marked read, at most [`UNREAD_CAP`].
    pub unread: u64,
}

/// Where the prefix search of chats ends: `prefix` followed by the highest
/// character, so that `[prefix, end)` holds every text starting with it.
pub fn prefix_end(prefix: &str) -> String {
    let mut end = prefix.to_owned();
    end.push(char::MAX);
    end
}

/// A search's answer from its two reads (each at most `limit`): the chats
/// whose number matched, then those whose name did and are not listed yet.
pub fn search_results(by_number: Vec<ChatSummary>, by_name: Vec<ChatSummary>, limit: usize) -> Vec<ChatSummary> {
    let mut found = by_number;
    for chat in by_name {
        if !found.iter().any(|f| f.id == chat.id) {
            found.push(chat);
        }
    }
    found.truncate(limit);
    found
}

/// The messages of chat `id` among `messages` (read by peer or by group):
/// a customer's chat leaves out what they wrote in groups.
pub fn of_chat(messages: Vec<MessageRecord>, id: &str) -> Vec<MessageRecord> {
    messages.into_iter().filter(|m| m.chat() == id).collect()
}

/// A registered template as stored (`components` is JSON text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateRecord {
    pub namespace: String,
    pub name: String,
    pub language: String,
    pub components: String,
    pub created_at: i64,
    /// `MARKETING`, `UTILITY` or `AUTHENTICATION`.
    pub category: String,
    /// `APPROVED`, `PENDING`, `REJECTED`, `PAUSED` or `DISABLED`.
    pub status: String,
    /// Why the status was given (a rejection's or pause's reason), if said.
    pub reason: Option<String>,
}

#[async_trait]
pub trait TemplateStore: Send + Sync {
    /// Adds or replaces (by namespace, name and language).
    async fn put_template(&self, template: &TemplateRecord) -> StoreResult<()>;
    async fn list_templates(&self) -> StoreResult<Vec<TemplateRecord>>;
    /// Every language of one template.
    async fn find_templates(&self, namespace: &str, name: &str) -> StoreResult<Vec<TemplateRecord>>;
    /// Deletes one language (or all, with `None`); returns how many were deleted.
    async fn delete_templates(&self, namespace: &str, name: &str, language: Option<&str>) -> StoreResult<u64>;
}

/// A customer's security identity, as recorded when it changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityRecord {
    pub wa_id: String,
    /// The identity's hash (base64), as webhooks and the identity route show it.
    pub hash: String,
    /// Unix milliseconds.
    pub created_at: i64,
    /// Whether the business acknowledged it (`PUT /v1/contacts/{wa_id}/identity`).
    pub acknowledged: bool,
}

/// Cached contact-check results (legacy validation mode), and customers'
/// security identities.
#[async_trait]
pub trait ContactStore: Send + Sync {
    /// `(status, checked_at)` of a `wa_id`, if checked.
    async fn get_contact(&self, wa_id: &str) -> StoreResult<Option<(String, i64)>>;
    async fn put_contacts(&self, results: Vec<(String, String)>, checked_at: i64) -> StoreResult<()>;
    /// The customer's recorded identity, if it ever changed.
    async fn get_identity(&self, wa_id: &str) -> StoreResult<Option<IdentityRecord>>;
    /// Records a (new) identity, replacing the customer's previous one.
    async fn put_identity(&self, identity: &IdentityRecord) -> StoreResult<()>;
    /// Acknowledges the customer's identity if its hash is `hash`; whether it was.
    async fn acknowledge_identity(&self, wa_id: &str, hash: &str) -> StoreResult<bool>;
}

/// The callback queue (`webhooks.md` §1): callbacks wait here until the
/// receiver acknowledges them. A node *claims* the callbacks it is delivering
/// until `claimed_until`, so that nodes sharing a database never deliver the
/// same callback at once.
#[async_trait]
pub trait CallbackStore: Send + Sync {
    /// Stores callbacks not tied to another write (errors, services).
    async fn enqueue_callbacks(&self, callbacks: Vec<NewCallback>) -> StoreResult<()>;
    /// Claims up to `limit` callbacks due at `now_ms` for `node` until
    /// `until_ms`, oldest first: unclaimed ones (or ones whose claim expired)
    /// whose next attempt is due, skipping any whose peer has an older
    /// callback still waiting for a retry or held by a node, so that a peer's
    /// callbacks are claimed in order. Callbacks without a peer (`""`) have no
    /// order.
    async fn claim_callbacks(
        &self,
        node: &str,
        now_ms: i64,
        until_ms: i64,
        limit: usize,
    ) -> StoreResult<Vec<PendingCallback>>;
    /// Extends the claims of `node` on these callbacks to `until_ms`.
    async fn renew_callback_claims(&self, node: &str, seqs: Vec<i64>, until_ms: i64) -> StoreResult<()>;
    /// Releases the claims of `node`, or every claim with `None` (a single
    /// node starting after a crash); returns how many.
    async fn release_callback_claims(&self, node: Option<&str>) -> StoreResult<u64>;
    /// Records attempts: delivered callbacks are removed; failed ones keep
    /// their history and next attempt time and are released, like released
    /// ones.
    async fn finish_callbacks(&self, outcomes: Vec<CallbackOutcome>) -> StoreResult<()>;
    /// Pending callbacks, oldest first, from `after_seq` on.
    async fn list_callbacks(&self, after_seq: i64, limit: usize) -> StoreResult<Vec<PendingCallback>>;
    async fn get_callback(&self, seq: i64) -> StoreResult<Option<PendingCallback>>;
    /// Makes a waiting callback due at `now_ms` (the console's "retry now");
    /// whether it is pending. One already due, or in flight, is left as it is.
    async fn retry_callback_now(&self, seq: i64, now_ms: i64) -> StoreResult<bool>;
    /// How many callbacks are pending, and when the oldest was stored.
    async fn callback_backlog(&self) -> StoreResult<(u64, Option<i64>)>;
    /// Drops every pending callback (`callback_persist: false` at start);
    /// returns how many.
    async fn clear_callbacks(&self) -> StoreResult<u64>;
}

/// A group as stored: its document (JSON of `groups::Group`), invite code,
/// icon (JPEG) and version (for compare-and-set changes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRecord {
    pub id: String,
    pub invite_code: String,
    pub document: String,
    pub icon: Option<Vec<u8>>,
    pub version: i64,
    pub created_at: i64,
}

#[async_trait]
pub trait GroupStore: Send + Sync {
    /// Stores a new group and the callbacks that report it, in one transaction.
    async fn insert_group(&self, group: &GroupRecord, callbacks: Vec<NewCallback>) -> StoreResult<()>;
    /// Replaces a group if its stored version is still `expected` (the new
    /// record carries the next version), with its callbacks; `Ok(false)` if
    /// someone changed it first.
    async fn update_group(&self, group: &GroupRecord, expected: i64, callbacks: Vec<NewCallback>) -> StoreResult<bool>;
    async fn get_group(&self, id: &str) -> StoreResult<Option<GroupRecord>>;
    async fn group_by_invite(&self, code: &str) -> StoreResult<Option<GroupRecord>>;
    /// Every group, oldest first (documents only; icons are left out).
    async fn list_groups(&self) -> StoreResult<Vec<GroupRecord>>;
}

/// Garbage collection (`services.md` §3, §5).
#[async_trait]
pub trait GcStore: Send + Sync {
    /// Restarts the 30-day clock of media used by a send.
    async fn touch_media(&self, ids: Vec<String>, at: i64) -> StoreResult<()>;
    /// Deletes up to `limit` messages no longer needed, with their status
    /// history, and returns how many: outbound ones that are `read` or
    /// `failed` (of any age when `settled_any_age`, the collector's rule;
    /// else created before `before`, a bulk delete's rule), or `delivered`
    /// and created before `before`; inbound ones created before `before`.
    /// A message still waiting for receipts (`sent`) or with a pending
    /// callback is kept.
    async fn collect_messages(&self, before: i64, settled_any_age: bool, limit: usize) -> StoreResult<u64>;
    /// Up to `limit` media neither uploaded nor used since `before`.
    async fn media_unused_since(&self, before: i64, limit: usize) -> StoreResult<Vec<MediaRecord>>;
}

/// What the store says about itself (`GET /v1/support`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreInfo {
    /// Driver and server version strings.
    pub versions: Vec<String>,
    /// The last migration applied.
    pub schema_version: i64,
}

/// What `/v1/stats/db` reports (counted on demand: can be slow on large
/// databases, as the original warned).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DbCounts {
    /// Messages by type.
    pub messages: Vec<(String, u64)>,
    /// Status history entries (receipts).
    pub receipts: u64,
    /// Outbound messages not yet sent.
    pub pending_messages: u64,
    /// Callbacks not yet acknowledged.
    pub pending_callbacks: u64,
    /// Cached contact checks: (`valid` → WhatsApp user, else not).
    pub whatsapp_contacts: u64,
    pub other_contacts: u64,
}

#[async_trait]
pub trait StatsStore: Send + Sync {
    async fn db_counts(&self) -> StoreResult<DbCounts>;
}

/// Pricing conversations, one per customer and category at a time.
#[async_trait]
pub trait ConversationStore: Send + Sync {
    /// The conversation each `(peer, category)` is in at `now` (Unix
    /// seconds), opening a new one ([`Conversation::open`]) where none is
    /// open. One transaction, so concurrent callers agree.
    async fn open_conversations(
        &self,
        wanted: Vec<(String, PricingCategory)>,
        now: i64,
    ) -> StoreResult<Vec<Conversation>>;
}

/// Generated traffic runs (`traffic.rs`).
#[async_trait]
pub trait TrafficStore: Send + Sync {
    async fn insert_traffic_run(&self, run: &TrafficRun) -> StoreResult<()>;
    async fn get_traffic_run(&self, id: &str) -> StoreResult<Option<TrafficRun>>;
    /// Every run, newest first (at most `limit`).
    async fn traffic_runs(&self, limit: usize) -> StoreResult<Vec<TrafficRun>>;
    /// The runs still running.
    async fn running_traffic_runs(&self) -> StoreResult<Vec<TrafficRun>>;
    /// Ends a running run; `false` if it was not running.
    async fn end_traffic_run(&self, id: &str, state: TrafficState, at: i64) -> StoreResult<bool>;
    /// Takes or renews the lease of a running run for `owner` until
    /// `until_ms`; `false` if it is not running or another owner's lease holds.
    async fn lease_traffic_run(&self, id: &str, owner: &str, now_ms: i64, until_ms: i64) -> StoreResult<bool>;
    /// How many messages with ids in `[from, to]` are stored, and how many
    /// callbacks about them wait.
    async fn traffic_progress(&self, from: &str, to: &str) -> StoreResult<TrafficProgress>;
}

/// Everything the server stores.
#[async_trait]
pub trait Store:
    MetaStore
    + UserStore
    + TokenStore
    + SettingsStore
    + MediaStore
    + MessageStore
    + TemplateStore
    + ContactStore
    + CallbackStore
    + ConversationStore
    + StatsStore
    + GroupStore
    + GcStore
    + TrafficStore
    + crate::relay::RelayStore
    + Send
    + Sync
    + 'static
{
    /// `sqlite` or `postgres`.
    fn engine(&self) -> &'static str;
    /// A cheap round trip, for health checks.
    async fn ping(&self) -> StoreResult<()>;
    /// The database server's version strings and the schema version, for
    /// `GET /v1/support`.
    async fn describe(&self) -> StoreResult<StoreInfo>;
    /// Flushes and stops background writers; later calls fail with `Unavailable`.
    async fn close(&self);
    /// The multiconnect side of the engine (PostgreSQL only).
    fn cluster(self: Arc<Self>) -> Option<Arc<dyn crate::cluster::ClusterStore>> {
        None
    }
}
