//! Users (`UserStore`) on SQLite.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};
use wabiz_domain::ports::{StoreResult, UserRecord, UserStore};
use wabiz_domain::users::Role;

use super::SqliteStore;

fn user_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<UserRecord> {
    let role: String = r.get(2)?;
    Ok(UserRecord {
        username: r.get(0)?,
        password_hash: r.get(1)?,
        // An unknown role string can only come from a hand-edited row: grant least.
        role: Role::parse(&role).unwrap_or(Role::Api),
        password_is_default: r.get(3)?,
        created_at: r.get(4)?,
    })
}

#[async_trait]
impl UserStore for SqliteStore {
    async fn insert_user(&self, u: &UserRecord) -> StoreResult<bool> {
        let u = u.clone();
        self.writer
            .write(move |c| {
                let n = c
                    .prepare_cached(
                        "INSERT INTO users (username, password_hash, role, password_is_default, created_at)
                         VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(username) DO NOTHING",
                    )?
                    .execute(params![
                        u.username,
                        u.password_hash,
                        u.role.as_str(),
                        u.password_is_default,
                        u.created_at
                    ])?;
                Ok(n == 1)
            })
            .await
    }

    async fn get_user(&self, username: &str) -> StoreResult<Option<UserRecord>> {
        let username = username.to_owned();
        self.readers
            .read(move |c| {
                c.prepare_cached(
                    "SELECT username, password_hash, role, password_is_default, created_at FROM users WHERE username = ?1",
                )?
                .query_row([username], user_from_row)
                .optional()
            })
            .await
    }

    async fn list_users(&self) -> StoreResult<Vec<UserRecord>> {
        self.readers
            .read(|c| {
                c.prepare_cached(
                    "SELECT username, password_hash, role, password_is_default, created_at FROM users ORDER BY username",
                )?
                .query_map([], user_from_row)?
                .collect()
            })
            .await
    }

    async fn set_password(&self, username: &str, hash: &str, is_default: bool) -> StoreResult<bool> {
        let (username, hash) = (username.to_owned(), hash.to_owned());
        self.writer
            .write(move |c| {
                let n = c
                    .prepare_cached(
                        "UPDATE users SET password_hash = ?2, password_is_default = ?3 WHERE username = ?1",
                    )?
                    .execute(params![username, hash, is_default])?;
                Ok(n == 1)
            })
            .await
    }

    async fn delete_user(&self, username: &str) -> StoreResult<bool> {
        let username = username.to_owned();
        self.writer
            .write(move |c| {
                // Tokens go with the user (ON DELETE CASCADE).
                let n = c.prepare_cached("DELETE FROM users WHERE username = ?1")?.execute([&username])?;
                Ok(n == 1)
            })
            .await
    }
}
