//! The callback queue and pricing conversations on SQLite.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params};
use wabiz_domain::callbacks::{
    CONVERSATION_SECS, CallbackKind, CallbackOutcome, Conversation, NewCallback, PendingCallback, new_conversation_id,
};
use wabiz_domain::ports::{CallbackStore, ConversationStore, StoreResult};

use super::SqliteStore;

/// The columns [`callback_from_row`] reads, in order.
const COLUMNS: &str =
    "seq, kind, peer, subject, item, contact, created_at, attempts, next_attempt_at, last_attempt_at, last_result";

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
        node: &str,
        now_ms: i64,
        until_ms: i64,
        limit: usize,
    ) -> StoreResult<Vec<PendingCallback>> {
        let node = node.to_owned();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut claimed = self
            .writer
            .write(move |c| {
                let mut st = c.prepare_cached(&format!(
                    "UPDATE callbacks SET claimed_by = ?1, claimed_until = ?2
                     WHERE seq IN (
                        SELECT c.seq FROM callbacks c
                        WHERE c.claimed_until <= ?3 AND c.next_attempt_at <= ?3
                          AND (c.peer = '' OR NOT EXISTS (
                                SELECT 1 FROM callbacks b
                                WHERE b.peer = c.peer AND b.seq < c.seq AND (b.next_attempt_at > ?3 OR b.claimed_until > ?3)))
                        ORDER BY c.seq LIMIT ?4)
                     RETURNING {COLUMNS}"
                ))?;
                let rows = st.query_map(params![node, until_ms, now_ms, limit], callback_from_row)?;
                rows.collect::<rusqlite::Result<Vec<_>>>()
            })
            .await?;
        // RETURNING promises no order.
        claimed.sort_unstable_by_key(|c| c.seq);
        Ok(claimed)
    }

    async fn renew_callback_claims(&self, node: &str, seqs: Vec<i64>, until_ms: i64) -> StoreResult<()> {
        let node = node.to_owned();
        self.writer
            .write(move |c| {
                let mut st =
                    c.prepare_cached("UPDATE callbacks SET claimed_until = ?3 WHERE seq = ?1 AND claimed_by = ?2")?;
                for seq in &seqs {
                    st.execute(params![seq, node, until_ms])?;
                }
                Ok(())
            })
            .await
    }

    async fn release_callback_claims(&self, node: Option<&str>) -> StoreResult<u64> {
        let node = node.map(str::to_owned);
        self.writer
            .write(move |c| {
                let n = match &node {
                    Some(n) => c
                        .prepare_cached(
                            "UPDATE callbacks SET claimed_by = NULL, claimed_until = 0 WHERE claimed_by = ?1",
                        )?
                        .execute([n])?,
                    None => c
                        .prepare_cached(
                            "UPDATE callbacks SET claimed_by = NULL, claimed_until = 0 WHERE claimed_by IS NOT NULL",
                        )?
                        .execute([])?,
                };
                Ok(n as u64)
            })
            .await
    }

    async fn finish_callbacks(&self, outcomes: Vec<CallbackOutcome>) -> StoreResult<()> {
        self.writer
            .write(move |c| {
                for o in &outcomes {
                    match o {
                        CallbackOutcome::Delivered { seq } => {
                            c.prepare_cached("DELETE FROM callbacks WHERE seq = ?1")?.execute([seq])?;
                        }
                        CallbackOutcome::Failed { seq, attempts, at, next_attempt_at, result } => {
                            c.prepare_cached(
                                "UPDATE callbacks SET attempts = ?2, last_attempt_at = ?3, next_attempt_at = ?4, last_result = ?5,
                                        claimed_by = NULL, claimed_until = 0
                                 WHERE seq = ?1",
                            )?
                            .execute(params![seq, attempts, at, next_attempt_at, result])?;
                        }
                        CallbackOutcome::Released { seq } => {
                            c.prepare_cached("UPDATE callbacks SET claimed_by = NULL, claimed_until = 0 WHERE seq = ?1")?
                                .execute([seq])?;
                        }
                    }
                }
                Ok(())
            })
            .await
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

#[async_trait]
impl ConversationStore for SqliteStore {
    async fn open_conversations(&self, wanted: Vec<(String, String)>, now: i64) -> StoreResult<Vec<Conversation>> {
        self.writer
            .write(move |c| {
                let mut out = Vec::with_capacity(wanted.len());
                for (peer, category) in &wanted {
                    let open: Option<(String, i64)> = c
                        .prepare_cached(
                            "SELECT id, expires_at FROM conversations WHERE peer = ?1 AND category = ?2 AND expires_at > ?3",
                        )?
                        .query_row(params![peer, category, now], |r| Ok((r.get(0)?, r.get(1)?)))
                        .optional()?;
                    out.push(match open {
                        Some((id, expires_at)) => {
                            Conversation { id, category: category.clone(), expires_at, opened_here: false }
                        }
                        None => {
                            let conversation = Conversation {
                                id: new_conversation_id(),
                                category: category.clone(),
                                expires_at: now + CONVERSATION_SECS,
                                opened_here: true,
                            };
                            c.prepare_cached(
                                "INSERT INTO conversations (peer, category, id, opened_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)
                                 ON CONFLICT(peer, category) DO UPDATE SET id = excluded.id, opened_at = excluded.opened_at, expires_at = excluded.expires_at",
                            )?
                            .execute(params![peer, category, conversation.id, now, conversation.expires_at])?;
                            conversation
                        }
                    });
                }
                Ok(out)
            })
            .await
    }
}

#[async_trait]
impl wabiz_domain::ports::StatsStore for SqliteStore {
    async fn db_counts(&self) -> StoreResult<wabiz_domain::ports::DbCounts> {
        self.readers
            .read(|c| {
                let count = |sql: &str| c.query_row(sql, [], |r| r.get::<_, i64>(0)).map(|n| n.max(0) as u64);
                let mut st = c.prepare("SELECT type, COUNT(*) FROM messages GROUP BY type ORDER BY type")?;
                let messages = st
                    .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?.max(0) as u64)))?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                Ok(wabiz_domain::ports::DbCounts {
                    messages,
                    // One history line per status.
                    receipts: count(
                        "SELECT COALESCE(SUM(length(history) - length(replace(history, char(10), '')) + 1), 0)
                         FROM messages WHERE history IS NOT NULL",
                    )?,
                    pending_messages: count(
                        "SELECT COUNT(*) FROM messages WHERE direction = 'outbound' AND status = 'accepted'",
                    )?,
                    pending_callbacks: count("SELECT COUNT(*) FROM callbacks")?,
                    whatsapp_contacts: count("SELECT COUNT(*) FROM contacts WHERE status = 'valid'")?,
                    other_contacts: count("SELECT COUNT(*) FROM contacts WHERE status <> 'valid'")?,
                })
            })
            .await
    }
}
