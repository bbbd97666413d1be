//! The storage engines of wabiz, both behind [`wabiz_domain::ports::Store`]:
//!
//! - [`sqlite::SqliteStore`], the embedded default: one writer thread that
//!   commits many requests in one transaction (group commit), plus a small pool
//!   of read-only connections (WAL lets them read while the writer writes);
//! - [`postgres::PgStore`], for several nodes on one database.
//!
//! Both engines are split one file per port, with the same file names; the
//! text the domain's message types take in columns is defined once, in
//! `columns.rs`. This crate is the only one that knows SQL.

mod columns;
pub mod files;
pub mod migrate;
mod open_conversations;
pub mod postgres;
pub mod schema;
pub mod sqlite;

use std::path::PathBuf;
use std::sync::Arc;

use wabiz_domain::ports::{Store, StoreError};

/// Where the data lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseConfig {
    /// A SQLite file.
    Sqlite { path: PathBuf },
    /// A PostgreSQL connection URL (`postgres://user@host:port/db?...`).
    Postgres { url: String },
}

impl DatabaseConfig {
    /// Parses `sqlite://PATH` (`sqlite:///abs/path` or `sqlite://relative/path`)
    /// or `postgres://…` / `postgresql://…`.
    pub fn parse(url: &str) -> Result<Self, String> {
        if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err("sqlite:// needs a file path, e.g. sqlite:///var/lib/wabiz/wabiz.db".into());
            }
            return Ok(DatabaseConfig::Sqlite { path: PathBuf::from(path) });
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DatabaseConfig::Postgres { url: url.to_owned() });
        }
        Err(format!(
            "unsupported database URL '{}': use sqlite://PATH or postgres://USER@HOST:PORT/DB",
            redact_url(url)
        ))
    }

    /// The configuration with any password removed, for logs.
    pub fn describe(&self) -> String {
        match self {
            DatabaseConfig::Sqlite { path } => format!("sqlite://{}", path.display()),
            DatabaseConfig::Postgres { url } => redact_url(url),
        }
    }
}

/// Hides the password of a database URL, wherever it is: in the user-info
/// part (`user:pass@`, the password may itself hold `/` or `@`) or in a
/// `password=` query parameter.
pub fn redact_url(url: &str) -> String {
    rewrite_password(url, Some("***"))
}

/// The URL with its password left out entirely, for a command line that
/// gets the password elsewhere (`PGPASSWORD`, `~/.pgpass`).
pub fn url_without_password(url: &str) -> String {
    rewrite_password(url, None)
}

/// The URL with its password replaced by `mask`, or removed with `None`.
fn rewrite_password(url: &str, mask: Option<&str>) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let (before_query, query) = match rest.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (rest, None),
    };
    // The user-info ends at the last '@' before the query.
    let authority_and_path = match before_query.rsplit_once('@') {
        Some((userinfo, host)) => match (userinfo.split_once(':'), mask) {
            (Some((user, _)), Some(mask)) => format!("{user}:{mask}@{host}"),
            (Some((user, _)), None) => format!("{user}@{host}"),
            (None, _) => before_query.to_owned(),
        },
        None => before_query.to_owned(),
    };
    let query: Vec<String> = query
        .into_iter()
        .flat_map(|q| q.split('&'))
        .filter_map(|kv| match (kv.split_once('='), mask) {
            (Some((k, _)), Some(mask)) if k.eq_ignore_ascii_case("password") => Some(format!("{k}={mask}")),
            (Some((k, _)), None) if k.eq_ignore_ascii_case("password") => None,
            _ => Some(kv.to_owned()),
        })
        .collect();
    if query.is_empty() {
        format!("{scheme}://{authority_and_path}")
    } else {
        format!("{scheme}://{authority_and_path}?{}", query.join("&"))
    }
}

/// Opens (and migrates) the configured store.
pub async fn open(cfg: &DatabaseConfig) -> Result<Arc<dyn Store>, StoreError> {
    Ok(match cfg {
        DatabaseConfig::Sqlite { path } => Arc::new(sqlite::SqliteStore::open(path).await?),
        DatabaseConfig::Postgres { url } => Arc::new(postgres::PgStore::connect(url).await?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_urls() {
        assert_eq!(
            DatabaseConfig::parse("sqlite:///tmp/x.db").unwrap(),
            DatabaseConfig::Sqlite { path: "/tmp/x.db".into() }
        );
        assert_eq!(
            DatabaseConfig::parse("sqlite://data/x.db").unwrap(),
            DatabaseConfig::Sqlite { path: "data/x.db".into() }
        );
        assert!(matches!(DatabaseConfig::parse("postgres://u@h/db").unwrap(), DatabaseConfig::Postgres { .. }));
        assert!(DatabaseConfig::parse("mysql://u:pw@h/db").unwrap_err().contains("u:***@h"));
        assert!(DatabaseConfig::parse("sqlite://").is_err());
    }

    #[test]
    fn redaction() {
        assert_eq!(redact_url("postgres://u:secret@h:5432/db"), "postgres://u:***@h:5432/db");
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_url("postgres://h/db?password=x"), "postgres://h/db?password=***");
        assert_eq!(
            redact_url("postgres://h/db?user=u&password=x&sslmode=disable"),
            "postgres://h/db?user=u&password=***&sslmode=disable"
        );
        assert_eq!(redact_url("postgres://u:pa/ss@h/db"), "postgres://u:***@h/db");
        assert_eq!(url_without_password("postgres://u:secret@h:5432/db"), "postgres://u@h:5432/db");
        assert_eq!(
            url_without_password("postgres://h/db?password=x&sslmode=disable"),
            "postgres://h/db?sslmode=disable"
        );
        assert_eq!(url_without_password("postgres://h/db?password=x"), "postgres://h/db");
    }
}
