//! Key-value metadata (`MetaStore`) on PostgreSQL.

use async_trait::async_trait;
use wabiz_domain::ports::{MetaStore, StoreResult};

use super::{PgStore, cluster, db_err};

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
