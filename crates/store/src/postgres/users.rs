//! Users (`UserStore`) on PostgreSQL.

use async_trait::async_trait;
use wabiz_domain::ports::{StoreResult, UserRecord, UserStore};
use wabiz_domain::users::Role;

use super::{PgStore, cluster, db_err};

fn user_from_row(r: &tokio_postgres::Row) -> UserRecord {
    let role: String = r.get(2);
    UserRecord {
        username: r.get(0),
        password_hash: r.get(1),
        role: Role::parse(&role).unwrap_or(Role::Api),
        password_is_default: r.get(3),
        created_at: r.get(4),
    }
}

#[async_trait]
impl UserStore for PgStore {
    async fn insert_user(&self, u: &UserRecord) -> StoreResult<bool> {
        let c = self.client().await?;
        let n = c
            .execute(
                "INSERT INTO users (username, password_hash, role, password_is_default, created_at)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (username) DO NOTHING",
                &[&u.username, &u.password_hash, &u.role.as_str(), &u.password_is_default, &u.created_at],
            )
            .await
            .map_err(db_err)?;
        Ok(n == 1)
    }

    async fn get_user(&self, username: &str) -> StoreResult<Option<UserRecord>> {
        let c = self.client().await?;
        let st = c
            .prepare_cached(
                "SELECT username, password_hash, role, password_is_default, created_at FROM users WHERE username = $1",
            )
            .await
            .map_err(db_err)?;
        Ok(c.query_opt(&st, &[&username]).await.map_err(db_err)?.as_ref().map(user_from_row))
    }

    async fn list_users(&self) -> StoreResult<Vec<UserRecord>> {
        let c = self.client().await?;
        let rows = c
            .query(
                "SELECT username, password_hash, role, password_is_default, created_at FROM users ORDER BY username",
                &[],
            )
            .await
            .map_err(db_err)?;
        Ok(rows.iter().map(user_from_row).collect())
    }

    async fn set_password(&self, username: &str, hash: &str, is_default: bool) -> StoreResult<bool> {
        let c = self.client().await?;
        let n = c
            .execute(
                "UPDATE users SET password_hash = $2, password_is_default = $3 WHERE username = $1",
                &[&username, &hash, &is_default],
            )
            .await
            .map_err(db_err)?;
        Ok(n == 1)
    }

    async fn delete_user(&self, username: &str) -> StoreResult<bool> {
        let c = self.client().await?;
        // Tokens go with the user (ON DELETE CASCADE), in the same statement;
        // the other nodes of a deployment drop their cached tokens.
        cluster::delete_revoking_tokens(&c, "DELETE FROM users WHERE username = $1", username).await
    }
}
