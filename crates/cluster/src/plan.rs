//! What the primary master changes in the shard map (`multiconnect.md` §3.2
//! step 4, §3.3): a pure function of the map, the nodes and their silence, so
//! that every rule is unit-tested without a database.

use std::collections::HashSet;

use wabiz_domain::cluster::{CONTROL_SHARD, NodeRole, NodeRow, ShardChange, ShardOwner};

/// The changes that bring `map` to `count` shards with healthy owners.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Plan {
    pub changes: Vec<ShardChange>,
    /// The shard count changed: every epoch moves on, so that work read
    /// under the old count is fenced off.
    pub bump_all: bool,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty() && !self.bump_all
    }
}

/// Plans the shard map for primary master `me`.
/// - A shard keeps a healthy owner. A shard whose owner is silent longer
///   than `unhealthy_ms` (or gone) goes to a healthy node that may own a
///   shard and owns none, coreapps first, then the longest-running; with no
///   such node it has no owner (it is down until one comes).
/// - The primary master gives its own message shard to such a node when
///   one is free.
/// - The control shard goes to the primary master, or with one shard (HA)
///   to the owner of shard 0.
pub fn plan(count: u32, map: &[ShardOwner], nodes: &[NodeRow], me: &str, unhealthy_ms: i64) -> Plan {
    let healthy = |id: &str| nodes.iter().any(|n| n.node_id == id && n.silent_ms <= unhealthy_ms);
    let count_i = i32::try_from(count.max(1)).unwrap_or(32);
    let current_count = map.iter().filter(|o| o.shard >= 0).count();
    let bump_all = current_count != 0 && current_count != count_i as usize;

    let owner_of = |shard: i32| map.iter().find(|o| o.shard == shard).and_then(|o| o.node_id.clone());
    let mut taken: HashSet<String> = HashSet::new();
    let mut owners: Vec<Option<String>> = Vec::with_capacity(count_i as usize);
    for shard in 0..count_i {
        let keep = owner_of(shard).filter(|id| healthy(id) && !taken.contains(id));
        if let Some(id) = &keep {
            taken.insert(id.clone());
        }
        owners.push(keep);
    }
    // The primary master keeps a message shard only while no other node can
    // take it: its own work is the deployment's.
    let other_spare = nodes.iter().any(|n| {
        n.node_id != me && n.role.can_own_shard() && n.silent_ms <= unhealthy_ms && !taken.contains(&n.node_id)
    });
    if other_spare && let Some(mine) = owners.iter_mut().find(|o| o.as_deref() == Some(me)) {
        *mine = None;
        taken.remove(me);
    }
    // Candidates for free shards: coreapps before nodes that may also be
    // masters, the primary master last; the longest-running first.
    let mut spares: Vec<&NodeRow> = nodes
        .iter()
        .filter(|n| n.role.can_own_shard() && n.silent_ms <= unhealthy_ms && !taken.contains(&n.node_id))
        .collect();
    spares.sort_by_key(|n| (n.node_id == me, n.role != NodeRole::Coreapp, n.started_at_ms, n.node_id.clone()));
    let mut spares = spares.into_iter();
    for owner in owners.iter_mut().filter(|o| o.is_none()) {
        *owner = spares.next().map(|n| n.node_id.clone());
    }

    let mut changes = Vec::new();
    for (shard, owner) in (0..count_i).zip(&owners) {
        let before = map.iter().find(|o| o.shard == shard);
        if before.map(|o| &o.node_id) != Some(owner) {
            changes.push(ShardChange { shard, node_id: owner.clone() });
        }
    }
    let control = if count_i == 1 { owners[0].clone() } else { Some(me.to_owned()) };
    if map.iter().find(|o| o.shard == CONTROL_SHARD).map(|o| &o.node_id) != Some(&control) {
        changes.push(ShardChange { shard: CONTROL_SHARD, node_id: control });
    }
    Plan { changes, bump_all }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(id: &str, role: NodeRole, silent_ms: i64, started: i64) -> NodeRow {
        NodeRow { node_id: id.into(), role, silent_ms, started_at_ms: started, snapshot: "{}".into() }
    }

    fn owner(shard: i32, id: Option<&str>) -> ShardOwner {
        ShardOwner { shard, node_id: id.map(str::to_owned), epoch: 1 }
    }

    fn change(shard: i32, id: Option<&str>) -> ShardChange {
        ShardChange { shard, node_id: id.map(str::to_owned) }
    }

    #[test]
    fn a_new_deployment_gives_shards_to_coreapps_and_the_control_shard_to_the_master() {
        let nodes = [node("m", NodeRole::All, 0, 1), node("b", NodeRole::All, 0, 2), node("c", NodeRole::All, 0, 3)];
        let p = plan(2, &[], &nodes, "m", 3000);
        assert_eq!(p.changes, [change(0, Some("b")), change(1, Some("c")), change(-1, Some("m"))]);
        assert!(!p.bump_all);
        // Pure coreapps are preferred over nodes that may be masters.
        let nodes =
            [node("m", NodeRole::All, 0, 1), node("b", NodeRole::All, 0, 2), node("k", NodeRole::Coreapp, 0, 9)];
        assert_eq!(plan(1, &[], &nodes, "m", 3000).changes, [change(0, Some("k")), change(-1, Some("k"))]);
        // A master-only node never owns a message shard.
        let nodes = [node("m", NodeRole::Master, 0, 1)];
        assert_eq!(plan(1, &[], &nodes, "m", 3000).changes, [change(0, None), change(-1, None)]);
    }

    #[test]
    fn a_silent_owner_is_replaced_by_a_spare_and_a_healthy_one_is_kept() {
        let map = [owner(-1, Some("m")), owner(0, Some("b")), owner(1, Some("c"))];
        let nodes =
            [node("m", NodeRole::All, 0, 1), node("b", NodeRole::All, 5000, 2), node("c", NodeRole::All, 100, 3)];
        // b is silent past the limit: the master, the only spare, takes shard 0.
        assert_eq!(plan(2, &map, &nodes, "m", 3000).changes, [change(0, Some("m"))]);
        // Within the limit nothing changes.
        assert!(plan(2, &map, &nodes, "m", 6000).is_empty());
        // A node that is gone from the table counts as silent; with no spare the shard is down.
        let nodes = [node("m", NodeRole::Master, 0, 1), node("c", NodeRole::All, 0, 3)];
        assert_eq!(plan(2, &map, &nodes, "m", 3000).changes, [change(0, None)]);
    }

    #[test]
    fn the_primary_master_hands_its_message_shard_to_a_spare() {
        // Alone at first, the master took shard 0; a spare joined.
        let map = [owner(-1, Some("m")), owner(0, Some("m")), owner(1, Some("c"))];
        let nodes = [node("m", NodeRole::All, 0, 1), node("b", NodeRole::All, 0, 2), node("c", NodeRole::All, 0, 3)];
        assert_eq!(plan(2, &map, &nodes, "m", 3000).changes, [change(0, Some("b"))]);
        // Without a spare it keeps it.
        assert!(
            plan(2, &map, &nodes[..1].iter().chain(&nodes[2..]).cloned().collect::<Vec<_>>(), "m", 3000).is_empty()
        );
    }

    #[test]
    fn with_one_shard_the_control_shard_follows_shard_0() {
        let map = [owner(-1, Some("b")), owner(0, Some("b"))];
        let nodes = [
            node("m", NodeRole::Master, 0, 1),
            node("b", NodeRole::Coreapp, 9000, 2),
            node("c", NodeRole::Coreapp, 0, 3),
        ];
        assert_eq!(plan(1, &map, &nodes, "m", 3000).changes, [change(0, Some("c")), change(-1, Some("c"))]);
    }

    #[test]
    fn a_new_shard_count_bumps_every_epoch_and_fills_new_shards() {
        let map = [owner(-1, Some("b")), owner(0, Some("b"))];
        let nodes = [node("m", NodeRole::All, 0, 1), node("b", NodeRole::All, 0, 2), node("c", NodeRole::All, 0, 3)];
        let p = plan(2, &map, &nodes, "m", 3000);
        assert!(p.bump_all);
        assert_eq!(p.changes, [change(1, Some("c")), change(-1, Some("m"))]);
    }
}
