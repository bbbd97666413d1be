//! Settings and blobs (`SettingsStore`) on SQLite.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};
use wabiz_domain::ports::{SettingWrite, SettingsStore, StoreResult};

use super::SqliteStore;

#[async_trait]
impl SettingsStore for SqliteStore {
    async fn get_setting(&self, name: &str) -> StoreResult<Option<String>> {
        let name = name.to_owned();
        self.readers
            .read(move |c| {
                c.prepare_cached("SELECT value FROM settings WHERE name = ?1")?
                    .query_row([name], |r| r.get(0))
                    .optional()
            })
            .await
    }

    async fn get_blob(&self, name: &str) -> StoreResult<Option<Vec<u8>>> {
        let name = name.to_owned();
        self.readers
            .read(move |c| {
                c.prepare_cached("SELECT data FROM blobs WHERE name = ?1")?.query_row([name], |r| r.get(0)).optional()
            })
            .await
    }

    async fn write_settings(&self, writes: Vec<SettingWrite>, now: i64) -> StoreResult<()> {
        // One write job: all of it commits, or (on any error) none of it.
        self.writer
            .write(move |c| {
                for w in &writes {
                    match w {
                        SettingWrite::Put { name, value } => c
                            .prepare_cached(
                                "INSERT INTO settings (name, value, updated_at) VALUES (?1, ?2, ?3)
                                 ON CONFLICT(name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                            )?
                            .execute(params![name, value, now])?,
                        SettingWrite::Delete { name } => {
                            c.prepare_cached("DELETE FROM settings WHERE name = ?1")?.execute([name])?
                        }
                        SettingWrite::PutBlob { name, data } => c
                            .prepare_cached(
                                "INSERT INTO blobs (name, data, updated_at) VALUES (?1, ?2, ?3)
                                 ON CONFLICT(name) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at",
                            )?
                            .execute(params![name, data, now])?,
                        SettingWrite::DeleteBlob { name } => {
                            c.prepare_cached("DELETE FROM blobs WHERE name = ?1")?.execute([name])?
                        }
                        SettingWrite::PutMeta { key, value } => c
                            .prepare_cached(
                                "INSERT INTO meta (key, value) VALUES (?1, ?2)
                                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                            )?
                            .execute([key, value])?,
                    };
                }
                Ok(())
            })
            .await
    }
}
