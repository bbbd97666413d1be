//! The multiconnect tables on PostgreSQL. Every time is the database's
//! (`now()`), so that nodes with drifting clocks agree on who is silent and
//! when a lease expires. Fencing is by row locks: a shard-map change holds the
//! lease row, and a shard owner's write holds its shard rows, so a node that
//! lost either cannot act once the other side committed.

use async_trait::async_trait;
use tokio::sync::mpsc;
use tokio_postgres::{AsyncMessage, NoTls};
use wabiz_domain::cluster::{
    ClusterStore, Lease, NodeRole, NodeRow, Notice, SHARD_COUNTS, SHARDS_META, ShardChange, ShardOwner, ShardScope,
};
use wabiz_domain::ports::{DueMessage, StoreError, StoreResult, Transition};

use super::messages::{apply_transitions_in_tx, due_from_row};
use super::{PgStore, db_err, unavailable};

const CONFIG_CHANNEL: &str = "wabiz_config";
const SHARDS_CHANNEL: &str = "wabiz_shards";
const TOKENS_CHANNEL: &str = "wabiz_tokens";

/// Sent in the transaction that changes settings or registration.
pub(super) const NOTIFY_CONFIG: &str = "SELECT pg_notify('wabiz_config', '')";

/// Runs `delete` (a `DELETE … WHERE … = $1`) and, if it removed a row, tells
/// the other nodes in the same statement to forget the tokens they cached
/// (the notice is sent at commit, once). Whether one row went.
pub(super) async fn delete_revoking_tokens(c: &tokio_postgres::Client, delete: &str, key: &str) -> StoreResult<bool> {
    let sql = format!("WITH d AS ({delete} RETURNING 1) SELECT pg_notify('{TOKENS_CHANNEL}', '') FROM d");
    Ok(c.query(&sql, &[&key]).await.map_err(db_err)?.len() == 1)
}

fn millis_since(col: &str) -> String {
    format!("(EXTRACT(EPOCH FROM (now() - {col})) * 1000)::BIGINT")
}

fn scope_shards(scope: &ShardScope) -> Vec<i64> {
    scope.message_shards().into_iter().map(i64::from).collect()
}

#[async_trait]
impl ClusterStore for PgStore {
    async fn register_node(&self, node_id: &str, role: NodeRole, snapshot: &str) -> StoreResult<()> {
        let c = self.client().await?;
        c.execute(
            "INSERT INTO cluster_nodes (node_id, role, snapshot) VALUES ($1, $2, $3)
             ON CONFLICT (node_id) DO UPDATE SET role = excluded.role, snapshot = excluded.snapshot, last_heartbeat = now()",
            &[&node_id, &role.as_str(), &snapshot],
        )
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn heartbeat(&self, node_id: &str, snapshot: &str) -> StoreResult<bool> {
        let c = self.client().await?;
        let n = c
            .execute(
                "UPDATE cluster_nodes SET last_heartbeat = now(), snapshot = $2 WHERE node_id = $1",
                &[&node_id, &snapshot],
            )
            .await
            .map_err(db_err)?;
        Ok(n == 1)
    }

    async fn deregister_node(&self, node_id: &str) -> StoreResult<()> {
        let c = self.client().await?;
        c.execute("DELETE FROM cluster_nodes WHERE node_id = $1", &[&node_id]).await.map_err(db_err)?;
        Ok(())
    }

    async fn nodes(&self) -> StoreResult<Vec<NodeRow>> {
        let c = self.client().await?;
        let rows = c
            .query(
                &format!(
                    "SELECT node_id, role, {}, (EXTRACT(EPOCH FROM started_at) * 1000)::BIGINT, snapshot
                     FROM cluster_nodes ORDER BY started_at, node_id",
                    millis_since("last_heartbeat")
                ),
                &[],
            )
            .await
            .map_err(db_err)?;
        Ok(rows
            .iter()
            .map(|r| NodeRow {
                node_id: r.get(0),
                role: NodeRole::parse(r.get(1)).unwrap_or(NodeRole::Coreapp),
                silent_ms: r.get(2),
                started_at_ms: r.get(3),
                snapshot: r.get(4),
            })
            .collect())
    }

    async fn prune_nodes(&self, silent_ms: i64) -> StoreResult<u64> {
        let c = self.client().await?;
        c.execute(
            &format!(
                "DELETE FROM cluster_nodes n WHERE {} > $1
                 AND NOT EXISTS (SELECT 1 FROM shard_map s WHERE s.node_id = n.node_id)",
                millis_since("n.last_heartbeat")
            ),
            &[&silent_ms],
        )
        .await
        .map_err(db_err)
    }

    async fn release_claims_of(&self, node_id: &str) -> StoreResult<u64> {
        let c = self.client().await?;
        c.execute("UPDATE callbacks SET claimed_by = NULL, claimed_until = 0 WHERE claimed_by = $1", &[&node_id])
            .await
            .map_err(db_err)
    }

    async fn acquire_lease(&self, node_id: &str, ttl_ms: i64) -> StoreResult<Lease> {
        let c = self.client().await?;
        // One statement: take it if free or expired, renew it if ours. The
        // epoch changes only when the lease changes hands.
        c.execute(
            "INSERT INTO cluster_lease (id, holder, epoch, expires_at)
             VALUES (1, $1, 1, now() + make_interval(secs => $2::float8 / 1000.0))
             ON CONFLICT (id) DO UPDATE SET
                holder = excluded.holder,
                epoch = CASE WHEN cluster_lease.holder = excluded.holder THEN cluster_lease.epoch
                             ELSE cluster_lease.epoch + 1 END,
                expires_at = excluded.expires_at
             WHERE cluster_lease.holder = excluded.holder OR cluster_lease.expires_at < now()",
            &[&node_id, &(ttl_ms as f64)],
        )
        .await
        .map_err(db_err)?;
        drop(c);
        self.lease().await?.ok_or_else(|| StoreError::Other("the master lease row is missing".into()))
    }

    async fn lease(&self) -> StoreResult<Option<Lease>> {
        let c = self.client().await?;
        let row = c
            .query_opt("SELECT holder, epoch, expires_at > now() FROM cluster_lease WHERE id = 1", &[])
            .await
            .map_err(db_err)?;
        Ok(row.map(|r| Lease { holder: r.get(0), epoch: r.get(1), live: r.get(2) }))
    }

    async fn release_lease(&self, node_id: &str) -> StoreResult<()> {
        let c = self.client().await?;
        c.execute("UPDATE cluster_lease SET expires_at = now() - INTERVAL '1 second' WHERE holder = $1", &[&node_id])
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn shard_count(&self) -> StoreResult<u32> {
        let c = self.client().await?;
        let row = c.query_opt("SELECT value FROM meta WHERE key = $1", &[&SHARDS_META]).await.map_err(db_err)?;
        Ok(row.and_then(|r| r.get::<_, String>(0).parse().ok()).filter(|n| SHARD_COUNTS.contains(n)).unwrap_or(1))
    }

    async fn shard_map(&self) -> StoreResult<Vec<ShardOwner>> {
        let c = self.client().await?;
        let rows =
            c.query("SELECT shard_id, node_id, epoch FROM shard_map ORDER BY shard_id", &[]).await.map_err(db_err)?;
        Ok(rows.iter().map(|r| ShardOwner { shard: r.get(0), node_id: r.get(1), epoch: r.get(2) }).collect())
    }

    async fn write_shard_map(
        &self,
        node_id: &str,
        lease_epoch: i64,
        count: u32,
        changes: Vec<ShardChange>,
        bump_all: bool,
    ) -> StoreResult<bool> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(db_err)?;
        // The lease row stays locked until commit: a master taking the lease
        // over waits for this change, and a paused old primary finds its
        // lease gone and changes nothing.
        let held = tx
            .query_opt(
                "SELECT 1 FROM cluster_lease WHERE id = 1 AND holder = $1 AND epoch = $2 AND expires_at > now() FOR UPDATE",
                &[&node_id, &lease_epoch],
            )
            .await
            .map_err(db_err)?;
        if held.is_none() {
            return Ok(false);
        }
        let count = i32::try_from(count).unwrap_or(i32::MAX);
        tx.execute("DELETE FROM shard_map WHERE shard_id >= $1", &[&count]).await.map_err(db_err)?;
        if bump_all {
            tx.execute("UPDATE shard_map SET epoch = nextval('shard_epochs'), updated_at = now()", &[])
                .await
                .map_err(db_err)?;
        }
        for ch in &changes {
            tx.execute(
                "INSERT INTO shard_map (shard_id, node_id, epoch) VALUES ($1, $2, nextval('shard_epochs'))
                 ON CONFLICT (shard_id) DO UPDATE SET node_id = excluded.node_id, epoch = excluded.epoch, updated_at = now()",
                &[&ch.shard, &ch.node_id],
            )
            .await
            .map_err(db_err)?;
        }
        tx.execute("SELECT pg_notify($1, '')", &[&SHARDS_CHANNEL]).await.map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(true)
    }

    async fn due_messages_in(&self, scope: &ShardScope, now_ms: i64, limit: usize) -> StoreResult<Vec<DueMessage>> {
        let shards = scope_shards(scope);
        if shards.is_empty() {
            return Ok(Vec::new());
        }
        let c = self.client().await?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let count = i64::from(scope.count.max(1));
        let st = c
            .prepare_cached(
                "SELECT id, peer, status, failure, type, content, category, conversation, expires_at, plan, recipient_type FROM messages
                 WHERE next_event_at IS NOT NULL AND next_event_at <= $1 AND (route % $3) = ANY($4)
                 ORDER BY next_event_at, seq LIMIT $2",
            )
            .await
            .map_err(db_err)?;
        let rows = c.query(&st, &[&now_ms, &limit, &count, &shards]).await.map_err(db_err)?;
        rows.iter().map(due_from_row).collect()
    }

    async fn next_message_event_in(&self, scope: &ShardScope) -> StoreResult<Option<i64>> {
        let shards = scope_shards(scope);
        if shards.is_empty() {
            return Ok(None);
        }
        let c = self.client().await?;
        let count = i64::from(scope.count.max(1));
        let row = c
            .query_one(
                "SELECT MIN(next_event_at) FROM messages WHERE next_event_at IS NOT NULL AND (route % $1) = ANY($2)",
                &[&count, &shards],
            )
            .await
            .map_err(db_err)?;
        Ok(row.get(0))
    }

    async fn apply_transitions_in(&self, scope: &ShardScope, transitions: Vec<Transition>) -> StoreResult<bool> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(db_err)?;
        // FOR SHARE: a shard-map change (which takes these rows FOR UPDATE)
        // waits for this commit, or this read waits for it and sees it.
        let rows = tx
            .query(
                "SELECT shard_id, epoch FROM shard_map WHERE node_id = $1 AND shard_id >= 0 ORDER BY shard_id FOR SHARE",
                &[&scope.node_id],
            )
            .await
            .map_err(db_err)?;
        let now: Vec<(i32, i64)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
        let mut expected: Vec<(i32, i64)> = scope.owned.iter().copied().filter(|(s, _)| *s >= 0).collect();
        expected.sort_unstable();
        if now != expected {
            return Ok(false);
        }
        apply_transitions_in_tx(&tx, &transitions.iter().collect::<Vec<_>>()).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(true)
    }

    async fn notify(&self, notice: Notice) -> StoreResult<()> {
        let channel = match notice {
            Notice::Config => CONFIG_CHANNEL,
            Notice::Shards => SHARDS_CHANNEL,
            Notice::Tokens => TOKENS_CHANNEL,
        };
        let c = self.client().await?;
        c.execute("SELECT pg_notify($1, '')", &[&channel]).await.map_err(db_err)?;
        Ok(())
    }

    async fn listen(&self) -> StoreResult<mpsc::UnboundedReceiver<Notice>> {
        // A connection of its own, outside the pool: notifications arrive on
        // the connection that listens.
        let (client, mut connection) = self.config.connect(NoTls).await.map_err(unavailable)?;
        let (tx, rx) = mpsc::unbounded_channel();
        let driver = tokio::spawn(async move {
            while let Some(message) = std::future::poll_fn(|cx| connection.poll_message(cx)).await {
                let notice = match message {
                    Ok(AsyncMessage::Notification(n)) if n.channel() == CONFIG_CHANNEL => Notice::Config,
                    Ok(AsyncMessage::Notification(n)) if n.channel() == SHARDS_CHANNEL => Notice::Shards,
                    Ok(AsyncMessage::Notification(n)) if n.channel() == TOKENS_CHANNEL => Notice::Tokens,
                    Ok(_) => continue,
                    Err(e) => {
                        tracing::warn!(error = %e, "cluster: the notification connection failed");
                        break;
                    }
                };
                if tx.send(notice).is_err() {
                    break;
                }
            }
        });
        client
            .batch_execute(&format!("LISTEN {CONFIG_CHANNEL}; LISTEN {SHARDS_CHANNEL}; LISTEN {TOKENS_CHANNEL}"))
            .await
            .map_err(db_err)?;
        // The client must live as long as the connection is driven.
        tokio::spawn(async move {
            let _ = driver.await;
            drop(client);
        });
        Ok(rx)
    }
}
