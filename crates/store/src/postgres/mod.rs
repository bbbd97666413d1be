//! The PostgreSQL engine, for several nodes on one database.

mod callbacks;
mod cluster;
mod gc;
mod groups;

use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::NoTls;
use wabiz_domain::callbacks::NewCallback;
use wabiz_domain::ports::{
    ContactStore, DueMessage, MediaRecord, MediaStore, MessageRecord, MessageStore, MetaStore, SettingWrite,
    SettingsStore, StatusRecord, Store, StoreError, StoreInfo, StoreResult, TemplateRecord, TemplateStore, TokenRecord,
    TokenStore, Transition, UserRecord, UserStore,
};
use wabiz_domain::users::Role;

use crate::migrate;
use callbacks::insert_callback_row;

/// Connections per node. Each request holds one only for a statement or two.
const POOL_SIZE: usize = 16;

/// Serialises schema migrations of nodes starting together (an arbitrary
/// constant: "wabiz" in ASCII).
const MIGRATION_LOCK: i64 = 0x0077_6162_697a;

pub struct PgStore {
    pool: Pool,
    /// For the notification listener's own connection.
    config: tokio_postgres::Config,
}

fn unavailable(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

fn db_err(e: tokio_postgres::Error) -> StoreError {
    match e.as_db_error() {
        // The server's own words: SQLSTATE and message (for the log).
        Some(db) => StoreError::Other(format!("PostgreSQL {}: {}", db.code().code(), db.message())),
        None => StoreError::Unavailable(e.to_string()),
    }
}

impl PgStore {
    /// Connects, checks the server answers, and applies migrations.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let pg: tokio_postgres::Config =
            url.parse().map_err(|e| StoreError::Other(format!("invalid PostgreSQL URL: {e}")))?;
        let mgr = Manager::from_config(pg.clone(), NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
        let pool = Pool::builder(mgr).max_size(POOL_SIZE).build().map_err(unavailable)?;
        let store = Self { pool, config: pg };
        store.migrate().await?;
        Ok(store)
    }

    async fn client(&self) -> StoreResult<deadpool_postgres::Object> {
        self.pool.get().await.map_err(unavailable)
    }

    async fn migrate(&self) -> StoreResult<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_err)?;
        // Transaction-scoped: released at COMMIT or when the connection drops.
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK]).await.map_err(db_err)?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS wabiz_migrations (
                version BIGINT PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL,
                applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
        )
        .await
        .map_err(db_err)?;
        let applied: Vec<(i64, String)> = tx
            .query("SELECT version, checksum FROM wabiz_migrations ORDER BY version", &[])
            .await
            .map_err(db_err)?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        let todo = migrate::pending(migrate::POSTGRES, &applied).map_err(StoreError::Other)?;
        for m in todo {
            tx.batch_execute(m.sql).await.map_err(db_err)?;
            tx.execute(
                "INSERT INTO wabiz_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                &[&m.version, &m.name, &m.checksum()],
            )
            .await
            .map_err(db_err)?;
            tracing::info!(version = m.version, name = m.name, "applied PostgreSQL migration");
        }
        tx.commit().await.map_err(db_err)
    }
}

fn user_from_row(r: &tokio_postgres::Row) -> UserRecord {
    let role: String = r.get(2);
    UserRecord {
        username: r.get(0),
        password_hash: r.get(1),
        role: Role::parse(&role).unwrap_or(Role::Api),
        password_is_default: r.get(3),
        created_at: r.get(4),
    }
}

#[async_trait]
impl MetaStore for PgStore {
    async fn get_meta(&self, key: &str) -> StoreResult<Option<String>> {
        let c = self.client().await?;
        let st = c.prepare_cached("SELECT value FROM meta WHERE key = $1").await.map_err(db_err)?;
        Ok(c.query_opt(&st, &[&key]).await.map_err(db_err)?.map(|r| r.get(0)))
    }

    async fn put_meta(&self, key: &str, value: &str) -> StoreResult<()> {
        let c = self.client().await?;
        c.execute(
            "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            &[&key, &value],
        )
        .await
        .map_err(db_err)?;
        // Other nodes of a deployment reload what they keep of it.
        c.execute(cluster::NOTIFY_CONFIG, &[]).await.map_err(db_err)?;
        Ok(())
    }

    async fn put_meta_if_absent(&self, key: &str, value: &str) -> StoreResult<String> {
        let c = self.client().await?;
        c.execute("INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING", &[&key, &value])
            .await
            .map_err(db_err)?;
        let row = c.query_one("SELECT value FROM meta WHERE key = $1", &[&key]).await.map_err(db_err)?;
        Ok(row.get(0))
    }
}

#[async_trait]
impl UserStore for PgStore {
    async fn insert_user(&self, u: &UserRecord) -> StoreResult<bool> {
        let c = self.client().await?;
        let n = c
            .execute(
                "INSERT INTO users (username, password_hash, role, password_is_default, created_at)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (username) DO NOTHING",
                &[&u.username, &u.password_hash, &u.role.as_str(), &u.password_is_default, &u.created_at],
            )
            .await
            .map_err(db_err)?;
        Ok(n == 1)
    }

    async fn get_user(&self, username: &str) -> StoreResult<Option<UserRecord>> {
        let c = self.client().await?;
        let st = c
            .prepare_cached(
                "SELECT username, password_hash, role, password_is_default, created_at FROM users WHERE username = $1",
            )
            .await
            .map_err(db_err)?;
        Ok(c.query_opt(&st, &[&username]).await.map_err(db_err)?.as_ref().map(user_from_row))
    }

    async fn set_password(&self, username: &str, hash: &str, is_default: bool) -> StoreResult<bool> {
        let c = self.client().await?;
        let n = c
            .execute(
                "UPDATE users SET password_hash = $2, password_is_default = $3 WHERE username = $1",
                &[&username, &hash, &is_default],
            )
            .await
            .map_err(db_err)?;
        Ok(n == 1)
    }

    async fn delete_user(&self, username: &str) -> StoreResult<bool> {
        let c = self.client().await?;
        // Tokens go with the user (ON DELETE CASCADE), in the same statement;
        // the other nodes of a deployment drop their cached tokens.
        cluster::delete_revoking_tokens(&c, "DELETE FROM users WHERE username = $1", username).await
    }
}

#[async_trait]
impl TokenStore for PgStore {
    async fn insert_token(&self, t: &TokenRecord) -> StoreResult<()> {
        let c = self.client().await?;
        c.execute(
            "INSERT INTO tokens (digest, username, issued_at, expires_at) VALUES ($1, $2, $3, $4)",
            &[&t.digest, &t.username, &t.issued_at, &t.expires_at],
        )
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn find_token(&self, digest: &str) -> StoreResult<Option<TokenRecord>> {
        let c = self.client().await?;
        let st = c
            .prepare_cached("SELECT digest, username, issued_at, expires_at FROM tokens WHERE digest = $1")
            .await
            .map_err(db_err)?;
        Ok(c.query_opt(&st, &[&digest]).await.map_err(db_err)?.map(|r| TokenRecord {
            digest: r.get(0),
            username: r.get(1),
            issued_at: r.get(2),
            expires_at: r.get(3),
        }))
    }

    async fn delete_token(&self, digest: &str) -> StoreResult<bool> {
        let c = self.client().await?;
        cluster::delete_revoking_tokens(&c, "DELETE FROM tokens WHERE digest = $1", digest).await
    }

    async fn purge_expired_tokens(&self, before: i64) -> StoreResult<u64> {
        let c = self.client().await?;
        c.execute("DELETE FROM tokens WHERE expires_at < $1", &[&before]).await.map_err(db_err)
    }
}

#[async_trait]
impl SettingsStore for PgStore {
    async fn get_setting(&self, name: &str) -> StoreResult<Option<String>> {
        let c = self.client().await?;
        let st = c.prepare_cached("SELECT value FROM settings WHERE name = $1").await.map_err(db_err)?;
        Ok(c.query_opt(&st, &[&name]).await.map_err(db_err)?.map(|r| r.get(0)))
    }

    async fn get_blob(&self, name: &str) -> StoreResult<Option<Vec<u8>>> {
        let c = self.client().await?;
        let st = c.prepare_cached("SELECT data FROM blobs WHERE name = $1").await.map_err(db_err)?;
        Ok(c.query_opt(&st, &[&name]).await.map_err(db_err)?.map(|r| r.get(0)))
    }

    async fn write_settings(&self, writes: Vec<SettingWrite>, now: i64) -> StoreResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(db_err)?;
        for w in &writes {
            let n = match w {
                SettingWrite::Put { name, value } => {
                    tx.execute(
                        "INSERT INTO settings (name, value, updated_at) VALUES ($1, $2, $3)
                         ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                        &[name, value, &now],
                    )
                    .await
                }
                SettingWrite::Delete { name } => tx.execute("DELETE FROM settings WHERE name = $1", &[name]).await,
                SettingWrite::PutBlob { name, data } => {
                    tx.execute(
                        "INSERT INTO blobs (name, data, updated_at) VALUES ($1, $2, $3)
                         ON CONFLICT (name) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at",
                        &[name, data, &now],
                    )
                    .await
                }
                SettingWrite::DeleteBlob { name } => tx.execute("DELETE FROM blobs WHERE name = $1", &[name]).await,
                SettingWrite::PutMeta { key, value } => {
                    tx.execute(
                        "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                        &[key, value],
                    )
                    .await
                }
            };
            n.map_err(db_err)?;
        }
        // Delivered to the other nodes at commit: they reload the settings.
        tx.execute(cluster::NOTIFY_CONFIG, &[]).await.map_err(db_err)?;
        tx.commit().await.map_err(db_err)
    }
}

fn media_from_row(r: &tokio_postgres::Row) -> MediaRecord {
    MediaRecord {
        id: r.get(0),
        mime_type: r.get(1),
        size: r.get::<_, i64>(2).try_into().unwrap_or_default(),
        sha256: r.get(3),
        origin: r.get(4),
        filename: r.get(5),
        created_at: r.get(6),
    }
}

#[async_trait]
impl MediaStore for PgStore {
    async fn insert_media(&self, m: &MediaRecord) -> StoreResult<bool> {
        let c = self.client().await?;
        let size = i64::try_from(m.size).unwrap_or(i64::MAX);
        let n = c
            .execute(
                "INSERT INTO media (id, mime_type, size, sha256, origin, filename, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING",
                &[&m.id, &m.mime_type, &size, &m.sha256, &m.origin, &m.filename, &m.created_at],
            )
            .await
            .map_err(db_err)?;
        Ok(n == 1)
    }

    async fn get_media(&self, id: &str) -> StoreResult<Option<MediaRecord>> {
        let c = self.client().await?;
        let st = c
            .prepare_cached("SELECT id, mime_type, size, sha256, origin, filename, created_at FROM media WHERE id = $1")
            .await
            .map_err(db_err)?;
        Ok(c.query_opt(&st, &[&id]).await.map_err(db_err)?.as_ref().map(media_from_row))
    }

    async fn delete_media(&self, id: &str) -> StoreResult<bool> {
        let c = self.client().await?;
        Ok(c.execute("DELETE FROM media WHERE id = $1", &[&id]).await.map_err(db_err)? == 1)
    }
}

async fn insert_message_row(c: &impl deadpool_postgres::GenericClient, m: &MessageRecord) -> StoreResult<()> {
    c.execute(
        "INSERT INTO messages (id, direction, recipient_type, peer, type, content, status, created_at, updated_at, next_event_at, failure, category, conversation, expires_at, route)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        &[
            &m.id,
            &m.direction,
            &m.recipient_type,
            &m.peer,
            &m.kind,
            &m.content,
            &m.status,
            &m.created_at,
            &m.updated_at,
            &m.next_event_at,
            &m.failure,
            &m.category,
            &m.conversation,
            &m.expires_at,
            &i64::from(wabiz_domain::cluster::route_hash(&m.peer)),
        ],
    )
    .await
    .map_err(db_err)?;
    Ok(())
}

fn message_from_row(r: &tokio_postgres::Row) -> MessageRecord {
    MessageRecord {
        id: r.get(0),
        direction: r.get(1),
        recipient_type: r.get(2),
        peer: r.get(3),
        kind: r.get(4),
        content: r.get(5),
        status: r.get(6),
        created_at: r.get(7),
        updated_at: r.get(8),
        next_event_at: r.get(9),
        failure: r.get(10),
        category: r.get(11),
        conversation: r.get(12),
        expires_at: r.get(13),
    }
}

#[async_trait]
impl MessageStore for PgStore {
    async fn insert_message(&self, m: &MessageRecord, callbacks: &[NewCallback]) -> StoreResult<()> {
        let mut c = self.client().await?;
        if callbacks.is_empty() {
            return insert_message_row(&c, m).await;
        }
        let tx = c.transaction().await.map_err(db_err)?;
        insert_message_row(&tx, m).await?;
        for cb in callbacks {
            insert_callback_row(&tx, cb).await?;
        }
        tx.commit().await.map_err(db_err)
    }

    async fn get_message(&self, id: &str) -> StoreResult<Option<MessageRecord>> {
        let c = self.client().await?;
        let st = c
            .prepare_cached(
                "SELECT id, direction, recipient_type, peer, type, content, status, created_at, updated_at, next_event_at, failure, category, conversation, expires_at
                 FROM messages WHERE id = $1",
            )
            .await
            .map_err(db_err)?;
        Ok(c.query_opt(&st, &[&id]).await.map_err(db_err)?.as_ref().map(message_from_row))
    }

    async fn due_messages(&self, now_ms: i64, limit: usize) -> StoreResult<Vec<DueMessage>> {
        let c = self.client().await?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = c
            .query(
                "SELECT id, peer, status, failure, type, content, category, conversation, expires_at FROM messages WHERE next_event_at IS NOT NULL AND next_event_at <= $1
                 ORDER BY next_event_at LIMIT $2",
                &[&now_ms, &limit],
            )
            .await
            .map_err(db_err)?;
        Ok(rows.iter().map(due_from_row).collect())
    }

    async fn next_message_event(&self) -> StoreResult<Option<i64>> {
        let c = self.client().await?;
        let row = c
            .query_one("SELECT MIN(next_event_at) FROM messages WHERE next_event_at IS NOT NULL", &[])
            .await
            .map_err(db_err)?;
        Ok(row.get(0))
    }

    async fn apply_transitions(&self, transitions: Vec<Transition>) -> StoreResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(db_err)?;
        apply_transitions_in_tx(&tx, &transitions).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn conversation(&self, peer: &str, limit: usize) -> StoreResult<Vec<MessageRecord>> {
        let c = self.client().await?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = c
            .query(
                "SELECT * FROM (SELECT id, direction, recipient_type, peer, type, content, status, created_at, updated_at, next_event_at, failure, category, conversation, expires_at, seq FROM messages WHERE peer = $1 ORDER BY seq DESC LIMIT $2) AS recent
                 ORDER BY seq",
                &[&peer, &limit],
            )
            .await
            .map_err(db_err)?;
        Ok(rows.iter().map(message_from_row).collect())
    }

    async fn last_inbound_at(&self, peer: &str) -> StoreResult<Option<i64>> {
        let c = self.client().await?;
        let row = c
            .query_one("SELECT MAX(created_at) FROM messages WHERE peer = $1 AND direction = 'inbound'", &[&peer])
            .await
            .map_err(db_err)?;
        Ok(row.get(0))
    }

    async fn mark_inbound_read(&self, id: &str, at: i64) -> StoreResult<u64> {
        let c = self.client().await?;
        c.execute(
            "UPDATE messages SET status = 'read', updated_at = $2
             WHERE direction = 'inbound' AND status = 'received'
               AND peer = (SELECT peer FROM messages WHERE id = $1)
               AND seq <= (SELECT seq FROM messages WHERE id = $1)",
            &[&id, &at],
        )
        .await
        .map_err(db_err)
    }

    async fn message_statuses(&self, id: &str) -> StoreResult<Vec<StatusRecord>> {
        let c = self.client().await?;
        let rows = c
            .query(
                "SELECT status, at, errors FROM message_statuses WHERE message_id = $1 ORDER BY at, CASE status WHEN 'sent' THEN 1 WHEN 'delivered' THEN 2 WHEN 'read' THEN 3 ELSE 4 END",
                &[&id],
            )
            .await
            .map_err(db_err)?;
        Ok(rows.iter().map(|r| StatusRecord { status: r.get(0), at: r.get(1), errors: r.get(2) }).collect())
    }
}

fn template_from_row(r: &tokio_postgres::Row) -> TemplateRecord {
    TemplateRecord {
        namespace: r.get(0),
        name: r.get(1),
        language: r.get(2),
        components: r.get(3),
        created_at: r.get(4),
        category: r.get(5),
    }
}

#[async_trait]
impl TemplateStore for PgStore {
    async fn put_template(&self, t: &TemplateRecord) -> StoreResult<()> {
        let c = self.client().await?;
        c.execute(
            "INSERT INTO templates (namespace, name, language, components, created_at, category) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (namespace, name, language) DO UPDATE SET components = excluded.components, category = excluded.category",
            &[&t.namespace, &t.name, &t.language, &t.components, &t.created_at, &t.category],
        )
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn list_templates(&self) -> StoreResult<Vec<TemplateRecord>> {
        let c = self.client().await?;
        let rows = c
            .query(
                "SELECT namespace, name, language, components, created_at, category FROM templates ORDER BY namespace, name, language",
                &[],
            )
            .await
            .map_err(db_err)?;
        Ok(rows.iter().map(template_from_row).collect())
    }

    async fn find_templates(&self, namespace: &str, name: &str) -> StoreResult<Vec<TemplateRecord>> {
        let c = self.client().await?;
        let rows = c
            .query(
                "SELECT namespace, name, language, components, created_at, category FROM templates
                 WHERE namespace = $1 AND name = $2 ORDER BY language",
                &[&namespace, &name],
            )
            .await
            .map_err(db_err)?;
        Ok(rows.iter().map(template_from_row).collect())
    }

    async fn delete_templates(&self, namespace: &str, name: &str, language: Option<&str>) -> StoreResult<u64> {
        let c = self.client().await?;
        c.execute(
            "DELETE FROM templates WHERE namespace = $1 AND name = $2 AND ($3::TEXT IS NULL OR language = $3)",
            &[&namespace, &name, &language],
        )
        .await
        .map_err(db_err)
    }
}

#[async_trait]
impl ContactStore for PgStore {
    async fn get_contact(&self, wa_id: &str) -> StoreResult<Option<(String, i64)>> {
        let c = self.client().await?;
        let row =
            c.query_opt("SELECT status, checked_at FROM contacts WHERE wa_id = $1", &[&wa_id]).await.map_err(db_err)?;
        Ok(row.map(|r| (r.get(0), r.get(1))))
    }

    async fn put_contacts(&self, results: Vec<(String, String)>, checked_at: i64) -> StoreResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(db_err)?;
        for (wa_id, status) in &results {
            tx.execute(
                "INSERT INTO contacts (wa_id, status, checked_at) VALUES ($1, $2, $3)
                 ON CONFLICT (wa_id) DO UPDATE SET status = excluded.status, checked_at = excluded.checked_at",
                &[wa_id, status, &checked_at],
            )
            .await
            .map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)
    }
}

#[async_trait]
impl Store for PgStore {
    fn engine(&self) -> &'static str {
        "postgres"
    }

    async fn ping(&self) -> StoreResult<()> {
        let c = self.client().await?;
        c.execute("SELECT 1", &[]).await.map_err(db_err).map(|_| ())
    }

    async fn describe(&self) -> StoreResult<StoreInfo> {
        let c = self.client().await?;
        let row = c
            .query_one("SELECT version(), (SELECT COALESCE(MAX(version), 0) FROM wabiz_migrations)", &[])
            .await
            .map_err(db_err)?;
        Ok(StoreInfo {
            versions: vec![row.get::<_, String>(0), "tokio-postgres".to_owned()],
            schema_version: row.get(1),
        })
    }

    async fn close(&self) {
        self.pool.close();
    }

    fn cluster(self: std::sync::Arc<Self>) -> Option<std::sync::Arc<dyn wabiz_domain::cluster::ClusterStore>> {
        Some(self)
    }
}

/// The steps of `apply_transitions`, inside the caller's transaction.
pub(crate) async fn apply_transitions_in_tx(
    tx: &deadpool_postgres::Transaction<'_>,
    transitions: &[Transition],
) -> StoreResult<()> {
    for t in transitions {
        let changed = tx
                .execute(
                    "UPDATE messages SET status = $2, updated_at = $3, next_event_at = $4, conversation = COALESCE($6, conversation)
                     WHERE id = $1 AND status = $5",
                    &[&t.id, &t.status, &t.at, &t.next_event_at, &t.from_status, &t.conversation],
                )
                .await
                .map_err(db_err)?;
        if changed == 0 {
            continue;
        }
        if let Some(m) = &t.reply {
            insert_message_row(tx, m).await?;
        }
        for cb in &t.callbacks {
            insert_callback_row(tx, cb).await?;
        }
        tx.execute(
            "INSERT INTO message_statuses (message_id, status, at, errors) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (message_id, status) DO NOTHING",
            &[&t.id, &t.status, &t.at, &t.errors],
        )
        .await
        .map_err(db_err)?;
    }
    Ok(())
}

/// A due message from `SELECT id, peer, status, failure, type, content,
/// category, conversation, expires_at`.
pub(crate) fn due_from_row(r: &tokio_postgres::Row) -> DueMessage {
    DueMessage {
        id: r.get(0),
        peer: r.get(1),
        status: r.get(2),
        failure: r.get(3),
        kind: r.get(4),
        content: r.get(5),
        category: r.get(6),
        conversation: r.get(7),
        expires_at: r.get(8),
    }
}
