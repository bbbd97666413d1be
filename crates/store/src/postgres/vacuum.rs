//! The callback queue vacuumed as fast as it churns.
//!
//! A callback is inserted, claimed, delivered and deleted within
//! milliseconds. Until a vacuum removes them, deleted rows stay in the
//! queue's head, and every claim (`ORDER BY seq … LIMIT`) walks them: with
//! 27,542 dead rows and 191 live ones, a claim read 24,282 buffers and took
//! 17 ms (docs/performance.md, issue 19), so the cost of delivering grew
//! with the traffic since the last vacuum. Autovacuum looks at a database
//! once a minute at best (`autovacuum_naptime`, a server-wide setting);
//! here the node that deletes asks PostgreSQL's own `VACUUM` of the table
//! after every few thousand deletions (one at a time per node; `SKIP_LOCKED`
//! leaves it to whichever node is already vacuuming).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use deadpool_postgres::Pool;

/// Deletions between two vacuums of the queue.
const EVERY: u64 = 5_000;

/// Without `TRUNCATE false`, a vacuum that finds empty pages at the end
/// of the table tries for an exclusive lock to cut them off, and on a busy
/// queue waits for it (`VacuumTruncate`, up to seconds in the bench); the
/// pages are reused by the next inserts anyway.
const VACUUM: &str = "VACUUM (SKIP_LOCKED, TRUNCATE false) callbacks";

#[derive(Default)]
pub(super) struct QueueVacuum {
    deleted: AtomicU64,
    running: Arc<AtomicBool>,
}

impl QueueVacuum {
    /// Counts `n` deleted callbacks, and starts a vacuum when enough have
    /// piled up and none is running.
    pub(super) fn deleted(&self, n: u64, pool: &Pool) {
        let total = self.deleted.fetch_add(n, Ordering::AcqRel) + n;
        if total < EVERY || self.running.swap(true, Ordering::AcqRel) {
            return;
        }
        self.deleted.store(0, Ordering::Release);
        let (pool, running) = (pool.clone(), Arc::clone(&self.running));
        tokio::spawn(async move {
            match pool.get().await {
                Ok(c) => {
                    if let Err(e) = c.batch_execute(VACUUM).await {
                        tracing::warn!(error = %e, "vacuuming the callback queue failed");
                    }
                }
                Err(e) => tracing::warn!(error = %e, "no connection to vacuum the callback queue"),
            }
            running.store(false, Ordering::Release);
        });
    }
}
