//! The callback queue under a crash and under a long outage, on the real
//! binary: `kill -9` while callbacks are pending and being sent loses none
//! (duplicates are counted and reported: delivery is at-least-once), and a
//! receiver that is away for long keeps the server's memory flat (pending
//! callbacks wait on disk, at most `--webhook-window` in memory).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::send;
use crate::lifecycle::{Server, instant_binary, spawn_logged};
use crate::receiver::{Receiver, Reply};

fn start(data_dir: &std::path::Path, extra: &[&str]) -> Server {
    let mut cmd = instant_binary();
    cmd.arg("--data-dir").arg(data_dir).args(extra);
    spawn_logged(cmd)
}

/// A server on `data_dir` whose webhook points at `rx`, and its API.
async fn start_receiving(data_dir: &std::path::Path, rx: &Receiver) -> (Server, Api) {
    let server = start(data_dir, &[]);
    let api = Api::first_login(&server).await;
    let (s, b) = api
        .call(reqwest::Method::PATCH, "/v1/settings/application", Some(json!({"webhooks": {"url": rx.url()}})))
        .await;
    assert!(s.is_success(), "{b}");
    (server, api)
}

struct Api {
    client: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    async fn first_login(server: &Server) -> Api {
        let client = crate::helpers::plain_client();
        let base = format!("http://{}", server.addr);
        let token = crate::helpers::first_admin_login(&client, &base).await;
        Api { client, base, token }
    }

    /// The same token on a restarted server (tokens survive restarts).
    fn on(&self, server: &Server) -> Api {
        Api { client: self.client.clone(), base: format!("http://{}", server.addr), token: self.token.clone() }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (reqwest::StatusCode, Value) {
        let mut rb = self.client.request(method, format!("{}{path}", self.base)).bearer_auth(&self.token);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        send(rb).await
    }

    async fn send(&self, to: &str) -> String {
        let (s, b) = self
            .call(reqwest::Method::POST, "/v1/messages", Some(json!({"to": to, "text": {"body": "crash test"}})))
            .await;
        assert_eq!(s, 201, "{b}");
        b["messages"][0]["id"].as_str().unwrap().to_owned()
    }

    async fn queue(&self) -> Value {
        let (s, b) = self.call(reqwest::Method::GET, "/wabiz/callbacks", None).await;
        assert_eq!(s, 200, "{b}");
        b["callbacks"]["queue"].clone()
    }
}

fn rss_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

#[tokio::test]
async fn a_crash_loses_no_callback() {
    let rx = Receiver::start().await;
    // Slow enough that many callbacks are pending and some in flight at the kill.
    rx.answer(Reply::slow(200, Duration::from_millis(150)));
    let dir = tempfile::tempdir().unwrap();
    let (server, api) = start_receiving(dir.path(), &rx).await;
    let n = 300;
    let mut ids = Vec::new();
    for i in 0..n {
        ids.push(api.send(&format!("1631577{:04}", i % 50)).await);
    }
    // Kill while delivery is under way.
    rx.wait_for(Duration::from_secs(30), "some deliveries", |h| h.iter().filter(|h| h.completed).count() >= 6).await;
    let pending_at_kill = api.queue().await["pending"].as_u64().unwrap();
    let mut server = server;
    server.child.kill().unwrap(); // SIGKILL
    server.child.wait().unwrap();
    let delivered_before = rx.acked_status_pairs().len();

    let server = start(dir.path(), &[]);
    let api = api.on(&server);
    rx.answer(Reply::OK);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mut seen: HashMap<(String, String), usize> = HashMap::new();
        for p in rx.acked_status_pairs() {
            *seen.entry(p).or_default() += 1;
        }
        let complete = ids
            .iter()
            .all(|id| ["sent", "delivered", "read"].iter().all(|s| seen.contains_key(&(id.clone(), (*s).to_owned()))));
        if complete {
            let duplicates: usize = seen.values().map(|c| c - 1).sum();
            eprintln!(
                "crash test: {} statuses for {n} messages; {pending_at_kill} callbacks pending at the SIGKILL, \
                 {delivered_before} acknowledged before it; after the restart every status arrived; \
                 duplicates (at-least-once): {duplicates}",
                seen.len()
            );
            assert_eq!(seen.len(), 3 * n);
            assert!(duplicates <= 4 * 50 + 64, "duplicates are bounded by what was in flight: {duplicates}");
            break;
        }
        assert!(Instant::now() < deadline, "callbacks lost in the crash: {} of {} statuses", seen.len(), 3 * n);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // And the queue empties once the outcomes are recorded.
    let deadline = Instant::now() + Duration::from_secs(30);
    while api.queue().await["pending"] != 0 {
        assert!(Instant::now() < deadline, "callbacks left pending: {}", api.queue().await);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_long_outage_keeps_memory_flat() {
    let addr = Receiver::free_port();
    let dir = tempfile::tempdir().unwrap();
    let window = 64;
    let server = start(dir.path(), &["--webhook-window", &window.to_string()]);
    let api = Api::first_login(&server).await;
    let (s, b) = api
        .call(
            reqwest::Method::PATCH,
            "/v1/settings/application",
            Some(json!({"webhooks": {"url": format!("http://{addr}/hook")},
                        "callback_backoff_delay_ms": 100, "max_callback_backoff_delay_ms": 300})),
        )
        .await;
    assert!(s.is_success(), "{b}");
    let pid = server.child.id();
    let n = 1000;
    let rss_before = rss_kib(pid, "VmRSS:");
    for i in 0..n {
        api.send(&format!("1631588{:04}", i)).await;
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    let q = loop {
        let q = api.queue().await;
        // One callback (three statuses) per message.
        if q["pending"] == n {
            break q;
        }
        assert!(Instant::now() < deadline, "{q}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(q["held_in_memory"].as_u64().unwrap() <= window, "at most the window in memory: {q}");
    let rss_backlog = rss_kib(pid, "VmRSS:");
    let rx = Receiver::start_on(addr).await;
    rx.wait_for_statuses(3 * n as usize, Duration::from_secs(60)).await;
    eprintln!(
        "outage test: {} callbacks waited on disk with at most {window} in memory; RSS {} KiB before, {} KiB with \
         the backlog, peak {} KiB",
        n,
        rss_before,
        rss_backlog,
        rss_kib(pid, "VmHWM:")
    );
}

/// Chaos keeps what the contract promises: with failures, unread messages,
/// duplicated and held-back callbacks, a `kill -9` in the middle still
/// leaves every message with its final status, delivered to the webhook
/// (once, for a receiver that dedupes by id and status).
#[tokio::test]
async fn under_chaos_a_crash_loses_no_final_status() {
    let rx = Receiver::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (server, api) = start_receiving(dir.path(), &rx).await;
    let chaos = json!({"seed": 11, "never_read": 0.2, "failures": [{"rate": 0.1, "code": 470}],
                       "webhooks": {"duplicate": 0.3, "out_of_order": 0.3, "out_of_order_ms": [2000, 4000]}});
    let (s, b) = api.call(reqwest::Method::PUT, "/simulator/chaos", Some(chaos)).await;
    assert!(s.is_success(), "{b}");
    let mut ids = Vec::new();
    for i in 0..60 {
        ids.push(api.send(&format!("1631578{:04}", i % 20)).await);
    }
    // Held-back callbacks are still waiting (2 to 4 s) when the process dies.
    let pending_at_kill = api.queue().await["pending"].as_u64().unwrap();
    let mut server = server;
    server.child.kill().unwrap(); // SIGKILL
    server.child.wait().unwrap();

    let server = start(dir.path(), &[]);
    let api = api.on(&server);
    // Each message's final status, as the server stored it.
    let mut finals: HashMap<String, String> = HashMap::new();
    for id in &ids {
        let (s, b) = api.call(reqwest::Method::GET, &format!("/simulator/messages/{id}"), None).await;
        assert_eq!(s, 200, "{b}");
        assert!(b["message"]["next_event_at"].is_null(), "settled at acceptance: {b}");
        finals.insert(id.clone(), b["message"]["status"].as_str().unwrap().to_owned());
    }
    assert!(finals.values().any(|s| s == "failed") && finals.values().any(|s| s == "delivered"), "{finals:?}");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let seen: std::collections::HashSet<(String, String)> = rx.acked_status_pairs().into_iter().collect();
        let missing: Vec<&String> =
            ids.iter().filter(|id| !seen.contains(&((*id).clone(), finals[*id].clone()))).collect();
        if missing.is_empty() {
            eprintln!(
                "chaos crash test: {pending_at_kill} callbacks pending at the SIGKILL; every final status arrived"
            );
            break;
        }
        assert!(Instant::now() < deadline, "final statuses lost: {missing:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // One final status per message, once deduplicated.
    let seen: std::collections::HashSet<(String, String)> = rx.acked_status_pairs().into_iter().collect();
    for id in &ids {
        let finals_seen = seen
            .iter()
            .filter(|(i, s)| i == id && (s == "read" || s == "failed" || s == "delivered" && finals[id] == "delivered"))
            .count();
        assert_eq!(finals_seen, 1, "{id}");
    }
}
