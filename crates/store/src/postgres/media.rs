//! Media records (`MediaStore`) on PostgreSQL.

use async_trait::async_trait;
use wabiz_domain::ports::{MediaRecord, MediaStore, StoreResult};

use super::{PgStore, db_err};

pub(super) fn media_from_row(r: &tokio_postgres::Row) -> MediaRecord {
    MediaRecord {
        id: r.get(0),
        mime_type: r.get(1),
        size: r.get::<_, i64>(2).try_into().unwrap_or_default(),
        sha256: r.get(3),
        origin: r.get(4),
        filename: r.get(5),
        created_at: r.get(6),
    }
}

#[async_trait]
impl MediaStore for PgStore {
    async fn insert_media(&self, m: &MediaRecord) -> StoreResult<bool> {
        let c = self.client().await?;
        let size = i64::try_from(m.size).unwrap_or(i64::MAX);
        let n = c
            .execute(
                "INSERT INTO media (id, mime_type, size, sha256, origin, filename, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING",
                &[&m.id, &m.mime_type, &size, &m.sha256, &m.origin, &m.filename, &m.created_at],
            )
            .await
            .map_err(db_err)?;
        Ok(n == 1)
    }

    async fn get_media(&self, id: &str) -> StoreResult<Option<MediaRecord>> {
        let c = self.client().await?;
        let st = c
            .prepare_cached("SELECT id, mime_type, size, sha256, origin, filename, created_at FROM media WHERE id = $1")
            .await
            .map_err(db_err)?;
        Ok(c.query_opt(&st, &[&id]).await.map_err(db_err)?.as_ref().map(media_from_row))
    }

    async fn delete_media(&self, id: &str) -> StoreResult<bool> {
        let c = self.client().await?;
        Ok(c.execute("DELETE FROM media WHERE id = $1", &[&id]).await.map_err(db_err)? == 1)
    }
}
