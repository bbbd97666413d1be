//! Message templates (`TemplateStore`) on PostgreSQL.

use async_trait::async_trait;
use wabiz_domain::ports::{StoreResult, TemplateRecord, TemplateStore};

use super::{PgStore, cluster, db_err};

fn template_from_row(r: &tokio_postgres::Row) -> TemplateRecord {
    TemplateRecord {
        namespace: r.get(0),
        name: r.get(1),
        language: r.get(2),
        components: r.get(3),
        created_at: r.get(4),
        category: r.get(5),
        status: r.get(6),
        reason: r.get(7),
    }
}

#[async_trait]
impl TemplateStore for PgStore {
    async fn put_template(&self, t: &TemplateRecord) -> StoreResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(db_err)?;
        tx.execute(
            "INSERT INTO templates (namespace, name, language, components, created_at, category, status, reason)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (namespace, name, language) DO UPDATE SET components = excluded.components,
                 category = excluded.category, status = excluded.status, reason = excluded.reason",
            &[&t.namespace, &t.name, &t.language, &t.components, &t.created_at, &t.category, &t.status, &t.reason],
        )
        .await
        .map_err(db_err)?;
        // The other nodes keep looked-up templates in memory: they forget them.
        tx.execute(cluster::NOTIFY_CONFIG, &[]).await.map_err(db_err)?;
        tx.commit().await.map_err(db_err)
    }

    async fn list_templates(&self) -> StoreResult<Vec<TemplateRecord>> {
        let c = self.client().await?;
        let rows = c
            .query(
                "SELECT namespace, name, language, components, created_at, category, status, reason FROM templates ORDER BY namespace, name, language",
                &[],
            )
            .await
            .map_err(db_err)?;
        Ok(rows.iter().map(template_from_row).collect())
    }

    async fn find_templates(&self, namespace: &str, name: &str) -> StoreResult<Vec<TemplateRecord>> {
        let c = self.client().await?;
        let rows = c
            .query(
                "SELECT namespace, name, language, components, created_at, category, status, reason FROM templates
                 WHERE namespace = $1 AND name = $2 ORDER BY language",
                &[&namespace, &name],
            )
            .await
            .map_err(db_err)?;
        Ok(rows.iter().map(template_from_row).collect())
    }

    async fn delete_templates(&self, namespace: &str, name: &str, language: Option<&str>) -> StoreResult<u64> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(db_err)?;
        let n = tx
            .execute(
                "DELETE FROM templates WHERE namespace = $1 AND name = $2 AND ($3::TEXT IS NULL OR language = $3)",
                &[&namespace, &name, &language],
            )
            .await
            .map_err(db_err)?;
        if n > 0 {
            tx.execute(cluster::NOTIFY_CONFIG, &[]).await.map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok(n)
    }
}
