//! A node's part in a multiconnect deployment (`multiconnect.md` §3): every
//! `heartbeat_interval` it records a heartbeat, a master-capable node competes
//! for the master lease (and, holding it, plans the shard map), and every node
//! reads which shards it owns. What it owns is published on a watch channel
//! for the workers (receipts, webhooks). A node that cannot reach the
//! database for `unhealthy_interval` drops its shards (self-fencing), and its
//! writes are fenced by the database anyway (`apply_transitions_in`).

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::{Notify, watch};
use tokio_util::sync::CancellationToken;
use wabiz_domain::cluster::{ClusterStore, DeliveryShare, Lease, NodeRole, NodeRow, Notice, ShardOwner, ShardScope};
use wabiz_domain::ports::StoreResult;
use wabiz_domain::settings::application::ApplicationSettings;

use crate::plan::plan;

/// Reloads what the node keeps in memory of the shared configuration.
pub type ReloadHook = Arc<dyn Fn() -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;
/// What the node publishes about itself at each heartbeat (JSON).
pub type SnapshotHook = Arc<dyn Fn() -> Pin<Box<dyn Future<Output = String> + Send>> + Send + Sync>;
/// Drops the tokens the node cached (another node revoked one).
pub type ForgetTokensHook = Arc<dyn Fn() + Send + Sync>;

/// How the node's in-memory state follows the deployment.
pub struct Hooks {
    pub reload: ReloadHook,
    pub snapshot: SnapshotHook,
    pub forget_tokens: ForgetTokensHook,
}

/// A node of the deployment as `GET /v1/health` and `/v1/support` show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub node_id: String,
    /// `primary_master`, `secondary_master` or `coreapp`.
    pub role: &'static str,
    /// Heard from within `unhealthy_interval`.
    pub healthy: bool,
    pub silent_ms: i64,
    /// The shards it owns (the control shard first).
    pub shards: Vec<i32>,
    pub snapshot: String,
}

pub struct Cluster {
    store: Arc<dyn ClusterStore>,
    node_id: String,
    role: NodeRole,
    scope: watch::Sender<Arc<ShardScope>>,
    share: watch::Sender<DeliveryShare>,
    primary: AtomicBool,
    wake: Notify,
    /// Failed nodes whose callback claims this master already freed.
    released: std::sync::Mutex<HashSet<String>>,
}

/// `lease_ttl = max(3 × heartbeat_interval, 15 s)` (`multiconnect.md` §3.2).
pub fn lease_ttl(heartbeat: Duration) -> Duration {
    (heartbeat * 3).max(Duration::from_secs(15))
}

/// How long nodes that stopped answering stay listed (then the primary
/// master forgets them, unless they still own a shard).
fn forget_after(unhealthy: Duration) -> Duration {
    (unhealthy * 10).max(Duration::from_secs(300))
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn intervals(settings: &ApplicationSettings) -> (Duration, Duration) {
    (Duration::from_secs(settings.heartbeat_interval.max(1)), Duration::from_secs(settings.unhealthy_interval.max(1)))
}

impl Cluster {
    pub fn new(store: Arc<dyn ClusterStore>, node_id: String, role: NodeRole) -> Arc<Self> {
        let scope = ShardScope { node_id: node_id.clone(), count: 1, owned: Vec::new() };
        Arc::new(Self {
            store,
            node_id,
            role,
            scope: watch::channel(Arc::new(scope)).0,
            share: watch::channel(DeliveryShare::NONE).0,
            primary: AtomicBool::new(false),
            wake: Notify::new(),
            released: std::sync::Mutex::new(HashSet::new()),
        })
    }

    pub fn store(&self) -> Arc<dyn ClusterStore> {
        Arc::clone(&self.store)
    }

    pub fn node_id(&self) -> &str {
        &self.node_id
    }

    /// The shards this node owns now, and their changes.
    pub fn subscribe_scope(&self) -> watch::Receiver<Arc<ShardScope>> {
        self.scope.subscribe()
    }

    /// This node's part of the webhook concurrency limit, and its changes.
    pub fn subscribe_share(&self) -> watch::Receiver<DeliveryShare> {
        self.share.subscribe()
    }

    /// Whether this node holds the master lease (as of its last look).
    pub fn is_primary(&self) -> bool {
        self.primary.load(Ordering::Relaxed)
    }

    /// Every node with its role, health and shards, as the database says now.
    pub async fn members(&self, unhealthy: Duration) -> StoreResult<Vec<Member>> {
        let nodes = self.store.nodes().await?;
        let lease = self.store.lease().await?;
        let map = self.store.shard_map().await?;
        let primary = lease.filter(|l| l.live).map(|l| l.holder);
        Ok(nodes
            .into_iter()
            .map(|n| {
                let role = if primary.as_deref() == Some(n.node_id.as_str()) {
                    "primary_master"
                } else if n.role.can_master() {
                    "secondary_master"
                } else {
                    "coreapp"
                };
                let shards =
                    map.iter().filter(|o| o.node_id.as_deref() == Some(n.node_id.as_str())).map(|o| o.shard).collect();
                Member {
                    healthy: n.silent_ms <= ms(unhealthy),
                    silent_ms: n.silent_ms,
                    role,
                    shards,
                    snapshot: n.snapshot,
                    node_id: n.node_id,
                }
            })
            .collect())
    }

    /// Runs the node's cluster duties until shut down; on a clean stop it
    /// gives up its lease and its row, so that others take over at once.
    pub async fn run(
        self: Arc<Self>,
        mut settings: watch::Receiver<Arc<ApplicationSettings>>,
        hooks: Hooks,
        shutdown: CancellationToken,
    ) {
        let listener = tokio::spawn(Arc::clone(&self).listen(hooks.reload, hooks.forget_tokens, shutdown.clone()));
        if self.role == NodeRole::Webapp {
            // Not a member: it only serves the API.
        } else if let Err(e) = self.store.register_node(&self.node_id, self.role, &(hooks.snapshot)().await).await {
            tracing::warn!(error = %e, "cluster: could not register this node yet");
        }
        tracing::info!(node = %self.node_id, role = self.role.as_str(), "cluster: node joined the deployment");
        let mut last_contact = Instant::now();
        loop {
            let current = Arc::clone(&settings.borrow_and_update());
            let (heartbeat, unhealthy) = intervals(&current);
            match self.tick(&hooks.snapshot, heartbeat, unhealthy).await {
                Ok(()) => last_contact = Instant::now(),
                Err(e) => {
                    tracing::warn!(error = %e, "cluster: the database does not answer");
                    if last_contact.elapsed() >= unhealthy {
                        self.fence("the database has not answered for unhealthy_interval");
                    }
                }
            }
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = self.wake.notified() => {}
                _ = settings.changed() => {}
                () = tokio::time::sleep(heartbeat) => {}
            }
        }
        self.fence("stopping");
        if self.role.can_master()
            && let Err(e) = self.store.release_lease(&self.node_id).await
        {
            tracing::warn!(error = %e, "cluster: could not release the master lease");
        }
        if let Err(e) = self.store.deregister_node(&self.node_id).await {
            tracing::warn!(error = %e, "cluster: could not leave the deployment");
        }
        let _ = self.store.notify(Notice::Shards).await;
        listener.abort();
    }

    /// Drops every shard at once (the workers stop acting for them).
    fn fence(&self, why: &str) {
        if !self.scope.borrow().owned.is_empty() {
            tracing::warn!(reason = why, "cluster: giving up this node's shards");
        }
        self.scope.send_modify(|s| *s = Arc::new(ShardScope { owned: Vec::new(), ..(**s).clone() }));
        self.share.send_replace(DeliveryShare::NONE);
        self.primary.store(false, Ordering::Relaxed);
    }

    /// One heartbeat: record it, do the master's work if this node holds
    /// the lease, and read what this node owns.
    async fn tick(&self, snapshot: &SnapshotHook, heartbeat: Duration, unhealthy: Duration) -> StoreResult<()> {
        if self.role != NodeRole::Webapp {
            let published = snapshot().await;
            if !self.store.heartbeat(&self.node_id, &published).await? {
                tracing::warn!("cluster: this node had been forgotten; joining again");
                self.store.register_node(&self.node_id, self.role, &published).await?;
            }
        }
        // Read once per heartbeat, for the master's plan and for the shares.
        let nodes = self.store.nodes().await?;
        if self.role.can_master() {
            let lease = self.store.acquire_lease(&self.node_id, ms(lease_ttl(heartbeat))).await?;
            let primary = lease.holder == self.node_id && lease.live;
            if primary != self.is_primary() {
                if primary {
                    tracing::info!(epoch = lease.epoch, "cluster: this node is the primary master");
                } else {
                    tracing::info!(holder = %lease.holder, "cluster: this node is a secondary master");
                }
            }
            self.primary.store(primary, Ordering::Relaxed);
            if primary {
                self.manage(&lease, &nodes, unhealthy).await?;
            }
        }
        let map = self.store.shard_map().await?;
        self.publish(&map, &nodes, unhealthy);
        Ok(())
    }

    /// The primary master's duties: the shard map and forgetting old nodes.
    async fn manage(&self, lease: &Lease, nodes: &[NodeRow], unhealthy: Duration) -> StoreResult<()> {
        let count = self.store.shard_count().await?;
        let map = self.store.shard_map().await?;
        let p = plan(count, &map, nodes, &self.node_id, ms(unhealthy));
        if !p.is_empty() {
            for ch in &p.changes {
                tracing::info!(shard = ch.shard, owner = ?ch.node_id, "cluster: shard owner changes");
            }
            let applied = self.store.write_shard_map(&self.node_id, lease.epoch, count, p.changes, p.bump_all).await?;
            if !applied {
                tracing::warn!("cluster: the master lease was lost before the shard map could change");
            }
        }
        // A failed node's claimed callbacks go to the nodes still delivering.
        let failed: Vec<String> = nodes
            .iter()
            .filter(|n| n.silent_ms > ms(unhealthy))
            .map(|n| n.node_id.clone())
            .filter(|id| !self.released.lock().unwrap_or_else(|e| e.into_inner()).contains(id))
            .collect();
        for id in failed {
            let freed = self.store.release_claims_of(&id).await?;
            tracing::info!(node = %id, callbacks = freed, "cluster: a failed node's callbacks go to the others");
            self.released.lock().unwrap_or_else(|e| e.into_inner()).insert(id);
        }
        let forgotten = self.store.prune_nodes(ms(forget_after(unhealthy))).await?;
        if forgotten > 0 {
            tracing::info!(count = forgotten, "cluster: forgot nodes that stopped long ago");
        }
        Ok(())
    }

    /// Publishes what this node owns, and its part of the webhook limit.
    fn publish(&self, map: &[ShardOwner], nodes: &[NodeRow], unhealthy: Duration) {
        let count = u32::try_from(map.iter().filter(|o| o.shard >= 0).count()).unwrap_or(1).max(1);
        let mut owned: Vec<(i32, i64)> = map
            .iter()
            .filter(|o| o.node_id.as_deref() == Some(self.node_id.as_str()))
            .map(|o| (o.shard, o.epoch))
            .collect();
        owned.sort_unstable();
        let scope = ShardScope { node_id: self.node_id.clone(), count, owned };
        self.scope.send_if_modified(|cur| {
            if **cur == scope {
                return false;
            }
            let shards: Vec<i32> = scope.owned.iter().map(|(s, _)| *s).collect();
            tracing::info!(?shards, count, "cluster: this node's shards");
            *cur = Arc::new(scope);
            true
        });
        // The delivering nodes: healthy owners of any shard, in id order.
        let mut delivering: Vec<&str> = map
            .iter()
            .filter_map(|o| o.node_id.as_deref())
            .filter(|id| nodes.iter().any(|n| n.node_id == *id && n.silent_ms <= ms(unhealthy)))
            .collect();
        delivering.sort_unstable();
        delivering.dedup();
        let share = match delivering.iter().position(|id| *id == self.node_id) {
            Some(rank) => DeliveryShare { rank, of: delivering.len() },
            None => DeliveryShare::NONE,
        };
        self.share.send_if_modified(|cur| {
            let changed = *cur != share;
            *cur = share;
            changed
        });
    }

    /// Follows the other nodes' notices: a configuration change reloads what
    /// this node keeps in memory; a shard-map change is read at once.
    async fn listen(self: Arc<Self>, reload: ReloadHook, forget_tokens: ForgetTokensHook, shutdown: CancellationToken) {
        loop {
            match self.store.listen().await {
                Ok(mut notices) => {
                    // Whatever happened while not listening.
                    forget_tokens();
                    reload().await;
                    self.wake.notify_one();
                    loop {
                        tokio::select! {
                            () = shutdown.cancelled() => return,
                            notice = notices.recv() => match notice {
                                Some(Notice::Config) => {
                                    reload().await;
                                    // The shard count may have changed.
                                    self.wake.notify_one();
                                }
                                Some(Notice::Shards) => self.wake.notify_one(),
                                Some(Notice::Tokens) => forget_tokens(),
                                None => break,
                            },
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "cluster: cannot listen for other nodes' changes"),
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
    }
}
