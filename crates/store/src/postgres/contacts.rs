//! Contact checks (`ContactStore`) on PostgreSQL.

use async_trait::async_trait;
use wabiz_domain::ports::{ContactStore, IdentityRecord, StoreResult};

use super::{PgStore, db_err};

#[async_trait]
impl ContactStore for PgStore {
    async fn get_contact(&self, wa_id: &str) -> StoreResult<Option<(String, i64)>> {
        let c = self.client().await?;
        let row =
            c.query_opt("SELECT status, checked_at FROM contacts WHERE wa_id = $1", &[&wa_id]).await.map_err(db_err)?;
        Ok(row.map(|r| (r.get(0), r.get(1))))
    }

    async fn put_contacts(&self, results: Vec<(String, String)>, checked_at: i64) -> StoreResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(db_err)?;
        for (wa_id, status) in &results {
            tx.execute(
                "INSERT INTO contacts (wa_id, status, checked_at) VALUES ($1, $2, $3)
                 ON CONFLICT (wa_id) DO UPDATE SET status = excluded.status, checked_at = excluded.checked_at",
                &[wa_id, status, &checked_at],
            )
            .await
            .map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)
    }

    async fn get_identity(&self, wa_id: &str) -> StoreResult<Option<IdentityRecord>> {
        let c = self.client().await?;
        let row = c
            .query_opt("SELECT wa_id, hash, created_at, acknowledged FROM identities WHERE wa_id = $1", &[&wa_id])
            .await
            .map_err(db_err)?;
        Ok(row.map(|r| IdentityRecord {
            wa_id: r.get(0),
            hash: r.get(1),
            created_at: r.get(2),
            acknowledged: r.get(3),
        }))
    }

    async fn put_identity(&self, i: &IdentityRecord) -> StoreResult<()> {
        let c = self.client().await?;
        c.execute(
            "INSERT INTO identities (wa_id, hash, created_at, acknowledged) VALUES ($1, $2, $3, $4)
             ON CONFLICT (wa_id) DO UPDATE SET hash = excluded.hash, created_at = excluded.created_at,
                 acknowledged = excluded.acknowledged",
            &[&i.wa_id, &i.hash, &i.created_at, &i.acknowledged],
        )
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn acknowledge_identity(&self, wa_id: &str, hash: &str) -> StoreResult<bool> {
        let c = self.client().await?;
        let n = c
            .execute("UPDATE identities SET acknowledged = TRUE WHERE wa_id = $1 AND hash = $2", &[&wa_id, &hash])
            .await
            .map_err(db_err)?;
        Ok(n > 0)
    }
}
