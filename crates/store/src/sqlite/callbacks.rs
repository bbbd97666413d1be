//! The callback queue and pricing conversations on SQLite.

use std::collections::{HashMap, HashSet};

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
                // A callback never tried is due at once: its producer's clock
                // may be a millisecond ahead of the caller's.
                let due = cb.attempts == 0 || cb.next_attempt_at <= now_ms;
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
        // Most customers are in an open conversation already; those answer
        // from memory. The rest go through the writer (the only one that
        // opens conversations on this single-node engine, so what is
        // remembered stays true until it expires).
        let known: Vec<Option<Conversation>> = {
            let open = self.conversations.lock().unwrap_or_else(|e| e.into_inner());
            wanted.iter().map(|(peer, category)| open.find(peer, category, now)).collect()
        };
        if known.iter().all(Option::is_some) {
            return Ok(known.into_iter().flatten().collect());
        }
        let missing: Vec<(String, String)> =
            wanted.iter().zip(&known).filter(|(_, k)| k.is_none()).map(|(w, _)| w.clone()).collect();
        let opened = self
            .writer
            .write(move |c| {
                let mut out = Vec::with_capacity(missing.len());
                for (peer, category) in &missing {
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
            .await?;
        let mut open = self.conversations.lock().unwrap_or_else(|e| e.into_inner());
        let mut opened = opened.into_iter();
        let mut out = Vec::with_capacity(wanted.len());
        for ((peer, _), k) in wanted.iter().zip(known) {
            match k {
                Some(c) => out.push(c),
                None => {
                    let Some(c) = opened.next() else { break };
                    open.remember(peer, &c);
                    out.push(c);
                }
            }
        }
        Ok(out)
    }
}

/// Open conversations remembered by customer, so that the receipts of a
/// customer in one do not need the writer (issue 7). Bounded: when full, it
/// starts over.
#[derive(Default)]
pub(super) struct OpenConversations {
    by_peer: HashMap<String, Vec<Conversation>>,
}

/// Customers remembered at most.
const REMEMBERED_PEERS: usize = 100_000;

impl OpenConversations {
    fn find(&self, peer: &str, category: &str, now: i64) -> Option<Conversation> {
        let c = self.by_peer.get(peer)?.iter().find(|c| c.category == category && c.expires_at > now)?;
        Some(Conversation { opened_here: false, ..c.clone() })
    }

    fn remember(&mut self, peer: &str, c: &Conversation) {
        if self.by_peer.len() >= REMEMBERED_PEERS && !self.by_peer.contains_key(peer) {
            self.by_peer.clear();
        }
        let known = self.by_peer.entry(peer.to_owned()).or_default();
        known.retain(|k| k.category != c.category);
        known.push(c.clone());
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
