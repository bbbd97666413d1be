//! The Cloud relay's queue and ids (`RelayStore`) on SQLite. One process
//! owns the file, so a claim is a plain update on the one writer.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};
use wabiz_domain::callbacks::NewCallback;
use wabiz_domain::ports::{MessageRecord, StoreResult, Transition};
use wabiz_domain::relay::{CloudMedia, CloudSend, RelayStore, SendEnvelope};

use super::SqliteStore;
use super::callbacks::insert_callback_row;
use super::messages::{apply_runs, insert_message_row};

/// The due heads of the customers' queues. Only heads have a due time; the
/// check for an older send of the same customer (one seek in
/// `cloud_sends_peer`) keeps the order should two ever have one.
const CLAIMABLE: &str = "SELECT s.seq FROM cloud_sends s
     WHERE s.due_at IS NOT NULL AND s.due_at <= ?1
       AND NOT EXISTS (SELECT 1 FROM cloud_sends o WHERE o.peer = s.peer AND o.seq < s.seq)
     ORDER BY s.due_at, s.seq LIMIT ?2";

/// Takes a send out of the queue and makes its customer's next one due.
fn leave_queue(c: &rusqlite::Connection, seq: i64) -> rusqlite::Result<()> {
    let peer: Option<String> = c
        .prepare_cached("DELETE FROM cloud_sends WHERE seq = ?1 RETURNING peer")?
        .query_row([seq], |r| r.get(0))
        .optional()?;
    if let Some(peer) = peer {
        c.prepare_cached(
            "UPDATE cloud_sends SET due_at = 0
             WHERE seq = (SELECT MIN(seq) FROM cloud_sends WHERE peer = ?1) AND due_at IS NULL",
        )?
        .execute([peer])?;
    }
    Ok(())
}

fn send_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<CloudSend> {
    let attempts: i64 = r.get(6)?;
    Ok(CloudSend {
        seq: r.get(0)?,
        message_id: r.get(1)?,
        peer: r.get(2)?,
        envelope: SendEnvelope { preview_url: r.get::<_, i64>(3)? != 0, context: r.get(4)? },
        kind: r.get(5)?,
        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
        content: r.get(7)?,
        created_at: r.get(8)?,
        expires_at: r.get(9)?,
    })
}

#[async_trait]
impl RelayStore for SqliteStore {
    async fn queue_cloud_send(&self, message: &MessageRecord, envelope: &SendEnvelope, due_ms: i64) -> StoreResult<()> {
        let (m, e) = (message.clone(), envelope.clone());
        self.writer
            .write(move |c| {
                insert_message_row(c, &m, None)?;
                // Due at once if it heads its customer's queue; else it waits.
                c.prepare_cached(
                    "INSERT INTO cloud_sends (message_id, peer, preview_url, context, due_at)
                     VALUES (?1, ?2, ?3, ?4, CASE WHEN EXISTS (SELECT 1 FROM cloud_sends WHERE peer = ?2) THEN NULL ELSE ?5 END)",
                )?
                .execute(params![m.id, m.peer, i64::from(e.preview_url), e.context, due_ms])
                .map(|_| ())
            })
            .await
    }

    async fn claim_cloud_sends(&self, now_ms: i64, lease_until_ms: i64, limit: usize) -> StoreResult<Vec<CloudSend>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.writer
            .write(move |c| {
                let seqs: Vec<i64> =
                    c.prepare_cached(CLAIMABLE)?.query_map(params![now_ms, limit], |r| r.get(0))?.collect::<Result<_, _>>()?;
                let mut claimed = Vec::with_capacity(seqs.len());
                for seq in seqs {
                    c.prepare_cached("UPDATE cloud_sends SET due_at = ?2, attempts = attempts + 1, claimed = 1 WHERE seq = ?1")?
                        .execute(params![seq, lease_until_ms])?;
                    let send = c
                        .prepare_cached(
                            "SELECT s.seq, s.message_id, s.peer, s.preview_url, s.context, m.type, s.attempts - 1, m.content, m.created_at, m.expires_at
                             FROM cloud_sends s JOIN messages m ON m.id = s.message_id WHERE s.seq = ?1",
                        )?
                        .query_row([seq], send_from_row)
                        .optional()?;
                    match send {
                        Some(send) => claimed.push(send),
                        // Its message is gone (garbage collection): nothing to send.
                        None => leave_queue(c, seq)?,
                    }
                }
                Ok(claimed)
            })
            .await
    }

    async fn release_cloud_claims(&self, now_ms: i64) -> StoreResult<u64> {
        self.writer
            .write(move |c| {
                let n = c
                    .prepare_cached("UPDATE cloud_sends SET due_at = ?1, claimed = 0 WHERE claimed = 1")?
                    .execute([now_ms])?;
                Ok(u64::try_from(n).unwrap_or(0))
            })
            .await
    }

    async fn cloud_send_taken(&self, seq: i64, message_id: &str, wamid: &str) -> StoreResult<()> {
        let (id, wamid) = (message_id.to_owned(), wamid.to_owned());
        self.writer
            .write(move |c| {
                leave_queue(c, seq)?;
                c.prepare_cached("INSERT OR REPLACE INTO cloud_messages (wamid, message_id) VALUES (?1, ?2)")?
                    .execute(params![wamid, id])
                    .map(|_| ())
            })
            .await
    }

    async fn cloud_send_later(&self, seq: i64, at_ms: i64) -> StoreResult<()> {
        self.writer
            .write(move |c| {
                c.prepare_cached("UPDATE cloud_sends SET due_at = ?2, claimed = 0 WHERE seq = ?1")?
                    .execute(params![seq, at_ms])
                    .map(|_| ())
            })
            .await
    }

    async fn cloud_send_refused(&self, seq: i64, failure: Transition) -> StoreResult<()> {
        self.writer
            .write(move |c| {
                leave_queue(c, seq)?;
                apply_runs(c, std::slice::from_ref(&failure))
            })
            .await
    }

    async fn next_cloud_send(&self) -> StoreResult<Option<i64>> {
        self.readers.read(|c| c.query_row("SELECT MIN(due_at) FROM cloud_sends", [], |r| r.get(0))).await
    }

    async fn cloud_backlog(&self) -> StoreResult<(u64, Option<i64>)> {
        self.readers
            .read(|c| {
                let n: i64 = c.query_row("SELECT COUNT(*) FROM cloud_sends", [], |r| r.get(0))?;
                let oldest: Option<i64> = c.query_row(
                    "SELECT m.created_at FROM cloud_sends s JOIN messages m ON m.id = s.message_id ORDER BY s.seq LIMIT 1",
                    [],
                    |r| r.get(0),
                ).optional()?;
                Ok((u64::try_from(n).unwrap_or(0), oldest))
            })
            .await
    }

    async fn message_of_wamid(&self, wamid: &str) -> StoreResult<Option<String>> {
        let wamid = wamid.to_owned();
        self.readers
            .read(move |c| {
                c.prepare_cached("SELECT message_id FROM cloud_messages WHERE wamid = ?1")?
                    .query_row([wamid], |r| r.get(0))
                    .optional()
            })
            .await
    }

    async fn wamid_of_message(&self, message_id: &str) -> StoreResult<Option<String>> {
        let id = message_id.to_owned();
        self.readers
            .read(move |c| {
                c.prepare_cached("SELECT wamid FROM cloud_messages WHERE message_id = ?1")?
                    .query_row([id], |r| r.get(0))
                    .optional()
            })
            .await
    }

    async fn insert_message_once(&self, message: &MessageRecord, callbacks: &[NewCallback]) -> StoreResult<bool> {
        let (m, callbacks) = (message.clone(), callbacks.to_vec());
        self.writer
            .write(move |c| {
                let known = c
                    .prepare_cached("SELECT 1 FROM messages WHERE id = ?1")?
                    .query_row([&m.id], |_| Ok(()))
                    .optional()?
                    .is_some();
                if known {
                    return Ok(false);
                }
                insert_message_row(c, &m, None)?;
                callbacks.iter().try_for_each(|cb| insert_callback_row(c, cb))?;
                Ok(true)
            })
            .await
    }

    async fn wa_id_of_user(&self, user_id: &str) -> StoreResult<Option<String>> {
        let user_id = user_id.to_owned();
        self.readers
            .read(move |c| {
                c.prepare_cached("SELECT wa_id FROM cloud_users WHERE user_id = ?1")?
                    .query_row([user_id], |r| r.get(0))
                    .optional()
            })
            .await
    }

    async fn user_of_wa_id(&self, wa_id: &str) -> StoreResult<Option<String>> {
        let wa_id = wa_id.to_owned();
        self.readers
            .read(move |c| {
                c.prepare_cached("SELECT user_id FROM cloud_users WHERE wa_id = ?1")?
                    .query_row([wa_id], |r| r.get(0))
                    .optional()
            })
            .await
    }

    async fn put_user_wa_id(&self, wa_id: &str, user_id: &str) -> StoreResult<bool> {
        let (wa_id, user_id) = (wa_id.to_owned(), user_id.to_owned());
        self.writer
            .write(move |c| {
                let n = c
                    .prepare_cached("INSERT OR IGNORE INTO cloud_users (wa_id, user_id) VALUES (?1, ?2)")?
                    .execute(params![wa_id, user_id])?;
                Ok(n == 1)
            })
            .await
    }

    async fn cloud_media(&self, id: &str) -> StoreResult<Option<CloudMedia>> {
        let id = id.to_owned();
        self.readers
            .read(move |c| {
                c.prepare_cached("SELECT id, cloud_id, mime_type, at FROM cloud_media WHERE id = ?1")?
                    .query_row([id], |r| {
                        Ok(CloudMedia { id: r.get(0)?, cloud_id: r.get(1)?, mime_type: r.get(2)?, at: r.get(3)? })
                    })
                    .optional()
            })
            .await
    }

    async fn put_cloud_media(&self, media: &CloudMedia) -> StoreResult<()> {
        let m = media.clone();
        self.writer
            .write(move |c| {
                c.prepare_cached(
                    "INSERT OR REPLACE INTO cloud_media (id, cloud_id, mime_type, at) VALUES (?1, ?2, ?3, ?4)",
                )?
                .execute(params![m.id, m.cloud_id, m.mime_type, m.at])
                .map(|_| ())
            })
            .await
    }

    async fn forget_cloud_media(&self, id: &str) -> StoreResult<()> {
        let id = id.to_owned();
        self.writer
            .write(move |c| c.prepare_cached("DELETE FROM cloud_media WHERE id = ?1")?.execute([&id]).map(|_| ()))
            .await
    }

    async fn park_cloud_status(&self, wamid: &str, item: &str, at: i64) -> StoreResult<()> {
        let (wamid, item) = (wamid.to_owned(), item.to_owned());
        self.writer
            .write(move |c| {
                c.prepare_cached("INSERT INTO cloud_parked_statuses (wamid, item, at) VALUES (?1, ?2, ?3)")?
                    .execute(params![wamid, item, at])
                    .map(|_| ())
            })
            .await
    }

    async fn take_parked_statuses(&self, wamid: &str) -> StoreResult<Vec<String>> {
        let wamid = wamid.to_owned();
        self.writer
            .write(move |c| {
                let items: Vec<String> = c
                    .prepare_cached("SELECT item FROM cloud_parked_statuses WHERE wamid = ?1 ORDER BY seq")?
                    .query_map([&wamid], |r| r.get(0))?
                    .collect::<Result<_, _>>()?;
                if !items.is_empty() {
                    c.prepare_cached("DELETE FROM cloud_parked_statuses WHERE wamid = ?1")?.execute([&wamid])?;
                }
                Ok(items)
            })
            .await
    }

    async fn forget_parked_statuses(&self, before: i64) -> StoreResult<u64> {
        self.writer
            .write(move |c| {
                let n = c.prepare_cached("DELETE FROM cloud_parked_statuses WHERE at < ?1")?.execute([before])?;
                Ok(u64::try_from(n).unwrap_or(0))
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;
    use wabiz_domain::ports::Store as _;

    use super::*;

    /// Claiming reads the due heads from their index and checks each for an
    /// older send with one seek: no scan of what waits behind them.
    #[tokio::test]
    async fn the_claim_reads_due_heads_along_their_index() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.db");
        let store = SqliteStore::open(&path).await.unwrap();
        store.close().await;
        let c = Connection::open(&path).unwrap();
        let plan: Vec<String> = c
            .prepare(&format!("EXPLAIN QUERY PLAN {CLAIMABLE}"))
            .unwrap()
            .query_map(params![1_i64, 64_i64], |r| r.get::<_, String>(3))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(plan.iter().any(|d| d.contains("cloud_sends_due")), "{plan:?}");
        assert!(plan.iter().any(|d| d.contains("cloud_sends_peer")), "{plan:?}");
        assert!(!plan.iter().any(|d| d.starts_with("SCAN")), "{plan:?}");
    }
}
