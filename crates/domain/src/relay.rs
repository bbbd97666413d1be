//! What the Cloud relay (`--network cloud`) keeps in the store: its queue of
//! sends to the Cloud API, the Cloud message ids (`wamid`) of the messages it
//! sent, the Cloud media ids behind wabiz's, and Cloud statuses that came
//! before the send they report was recorded.
//!
//! The queue is ordered per customer: only the oldest waiting send of a
//! customer is due and handed out (the next becomes due when it leaves), so
//! a send that Cloud asks to retry holds the customer's later ones back,
//! across restarts too, and reading the due sends costs the same whatever
//! waits behind them. Handing a send out is a
//! claim with a lease (its due time moves to the end of the lease): a node
//! that dies mid-send leaves it to be claimed again once the lease ends.

use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;

use crate::callbacks::NewCallback;
use crate::ports::{MessageRecord, StoreResult, Transition};

/// What a send needs besides the stored message (`kind`, `content`): the
/// parts of the On-Premises request the type object does not hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SendEnvelope {
    /// `preview_url`, on the message or inside `text`.
    pub preview_url: bool,
    /// `context.message_id`: the wabiz id (or an inbound `wamid`) it quotes.
    pub context: Option<String>,
}

/// A queued send, as claimed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloudSend {
    /// Its place in the queue.
    pub seq: i64,
    pub message_id: String,
    /// The customer's `wa_id`.
    pub peer: String,
    pub kind: String,
    /// The type object as accepted (JSON text).
    pub content: String,
    pub envelope: SendEnvelope,
    /// Earlier tries that did not reach an answer or were asked to wait.
    pub attempts: u32,
    /// When it was accepted (Unix seconds).
    pub created_at: i64,
    /// When it expires if Cloud has not taken it (its `ttl`; Unix milliseconds).
    pub expires_at: Option<i64>,
}

/// A wabiz media id and the Cloud media id it stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloudMedia {
    /// wabiz's id (what `/v1/media` and callbacks show).
    pub id: String,
    /// Cloud's media id (digits).
    pub cloud_id: String,
    pub mime_type: String,
    /// When Cloud got it (Unix seconds): uploads expire there after 30 days.
    pub at: i64,
}

#[async_trait]
pub trait RelayStore: Send + Sync {
    /// Stores an accepted message and its send at the end of its customer's
    /// queue, due at `due_ms`, in one transaction.
    async fn queue_cloud_send(&self, message: &MessageRecord, envelope: &SendEnvelope, due_ms: i64) -> StoreResult<()>;
    /// Claims up to `limit` due sends, each the oldest of its customer's
    /// queue; a claimed send is not due again before `lease_until_ms`.
    /// Oldest first.
    async fn claim_cloud_sends(&self, now_ms: i64, lease_until_ms: i64, limit: usize) -> StoreResult<Vec<CloudSend>>;
    /// Hands back every claimed send, due at `now_ms`: on a single node at
    /// start, when no sender can still be working on one (after `kill -9`,
    /// its lease would otherwise hold it back). Returns how many.
    async fn release_cloud_claims(&self, now_ms: i64) -> StoreResult<u64>;
    /// Cloud took the send as `wamid`: it leaves the queue and the `wamid`
    /// is remembered for the message, in one transaction.
    async fn cloud_send_taken(&self, seq: i64, message_id: &str, wamid: &str) -> StoreResult<()>;
    /// Cloud asked to try again (or gave no answer): due at `at_ms`, still
    /// at the head of its customer's queue.
    async fn cloud_send_later(&self, seq: i64, at_ms: i64) -> StoreResult<()>;
    /// Cloud refused the send for good: it leaves the queue and the message
    /// fails (`failure`, with its callback), in one transaction.
    async fn cloud_send_refused(&self, seq: i64, failure: Transition) -> StoreResult<()>;
    /// The earliest due time of a customer's head, if any (Unix milliseconds).
    async fn next_cloud_send(&self) -> StoreResult<Option<i64>>;
    /// How many sends wait, and the oldest one's acceptance (Unix seconds).
    async fn cloud_backlog(&self) -> StoreResult<(u64, Option<i64>)>;

    /// The wabiz message a `wamid` was sent as.
    async fn message_of_wamid(&self, wamid: &str) -> StoreResult<Option<String>>;
    /// The `wamid` a wabiz message was sent as.
    async fn wamid_of_message(&self, message_id: &str) -> StoreResult<Option<String>>;

    /// Stores a message Cloud reported (an inbound one) with its callbacks,
    /// unless a message with its id is stored already (Cloud delivers a
    /// webhook again until it is acknowledged). `false` when it was.
    async fn insert_message_once(&self, message: &MessageRecord, callbacks: &[NewCallback]) -> StoreResult<bool>;

    /// The wa_id given to a customer known by `user_id` only.
    async fn wa_id_of_user(&self, user_id: &str) -> StoreResult<Option<String>>;
    /// The `user_id` behind a wa_id the relay gave.
    async fn user_of_wa_id(&self, wa_id: &str) -> StoreResult<Option<String>>;
    /// Gives `user_id` the wa_id `wa_id`, unless either has one already;
    /// `false` then.
    async fn put_user_wa_id(&self, wa_id: &str, user_id: &str) -> StoreResult<bool>;

    async fn cloud_media(&self, id: &str) -> StoreResult<Option<CloudMedia>>;
    async fn put_cloud_media(&self, media: &CloudMedia) -> StoreResult<()>;
    async fn forget_cloud_media(&self, id: &str) -> StoreResult<()>;

    /// Keeps a Cloud status (its webhook item, JSON text) whose `wamid` is
    /// not known yet: the send that made it is still being recorded.
    async fn park_cloud_status(&self, wamid: &str, item: &str, at: i64) -> StoreResult<()>;
    /// Takes the statuses kept for `wamid` (each is taken once), oldest first.
    async fn take_parked_statuses(&self, wamid: &str) -> StoreResult<Vec<String>>;
    /// Forgets statuses kept since before `at` (Unix seconds): their `wamid`
    /// was never the relay's. Returns how many.
    async fn forget_parked_statuses(&self, before: i64) -> StoreResult<u64>;
}

/// Why a Cloud webhook POST was not taken.
#[derive(Debug, thiserror::Error)]
pub enum WebhookRefusal {
    /// `X-Hub-Signature-256` is missing or wrong (401): nothing is kept.
    #[error("the webhook's signature does not match: {0}")]
    Signature(String),
    /// The body is not a webhook (400).
    #[error("the webhook's body is not JSON")]
    Malformed,
    /// It could not be stored (503): Cloud sends it again later.
    #[error("the webhook could not be stored: {0}")]
    Store(#[from] crate::ports::StoreError),
}

/// Where Meta calls the relay (`GET|POST /relay/webhook`).
#[async_trait]
pub trait CloudWebhooks: Send + Sync {
    /// The verification handshake: the challenge to echo when `mode` is
    /// `subscribe` and `token` is the configured verify token.
    fn handshake(&self, mode: Option<&str>, token: Option<&str>, challenge: Option<&str>) -> Option<String>;
    /// Checks a POST's signature against its raw body, then stores what it
    /// reports (messages, statuses, errors, with their callbacks). `Ok` means
    /// it is on disk and may be acknowledged.
    async fn receive(&self, signature: Option<&str>, body: &[u8]) -> Result<(), WebhookRefusal>;
}

/// What the relay counts (`/v1/stats/app`, `/metrics`): its requests to the
/// Cloud API by outcome, uploads, and the webhook events it took or refused.
#[derive(Debug, Default)]
pub struct RelayCounters {
    /// Sends Cloud took.
    pub taken: AtomicU64,
    /// Sends to try again (a rate limit, Cloud's 5xx, no answer).
    pub retried: AtomicU64,
    /// Sends Cloud refused for good.
    pub refused: AtomicU64,
    pub uploads: AtomicU64,
    /// Webhook POSTs stored.
    pub webhooks_stored: AtomicU64,
    /// Webhook POSTs refused for their signature.
    pub webhooks_unsigned: AtomicU64,
    /// Webhook POSTs that were not JSON.
    pub webhooks_malformed: AtomicU64,
    /// About how many sends wait for Cloud: the figure the queue's limit is
    /// checked against (the relay and its sender keep it), so that reading
    /// it costs nothing however long the queue is.
    pub queued: std::sync::Arc<AtomicU64>,
}

impl RelayCounters {
    pub fn add(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Requests by `result` label.
    pub fn requests(&self) -> [(&'static str, u64); 3] {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        [("refused", get(&self.refused)), ("retried", get(&self.retried)), ("taken", get(&self.taken))]
    }

    /// Webhook POSTs by `result` label.
    pub fn webhooks(&self) -> [(&'static str, u64); 3] {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        [
            ("bad_signature", get(&self.webhooks_unsigned)),
            ("malformed", get(&self.webhooks_malformed)),
            ("stored", get(&self.webhooks_stored)),
        ]
    }
}
