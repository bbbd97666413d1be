//! Chaos (`/simulator/chaos`, `/simulator/chaos/next`) on the real server:
//! seeded runs repeat, forced outcomes happen exactly, an outage holds
//! messages and lets them go, duplicated and disordered webhooks still give a
//! deduplicating receiver one final status per message, and plans survive a
//! restart.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::*;
use crate::webhooks::receiving;

const WAIT: Duration = Duration::from_secs(15);

fn statuses(m: &Value) -> Vec<String> {
    m["statuses"].as_array().unwrap().iter().map(|s| s["status"].as_str().unwrap().to_owned()).collect()
}

async fn put_chaos(app: &TestApp, admin: &str, chaos: Value) -> Value {
    let (s, b) = app.put(admin, "/simulator/chaos", chaos).await;
    assert_eq!(s, 200, "{b}");
    b["chaos"].clone()
}

/// How one message ended: its statuses and its failure's code, if any.
type Outcome = (Vec<String>, Option<u64>);

async fn outcome(app: &TestApp, admin: &str, id: &str) -> Outcome {
    let m = settled_message(app, admin, id, WAIT).await;
    let code = m["statuses"].as_array().unwrap().iter().find_map(|s| s["errors"][0]["code"].as_u64());
    (statuses(&m), code)
}

#[tokio::test]
async fn chaos_is_off_by_default_and_its_settings_are_checked() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (s, b) = app.get(&admin, "/simulator/chaos").await;
    assert_eq!(s, 200);
    assert_eq!(b["chaos"]["outage"], false);
    assert_eq!(b["chaos"]["failures"], json!([]));
    assert_eq!(b["chaos"]["next"], json!([]));

    let (s, b) = app.put(&admin, "/simulator/chaos", json!({"never_read": 1.5})).await;
    assert_one_error(
        s,
        &b,
        400,
        1009,
        "Parameter 'never_read' has invalid value '1.5': a share is a number from 0 to 1",
    );
    let (s, b) = app.put(&admin, "/simulator/chaos", json!({"failures": [{"rate": 0.1, "code": 1005}]})).await;
    assert_code(s, &b, 400, 1009);
    assert!(b["errors"][0]["details"].as_str().unwrap().contains("failures[0].code"), "{b}");
    let (s, b) = app.post(&admin, "/simulator/chaos/next", json!({"count": 0, "outcome": "read"})).await;
    assert_code(s, &b, 400, 1009);
    let (s, b) = app.post(&admin, "/simulator/chaos/next", json!({"outcome": "failed"})).await;
    assert_one_error(s, &b, 400, 1008, "Missing mandatory parameter 'code'");

    let full = json!({"seed": 3, "delays": {"read": [10, 20]}, "never_read": 0.5,
                      "failures": [{"rate": 0.25, "code": 470, "step": "accepted"}],
                      "webhooks": {"duplicate": 0.1, "out_of_order": 0.2, "out_of_order_ms": 500}, "outage": false});
    let shown = put_chaos(&app, &admin, full.clone()).await;
    for key in ["seed", "delays", "never_read", "failures", "webhooks", "outage"] {
        assert_eq!(shown[key], full[key], "{key}");
    }
    let shown = put_chaos(&app, &admin, json!({})).await;
    assert_eq!((shown["never_read"].as_f64(), shown["failures"].clone()), (Some(0.0), json!([])), "{{}} turns it off");
}

#[tokio::test]
async fn the_same_seed_and_the_same_sends_give_the_same_outcomes() {
    let app = TestApp::spawn_with(Spawn::instant_receipts().arg("--simulator-open-window")).await;
    let admin = app.admin_token().await;
    let chaos = json!({"seed": 20261206, "never_read": 0.3,
                       "failures": [{"rate": 0.2, "code": 470}, {"rate": 0.1, "code": 1026, "step": "sent"}]});
    let mut runs = Vec::new();
    for _ in 0..2 {
        put_chaos(&app, &admin, chaos.clone()).await;
        let mut run = Vec::new();
        for n in 0..40 {
            let id = app.send_text(&admin, &format!("163155{:05}", 10_000 + n), "hello").await;
            run.push(outcome(&app, &admin, &id).await);
        }
        runs.push(run);
    }
    assert_eq!(runs[0], runs[1], "the same seed, the same outcomes");
    let count = |f: &dyn Fn(&Outcome) -> bool| runs[0].iter().filter(|o| f(o)).count();
    let re_engagement = count(&|o| o.0 == ["failed"] && o.1 == Some(470));
    let incapable = count(&|o| o.0 == ["sent", "failed"] && o.1 == Some(1026));
    let unread = count(&|o| o.0 == ["sent", "delivered"]);
    let read = count(&|o| o.0 == ["sent", "delivered", "read"]);
    assert_eq!(re_engagement + incapable + unread + read, 40, "{:?}", runs[0]);
    assert!(re_engagement > 0 && incapable > 0 && unread > 0 && read > 0, "{:?}", runs[0]);

    // Another seed, another run.
    put_chaos(&app, &admin, json!({"seed": 1, "never_read": 0.3, "failures": chaos["failures"]})).await;
    let mut other = Vec::new();
    for n in 0..40 {
        let id = app.send_text(&admin, &format!("163155{:05}", 10_000 + n), "hello").await;
        other.push(outcome(&app, &admin, &id).await);
    }
    assert_ne!(other, runs[0]);
}

#[tokio::test]
async fn forced_outcomes_happen_to_the_next_messages_exactly() {
    let app = TestApp::spawn_with(Spawn::instant_receipts().arg("--simulator-open-window")).await;
    let admin = app.admin_token().await;
    let (s, b) =
        app.post(&admin, "/simulator/chaos/next", json!({"count": 2, "outcome": "failed", "code": 1026})).await;
    assert_eq!((s.as_u16(), b["waiting"].as_u64()), (200, Some(2)), "{b}");
    let (s, b) = app.post(&admin, "/simulator/chaos/next", json!({"outcome": "delivered"})).await;
    assert_eq!((s.as_u16(), b["waiting"].as_u64()), (200, Some(3)), "{b}");
    let (_, b) = app.get(&admin, "/simulator/chaos").await;
    assert_eq!(
        b["chaos"]["next"],
        json!([{"outcome": "failed", "code": 1026, "step": "sent", "count": 2}, {"outcome": "delivered", "count": 1}])
    );

    let mut got = Vec::new();
    for _ in 0..4 {
        let id = app.send_text(&admin, "16315551234", "hello").await;
        got.push(outcome(&app, &admin, &id).await);
    }
    let s = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    assert_eq!(
        got,
        [
            (s(&["sent", "failed"]), Some(1026)),
            (s(&["sent", "failed"]), Some(1026)),
            (s(&["sent", "delivered"]), None),
            (s(&["sent", "delivered", "read"]), None),
        ]
    );
    let (_, b) = app.get(&admin, "/simulator/chaos").await;
    assert_eq!(b["chaos"]["next"], json!([]));
}

#[tokio::test]
async fn an_outage_holds_messages_accepted_until_the_network_reconnects() {
    let app = TestApp::spawn_with(Spawn::instant_receipts().arg("--simulator-open-window")).await;
    let admin = app.admin_token().await;
    put_chaos(&app, &admin, json!({"outage": true})).await;
    let (s, b) = app.get(&admin, "/v1/health").await;
    assert_eq!(s, 200);
    assert_eq!(b["health"]["gateway_status"], "disconnected", "{b}");

    let ids = [app.send_text(&admin, "16315551234", "one").await, app.send_text(&admin, "16315551235", "two").await];
    // The worker would have moved them within milliseconds; give it ten times that.
    tokio::time::sleep(Duration::from_millis(300)).await;
    for id in &ids {
        let m = message_view(&app, &admin, id).await;
        assert_eq!(m["status"], "accepted", "{m}");
    }
    put_chaos(&app, &admin, json!({})).await;
    let (_, b) = app.get(&admin, "/v1/health").await;
    assert_eq!(b["health"]["gateway_status"], "connected");
    for id in &ids {
        assert_eq!(outcome(&app, &admin, id).await.0, ["sent", "delivered", "read"]);
    }
}

#[tokio::test]
async fn duplicated_callbacks_still_give_one_final_status_per_message() {
    let (rx, app, admin) = receiving(instant_open()).await;
    put_chaos(&app, &admin, json!({"seed": 5, "webhooks": {"duplicate": 1}})).await;
    let mut ids = Vec::new();
    for n in 0..5 {
        ids.push(app.send_text(&admin, &format!("1631555{:04}", 2000 + n), "hello").await);
    }
    // Three statuses each, every one twice.
    let pairs = rx.wait_for_statuses(30, WAIT).await;
    let mut seen: HashMap<(String, String), usize> = HashMap::new();
    for p in pairs {
        *seen.entry(p).or_default() += 1;
    }
    for id in &ids {
        for status in ["sent", "delivered", "read"] {
            assert_eq!(seen.get(&(id.clone(), status.to_owned())), Some(&2), "{id} {status}: {seen:?}");
        }
    }
    // Deduplicated by id and status: exactly one final status each.
    let finals = seen.keys().filter(|(_, s)| s == "read" || s == "failed").count();
    assert_eq!(finals, ids.len());
}

#[tokio::test]
async fn a_held_back_callback_is_overtaken_by_the_customers_later_ones() {
    let (rx, app, admin) = receiving(instant_open()).await;
    put_chaos(&app, &admin, json!({"webhooks": {"out_of_order": 1, "out_of_order_ms": 1500}})).await;
    let first = app.send_text(&admin, "16315551234", "first").await;
    put_chaos(&app, &admin, json!({})).await;
    let second = app.send_text(&admin, "16315551234", "second").await;
    let pairs = rx.wait_for_statuses(6, WAIT).await;
    let pos = |id: &str, status: &str| pairs.iter().position(|(i, s)| i == id && s == status).unwrap();
    assert!(pos(&second, "read") < pos(&first, "sent"), "the second message's statuses came first: {pairs:?}");
    // Within the held-back callback, the message's own statuses keep their order.
    assert!(pos(&first, "sent") < pos(&first, "delivered") && pos(&first, "delivered") < pos(&first, "read"));
}

#[tokio::test]
async fn a_plan_survives_a_restart_and_chaos_does_not() {
    // Default delays (100/500/2000 ms): the message is still on its way at the restart.
    let app = TestApp::spawn_with(Spawn::default().arg("--simulator-open-window")).await;
    let admin = app.admin_token().await;
    put_chaos(&app, &admin, json!({"never_read": 1})).await;
    let (s, _) = app.post(&admin, "/simulator/chaos/next", json!({"outcome": "delivered"})).await;
    assert_eq!(s, 200);
    let planned = app.send_text(&admin, "16315551234", "planned").await;
    let app = app.restart().await;
    let admin = app.admin_token().await;
    let (_, b) = app.get(&admin, "/simulator/chaos").await;
    assert_eq!(b["chaos"]["never_read"], 0.0, "chaos is off after a restart: {b}");
    let plain = app.send_text(&admin, "16315551234", "plain").await;
    assert_eq!(outcome(&app, &admin, &planned).await.0, ["sent", "delivered"], "its plan held across the restart");
    assert_eq!(outcome(&app, &admin, &plain).await.0, ["sent", "delivered", "read"]);
}
