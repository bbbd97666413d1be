//! The Cloud relay as processes: two multiconnect nodes on one PostgreSQL
//! database, and `kill -9` on the real binary and both engines:
//! sends accepted (201) while Cloud was failing, and Cloud webhooks
//! acknowledged while the legacy app was away, all arrive after a restart;
//! each customer's sends in the order they were accepted, the one the kill
//! interrupted at once. Nothing the relay
//! logs holds a secret.

use std::collections::HashMap;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::graph_standin::{ACCESS_TOKEN, APP_SECRET, Answer, GraphStandIn, PIN, VERIFY_TOKEN, deliver, webhook};
use crate::helpers::{first_admin_login, pg_schema, plain_client, send};
use crate::lifecycle::{Server, spawn_logged};
use crate::receiver::{Receiver, Reply};

fn start(data_dir: &std::path::Path, graph: &GraphStandIn, database: Option<&str>) -> Server {
    start_with(data_dir, graph, database, &[])
}

fn start_with(data_dir: &std::path::Path, graph: &GraphStandIn, database: Option<&str>, extra: &[&str]) -> Server {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wabiz"));
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--insecure-http", "--allow-http-webhooks", "--log-format", "json"])
        .arg("--data-dir")
        .arg(data_dir)
        .args(graph.relay_args());
    if let Some(url) = database {
        cmd.args(["--database", url]);
    }
    cmd.args(extra);
    spawn_logged(cmd)
}

async fn call(base: &str, token: &str, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut rb = plain_client().request(method, format!("{base}{path}")).bearer_auth(token);
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    let (s, b) = send(rb).await;
    (s.as_u16(), b)
}

/// Waits until the relay has read its number from Cloud.
async fn connected(base: &str, token: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while call(base, token, reqwest::Method::GET, "/v1/health", None).await.1["health"]["gateway_status"] != "connected"
    {
        assert!(Instant::now() < deadline, "the relay never connected");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn a_kill_9_loses_no_send_and_no_webhook(database: Option<&str>) {
    let graph = GraphStandIn::start().await;
    let rx = Receiver::start().await;
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &graph, database);
    let base = format!("http://{}", server.addr);
    let token = first_admin_login(&plain_client(), &base).await;
    connected(&base, &token).await;
    let (s, b) = call(
        &base,
        &token,
        reqwest::Method::PATCH,
        "/v1/settings/application",
        Some(json!({"webhooks": {"url": rx.url()}})),
    )
    .await;
    assert_eq!(s, 200, "{b}");

    // Cloud does not answer the first send before the kill and fails the
    // others; the legacy app refuses every callback.
    graph.script([Answer::Stall(Duration::from_secs(30))]);
    graph.down(Answer::Error(503, 2));
    rx.answer(Reply::status(500));
    let customers = ["16315550201", "16315550202", "16315550203"];
    let mut accepted: HashMap<String, Vec<String>> = HashMap::new();
    for i in 0..12 {
        let to = customers[i % customers.len()];
        let text = format!("{to} #{i}");
        let (s, b) =
            call(&base, &token, reqwest::Method::POST, "/v1/messages", Some(json!({"to": to, "text": {"body": text}})))
                .await;
        assert_eq!(s, 201, "{b}");
        accepted.entry(to.to_owned()).or_default().push(text);
    }
    for i in 0..5 {
        let doc = webhook(json!({
            "contacts": [{"profile": {"name": "Kerry"}, "wa_id": customers[0]}],
            "messages": [{"from": customers[0], "id": format!("wamid.CRASH{i}"), "timestamp": "1700000000", "type": "text", "text": {"body": format!("in {i}")}}],
        }));
        assert_eq!(deliver(&plain_client(), &base, &doc).await, 200);
    }
    graph.wait_for(Duration::from_secs(10), "tries of the sends", |_| graph.sends().len() >= 3).await;
    rx.wait_for(Duration::from_secs(10), "refused callbacks", |h| !h.is_empty()).await;

    let mut server = server;
    server.child.kill().unwrap(); // SIGKILL
    server.child.wait().unwrap();
    let log = server.log.lock().unwrap().join("\n");
    drop(server);
    graph.up();
    rx.answer(Reply::OK);

    let server = start(dir.path(), &graph, database);
    // Well within the claims' lease: the send the kill interrupted is handed
    // back at start, not when its lease ends.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let taken: Vec<(String, String)> = graph
            .sends()
            .iter()
            .filter(|c| c.wamid.is_some())
            .map(|c| (c.body["to"].as_str().unwrap().to_owned(), c.body["text"]["body"].as_str().unwrap().to_owned()))
            .collect();
        let inbound: Vec<String> =
            rx.acked("messages").iter().map(|m| m["id"].as_str().unwrap_or_default().to_owned()).collect();
        let all_inbound = (0..5).all(|i| inbound.contains(&format!("wamid.CRASH{i}")));
        if taken.len() >= 12 && all_inbound {
            for (customer, texts) in &accepted {
                let order: Vec<&String> = taken.iter().filter(|(to, _)| to == customer).map(|(_, t)| t).collect();
                assert_eq!(order, texts.iter().collect::<Vec<_>>(), "{customer}'s sends, once each, in order");
            }
            break;
        }
        assert!(
            Instant::now() < deadline,
            "lost in the crash: {} of 12 sends taken, inbound callbacks {inbound:?}",
            taken.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let log = format!("{log}\n{}", server.log.lock().unwrap().join("\n"));
    assert!(log.contains("\"network\":\"cloud\""), "the relay said it started");
    for secret in [ACCESS_TOKEN, APP_SECRET, VERIFY_TOKEN, PIN] {
        assert!(!log.contains(secret), "{secret} in the log");
    }
}

#[tokio::test]
async fn a_kill_9_loses_no_send_and_no_webhook_on_sqlite() {
    a_kill_9_loses_no_send_and_no_webhook(None).await;
}

#[tokio::test]
#[cfg_attr(not(wabiz_test_pg), ignore = "needs WABIZ_TEST_PG_URL at build time")]
async fn a_kill_9_loses_no_send_and_no_webhook_on_postgres() {
    let schema = pg_schema("relay_kill").await;
    a_kill_9_loses_no_send_and_no_webhook(Some(&schema.url)).await;
    schema.drop_schema().await;
}

/// Two multiconnect nodes relay on one PostgreSQL database: sends accepted
/// by either go to Cloud once each, each customer's in order, and Meta's
/// webhooks taken by either node reach the legacy app once.
#[tokio::test]
#[cfg_attr(not(wabiz_test_pg), ignore = "needs WABIZ_TEST_PG_URL at build time")]
async fn two_nodes_relay_on_one_database() {
    let schema = pg_schema("relay_nodes").await;
    let graph = GraphStandIn::start().await;
    let rx = Receiver::start().await;
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let multi = ["--multiconnect", "--role", "all"];
    let a = start_with(dir_a.path(), &graph, Some(&schema.url), &multi);
    let b = start_with(dir_b.path(), &graph, Some(&schema.url), &multi);
    let bases = [format!("http://{}", a.addr), format!("http://{}", b.addr)];
    let token = first_admin_login(&plain_client(), &bases[0]).await;
    let (s, body) = call(
        &bases[1],
        &token,
        reqwest::Method::PATCH,
        "/v1/settings/application",
        Some(json!({"webhooks": {"url": rx.url()}})),
    )
    .await;
    assert_eq!(s, 200, "{body}");

    let customers = ["16315550301", "16315550302", "16315550303"];
    let mut accepted: HashMap<String, Vec<String>> = HashMap::new();
    let mut ids = Vec::new();
    for i in 0..12 {
        let (to, base) = (customers[i % 3], &bases[i % 2]);
        let text = format!("{to} #{i}");
        // A node answers 1011 until it has read the number from Cloud.
        let deadline = Instant::now() + Duration::from_secs(10);
        let id = loop {
            let body = json!({"to": to, "text": {"body": text}});
            let (s, b) = call(base, &token, reqwest::Method::POST, "/v1/messages", Some(body)).await;
            if s == 201 {
                break b["messages"][0]["id"].as_str().unwrap().to_owned();
            }
            assert!(Instant::now() < deadline, "{s} {b}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        ids.push(id);
        accepted.entry(to.to_owned()).or_default().push(text);
    }
    graph
        .wait_for(Duration::from_secs(20), "12 sends taken", |_| {
            graph.sends().iter().filter(|c| c.wamid.is_some()).count() >= 12
        })
        .await;
    let sends = graph.sends();
    assert_eq!(sends.len(), 12, "each send went to Cloud once: {sends:#?}");
    for (customer, texts) in &accepted {
        let order: Vec<&str> = sends
            .iter()
            .filter(|c| c.body["to"] == customer.as_str())
            .map(|c| c.body["text"]["body"].as_str().unwrap())
            .collect();
        assert_eq!(order, texts.iter().map(String::as_str).collect::<Vec<_>>(), "{customer}'s order");
    }
    for (i, send) in sends.iter().enumerate() {
        let wamid = send.wamid.clone().unwrap();
        let to = send.body["to"].as_str().unwrap();
        let doc = webhook(
            json!({"statuses": [{"id": wamid, "status": "delivered", "timestamp": "1700000001", "recipient_id": to}]}),
        );
        assert_eq!(deliver(&plain_client(), &bases[i % 2], &doc).await, 200);
    }
    let pairs = rx.wait_for_statuses(24, Duration::from_secs(20)).await;
    for id in &ids {
        let of: Vec<&str> = pairs.iter().filter(|(i, _)| i == id).map(|(_, s)| s.as_str()).collect();
        assert_eq!(of, ["sent", "delivered"], "{id}: {pairs:?}");
    }
    drop((a, b));
    schema.drop_schema().await;
}
