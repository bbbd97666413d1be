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
    fn find(&self, peer: &str, category: PricingCategory, now: i64) -> Option<Conversation> {
        let c = self.by_peer.get(peer)?.iter().find(|c| c.category == category && c.is_open_at(now))?;
        Some(c.joined())
    }

    fn remember(&mut self, peer: &str, c: &Conversation) {
        if self.by_peer.len() >= REMEMBERED_PEERS && !self.by_peer.contains_key(peer) {
            self.by_peer.clear();
        }
        let known = self.by_peer.entry(peer.to_owned()).or_default();
        known.retain(|k| k.category != c.category);
        known.push(c.clone());
    }

    /// For each pair wanted, the open conversation remembered, if any; and
    /// the pairs that must be looked up.
    pub(crate) fn split(
        &self,
        wanted: &[(String, PricingCategory)],
        now: i64,
    ) -> (Vec<Option<Conversation>>, Vec<(String, PricingCategory)>) {
        let known: Vec<Option<Conversation>> =
            wanted.iter().map(|(peer, category)| self.find(peer, *category, now)).collect();
        let missing = wanted.iter().zip(&known).filter(|(_, k)| k.is_none()).map(|(w, _)| w.clone()).collect();
        (known, missing)
    }

    /// The answer in the order wanted: what was remembered, and the looked-up
    /// ones (`opened`, in the order of the missing pairs), remembered now.
    pub(crate) fn merge(
        &mut self,
        wanted: &[(String, PricingCategory)],
        known: Vec<Option<Conversation>>,
        opened: Vec<Conversation>,
    ) -> Vec<Conversation> {
        let mut opened = opened.into_iter();
        let mut out = Vec::with_capacity(wanted.len());
        for ((peer, _), k) in wanted.iter().zip(known) {
            match k {
                Some(c) => out.push(c),
                None => {
                    let Some(c) = opened.next() else { break };
                    self.remember(peer, &c);
                    out.push(c);
                }
            }
        }
        out
    }
}
