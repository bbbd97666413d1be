//! Groups on SQLite.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};
use wabiz_domain::callbacks::NewCallback;
use wabiz_domain::ports::{GroupRecord, GroupStore, StoreResult};

use super::SqliteStore;
use super::callbacks::insert_callback_row;

fn group_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<GroupRecord> {
    Ok(GroupRecord {
        id: r.get(0)?,
        invite_code: r.get(1)?,
        document: r.get(2)?,
        icon: r.get(3)?,
        version: r.get(4)?,
        created_at: r.get(5)?,
    })
}

#[async_trait]
impl GroupStore for SqliteStore {
    async fn insert_group(&self, g: &GroupRecord, callbacks: Vec<NewCallback>) -> StoreResult<()> {
        let g = g.clone();
        self.writer
            .write(move |c| {
                c.prepare_cached(
                    "INSERT INTO groups (id, invite_code, document, icon, version, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )?
                .execute(params![g.id, g.invite_code, g.document, g.icon, g.version, g.created_at])?;
                callbacks.iter().try_for_each(|cb| insert_callback_row(c, cb))
            })
            .await
    }

    async fn update_group(&self, g: &GroupRecord, expected: i64, callbacks: Vec<NewCallback>) -> StoreResult<bool> {
        let g = g.clone();
        self.writer
            .write(move |c| {
                let changed = c
                    .prepare_cached(
                        "UPDATE groups SET invite_code = ?2, document = ?3, icon = ?4, version = ?5 WHERE id = ?1 AND version = ?6",
                    )?
                    .execute(params![g.id, g.invite_code, g.document, g.icon, g.version, expected])?;
                if changed == 0 {
                    return Ok(false);
                }
                callbacks.iter().try_for_each(|cb| insert_callback_row(c, cb))?;
                Ok(true)
            })
            .await
    }

    async fn get_group(&self, id: &str) -> StoreResult<Option<GroupRecord>> {
        let id = id.to_owned();
        self.readers
            .read(move |c| {
                c.prepare_cached(
                    "SELECT id, invite_code, document, icon, version, created_at FROM groups WHERE id = ?1",
                )?
                .query_row([id], group_from_row)
                .optional()
            })
            .await
    }

    async fn group_by_invite(&self, code: &str) -> StoreResult<Option<GroupRecord>> {
        let code = code.to_owned();
        self.readers
            .read(move |c| {
                c.prepare_cached(
                    "SELECT id, invite_code, document, icon, version, created_at FROM groups WHERE invite_code = ?1",
                )?
                .query_row([code], group_from_row)
                .optional()
            })
            .await
    }

    async fn list_groups(&self) -> StoreResult<Vec<GroupRecord>> {
        self.readers
            .read(|c| {
                let mut st = c.prepare_cached(
                    "SELECT id, invite_code, document, NULL, version, created_at FROM groups ORDER BY created_at, id",
                )?;
                let rows = st.query_map([], group_from_row)?;
                rows.collect()
            })
            .await
    }
}
