//! Contact checks (`ContactStore`) on SQLite.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};
use wabiz_domain::ports::{ContactStore, IdentityRecord, StoreResult};

use super::SqliteStore;

#[async_trait]
impl ContactStore for SqliteStore {
    async fn get_contact(&self, wa_id: &str) -> StoreResult<Option<(String, i64)>> {
        let wa_id = wa_id.to_owned();
        self.readers
            .read(move |c| {
                c.prepare_cached("SELECT status, checked_at FROM contacts WHERE wa_id = ?1")?
                    .query_row([wa_id], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()
            })
            .await
    }

    async fn put_contacts(&self, results: Vec<(String, String)>, checked_at: i64) -> StoreResult<()> {
        self.writer
            .write(move |c| {
                for (wa_id, status) in &results {
                    c.prepare_cached(
                        "INSERT INTO contacts (wa_id, status, checked_at) VALUES (?1, ?2, ?3)
                         ON CONFLICT(wa_id) DO UPDATE SET status = excluded.status, checked_at = excluded.checked_at",
                    )?
                    .execute(params![wa_id, status, checked_at])?;
                }
                Ok(())
            })
            .await
    }

    async fn get_identity(&self, wa_id: &str) -> StoreResult<Option<IdentityRecord>> {
        let wa_id = wa_id.to_owned();
        self.readers
            .read(move |c| {
                c.prepare_cached("SELECT wa_id, hash, created_at, acknowledged FROM identities WHERE wa_id = ?1")?
                    .query_row([wa_id], |r| {
                        Ok(IdentityRecord {
                            wa_id: r.get(0)?,
                            hash: r.get(1)?,
                            created_at: r.get(2)?,
                            acknowledged: r.get(3)?,
                        })
                    })
                    .optional()
            })
            .await
    }

    async fn put_identity(&self, identity: &IdentityRecord) -> StoreResult<()> {
        let i = identity.clone();
        self.writer
            .write(move |c| {
                c.prepare_cached(
                    "INSERT INTO identities (wa_id, hash, created_at, acknowledged) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT(wa_id) DO UPDATE SET hash = excluded.hash, created_at = excluded.created_at,
                         acknowledged = excluded.acknowledged",
                )?
                .execute(params![i.wa_id, i.hash, i.created_at, i.acknowledged])
                .map(|_| ())
            })
            .await
    }

    async fn acknowledge_identity(&self, wa_id: &str, hash: &str) -> StoreResult<bool> {
        let (wa_id, hash) = (wa_id.to_owned(), hash.to_owned());
        self.writer
            .write(move |c| {
                let n = c
                    .prepare_cached("UPDATE identities SET acknowledged = TRUE WHERE wa_id = ?1 AND hash = ?2")?
                    .execute(params![wa_id, hash])?;
                Ok(n > 0)
            })
            .await
    }
}
