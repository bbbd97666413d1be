//! The SQLite engine (embedded default).

pub mod backup;
mod callbacks;
mod contacts;
mod conversations;
mod gc;
mod groups;
mod history;
mod media;
mod messages;
mod meta;
mod readers;
mod relay;
mod settings;
mod stats;
mod templates;
mod tokens;
mod traffic;
mod users;
mod writer;

use std::path::Path;

use async_trait::async_trait;
use rusqlite::{Connection, params};
use wabiz_domain::ports::{Store, StoreError, StoreInfo, StoreResult};

use crate::migrate;
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
    conversations: std::sync::Mutex<crate::open_conversations::OpenConversations>,
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
