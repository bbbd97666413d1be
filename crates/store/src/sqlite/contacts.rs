//! Contact checks (`ContactStore`) on SQLite.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};
use wabiz_domain::ports::{ContactStore, StoreResult};

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
}
