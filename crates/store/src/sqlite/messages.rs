//! Messages (`MessageStore`) on SQLite, with the runs of status steps that
//! settle a message's row in one update.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params};
use wabiz_domain::callbacks::{Conversation, NewCallback};
use wabiz_domain::messages::MessageStatus;
use wabiz_domain::ports::{
    ChatSummary, DueMessage, MessageRecord, MessageStore, StatusRecord, StoreResult, Transition, UNREAD_CAP, of_chat,
    prefix_end, search_results,
};

use super::SqliteStore;
use super::callbacks::insert_callback_row;
use super::history::{history_lines, parse_history};
use crate::columns;

/// Inserts a message; `history` is its status history when it is stored
/// with steps already taken (see `history_lines`).
pub(super) fn insert_message_row(c: &Connection, m: &MessageRecord, history: Option<&str>) -> rusqlite::Result<()> {
    c.prepare_cached(
        "INSERT INTO messages (id, direction, recipient_type, peer, type, content, status, created_at, updated_at, next_event_at, failure, category, conversation, expires_at, history, plan, chat)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
    )?
    .execute(params![
        m.id,
        m.direction.as_str(),
        m.recipient_type.as_str(),
        m.peer,
        m.kind,
        m.content,
        m.status.as_str(),
        m.created_at,
        m.updated_at,
        m.next_event_at,
        columns::failure_text(m.failure.as_ref()),
        m.category.map(|c| c.as_str()),
        columns::conversation_text(m.conversation.as_ref()),
        m.expires_at,
        history,
        columns::plan_text(m.plan.as_deref()),
        m.group
    ])?;
    touch_chat(c, m)
}

/// Makes `m`, just inserted, its chat's last message (the list of chats,
/// schema 24). The writer applies messages in their order, so the last
/// written is the last; its rowid orders the chats.
fn touch_chat(c: &Connection, m: &MessageRecord) -> rusqlite::Result<()> {
    c.prepare_cached(
        "INSERT INTO chats (id, recipient_type, name, last_message_id, last_at, last_seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (id) DO UPDATE SET name = COALESCE(excluded.name, chats.name),
             last_message_id = excluded.last_message_id, last_at = excluded.last_at, last_seq = excluded.last_seq",
    )?
    .execute(params![
        m.chat(),
        m.chat_kind().as_str(),
        m.chat_name(),
        m.id,
        m.created_at,
        c.last_insert_rowid()
    ])
    .map(|_| ())
}

/// How many of `steps`, from the first, are one message's consecutive steps
/// (sent → delivered → read with zero delays): they change its row once.
fn run_len(steps: &[Transition]) -> usize {
    1 + steps.windows(2).take_while(|w| w[1].id == w[0].id && w[1].from_status == w[0].status).count()
}

/// What a run of one message's steps leaves in its row.
struct RunEnd<'a> {
    status: MessageStatus,
    at: i64,
    next_event_at: Option<i64>,
    /// The conversation the run named last, if any.
    conversation: Option<&'a Conversation>,
    /// The history lines the run appends.
    history: String,
}

impl<'a> RunEnd<'a> {
    /// `None` for an empty run.
    fn of(run: &'a [Transition]) -> Option<Self> {
        let last = run.last()?;
        Some(Self {
            status: last.status,
            at: last.at,
            next_event_at: last.next_event_at,
            conversation: run.iter().rev().find_map(|t| t.conversation.as_ref()),
            history: history_lines(run),
        })
    }
}

/// Applies status steps (see `MessageStore::apply_transitions`).
pub(super) fn apply_runs(c: &Connection, transitions: &[Transition]) -> rusqlite::Result<()> {
    let mut rest = transitions;
    while let Some(first) = rest.first() {
        let (run, tail) = rest.split_at(run_len(rest));
        rest = tail;
        let Some(end) = RunEnd::of(run) else { continue };
        let changed = c
            .prepare_cached(
                "UPDATE messages SET status = ?2, updated_at = ?3, next_event_at = ?4, conversation = COALESCE(?6, conversation),
                                     history = COALESCE(history || char(10), '') || ?7
                 WHERE id = ?1 AND status = ?5",
            )?
            .execute(params![
                first.id,
                end.status.as_str(),
                end.at,
                end.next_event_at,
                first.from_status.as_str(),
                columns::conversation_text(end.conversation),
                end.history
            ])?;
        if changed == 0 {
            continue;
        }
        store_step_effects(c, run)?;
    }
    Ok(())
}

/// What steps bring with them: the customer's replies and the callbacks.
fn store_step_effects(c: &Connection, run: &[Transition]) -> rusqlite::Result<()> {
    for t in run {
        if let Some(m) = &t.reply {
            insert_message_row(c, m, None)?;
        }
        for cb in &t.callbacks {
            insert_callback_row(c, cb)?;
        }
    }
    Ok(())
}

/// `m`'s row after `steps`, with its history, when they are one run of
/// `m`'s steps from its stored status.
fn settled_row(m: &MessageRecord, steps: &[Transition]) -> Option<(MessageRecord, String)> {
    let first = steps.first()?;
    if first.id != m.id || first.from_status != m.status || run_len(steps) != steps.len() {
        return None;
    }
    let end = RunEnd::of(steps)?;
    let row = MessageRecord {
        status: end.status,
        updated_at: end.at,
        next_event_at: end.next_event_at,
        conversation: end.conversation.cloned().or_else(|| m.conversation.clone()),
        ..m.clone()
    };
    Some((row, end.history))
}

fn message_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<MessageRecord> {
    Ok(MessageRecord {
        id: r.get(0)?,
        direction: columns::direction(r.get_ref(1)?.as_str()?)?,
        recipient_type: columns::recipient_type(r.get_ref(2)?.as_str()?)?,
        peer: r.get(3)?,
        kind: r.get(4)?,
        content: r.get(5)?,
        status: columns::status(r.get_ref(6)?.as_str()?)?,
        created_at: r.get(7)?,
        updated_at: r.get(8)?,
        next_event_at: r.get(9)?,
        failure: columns::failure(r.get(10)?),
        category: columns::category(r.get(11)?)?,
        conversation: columns::conversation(r.get(12)?),
        expires_at: r.get(13)?,
        plan: columns::plan(r.get(14)?),
        group: r.get(15)?,
        sender_name: None,
    })
}

/// The columns `message_from_row` reads, in its order.
const MESSAGE_COLUMNS: &str = "id, direction, recipient_type, peer, type, content, status, created_at, updated_at, next_event_at, failure, category, conversation, expires_at, plan, chat";

/// When a customer last wrote. The literal `'inbound'` lets SQLite answer
/// it from the partial index `messages_peer_inbound` (schema 17) in one seek,
/// whatever the length of the chat; a bound value could not match the
/// index's condition.
const LAST_INBOUND: &str = "SELECT MAX(created_at) FROM messages WHERE peer = ?1 AND direction = 'inbound'";

/// A chat's last `?2` messages, newest first: a customer's (the caller
/// drops those they wrote in groups), or a group's (sent to it, and written
/// in it).
/// Each half walks its index backwards and stops at the limit: the
/// customer's along `messages_peer` (peer, created_at, then rowid), so its
/// order is the index's, not the bare rowid's, which would sort the whole
/// chat first.
const CONVERSATION: &str = "SELECT * FROM (
         SELECT id, direction, recipient_type, peer, type, content, status, created_at, updated_at, next_event_at, failure, category, conversation, expires_at, plan, chat, rowid AS o
         FROM messages WHERE peer = ?1 ORDER BY created_at DESC, rowid DESC LIMIT ?2)
     UNION ALL SELECT * FROM (
         SELECT id, direction, recipient_type, peer, type, content, status, created_at, updated_at, next_event_at, failure, category, conversation, expires_at, plan, chat, rowid AS o
         FROM messages WHERE chat = ?1 ORDER BY rowid DESC LIMIT ?2)
     ORDER BY o DESC LIMIT ?2";

/// The chats with their last message and their unread count, which stops
/// counting at `UNREAD_CAP` (through the partial indexes of unread messages).
const CHAT_LIST: &str = "SELECT m.id, m.direction, m.recipient_type, m.peer, m.type, m.content, m.status, m.created_at, m.updated_at,
            m.next_event_at, m.failure, m.category, m.conversation, m.expires_at, m.plan, m.chat,
            c.id, c.recipient_type, c.name, c.last_at,
            CASE WHEN c.recipient_type = 'group'
                 THEN (SELECT COUNT(*) FROM (SELECT 1 FROM messages u WHERE u.chat = c.id AND u.direction = 'inbound' AND u.status = 'received' LIMIT 100))
                 ELSE (SELECT COUNT(*) FROM (SELECT 1 FROM messages u WHERE u.peer = c.id AND u.direction = 'inbound' AND u.status = 'received' AND u.chat IS NULL LIMIT 100))
            END
     FROM chats c LEFT JOIN messages m ON m.id = c.last_message_id";

fn chat_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ChatSummary> {
    let last = match r.get_ref(0)?.as_str_or_null()? {
        Some(_) => Some(message_from_row(r)?),
        None => None,
    };
    Ok(ChatSummary {
        id: r.get(16)?,
        recipient_type: columns::recipient_type(r.get_ref(17)?.as_str()?)?,
        name: r.get(18)?,
        last_at: r.get(19)?,
        unread: r.get::<_, i64>(20)?.unsigned_abs().min(UNREAD_CAP),
        last,
    })
}

/// Marks an inbound message and the customer's earlier unread ones read.
/// The literals let SQLite find them in the partial index of unread inbound
/// messages (schema 18), so the cost follows the unread, not the chat.
const MARK_READ: &str = "UPDATE messages SET status = 'read', updated_at = ?2
     WHERE direction = 'inbound' AND status = 'received'
       AND peer = (SELECT peer FROM messages WHERE id = ?1)
       AND rowid <= (SELECT rowid FROM messages WHERE id = ?1)";

#[async_trait]
impl MessageStore for SqliteStore {
    async fn insert_message(&self, m: &MessageRecord, callbacks: &[NewCallback]) -> StoreResult<()> {
        let (m, callbacks) = (m.clone(), callbacks.to_vec());
        self.writer
            .write(move |c| {
                insert_message_row(c, &m, None)?;
                callbacks.iter().try_for_each(|cb| insert_callback_row(c, cb))
            })
            .await
    }

    /// One insert of the final row: no update of a row just written, and no
    /// entry in the due-steps index that is removed again (issue 7).
    async fn insert_message_with_steps(&self, m: &MessageRecord, steps: Vec<Transition>) -> StoreResult<()> {
        let (row, history) = match settled_row(m, &steps) {
            Some((row, history)) => (row, Some(history)),
            None => (m.clone(), None),
        };
        self.writer
            .write(move |c| {
                insert_message_row(c, &row, history.as_deref())?;
                match history {
                    Some(_) => store_step_effects(c, &steps),
                    // Not one run of its steps: as an insert, then an update.
                    None => apply_runs(c, &steps),
                }
            })
            .await
    }

    async fn get_message(&self, id: &str) -> StoreResult<Option<MessageRecord>> {
        let id = id.to_owned();
        self.readers
            .read(move |c| {
                c.prepare_cached(&format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ?1"))?
                    .query_row([id], message_from_row)
                    .optional()
            })
            .await
    }

    async fn due_messages(&self, now_ms: i64, limit: usize) -> StoreResult<Vec<DueMessage>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.readers
            .read(move |c| {
                let mut st = c.prepare_cached(
                    "SELECT id, peer, status, failure, type, content, category, conversation, expires_at, plan, recipient_type FROM messages WHERE next_event_at IS NOT NULL AND next_event_at <= ?1
                     ORDER BY next_event_at LIMIT ?2",
                )?;
                let rows = st.query_map(params![now_ms, limit], |r| {
                    Ok(DueMessage {
                        id: r.get(0)?,
                        peer: r.get(1)?,
                        status: columns::status(r.get_ref(2)?.as_str()?)?,
                        failure: columns::failure(r.get(3)?),
                        kind: r.get(4)?,
                        content: r.get(5)?,
                        category: columns::category(r.get(6)?)?,
                        conversation: columns::conversation(r.get(7)?),
                        expires_at: r.get(8)?,
                        plan: columns::plan(r.get(9)?),
                        recipient_type: columns::recipient_type(r.get_ref(10)?.as_str()?)?,
                    })
                })?;
                rows.collect()
            })
            .await
    }

    async fn next_message_event(&self) -> StoreResult<Option<i64>> {
        self.readers
            .read(|c| {
                c.prepare_cached("SELECT MIN(next_event_at) FROM messages WHERE next_event_at IS NOT NULL")?
                    .query_row([], |r| r.get(0))
            })
            .await
    }

    async fn apply_transitions(&self, transitions: Vec<Transition>) -> StoreResult<()> {
        self.writer.write(move |c| apply_runs(c, &transitions)).await
    }

    async fn conversation(&self, peer: &str, limit: usize) -> StoreResult<Vec<MessageRecord>> {
        let peer = peer.to_owned();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.readers
            .read(move |c| {
                let mut st = c.prepare_cached(CONVERSATION)?;
                let rows = st.query_map(params![peer, limit], message_from_row)?;
                let mut newest_first: Vec<MessageRecord> = rows.collect::<rusqlite::Result<_>>()?;
                newest_first.reverse();
                Ok(of_chat(newest_first, &peer))
            })
            .await
    }

    async fn chats(&self, search: Option<&str>, limit: usize) -> StoreResult<Vec<ChatSummary>> {
        let search = search.map(str::to_owned);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.readers
            .read(move |c| {
                let Some(prefix) = search else {
                    let mut st = c.prepare_cached(&format!("{CHAT_LIST} ORDER BY c.last_seq DESC LIMIT ?1"))?;
                    return st.query_map(params![limit], chat_from_row)?.collect();
                };
                let end = prefix_end(&prefix);
                let by_number: Vec<ChatSummary> = c
                    .prepare_cached(&format!("{CHAT_LIST} WHERE c.id >= ?1 AND c.id < ?2 ORDER BY c.id LIMIT ?3"))?
                    .query_map(params![prefix, end, limit], chat_from_row)?
                    .collect::<rusqlite::Result<_>>()?;
                let by_name = c
                    .prepare_cached(&format!(
                        "{CHAT_LIST} WHERE c.name >= ?1 COLLATE NOCASE AND c.name < ?2 COLLATE NOCASE
                         ORDER BY c.name COLLATE NOCASE LIMIT ?3"
                    ))?
                    .query_map(params![prefix, end, limit], chat_from_row)?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                Ok(search_results(by_number, by_name, usize::try_from(limit).unwrap_or(usize::MAX)))
            })
            .await
    }

    async fn last_inbound_at(&self, peer: &str) -> StoreResult<Option<i64>> {
        let peer = peer.to_owned();
        self.readers.read(move |c| c.prepare_cached(LAST_INBOUND)?.query_row([peer], |r| r.get(0))).await
    }

    async fn mark_inbound_read(&self, id: &str, at: i64) -> StoreResult<u64> {
        let id = id.to_owned();
        self.writer
            .write(move |c| {
                let n = c.prepare_cached(MARK_READ)?.execute(params![id, at])?;
                Ok(n as u64)
            })
            .await
    }

    async fn message_statuses(&self, id: &str) -> StoreResult<Vec<StatusRecord>> {
        let id = id.to_owned();
        self.readers
            .read(move |c| {
                let history: Option<Option<String>> = c
                    .prepare_cached("SELECT history FROM messages WHERE id = ?1")?
                    .query_row([id], |r| r.get(0))
                    .optional()?;
                Ok(parse_history(history.flatten().as_deref().unwrap_or("")))
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use wabiz_domain::ports::Store;

    use super::*;

    /// SQLite's plan for `sql` (with `params`) on a freshly migrated database.
    async fn plan_of(sql: &str, params: impl rusqlite::Params) -> Vec<String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.db");
        let store = SqliteStore::open(&path).await.unwrap();
        store.close().await;
        let c = Connection::open(&path).unwrap();
        c.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .unwrap()
            .query_map(params, |r| r.get::<_, String>(3))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    /// The window check must not walk a customer's history: its plan is a
    /// seek in the partial index, not a scan of the customer's messages.
    #[tokio::test]
    async fn the_window_question_is_one_index_seek() {
        let plan = plan_of(LAST_INBOUND, ["16315551234"]).await;
        assert!(plan.iter().any(|d| d.contains("messages_peer_inbound")), "{plan:?}");
        assert!(!plan.iter().any(|d| d.starts_with("SCAN")), "{plan:?}");
    }

    /// Reading a chat and listing chats walk indexes and stop at their
    /// limits: no scan, no sort of a whole chat.
    #[tokio::test]
    async fn chats_and_conversations_read_along_their_indexes() {
        let plan = plan_of(CONVERSATION, params!["16315551234", 100]).await;
        assert!(plan.iter().any(|d| d.contains("messages_peer ")), "{plan:?}");
        assert!(plan.iter().any(|d| d.contains("messages_chat ")), "{plan:?}");
        assert!(!plan.iter().any(|d| d.starts_with("SCAN messages")), "{plan:?}");
        // Each half reads its index in order: no sort inside it (the merge
        // sorts at most twice the limit).
        for (i, _) in plan.iter().enumerate().filter(|(_, d)| d.starts_with("SEARCH messages")) {
            assert!(plan.get(i + 1).is_some_and(|next| next.starts_with("SCAN (subquery")), "{plan:?}");
        }
        let plan = plan_of(&format!("{CHAT_LIST} ORDER BY c.last_seq DESC LIMIT ?1"), [50]).await;
        assert!(plan.iter().any(|d| d.contains("chats_recent")), "{plan:?}");
        assert!(plan.iter().any(|d| d.contains("messages_peer_unread")), "{plan:?}");
        assert!(plan.iter().any(|d| d.contains("messages_chat_unread")), "{plan:?}");
        assert!(!plan.iter().any(|d| d.starts_with("SCAN u") || d.starts_with("SCAN m")), "{plan:?}");
        assert!(!plan.iter().any(|d| d.contains("TEMP B-TREE")), "{plan:?}");
        let plan = plan_of(
            &format!("{CHAT_LIST} WHERE c.id >= ?1 AND c.id < ?2 ORDER BY c.id LIMIT ?3"),
            params!["1631", "1632", 50],
        )
        .await;
        let scans = |d: &String| d.starts_with("SCAN ") && !d.starts_with("SCAN (subquery");
        assert!(!plan.iter().any(|d| scans(d) || d.contains("TEMP B-TREE")), "{plan:?}");
        let plan = plan_of(
            &format!("{CHAT_LIST} WHERE c.name >= ?1 COLLATE NOCASE AND c.name < ?2 COLLATE NOCASE ORDER BY c.name COLLATE NOCASE LIMIT ?3"),
            params!["ker", "kes", 50],
        )
        .await;
        assert!(plan.iter().any(|d| d.contains("chats_name")), "{plan:?}");
        assert!(!plan.iter().any(|d| scans(d) || d.contains("TEMP B-TREE")), "{plan:?}");
        assert!(CHAT_LIST.matches(&format!("LIMIT {UNREAD_CAP})")).count() == 2, "the count stops at UNREAD_CAP");
    }

    #[tokio::test]
    async fn marking_read_visits_only_the_unread() {
        let plan = plan_of(MARK_READ, params!["some-id", 1]).await;
        assert!(plan.iter().any(|d| d.contains("messages_peer_unread")), "{plan:?}");
        assert!(!plan.iter().any(|d| d.starts_with("SCAN")), "{plan:?}");
    }
}
