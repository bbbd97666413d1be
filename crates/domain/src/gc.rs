//! Garbage collection (`services.md`): messages no longer needed and media
//! not used for 30 days, on request (`PUT /v1/services/{message,media}/gc`,
//! answered `processing`, the outcome reported by webhook) and automatically
//! while `garbagecollector_enable` asks for it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::callbacks::Outbox;
use crate::clock::Clock;
use crate::error::{ErrorCode, ErrorItem, WaError};
use crate::media::MediaService;
use crate::ports::Store;
use crate::settings::application::ApplicationSettings;

/// Media not used for this long is collected (documented).
pub const MEDIA_RETENTION_SECS: i64 = 30 * 24 * 3600;
/// Rows per transaction.
const BATCH: usize = 10_000;
/// Longest single pass (then it reports what it did; run it again).
const BUDGET: Duration = Duration::from_secs(30 * 60);
/// How long `DELETE /v1/messages` deletes before it answers; what is left is
/// deleted in the background (`services.md` §3a, Recommended).
const BULK_DELETE_BUDGET: Duration = Duration::from_secs(30);

/// Whether this node should run the automatic passes now. In a
/// multiconnect deployment only the primary master does (`multiconnect.md`
/// §3.3), so that the nodes do not scan the same tables at once.
pub type DutyGate = Arc<dyn Fn() -> bool + Send + Sync>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GcKind {
    Messages,
    Media,
}

impl GcKind {
    /// The key of the API's answer and of the webhook.
    pub fn key(self) -> &'static str {
        match self {
            GcKind::Messages => "message",
            GcKind::Media => "media",
        }
    }
}

pub struct GcService {
    store: Arc<dyn Store>,
    media: Arc<MediaService>,
    clock: Arc<dyn Clock>,
    outbox: Outbox,
    message_retention_secs: i64,
    running_messages: AtomicBool,
    running_media: AtomicBool,
    /// Automatic passes this node has run (`/v1/stats/app/internal`).
    automatic_rounds: AtomicU64,
    /// The passes and bulk deletes running in the background: a stop ends
    /// them between two batches and waits for them, before the store closes.
    background: TaskTracker,
    stop: CancellationToken,
}

/// Clears a running flag however the pass ends.
struct Running<'a>(&'a AtomicBool);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

impl GcService {
    pub fn new(
        store: Arc<dyn Store>,
        media: Arc<MediaService>,
        clock: Arc<dyn Clock>,
        outbox: Outbox,
        message_retention_days: u32,
    ) -> Self {
        Self {
            store,
            media,
            clock,
            outbox,
            message_retention_secs: i64::from(message_retention_days) * 24 * 3600,
            running_messages: AtomicBool::new(false),
            running_media: AtomicBool::new(false),
            automatic_rounds: AtomicU64::new(0),
            background: TaskTracker::new(),
            stop: CancellationToken::new(),
        }
    }

    fn flag(&self, kind: GcKind) -> &AtomicBool {
        match kind {
            GcKind::Messages => &self.running_messages,
            GcKind::Media => &self.running_media,
        }
    }

    /// Rounds of automatic collection this node has run.
    pub fn automatic_rounds(&self) -> u64 {
        self.automatic_rounds.load(Ordering::Relaxed)
    }

    /// Starts a pass in the background unless one of this kind is running
    /// (then that one answers for it); either way the answer is `processing`.
    pub fn start(self: &Arc<Self>, kind: GcKind) {
        let me = Arc::clone(self);
        self.background.spawn(async move {
            let pass = me.pass_unless_running(kind);
            tokio::select! {
                () = me.stop.cancelled() => tracing::info!(kind = kind.key(), "garbage collection stopped by shutdown"),
                outcome = pass => {
                    if let Some(outcome) = outcome {
                        me.report(kind, outcome).await;
                    }
                }
            }
        });
    }

    /// Stops the background passes and bulk deletes (between two batches)
    /// and waits until they have ended.
    pub async fn shutdown(&self) {
        self.stop.cancel();
        self.background.close();
        self.background.wait().await;
    }

    /// A pass of `kind`, or `None` when one is already running.
    async fn pass_unless_running(&self, kind: GcKind) -> Option<Result<u64, WaError>> {
        if self.flag(kind).swap(true, Ordering::SeqCst) {
            return None;
        }
        let _running = Running(self.flag(kind));
        Some(self.pass(kind).await)
    }

    /// One pass: what it deleted.
    async fn pass(&self, kind: GcKind) -> Result<u64, WaError> {
        let started = Instant::now();
        let now = self.clock.now_unix();
        let mut deleted = 0;
        match kind {
            GcKind::Messages => {
                let before = now - self.message_retention_secs;
                while started.elapsed() < BUDGET {
                    let n = self.store.collect_messages(before, true, BATCH).await?;
                    deleted += n;
                    if n == 0 {
                        break;
                    }
                }
            }
            GcKind::Media => {
                let before = now - MEDIA_RETENTION_SECS;
                while started.elapsed() < BUDGET {
                    let batch = self.store.media_unused_since(before, 1_000).await?;
                    if batch.is_empty() {
                        break;
                    }
                    for m in batch {
                        // A file already gone still counts: its row goes.
                        match self.media.delete(&m.id).await {
                            Ok(()) => deleted += 1,
                            Err(e) if e.code() == Some(ErrorCode::ResourceNotFound) => {}
                            Err(e) => return Err(e),
                        }
                    }
                }
            }
        }
        if deleted > 0 {
            tracing::info!(kind = kind.key(), deleted, "garbage collection pass done");
        }
        Ok(deleted)
    }

    /// `DELETE /v1/messages`: deletes, by the collector's rules, the messages
    /// created before the cutoff the body gives (`age` seconds ago, or
    /// `before` as a Unix time; exactly one). Works for up to 30 s, then
    /// answers and finishes in the background. Returns how many it deleted
    /// before answering.
    pub async fn delete_messages(
        self: &Arc<Self>,
        body: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<u64, WaError> {
        let before = bulk_delete_cutoff(body, self.clock.now_unix())?;
        let started = Instant::now();
        let mut deleted = 0;
        loop {
            let n = self.store.collect_messages(before, false, BATCH).await?;
            deleted += n;
            if n == 0 {
                return Ok(deleted);
            }
            if started.elapsed() >= BULK_DELETE_BUDGET {
                break;
            }
        }
        let me = Arc::clone(self);
        self.background.spawn(async move {
            let mut more = 0;
            while !me.stop.is_cancelled() {
                match me.store.collect_messages(before, false, BATCH).await {
                    Ok(0) => break,
                    Ok(n) => more += n,
                    Err(e) => {
                        tracing::warn!(error = %e, "bulk message delete stopped");
                        break;
                    }
                }
            }
            tracing::info!(deleted = deleted + more, "bulk message delete done");
        });
        Ok(deleted)
    }

    /// The completion webhook (`services.md` §2.2, §3).
    async fn report(&self, kind: GcKind, outcome: Result<u64, WaError>) {
        let counter = match kind {
            GcKind::Messages => "messages_deleted",
            GcKind::Media => "items_deleted",
        };
        let gc = match &outcome {
            Ok(n) => json!({ counter: n, "status": "complete" }),
            Err(e) => {
                tracing::error!(error = %e, kind = kind.key(), "garbage collection failed");
                let details = match kind {
                    GcKind::Messages => "Could not delete messages",
                    GcKind::Media => "Could not delete media files",
                };
                json!({ counter: 0, "errors": [ErrorItem::new(ErrorCode::InternalError, details)], "status": "failed" })
            }
        };
        let item = json!({ kind.key(): { "gc": gc } });
        let Some(cb) = Outbox::service(&self.outbox.policy(), &item, self.clock.now_millis()) else { return };
        match self.store.enqueue_callbacks(vec![cb]).await {
            Ok(()) => self.outbox.stored(),
            Err(e) => tracing::warn!(error = %e, "could not queue the garbage collection result"),
        }
    }

    /// The automatic collectors: every `every`, a pass of each kind that
    /// `garbagecollector_enable` turns on (no webhook: nobody asked), on
    /// the rounds `gate` (if any) lets through.
    pub async fn run_automatic(
        self: Arc<Self>,
        settings: watch::Receiver<Arc<ApplicationSettings>>,
        every: Duration,
        gate: Option<DutyGate>,
        shutdown: CancellationToken,
    ) {
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(every) => {}
            }
            if gate.as_ref().is_some_and(|may| !may()) {
                continue;
            }
            self.automatic_rounds.fetch_add(1, Ordering::Relaxed);
            let enabled = settings.borrow().garbagecollector_enable.clone();
            for (kind, on) in [(GcKind::Messages, enabled.messages), (GcKind::Media, enabled.media)] {
                if !on {
                    continue;
                }
                if let Some(Err(e)) = self.pass_unless_running(kind).await {
                    tracing::warn!(kind = kind.key(), error = %e, "automatic garbage collection failed");
                }
            }
        }
    }
}

/// The cutoff of a bulk delete: `now - age` or `before`, each a non-negative
/// integer given as a JSON number or a string of digits; exactly one of them.
fn bulk_delete_cutoff(body: &serde_json::Map<String, serde_json::Value>, now: i64) -> Result<i64, WaError> {
    const NAMES: [&str; 2] = ["age", "before"];
    let seconds = |name: &str, value: &serde_json::Value| -> Result<i64, WaError> {
        let n = match value {
            serde_json::Value::Number(n) => n.as_u64(),
            serde_json::Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => s.parse().ok(),
            _ => None,
        };
        n.and_then(|n| i64::try_from(n).ok()).ok_or_else(|| WaError::invalid_json_value(name, value))
    };
    match (body.get("age"), body.get("before")) {
        (None, None) => Err(WaError::missing_parameter_of(&NAMES)),
        (Some(_), Some(_)) => Err(WaError::exactly_one_of(&NAMES)),
        (Some(age), None) => Ok(now.saturating_sub(seconds("age", age)?)),
        (None, Some(before)) => seconds("before", before),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cutoff(body: serde_json::Value) -> Result<i64, ErrorCode> {
        let serde_json::Value::Object(m) = body else { panic!("an object") };
        bulk_delete_cutoff(&m, 1_000).map_err(|e| e.code().expect("a code"))
    }

    #[test]
    fn bulk_delete_cutoffs() {
        assert_eq!(cutoff(json!({ "age": 100 })), Ok(900));
        assert_eq!(cutoff(json!({ "age": "100" })), Ok(900));
        assert_eq!(cutoff(json!({ "before": 500 })), Ok(500));
        assert_eq!(cutoff(json!({ "before": "0" })), Ok(0));
        assert_eq!(cutoff(json!({})), Err(ErrorCode::RequiredParameterMissing));
        assert_eq!(cutoff(json!({ "age": 1, "before": 2 })), Err(ErrorCode::ParameterNotRequired));
        for bad in [json!(-1), json!(1.5), json!("1h"), json!(""), json!(null), json!(true)] {
            assert_eq!(cutoff(json!({ "age": bad.clone() })), Err(ErrorCode::ParameterValueNotValid), "{bad}");
        }
    }
}
