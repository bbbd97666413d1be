//! The database's row counts for `GET /v1/stats/db`.
//!
//! Counting is a scan of the messages and their history, so its cost grows
//! with everything ever stored; metrics scrapers call the route every few
//! seconds. The counts are therefore a snapshot: the first call counts, and
//! afterwards a call answers the last snapshot at once and, when it is older
//! than [`MAX_AGE`], has it counted again in the background (one count at a
//! time). The route's cost stays the same whatever the database holds; the
//! figures may be up to `MAX_AGE` plus one count's time old.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::ports::{DbCounts, Store, StoreResult};

/// How old a snapshot may be before a call asks for a new one.
pub const MAX_AGE: Duration = Duration::from_secs(15);

pub struct DbStats {
    store: Arc<dyn Store>,
    latest: Mutex<Option<(Instant, Arc<DbCounts>)>>,
    counting: AtomicBool,
}

impl DbStats {
    pub fn new(store: Arc<dyn Store>) -> Arc<Self> {
        Arc::new(Self { store, latest: Mutex::new(None), counting: AtomicBool::new(false) })
    }

    fn snapshot(&self) -> Option<(Instant, Arc<DbCounts>)> {
        self.latest.lock().ok().and_then(|l| l.clone())
    }

    fn keep(&self, counts: Arc<DbCounts>) {
        if let Ok(mut latest) = self.latest.lock() {
            *latest = Some((Instant::now(), counts));
        }
    }

    /// The latest counts (see the module notes).
    pub async fn counts(self: &Arc<Self>) -> StoreResult<Arc<DbCounts>> {
        let Some((at, counts)) = self.snapshot() else {
            let counts = Arc::new(self.store.db_counts().await?);
            self.keep(Arc::clone(&counts));
            return Ok(counts);
        };
        if at.elapsed() >= MAX_AGE && !self.counting.swap(true, Ordering::AcqRel) {
            let this = Arc::clone(self);
            tokio::spawn(async move {
                match this.store.db_counts().await {
                    Ok(fresh) => this.keep(Arc::new(fresh)),
                    Err(e) => tracing::warn!(error = %e, "counting the database's rows failed"),
                }
                this.counting.store(false, Ordering::Release);
            });
        }
        Ok(counts)
    }
}
