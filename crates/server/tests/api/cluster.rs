//! Multiconnect on the real binary (`multiconnect.md` §10): three `wabiz
//! serve --multiconnect` processes on one PostgreSQL schema form one
//! deployment. Killing a shard owner with SIGKILL moves its shard within
//! `unhealthy_interval` plus one heartbeat, and no accepted message or
//! receipt is lost; killing the primary master makes another node primary.
//! The nodes share one webhook concurrency limit, and the stats are keyed
//! by node.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{ADMIN_PASSWORD, first_admin_login, json, pg_schema, plain_client, send};
use crate::lifecycle::{Server, instant_binary, spawn_logged};
use crate::receiver::{Receiver, Reply};

const HEARTBEAT_S: u64 = 1;
const UNHEALTHY_S: u64 = 3;

struct Node {
    server: Server,
    id: String,
    base: String,
    _dir: tempfile::TempDir,
}

fn start_node(db: &str) -> Node {
    start_node_with(db, &[])
}

fn start_node_with(db: &str, extra: &[&str]) -> Node {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = instant_binary();
    cmd.args(["--multiconnect", "--role", "all", "--database", db]).args(extra).arg("--data-dir").arg(dir.path());
    let server = spawn_logged(cmd);
    // `spawn_logged` keeps the line before it reports the address.
    let id = server
        .log
        .lock()
        .unwrap()
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["message"] == "wabiz is listening")
        .and_then(|v| v["node"].as_str().map(str::to_owned))
        .expect("a node id in the 'listening' line");
    let base = format!("http://{}", server.addr);
    Node { server, id, base, _dir: dir }
}

struct Api {
    client: reqwest::Client,
    token: String,
}

impl Api {
    async fn call(&self, node: &Node, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut rb = self.client.request(method, format!("{}{path}", node.base)).bearer_auth(&self.token);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let (s, b) = send(rb).await;
        (s.as_u16(), b)
    }

    async fn send(&self, node: &Node, to: &str) -> String {
        let body = json!({"to": to, "text": {"body": "cluster test"}});
        let (s, b) = self.call(node, reqwest::Method::POST, "/v1/messages", Some(body)).await;
        assert_eq!(s, 201, "send through {}: {b}", node.id);
        b["messages"][0]["id"].as_str().unwrap().to_owned()
    }

    /// `node id → (role, shards)` from `GET /v1/support`, for healthy nodes;
    /// failed nodes map to `("failed", [])`.
    async fn layout(&self, via: &Node) -> HashMap<String, (String, Vec<i64>)> {
        let (s, b) = self.call(via, reqwest::Method::GET, "/v1/support", None).await;
        assert_eq!(s, 200, "{b}");
        b["support"]
            .as_object()
            .expect("one entry per node")
            .iter()
            .map(|(id, doc)| {
                if doc.get("errors").is_some() {
                    return (id.clone(), ("failed".to_owned(), Vec::new()));
                }
                let shards = doc["shards"].as_array().unwrap().iter().map(|p| p[0].as_i64().unwrap()).collect();
                (id.clone(), (doc["role"].as_str().unwrap().to_owned(), shards))
            })
            .collect()
    }

    async fn health(&self, via: &Node) -> Value {
        let (s, b) = self.call(via, reqwest::Method::GET, "/v1/health", None).await;
        assert_eq!(s, 200, "{b}");
        b["health"].clone()
    }
}

/// Logs in (first login sets the password), sets fast heartbeats, the
/// webhook receiver and `shards` shards.
async fn set_up(nodes: &[&Node], receiver: &Receiver, shards: u32) -> Api {
    let client = plain_client();
    let token = first_admin_login(&client, &nodes[0].base).await;
    let api = Api { client, token };
    let settings = json!({
        "heartbeat_interval": HEARTBEAT_S,
        "unhealthy_interval": UNHEALTHY_S,
        "webhooks": {"url": receiver.url()},
    });
    let (s, b) = api.call(nodes[1], reqwest::Method::PATCH, "/v1/settings/application", Some(settings)).await;
    assert_eq!(s, 200, "{b}");
    let body = json!({"cc": "1", "phone_number": "6315550100", "shards": shards, "cert": crate::registration::acme()});
    let (s, b) = api.call(nodes[2], reqwest::Method::POST, "/v1/account/shards", Some(body)).await;
    assert_eq!(s, 201, "{b}");
    api
}

/// Waits until `done` holds for the layout seen through `via`.
async fn wait_layout(
    api: &Api,
    via: &Node,
    within: Duration,
    what: &str,
    done: impl Fn(&HashMap<String, (String, Vec<i64>)>) -> bool,
) -> HashMap<String, (String, Vec<i64>)> {
    let deadline = Instant::now() + within;
    loop {
        let layout = api.layout(via).await;
        if done(&layout) {
            return layout;
        }
        assert!(Instant::now() < deadline, "{what} within {within:?}; the deployment is {layout:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Each of `shards` message shards owned by one node, the control shard by
/// the primary master, on `n` healthy nodes.
fn settled(layout: &HashMap<String, (String, Vec<i64>)>, n: usize, shards: i64) -> bool {
    let healthy = layout.values().filter(|(role, _)| role != "failed").count();
    let owned: Vec<i64> = layout.values().flat_map(|(_, s)| s.iter().copied()).collect();
    let primary = layout.values().filter(|(role, _)| role == "primary_master").collect::<Vec<_>>();
    // The primary master owns the control shard; with one shard (HA) the
    // owner of shard 0 does. With spares around, the master owns no message shard.
    let control_ok = if shards == 1 {
        layout.values().any(|(_, s)| s.contains(&0) && s.contains(&-1)) && primary.iter().all(|p| p.1.is_empty())
    } else {
        primary.iter().all(|p| p.1.contains(&-1) && (n <= shards as usize || p.1 == [-1]))
    };
    healthy == n
        && primary.len() == 1
        && control_ok
        && (0..shards).all(|k| owned.iter().filter(|s| **s == k).count() == 1)
}

/// Waits until every message has had `sent`, `delivered` and `read` acknowledged.
async fn wait_all_read(receiver: &Receiver, ids: &HashSet<String>, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let pairs = receiver.acked_status_pairs();
        let missing: Vec<String> = ids
            .iter()
            .filter(|id| ["sent", "delivered", "read"].iter().any(|s| !pairs.iter().any(|(i, st)| i == *id && st == s)))
            .cloned()
            .collect();
        if missing.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {} messages miss a receipt after {within:?}, e.g. {:?}",
            missing.len(),
            ids.len(),
            &missing[..missing.len().min(3)]
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn recipient(i: usize) -> String {
    format!("4915{:08}", 1000 + i)
}

#[cfg_attr(not(wabiz_test_pg), ignore = "needs PostgreSQL: set WABIZ_TEST_PG_URL")]
#[tokio::test]
async fn a_killed_shard_owner_fails_over_and_nothing_is_lost() {
    let schema = pg_schema("cluster_failover").await;
    let receiver = Receiver::start().await;
    let mut nodes = vec![start_node(&schema.url), start_node(&schema.url), start_node(&schema.url)];
    let api = set_up(&nodes.iter().collect::<Vec<_>>(), &receiver, 2).await;

    let layout =
        wait_layout(&api, &nodes[0], Duration::from_secs(30), "2 shards on 3 nodes", |l| settled(l, 3, 2)).await;
    // The multiconnect health shape: every node, its role; the primary master
    // and the two shard owners connected.
    let health = api.health(&nodes[1]).await;
    assert_eq!(health.as_object().unwrap().len(), 3, "{health}");
    for node in &nodes {
        assert_eq!(health[&node.id]["gateway_status"], "connected", "{health}");
        assert_eq!(health[&node.id]["role"], layout[&node.id].0.as_str(), "{health}");
    }

    // Sends through every node, to recipients of both shards.
    let mut ids = HashSet::new();
    for (n, node) in nodes.iter().enumerate() {
        for i in 0..30 {
            ids.insert(api.send(node, &recipient(n * 100 + i)).await);
        }
    }

    // SIGKILL the owner of a message shard that is not the primary master.
    let victim = nodes.iter().position(|n| layout[&n.id].0 != "primary_master").unwrap();
    let victim_shard = *layout[&nodes[victim].id].1.first().unwrap();
    let victim_id = nodes[victim].id.clone();
    let mut dead = nodes.remove(victim);
    dead.server.child.kill().unwrap();
    dead.server.child.wait().unwrap();
    let killed = Instant::now();

    let limit = Duration::from_secs(UNHEALTHY_S + HEARTBEAT_S);
    let layout = wait_layout(&api, &nodes[0], limit + Duration::from_secs(10), "the shard moved", |l| {
        l.get(&victim_id).is_some_and(|(role, _)| role == "failed")
            && l.iter().any(|(id, (_, s))| *id != victim_id && s.contains(&victim_shard))
    })
    .await;
    let took = killed.elapsed();
    eprintln!("failover of shard {victim_shard} took {took:?} (limit {limit:?})");
    // A second of slack for this machine's scheduling and the test's polling.
    assert!(took <= limit + Duration::from_secs(1), "failover took {took:?}, more than {limit:?}");
    assert!(settled(&layout, 2, 2), "{layout:?}");
    let health = api.health(&nodes[0]).await;
    assert_eq!(health[&victim_id]["errors"][0]["code"], 1014, "{health}");
    assert!(health[&victim_id]["errors"][0]["details"].as_str().unwrap().contains("wacore"), "{health}");

    // The survivors take new sends for every shard.
    for (n, node) in nodes.iter().enumerate() {
        for i in 0..30 {
            ids.insert(api.send(node, &recipient(1000 + n * 100 + i)).await);
        }
    }
    // Every accepted message, before and after the kill, reaches `read`,
    // and the receiver hears every receipt.
    wait_all_read(&receiver, &ids, Duration::from_secs(60)).await;
    drop(nodes);
    schema.drop_schema().await;
}

#[cfg_attr(not(wabiz_test_pg), ignore = "needs PostgreSQL: set WABIZ_TEST_PG_URL")]
#[tokio::test]
async fn a_killed_primary_master_is_replaced_by_a_secondary() {
    let schema = pg_schema("cluster_master").await;
    let receiver = Receiver::start().await;
    let mut nodes = vec![start_node(&schema.url), start_node(&schema.url), start_node(&schema.url)];
    let api = set_up(&nodes.iter().collect::<Vec<_>>(), &receiver, 1).await;
    let layout = wait_layout(&api, &nodes[0], Duration::from_secs(30), "HA on 3 nodes", |l| settled(l, 3, 1)).await;

    let primary = nodes.iter().position(|n| layout[&n.id].0 == "primary_master").unwrap();
    let old_id = nodes[primary].id.clone();
    let mut dead = nodes.remove(primary);
    dead.server.child.kill().unwrap();
    dead.server.child.wait().unwrap();
    let killed = Instant::now();

    // The lease expires after max(3 × heartbeat, 15 s); a secondary takes it
    // at its next heartbeat.
    let limit = Duration::from_secs((3 * HEARTBEAT_S).max(15) + HEARTBEAT_S);
    wait_layout(&api, &nodes[0], limit + Duration::from_secs(10), "a new primary master", |l| {
        l.iter().any(|(id, (role, _))| *id != old_id && role == "primary_master")
    })
    .await;
    let took = killed.elapsed();
    eprintln!("master failover took {took:?} (limit {limit:?})");
    assert!(took <= limit + Duration::from_secs(1), "master failover took {took:?}, more than {limit:?}");
    let layout = wait_layout(&api, &nodes[0], Duration::from_secs(10), "HA on 2 nodes", |l| settled(l, 2, 1)).await;
    let health = api.health(&nodes[1]).await;
    for node in &nodes {
        assert_eq!(health[&node.id]["role"], layout[&node.id].0.as_str(), "{health}");
    }

    // Messages still go out and their receipts come back.
    let mut ids = HashSet::new();
    for (n, node) in nodes.iter().enumerate() {
        for i in 0..10 {
            ids.insert(api.send(node, &recipient(n * 100 + i)).await);
        }
    }
    wait_all_read(&receiver, &ids, Duration::from_secs(60)).await;
    drop(nodes);
    schema.drop_schema().await;
}

#[cfg_attr(not(wabiz_test_pg), ignore = "needs PostgreSQL: set WABIZ_TEST_PG_URL")]
#[tokio::test]
async fn the_nodes_share_one_webhook_limit_and_report_stats_by_node() {
    let schema = pg_schema("cluster_limits").await;
    let receiver = Receiver::start().await;
    // A slow receiver, so that every node has callbacks waiting and would
    // fill a limit of its own.
    receiver.answer(Reply::slow(200, Duration::from_millis(150)));
    let gc_every_second = ["--gc-interval-secs", "1"];
    let nodes: Vec<Node> = (0..3).map(|_| start_node_with(&schema.url, &gc_every_second)).collect();
    let api = set_up(&nodes.iter().collect::<Vec<_>>(), &receiver, 2).await;
    let layout =
        wait_layout(&api, &nodes[0], Duration::from_secs(30), "2 shards on 3 nodes", |l| settled(l, 3, 2)).await;
    let primary = nodes.iter().find(|n| layout[&n.id].0 == "primary_master").unwrap().id.clone();

    // 3 × 60 messages to 180 customers, through the three nodes at once:
    // 540 status callbacks.
    let through = |n: usize| {
        let (api, node) = (&api, &nodes[n]);
        async move {
            let mut ids = Vec::new();
            for i in 0..60 {
                ids.push(api.send(node, &recipient(n * 100 + i)).await);
            }
            ids
        }
    };
    let (a, b, c) = tokio::join!(through(0), through(1), through(2));
    let ids: HashSet<String> = a.into_iter().chain(b).chain(c).collect();
    wait_all_read(&receiver, &ids, Duration::from_secs(90)).await;
    // `max_concurrent_requests` (6 by default) holds for the deployment:
    // three delivering nodes with a limit each would reach 18.
    let most = receiver.max_concurrent();
    eprintln!("at most {most} callback requests at once across 3 nodes (limit 6)");
    assert!(most <= 6, "{most} callback requests at once, more than the deployment's limit of 6");
    assert!(most > 2, "{most} at once: no more than one node's share, so the nodes did not deliver side by side");
    // Each callback went out from one node: no status arrived twice.
    let pairs = receiver.acked_status_pairs();
    let distinct: HashSet<&(String, String)> = pairs.iter().collect();
    assert_eq!(distinct.len(), pairs.len(), "some statuses were delivered twice");

    // `stats/app`: one entry per node, each with its own figures.
    let (s, b) = api.call(&nodes[1], reqwest::Method::GET, "/v1/stats/app", None).await;
    assert_eq!(s, 200, "{b}");
    let app = b["stats"]["app"].as_object().expect("keyed by node");
    assert_eq!(app.len(), 3, "{b}");
    for node in &nodes {
        assert_eq!(app[&node.id]["callback_queue_size"]["type"], "gauge", "{b}");
    }
    let delivered: i64 = app.values().map(|m| m["callbacks_delivered"]["data"][0]["value"].as_i64().unwrap()).sum();
    assert!(delivered >= 1, "{b}");
    // Prometheus: one header per metric, the `node` label first.
    let text = api
        .client
        .get(format!("{}/v1/stats/app?format=prometheus", nodes[2].base))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(text.matches("# TYPE callback_queue_size gauge").count(), 1, "{text}");
    for node in &nodes {
        assert!(text.contains(&format!("callback_queue_size{{node=\"{}\"}}", node.id)), "{text}");
    }
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        assert!(line.contains("{node=\""), "a sample without the node label first: {line}");
    }
    // `stats/db`: the figures under the primary master, `{}` for the others.
    let (s, b) = api.call(&nodes[0], reqwest::Method::GET, "/v1/stats/db", None).await;
    assert_eq!(s, 200, "{b}");
    let db = b["stats"]["db"].as_object().expect("keyed by node");
    assert_eq!(db.len(), 3, "{b}");
    for (id, figures) in db {
        if *id == primary {
            // (The collector, every second here, may have removed read messages.)
            assert_eq!(figures["db_messages"]["type"], "gauge", "{b}");
            assert_eq!(figures["db_pending_messages"]["data"][0]["value"], 0, "{b}");
        } else {
            assert_eq!(figures, &json!({}), "{b}");
        }
    }
    // Automatic garbage collection runs on the primary master only.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (s, b) = api.call(&nodes[1], reqwest::Method::GET, "/v1/stats/app/internal", None).await;
        assert_eq!(s, 200, "{b}");
        let internal = b["stats"]["app"]["internal"].as_object().expect("keyed by node").clone();
        let rounds = |id: &str| internal[id]["gc_automatic_rounds"]["data"][0]["value"].as_i64().unwrap();
        for node in nodes.iter().filter(|n| n.id != primary) {
            assert_eq!(rounds(&node.id), 0, "a node that is not the primary master collected garbage: {b}");
        }
        if rounds(&primary) > 0 {
            break;
        }
        assert!(Instant::now() < deadline, "the primary master ran no garbage collection: {b}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    drop(nodes);
    schema.drop_schema().await;
}

#[cfg_attr(not(wabiz_test_pg), ignore = "needs PostgreSQL: set WABIZ_TEST_PG_URL")]
#[tokio::test]
async fn a_token_revoked_on_one_node_stops_working_on_the_others() {
    let schema = pg_schema("cluster_tokens").await;
    let receiver = Receiver::start().await;
    let nodes = [start_node(&schema.url), start_node(&schema.url)];
    let api = set_up(&[&nodes[0], &nodes[1], &nodes[0]], &receiver, 1).await;
    // A second token, used (and so cached) on node 1.
    let r = api
        .client
        .post(format!("{}/v1/users/login", nodes[0].base))
        .basic_auth("admin", Some(ADMIN_PASSWORD))
        .send()
        .await
        .unwrap();
    let (s, b) = json(r).await;
    assert_eq!(s, 200, "{b}");
    let other = Api { client: api.client.clone(), token: b["users"][0]["token"].as_str().unwrap().to_owned() };
    let (s, b) = other.call(&nodes[1], reqwest::Method::GET, "/v1/settings/application", None).await;
    assert_eq!(s, 200, "{b}");

    // Logged out on node 0: node 1 refuses it well before its token cache
    // (5 s) would have forgotten it.
    let (s, b) = other.call(&nodes[0], reqwest::Method::POST, "/v1/users/logout", None).await;
    assert_eq!(s, 200, "{b}");
    let logged_out = Instant::now();
    loop {
        let (s, b) = other.call(&nodes[1], reqwest::Method::GET, "/v1/settings/application", None).await;
        if s == 401 {
            break;
        }
        assert_eq!(s, 200, "{b}");
        assert!(logged_out.elapsed() < Duration::from_secs(2), "node 1 still takes a token logged out on node 0");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    eprintln!("the other node refused the token {:?} after the logout", logged_out.elapsed());
    // The first token still works everywhere.
    for node in &nodes {
        let (s, b) = api.call(node, reqwest::Method::GET, "/v1/settings/application", None).await;
        assert_eq!(s, 200, "{b}");
    }
    drop(nodes);
    schema.drop_schema().await;
}

/// The final status of message `id` as `node` shows it, once settled.
async fn settled_status(api: &Api, node: &Node, id: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (s, b) = api.call(node, reqwest::Method::GET, &format!("/simulator/messages/{id}"), None).await;
        assert_eq!(s, 200, "{b}");
        if b["message"]["next_event_at"].is_null() {
            return b["message"]["status"].as_str().unwrap_or_default().to_owned();
        }
        assert!(Instant::now() < deadline, "message {id} did not settle: {b}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[cfg_attr(not(wabiz_test_pg), ignore = "needs PostgreSQL: set WABIZ_TEST_PG_URL")]
#[tokio::test]
async fn a_template_changed_on_one_node_is_used_at_once_by_the_others() {
    let schema = pg_schema("cluster_templates").await;
    let receiver = Receiver::start().await;
    let nodes = [start_node(&schema.url), start_node(&schema.url)];
    let api = set_up(&[&nodes[0], &nodes[1], &nodes[0]], &receiver, 1).await;
    let template = json!({"namespace": "ns", "name": "notice", "language": "en_US",
        "components": [{"type": "BODY", "text": "See you tomorrow."}]});
    let send = json!({"to": "16315551234", "type": "template", "template": {"namespace": "ns", "name": "notice",
        "language": {"policy": "deterministic", "code": "en_US"}, "components": []}});
    let send_on_1 = || async {
        let (s, b) = api.call(&nodes[1], reqwest::Method::POST, "/v1/messages", Some(send.clone())).await;
        assert_eq!(s, 201, "{b}");
        let id = b["messages"][0]["id"].as_str().unwrap().to_owned();
        settled_status(&api, &nodes[1], &id).await
    };
    // Looked up (and kept) on node 1 while it does not exist: the send fails.
    assert_eq!(send_on_1().await, "failed");
    let (s, b) = api.call(&nodes[0], reqwest::Method::POST, "/simulator/templates", Some(template)).await;
    assert!(s == 200 || s == 201, "{b}");
    let registered = Instant::now();
    while send_on_1().await != "read" {
        assert!(registered.elapsed() < Duration::from_secs(3), "node 1 still sends with what it kept before");
    }
    let (s, b) =
        api.call(&nodes[0], reqwest::Method::DELETE, "/simulator/templates?namespace=ns&name=notice", None).await;
    assert_eq!(s, 200, "{b}");
    let deleted = Instant::now();
    while send_on_1().await != "failed" {
        assert!(deleted.elapsed() < Duration::from_secs(3), "node 1 still sends with a deleted template");
    }
    drop(nodes);
    schema.drop_schema().await;
}

/// A traffic run started through one node is generated once for the
/// deployment: every message reaches the webhook exactly once.
#[cfg_attr(not(wabiz_test_pg), ignore = "needs PostgreSQL: set WABIZ_TEST_PG_URL")]
#[tokio::test]
async fn a_traffic_run_is_generated_once_for_the_deployment() {
    let schema = pg_schema("cluster_traffic").await;
    let receiver = Receiver::start().await;
    let nodes = [start_node(&schema.url), start_node(&schema.url)];
    let api = set_up(&[&nodes[0], &nodes[1], &nodes[0]], &receiver, 2).await;
    let body = json!({"rate": 50, "count": 80, "customers": 4});
    let (s, b) = api.call(&nodes[1], reqwest::Method::POST, "/simulator/traffic", Some(body)).await;
    assert_eq!(s, 201, "{b}");
    let id = b["traffic"][0]["id"].as_str().unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (s, b) = api.call(&nodes[0], reqwest::Method::GET, &format!("/simulator/traffic/{id}"), None).await;
        assert_eq!(s, 200, "{b}");
        if b["traffic"][0]["state"] == "finished" {
            assert_eq!(b["traffic"][0]["generated"], 80, "{b}");
            break;
        }
        assert!(Instant::now() < deadline, "the run did not finish: {b}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    receiver
        .wait_for(Duration::from_secs(30), "80 generated messages", |_| receiver.acked("messages").len() >= 80)
        .await;
    let ids: Vec<String> =
        receiver.acked("messages").iter().map(|m| m["id"].as_str().unwrap_or_default().to_owned()).collect();
    let distinct: HashSet<&String> = ids.iter().collect();
    assert_eq!((ids.len(), distinct.len()), (80, 80), "each message generated and delivered once");
    drop(nodes);
    schema.drop_schema().await;
}
