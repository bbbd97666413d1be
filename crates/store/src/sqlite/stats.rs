//! Row counts for the stats (`StatsStore`) on SQLite.

use async_trait::async_trait;
use wabiz_domain::ports::{DbCounts, StatsStore, StoreResult};

use super::SqliteStore;

#[async_trait]
impl StatsStore for SqliteStore {
    async fn db_counts(&self) -> StoreResult<DbCounts> {
        self.readers
            .read(|c| {
                let count = |sql: &str| c.query_row(sql, [], |r| r.get::<_, i64>(0)).map(|n| n.max(0) as u64);
                let mut st = c.prepare("SELECT type, COUNT(*) FROM messages GROUP BY type ORDER BY type")?;
                let messages = st
                    .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?.max(0) as u64)))?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                Ok(DbCounts {
                    messages,
                    // One history line per status.
                    receipts: count(
                        "SELECT COALESCE(SUM(length(history) - length(replace(history, char(10), '')) + 1), 0)
                         FROM messages WHERE history IS NOT NULL",
                    )?,
                    pending_messages: count(
                        "SELECT COUNT(*) FROM messages WHERE direction = 'outbound' AND status = 'accepted'",
                    )?,
                    pending_callbacks: count("SELECT COUNT(*) FROM callbacks")?,
                    whatsapp_contacts: count("SELECT COUNT(*) FROM contacts WHERE status = 'valid'")?,
                    other_contacts: count("SELECT COUNT(*) FROM contacts WHERE status <> 'valid'")?,
                })
            })
            .await
    }
}
