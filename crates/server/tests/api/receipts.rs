//! Receipts on the simulated network: every accepted message moves on by the
//! rules of its customer (the magic numbers), after the configured delays, and
//! resumes after a restart. (These servers keep every customer inside the
//! 24-hour window; `inbound.rs` tests the window itself.) Observed through the simulator's message view;
//! webhook delivery of the same statuses is the webhook engine's.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::*;

fn statuses(m: &Value) -> Vec<String> {
    m["statuses"].as_array().unwrap().iter().map(|s| s["status"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn an_ordinary_customer_receives_and_reads() {
    let app = TestApp::spawn_with(Spawn::instant_receipts().arg("--simulator-open-window")).await;
    let admin = app.admin_token().await;
    let id = app.send_text(&admin, "16315551234", "hello").await;
    let m = settled_message(&app, &admin, &id, Duration::from_secs(10)).await;
    assert_eq!(statuses(&m), ["sent", "delivered", "read"]);
    assert_eq!(m["status"], "read");
    let times: Vec<i64> =
        m["statuses"].as_array().unwrap().iter().map(|s| s["timestamp"].as_str().unwrap().parse().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
}

/// With zero delays the network's steps are stored with the message: once
/// the 201 is answered, the message is already read, its history complete.
#[tokio::test]
async fn with_zero_delays_a_message_is_stored_with_its_steps() {
    let app = TestApp::spawn_with(Spawn::instant_receipts().arg("--simulator-open-window")).await;
    let admin = app.admin_token().await;
    for to in ["16315551234", "16315551234", "15550000003"] {
        let id = app.send_text(&admin, to, "hello").await;
        let m = message_view(&app, &admin, &id).await;
        let want: &[&str] = if to == "15550000003" { &["sent", "delivered"] } else { &["sent", "delivered", "read"] };
        assert_eq!(statuses(&m), want, "{to}: {m}");
        assert!(m["next_event_at"].is_null(), "nothing left for the worker: {m}");
    }
    // A slow customer's delivery is still the worker's, later.
    let id = app.send_text(&admin, "15550000004", "hello").await;
    let m = message_view(&app, &admin, &id).await;
    assert_eq!(statuses(&m), ["sent"], "{m}");
    assert!(m["next_event_at"].is_i64(), "{m}");
}

#[tokio::test]
async fn magic_numbers_behave_as_documented() {
    let app = TestApp::spawn_with(Spawn::instant_receipts().arg("--simulator-open-window")).await;
    let admin = app.admin_token().await;

    let m =
        settled_message(&app, &admin, &app.send_text(&admin, "15550000001", "hello").await, Duration::from_secs(10))
            .await;
    assert_eq!(statuses(&m), ["failed"], "not on WhatsApp: never sent");
    assert_eq!(m["statuses"][0]["errors"][0]["code"], 1013);

    let m =
        settled_message(&app, &admin, &app.send_text(&admin, "15550000002", "hello").await, Duration::from_secs(10))
            .await;
    assert_eq!(statuses(&m), ["sent", "failed"]);
    assert_eq!(m["statuses"][1]["errors"][0]["code"], 1026);

    let m =
        settled_message(&app, &admin, &app.send_text(&admin, "15550000003", "hello").await, Duration::from_secs(10))
            .await;
    assert_eq!(statuses(&m), ["sent", "delivered"], "delivered, and nothing left to do: never read");
    assert_eq!(m["status"], "delivered");
}

#[tokio::test]
async fn a_slow_customer_is_delivered_late() {
    let app = TestApp::spawn_with(Spawn::instant_receipts().arg("--simulator-open-window")).await;
    let admin = app.admin_token().await;
    let id = app.send_text(&admin, "15550000004", "hello").await;
    // Sent at once; delivery waits at least 5 s.
    let deadline = Instant::now() + Duration::from_secs(5);
    let m = loop {
        let m = message_view(&app, &admin, &id).await;
        if m["status"] == "sent" {
            break m;
        }
        assert!(Instant::now() < deadline, "{m}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let wait_ms = m["next_event_at"].as_i64().unwrap() - m["updated_at"].as_i64().unwrap() * 1000;
    assert!(wait_ms >= 4_000, "delivery scheduled {wait_ms} ms after sending");
    // Moving the server's clock past the delay delivers it.
    app.clock.advance(6);
    let m = settled_message(&app, &admin, &id, Duration::from_secs(10)).await;
    assert_eq!(statuses(&m), ["sent", "delivered", "read"]);
}

#[tokio::test]
async fn pending_receipts_resume_after_a_restart() {
    let slow = Spawn::default()
        .arg("--simulator-sent-delay-ms")
        .arg("0")
        .arg("--simulator-delivered-delay-ms")
        .arg("60000")
        .arg("--simulator-read-delay-ms")
        .arg("0")
        .arg("--simulator-open-window");
    let app = TestApp::spawn_with(slow).await;
    let admin = app.admin_token().await;
    let ids =
        [app.send_text(&admin, "16315551234", "hello").await, app.send_text(&admin, "16315551235", "hello").await];
    for id in &ids {
        let deadline = Instant::now() + Duration::from_secs(5);
        while message_view(&app, &admin, id).await["status"] != "sent" {
            assert!(Instant::now() < deadline);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let app = app.restart().await;
    app.clock.advance(61);
    for id in &ids {
        let m = settled_message(&app, &admin, id, Duration::from_secs(10)).await;
        assert_eq!(statuses(&m), ["sent", "delivered", "read"], "{id}");
    }
}

#[tokio::test]
async fn many_messages_all_settle() {
    let app = TestApp::spawn_with(Spawn::instant_receipts().arg("--simulator-open-window")).await;
    let admin = app.admin_token().await;
    let mut ids = Vec::new();
    for i in 0..200 {
        ids.push(app.send_text(&admin, &format!("1631555{:04}", 2000 + i), "hello").await);
    }
    for id in &ids {
        let m = settled_message(&app, &admin, id, Duration::from_secs(20)).await;
        assert_eq!(m["status"], "read", "{id}");
    }
}

#[tokio::test]
async fn a_message_undelivered_within_its_ttl_expires() {
    let app = TestApp::spawn_with(Spawn::instant_receipts().arg("--simulator-open-window")).await;
    let admin = app.admin_token().await;
    // The slow customer takes at least 5 s to receive; a 1 s ttl runs out first.
    let (s, b) =
        app.post(&admin, "/v1/messages", json!({"to": "15550000004", "ttl": 1, "text": {"body": "hurry"}})).await;
    assert_eq!(s, 201, "{b}");
    let id = b["messages"][0]["id"].as_str().unwrap().to_owned();
    let m = settled_message(&app, &admin, &id, Duration::from_secs(10)).await;
    assert_eq!(statuses(&m), ["sent", "failed"]);
    assert_eq!(m["statuses"][1]["errors"][0]["code"], 410);
    // A generous ttl changes nothing for an ordinary customer.
    let (_, b) = app
        .post(&admin, "/v1/messages", json!({"to": "16315551234", "ttl": {"days": 1}, "text": {"body": "no hurry"}}))
        .await;
    let m = settled_message(&app, &admin, b["messages"][0]["id"].as_str().unwrap(), Duration::from_secs(10)).await;
    assert_eq!(statuses(&m), ["sent", "delivered", "read"]);
}
