//! Pricing conversations (`ConversationStore`) on PostgreSQL.

use async_trait::async_trait;
use wabiz_domain::callbacks::Conversation;
use wabiz_domain::messages::PricingCategory;
use wabiz_domain::ports::{ConversationStore, StoreResult};

use super::{PgStore, db_err};

#[async_trait]
impl ConversationStore for PgStore {
    async fn open_conversations(
        &self,
        wanted: Vec<(String, PricingCategory)>,
        now: i64,
    ) -> StoreResult<Vec<Conversation>> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(db_err)?;
        let mut out = Vec::with_capacity(wanted.len());
        for (peer, category) in wanted {
            // Opening is one upsert that keeps a conversation still open, so two
            // nodes opening at once agree on the id.
            let fresh = Conversation::open(category, now);
            let row = tx
                .query_one(
                    "INSERT INTO conversations (peer, category, id, opened_at, expires_at) VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (peer, category) DO UPDATE SET
                        id = CASE WHEN conversations.expires_at > $4 THEN conversations.id ELSE excluded.id END,
                        opened_at = CASE WHEN conversations.expires_at > $4 THEN conversations.opened_at ELSE excluded.opened_at END,
                        expires_at = CASE WHEN conversations.expires_at > $4 THEN conversations.expires_at ELSE excluded.expires_at END
                     RETURNING id, expires_at",
                    &[&peer, &category.as_str(), &fresh.id, &now, &fresh.expires_at],
                )
                .await
                .map_err(db_err)?;
            let id: String = row.get(0);
            if id == fresh.id {
                out.push(fresh);
            } else {
                out.push(Conversation { id, category, expires_at: row.get(1), opened_here: false });
            }
        }
        tx.commit().await.map_err(db_err)?;
        Ok(out)
    }
}
