//! Webhook delivery, end to end: the real server POSTs callbacks to a real
//! local receiver (`receiver.rs`). Bodies, acknowledgement (only 200),
//! backoff times, concurrency, per-recipient order, filters, persistence
//! across restarts, and the admin's view of the queue (TLS trust:
//! `webhook_trust.rs`).

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::receiver::{Receiver, Reply};

const WAIT: Duration = Duration::from_secs(20);

/// A server with instant receipts that accepts `http://` webhooks.
fn fast() -> Spawn {
    Spawn::instant_receipts().arg("--allow-http-webhooks")
}

pub(crate) async fn configure(app: &TestApp, admin: &str, settings: Value) {
    let (s, b) = app.patch(admin, "/v1/settings/application", settings).await;
    assert!(s.is_success(), "settings: {b}");
}

async fn point_at(app: &TestApp, admin: &str, url: &str) {
    configure(app, admin, json!({"webhooks": {"url": url}})).await;
}

/// A receiver, a server started with `spawn`, its admin token, and the
/// server's webhook pointed at the receiver.
pub(crate) async fn receiving(spawn: Spawn) -> (Receiver, TestApp, String) {
    let rx = Receiver::start().await;
    let app = TestApp::spawn_with(spawn).await;
    let admin = app.admin_token().await;
    point_at(&app, &admin, &rx.url()).await;
    (rx, app, admin)
}

pub(crate) async fn inbound(app: &TestApp, admin: &str, body: Value) -> String {
    let (s, b) = app.post(admin, "/simulator/inbound", body).await;
    assert_eq!(s, 201, "{b}");
    b["messages"][0]["id"].as_str().unwrap().to_owned()
}

pub(crate) async fn queue(app: &TestApp, admin: &str) -> Value {
    let (s, b) = app.get(admin, "/wabiz/callbacks").await;
    assert_eq!(s, 200, "{b}");
    b["callbacks"].clone()
}

/// Polls the admin view until nothing is pending.
async fn drained(app: &TestApp, admin: &str) {
    let deadline = Instant::now() + WAIT;
    loop {
        let q = queue(app, admin).await;
        if q["queue"]["pending"] == 0 && q["queue"]["held_in_memory"] == 0 {
            return;
        }
        assert!(Instant::now() < deadline, "callbacks still pending: {q}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> =
        v.as_object().unwrap_or_else(|| panic!("not an object: {v}")).keys().map(String::as_str).collect();
    k.sort_unstable();
    k
}

#[tokio::test]
async fn statuses_arrive_in_the_on_premises_shape() {
    let (rx, app, admin) = receiving(fast().arg("--simulator-open-window")).await;
    let id = app.send_text(&admin, "16315551234", "hello").await;
    rx.wait_for_statuses(3, WAIT).await;

    // With zero delays the three steps are stored together: one callback,
    // one POST, the statuses in order.
    let hits = rx.hits();
    assert_eq!(hits.len(), 1, "a message's statuses stored together go together");
    for h in &hits {
        assert_eq!(h.query.as_deref(), Some("auth=s3cr3t"), "the URL's query is kept verbatim");
        assert_eq!(h.content_type.as_deref(), Some("application/json"));
        assert_eq!(keys(&h.body), ["statuses"], "flat shape, no Cloud wrapper: {}", h.body);
    }
    let s: Vec<&Value> = hits.iter().flat_map(|h| h.body["statuses"].as_array().unwrap()).collect();
    assert_eq!(s.iter().map(|s| s["status"].as_str().unwrap()).collect::<Vec<_>>(), ["sent", "delivered", "read"]);
    for st in &s {
        assert_eq!(st["id"], id.as_str());
        assert_eq!(st["recipient_id"], "16315551234");
        assert!(st["timestamp"].as_str().unwrap().parse::<i64>().unwrap() > 1_600_000_000, "{st}");
    }
    // sent: conversation (opened here: with its expiration) and pricing.
    assert_eq!(keys(s[0]), ["conversation", "id", "pricing", "recipient_id", "status", "timestamp"]);
    let conversation = &s[0]["conversation"];
    let cid = conversation["id"].as_str().unwrap();
    assert!(cid.len() == 32 && cid.bytes().all(|b| b.is_ascii_hexdigit()), "{cid}");
    assert_eq!(conversation["origin"], json!({"type": "service"}));
    let ts: i64 = s[0]["timestamp"].as_str().unwrap().parse().unwrap();
    assert_eq!(conversation["expiration_timestamp"].as_i64(), Some(ts + 86_400), "an integer, 24 h on");
    assert_eq!(s[0]["pricing"], json!({"billable": true, "pricing_model": "CBP", "category": "service"}));
    // delivered: same conversation, no expiration; read: neither.
    assert_eq!(s[1]["conversation"], json!({"id": cid, "origin": {"type": "service"}}));
    assert_eq!(s[1]["pricing"], s[0]["pricing"]);
    assert_eq!(keys(s[2]), ["id", "recipient_id", "status", "timestamp"]);

    // A second message in the same day joins the conversation.
    let second = app.send_text(&admin, "16315551234", "hello").await;
    rx.wait_for_statuses(6, WAIT).await;
    let sent2 = rx.acked_statuses().into_iter().find(|s| s["id"] == second.as_str() && s["status"] == "sent").unwrap();
    assert_eq!(sent2["conversation"], json!({"id": cid, "origin": {"type": "service"}}));
}

#[tokio::test]
async fn inbound_messages_arrive_with_their_sender() {
    let (rx, app, admin) = receiving(fast().arg("--simulator-open-window")).await;

    let id = inbound(
        &app,
        &admin,
        json!({"from": "16315551234", "type": "text", "text": {"body": "Hello this is an answer"}, "profile": {"name": "Kerry Fisher"}}),
    )
    .await;
    let hits = rx.wait_for(WAIT, "the inbound text", |h| !h.is_empty()).await;
    let body = &hits[0].body;
    let ts = body["messages"][0]["timestamp"].as_str().expect("timestamp is a string").to_owned();
    assert_eq!(
        body,
        &json!({
            "contacts": [{"profile": {"name": "Kerry Fisher"}, "wa_id": "16315551234"}],
            "messages": [{"from": "16315551234", "id": id, "timestamp": ts, "type": "text", "text": {"body": "Hello this is an answer"}}]
        })
    );

    // Media: id, mime_type, sha256 (and the caption); the id downloads.
    inbound(
        &app,
        &admin,
        json!({"from": "16315551234", "type": "image", "image": {"data": "iVBORw0KGgo=", "mime_type": "image/png", "caption": "look"}}),
    )
    .await;
    let hits = rx.wait_for(WAIT, "the inbound image", |h| h.len() >= 2).await;
    let image = &hits[1].body["messages"][0]["image"];
    assert_eq!((image["mime_type"].as_str(), image["caption"].as_str()), (Some("image/png"), Some("look")));
    assert_eq!(image["sha256"].as_str().map(str::len), Some(64));
    let r =
        app.authed(Method::GET, &format!("/v1/media/{}", image["id"].as_str().unwrap()), &admin).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap().as_ref(), b"\x89PNG\r\n\x1a\n");

    // A customer who answers: the reply quotes the business message.
    configure(&app, &admin, json!({"webhooks": {"message": {"sent": false, "delivered": false, "read": false}}})).await;
    let out = app.send_text(&admin, "15550000005", "hello").await;
    let hits = rx.wait_for(WAIT, "the echo", |h| h.len() >= 3).await;
    let reply = &hits[2].body;
    assert_eq!(reply["contacts"][0]["wa_id"], "15550000005", "{reply}");
    assert_eq!(reply["messages"][0]["context"]["id"], out.as_str());
    assert_eq!(reply["messages"][0]["text"]["body"], "Echo: hello");
}

#[tokio::test]
async fn failures_are_reported_with_their_errors() {
    // No open window: a free-form message to a customer who never wrote fails.
    let (rx, app, admin) = receiving(fast()).await;
    let late = app.send_text(&admin, "16315551234", "hello").await;
    let nobody = app.send_message(&admin, json!({"to": "15550000001", "type": "text", "text": {"body": "x"}})).await;
    let pairs = rx.wait_for_statuses(2, WAIT).await;
    assert!(pairs.contains(&(late.clone(), "failed".into())) && pairs.contains(&(nobody.clone(), "failed".into())));
    for s in rx.acked_statuses() {
        assert_eq!(keys(&s), ["errors", "id", "recipient_id", "status", "timestamp"], "no conversation: {s}");
        let code = s["errors"][0]["code"].as_u64();
        assert_eq!(code, if s["id"] == late.as_str() { Some(470) } else { Some(1013) }, "{s}");
        assert!(s["errors"][0]["title"].is_string());
    }
}

#[tokio::test]
async fn template_statuses_carry_the_template_category() {
    let (rx, app, admin) = receiving(fast()).await;
    let template = json!({"namespace": "ns", "name": "promo", "language": "en", "category": "MARKETING",
        "components": [{"type": "BODY", "text": "Hi {{1}}"}]});
    let (s, b) = app.post(&admin, "/simulator/templates", template).await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["templates"][0]["category"], "MARKETING");
    let id = app
        .send_message(
            &admin,
            json!({"to": "16315551234", "type": "template", "template": {"namespace": "ns", "name": "promo",
            "language": {"policy": "deterministic", "code": "en"},
            "components": [{"type": "body", "parameters": [{"type": "text", "text": "Kerry"}]}]}}),
        )
        .await;
    rx.wait_for_statuses(3, WAIT).await;
    let s = rx.acked_statuses();
    assert!(s.iter().all(|s| s["id"] == id.as_str()));
    assert_eq!(s[0]["pricing"]["category"], "marketing");
    assert_eq!(s[0]["conversation"]["origin"]["type"], "marketing");
    assert!(s[0]["conversation"]["expiration_timestamp"].is_i64());
}

#[tokio::test]
async fn status_filters_follow_the_settings() {
    let (rx, app, admin) = receiving(fast().arg("--simulator-open-window")).await;
    // The legacy alias turns `sent` off; `read` off by its own key.
    configure(&app, &admin, json!({"sent_status": false, "webhooks": {"message": {"read": false}}})).await;
    let id = app.send_text(&admin, "16315551234", "hello").await;
    let failed = app.send_text(&admin, "15550000002", "hello").await;
    settled_message(&app, &admin, &id, WAIT).await;
    settled_message(&app, &admin, &failed, WAIT).await;
    drained(&app, &admin).await;
    let mut pairs = rx.acked_status_pairs();
    pairs.sort();
    let mut want = vec![(id.clone(), "delivered".to_owned()), (failed.clone(), "failed".to_owned())];
    want.sort();
    assert_eq!(pairs, want, "no sent, no read; failed always");

    // Back on: all three.
    configure(&app, &admin, json!({"webhooks": {"message": {"sent": true, "read": true}}})).await;
    let again = app.send_text(&admin, "16315551234", "hello").await;
    let pairs = rx.wait_for_statuses(5, WAIT).await;
    let of_again: Vec<&str> = pairs.iter().filter(|(i, _)| *i == again).map(|(_, s)| s.as_str()).collect();
    assert_eq!(of_again, ["sent", "delivered", "read"]);
}

#[tokio::test]
async fn without_a_url_callbacks_are_dropped_not_queued() {
    let rx = Receiver::start().await;
    let app = TestApp::spawn_with(fast().arg("--simulator-open-window")).await;
    let admin = app.admin_token().await;
    let id = app.send_text(&admin, "16315551234", "hello").await;
    inbound(&app, &admin, json!({"from": "16315550000", "type": "text", "text": {"body": "early"}})).await;
    settled_message(&app, &admin, &id, WAIT).await;
    assert_eq!(queue(&app, &admin).await["queue"]["pending"], 0);
    point_at(&app, &admin, &rx.url()).await;
    let later = inbound(&app, &admin, json!({"from": "16315550000", "type": "text", "text": {"body": "late"}})).await;
    rx.wait_for(WAIT, "the later message", |h| !h.is_empty()).await;
    drained(&app, &admin).await;
    let hits = rx.hits();
    assert_eq!(
        hits.len(),
        1,
        "nothing from before the URL was set is replayed: {:?}",
        hits.iter().map(|h| &h.body).collect::<Vec<_>>()
    );
    assert_eq!(hits[0].body["messages"][0]["id"], later.as_str());
}

/// Gaps between successive attempts at the receiver.
fn gaps(hits: &[crate::receiver::Hit]) -> Vec<Duration> {
    hits.windows(2).map(|w| w[1].at - w[0].at).collect()
}

fn assert_gap(gap: Duration, want_ms: u64) {
    let want = Duration::from_millis(want_ms);
    assert!(gap >= want.mul_f64(0.95) && gap <= want + Duration::from_millis(400), "gap {gap:?}, want ≈{want:?}");
}

#[tokio::test]
async fn only_200_acknowledges_and_retries_back_off_linearly() {
    let rx = Receiver::start().await;
    let app = TestApp::spawn_with(fast()).await;
    let admin = app.admin_token().await;
    configure(
        &app,
        &admin,
        json!({"webhooks": {"url": rx.url()}, "callback_backoff_delay_ms": "300", "max_callback_backoff_delay_ms": 100_000}),
    )
    .await;
    rx.script([Reply::status(500), Reply::status(204), Reply::status(404)]);
    let id = inbound(&app, &admin, json!({"from": "16315551234", "type": "text", "text": {"body": "again?"}})).await;
    let hits = rx.wait_for(WAIT, "four attempts", |h| h.len() >= 4).await;
    assert_eq!(hits.iter().map(|h| h.answered).collect::<Vec<_>>(), [500, 204, 404, 200]);
    assert!(hits.iter().all(|h| h.body == hits[0].body), "the same payload each time");
    assert_eq!(hits[0].body["messages"][0]["id"], id.as_str());
    let g = gaps(&hits);
    for (gap, want) in g.iter().zip([300, 600, 900]) {
        assert_gap(*gap, want);
    }
    // Acknowledged: no further attempt.
    drained(&app, &admin).await;
    assert_eq!(rx.hits().len(), 4);

    // The cap: 300, then 500 for every later failure.
    configure(&app, &admin, json!({"max_callback_backoff_delay_ms": "500"})).await;
    rx.script([Reply::status(500); 4]);
    inbound(&app, &admin, json!({"from": "16315551234", "type": "text", "text": {"body": "capped"}})).await;
    let hits = rx.wait_for(WAIT, "five more attempts", |h| h.len() >= 9).await;
    let g = gaps(&hits[4..]);
    for (gap, want) in g.iter().zip([300, 500, 500, 500]) {
        assert_gap(*gap, want);
    }
}

#[tokio::test]
async fn a_receiver_that_does_not_answer_in_time_is_retried() {
    let rx = Receiver::start().await;
    let app = TestApp::spawn_with(fast().arg("--webhook-timeout-ms").arg("300")).await;
    let admin = app.admin_token().await;
    configure(&app, &admin, json!({"webhooks": {"url": rx.url()}, "callback_backoff_delay_ms": 100})).await;
    rx.script([Reply::slow(200, Duration::from_millis(1500))]);
    let id = inbound(&app, &admin, json!({"from": "16315551234", "type": "text", "text": {"body": "slow"}})).await;
    let hits = rx.wait_for(WAIT, "the retry after the timeout", |h| h.len() >= 2).await;
    assert!(!hits[0].completed, "the first attempt was given up");
    assert_eq!((hits[1].answered, hits[1].completed), (200, true));
    assert_eq!(hits[1].body, hits[0].body);
    assert_eq!(hits[1].body["messages"][0]["id"], id.as_str());
    // Given up after 300 ms, retried 100 ms later.
    assert_gap(hits[1].at - hits[0].at, 400);
    drained(&app, &admin).await;
    let q = queue(&app, &admin).await;
    assert!(q["delivery"]["failed_requests"].as_u64().unwrap() >= 1, "{q}");
}

#[tokio::test]
async fn a_receiver_that_was_down_gets_everything_in_order() {
    let addr = Receiver::free_port();
    let app = TestApp::spawn_with(fast().arg("--simulator-open-window")).await;
    let admin = app.admin_token().await;
    configure(
        &app,
        &admin,
        json!({"webhooks": {"url": format!("http://{addr}/hook?auth=s3cr3t")},
               "callback_backoff_delay_ms": 50, "max_callback_backoff_delay_ms": 400}),
    )
    .await;
    let peers = ["16315550001", "16315550002", "16315550003"];
    let mut sent: Vec<(String, String)> = Vec::new();
    for i in 0..30 {
        let peer = peers[i % 3];
        sent.push((peer.to_owned(), app.send_text(&admin, peer, "hello").await));
    }
    // Wait until attempts have failed, then bring the receiver up.
    let deadline = Instant::now() + WAIT;
    loop {
        let q = queue(&app, &admin).await;
        // One callback per message: its three statuses were stored together.
        if q["delivery"]["failed_requests"].as_u64().unwrap_or(0) >= 3 && q["queue"]["pending"] == 30 {
            let first = &q["pending"][0];
            assert!(first["attempts"].as_u64().unwrap() >= 1, "{first}");
            assert!(first["last_result"].as_str().unwrap().starts_with("connection failed"), "{first}");
            assert!(first["next_attempt_at"].as_i64().unwrap() > first["created_at"].as_i64().unwrap());
            break;
        }
        assert!(Instant::now() < deadline, "no failed attempts seen: {q}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let rx = Receiver::start_on(addr).await;
    let pairs = rx.wait_for_statuses(90, WAIT).await;
    assert_eq!(pairs.len(), 90, "each status exactly once");
    let unique: HashSet<&(String, String)> = pairs.iter().collect();
    assert_eq!(unique.len(), 90);
    // Per recipient: the order things happened in.
    let position: HashMap<&(String, String), usize> = pairs.iter().enumerate().map(|(i, p)| (p, i)).collect();
    for (_, id) in &sent {
        let at = |s: &str| position[&(id.clone(), s.to_owned())];
        assert!(at("sent") < at("delivered") && at("delivered") < at("read"), "{id}: {pairs:?}");
    }
    for peer in peers {
        let ids: Vec<&String> = sent.iter().filter(|(p, _)| p == peer).map(|(_, id)| id).collect();
        let order: Vec<usize> = ids.iter().map(|id| position[&((*id).clone(), "sent".to_owned())]).collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{peer}'s sent statuses out of order: {order:?}");
    }
}

#[tokio::test]
async fn concurrency_is_limited_and_a_backlog_is_batched() {
    let rx = Receiver::start().await;
    rx.answer(Reply::slow(200, Duration::from_millis(100)));
    let app = TestApp::spawn_with(fast().arg("--simulator-open-window")).await;
    let admin = app.admin_token().await;
    point_at(&app, &admin, &rx.url()).await;
    let n = 60;
    for i in 0..n {
        app.send_text(&admin, &format!("1631555{:04}", 2000 + i), "hello").await;
    }
    let pairs = rx.wait_for_statuses(3 * n, WAIT).await;
    assert_eq!(pairs.iter().collect::<HashSet<_>>().len(), 3 * n);
    let max = rx.max_concurrent();
    assert!((2..=6).contains(&max), "at most max_concurrent_requests (6) at once, and more than one: {max}");
    let batched = rx.hits().iter().any(|h| h.body["statuses"].as_array().is_some_and(|a| a.len() > 1));
    assert!(batched, "a backlog larger than the limit shares POSTs");
    assert!(rx.hits().len() < 3 * n);

    // 12 allowed: more at once.
    configure(&app, &admin, json!({"webhooks": {"max_concurrent_requests": 12}})).await;
    rx.answer(Reply::slow(200, Duration::from_millis(300)));
    for i in 0..40 {
        app.send_text(&admin, &format!("1631556{:04}", 3000 + i), "hello").await;
    }
    rx.wait_for_statuses(3 * n + 120, WAIT).await;
    assert!(rx.max_concurrent() <= 12, "{}", rx.max_concurrent());
}

#[tokio::test]
async fn pending_callbacks_survive_a_restart() {
    let addr = Receiver::free_port();
    let app = TestApp::spawn_with(fast()).await;
    let admin = app.admin_token().await;
    configure(
        &app,
        &admin,
        json!({"webhooks": {"url": format!("http://{addr}/hook?auth=s3cr3t")}, "callback_backoff_delay_ms": 50}),
    )
    .await;
    let id = inbound(&app, &admin, json!({"from": "16315551234", "type": "text", "text": {"body": "keep me"}})).await;
    let app = app.restart().await;
    let rx = Receiver::start_on(addr).await;
    let hits = rx.wait_for(WAIT, "the message from before the restart", |h| !h.is_empty()).await;
    assert_eq!(hits[0].body["messages"][0]["id"], id.as_str());

    // callback_persist false: what is pending at a restart is dropped.
    let admin = app.admin_token().await;
    rx.answer(Reply::status(503));
    configure(&app, &admin, json!({"callback_persist": false})).await;
    inbound(&app, &admin, json!({"from": "16315551234", "type": "text", "text": {"body": "lose me"}})).await;
    rx.wait_for(WAIT, "an attempt", |h| h.len() >= 2).await;
    let app = app.restart().await;
    let admin = app.admin_token().await;
    assert_eq!(queue(&app, &admin).await["queue"]["pending"], 0);
}

#[tokio::test]
async fn the_admin_sees_each_callback_and_its_history() {
    let rx = Receiver::start().await;
    let app = TestApp::spawn_with(fast()).await;
    let admin = app.admin_token().await;
    configure(&app, &admin, json!({"webhooks": {"url": rx.url()}, "callback_backoff_delay_ms": 60_000})).await;
    rx.script([Reply::status(500)]);
    let id = inbound(&app, &admin, json!({"from": "16315551234", "type": "text", "text": {"body": "see me"}})).await;
    rx.wait_for(WAIT, "the first attempt", |h| !h.is_empty()).await;
    let deadline = Instant::now() + WAIT;
    let item = loop {
        let q = queue(&app, &admin).await;
        let item = q["pending"][0].clone();
        if item["attempts"] == 1 {
            assert_eq!(q["queue"]["pending"], 1);
            assert_eq!(q["delivery"]["failed_requests"], 1);
            break item;
        }
        assert!(Instant::now() < deadline, "{q}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!((item["state"].as_str(), item["kind"].as_str()), (Some("pending"), Some("messages")));
    assert_eq!((item["subject"].as_str(), item["last_result"].as_str()), (Some(id.as_str()), Some("HTTP 500")));
    let (last, next) = (item["last_attempt_at"].as_i64().unwrap(), item["next_attempt_at"].as_i64().unwrap());
    assert!((next - last - 60_000).abs() < 50, "first retry one step after the failure: {item}");
    let seq = item["seq"].as_i64().unwrap();
    let (s, b) = app.get(&admin, &format!("/wabiz/callbacks/{seq}")).await;
    assert_eq!((s.as_u16(), &b["callback"]["seq"]), (200, &json!(seq)));

    // A ROLE_USER may not look.
    let user = app.user_token(&admin, "agent", "Us3r-Passw0rd!").await;
    let (s, _) = app.get(&user, "/wabiz/callbacks").await;
    assert_eq!(s, 403);
    let (s, b) = app.get(&admin, "/wabiz/callbacks?limit=0").await;
    assert_code(s, &b, 400, 1009);
    let (s, b) = app.get(&admin, "/wabiz/callbacks/999999").await;
    assert_code(s, &b, 404, 1006);
}

#[tokio::test]
async fn customers_changing_number_and_deleting_messages_are_reported() {
    let (rx, app, admin) = receiving(fast()).await;

    // notify_user_change_number off (the default): nothing is sent.
    let (s, b) =
        app.post(&admin, "/simulator/customers/16315551234/change-number", json!({"new_wa_id": "16315559999"})).await;
    assert_eq!(s, 201, "{b}");
    configure(&app, &admin, json!({"notify_user_change_number": true})).await;
    let (s, b) = app
        .post(&admin, "/simulator/customers/16315551234/change-number", json!({"new_wa_id": "+1 631-555-8888"}))
        .await;
    assert_eq!(s, 201, "{b}");
    let id = b["messages"][0]["id"].as_str().unwrap().to_owned();
    let hits = rx.wait_for(WAIT, "the system message", |h| !h.is_empty()).await;
    let body = &hits[0].body;
    assert_eq!(keys(body), ["messages"], "system messages come without contacts: {body}");
    let m = &body["messages"][0];
    assert_eq!(
        (m["id"].as_str(), m["from"].as_str(), m["type"].as_str()),
        (Some(id.as_str()), Some("16315551234"), Some("system"))
    );
    assert_eq!(m["system"]["type"], "user_changed_number");
    assert_eq!(m["system"]["new_wa_id"], "16315558888");
    assert!(m["system"]["body"].as_str().unwrap().contains("16315558888"));
    let (s, b) = app.post(&admin, "/simulator/customers/16315551234/change-number", json!({})).await;
    assert_code(s, &b, 400, 1008);

    // A customer deletes a message: a `deleted` status for it.
    let sent = inbound(&app, &admin, json!({"from": "16315551234", "type": "text", "text": {"body": "oops"}})).await;
    let (s, b) = app.call(&admin, Method::POST, &format!("/simulator/messages/{sent}/delete"), None).await;
    assert_meta_only(s, &b, 200);
    let hits = rx.wait_for(WAIT, "the deleted status", |h| h.len() >= 3).await;
    let st = &hits[2].body["statuses"][0];
    assert_eq!(
        (st["id"].as_str(), st["status"].as_str(), st["recipient_id"].as_str()),
        (Some(sent.as_str()), Some("deleted"), Some("16315551234"))
    );
    let (s, b) = app.call(&admin, Method::POST, "/simulator/messages/nope/delete", None).await;
    assert_code(s, &b, 404, 1006);
}

#[tokio::test]
async fn background_contact_checks_report_by_webhook() {
    let (rx, app, admin) = receiving(fast().arg("--contacts-legacy-validation")).await;
    let (s, b) = app
        .post(&admin, "/v1/contacts", json!({"blocking": "no_wait", "contacts": ["+1 631-555-1234", "15550000001"]}))
        .await;
    assert_eq!(s, 200, "{b}");
    assert!(b["contacts"].as_array().unwrap().iter().all(|c| c["status"] == "processing"), "{b}");
    let hits = rx
        .wait_for(WAIT, "both results", |h| {
            h.iter().map(|h| h.body["contacts"].as_array().map_or(0, Vec::len)).sum::<usize>() >= 2
        })
        .await;
    let mut results: Vec<Value> =
        hits.iter().flat_map(|h| h.body["contacts"].as_array().cloned().unwrap_or_default()).collect();
    results.sort_by_key(|c| c["input"].as_str().unwrap_or("").to_owned());
    assert_eq!(
        results,
        [
            json!({"input": "+1 631-555-1234", "status": "valid", "wa_id": "16315551234"}),
            json!({"input": "15550000001", "status": "invalid"}),
        ]
    );
}

#[tokio::test]
async fn injected_errors_arrive_as_errors_callbacks() {
    let (rx, app, admin) = receiving(fast()).await;
    let (s, b) = app.post(&admin, "/simulator/errors", json!({"code": 1014, "details": "Simulated failure"})).await;
    assert_meta_only(s, &b, 200);
    let hits = rx.wait_for(WAIT, "the errors callback", |h| !h.is_empty()).await;
    assert_eq!(
        hits[0].body,
        json!({"errors": [{"code": 1014, "title": "Internal error", "details": "Simulated failure",
                           "href": "https://developers.facebook.com/docs/whatsapp/api/errors/"}]})
    );
    let (s, b) = app.post(&admin, "/simulator/errors", json!({"code": 99999})).await;
    assert_code(s, &b, 400, 1009);
    let (s, b) = app.post(&admin, "/simulator/errors", json!({})).await;
    assert_code(s, &b, 400, 1008);
}

#[tokio::test]
async fn callbacks_the_receiver_always_refuses_hold_back_only_their_own_customer() {
    let rx = Receiver::start().await;
    rx.refuse_containing("poison");
    // A tiny window: the refused callbacks could fill it if they were kept in memory.
    let app = TestApp::spawn_with(fast().arg("--webhook-window").arg("16")).await;
    let admin = app.admin_token().await;
    configure(
        &app,
        &admin,
        json!({"webhooks": {"url": rx.url()}, "callback_backoff_delay_ms": 20, "max_callback_backoff_delay_ms": 100}),
    )
    .await;
    for i in 0..20 {
        inbound(&app, &admin, json!({"from": format!("16315571{i:03}"), "type": "text", "text": {"body": "poison"}}))
            .await;
    }
    // A poisoned customer's next message waits behind its refused one.
    inbound(&app, &admin, json!({"from": "16315571000", "type": "text", "text": {"body": "after the poison"}})).await;
    let mut ok = Vec::new();
    for i in 0..50 {
        ok.push(
            inbound(&app, &admin, json!({"from": format!("16315572{i:03}"), "type": "text", "text": {"body": "fine"}}))
                .await,
        );
    }
    let hits = rx
        .wait_for(WAIT, "every other customer's message", |h| {
            let acked: HashSet<&str> = h
                .iter()
                .filter(|h| h.answered == 200)
                .flat_map(|h| h.body["messages"].as_array().into_iter().flatten())
                .filter_map(|m| m["id"].as_str())
                .collect();
            ok.iter().all(|id| acked.contains(id.as_str()))
        })
        .await;
    let refused = hits.iter().filter(|h| h.answered == 500).count();
    assert!(refused >= 20, "the refused ones were retried: {refused}");
    assert!(
        !hits.iter().any(|h| h.body.to_string().contains("after the poison")),
        "a customer's later message never overtakes its refused one"
    );
    // The acknowledged ones leave the database once their outcome is recorded.
    let deadline = Instant::now() + WAIT;
    loop {
        let q = queue(&app, &admin).await;
        assert!(q["queue"]["held_in_memory"].as_u64().unwrap() <= 16, "{q}");
        if q["queue"]["pending"] == 21 {
            break;
        }
        assert!(Instant::now() < deadline, "only the 20 refused and the one behind them stay: {q}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// "Retry now" (`POST /wabiz/callbacks/{seq}/retry`, the console's button):
/// a callback waiting 15 minutes for its second attempt gets it at once, is
/// delivered, and then is no longer waiting (404).
#[tokio::test]
async fn a_waiting_callback_is_retried_at_once() {
    let (rx, app, admin) =
        receiving(Spawn::default().arg("--allow-http-webhooks").arg("--simulator-open-window")).await;
    let (s, b) = app.patch(&admin, "/v1/settings/application", json!({"callback_backoff_delay_ms": 900_000})).await;
    assert!(s.is_success(), "{b}");
    rx.script([Reply::status(500)]);
    inbound(&app, &admin, json!({"from": "16315551234", "type": "text", "text": {"body": "retry me"}})).await;
    rx.wait_for(Duration::from_secs(10), "the first attempt", |hits| hits.len() == 1).await;
    let deadline = Instant::now() + WAIT;
    let seq = loop {
        let q = queue(&app, &admin).await;
        if let Some(c) = q["pending"].as_array().and_then(|p| p.first()).filter(|c| c["attempts"] == 1) {
            break c["seq"].as_i64().unwrap();
        }
        assert!(Instant::now() < deadline, "the failed attempt was not recorded: {q}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };

    let started = Instant::now();
    let (s, b) = app.post(&admin, &format!("/wabiz/callbacks/{seq}/retry"), json!({})).await;
    assert_eq!(s, 202, "{b}");
    let hits = rx.wait_for(Duration::from_secs(10), "the second attempt", |hits| hits.len() == 2).await;
    assert!(started.elapsed() < Duration::from_secs(60), "at once, not after the backoff");
    assert_eq!(hits[1].body, hits[0].body, "the same callback");
    drained(&app, &admin).await;
    // Delivered, it still names its customer and what it carried.
    let (s, b) = app.get(&admin, &format!("/wabiz/callbacks/{seq}")).await;
    assert_eq!(s, 200, "{b}");
    let delivered = &b["callback"];
    assert_eq!(
        (delivered["state"].as_str(), delivered["peer"].as_str()),
        (Some("delivered"), Some("16315551234")),
        "{b}"
    );
    assert_eq!(delivered["items"][0]["text"]["body"], "retry me", "{b}");
    let (s, b) = app.post(&admin, &format!("/wabiz/callbacks/{seq}/retry"), json!({})).await;
    assert_code(s, &b, 404, 1006);
}

/// "Send a test callback": one POST to the configured URL, outside the
/// queue, answered with what the receiver said; without a URL, or with an
/// `http://` one the server may not call, it says why nothing was sent.
#[tokio::test]
async fn a_test_callback_shows_the_receivers_answer() {
    let (rx, app, admin) = receiving(Spawn::default().arg("--allow-http-webhooks")).await;
    rx.script([Reply::status(503)]);
    let (s, b) = app.post(&admin, "/wabiz/webhook/test", json!({})).await;
    assert_eq!(s, 200, "{b}");
    let test = &b["test"];
    assert_eq!((test["status"].as_u64(), test["acknowledged"].as_bool()), (Some(503), Some(false)), "{b}");
    assert!(test["failure"].is_null(), "{b}");
    let hits = rx.wait_for(Duration::from_secs(10), "the test callback", |hits| hits.len() == 1).await;
    assert_eq!(hits[0].body["test"]["id"], test["id"], "the receiver got the body the answer names");
    for key in ["contacts", "messages", "statuses", "errors"] {
        assert!(hits[0].body.get(key).is_none(), "a test reports nothing: {}", hits[0].body);
    }
    let (s, b) = app.post(&admin, "/wabiz/webhook/test", json!({})).await;
    assert_eq!(
        (s.as_u16(), b["test"]["status"].as_u64(), b["test"]["acknowledged"].as_bool()),
        (200, Some(200), Some(true)),
        "{b}"
    );
    assert_eq!(queue(&app, &admin).await["queue"]["pending"], 0, "nothing was queued");

    // Nobody listening: the failure, not an error of the API.
    let (s, b) =
        app.patch(&admin, "/v1/settings/application", json!({"webhooks": {"url": "http://127.0.0.1:9/hook"}})).await;
    assert!(s.is_success(), "{b}");
    let (s, b) = app.post(&admin, "/wabiz/webhook/test", json!({})).await;
    assert_eq!(s, 200, "{b}");
    assert!(
        b["test"]["status"].is_null() && b["test"]["failure"].as_str().unwrap().contains("connection failed"),
        "{b}"
    );
    let (s, b) = app.patch(&admin, "/v1/settings/application", json!({"webhooks": {"url": ""}})).await;
    assert!(s.is_success(), "{b}");
    let (_, b) = app.post(&admin, "/wabiz/webhook/test", json!({})).await;
    assert!(b["test"]["failure"].as_str().unwrap().contains("no webhook URL"), "{b}");
}
