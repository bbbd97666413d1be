//! Settings and blobs (`SettingsStore`) on PostgreSQL.

use async_trait::async_trait;
use wabiz_domain::ports::{SettingWrite, SettingsStore, StoreResult};

use super::{PgStore, cluster, db_err};

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
