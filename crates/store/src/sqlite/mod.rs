//! The SQLite engine (embedded default).

mod callbacks;
mod gc;
mod groups;
mod history;
mod readers;
mod writer;

use std::path::Path;

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params};
use wabiz_domain::callbacks::NewCallback;
use wabiz_domain::ports::{
    ContactStore, DueMessage, MediaRecord, MediaStore, MessageRecord, MessageStore, MetaStore, SettingWrite,
    SettingsStore, StatusRecord, Store, StoreError, StoreInfo, StoreResult, TemplateRecord, TemplateStore, TokenRecord,
    TokenStore, Transition, UserRecord, UserStore,
};
use wabiz_domain::users::Role;

use crate::migrate;
use callbacks::insert_callback_row;
use history::{history_lines, parse_history};
use readers::ReadPool;
use writer::Writer;

/// Read-only connections kept open. Reads are short; two cores gain nothing
/// from more.
const READERS: usize = 4;

/// Prepared statements kept per connection.
const STATEMENT_CACHE: usize = 64;

/// Settings every connection gets. `synchronous = FULL` makes each commit
/// durable (fsync of the WAL): a success answer means the data is on disk.
/// `temp_store = MEMORY` keeps the statement journal of each job's savepoint
/// in memory: on a file it spilled past 64 KiB within a batch, and its page
/// writes were an eighth of the writer thread's time (issue 7).
///
/// The query planner stability guarantee (QPSG) is on: without it, SQLite
/// marks a statement whose `LIMIT ?` is a bound parameter to be compiled
/// again whenever that parameter is bound, so every cached `… LIMIT ?`
/// query (due messages, pending callbacks) was parsed and planned anew on
/// each run: 3 % of the worker threads (issue 7). Our plans never depend on
/// bound values (there are no `sqlite_stat4` samples), so nothing is lost.
fn configure(conn: &Connection) -> rusqlite::Result<()> {
    // The writer alone runs some twenty different statements; with rusqlite's
    // default of 16 cached ones, the hot ones were evicted and parsed again.
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA temp_store = MEMORY;
         PRAGMA busy_timeout = 5000;",
    )
}

pub struct SqliteStore {
    writer: Writer,
    readers: ReadPool,
    claims: tokio::sync::Mutex<callbacks::Claims>,
    conversations: std::sync::Mutex<callbacks::OpenConversations>,
}

fn unavailable(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and applies migrations.
    pub async fn open(path: &Path) -> StoreResult<Self> {
        let path = path.to_owned();
        tokio::task::spawn_blocking(move || Self::open_blocking(&path)).await.map_err(unavailable)?
    }

    fn open_blocking(path: &Path) -> StoreResult<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| unavailable(format!("cannot create {}: {e}", dir.display())))?;
        }
        let mut conn =
            Connection::open(path).map_err(|e| unavailable(format!("cannot open {}: {e}", path.display())))?;
        configure(&conn).map_err(unavailable)?;
        migrate_sqlite(&mut conn)?;
        let readers = ReadPool::open(path, READERS).map_err(unavailable)?;
        let writer = Writer::start(conn).map_err(unavailable)?;
        Ok(Self { writer, readers, claims: tokio::sync::Mutex::default(), conversations: std::sync::Mutex::default() })
    }
}

fn migrate_sqlite(conn: &mut Connection) -> StoreResult<()> {
    let other = |e: rusqlite::Error| StoreError::Other(format!("migration: {e}"));
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS wabiz_migrations (
            version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at INTEGER NOT NULL)",
    )
    .map_err(other)?;
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(other)?;
    let applied: Vec<(i64, String)> = {
        let mut st = tx.prepare("SELECT version, checksum FROM wabiz_migrations ORDER BY version").map_err(other)?;
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).map_err(other)?.collect::<Result<_, _>>().map_err(other)?
    };
    let todo = migrate::pending(migrate::SQLITE, &applied).map_err(StoreError::Other)?;
    for m in todo {
        tx.execute_batch(m.sql).map_err(other)?;
        tx.execute(
            "INSERT INTO wabiz_migrations (version, name, checksum, applied_at) VALUES (?1, ?2, ?3, strftime('%s','now'))",
            params![m.version, m.name, m.checksum()],
        )
        .map_err(other)?;
        tracing::info!(version = m.version, name = m.name, "applied SQLite migration");
    }
    tx.commit().map_err(other)
}

fn user_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<UserRecord> {
    let role: String = r.get(2)?;
    Ok(UserRecord {
        username: r.get(0)?,
        password_hash: r.get(1)?,
        // An unknown role string can only come from a hand-edited row: grant least.
        role: Role::parse(&role).unwrap_or(Role::Api),
        password_is_default: r.get(3)?,
        created_at: r.get(4)?,
    })
}

#[async_trait]
impl MetaStore for SqliteStore {
    async fn get_meta(&self, key: &str) -> StoreResult<Option<String>> {
        let key = key.to_owned();
        self.readers
            .read(move |c| {
                c.prepare_cached("SELECT value FROM meta WHERE key = ?1")?.query_row([key], |r| r.get(0)).optional()
            })
            .await
    }

    async fn put_meta(&self, key: &str, value: &str) -> StoreResult<()> {
        let (key, value) = (key.to_owned(), value.to_owned());
        self.writer
            .write(move |c| {
                c.prepare_cached(
                    "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                )?
                .execute([&key, &value])
                .map(|_| ())
            })
            .await
    }

    async fn put_meta_if_absent(&self, key: &str, value: &str) -> StoreResult<String> {
        let (key, value) = (key.to_owned(), value.to_owned());
        self.writer
            .write(move |c| {
                c.prepare_cached("INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO NOTHING")?
                    .execute([&key, &value])?;
                c.prepare_cached("SELECT value FROM meta WHERE key = ?1")?.query_row([&key], |r| r.get(0))
            })
            .await
    }
}

#[async_trait]
impl UserStore for SqliteStore {
    async fn insert_user(&self, u: &UserRecord) -> StoreResult<bool> {
        let u = u.clone();
        self.writer
            .write(move |c| {
                let n = c
                    .prepare_cached(
                        "INSERT INTO users (username, password_hash, role, password_is_default, created_at)
                         VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(username) DO NOTHING",
                    )?
                    .execute(params![
                        u.username,
                        u.password_hash,
                        u.role.as_str(),
                        u.password_is_default,
                        u.created_at
                    ])?;
                Ok(n == 1)
            })
            .await
    }

    async fn get_user(&self, username: &str) -> StoreResult<Option<UserRecord>> {
        let username = username.to_owned();
        self.readers
            .read(move |c| {
                c.prepare_cached(
                    "SELECT username, password_hash, role, password_is_default, created_at FROM users WHERE username = ?1",
                )?
                .query_row([username], user_from_row)
                .optional()
            })
            .await
    }

    async fn set_password(&self, username: &str, hash: &str, is_default: bool) -> StoreResult<bool> {
        let (username, hash) = (username.to_owned(), hash.to_owned());
        self.writer
            .write(move |c| {
                let n = c
                    .prepare_cached(
                        "UPDATE users SET password_hash = ?2, password_is_default = ?3 WHERE username = ?1",
                    )?
                    .execute(params![username, hash, is_default])?;
                Ok(n == 1)
            })
            .await
    }

    async fn delete_user(&self, username: &str) -> StoreResult<bool> {
        let username = username.to_owned();
        self.writer
            .write(move |c| {
                // Tokens go with the user (ON DELETE CASCADE).
                let n = c.prepare_cached("DELETE FROM users WHERE username = ?1")?.execute([&username])?;
                Ok(n == 1)
            })
            .await
    }
}

#[async_trait]
impl TokenStore for SqliteStore {
    async fn insert_token(&self, t: &TokenRecord) -> StoreResult<()> {
        let t = t.clone();
        self.writer
            .write(move |c| {
                c.prepare_cached(
                    "INSERT INTO tokens (digest, username, issued_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
                )?
                .execute(params![t.digest, t.username, t.issued_at, t.expires_at])
                .map(|_| ())
            })
            .await
    }

    async fn find_token(&self, digest: &str) -> StoreResult<Option<TokenRecord>> {
        let digest = digest.to_owned();
        self.readers
            .read(move |c| {
                c.prepare_cached("SELECT digest, username, issued_at, expires_at FROM tokens WHERE digest = ?1")?
                    .query_row([digest], |r| {
                        Ok(TokenRecord {
                            digest: r.get(0)?,
                            username: r.get(1)?,
                            issued_at: r.get(2)?,
                            expires_at: r.get(3)?,
                        })
                    })
                    .optional()
            })
            .await
    }

    async fn delete_token(&self, digest: &str) -> StoreResult<bool> {
        let digest = digest.to_owned();
        self.writer
            .write(move |c| Ok(c.prepare_cached("DELETE FROM tokens WHERE digest = ?1")?.execute([&digest])? == 1))
            .await
    }

    async fn purge_expired_tokens(&self, before: i64) -> StoreResult<u64> {
        self.writer
            .write(move |c| Ok(c.prepare_cached("DELETE FROM tokens WHERE expires_at < ?1")?.execute([before])? as u64))
            .await
    }
}

#[async_trait]
impl SettingsStore for SqliteStore {
    async fn get_setting(&self, name: &str) -> StoreResult<Option<String>> {
        let name = name.to_owned();
        self.readers
            .read(move |c| {
                c.prepare_cached("SELECT value FROM settings WHERE name = ?1")?
                    .query_row([name], |r| r.get(0))
                    .optional()
            })
            .await
    }

    async fn get_blob(&self, name: &str) -> StoreResult<Option<Vec<u8>>> {
        let name = name.to_owned();
        self.readers
            .read(move |c| {
                c.prepare_cached("SELECT data FROM blobs WHERE name = ?1")?.query_row([name], |r| r.get(0)).optional()
            })
            .await
    }

    async fn write_settings(&self, writes: Vec<SettingWrite>, now: i64) -> StoreResult<()> {
        // One write job: all of it commits, or (on any error) none of it.
        self.writer
            .write(move |c| {
                for w in &writes {
                    match w {
                        SettingWrite::Put { name, value } => c
                            .prepare_cached(
                                "INSERT INTO settings (name, value, updated_at) VALUES (?1, ?2, ?3)
                                 ON CONFLICT(name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                            )?
                            .execute(params![name, value, now])?,
                        SettingWrite::Delete { name } => {
                            c.prepare_cached("DELETE FROM settings WHERE name = ?1")?.execute([name])?
                        }
                        SettingWrite::PutBlob { name, data } => c
                            .prepare_cached(
                                "INSERT INTO blobs (name, data, updated_at) VALUES (?1, ?2, ?3)
                                 ON CONFLICT(name) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at",
                            )?
                            .execute(params![name, data, now])?,
                        SettingWrite::DeleteBlob { name } => {
                            c.prepare_cached("DELETE FROM blobs WHERE name = ?1")?.execute([name])?
                        }
                        SettingWrite::PutMeta { key, value } => c
                            .prepare_cached(
                                "INSERT INTO meta (key, value) VALUES (?1, ?2)
                                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                            )?
                            .execute([key, value])?,
                    };
                }
                Ok(())
            })
            .await
    }
}

fn media_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<MediaRecord> {
    Ok(MediaRecord {
        id: r.get(0)?,
        mime_type: r.get(1)?,
        size: r.get::<_, i64>(2)?.try_into().unwrap_or_default(),
        sha256: r.get(3)?,
        origin: r.get(4)?,
        filename: r.get(5)?,
        created_at: r.get(6)?,
    })
}

#[async_trait]
impl MediaStore for SqliteStore {
    async fn insert_media(&self, m: &MediaRecord) -> StoreResult<bool> {
        let m = m.clone();
        self.writer
            .write(move |c| {
                let size = i64::try_from(m.size).unwrap_or(i64::MAX);
                let n = c
                    .prepare_cached(
                        "INSERT INTO media (id, mime_type, size, sha256, origin, filename, created_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(id) DO NOTHING",
                    )?
                    .execute(params![m.id, m.mime_type, size, m.sha256, m.origin, m.filename, m.created_at])?;
                Ok(n == 1)
            })
            .await
    }

    async fn get_media(&self, id: &str) -> StoreResult<Option<MediaRecord>> {
        let id = id.to_owned();
        self.readers
            .read(move |c| {
                c.prepare_cached(
                    "SELECT id, mime_type, size, sha256, origin, filename, created_at FROM media WHERE id = ?1",
                )?
                .query_row([id], media_from_row)
                .optional()
            })
            .await
    }

    async fn delete_media(&self, id: &str) -> StoreResult<bool> {
        let id = id.to_owned();
        self.writer.write(move |c| Ok(c.prepare_cached("DELETE FROM media WHERE id = ?1")?.execute([&id])? == 1)).await
    }
}

/// Inserts a message; `history` is its status history when it is stored
/// with steps already taken (see `history_lines`).
fn insert_message_row(c: &Connection, m: &MessageRecord, history: Option<&str>) -> rusqlite::Result<()> {
    c.prepare_cached(
        "INSERT INTO messages (id, direction, recipient_type, peer, type, content, status, created_at, updated_at, next_event_at, failure, category, conversation, expires_at, history)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
    )?
    .execute(params![
        m.id,
        m.direction,
        m.recipient_type,
        m.peer,
        m.kind,
        m.content,
        m.status,
        m.created_at,
        m.updated_at,
        m.next_event_at,
        m.failure,
        m.category,
        m.conversation,
        m.expires_at,
        history
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
    status: &'a str,
    at: i64,
    next_event_at: Option<i64>,
    /// The conversation the run named last, if any.
    conversation: Option<&'a str>,
    /// The history lines the run appends.
    history: String,
}

impl<'a> RunEnd<'a> {
    /// `None` for an empty run.
    fn of(run: &'a [Transition]) -> Option<Self> {
        let last = run.last()?;
        Some(Self {
            status: &last.status,
            at: last.at,
            next_event_at: last.next_event_at,
            conversation: run.iter().rev().find_map(|t| t.conversation.as_deref()),
            history: history_lines(run),
        })
    }
}

/// Applies status steps (see `MessageStore::apply_transitions`).
fn apply_runs(c: &Connection, transitions: &[Transition]) -> rusqlite::Result<()> {
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
                end.status,
                end.at,
                end.next_event_at,
                first.from_status,
                end.conversation,
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
        status: end.status.to_owned(),
        updated_at: end.at,
        next_event_at: end.next_event_at,
        conversation: end.conversation.map(str::to_owned).or_else(|| m.conversation.clone()),
        ..m.clone()
    };
    Some((row, end.history))
}

fn message_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<MessageRecord> {
    Ok(MessageRecord {
        id: r.get(0)?,
        direction: r.get(1)?,
        recipient_type: r.get(2)?,
        peer: r.get(3)?,
        kind: r.get(4)?,
        content: r.get(5)?,
        status: r.get(6)?,
        created_at: r.get(7)?,
        updated_at: r.get(8)?,
        next_event_at: r.get(9)?,
        failure: r.get(10)?,
        category: r.get(11)?,
        conversation: r.get(12)?,
        expires_at: r.get(13)?,
    })
}

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
                c.prepare_cached(
                    "SELECT id, direction, recipient_type, peer, type, content, status, created_at, updated_at, next_event_at, failure, category, conversation, expires_at
                     FROM messages WHERE id = ?1",
                )?
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
                    "SELECT id, peer, status, failure, type, content, category, conversation, expires_at FROM messages WHERE next_event_at IS NOT NULL AND next_event_at <= ?1
                     ORDER BY next_event_at LIMIT ?2",
                )?;
                let rows = st.query_map(params![now_ms, limit], |r| {
                    Ok(DueMessage {
                        id: r.get(0)?,
                        peer: r.get(1)?,
                        status: r.get(2)?,
                        failure: r.get(3)?,
                        kind: r.get(4)?,
                        content: r.get(5)?,
                        category: r.get(6)?,
                        conversation: r.get(7)?,
                        expires_at: r.get(8)?,
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
                let mut st = c.prepare_cached(
                    "SELECT * FROM (SELECT id, direction, recipient_type, peer, type, content, status, created_at, updated_at, next_event_at, failure, category, conversation, expires_at, rowid AS o FROM messages WHERE peer = ?1 ORDER BY rowid DESC LIMIT ?2)
                     ORDER BY o",
                )?;
                let rows = st.query_map(params![peer, limit], message_from_row)?;
                rows.collect()
            })
            .await
    }

    async fn last_inbound_at(&self, peer: &str) -> StoreResult<Option<i64>> {
        let peer = peer.to_owned();
        self.readers
            .read(move |c| {
                c.prepare_cached("SELECT MAX(created_at) FROM messages WHERE peer = ?1 AND direction = 'inbound'")?
                    .query_row([peer], |r| r.get(0))
            })
            .await
    }

    async fn mark_inbound_read(&self, id: &str, at: i64) -> StoreResult<u64> {
        let id = id.to_owned();
        self.writer
            .write(move |c| {
                let n = c
                    .prepare_cached(
                        "UPDATE messages SET status = 'read', updated_at = ?2
                         WHERE direction = 'inbound' AND status = 'received'
                           AND peer = (SELECT peer FROM messages WHERE id = ?1)
                           AND rowid <= (SELECT rowid FROM messages WHERE id = ?1)",
                    )?
                    .execute(params![id, at])?;
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

fn template_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<TemplateRecord> {
    Ok(TemplateRecord {
        namespace: r.get(0)?,
        name: r.get(1)?,
        language: r.get(2)?,
        components: r.get(3)?,
        created_at: r.get(4)?,
        category: r.get(5)?,
    })
}

#[async_trait]
impl TemplateStore for SqliteStore {
    async fn put_template(&self, t: &TemplateRecord) -> StoreResult<()> {
        let t = t.clone();
        self.writer
            .write(move |c| {
                c.prepare_cached(
                    "INSERT INTO templates (namespace, name, language, components, created_at, category) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT(namespace, name, language) DO UPDATE SET components = excluded.components, category = excluded.category",
                )?
                .execute(params![t.namespace, t.name, t.language, t.components, t.created_at, t.category])
                .map(|_| ())
            })
            .await
    }

    async fn list_templates(&self) -> StoreResult<Vec<TemplateRecord>> {
        self.readers
            .read(|c| {
                let mut st = c.prepare_cached(
                    "SELECT namespace, name, language, components, created_at, category FROM templates ORDER BY namespace, name, language",
                )?;
                let rows = st.query_map([], template_from_row)?;
                rows.collect()
            })
            .await
    }

    async fn find_templates(&self, namespace: &str, name: &str) -> StoreResult<Vec<TemplateRecord>> {
        let (namespace, name) = (namespace.to_owned(), name.to_owned());
        self.readers
            .read(move |c| {
                let mut st = c.prepare_cached(
                    "SELECT namespace, name, language, components, created_at, category FROM templates
                     WHERE namespace = ?1 AND name = ?2 ORDER BY language",
                )?;
                let rows = st.query_map([namespace, name], template_from_row)?;
                rows.collect()
            })
            .await
    }

    async fn delete_templates(&self, namespace: &str, name: &str, language: Option<&str>) -> StoreResult<u64> {
        let (namespace, name, language) = (namespace.to_owned(), name.to_owned(), language.map(str::to_owned));
        self.writer
            .write(move |c| {
                let n = c
                    .prepare_cached(
                        "DELETE FROM templates WHERE namespace = ?1 AND name = ?2 AND (?3 IS NULL OR language = ?3)",
                    )?
                    .execute(params![namespace, name, language])?;
                Ok(n as u64)
            })
            .await
    }
}

#[async_trait]
impl ContactStore for SqliteStore {
    async fn get_contact(&self, wa_id: &str) -> StoreResult<Option<(String, i64)>> {
        let wa_id = wa_id.to_owned();
        self.readers
            .read(move |c| {
                c.prepare_cached("SELECT status, checked_at FROM contacts WHERE wa_id = ?1")?
                    .query_row([wa_id], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()
            })
            .await
    }

    async fn put_contacts(&self, results: Vec<(String, String)>, checked_at: i64) -> StoreResult<()> {
        self.writer
            .write(move |c| {
                for (wa_id, status) in &results {
                    c.prepare_cached(
                        "INSERT INTO contacts (wa_id, status, checked_at) VALUES (?1, ?2, ?3)
                         ON CONFLICT(wa_id) DO UPDATE SET status = excluded.status, checked_at = excluded.checked_at",
                    )?
                    .execute(params![wa_id, status, checked_at])?;
                }
                Ok(())
            })
            .await
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn engine(&self) -> &'static str {
        "sqlite"
    }

    async fn ping(&self) -> StoreResult<()> {
        self.readers.read(|c| c.query_row("SELECT 1", [], |_| Ok(()))).await
    }

    async fn describe(&self) -> StoreResult<StoreInfo> {
        self.readers
            .read(|c| {
                let version: String = c.query_row("SELECT sqlite_version()", [], |r| r.get(0))?;
                let schema_version =
                    c.query_row("SELECT COALESCE(MAX(version), 0) FROM wabiz_migrations", [], |r| r.get(0))?;
                Ok(StoreInfo { versions: vec![format!("SQLite {version} (rusqlite, bundled)")], schema_version })
            })
            .await
    }

    async fn close(&self) {
        self.writer.shutdown().await;
        self.readers.close();
    }
}

#[cfg(test)]
mod tests {
    use rusqlite::StatementStatus;

    use super::*;

    /// A cached `… LIMIT ?` query must run again without being compiled
    /// again, whatever is bound to it (see `configure`).
    #[test]
    fn limit_parameters_do_not_recompile_cached_statements() {
        let dir = tempfile::tempdir().unwrap();
        let conn = Connection::open(dir.path().join("q.db")).unwrap();
        configure(&conn).unwrap();
        conn.execute_batch("CREATE TABLE t (v INTEGER); INSERT INTO t VALUES (1), (2), (3);").unwrap();
        for limit in [1_i64, 2, 3, 2] {
            let mut st = conn.prepare_cached("SELECT v FROM t WHERE v > ?1 ORDER BY v LIMIT ?2").unwrap();
            let n = st.query_map(params![0, limit], |r| r.get::<_, i64>(0)).unwrap().count();
            assert_eq!(n as i64, limit);
            assert_eq!(st.get_status(StatementStatus::RePrepare), 0, "compiled again for LIMIT {limit}");
        }
    }
}
