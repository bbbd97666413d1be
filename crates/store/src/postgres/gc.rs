//! Garbage collection on PostgreSQL.

use async_trait::async_trait;
use wabiz_domain::ports::{GcStore, MediaRecord, StoreResult};

use super::media::media_from_row;
use super::{PgStore, db_err};

/// Deletes up to `$2` settled messages older than `$1` (any age when `$3`)
/// that no waiting callback still needs. The pick is an `ARRAY(…)`,
/// evaluated once before the delete, for the reason `claim_statement` gives.
pub(super) const COLLECT_MESSAGES: &str = "DELETE FROM messages WHERE id = ANY(ARRAY(
        SELECT m.id FROM messages m
        WHERE ((m.direction = 'outbound'
                AND ((m.status IN ('read', 'failed') AND ($3 OR m.created_at < $1))
                     OR (m.status = 'delivered' AND m.created_at < $1)))
               OR (m.direction = 'inbound' AND m.created_at < $1))
          AND NOT EXISTS (SELECT 1 FROM callbacks c WHERE c.subject = m.id)
        LIMIT $2))";

#[async_trait]
impl GcStore for PgStore {
    async fn touch_media(&self, ids: Vec<String>, at: i64) -> StoreResult<()> {
        let c = self.client().await?;
        c.execute("UPDATE media SET last_used_at = $2 WHERE id = ANY($1)", &[&ids, &at]).await.map_err(db_err)?;
        Ok(())
    }

    async fn collect_messages(&self, before: i64, settled_any_age: bool, limit: usize) -> StoreResult<u64> {
        let c = self.client().await?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        c.execute(COLLECT_MESSAGES, &[&before, &limit, &settled_any_age]).await.map_err(db_err)
    }

    async fn media_unused_since(&self, before: i64, limit: usize) -> StoreResult<Vec<MediaRecord>> {
        let c = self.client().await?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = c
            .query(
                "SELECT id, mime_type, size, sha256, origin, filename, created_at FROM media
                 WHERE COALESCE(last_used_at, created_at) < $1 ORDER BY created_at LIMIT $2",
                &[&before, &limit],
            )
            .await
            .map_err(db_err)?;
        Ok(rows.iter().map(media_from_row).collect())
    }
}
