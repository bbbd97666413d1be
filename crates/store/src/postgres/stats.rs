//! Row counts for the stats (`StatsStore`) on PostgreSQL.

use async_trait::async_trait;
use wabiz_domain::ports::{DbCounts, StatsStore, StoreResult};

use super::{PgStore, db_err};

#[async_trait]
impl StatsStore for PgStore {
    async fn db_counts(&self) -> StoreResult<DbCounts> {
        let c = self.client().await?;
        let count = |row: tokio_postgres::Row| u64::try_from(row.get::<_, i64>(0)).unwrap_or(0);
        let messages = c
            .query("SELECT type, COUNT(*) FROM messages GROUP BY type ORDER BY type", &[])
            .await
            .map_err(db_err)?
            .iter()
            .map(|r| (r.get::<_, String>(0), u64::try_from(r.get::<_, i64>(1)).unwrap_or(0)))
            .collect();
        let one = |sql: &'static str| {
            let c = &c;
            async move { c.query_one(sql, &[]).await.map(count).map_err(db_err) }
        };
        Ok(DbCounts {
            messages,
            receipts: one("SELECT COUNT(*) FROM message_statuses").await?,
            pending_messages: one("SELECT COUNT(*) FROM messages WHERE direction = 'outbound' AND status = 'accepted'")
                .await?,
            pending_callbacks: one("SELECT COUNT(*) FROM callbacks").await?,
            whatsapp_contacts: one("SELECT COUNT(*) FROM contacts WHERE status = 'valid'").await?,
            other_contacts: one("SELECT COUNT(*) FROM contacts WHERE status <> 'valid'").await?,
        })
    }
}
