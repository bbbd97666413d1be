//! A fresh PostgreSQL database for one run: created from a maintenance
//! connection before the servers start, dropped after they stopped.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::{Context, Result, bail};

/// A database of the bench's own on the PostgreSQL server.
pub struct FreshDatabase {
    admin_url: String,
    name: String,
    /// The URL the servers get (`--database`).
    pub url: String,
}

/// Connects and runs the connection's task in the background.
pub async fn connect(url: &str) -> Result<tokio_postgres::Client> {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .with_context(|| format!("cannot connect to PostgreSQL at {url}"))?;
    tokio::spawn(async move {
        if let Err(e) = conn.await {
            eprintln!("PostgreSQL connection ended: {e}");
        }
    });
    Ok(client)
}

/// `url` with its database name replaced by `name` (the query, if any, kept).
fn with_database(url: &str, name: &str) -> Result<String> {
    let Some(after_scheme) = url.find("://").map(|i| i + 3) else { bail!("not a URL: {url}") };
    let (head, rest) = url.split_at(after_scheme);
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let query = rest[authority_end..].find('?').map_or("", |q| &rest[authority_end + q..]);
    Ok(format!("{head}{}/{name}{query}", &rest[..authority_end]))
}

impl FreshDatabase {
    /// Creates `wabiz_bench_<pid>_<time>` through `admin_url` (any database
    /// the user may connect to).
    pub async fn create(admin_url: &str) -> Result<FreshDatabase> {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let name = format!("wabiz_bench_{}_{}", std::process::id(), nanos % 1_000_000_000);
        let admin = connect(admin_url).await?;
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .with_context(|| format!("CREATE DATABASE {name}"))?;
        Ok(FreshDatabase { admin_url: admin_url.to_owned(), url: with_database(admin_url, &name)?, name })
    }

    /// CPU time of each PostgreSQL backend now connected to this database
    /// (the server runs on this machine; its shared processes, such as the
    /// WAL writer, are not counted).
    pub async fn backends_cpu(&self) -> Result<HashMap<u32, Duration>> {
        let admin = connect(&self.admin_url).await?;
        let rows = admin.query("SELECT pid FROM pg_stat_activity WHERE datname = $1", &[&self.name]).await?;
        Ok(rows
            .iter()
            .filter_map(|r| u32::try_from(r.get::<_, i32>(0)).ok())
            .filter_map(|pid| Some((pid, crate::server::process_cpu(pid)?)))
            .collect())
    }

    /// Drops the database (the servers must have stopped; `FORCE` ends any
    /// connection a killed server left behind).
    pub async fn drop_database(self) -> Result<()> {
        let admin = connect(&self.admin_url).await?;
        admin.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)).await?;
        Ok(())
    }
}

/// The CPU the backends used between two [`FreshDatabase::backends_cpu`]
/// snapshots: a backend that is new in `after` counts whole.
pub fn backends_used(before: &HashMap<u32, Duration>, after: &HashMap<u32, Duration>) -> Duration {
    after.iter().map(|(pid, t)| t.saturating_sub(before.get(pid).copied().unwrap_or_default())).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backends_cpu_counts_what_each_used_between_the_snapshots() {
        let ms = Duration::from_millis;
        let before = HashMap::from([(1, ms(100)), (2, ms(50))]);
        let after = HashMap::from([(1, ms(150)), (3, ms(20))]);
        assert_eq!(backends_used(&before, &after), ms(70), "backend 2 left; backend 3 is new");
    }

    #[test]
    fn the_database_name_is_replaced() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/test", "b").unwrap(),
            "postgres://postgres@127.0.0.1:5432/b"
        );
        assert_eq!(
            with_database("postgres://u@h/test?sslmode=disable", "b").unwrap(),
            "postgres://u@h/b?sslmode=disable"
        );
        assert_eq!(with_database("postgres://u@h:1", "b").unwrap(), "postgres://u@h:1/b");
        assert!(with_database("nowhere", "b").is_err());
    }

    /// A database is created and dropped again. Needs PostgreSQL
    /// (`WABIZ_TEST_PG_URL`); without it the test says so.
    #[cfg_attr(not(wabiz_test_pg), ignore = "needs PostgreSQL: set WABIZ_TEST_PG_URL")]
    #[tokio::test]
    async fn a_fresh_database_comes_and_goes() {
        let admin = crate::fixture::tests::pg_url("a_fresh_database_comes_and_goes");
        let db = FreshDatabase::create(&admin).await.unwrap();
        let c = connect(&db.url).await.unwrap();
        assert_eq!(c.query_one("SELECT current_database()", &[]).await.unwrap().get::<_, String>(0), db.name);
        drop(c);
        let name = db.name.clone();
        db.drop_database().await.unwrap();
        let admin = connect(&admin).await.unwrap();
        let left = admin.query("SELECT 1 FROM pg_database WHERE datname = $1", &[&name]).await.unwrap();
        assert!(left.is_empty(), "{name} is still there");
    }
}
