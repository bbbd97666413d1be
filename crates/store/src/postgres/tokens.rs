//! API tokens (`TokenStore`) on PostgreSQL.

use async_trait::async_trait;
use wabiz_domain::ports::{StoreResult, TokenRecord, TokenStore};

use super::{PgStore, cluster, db_err};

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
