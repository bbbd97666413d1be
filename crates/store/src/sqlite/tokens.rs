//! API tokens (`TokenStore`) on SQLite.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};
use wabiz_domain::ports::{StoreResult, TokenRecord, TokenStore};

use super::SqliteStore;

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
