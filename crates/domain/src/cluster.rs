//! What a multiconnect deployment keeps in its database (`multiconnect.md` §3,
//! §6): the nodes and their heartbeats, the master lease, the shard map, and
//! the scoped message queue a shard owner works on. Only the PostgreSQL
//! engine implements [`ClusterStore`]; the cluster crate drives it.

use async_trait::async_trait;
use tokio::sync::mpsc;

use crate::ports::{DueMessage, StoreResult, Transition};

/// The control shard (`multiconnect.md` §3.3).
pub const CONTROL_SHARD: i32 = -1;

/// Where `POST /v1/account/shards` keeps the count (the `meta` table).
pub const SHARDS_META: &str = "account.shards";

/// The shard counts `POST /v1/account/shards` accepts.
pub const SHARD_COUNTS: [u32; 6] = [1, 2, 4, 8, 16, 32];

/// The shard of an outbound message: CRC-32 (IEEE) of the recipient's digits,
/// modulo the shard count (`multiconnect.md` §4, with the Recommended
/// normalisation so that `+1 (631) 555-1234` and `16315551234` agree).
pub fn route_hash(to: &str) -> u32 {
    let mut h = crc32fast::Hasher::new();
    let mut any_digit = false;
    for b in to.bytes().filter(u8::is_ascii_digit) {
        h.update(&[b]);
        any_digit = true;
    }
    // A group id or other non-numeric recipient hashes as written.
    if !any_digit {
        h.update(to.as_bytes());
    }
    h.finalize()
}

pub fn shard_of(to: &str, count: u32) -> u32 {
    route_hash(to) % count.max(1)
}

/// What a node may do in the deployment (`--role`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeRole {
    /// Competes for the master lease and may also own a shard.
    All,
    /// Competes for the master lease only.
    Master,
    /// Owns a shard when the primary master gives it one.
    Coreapp,
    /// Serves the API only: not a member of the cluster table.
    Webapp,
}

impl NodeRole {
    pub fn as_str(self) -> &'static str {
        match self {
            NodeRole::All => "all",
            NodeRole::Master => "master",
            NodeRole::Coreapp => "coreapp",
            NodeRole::Webapp => "webapp",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "all" => Some(NodeRole::All),
            "master" => Some(NodeRole::Master),
            "coreapp" => Some(NodeRole::Coreapp),
            "webapp" => Some(NodeRole::Webapp),
            _ => None,
        }
    }

    pub fn can_master(self) -> bool {
        matches!(self, NodeRole::All | NodeRole::Master)
    }

    pub fn can_own_shard(self) -> bool {
        matches!(self, NodeRole::All | NodeRole::Coreapp)
    }
}

/// A node as the `cluster_nodes` table knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeRow {
    pub node_id: String,
    pub role: NodeRole,
    /// Milliseconds since its last heartbeat, by the database's clock.
    pub silent_ms: i64,
    /// Unix milliseconds (database clock) when it registered.
    pub started_at_ms: i64,
    /// What the node last published about itself (JSON: support fields, stats).
    pub snapshot: String,
}

/// The master lease (`multiconnect.md` §3.2 step 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub holder: String,
    /// Increases each time the lease changes hands: the fencing token.
    pub epoch: i64,
    /// Whether it has not expired yet (database clock).
    pub live: bool,
}

/// One row of the shard map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardOwner {
    pub shard: i32,
    pub node_id: Option<String>,
    /// Increases at every change of owner or shard count: the fencing token.
    pub epoch: i64,
}

/// The shards a node works on, as it last read them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShardScope {
    pub node_id: String,
    /// The deployment's shard count.
    pub count: u32,
    /// The message shards owned (`0..count`) with their epochs; the control
    /// shard is not a message shard.
    pub owned: Vec<(i32, i64)>,
}

impl ShardScope {
    pub fn message_shards(&self) -> Vec<i32> {
        self.owned.iter().map(|(s, _)| *s).filter(|s| *s >= 0).collect()
    }
}

/// A change of the shard map, applied only while the lease is still held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardChange {
    pub shard: i32,
    pub node_id: Option<String>,
}

/// A notification between nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// Settings, registration or the shard count changed: reload them.
    Config,
    /// The shard map changed: read it again.
    Shards,
    /// A token was revoked (logout, deleted user): drop the cached ones.
    Tokens,
}

#[async_trait]
pub trait ClusterStore: Send + Sync {
    /// Adds (or refreshes) this node's row.
    async fn register_node(&self, node_id: &str, role: NodeRole, snapshot: &str) -> StoreResult<()>;
    /// Records a heartbeat and what the node publishes about itself; `false`
    /// when the row is gone (pruned while the node was silent).
    async fn heartbeat(&self, node_id: &str, snapshot: &str) -> StoreResult<bool>;
    /// Removes the row of a node stopping cleanly.
    async fn deregister_node(&self, node_id: &str) -> StoreResult<()>;
    /// Every node, with its silence measured by the database clock.
    async fn nodes(&self) -> StoreResult<Vec<NodeRow>>;
    /// Forgets nodes silent longer than `silent_ms` that own no shard.
    async fn prune_nodes(&self, silent_ms: i64) -> StoreResult<u64>;

    /// Frees the callbacks a failed node had claimed, so that the nodes
    /// still delivering take them now instead of when the claims expire.
    async fn release_claims_of(&self, node_id: &str) -> StoreResult<u64>;

    /// Takes or renews the master lease for `ttl_ms` when `node_id` holds it
    /// or it has expired (one compare-and-set); returns the lease as it is now.
    async fn acquire_lease(&self, node_id: &str, ttl_ms: i64) -> StoreResult<Lease>;
    /// The lease as it is, if anyone ever took it.
    async fn lease(&self) -> StoreResult<Option<Lease>>;
    /// Gives the lease up (clean stop) so that another master need not wait.
    async fn release_lease(&self, node_id: &str) -> StoreResult<()>;

    /// The shard count set with `POST /v1/account/shards` (1 if never set).
    async fn shard_count(&self) -> StoreResult<u32>;
    /// The shard map, by shard.
    async fn shard_map(&self) -> StoreResult<Vec<ShardOwner>>;
    /// Applies `changes` (and drops shards at or above `count`) in one
    /// transaction, only if `node_id` still holds the lease at `lease_epoch`;
    /// every changed row's epoch increases. `bump_all` increases every epoch
    /// (a new shard count). Returns whether it was applied.
    async fn write_shard_map(
        &self,
        node_id: &str,
        lease_epoch: i64,
        count: u32,
        changes: Vec<ShardChange>,
        bump_all: bool,
    ) -> StoreResult<bool>;

    /// Outbound messages of the scope's shards whose next step is due.
    async fn due_messages_in(&self, scope: &ShardScope, now_ms: i64, limit: usize) -> StoreResult<Vec<DueMessage>>;
    /// The earliest pending step of the scope's shards.
    async fn next_message_event_in(&self, scope: &ShardScope) -> StoreResult<Option<i64>>;
    /// `apply_transitions`, only if the scope still matches the shard map
    /// (checked under a row lock in the same transaction): a node that lost a
    /// shard cannot record a step for it. Returns whether it was applied.
    async fn apply_transitions_in(&self, scope: &ShardScope, transitions: Vec<Transition>) -> StoreResult<bool>;

    /// Tells every node something changed.
    async fn notify(&self, notice: Notice) -> StoreResult<()>;
    /// Notices from every node (including this one), until the connection
    /// drops; the caller subscribes again and assumes it missed some.
    async fn listen(&self) -> StoreResult<mpsc::UnboundedReceiver<Notice>>;
}

/// This node's part of the deployment-wide webhook concurrency limit: the
/// nodes that deliver (those owning a shard) split the limit by rank, so
/// that together they never exceed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryShare {
    pub rank: usize,
    pub of: usize,
}

impl DeliveryShare {
    /// A node alone delivers with the whole limit.
    pub const ALONE: DeliveryShare = DeliveryShare { rank: 0, of: 1 };
    /// A node that owns no shard does not deliver.
    pub const NONE: DeliveryShare = DeliveryShare { rank: 0, of: 0 };

    /// The requests this node may have in flight out of `limit`.
    pub fn of_limit(self, limit: usize) -> usize {
        if self.of == 0 || self.rank >= self.of {
            return 0;
        }
        limit / self.of + usize::from(self.rank < limit % self.of)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_follow_the_digits_of_the_recipient() {
        // CRC-32 (IEEE) of "16315551234", as PHP's crc32 computes it.
        assert_eq!(route_hash("16315551234"), crc32fast::hash(b"16315551234"));
        assert_eq!(shard_of("+1 (631) 555-1234", 4), shard_of("16315551234", 4));
        assert_eq!(shard_of("16315551234", 1), 0);
        let spread: std::collections::HashSet<u32> = (0..64).map(|i| shard_of(&format!("1555000{i:04}"), 4)).collect();
        assert_eq!(spread.len(), 4);
    }

    #[test]
    fn delivery_shares_add_up_to_the_limit() {
        for limit in 1..20 {
            for of in 1..6 {
                let sum: usize = (0..of).map(|rank| DeliveryShare { rank, of }.of_limit(limit)).sum();
                assert_eq!(sum, limit, "limit {limit} over {of}");
            }
        }
        assert_eq!(DeliveryShare::NONE.of_limit(10), 0);
        assert_eq!(DeliveryShare::ALONE.of_limit(10), 10);
    }
}
