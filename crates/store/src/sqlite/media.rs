//! Media records (`MediaStore`) on SQLite.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};
use wabiz_domain::ports::{MediaRecord, MediaStore, StoreResult};

use super::SqliteStore;

pub(super) fn media_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<MediaRecord> {
    Ok(MediaRecord {
        id: r.get(0)?,
        mime_type: r.get(1)?,
        size: r.get::<_, i64>(2)?.try_into().unwrap_or_default(),
        sha256: r.get(3)?,
        origin: r.get(4)?,
        filename: r.get(5)?,
        created_at: r.get(6)?,
    })
}

#[async_trait]
impl MediaStore for SqliteStore {
    async fn insert_media(&self, m: &MediaRecord) -> StoreResult<bool> {
        let m = m.clone();
        self.writer
            .write(move |c| {
                let size = i64::try_from(m.size).unwrap_or(i64::MAX);
                let n = c
                    .prepare_cached(
                        "INSERT INTO media (id, mime_type, size, sha256, origin, filename, created_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(id) DO NOTHING",
                    )?
                    .execute(params![m.id, m.mime_type, size, m.sha256, m.origin, m.filename, m.created_at])?;
                Ok(n == 1)
            })
            .await
    }

    async fn get_media(&self, id: &str) -> StoreResult<Option<MediaRecord>> {
        let id = id.to_owned();
        self.readers
            .read(move |c| {
                c.prepare_cached(
                    "SELECT id, mime_type, size, sha256, origin, filename, created_at FROM media WHERE id = ?1",
                )?
                .query_row([id], media_from_row)
                .optional()
            })
            .await
    }

    async fn delete_media(&self, id: &str) -> StoreResult<bool> {
        let id = id.to_owned();
        self.writer.write(move |c| Ok(c.prepare_cached("DELETE FROM media WHERE id = ?1")?.execute([&id])? == 1)).await
    }
}
