//! Garbage collection (`services.md`): the endpoints answer `processing`,
//! the outcome arrives by webhook, and exactly what is eligible goes: read
//! and failed messages, older delivered and received ones, media unused for
//! 30 days (a send restarts the clock), never a message whose callback is
//! still pending. The automatic collectors follow `garbagecollector_enable`.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};
use wabiz_domain::clock::Clock as _;

use crate::helpers::*;
use crate::receiver::Receiver;

const WAIT: Duration = Duration::from_secs(20);
const DAY: i64 = 86_400;

async fn setup(extra: &[&str]) -> (Receiver, TestApp, String) {
    let rx = Receiver::start().await;
    let mut spawn = Spawn::instant_receipts().arg("--allow-http-webhooks").arg("--simulator-open-window");
    for a in extra {
        spawn = spawn.arg(a);
    }
    let app = TestApp::spawn_with(spawn).await;
    let admin = app.admin_token().await;
    let (s, b) = app.patch(&admin, "/v1/settings/application", json!({"webhooks": {"url": rx.url()}})).await;
    assert!(s.is_success(), "{b}");
    (rx, app, admin)
}

/// Waits for the `n`-th `services` callback and returns it.
async fn gc_report(rx: &Receiver, n: usize) -> Value {
    rx.wait_for(WAIT, "the gc webhook", |_| rx.acked("services").len() >= n).await;
    rx.acked("services")[n - 1].clone()
}

async fn drained(app: &TestApp, admin: &str) {
    let deadline = Instant::now() + WAIT;
    loop {
        let (_, b) = app.get(admin, "/wabiz/callbacks").await;
        if b["callbacks"]["queue"]["pending"] == 0 {
            return;
        }
        assert!(Instant::now() < deadline, "{b}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn exists(app: &TestApp, admin: &str, id: &str) -> bool {
    let (s, _) = app.get(admin, &format!("/simulator/messages/{id}")).await;
    s == 200
}

#[tokio::test]
async fn message_gc_removes_what_is_no_longer_needed() {
    let (rx, app, admin) = setup(&[]).await;
    let read = app.send_text(&admin, "16315551234", "hello").await;
    let never_read = app.send_text(&admin, "15550000003", "hello").await; // delivered, never read
    let (s, b) = app
        .post(&admin, "/simulator/inbound", json!({"from": "16315551234", "type": "text", "text": {"body": "hi"}}))
        .await;
    assert_eq!(s, 201, "{b}");
    let inbound = b["messages"][0]["id"].as_str().unwrap().to_owned();
    settled_message(&app, &admin, &read, WAIT).await;
    settled_message(&app, &admin, &never_read, WAIT).await;
    drained(&app, &admin).await;

    let (s, b) = app.call(&admin, Method::PUT, "/v1/services/message/gc", None).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["services"], json!({"message": {"gc": {"status": "processing"}}}));
    assert_eq!(gc_report(&rx, 1).await, json!({"message": {"gc": {"messages_deleted": 1, "status": "complete"}}}));
    let body = rx.hits().iter().rev().find(|h| h.body.get("services").is_some()).unwrap().body.clone();
    assert!(body["services"].is_array(), "`services` is an array: {body}");
    assert!(!exists(&app, &admin, &read).await, "read: final");
    assert!(exists(&app, &admin, &never_read).await && exists(&app, &admin, &inbound).await, "too young");

    // A month on, the delivered and the received message go too (POST works the same).
    app.clock.advance(31 * DAY);
    let admin = app.admin_token().await; // tokens last 7 days
    let (s, b) = app.call(&admin, Method::POST, "/v1/services/message/gc", None).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(gc_report(&rx, 2).await["message"]["gc"]["messages_deleted"], 2);
    assert!(!exists(&app, &admin, &never_read).await && !exists(&app, &admin, &inbound).await);

    // Access and methods.
    let (s, b) = app.get(&admin, "/v1/services/message/gc").await;
    assert_code(s, &b, 405, 1014);
    let user = app.user_token(&admin, "agent", "Us3r-Passw0rd!").await;
    let (s, _) = app.call(&user, Method::PUT, "/v1/services/media/gc", None).await;
    assert_eq!(s, 403);
}

/// `DELETE /v1/messages` deletes, synchronously, the settled messages older
/// than its cutoff and nothing younger; its parameters are checked.
#[tokio::test]
async fn bulk_delete_of_stored_messages() {
    let (_rx, app, admin) = setup(&[]).await;
    let old_read = app.send_text(&admin, "16315551234", "hello").await;
    let old_delivered = app.send_text(&admin, "15550000003", "hello").await;
    settled_message(&app, &admin, &old_read, WAIT).await;
    settled_message(&app, &admin, &old_delivered, WAIT).await;
    drained(&app, &admin).await;
    app.clock.advance(2 * DAY);
    let admin = app.admin_token().await;
    let young_read = app.send_text(&admin, "16315551234", "hello").await;
    settled_message(&app, &admin, &young_read, WAIT).await;
    drained(&app, &admin).await;

    let user = app.user_token(&admin, "agent", "Us3r-Passw0rd!").await;
    for (body, code, details) in [
        (json!({}), 1008, "Atleast one of the following parameters must be present: 'age', 'before'"),
        (
            json!({"age": 1, "before": 1}),
            1010,
            "Exactly one of the following parameters must be present: 'age', 'before'",
        ),
        (json!({"age": "one day"}), 1009, "Parameter 'age' has invalid value 'one day'"),
        (json!({"before": -5}), 1009, "Parameter 'before' has invalid value '-5'"),
    ] {
        let (s, b) = app.delete_with(&user, "/v1/messages", body).await;
        assert_code(s, &b, 400, code);
        assert_eq!(b["errors"][0]["details"], details);
    }
    assert!(exists(&app, &admin, &old_read).await, "a refused request deletes nothing");

    // Older than a day: the two old ones, not the young read one. Any user may ask.
    let (s, b) = app.delete_with(&user, "/v1/messages", json!({"age": DAY.to_string()})).await;
    assert_eq!(s, 200, "{b}");
    assert!(b.get("meta").is_some() && b.get("errors").is_none(), "{b}");
    assert!(!exists(&app, &admin, &old_read).await && !exists(&app, &admin, &old_delivered).await);
    assert!(exists(&app, &admin, &young_read).await, "younger than the cutoff");

    // `before` as a Unix time in the future takes the young one too.
    let (s, b) = app.delete_with(&user, "/v1/messages", json!({"before": app.clock.now_unix() + 60})).await;
    assert_eq!(s, 200, "{b}");
    assert!(!exists(&app, &admin, &young_read).await);
}

#[tokio::test]
async fn a_message_with_a_pending_callback_is_kept() {
    let (rx, app, admin) = setup(&[]).await;
    rx.answer(crate::receiver::Reply::status(500));
    let (s, b) = app.patch(&admin, "/v1/settings/application", json!({"callback_backoff_delay_ms": 60_000})).await;
    assert!(s.is_success(), "{b}");
    let (_, b) = app.post(&admin, "/v1/messages", json!({"to": "16315551234", "text": {"body": "x"}})).await;
    let id = b["messages"][0]["id"].as_str().unwrap().to_owned();
    settled_message(&app, &admin, &id, WAIT).await;
    // Once the first status was refused, all three wait a minute for their retry.
    rx.wait_for(WAIT, "a refused status", |h| !h.is_empty()).await;
    rx.answer(crate::receiver::Reply::OK);
    let (s, _) = app.call(&admin, Method::PUT, "/v1/services/message/gc", None).await;
    assert_eq!(s, 200);
    let report = gc_report(&rx, 1).await;
    assert_eq!(report["message"]["gc"]["messages_deleted"], 0, "its statuses are still to be delivered");
    assert!(exists(&app, &admin, &id).await);
}

async fn upload(app: &TestApp, admin: &str) -> String {
    let png = b"\x89PNG\r\n\x1a\n-an-image".to_vec();
    let (s, b) = json(
        app.authed(Method::POST, "/v1/media", admin)
            .header("content-type", "image/png")
            .body(png)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 201, "{b}");
    b["media"][0]["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn media_gc_collects_media_unused_for_30_days() {
    let (rx, app, admin) = setup(&[]).await;
    let a = upload(&app, &admin).await; // never used: collected
    let b = upload(&app, &admin).await; // used 10 days ago: kept
    let gone = upload(&app, &admin).await; // its file vanished: the row still goes
    app.clock.advance(25 * DAY);
    let admin = app.admin_token().await; // tokens last 7 days
    let (s, body) =
        app.post(&admin, "/v1/messages", json!({"to": "16315551234", "type": "image", "image": {"id": b}})).await;
    assert_eq!(s, 201, "{body}");
    let c = upload(&app, &admin).await; // 10 days old: kept
    app.clock.advance(10 * DAY);
    let admin = app.admin_token().await;
    std::fs::remove_file(app.data_dir.path().join("media").join(&gone[..2]).join(&gone)).expect("the stored file");

    let (s, body) = app.call(&admin, Method::PUT, "/v1/services/media/gc", None).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["services"], json!({"media": {"gc": {"status": "processing"}}}));
    assert_eq!(gc_report(&rx, 1).await, json!({"media": {"gc": {"items_deleted": 2, "status": "complete"}}}));
    for (id, kept) in [(&a, false), (&b, true), (&gone, false), (&c, true)] {
        let r = app.authed(Method::GET, &format!("/v1/media/{id}"), &admin).send().await.unwrap();
        assert_eq!(r.status() == 200, kept, "{id}");
    }
}

#[tokio::test]
async fn the_automatic_collector_follows_the_setting() {
    let (_rx, app, admin) = setup(&["--gc-interval-secs", "1"]).await;
    let (_, b) = app.post(&admin, "/v1/messages", json!({"to": "16315551234", "text": {"body": "x"}})).await;
    let id = b["messages"][0]["id"].as_str().unwrap().to_owned();
    settled_message(&app, &admin, &id, WAIT).await;
    drained(&app, &admin).await;
    // Messages on by default: it goes within a few runs.
    let deadline = Instant::now() + WAIT;
    while exists(&app, &admin, &id).await {
        assert!(Instant::now() < deadline, "the automatic collector did not run");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Off: a read message stays.
    let (s, b) =
        app.patch(&admin, "/v1/settings/application", json!({"garbagecollector_enable": {"messages": false}})).await;
    assert!(s.is_success(), "{b}");
    let (_, b) = app.post(&admin, "/v1/messages", json!({"to": "16315551234", "text": {"body": "y"}})).await;
    let kept = b["messages"][0]["id"].as_str().unwrap().to_owned();
    settled_message(&app, &admin, &kept, WAIT).await;
    drained(&app, &admin).await;
    tokio::time::sleep(Duration::from_millis(2_500)).await; // two runs' worth: it must not be collected
    assert!(exists(&app, &admin, &kept).await);
}
