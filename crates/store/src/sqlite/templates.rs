//! Message templates (`TemplateStore`) on SQLite.

use async_trait::async_trait;
use rusqlite::params;
use wabiz_domain::ports::{StoreResult, TemplateRecord, TemplateStore};

use super::SqliteStore;

fn template_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<TemplateRecord> {
    Ok(TemplateRecord {
        namespace: r.get(0)?,
        name: r.get(1)?,
        language: r.get(2)?,
        components: r.get(3)?,
        created_at: r.get(4)?,
        category: r.get(5)?,
        status: r.get(6)?,
        reason: r.get(7)?,
    })
}

#[async_trait]
impl TemplateStore for SqliteStore {
    async fn put_template(&self, t: &TemplateRecord) -> StoreResult<()> {
        let t = t.clone();
        self.writer
            .write(move |c| {
                c.prepare_cached(
                    "INSERT INTO templates (namespace, name, language, components, created_at, category, status, reason)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                     ON CONFLICT(namespace, name, language) DO UPDATE SET components = excluded.components,
                         category = excluded.category, status = excluded.status, reason = excluded.reason",
                )?
                .execute(params![t.namespace, t.name, t.language, t.components, t.created_at, t.category, t.status, t.reason])
                .map(|_| ())
            })
            .await
    }

    async fn list_templates(&self) -> StoreResult<Vec<TemplateRecord>> {
        self.readers
            .read(|c| {
                let mut st = c.prepare_cached(
                    "SELECT namespace, name, language, components, created_at, category, status, reason FROM templates ORDER BY namespace, name, language",
                )?;
                let rows = st.query_map([], template_from_row)?;
                rows.collect()
            })
            .await
    }

    async fn find_templates(&self, namespace: &str, name: &str) -> StoreResult<Vec<TemplateRecord>> {
        let (namespace, name) = (namespace.to_owned(), name.to_owned());
        self.readers
            .read(move |c| {
                let mut st = c.prepare_cached(
                    "SELECT namespace, name, language, components, created_at, category, status, reason FROM templates
                     WHERE namespace = ?1 AND name = ?2 ORDER BY language",
                )?;
                let rows = st.query_map([namespace, name], template_from_row)?;
                rows.collect()
            })
            .await
    }

    async fn delete_templates(&self, namespace: &str, name: &str, language: Option<&str>) -> StoreResult<u64> {
        let (namespace, name, language) = (namespace.to_owned(), name.to_owned(), language.map(str::to_owned));
        self.writer
            .write(move |c| {
                let n = c
                    .prepare_cached(
                        "DELETE FROM templates WHERE namespace = ?1 AND name = ?2 AND (?3 IS NULL OR language = ?3)",
                    )?
                    .execute(params![namespace, name, language])?;
                Ok(n as u64)
            })
            .await
    }
}
