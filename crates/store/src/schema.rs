//! The schema's state, read without changing anything: what `wabiz db
//! status` shows, and what the offline commands check before they touch a
//! database (`wabiz db migrate` is the one that applies migrations).

use std::path::Path;

use rusqlite::{Connection, OpenFlags, OptionalExtension as _};
use tokio_postgres::NoTls;

use crate::DatabaseConfig;
use crate::migrate::{self, Migration};

/// One migration the database records as applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub version: i64,
    pub name: String,
    pub checksum: String,
}

/// The applied migrations next to the ones this binary carries.
#[derive(Debug, Clone)]
pub struct SchemaStatus {
    /// `false` when there is no database yet (no SQLite file, or no
    /// migrations table): the server creates it at its first start.
    pub exists: bool,
    pub applied: Vec<Applied>,
    pub known: &'static [Migration],
}

impl SchemaStatus {
    /// The database's schema version: its highest applied migration.
    pub fn version(&self) -> i64 {
        self.applied.iter().map(|a| a.version).max().unwrap_or(0)
    }

    /// The newest schema this binary knows.
    pub fn latest_known(&self) -> i64 {
        migrate::latest(self.known)
    }

    /// The migrations still to apply, or why this binary must not touch the
    /// database (a newer schema, or an applied migration that changed).
    pub fn pending(&self) -> Result<Vec<&'static Migration>, String> {
        let applied: Vec<(i64, String)> = self.applied.iter().map(|a| (a.version, a.checksum.clone())).collect();
        migrate::pending(self.known, &applied)
    }
}

/// Reads the schema's state of the configured database.
pub async fn status(cfg: &DatabaseConfig) -> Result<SchemaStatus, String> {
    match cfg {
        DatabaseConfig::Sqlite { path } => {
            let path = path.clone();
            tokio::task::spawn_blocking(move || sqlite_status(&path)).await.map_err(|e| e.to_string())?
        }
        DatabaseConfig::Postgres { url } => postgres_status(url).await,
    }
}

fn sqlite_status(path: &Path) -> Result<SchemaStatus, String> {
    let absent = SchemaStatus { exists: false, applied: Vec::new(), known: migrate::SQLITE };
    if !path.exists() {
        return Ok(absent);
    }
    let err = |e: rusqlite::Error| format!("{}: {e}", path.display());
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(err)?;
    conn.busy_timeout(std::time::Duration::from_secs(5)).map_err(err)?;
    let table: Option<String> = conn
        .query_row("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'wabiz_migrations'", [], |r| {
            r.get(0)
        })
        .optional()
        .map_err(err)?;
    if table.is_none() {
        return Ok(absent);
    }
    let mut st = conn.prepare("SELECT version, name, checksum FROM wabiz_migrations ORDER BY version").map_err(err)?;
    let applied = st
        .query_map([], |r| Ok(Applied { version: r.get(0)?, name: r.get(1)?, checksum: r.get(2)? }))
        .map_err(err)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(err)?;
    Ok(SchemaStatus { exists: true, applied, known: migrate::SQLITE })
}

async fn postgres_status(url: &str) -> Result<SchemaStatus, String> {
    let shown = crate::redact_url(url);
    let (client, connection) =
        tokio_postgres::connect(url, NoTls).await.map_err(|e| format!("cannot connect to {shown}: {e}"))?;
    let driver = tokio::spawn(connection);
    let result = async {
        let err = |e: tokio_postgres::Error| format!("{shown}: {e}");
        let table = client
            .query_one("SELECT to_regclass('wabiz_migrations') IS NOT NULL", &[])
            .await
            .map_err(err)?
            .get::<_, bool>(0);
        if !table {
            return Ok(SchemaStatus { exists: false, applied: Vec::new(), known: migrate::POSTGRES });
        }
        let rows = client
            .query("SELECT version, name, checksum FROM wabiz_migrations ORDER BY version", &[])
            .await
            .map_err(err)?;
        let applied = rows.iter().map(|r| Applied { version: r.get(0), name: r.get(1), checksum: r.get(2) }).collect();
        Ok(SchemaStatus { exists: true, applied, known: migrate::POSTGRES })
    }
    .await;
    drop(client);
    let _ = driver.await;
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_missing_file_is_no_database_and_a_new_one_is_up_to_date() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wabiz.db");
        let cfg = DatabaseConfig::Sqlite { path: path.clone() };
        let before = status(&cfg).await.unwrap();
        assert!(!before.exists && before.version() == 0);
        assert_eq!(before.pending().unwrap().len(), migrate::SQLITE.len());
        assert!(!path.exists(), "reading the status must not create the database");

        let store = crate::open(&cfg).await.unwrap();
        store.close().await;
        let after = status(&cfg).await.unwrap();
        assert!(after.exists);
        assert_eq!(after.version(), after.latest_known());
        assert!(after.pending().unwrap().is_empty());

        // A newer binary's migration: this one must refuse, naming both versions.
        let conn = Connection::open(&path).unwrap();
        conn.execute("INSERT INTO wabiz_migrations VALUES (999, 'from_the_future', 'x', 0)", []).unwrap();
        let newer = status(&cfg).await.unwrap();
        let e = newer.pending().unwrap_err();
        assert!(e.contains("999") && e.contains(&after.latest_known().to_string()), "{e}");
    }
}
