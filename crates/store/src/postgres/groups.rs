//! Groups on PostgreSQL.

use async_trait::async_trait;
use wabiz_domain::callbacks::NewCallback;
use wabiz_domain::ports::{GroupRecord, GroupStore, StoreResult};

use super::callbacks::insert_callback_rows;
use super::{PgStore, db_err};

fn group_from_row(r: &tokio_postgres::Row) -> GroupRecord {
    GroupRecord {
        id: r.get(0),
        invite_code: r.get(1),
        document: r.get(2),
        icon: r.get(3),
        version: r.get(4),
        created_at: r.get(5),
    }
}

#[async_trait]
impl GroupStore for PgStore {
    async fn insert_group(&self, g: &GroupRecord, callbacks: Vec<NewCallback>) -> StoreResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(db_err)?;
        tx.execute(
            "INSERT INTO groups (id, invite_code, document, icon, version, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
            &[&g.id, &g.invite_code, &g.document, &g.icon, &g.version, &g.created_at],
        )
        .await
        .map_err(db_err)?;
        insert_callback_rows(&tx, &callbacks).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn update_group(&self, g: &GroupRecord, expected: i64, callbacks: Vec<NewCallback>) -> StoreResult<bool> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(db_err)?;
        let changed = tx
            .execute(
                "UPDATE groups SET invite_code = $2, document = $3, icon = $4, version = $5 WHERE id = $1 AND version = $6",
                &[&g.id, &g.invite_code, &g.document, &g.icon, &g.version, &expected],
            )
            .await
            .map_err(db_err)?;
        if changed == 0 {
            return Ok(false);
        }
        insert_callback_rows(&tx, &callbacks).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(true)
    }

    async fn get_group(&self, id: &str) -> StoreResult<Option<GroupRecord>> {
        let c = self.client().await?;
        let row = c
            .query_opt("SELECT id, invite_code, document, icon, version, created_at FROM groups WHERE id = $1", &[&id])
            .await
            .map_err(db_err)?;
        Ok(row.as_ref().map(group_from_row))
    }

    async fn group_by_invite(&self, code: &str) -> StoreResult<Option<GroupRecord>> {
        let c = self.client().await?;
        let row = c
            .query_opt(
                "SELECT id, invite_code, document, icon, version, created_at FROM groups WHERE invite_code = $1",
                &[&code],
            )
            .await
            .map_err(db_err)?;
        Ok(row.as_ref().map(group_from_row))
    }

    async fn list_groups(&self) -> StoreResult<Vec<GroupRecord>> {
        let c = self.client().await?;
        let rows = c
            .query(
                "SELECT id, invite_code, document, NULL::BYTEA, version, created_at FROM groups ORDER BY created_at, id",
                &[],
            )
            .await
            .map_err(db_err)?;
        Ok(rows.iter().map(group_from_row).collect())
    }
}
