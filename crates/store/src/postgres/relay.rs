//! The Cloud relay's queue and ids (`RelayStore`) on PostgreSQL. Several
//! nodes claim sends from one queue: `FOR UPDATE SKIP LOCKED` keeps two
//! claims apart, and the lease (`due_at` moved on) hands a send back if its
//! node dies before answering for it.

use async_trait::async_trait;
use wabiz_domain::callbacks::NewCallback;
use wabiz_domain::ports::{MessageRecord, StoreResult, Transition};
use wabiz_domain::relay::{CloudMedia, CloudSend, RelayStore, SendEnvelope};

use super::callbacks::insert_callback_rows;
use super::messages::{apply_transitions_in_tx, insert_message_rows};
use super::{PgStore, db_err};

/// Claims the due heads of the customers' queues. Only heads have a due
/// time; the check for an older send of the same customer (one seek in
/// `cloud_sends_peer`) keeps the order should two ever have one.
pub(super) const CLAIM: &str = "WITH heads AS (
         SELECT s.seq FROM cloud_sends s
         WHERE s.due_at IS NOT NULL AND s.due_at <= $1
           AND NOT EXISTS (SELECT 1 FROM cloud_sends o WHERE o.peer = s.peer AND o.seq < s.seq)
         ORDER BY s.due_at, s.seq LIMIT $3
         FOR UPDATE SKIP LOCKED)
     UPDATE cloud_sends s SET due_at = $2, attempts = s.attempts + 1, claimed = TRUE
     FROM heads, messages m
     WHERE s.seq = heads.seq AND m.id = s.message_id
     RETURNING s.seq, s.message_id, s.peer, s.preview_url, s.context, m.type, s.attempts - 1, m.content, m.created_at, m.expires_at";

/// Serialises the queue changes of one customer: a send queued while its
/// customer's head leaves must either see the head (and wait behind it) or
/// be made due by its leaving, never neither.
async fn lock_customer(tx: &deadpool_postgres::Transaction<'_>, peer: &str) -> StoreResult<()> {
    tx.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 25))", &[&peer]).await.map_err(db_err)?;
    Ok(())
}

/// Takes a send out of the queue and makes its customer's next one due.
async fn leave_queue(tx: &deadpool_postgres::Transaction<'_>, seq: i64) -> StoreResult<()> {
    let Some(row) =
        tx.query_opt("DELETE FROM cloud_sends WHERE seq = $1 RETURNING peer", &[&seq]).await.map_err(db_err)?
    else {
        return Ok(());
    };
    let peer: String = row.get(0);
    lock_customer(tx, &peer).await?;
    tx.execute(
        "UPDATE cloud_sends SET due_at = 0
         WHERE seq = (SELECT MIN(seq) FROM cloud_sends WHERE peer = $1) AND due_at IS NULL",
        &[&peer],
    )
    .await
    .map_err(db_err)?;
    Ok(())
}

#[async_trait]
impl RelayStore for PgStore {
    async fn queue_cloud_send(&self, message: &MessageRecord, envelope: &SendEnvelope, due_ms: i64) -> StoreResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(db_err)?;
        lock_customer(&tx, &message.peer).await?;
        insert_message_rows(&tx, [message]).await?;
        // Due at once if it heads its customer's queue; else it waits.
        tx.execute(
            "INSERT INTO cloud_sends (message_id, peer, preview_url, context, due_at)
             VALUES ($1, $2, $3, $4, CASE WHEN EXISTS (SELECT 1 FROM cloud_sends WHERE peer = $2) THEN NULL ELSE $5::BIGINT END)",
            &[&message.id, &message.peer, &envelope.preview_url, &envelope.context, &due_ms],
        )
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)
    }

    async fn claim_cloud_sends(&self, now_ms: i64, lease_until_ms: i64, limit: usize) -> StoreResult<Vec<CloudSend>> {
        let c = self.client().await?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = c.query(CLAIM, &[&now_ms, &lease_until_ms, &limit]).await.map_err(db_err)?;
        let mut sends: Vec<CloudSend> = rows
            .iter()
            .map(|r| {
                let attempts: i32 = r.get(6);
                CloudSend {
                    seq: r.get(0),
                    message_id: r.get(1),
                    peer: r.get(2),
                    envelope: SendEnvelope { preview_url: r.get(3), context: r.get(4) },
                    kind: r.get(5),
                    attempts: u32::try_from(attempts).unwrap_or(0),
                    content: r.get(7),
                    created_at: r.get(8),
                    expires_at: r.get(9),
                }
            })
            .collect();
        sends.sort_by_key(|s| s.seq);
        Ok(sends)
    }

    async fn release_cloud_claims(&self, now_ms: i64) -> StoreResult<u64> {
        let c = self.client().await?;
        let n = c
            .execute("UPDATE cloud_sends SET due_at = $1, claimed = FALSE WHERE claimed", &[&now_ms])
            .await
            .map_err(db_err)?;
        Ok(n)
    }

    async fn cloud_send_taken(&self, seq: i64, message_id: &str, wamid: &str) -> StoreResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(db_err)?;
        leave_queue(&tx, seq).await?;
        tx.execute(
            "INSERT INTO cloud_messages (wamid, message_id) VALUES ($1, $2)
             ON CONFLICT (wamid) DO UPDATE SET message_id = EXCLUDED.message_id",
            &[&wamid, &message_id],
        )
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)
    }

    async fn cloud_send_later(&self, seq: i64, at_ms: i64) -> StoreResult<()> {
        let c = self.client().await?;
        c.execute("UPDATE cloud_sends SET due_at = $2, claimed = FALSE WHERE seq = $1", &[&seq, &at_ms])
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn cloud_send_refused(&self, seq: i64, failure: Transition) -> StoreResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(db_err)?;
        leave_queue(&tx, seq).await?;
        apply_transitions_in_tx(&tx, &[&failure]).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn next_cloud_send(&self) -> StoreResult<Option<i64>> {
        let c = self.client().await?;
        let row = c.query_one("SELECT MIN(due_at) FROM cloud_sends", &[]).await.map_err(db_err)?;
        Ok(row.get(0))
    }

    async fn cloud_backlog(&self) -> StoreResult<(u64, Option<i64>)> {
        let c = self.client().await?;
        let n: i64 = c.query_one("SELECT COUNT(*) FROM cloud_sends", &[]).await.map_err(db_err)?.get(0);
        let oldest = c
            .query_opt(
                "SELECT m.created_at FROM cloud_sends s JOIN messages m ON m.id = s.message_id ORDER BY s.seq LIMIT 1",
                &[],
            )
            .await
            .map_err(db_err)?
            .map(|r| r.get::<_, i64>(0));
        Ok((u64::try_from(n).unwrap_or(0), oldest))
    }

    async fn message_of_wamid(&self, wamid: &str) -> StoreResult<Option<String>> {
        let c = self.client().await?;
        let row =
            c.query_opt("SELECT message_id FROM cloud_messages WHERE wamid = $1", &[&wamid]).await.map_err(db_err)?;
        Ok(row.map(|r| r.get(0)))
    }

    async fn wamid_of_message(&self, message_id: &str) -> StoreResult<Option<String>> {
        let c = self.client().await?;
        let row = c
            .query_opt("SELECT wamid FROM cloud_messages WHERE message_id = $1", &[&message_id])
            .await
            .map_err(db_err)?;
        Ok(row.map(|r| r.get(0)))
    }

    async fn insert_message_once(&self, message: &MessageRecord, callbacks: &[NewCallback]) -> StoreResult<bool> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(db_err)?;
        // Two nodes given the same webhook: the second waits for the first's
        // transaction here, then finds the message.
        tx.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", &[&message.id]).await.map_err(db_err)?;
        let known = tx.query_opt("SELECT 1 FROM messages WHERE id = $1", &[&message.id]).await.map_err(db_err)?;
        if known.is_some() {
            return Ok(false);
        }
        insert_message_rows(&tx, [message]).await?;
        insert_callback_rows(&tx, callbacks).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(true)
    }

    async fn wa_id_of_user(&self, user_id: &str) -> StoreResult<Option<String>> {
        let c = self.client().await?;
        let row = c.query_opt("SELECT wa_id FROM cloud_users WHERE user_id = $1", &[&user_id]).await.map_err(db_err)?;
        Ok(row.map(|r| r.get(0)))
    }

    async fn user_of_wa_id(&self, wa_id: &str) -> StoreResult<Option<String>> {
        let c = self.client().await?;
        let row = c.query_opt("SELECT user_id FROM cloud_users WHERE wa_id = $1", &[&wa_id]).await.map_err(db_err)?;
        Ok(row.map(|r| r.get(0)))
    }

    async fn put_user_wa_id(&self, wa_id: &str, user_id: &str) -> StoreResult<bool> {
        let c = self.client().await?;
        let n = c
            .execute(
                "INSERT INTO cloud_users (wa_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                &[&wa_id, &user_id],
            )
            .await
            .map_err(db_err)?;
        Ok(n == 1)
    }

    async fn cloud_media(&self, id: &str) -> StoreResult<Option<CloudMedia>> {
        let c = self.client().await?;
        let row = c
            .query_opt("SELECT id, cloud_id, mime_type, at FROM cloud_media WHERE id = $1", &[&id])
            .await
            .map_err(db_err)?;
        Ok(row.map(|r| CloudMedia { id: r.get(0), cloud_id: r.get(1), mime_type: r.get(2), at: r.get(3) }))
    }

    async fn put_cloud_media(&self, media: &CloudMedia) -> StoreResult<()> {
        let c = self.client().await?;
        c.execute(
            "INSERT INTO cloud_media (id, cloud_id, mime_type, at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (id) DO UPDATE SET cloud_id = EXCLUDED.cloud_id, mime_type = EXCLUDED.mime_type, at = EXCLUDED.at",
            &[&media.id, &media.cloud_id, &media.mime_type, &media.at],
        )
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn forget_cloud_media(&self, id: &str) -> StoreResult<()> {
        let c = self.client().await?;
        c.execute("DELETE FROM cloud_media WHERE id = $1", &[&id]).await.map_err(db_err)?;
        Ok(())
    }

    async fn park_cloud_status(&self, wamid: &str, item: &str, at: i64) -> StoreResult<()> {
        let c = self.client().await?;
        c.execute("INSERT INTO cloud_parked_statuses (wamid, item, at) VALUES ($1, $2, $3)", &[&wamid, &item, &at])
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn take_parked_statuses(&self, wamid: &str) -> StoreResult<Vec<String>> {
        let c = self.client().await?;
        let rows = c
            .query("DELETE FROM cloud_parked_statuses WHERE wamid = $1 RETURNING seq, item", &[&wamid])
            .await
            .map_err(db_err)?;
        let mut items: Vec<(i64, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
        items.sort_by_key(|(seq, _)| *seq);
        Ok(items.into_iter().map(|(_, item)| item).collect())
    }

    async fn forget_parked_statuses(&self, before: i64) -> StoreResult<u64> {
        let c = self.client().await?;
        c.execute("DELETE FROM cloud_parked_statuses WHERE at < $1", &[&before]).await.map_err(db_err)
    }
}
