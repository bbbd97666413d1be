//! The PostgreSQL engine, for several nodes on one database.

mod batch;
mod callbacks;
mod claim;
mod cluster;
mod contacts;
mod conversations;
mod gc;
mod groups;
mod media;
mod messages;
mod meta;
#[cfg(test)]
mod plans;
mod relay;
mod settings;
mod stats;
mod templates;
mod tokens;
mod traffic;
mod users;
mod vacuum;

use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::NoTls;
use wabiz_domain::ports::{Store, StoreError, StoreInfo, StoreResult};

use crate::migrate;

/// Connections per node. Each request holds one only for a statement or two.
const POOL_SIZE: usize = 16;

/// Serialises schema migrations of nodes starting together (an arbitrary
/// constant: "wabiz" in ASCII).
const MIGRATION_LOCK: i64 = 0x0077_6162_697a;

pub struct PgStore {
    pool: Pool,
    /// New messages, written in groups (`batch.rs`).
    messages: batch::MessageBatcher,
    /// Conversations known to be open.
    conversations: std::sync::Mutex<crate::open_conversations::OpenConversations>,
    /// Keeps the callback queue's head free of deleted rows.
    queue_vacuum: vacuum::QueueVacuum,
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
        let messages = batch::MessageBatcher::start(pool.clone());
        let store = Self {
            pool,
            messages,
            conversations: std::sync::Mutex::default(),
            queue_vacuum: vacuum::QueueVacuum::default(),
            config: pg,
        };
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
