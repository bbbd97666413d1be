//! Key-value metadata (`MetaStore`) on SQLite.

use async_trait::async_trait;
use rusqlite::OptionalExtension;
use wabiz_domain::ports::{MetaStore, StoreResult};

use super::SqliteStore;

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
