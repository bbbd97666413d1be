//! Pricing conversations (`ConversationStore`) on SQLite.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};
use wabiz_domain::callbacks::Conversation;
use wabiz_domain::messages::PricingCategory;
use wabiz_domain::ports::{ConversationStore, StoreResult};

use super::SqliteStore;

#[async_trait]
impl ConversationStore for SqliteStore {
    async fn open_conversations(
        &self,
        wanted: Vec<(String, PricingCategory)>,
        now: i64,
    ) -> StoreResult<Vec<Conversation>> {
        // Most customers are in an open conversation already; those answer
        // from memory. The rest go through the writer (the only one that
        // opens conversations on this single-node engine, so what is
        // remembered stays true until it expires).
        let (known, missing) = self.conversations.lock().unwrap_or_else(|e| e.into_inner()).split(&wanted, now);
        if missing.is_empty() {
            return Ok(known.into_iter().flatten().collect());
        }
        let opened = self
            .writer
            .write(move |c| {
                let mut out = Vec::with_capacity(missing.len());
                for (peer, category) in &missing {
                    let category = *category;
                    let open: Option<(String, i64)> = c
                        .prepare_cached(
                            "SELECT id, expires_at FROM conversations WHERE peer = ?1 AND category = ?2 AND expires_at > ?3",
                        )?
                        .query_row(params![peer, category.as_str(), now], |r| Ok((r.get(0)?, r.get(1)?)))
                        .optional()?;
                    out.push(match open {
                        Some((id, expires_at)) => Conversation { id, category, expires_at, opened_here: false },
                        None => {
                            let conversation = Conversation::open(category, now);
                            c.prepare_cached(
                                "INSERT INTO conversations (peer, category, id, opened_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)
                                 ON CONFLICT(peer, category) DO UPDATE SET id = excluded.id, opened_at = excluded.opened_at, expires_at = excluded.expires_at",
                            )?
                            .execute(params![peer, category.as_str(), conversation.id, now, conversation.expires_at])?;
                            conversation
                        }
                    });
                }
                Ok(out)
            })
            .await?;
        Ok(self.conversations.lock().unwrap_or_else(|e| e.into_inner()).merge(&wanted, known, opened))
    }
}
