//! The callback queue (`CallbackStore`) on PostgreSQL. Claims are in
//! `claim.rs`.

use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use wabiz_domain::callbacks::{CallbackKind, CallbackOutcome, NewCallback, PendingCallback};
use wabiz_domain::ports::{CallbackStore, StoreResult};

use super::{PgStore, db_err};

/// The columns [`callback_from_row`] reads, in order.
pub(super) const COLUMNS: &str =
    "seq, kind, peer, subject, item, contact, created_at, attempts, next_attempt_at, last_attempt_at, last_result";

/// Stores callbacks with one statement, in the order given: their sequence
/// numbers follow that order, which is the order each peer's are delivered in.
pub(super) async fn insert_callback_rows<'a>(
    c: &impl GenericClient,
    callbacks: impl IntoIterator<Item = &'a NewCallback>,
) -> StoreResult<()> {
    let callbacks: Vec<&NewCallback> = callbacks.into_iter().collect();
    if callbacks.is_empty() {
        return Ok(());
    }
    let st = c
        .prepare_cached(
            "INSERT INTO callbacks (kind, peer, subject, item, contact, created_at, next_attempt_at)
             SELECT kind, peer, subject, item, contact, created_at, created_at
             FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[])
                  WITH ORDINALITY AS r(kind, peer, subject, item, contact, created_at, ord)
             ORDER BY ord",
        )
        .await
        .map_err(db_err)?;
    let kinds: Vec<&str> = callbacks.iter().map(|cb| cb.kind.as_str()).collect();
    let peers: Vec<&str> = callbacks.iter().map(|cb| cb.peer.as_str()).collect();
    let subjects: Vec<Option<&str>> = callbacks.iter().map(|cb| cb.subject.as_deref()).collect();
    let items: Vec<&str> = callbacks.iter().map(|cb| cb.item.as_str()).collect();
    let contacts: Vec<Option<&str>> = callbacks.iter().map(|cb| cb.contact.as_deref()).collect();
    let created: Vec<i64> = callbacks.iter().map(|cb| cb.created_at).collect();
    c.execute(&st, &[&kinds, &peers, &subjects, &items, &contacts, &created]).await.map_err(db_err)?;
    Ok(())
}

pub(super) fn callback_from_row(r: &tokio_postgres::Row) -> PendingCallback {
    let kind: String = r.get(1);
    let attempts: i32 = r.get(7);
    PendingCallback {
        seq: r.get(0),
        // Only this code writes the column; an unknown value is a hand edit.
        kind: CallbackKind::parse(&kind).unwrap_or(CallbackKind::Error),
        peer: r.get(2),
        subject: r.get(3),
        item: r.get(4),
        contact: r.get(5),
        created_at: r.get(6),
        attempts: u32::try_from(attempts).unwrap_or(0),
        next_attempt_at: r.get(8),
        last_attempt_at: r.get(9),
        last_result: r.get(10),
    }
}

#[async_trait]
impl CallbackStore for PgStore {
    async fn enqueue_callbacks(&self, callbacks: Vec<NewCallback>) -> StoreResult<()> {
        let c = self.client().await?;
        // One statement: atomic without a transaction of its own.
        insert_callback_rows(&c, &callbacks).await
    }

    async fn claim_callbacks(
        &self,
        node: &str,
        now_ms: i64,
        until_ms: i64,
        limit: usize,
    ) -> StoreResult<Vec<PendingCallback>> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(db_err)?;
        let claimed = super::claim::claim(&tx, node, now_ms, until_ms, limit).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(claimed)
    }

    async fn renew_callback_claims(&self, node: &str, seqs: Vec<i64>, until_ms: i64) -> StoreResult<()> {
        let c = self.client().await?;
        c.execute(
            "UPDATE callbacks SET claimed_until = $3 WHERE seq = ANY($1) AND claimed_by = $2",
            &[&seqs, &node, &until_ms],
        )
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn release_callback_claims(&self, node: Option<&str>) -> StoreResult<u64> {
        let c = self.client().await?;
        let n = match node {
            Some(n) => c
                .execute("UPDATE callbacks SET claimed_by = NULL, claimed_until = 0 WHERE claimed_by = $1", &[&n])
                .await
                .map_err(db_err)?,
            None => c
                .execute("UPDATE callbacks SET claimed_by = NULL, claimed_until = 0 WHERE claimed_by IS NOT NULL", &[])
                .await
                .map_err(db_err)?,
        };
        Ok(n)
    }

    async fn finish_callbacks(&self, outcomes: Vec<CallbackOutcome>) -> StoreResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(db_err)?;
        let of = |want: fn(&CallbackOutcome) -> Option<i64>| outcomes.iter().filter_map(want).collect::<Vec<i64>>();
        let delivered = of(|o| match o {
            CallbackOutcome::Delivered { seq } => Some(*seq),
            _ => None,
        });
        let mut deleted = 0;
        if !delivered.is_empty() {
            deleted = tx.execute("DELETE FROM callbacks WHERE seq = ANY($1)", &[&delivered]).await.map_err(db_err)?;
        }
        let released = of(|o| match o {
            CallbackOutcome::Released { seq } => Some(*seq),
            _ => None,
        });
        if !released.is_empty() {
            tx.execute("UPDATE callbacks SET claimed_by = NULL, claimed_until = 0 WHERE seq = ANY($1)", &[&released])
                .await
                .map_err(db_err)?;
        }
        for o in &outcomes {
            if let CallbackOutcome::Failed { seq, attempts, at, next_attempt_at, result } = o {
                let attempts = i32::try_from(*attempts).unwrap_or(i32::MAX);
                tx.execute(
                    "UPDATE callbacks SET attempts = $2, last_attempt_at = $3, next_attempt_at = $4, last_result = $5,
                            claimed_by = NULL, claimed_until = 0
                     WHERE seq = $1",
                    &[seq, &attempts, at, next_attempt_at, &result.to_string()],
                )
                .await
                .map_err(db_err)?;
            }
        }
        tx.commit().await.map_err(db_err)?;
        self.queue_vacuum.deleted(deleted, &self.pool);
        Ok(())
    }

    async fn list_callbacks(&self, after_seq: i64, limit: usize) -> StoreResult<Vec<PendingCallback>> {
        let c = self.client().await?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = c
            .query(
                &format!("SELECT {COLUMNS} FROM callbacks WHERE seq > $1 ORDER BY seq LIMIT $2"),
                &[&after_seq, &limit],
            )
            .await
            .map_err(db_err)?;
        Ok(rows.iter().map(callback_from_row).collect())
    }

    async fn get_callback(&self, seq: i64) -> StoreResult<Option<PendingCallback>> {
        let c = self.client().await?;
        let row =
            c.query_opt(&format!("SELECT {COLUMNS} FROM callbacks WHERE seq = $1"), &[&seq]).await.map_err(db_err)?;
        Ok(row.as_ref().map(callback_from_row))
    }

    async fn retry_callback_now(&self, seq: i64, now_ms: i64) -> StoreResult<bool> {
        let c = self.client().await?;
        c.execute(
            "UPDATE callbacks SET next_attempt_at = $2 WHERE seq = $1 AND next_attempt_at > $2",
            &[&seq, &now_ms],
        )
        .await
        .map_err(db_err)?;
        let row = c.query_opt("SELECT 1 FROM callbacks WHERE seq = $1", &[&seq]).await.map_err(db_err)?;
        Ok(row.is_some())
    }

    async fn callback_backlog(&self) -> StoreResult<(u64, Option<i64>)> {
        let c = self.client().await?;
        let row = c.query_one("SELECT COUNT(*), MIN(created_at) FROM callbacks", &[]).await.map_err(db_err)?;
        let n: i64 = row.get(0);
        Ok((u64::try_from(n).unwrap_or(0), row.get(1)))
    }

    async fn clear_callbacks(&self) -> StoreResult<u64> {
        let c = self.client().await?;
        c.execute("DELETE FROM callbacks", &[]).await.map_err(db_err)
    }
}
