//! Generated traffic (`/simulator/traffic`) on the real server: a run's
//! messages reach the webhook (counted there), a stop holds, a restart
//! resumes without sending anything twice, and requests are checked.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::*;
use crate::receiver::Receiver;

const WAIT: Duration = Duration::from_secs(30);

async fn start(app: &TestApp, admin: &str, body: Value) -> String {
    let (s, b) = app.post(admin, "/simulator/traffic", body).await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["traffic"][0]["state"], "running");
    b["traffic"][0]["id"].as_str().unwrap().to_owned()
}

async fn show(app: &TestApp, admin: &str, id: &str) -> Value {
    let (s, b) = app.get(admin, &format!("/simulator/traffic/{id}")).await;
    assert_eq!(s, 200, "{b}");
    b["traffic"][0].clone()
}

/// Polls the run until `done` holds (with a deadline).
async fn until(app: &TestApp, admin: &str, id: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + WAIT;
    loop {
        let run = show(app, admin, id).await;
        if done(&run) {
            return run;
        }
        assert!(Instant::now() < deadline, "{what} did not happen: {run}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The inbound messages the receiver acknowledged, by id (several times if delivered twice).
fn arrivals(rx: &Receiver) -> HashMap<String, Vec<Value>> {
    let mut by_id: HashMap<String, Vec<Value>> = HashMap::new();
    for m in rx.acked("messages") {
        by_id.entry(m["id"].as_str().unwrap().to_owned()).or_default().push(m);
    }
    by_id
}

async fn receiving() -> (Receiver, TestApp, String) {
    crate::webhooks::receiving(Spawn::default().arg("--allow-http-webhooks")).await
}

#[tokio::test]
async fn a_run_generates_its_mix_and_every_message_reaches_the_webhook() {
    let (rx, app, admin) = receiving().await;
    let id = start(
        &app,
        &admin,
        json!({"rate": 100, "count": 60, "customers": 5, "seed": 7, "types": {"text": 3, "image": 1, "location": 1}}),
    )
    .await;
    let run = until(&app, &admin, &id, "the run's end", |r| r["state"] == "finished").await;
    assert_eq!(run["generated"], 60, "{run}");
    assert!(run["rate_achieved"].as_f64().unwrap() > 0.0, "{run}");
    rx.wait_for(WAIT, "60 generated messages", |_| arrivals(&rx).len() >= 60).await;
    let by_id = arrivals(&rx);
    assert_eq!(by_id.len(), 60);
    assert!(by_id.values().all(|copies| copies.len() == 1), "each delivered once");
    let senders: HashSet<&str> = by_id.values().map(|m| m[0]["from"].as_str().unwrap()).collect();
    assert!(senders.len() <= 5 && senders.len() > 1, "{senders:?}");
    let types: HashSet<&str> = by_id.values().map(|m| m[0]["type"].as_str().unwrap()).collect();
    assert_eq!(types, HashSet::from(["text", "image", "location"]));
    // An image arrives as media the business can download.
    let image = by_id.values().find(|m| m[0]["type"] == "image").unwrap();
    let media = image[0]["image"]["id"].as_str().unwrap();
    let r = app.response(&admin, reqwest::Method::GET, &format!("/v1/media/{media}"), None).await;
    assert_eq!(r.status(), 200);
    // Every callback went out.
    let run = until(&app, &admin, &id, "every delivery", |r| r["delivered"] == 60).await;
    assert_eq!(run["pending_callbacks"], 0);
    // The list shows it too.
    let (_, b) = app.get(&admin, "/simulator/traffic").await;
    assert_eq!(b["traffic"][0]["id"], id.as_str());
}

#[tokio::test]
async fn a_stopped_run_generates_nothing_more() {
    let (_rx, app, admin) = receiving().await;
    let id = start(&app, &admin, json!({"rate": 20, "duration_s": 3600})).await;
    until(&app, &admin, &id, "a few messages", |r| r["generated"].as_u64() >= Some(3)).await;
    let (s, b) = app.delete(&admin, &format!("/simulator/traffic/{id}")).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["traffic"][0]["state"], "stopped");
    let at_stop = show(&app, &admin, &id).await["generated"].as_u64().unwrap();
    // At 20 messages per second, half a second would have made ten more.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let later = show(&app, &admin, &id).await;
    assert_eq!(later["generated"].as_u64(), Some(at_stop), "{later}");
    assert_eq!(later["state"], "stopped");
    let (s, b) = app.delete(&admin, "/simulator/traffic/ffffffff").await;
    assert_one_error(s, &b, 404, 1006, "Traffic run ffffffff not found");
}

#[tokio::test]
async fn a_restart_resumes_a_run_without_generating_anything_twice() {
    let (rx, app, admin) = receiving().await;
    let id = start(&app, &admin, json!({"rate": 25, "count": 50, "customers": 3})).await;
    let before = until(&app, &admin, &id, "some messages", |r| r["generated"].as_u64() >= Some(10)).await;
    assert!(before["generated"].as_u64() < Some(50), "the restart comes mid-run: {before}");
    let app = app.restart().await;
    let admin = app.admin_token().await;
    let run = until(&app, &admin, &id, "the run's end after the restart", |r| r["state"] == "finished").await;
    assert_eq!(run["generated"], 50, "{run}");
    rx.wait_for(WAIT, "50 generated messages", |_| arrivals(&rx).len() >= 50).await;
    let by_id = arrivals(&rx);
    assert_eq!(by_id.len(), 50, "nothing generated twice");
    assert!(by_id.values().all(|copies| copies.len() == 1), "nothing delivered twice");
}

#[tokio::test]
async fn requests_are_checked() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (s, b) = app.post(&admin, "/simulator/traffic", json!({"count": 5})).await;
    assert_one_error(s, &b, 400, 1008, "Missing mandatory parameter 'rate'");
    let (s, b) = app.post(&admin, "/simulator/traffic", json!({"rate": 5})).await;
    assert_code(s, &b, 400, 1008);
    let (s, b) = app.post(&admin, "/simulator/traffic", json!({"rate": 5, "count": 5, "types": {"fax": 1}})).await;
    assert_code(s, &b, 400, 1009);
    assert!(b["errors"][0]["details"].as_str().unwrap().contains("'fax'"), "{b}");
    let (s, b) = app.post(&admin, "/simulator/traffic", json!({"rate": 5000, "count": 5})).await;
    assert_code(s, &b, 400, 1009);
    let (s, b) = app.get(&admin, "/simulator/traffic/nothere").await;
    assert_code(s, &b, 404, 1006);
}
