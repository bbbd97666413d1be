//! Garbage collection on SQLite.

use async_trait::async_trait;
use rusqlite::params;
use wabiz_domain::ports::{GcStore, MediaRecord, StoreResult};

use super::SqliteStore;
use super::media::media_from_row;

/// The messages collection may delete (`GcStore::collect_messages`).
pub(super) const ELIGIBLE: &str = "SELECT m.id FROM messages m
    WHERE ((m.direction = 'outbound'
            AND ((m.status IN ('read', 'failed') AND (?3 OR m.created_at < ?1))
                 OR (m.status = 'delivered' AND m.created_at < ?1)))
           OR (m.direction = 'inbound' AND m.created_at < ?1))
      AND NOT EXISTS (SELECT 1 FROM callbacks c WHERE c.subject = m.id)
    LIMIT ?2";

#[async_trait]
impl GcStore for SqliteStore {
    async fn touch_media(&self, ids: Vec<String>, at: i64) -> StoreResult<()> {
        self.writer
            .write(move |c| {
                let mut st = c.prepare_cached("UPDATE media SET last_used_at = ?2 WHERE id = ?1")?;
                for id in &ids {
                    st.execute(params![id, at])?;
                }
                Ok(())
            })
            .await
    }

    async fn collect_messages(&self, before: i64, settled_any_age: bool, limit: usize) -> StoreResult<u64> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.writer
            .write(move |c| {
                let n = c
                    .prepare_cached(&format!("DELETE FROM messages WHERE id IN ({ELIGIBLE})"))?
                    .execute(params![before, limit, settled_any_age])?;
                Ok(n as u64)
            })
            .await
    }

    async fn media_unused_since(&self, before: i64, limit: usize) -> StoreResult<Vec<MediaRecord>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.readers
            .read(move |c| {
                let mut st = c.prepare_cached(
                    "SELECT id, mime_type, size, sha256, origin, filename, created_at FROM media
                     WHERE COALESCE(last_used_at, created_at) < ?1 ORDER BY created_at LIMIT ?2",
                )?;
                let rows = st.query_map(params![before, limit], media_from_row)?;
                rows.collect()
            })
            .await
    }
}
