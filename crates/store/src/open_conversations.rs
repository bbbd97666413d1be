//! Conversations known to be open, kept in memory by both engines.

use std::collections::HashMap;

use wabiz_domain::callbacks::Conversation;
use wabiz_domain::messages::PricingCategory;

/// Open conversations remembered by customer, so that the receipts of a
/// customer in one do not need to write (issue 7). What is remembered stays
/// true until it expires, on every node: opening keeps a conversation that
/// is still open, so nobody replaces it before then. Bounded: when full, it
/// starts over.
#[derive(Default)]
pub(crate) struct OpenConversations {
    by_peer: HashMap<String, Vec<Conversation>>,
}

/// Customers remembered at most.
const REMEMBERED_PEERS: usize = 100_000;

impl OpenConversations {
    pub(crate) fn find(&self, peer: &str, category: PricingCategory, now: i64) -> Option<Conversation> {
        let c = self.by_peer.get(peer)?.iter().find(|c| c.category == category && c.is_open_at(now))?;
        Some(c.joined())
    }

    pub(crate) fn remember(&mut self, peer: &str, c: &Conversation) {
        if self.by_peer.len() >= REMEMBERED_PEERS && !self.by_peer.contains_key(peer) {
            self.by_peer.clear();
        }
        let known = self.by_peer.entry(peer.to_owned()).or_default();
        known.retain(|k| k.category != c.category);
        known.push(c.clone());
    }
}
