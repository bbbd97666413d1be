//! The callback queue (`CallbackStore`) on SQLite.

use std::collections::HashSet;

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params};
use wabiz_domain::callbacks::{CallbackKind, CallbackOutcome, NewCallback, PendingCallback};
use wabiz_domain::ports::{CallbackStore, StoreResult};

use super::SqliteStore;

/// How far ahead of the engine's clock a producer's may be.
const CLOCK_SKEW_MS: i64 = 100;

/// The columns [`callback_from_row`] reads, in order.
const COLUMNS: &str =
    "seq, kind, peer, subject, item, contact, created_at, attempts, next_attempt_at, last_attempt_at, last_result";

/// The claims of the callbacks the delivery engine holds. A SQLite database
/// has one node, so claims need not be shared: they live here instead of in
/// the rows, and claiming is a read (on a reader connection) instead of an
/// `UPDATE … RETURNING` on the single writer, which cost a sixth of its time
/// (issue 7). The node's own claims do not hold its peers' later callbacks
/// back: the engine keeps a peer's callbacks in order itself.
#[derive(Default)]
pub(super) struct Claims {
    /// Callbacks handed out and not finished.
    held: HashSet<i64>,
    /// Every callback up to this one is held or gone: scans start after it.
    /// A callback skipped by a scan (not due, or behind one that is not)
    /// keeps the floor below it; one given back lowers it.
    floor: i64,
}

impl Claims {
    fn release(&mut self, seqs: Vec<i64>) {
        for seq in seqs {
            if self.held.remove(&seq) {
                self.floor = self.floor.min(seq - 1);
            }
        }
    }
}

pub(super) fn insert_callback_row(c: &Connection, cb: &NewCallback) -> rusqlite::Result<()> {
    c.prepare_cached(
        "INSERT INTO callbacks (kind, peer, subject, item, contact, created_at, next_attempt_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
    )?
    .execute(params![cb.kind.as_str(), cb.peer, cb.subject, cb.item, cb.contact, cb.created_at])
    .map(|_| ())
}

fn callback_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<PendingCallback> {
    let kind: String = r.get(1)?;
    Ok(PendingCallback {
        seq: r.get(0)?,
        // Only this code writes the column; an unknown value is a hand edit.
        kind: CallbackKind::parse(&kind).unwrap_or(CallbackKind::Error),
        peer: r.get(2)?,
        subject: r.get(3)?,
        item: r.get(4)?,
        contact: r.get(5)?,
        created_at: r.get(6)?,
        attempts: r.get(7)?,
        next_attempt_at: r.get(8)?,
        last_attempt_at: r.get(9)?,
        last_result: r.get(10)?,
    })
}

#[async_trait]
impl CallbackStore for SqliteStore {
    async fn enqueue_callbacks(&self, callbacks: Vec<NewCallback>) -> StoreResult<()> {
        self.writer.write(move |c| callbacks.iter().try_for_each(|cb| insert_callback_row(c, cb))).await
    }

    async fn claim_callbacks(
        &self,
        _node: &str,
        now_ms: i64,
        _until_ms: i64,
        limit: usize,
    ) -> StoreResult<Vec<PendingCallback>> {
        // Held across the reads: a callback finished meanwhile must stay
        // "held" until the scan that might still see its row is over.
        let mut claims = self.claims.lock().await;
        let mut claimed = Vec::new();
        // Peers with an older callback not claimable now: their later ones wait.
        let mut blocked: HashSet<String> = HashSet::new();
        // Once a callback is skipped, the floor stays below it.
        let mut skipped = false;
        let mut cursor = claims.floor;
        let page = limit.clamp(64, 4096);
        while claimed.len() < limit {
            let page_len = i64::try_from(page).unwrap_or(i64::MAX);
            let rows = self
                .readers
                .read(move |c| {
                    let mut st = c.prepare_cached(&format!(
                        "SELECT {COLUMNS} FROM callbacks WHERE seq > ?1 ORDER BY seq LIMIT ?2"
                    ))?;
                    let rows = st.query_map(params![cursor, page_len], callback_from_row)?;
                    rows.collect::<rusqlite::Result<Vec<_>>>()
                })
                .await?;
            let full = rows.len() == page;
            for cb in rows {
                cursor = cb.seq;
                if claimed.len() == limit {
                    break;
                }
                let held = claims.held.contains(&cb.seq);
                let ordered = !cb.peer.is_empty();
                // A callback never tried is due from its creation, give or take
                // its producer's clock being a little ahead of the caller's; one
                // created in the future is held back (chaos's disorder).
                let due =
                    cb.next_attempt_at <= now_ms || (cb.attempts == 0 && cb.next_attempt_at <= now_ms + CLOCK_SKEW_MS);
                if !held && (!due || (ordered && blocked.contains(&cb.peer))) {
                    if ordered {
                        blocked.insert(cb.peer.clone());
                    }
                    skipped = true;
                    continue;
                }
                if !skipped {
                    claims.floor = cb.seq;
                }
                if !held {
                    claims.held.insert(cb.seq);
                    claimed.push(cb);
                }
            }
            if !full {
                break;
            }
        }
        Ok(claimed)
    }

    async fn renew_callback_claims(&self, _node: &str, seqs: Vec<i64>, until_ms: i64) -> StoreResult<()> {
        // Claims in memory do not lapse; a claim renewed into the past is
        // given back.
        if until_ms <= 0 {
            self.claims.lock().await.release(seqs);
        }
        Ok(())
    }

    async fn release_callback_claims(&self, _node: Option<&str>) -> StoreResult<u64> {
        let mut claims = self.claims.lock().await;
        // Databases written before claims moved to memory may still name a
        // claiming node.
        let stored = self
            .writer
            .write(|c| {
                c.prepare_cached(
                    "UPDATE callbacks SET claimed_by = NULL, claimed_until = 0 WHERE claimed_by IS NOT NULL",
                )?
                .execute([])
            })
            .await?;
        let held = claims.held.len();
        claims.held.clear();
        claims.floor = 0;
        Ok(stored.max(held) as u64)
    }

    async fn finish_callbacks(&self, outcomes: Vec<CallbackOutcome>) -> StoreResult<()> {
        let seqs: Vec<(i64, bool)> = outcomes
            .iter()
            .map(|o| match o {
                CallbackOutcome::Delivered { seq } => (*seq, false),
                CallbackOutcome::Failed { seq, .. } | CallbackOutcome::Released { seq } => (*seq, true),
            })
            .collect();
        self.writer
            .write(move |c| {
                for o in &outcomes {
                    match o {
                        CallbackOutcome::Delivered { seq } => {
                            c.prepare_cached("DELETE FROM callbacks WHERE seq = ?1")?.execute([seq])?;
                        }
                        CallbackOutcome::Failed { seq, attempts, at, next_attempt_at, result } => {
                            c.prepare_cached(
                                "UPDATE callbacks SET attempts = ?2, last_attempt_at = ?3, next_attempt_at = ?4, last_result = ?5
                                 WHERE seq = ?1",
                            )?
                            .execute(params![seq, attempts, at, next_attempt_at, result.to_string()])?;
                        }
                        // Nothing stored changes: the claim was only in memory.
                        CallbackOutcome::Released { .. } => {}
                    }
                }
                Ok(())
            })
            .await?;
        // Only now that the rows are gone or updated on disk: a claim reads
        // what is committed.
        let mut claims = self.claims.lock().await;
        let (back, done): (Vec<_>, Vec<_>) = seqs.into_iter().partition(|(_, back)| *back);
        for (seq, _) in done {
            claims.held.remove(&seq);
        }
        claims.release(back.into_iter().map(|(seq, _)| seq).collect());
        Ok(())
    }

    async fn list_callbacks(&self, after_seq: i64, limit: usize) -> StoreResult<Vec<PendingCallback>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.readers
            .read(move |c| {
                let mut st =
                    c.prepare_cached(&format!("SELECT {COLUMNS} FROM callbacks WHERE seq > ?1 ORDER BY seq LIMIT ?2"))?;
                let rows = st.query_map(params![after_seq, limit], callback_from_row)?;
                rows.collect()
            })
            .await
    }

    async fn get_callback(&self, seq: i64) -> StoreResult<Option<PendingCallback>> {
        self.readers
            .read(move |c| {
                c.prepare_cached(&format!("SELECT {COLUMNS} FROM callbacks WHERE seq = ?1"))?
                    .query_row([seq], callback_from_row)
                    .optional()
            })
            .await
    }

    async fn retry_callback_now(&self, seq: i64, now_ms: i64) -> StoreResult<bool> {
        self.writer
            .write(move |c| {
                c.prepare_cached("UPDATE callbacks SET next_attempt_at = ?2 WHERE seq = ?1 AND next_attempt_at > ?2")?
                    .execute(params![seq, now_ms])?;
                c.prepare_cached("SELECT 1 FROM callbacks WHERE seq = ?1")?.exists([seq])
            })
            .await
    }

    async fn callback_backlog(&self) -> StoreResult<(u64, Option<i64>)> {
        self.readers
            .read(|c| {
                c.prepare_cached("SELECT COUNT(*), MIN(created_at) FROM callbacks")?
                    .query_row([], |r| Ok((r.get::<_, i64>(0)?.max(0) as u64, r.get(1)?)))
            })
            .await
    }

    async fn clear_callbacks(&self) -> StoreResult<u64> {
        self.writer.write(|c| Ok(c.prepare_cached("DELETE FROM callbacks")?.execute([])? as u64)).await
    }
}
