//! `/metrics` and `/v1/stats/*` (`health-stats.md` §3–§5): the On-Premises
//! JSON shape, and Prometheus text read back with a real exposition-format
//! parser (`prometheus-parse`).

use std::time::Duration;

use prometheus_parse::{Scrape, Value as PromValue};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::receiver::Receiver;

async fn text(app: &TestApp, token: &str, path: &str) -> (u16, String, String) {
    let r = app.authed(Method::GET, path, token).send().await.unwrap();
    let status = r.status().as_u16();
    let ct = r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    (status, ct, r.text().await.unwrap())
}

fn scrape(body: &str) -> Scrape {
    Scrape::parse(body.lines().map(|l| Ok(l.to_owned()))).expect("Prometheus text parses")
}

fn value(v: &PromValue) -> f64 {
    match v {
        PromValue::Counter(x) | PromValue::Gauge(x) | PromValue::Untyped(x) => *x,
        other => panic!("not a single value: {other:?}"),
    }
}

#[tokio::test]
async fn metrics_and_stats_in_both_formats() {
    let rx = Receiver::start().await;
    let app =
        TestApp::spawn_with(Spawn::instant_receipts().arg("--allow-http-webhooks").arg("--simulator-open-window"))
            .await;
    let admin = app.admin_token().await;
    let (s, b) = app.patch(&admin, "/v1/settings/application", json!({"webhooks": {"url": rx.url()}})).await;
    assert!(s.is_success(), "{b}");
    let (s, b) = app.post(&admin, "/v1/messages", json!({"to": "16315551234", "text": {"body": "count me"}})).await;
    assert_eq!(s, 201, "{b}");
    rx.wait_for_statuses(3, Duration::from_secs(20)).await;
    let node = app.app().node().to_string();

    // /metrics, JSON: the documented names, the node label on every sample.
    let (s, b) = app.get(&admin, "/metrics").await;
    assert_eq!(s, 200, "{b}");
    let m = &b["metrics"];
    assert_eq!(m["web_uptime"]["type"], "gauge");
    assert_eq!(m["web_uptime"]["data"][0]["labels"]["node"], node.as_str());
    let posts = m["api_requests_duration_ms_count"]["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["labels"]["method"] == "POST_v1_messages" && d["labels"]["result"] == "201")
        .cloned()
        .unwrap_or_else(|| panic!("no POST_v1_messages sample: {m}"));
    assert_eq!(posts["value"], 1);
    assert_eq!(posts["labels"]["node"], node.as_str());

    // /metrics, Prometheus text.
    let (s, ct, body) = text(&app, &admin, "/metrics?format=prometheus").await;
    assert_eq!(s, 200);
    assert!(ct.starts_with("text/plain"), "{ct}");
    let p = scrape(&body);
    let uptime = p.samples.iter().find(|s| s.metric == "web_uptime").expect("web_uptime");
    assert_eq!(uptime.labels.get("node"), Some(node.as_str()));
    let handled = p.samples.iter().find(|s| s.metric == "web_handled_requests").expect("web_handled_requests");
    assert!(value(&handled.value) >= 4.0, "{body}");
    assert!(p.docs.contains_key("api_requests_duration_ms_sum"));
    let media = p
        .samples
        .iter()
        .find(|s| {
            s.metric == "api_requests_duration_ms_count"
                && s.labels.get("method") == Some("PATCH_v1_settings_application")
        })
        .expect("settings sample");
    assert_eq!(value(&media.value), 1.0);
    let conns = p.samples.iter().find(|s| s.metric == "web_connections").expect("web_connections");
    assert!(value(&conns.value) >= 1.0, "{body}");
    let out = p.samples.iter().find(|s| s.metric == "web_out_kbytes").expect("web_out_kbytes");
    assert!(value(&out.value) >= 0.0);

    // /v1/stats/app: the callback queue and its deliveries.
    let (s, b) = app.get(&admin, "/v1/stats/app").await;
    assert_eq!(s, 200, "{b}");
    let stats = &b["stats"]["app"];
    assert_eq!(stats["callback_queue_size"]["data"][0]["value"], 0);
    let ok = stats["callback_requests"]["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["labels"] == json!({"result": "success", "type": "status_change"}))
        .cloned()
        .unwrap_or_else(|| panic!("{stats}"));
    assert_eq!(ok["value"], 1, "the three statuses stored together go in one POST");
    for (name, n) in
        [("out_message_sent", 1), ("out_message_delivered", 1), ("out_message_read", 1), ("out_message_failed", 0)]
    {
        assert_eq!(stats[name]["data"][0]["value"], n, "{name}: {stats}");
    }
    let sends = stats["endpoint_requests"]["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["labels"] == json!({"method": "POST_v1_messages", "result": "ok"}))
        .cloned()
        .unwrap_or_else(|| panic!("{stats}"));
    assert_eq!(sends["value"], 1);
    let (_, _, body) = text(&app, &admin, "/v1/stats/app?format=prometheus").await;
    let p = scrape(&body);
    let latency = p.samples.iter().find(|s| s.metric == "callback_delivery_latency_ms").expect("histogram");
    match &latency.value {
        PromValue::Histogram(buckets) => assert!(buckets.iter().any(|b| b.count >= 1.0), "{buckets:?}"),
        other => panic!("not a histogram: {other:?}"),
    }
    let delivered = p.samples.iter().find(|s| s.metric == "callbacks_delivered").expect("delivered");
    assert_eq!(value(&delivered.value), 1.0, "one callback holding three statuses");

    // /v1/stats/db: counted from the database.
    let (s, b) = app.get(&admin, "/v1/stats/db").await;
    assert_eq!(s, 200, "{b}");
    let db = &b["stats"]["db"];
    assert_eq!(db["db_messages"]["data"], json!([{"labels": {"type": "text"}, "value": 1}]));
    assert_eq!(db["db_message_receipts"]["data"][0]["value"], 3);
    assert_eq!(db["db_pending_callbacks"]["data"][0]["value"], 0);
    assert_eq!(db["db_pending_messages"]["data"][0]["value"], 0);
    let (_, _, body) = text(&app, &admin, "/v1/stats/db?format=prometheus").await;
    assert!(scrape(&body).samples.iter().any(|s| s.metric == "db_contacts"), "{body}");
    // Within 15 s of a count, the same snapshot: a call never scans the
    // database itself (the figures are recounted in the background later).
    app.send_text(&admin, "16315551234", "second").await;
    let (_, b) = app.get(&admin, "/v1/stats/db").await;
    assert_eq!(b["stats"]["db"]["db_messages"]["data"], json!([{"labels": {"type": "text"}, "value": 1}]), "{b}");

    // The internal variants nest one level deeper.
    let (s, b) = app.get(&admin, "/v1/stats/app/internal").await;
    assert_eq!(s, 200, "{b}");
    assert!(b["stats"]["app"]["internal"]["callbacks_held_in_memory"].is_object(), "{b}");
    let (_, b) = app.get(&admin, "/v1/stats/db/internal").await;
    assert_eq!(b["stats"]["db"]["internal"]["db_engine"]["data"][0]["labels"]["engine"], "sqlite");

    // A format that does not exist.
    let (s, b) = app.get(&admin, "/metrics?format=xml").await;
    assert_code(s, &b, 400, 1009);
    // Not under /v1.
    let (s, b) = app.get(&admin, "/v1/metrics").await;
    assert_code(s, &b, 404, 1006);
    let _: Value = b;
}

/// `GET /v1/support`: the documented fields, for any user, with nothing secret.
#[tokio::test]
async fn support_describes_the_installation() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let user = app.user_token(&admin, "agent", "Us3r-Passw0rd!").await;
    let (s, b) = app.get(&user, "/v1/support").await;
    assert_eq!(s, 200, "{b}");
    let sup = &b["support"];
    for key in [
        "context",
        "db_engine",
        "db_info",
        "debug_info",
        "description",
        "device_iso8601",
        "env",
        "expire_timestamp",
        "free_space_data",
        "free_space_logs",
        "free_space_media_incoming",
        "free_space_media_outgoing",
        "lc",
        "lg",
        "multi_connect",
        "os_name",
        "os_version",
        "schema",
        "socket_conn",
    ] {
        assert!(sup.get(key).is_some(), "{key} missing: {sup}");
    }
    assert_eq!(sup["context"], "healthcheck");
    assert_eq!(sup["db_engine"], "SQLITE");
    assert!(sup["db_info"][0].as_str().unwrap().starts_with("SQLite 3."), "{sup}");
    assert!(sup["schema"]["wabiz"].as_i64().unwrap() >= 14, "{sup}");
    assert!(sup["free_space_data"].as_u64().unwrap() > 0, "{sup}");
    assert_eq!(sup["multi_connect"], false);
    assert_eq!(sup["socket_conn"], "UP");
    // The simulated network registers its number at start.
    let (_, h) = app.get(&admin, "/v1/health").await;
    assert_eq!(h["health"]["gateway_status"], "connected");
    assert!(sup["debug_info"].as_str().unwrap().bytes().all(|c| c.is_ascii_digit()), "{sup}");
    let when = sup["device_iso8601"].as_str().unwrap();
    assert!(time::OffsetDateTime::parse(when, &time::format_description::well_known::Rfc3339).is_ok(), "{when}");
    assert!(sup["env"].as_array().unwrap().iter().all(|e| !e.as_str().unwrap().contains("API_KEY")));
}
