//! Messages (`MessageStore`) on PostgreSQL, with the status steps the
//! cluster code applies inside its own transactions.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use wabiz_domain::callbacks::NewCallback;
use wabiz_domain::messages::Direction;
use wabiz_domain::ports::{
    ChatSummary, DueMessage, MessageRecord, MessageStore, StatusRecord, StoreError, StoreResult, Transition,
    UNREAD_CAP, of_chat, prefix_end, search_results,
};

use super::batch::NewMessage;
use super::callbacks::insert_callback_rows;
use super::{PgStore, db_err};
use crate::columns;

/// Stores messages with one statement, in the order given (their `seq`
/// follows it: the order of a chat), and makes each chat's last one of them
/// its last message in the same statement (the list of chats, schema 24): a
/// second statement cost a round trip a batch, and a campaign's sends slowed
/// by a fifth. Chats go in id order, so that two nodes' batches lock their
/// rows in the same order.
pub(super) async fn insert_message_rows<'a>(
    c: &impl GenericClient,
    messages: impl IntoIterator<Item = &'a MessageRecord>,
) -> StoreResult<()> {
    let ms: Vec<&MessageRecord> = messages.into_iter().collect();
    if ms.is_empty() {
        return Ok(());
    }
    let st = c
        .prepare_cached(
            "WITH written AS (
                 INSERT INTO messages (id, direction, recipient_type, peer, type, content, status, created_at, updated_at, next_event_at, failure, category, conversation, expires_at, route, plan, chat)
                 SELECT id, direction, recipient_type, peer, type, content, status, created_at, updated_at, next_event_at, failure, category, conversation, expires_at, route, plan, chat
                 FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[],
                             $9::bigint[], $10::bigint[], $11::text[], $12::text[], $13::text[], $14::bigint[], $15::bigint[], $16::text[], $17::text[])
                      WITH ORDINALITY AS r(id, direction, recipient_type, peer, type, content, status, created_at, updated_at,
                                           next_event_at, failure, category, conversation, expires_at, route, plan, chat, ord)
                 ORDER BY ord
                 RETURNING id, seq)
             INSERT INTO chats (id, recipient_type, name, last_message_id, last_at, last_seq)
             SELECT r.id, r.kind, r.name, r.message_id, r.at, w.seq
             FROM unnest($18::text[], $19::text[], $20::text[], $21::text[], $22::bigint[]) AS r(id, kind, name, message_id, at)
             JOIN written w ON w.id = r.message_id
             ORDER BY r.id
             ON CONFLICT (id) DO UPDATE SET name = COALESCE(EXCLUDED.name, chats.name),
                 last_message_id = CASE WHEN EXCLUDED.last_seq > chats.last_seq THEN EXCLUDED.last_message_id ELSE chats.last_message_id END,
                 last_at = CASE WHEN EXCLUDED.last_seq > chats.last_seq THEN EXCLUDED.last_at ELSE chats.last_at END,
                 last_seq = GREATEST(chats.last_seq, EXCLUDED.last_seq)",
        )
        .await
        .map_err(db_err)?;
    let ids: Vec<&str> = ms.iter().map(|m| m.id.as_str()).collect();
    let directions: Vec<&str> = ms.iter().map(|m| m.direction.as_str()).collect();
    let recipient_types: Vec<&str> = ms.iter().map(|m| m.recipient_type.as_str()).collect();
    let peers: Vec<&str> = ms.iter().map(|m| m.peer.as_str()).collect();
    let kinds: Vec<&str> = ms.iter().map(|m| m.kind.as_str()).collect();
    let contents: Vec<&str> = ms.iter().map(|m| m.content.as_str()).collect();
    let statuses: Vec<&str> = ms.iter().map(|m| m.status.as_str()).collect();
    let created: Vec<i64> = ms.iter().map(|m| m.created_at).collect();
    let updated: Vec<i64> = ms.iter().map(|m| m.updated_at).collect();
    let next_events: Vec<Option<i64>> = ms.iter().map(|m| m.next_event_at).collect();
    let failures: Vec<Option<String>> = ms.iter().map(|m| columns::failure_text(m.failure.as_ref())).collect();
    let categories: Vec<Option<&str>> = ms.iter().map(|m| m.category.map(|c| c.as_str())).collect();
    let conversations: Vec<Option<String>> =
        ms.iter().map(|m| columns::conversation_text(m.conversation.as_ref())).collect();
    let expires: Vec<Option<i64>> = ms.iter().map(|m| m.expires_at).collect();
    let routes: Vec<i64> = ms.iter().map(|m| i64::from(wabiz_domain::cluster::route_hash(&m.peer))).collect();
    let plans: Vec<Option<String>> = ms.iter().map(|m| columns::plan_text(m.plan.as_deref())).collect();
    let groups: Vec<Option<&str>> = ms.iter().map(|m| m.group.as_deref()).collect();
    let chats = ChatRows::of(&ms);
    c.execute(
        &st,
        &[
            &ids,
            &directions,
            &recipient_types,
            &peers,
            &kinds,
            &contents,
            &statuses,
            &created,
            &updated,
            &next_events,
            &failures,
            &categories,
            &conversations,
            &expires,
            &routes,
            &plans,
            &groups,
            &chats.ids,
            &chats.kinds,
            &chats.names,
            &chats.message_ids,
            &chats.ats,
        ],
    )
    .await
    .map_err(db_err)?;
    record_inbound_windows(c, &ms).await
}

/// The chats rows a batch writes: each chat once, with its last message of
/// the batch and the newest name shown in it, in id order.
struct ChatRows<'a> {
    ids: Vec<&'a str>,
    kinds: Vec<&'static str>,
    names: Vec<Option<&'a str>>,
    message_ids: Vec<&'a str>,
    ats: Vec<i64>,
}

impl<'a> ChatRows<'a> {
    fn of(ms: &[&'a MessageRecord]) -> Self {
        let mut last: std::collections::BTreeMap<&'a str, (&'a MessageRecord, Option<&'a str>)> =
            std::collections::BTreeMap::new();
        for m in ms {
            let entry = last.entry(m.chat()).or_insert((m, m.chat_name()));
            *entry = (m, m.chat_name().or(entry.1));
        }
        Self {
            ids: last.keys().copied().collect(),
            kinds: last.values().map(|(m, _)| m.chat_kind().as_str()).collect(),
            names: last.values().map(|(_, n)| *n).collect(),
            message_ids: last.values().map(|(m, _)| m.id.as_str()).collect(),
            ats: last.values().map(|(m, _)| m.created_at).collect(),
        }
    }
}

/// Keeps each customer's last inbound time (`inbound_windows`, read by the
/// window check) with the inbound messages written. Customers in a stable
/// order, so that two nodes' batches lock their rows in the same order.
async fn record_inbound_windows(c: &impl GenericClient, ms: &[&MessageRecord]) -> StoreResult<()> {
    let mut latest: Vec<(&str, i64)> =
        ms.iter().filter(|m| m.direction == Direction::Inbound).map(|m| (m.peer.as_str(), m.created_at)).collect();
    if latest.is_empty() {
        return Ok(());
    }
    latest.sort_unstable();
    let (peers, at): (Vec<&str>, Vec<i64>) = latest.into_iter().unzip();
    let st = c
        .prepare_cached(
            "INSERT INTO inbound_windows (peer, last_at)
             SELECT peer, MAX(at) FROM unnest($1::text[], $2::bigint[]) AS r(peer, at) GROUP BY peer ORDER BY peer
             ON CONFLICT (peer) DO UPDATE SET last_at = GREATEST(inbound_windows.last_at, EXCLUDED.last_at)",
        )
        .await
        .map_err(db_err)?;
    c.execute(&st, &[&peers, &at]).await.map_err(db_err)?;
    Ok(())
}

fn message_from_row(r: &tokio_postgres::Row) -> Result<MessageRecord, StoreError> {
    Ok(MessageRecord {
        id: r.get(0),
        direction: columns::direction(r.get(1))?,
        recipient_type: columns::recipient_type(r.get(2))?,
        peer: r.get(3),
        kind: r.get(4),
        content: r.get(5),
        status: columns::status(r.get(6))?,
        created_at: r.get(7),
        updated_at: r.get(8),
        next_event_at: r.get(9),
        failure: columns::failure(r.get(10)),
        category: columns::category(r.get(11))?,
        conversation: columns::conversation(r.get(12)),
        expires_at: r.get(13),
        plan: columns::plan(r.get(14)),
        group: r.get(15),
        sender_name: None,
    })
}

/// The columns `message_from_row` reads, in its order.
const MESSAGE_COLUMNS: &str = "id, direction, recipient_type, peer, type, content, status, created_at, updated_at, next_event_at, failure, category, conversation, expires_at, plan, chat";

/// A chat's last `$2` messages, newest first: a customer's (the caller
/// drops those they wrote in groups), or a group's (sent to it, and written
/// in it). Each half walks its index backwards and stops at the limit. The
/// customer's half has no condition on `chat`: without statistics the
/// planner took one for rare and read the whole chat to sort it.
pub(super) const CONVERSATION: &str = "(SELECT id, direction, recipient_type, peer, type, content, status, created_at, updated_at, next_event_at, failure, category, conversation, expires_at, plan, chat, seq
       FROM messages WHERE peer = $1 ORDER BY seq DESC LIMIT $2)
     UNION ALL
     (SELECT id, direction, recipient_type, peer, type, content, status, created_at, updated_at, next_event_at, failure, category, conversation, expires_at, plan, chat, seq
       FROM messages WHERE chat = $1 ORDER BY seq DESC LIMIT $2)
     ORDER BY seq DESC LIMIT $2";

/// The chats with their last message and their unread count, which stops
/// counting at `UNREAD_CAP` (through the partial indexes of unread messages).
pub(super) const CHAT_LIST: &str = "SELECT m.id, m.direction, m.recipient_type, m.peer, m.type, m.content, m.status, m.created_at, m.updated_at,
            m.next_event_at, m.failure, m.category, m.conversation, m.expires_at, m.plan, m.chat,
            c.id, c.recipient_type, c.name, c.last_at,
            CASE WHEN c.recipient_type = 'group'
                 THEN (SELECT COUNT(*) FROM (SELECT 1 FROM messages u WHERE u.chat = c.id AND u.direction = 'inbound' AND u.status = 'received' LIMIT 100) AS g)
                 ELSE (SELECT COUNT(*) FROM (SELECT 1 FROM messages u WHERE u.peer = c.id AND u.direction = 'inbound' AND u.status = 'received' AND u.chat IS NULL LIMIT 100) AS p)
            END
     FROM chats c LEFT JOIN messages m ON m.id = c.last_message_id";

fn chat_from_row(r: &tokio_postgres::Row) -> Result<ChatSummary, StoreError> {
    let last = match r.get::<_, Option<&str>>(0) {
        Some(_) => Some(message_from_row(r)?),
        None => None,
    };
    Ok(ChatSummary {
        id: r.get(16),
        recipient_type: columns::recipient_type(r.get(17))?,
        name: r.get(18),
        last_at: r.get(19),
        unread: r.get::<_, i64>(20).unsigned_abs().min(UNREAD_CAP),
        last,
    })
}

/// When the customer last wrote (the 24-hour window): one primary-key
/// lookup, kept with the writes (`record_inbound_windows`).
pub(super) const LAST_INBOUND: &str = "SELECT last_at FROM inbound_windows WHERE peer = $1";

/// Marks an inbound message and the customer's earlier unread ones read,
/// through the partial index of unread inbound messages.
pub(super) const MARK_READ: &str = "UPDATE messages SET status = 'read', updated_at = $2
     WHERE direction = 'inbound' AND status = 'received'
       AND peer = (SELECT peer FROM messages WHERE id = $1)
       AND seq <= (SELECT seq FROM messages WHERE id = $1)";

/// Messages whose next receipt step is due.
pub(super) const DUE_MESSAGES: &str =
    "SELECT id, peer, status, failure, type, content, category, conversation, expires_at, plan, recipient_type
     FROM messages WHERE next_event_at IS NOT NULL AND next_event_at <= $1
     ORDER BY next_event_at LIMIT $2";

/// When the next receipt step falls due.
pub(super) const NEXT_EVENT: &str = "SELECT MIN(next_event_at) FROM messages WHERE next_event_at IS NOT NULL";

#[async_trait]
impl MessageStore for PgStore {
    async fn insert_message(&self, m: &MessageRecord, callbacks: &[NewCallback]) -> StoreResult<()> {
        let write = NewMessage { message: m.clone(), callbacks: callbacks.to_vec(), steps: Vec::new() };
        self.messages.write(write).await
    }

    async fn insert_message_with_steps(&self, m: &MessageRecord, steps: Vec<Transition>) -> StoreResult<()> {
        self.messages.write(NewMessage { message: m.clone(), callbacks: Vec::new(), steps }).await
    }

    async fn get_message(&self, id: &str) -> StoreResult<Option<MessageRecord>> {
        let c = self.client().await?;
        let st =
            c.prepare_cached(&format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = $1")).await.map_err(db_err)?;
        c.query_opt(&st, &[&id]).await.map_err(db_err)?.as_ref().map(message_from_row).transpose()
    }

    async fn due_messages(&self, now_ms: i64, limit: usize) -> StoreResult<Vec<DueMessage>> {
        let c = self.client().await?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = c.query(DUE_MESSAGES, &[&now_ms, &limit]).await.map_err(db_err)?;
        rows.iter().map(due_from_row).collect()
    }

    async fn next_message_event(&self) -> StoreResult<Option<i64>> {
        let c = self.client().await?;
        let row = c.query_one(NEXT_EVENT, &[]).await.map_err(db_err)?;
        Ok(row.get(0))
    }

    async fn apply_transitions(&self, transitions: Vec<Transition>) -> StoreResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(db_err)?;
        apply_transitions_in_tx(&tx, &transitions.iter().collect::<Vec<_>>()).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn conversation(&self, peer: &str, limit: usize) -> StoreResult<Vec<MessageRecord>> {
        let c = self.client().await?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = c.query(CONVERSATION, &[&peer, &limit]).await.map_err(db_err)?;
        let oldest_first = rows.iter().rev().map(message_from_row).collect::<Result<Vec<_>, _>>()?;
        Ok(of_chat(oldest_first, peer))
    }

    async fn chats(&self, search: Option<&str>, limit: usize) -> StoreResult<Vec<ChatSummary>> {
        let c = self.client().await?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let Some(prefix) = search else {
            let rows =
                c.query(&format!("{CHAT_LIST} ORDER BY c.last_seq DESC LIMIT $1"), &[&limit]).await.map_err(db_err)?;
            return rows.iter().map(chat_from_row).collect();
        };
        let end = prefix_end(prefix);
        let by_id = c
            .query(
                &format!("{CHAT_LIST} WHERE c.id >= $1 AND c.id < $2 ORDER BY c.id LIMIT $3"),
                &[&prefix, &end, &limit],
            )
            .await
            .map_err(db_err)?;
        let (lower, lower_end) = (prefix.to_lowercase(), prefix_end(&prefix.to_lowercase()));
        let by_name = c
            .query(
                &format!(
                    "{CHAT_LIST} WHERE c.name IS NOT NULL AND lower(c.name) COLLATE \"C\" >= $1 AND lower(c.name) COLLATE \"C\" < $2
                     ORDER BY lower(c.name) COLLATE \"C\" LIMIT $3"
                ),
                &[&lower, &lower_end, &limit],
            )
            .await
            .map_err(db_err)?;
        let by_number = by_id.iter().map(chat_from_row).collect::<Result<_, _>>()?;
        let by_name = by_name.iter().map(chat_from_row).collect::<Result<_, _>>()?;
        Ok(search_results(by_number, by_name, usize::try_from(limit).unwrap_or(usize::MAX)))
    }

    async fn last_inbound_at(&self, peer: &str) -> StoreResult<Option<i64>> {
        let c = self.client().await?;
        let row = c.query_opt(LAST_INBOUND, &[&peer]).await.map_err(db_err)?;
        Ok(row.map(|r| r.get(0)))
    }

    async fn mark_inbound_read(&self, id: &str, at: i64) -> StoreResult<u64> {
        let c = self.client().await?;
        c.execute(MARK_READ, &[&id, &at]).await.map_err(db_err)
    }

    async fn message_statuses(&self, id: &str) -> StoreResult<Vec<StatusRecord>> {
        let c = self.client().await?;
        let rows = c
            .query("SELECT status, at, errors FROM message_statuses WHERE message_id = $1 ORDER BY at", &[&id])
            .await
            .map_err(db_err)?;
        let mut history = rows
            .iter()
            .map(|r| {
                Ok(StatusRecord {
                    status: columns::status(r.get(0))?,
                    at: r.get(1),
                    errors: columns::failure(r.get(2)),
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        // Statuses of one instant in their order (a stable sort keeps the rest).
        history.sort_by_key(|s| (s.at, s.status.rank()));
        Ok(history)
    }
}

/// The steps of `apply_transitions`, inside the caller's transaction, in a
/// fixed number of statements however many there are: the status updates
/// (one statement per "round", see below), then the replies, the callbacks
/// and the history entries of the steps that applied, each one multi-row
/// statement. One statement per step cost a round trip each, and the
/// receipt worker, which waits for them in turn, fell behind the sends.
pub(super) async fn apply_transitions_in_tx(
    tx: &deadpool_postgres::Transaction<'_>,
    transitions: &[&Transition],
) -> StoreResult<()> {
    let applied = update_statuses(tx, transitions).await?;
    let moved: Vec<&Transition> = transitions.iter().zip(&applied).filter(|(_, a)| **a).map(|(t, _)| *t).collect();
    insert_message_rows(tx, moved.iter().filter_map(|t| t.reply.as_ref())).await?;
    insert_callback_rows(tx, moved.iter().flat_map(|t| &t.callbacks)).await?;
    if moved.is_empty() {
        return Ok(());
    }
    let ids: Vec<&str> = moved.iter().map(|t| t.id.as_str()).collect();
    let statuses: Vec<&str> = moved.iter().map(|t| t.status.as_str()).collect();
    let ats: Vec<i64> = moved.iter().map(|t| t.at).collect();
    let errors: Vec<Option<String>> = moved.iter().map(|t| columns::failure_text(t.errors.as_ref())).collect();
    tx.execute(
        "INSERT INTO message_statuses (message_id, status, at, errors)
         SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[])
         ON CONFLICT (message_id, status) DO NOTHING",
        &[&ids, &statuses, &ats, &errors],
    )
    .await
    .map_err(db_err)?;
    Ok(())
}

/// Applies each step whose `from_status` still holds; `true` for those that
/// did. A message may have several steps in one batch (sent, delivered and
/// read at once): its n-th step goes in the n-th round, so each round's
/// single `UPDATE … FROM unnest(…)` touches a message at most once and sees
/// the rounds before it, as one step after the other would.
async fn update_statuses(
    tx: &deadpool_postgres::Transaction<'_>,
    transitions: &[&Transition],
) -> StoreResult<Vec<bool>> {
    let mut round_of = Vec::with_capacity(transitions.len());
    let mut seen: HashMap<&str, usize> = HashMap::with_capacity(transitions.len());
    for t in transitions {
        let n = seen.entry(t.id.as_str()).or_default();
        round_of.push(*n);
        *n += 1;
    }
    let rounds = seen.values().copied().max().unwrap_or(0);
    let mut applied = vec![false; transitions.len()];
    for round in 0..rounds {
        let members: Vec<usize> = (0..transitions.len()).filter(|&i| round_of[i] == round).collect();
        let ts: Vec<&Transition> = members.iter().map(|&i| transitions[i]).collect();
        let ids: Vec<&str> = ts.iter().map(|t| t.id.as_str()).collect();
        let statuses: Vec<&str> = ts.iter().map(|t| t.status.as_str()).collect();
        let ats: Vec<i64> = ts.iter().map(|t| t.at).collect();
        let next_events: Vec<Option<i64>> = ts.iter().map(|t| t.next_event_at).collect();
        let froms: Vec<&str> = ts.iter().map(|t| t.from_status.as_str()).collect();
        let conversations: Vec<Option<String>> =
            ts.iter().map(|t| columns::conversation_text(t.conversation.as_ref())).collect();
        let rows = tx
            .query(
                "UPDATE messages AS m
                 SET status = u.status, updated_at = u.at, next_event_at = u.next_event_at,
                     conversation = COALESCE(u.conversation, m.conversation)
                 FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::text[], $6::text[])
                      AS u(id, status, at, next_event_at, from_status, conversation)
                 WHERE m.id = u.id AND m.status = u.from_status
                 RETURNING m.id",
                &[&ids, &statuses, &ats, &next_events, &froms, &conversations],
            )
            .await
            .map_err(db_err)?;
        let changed: HashSet<String> = rows.iter().map(|r| r.get(0)).collect();
        for i in members {
            applied[i] = changed.contains(&transitions[i].id);
        }
    }
    Ok(applied)
}

/// A due message from `SELECT id, peer, status, failure, type, content,
/// category, conversation, expires_at, plan, recipient_type`.
pub(super) fn due_from_row(r: &tokio_postgres::Row) -> Result<DueMessage, StoreError> {
    Ok(DueMessage {
        id: r.get(0),
        peer: r.get(1),
        status: columns::status(r.get(2))?,
        failure: columns::failure(r.get(3)),
        kind: r.get(4),
        content: r.get(5),
        category: columns::category(r.get(6))?,
        conversation: columns::conversation(r.get(7)),
        expires_at: r.get(8),
        plan: columns::plan(r.get(9)),
        recipient_type: columns::recipient_type(r.get(10))?,
    })
}
