//! Pricing conversations (`ConversationStore`) on PostgreSQL.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use wabiz_domain::callbacks::Conversation;
use wabiz_domain::messages::PricingCategory;
use wabiz_domain::ports::{ConversationStore, StoreError, StoreResult};

use super::{PgStore, db_err};

#[async_trait]
impl ConversationStore for PgStore {
    async fn open_conversations(
        &self,
        wanted: Vec<(String, PricingCategory)>,
        now: i64,
    ) -> StoreResult<Vec<Conversation>> {
        // Most customers are in an open conversation already; those answer
        // from memory (true on every node until it expires, see
        // `OpenConversations`). The rest are opened or found in the database.
        let (known, missing) = self.conversations.lock().unwrap_or_else(|e| e.into_inner()).split(&wanted, now);
        if missing.is_empty() {
            return Ok(known.into_iter().flatten().collect());
        }
        let opened = self.upsert_conversations(&missing, now).await?;
        Ok(self.conversations.lock().unwrap_or_else(|e| e.into_inner()).merge(&wanted, known, opened))
    }
}

impl PgStore {
    /// The conversation of each pair, opened where none is open, in one
    /// statement.
    async fn upsert_conversations(
        &self,
        wanted: &[(String, PricingCategory)],
        now: i64,
    ) -> StoreResult<Vec<Conversation>> {
        // One upsert for all: a conversation still open is kept, so two nodes
        // opening at once agree on the id. A pair asked for twice is one row
        // (an upsert may not touch a row twice).
        let mut fresh: HashMap<(&str, PricingCategory), Conversation> = HashMap::with_capacity(wanted.len());
        for (peer, category) in wanted {
            fresh.entry((peer.as_str(), *category)).or_insert_with(|| Conversation::open(*category, now));
        }
        let peers: Vec<&str> = fresh.keys().map(|(p, _)| *p).collect();
        let categories: Vec<&str> = fresh.keys().map(|(_, c)| c.as_str()).collect();
        let ids: Vec<&str> = fresh.values().map(|c| c.id.as_str()).collect();
        let expiries: Vec<i64> = fresh.values().map(|c| c.expires_at).collect();
        let c = self.client().await?;
        let rows = c
            .query(
                "INSERT INTO conversations (peer, category, id, opened_at, expires_at)
                 SELECT peer, category, id, $5, expires_at
                 FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) AS w(peer, category, id, expires_at)
                 ON CONFLICT (peer, category) DO UPDATE SET
                    id = CASE WHEN conversations.expires_at > $5 THEN conversations.id ELSE excluded.id END,
                    opened_at = CASE WHEN conversations.expires_at > $5 THEN conversations.opened_at ELSE excluded.opened_at END,
                    expires_at = CASE WHEN conversations.expires_at > $5 THEN conversations.expires_at ELSE excluded.expires_at END
                 RETURNING peer, category, id, expires_at",
                &[&peers, &categories, &ids, &expiries, &now],
            )
            .await
            .map_err(db_err)?;
        let mut current: HashMap<(String, String), (String, i64)> = HashMap::with_capacity(rows.len());
        for r in &rows {
            current.insert((r.get(0), r.get(1)), (r.get(2), r.get(3)));
        }
        // Only the first message of a pair opens its new conversation; any
        // later one in the same call is in it.
        let mut handed_out: HashSet<(&str, PricingCategory)> = HashSet::with_capacity(fresh.len());
        wanted
            .iter()
            .map(|(peer, category)| {
                let key = (peer.clone(), category.as_str().to_owned());
                let Some((id, expires_at)) = current.get(&key) else {
                    return Err(StoreError::Other(format!("no conversation came back for {peer}")));
                };
                let first = handed_out.insert((peer.as_str(), *category));
                match fresh.get(&(peer.as_str(), *category)) {
                    Some(opened) if first && opened.id == *id => Ok(opened.clone()),
                    _ => Ok(Conversation {
                        id: id.clone(),
                        category: *category,
                        expires_at: *expires_at,
                        opened_here: false,
                    }),
                }
            })
            .collect()
    }
}
