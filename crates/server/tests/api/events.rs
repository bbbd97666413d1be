//! The event stream (`GET /simulator/events`), read as Server-Sent Events
//! from the real server: what a send, a customer, a webhook and the control
//! API produce, the filters, resuming with `Last-Event-ID`, and the stream
//! token browsers open it with.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::*;
use crate::sse::{SseEvent, SseStream};
use crate::webhooks::{configure, receiving};

const WAIT: Duration = Duration::from_secs(10);

async fn open(app: &TestApp, admin: &str, query: &str, last_event_id: Option<&str>) -> SseStream {
    let mut rb = app.authed(Method::GET, &format!("/simulator/events{query}"), admin);
    if let Some(id) = last_event_id {
        rb = rb.header("Last-Event-ID", id);
    }
    let mut stream = SseStream::new(rb.send().await.expect("stream opens"));
    let ready = stream.next(WAIT).await.expect("a first event");
    assert_eq!(ready.event, "ready", "{ready:?}");
    stream
}

fn about<'a>(events: &'a [SseEvent], id: &str) -> Vec<&'a SseEvent> {
    events
        .iter()
        .filter(|e| e.data["id"] == id || e.data["messages"].as_array().is_some_and(|m| m.contains(&json!(id))))
        .collect()
}

#[tokio::test]
async fn a_send_its_statuses_and_its_webhook_are_events_in_order() {
    let (_rx, app, admin) = receiving(instant_open()).await;
    let mut stream = open(&app, &admin, "", None).await;

    let id = app.send_text(&admin, "16315551234", "hello").await;
    let events = stream
        .until(WAIT, |e| {
            e.event == "callback_attempt" && e.data["messages"].as_array().is_some_and(|m| m.contains(&json!(id)))
        })
        .await;
    let mine: Vec<(String, String)> = about(&events, &id)
        .iter()
        .map(|e| (e.event.clone(), e.data["status"].as_str().unwrap_or_default().to_owned()))
        .collect();
    assert_eq!(
        mine,
        [
            ("message_accepted".to_owned(), String::new()),
            ("message_status".to_owned(), "sent".to_owned()),
            ("message_status".to_owned(), "delivered".to_owned()),
            ("message_status".to_owned(), "read".to_owned()),
            ("callback_attempt".to_owned(), String::new()),
        ]
    );
    let attempt = &about(&events, &id)[4].data;
    assert_eq!(
        (attempt["delivered"].as_bool(), attempt["wa_id"].as_str()),
        (Some(true), Some("16315551234")),
        "{attempt}"
    );
    assert_eq!(attempt["result"], "HTTP 200");
    // Every event has its place: consecutive ids of one stream, `seq` and `at`.
    let seqs: Vec<u64> = events.iter().map(|e| e.data["seq"].as_u64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    assert!(events.iter().all(|e| e.id.as_deref().is_some_and(|i| i.ends_with(&format!("-{}", e.data["seq"])))));
    assert!(events.iter().all(|e| e.data["at"].is_i64() && e.data["type"] == e.event.as_str()));

    // A customer writing in, a contact check, a settings change, a template's status.
    let (s, _) = app
        .post(&admin, "/simulator/inbound", json!({"from": "16315559999", "type": "text", "text": {"body": "hi"}}))
        .await;
    assert!(s.is_success());
    let e = stream.until(WAIT, |e| e.event == "message_inbound").await;
    assert_eq!(e.last().unwrap().data["wa_id"], "16315559999");
    let (s, _) = app.post(&admin, "/v1/contacts", json!({"contacts": ["+1 631-555-1234"], "blocking": "wait"})).await;
    assert!(s.is_success());
    let e = stream.until(WAIT, |e| e.event == "contact_check").await;
    assert_eq!(
        (e.last().unwrap().data["wa_id"].as_str(), e.last().unwrap().data["status"].as_str()),
        (Some("16315551234"), Some("valid"))
    );
    configure(&app, &admin, json!({"sent_status": false})).await;
    stream.until(WAIT, |e| e.event == "settings_changed").await;
    let (s, b) = app
        .post(
            &admin,
            "/simulator/templates",
            json!({"namespace": "ns", "name": "t", "language": "en", "components": [{"type": "BODY", "text": "Hi"}]}),
        )
        .await;
    assert!(s.is_success(), "{b}");
    let (s, b) = app
        .patch(
            &admin,
            "/simulator/templates",
            json!({"namespace": "ns", "name": "t", "language": "en", "status": "PAUSED", "reason": "quality"}),
        )
        .await;
    assert!(s.is_success(), "{b}");
    let e = stream.until(WAIT, |e| e.event == "template_status").await;
    assert_eq!(
        (e.last().unwrap().data["status"].as_str(), e.last().unwrap().data["reason"].as_str()),
        (Some("PAUSED"), Some("quality"))
    );
}

#[tokio::test]
async fn filters_keep_only_the_types_and_the_customer_asked_for() {
    let app = TestApp::spawn_with(Spawn::instant_receipts().arg("--simulator-open-window")).await;
    let admin = app.admin_token().await;
    let mut stream = open(&app, &admin, "?types=message_status,message_inbound&wa_id=16315551111", None).await;
    app.send_text(&admin, "16315552222", "not this one").await;
    let id = app.send_text(&admin, "16315551111", "this one").await;
    let events = stream.until(WAIT, |e| e.data["status"] == "read").await;
    assert!(events.iter().all(|e| e.event == "message_status" && e.data["wa_id"] == "16315551111"), "{events:?}");
    assert_eq!(events.iter().map(|e| e.data["id"].as_str().unwrap()).collect::<Vec<_>>(), [id.as_str(); 3]);

    let (s, b) = app.call(&admin, Method::GET, "/simulator/events?types=message_status,nonsense", None).await;
    assert_one_error(
        s,
        &b,
        400,
        1009,
        "Unknown event type 'nonsense' in 'types'; known types: message_accepted, message_status, message_inbound, contact_check, callback_attempt, settings_changed, registration_changed, chaos_changed, template_status, traffic",
    );
}

#[tokio::test]
async fn a_reader_resumes_after_the_last_event_it_saw() {
    let app = TestApp::spawn_with(Spawn::instant_receipts().arg("--simulator-open-window")).await;
    let admin = app.admin_token().await;
    let mut stream = open(&app, &admin, "?types=message_accepted", None).await;
    let first = app.send_text(&admin, "16315551234", "one").await;
    let seen = stream.next(WAIT).await.unwrap();
    assert_eq!(seen.data["id"], first.as_str());
    drop(stream);

    // Missed while disconnected.
    let mut missed = Vec::new();
    for n in 0..3 {
        missed.push(app.send_text(&admin, "16315551234", &format!("missed {n}")).await);
    }
    let mut stream = open(&app, &admin, "?types=message_accepted", seen.id.as_deref()).await;
    for id in &missed {
        assert_eq!(stream.next(WAIT).await.unwrap().data["id"], id.as_str());
    }
    let live = app.send_text(&admin, "16315551234", "live").await;
    assert_eq!(stream.next(WAIT).await.unwrap().data["id"], live.as_str(), "then live ones, nothing twice");

    // An id from another run of the server: told so, then everything retained.
    let mut stream = open(&app, &admin, "?types=message_accepted", Some("0-5")).await;
    let gap = stream.next(WAIT).await.unwrap();
    assert_eq!(gap.event, "gap", "{gap:?}");
    assert_eq!(stream.next(WAIT).await.unwrap().data["id"], first.as_str());
    // The query parameter works where a header cannot be set.
    let mut stream =
        open(&app, &admin, &format!("?types=message_accepted&last_event_id={}", seen.id.unwrap()), None).await;
    assert_eq!(stream.next(WAIT).await.unwrap().data["id"], missed[0].as_str());
}

#[tokio::test]
async fn a_stream_token_opens_the_stream_and_nothing_else() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (s, b) = app.post(&admin, "/simulator/events/token", json!({})).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let token = b["stream_token"]["token"].as_str().unwrap().to_owned();
    assert!(b["stream_token"]["expires_at"].as_i64().unwrap() > 0);

    let r = app.client.get(app.url(&format!("/simulator/events?token={token}"))).send().await.unwrap();
    let mut stream = SseStream::new(r);
    assert_eq!(stream.next(WAIT).await.unwrap().event, "ready");

    // Not a bearer token, not for other routes, not guessable.
    let r = app.client.get(app.url(&format!("/simulator/chaos?token={token}"))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let (s, _) = app.call(&token, Method::GET, "/simulator/events", None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let r = app.client.get(app.url("/simulator/events?token=0123456789abcdef")).send().await.unwrap();
    let (s, b) = json(r).await;
    assert_one_error(s, &b, 401, 1005, "Invalid or expired stream token");
    let r = app.client.get(app.url("/simulator/events")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // It expires.
    app.clock.advance(301);
    let r = app.client.get(app.url(&format!("/simulator/events?token={token}"))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // Only admins mint them.
    let user = app.user_token(&admin, "viewer", "Us3r-Passw0rd!").await;
    let (s, _) = app.post(&user, "/simulator/events/token", json!({})).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn registration_and_chaos_changes_are_events() {
    let app =
        TestApp::spawn_with(Spawn::default().arg("--unregistered").arg("--simulator-registration-code").arg("123456"))
            .await;
    let admin = app.admin_token().await;
    let mut stream = open(&app, &admin, "?types=registration_changed,chaos_changed", None).await;
    let body = json!({"cc": "1", "phone_number": "6315551234", "method": "sms", "cert": crate::registration::acme()});
    let (s, b) = app.post(&admin, "/v1/account", body).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    let e = stream.next(WAIT).await.unwrap();
    assert_eq!((e.event.as_str(), e.data["gateway_status"].as_str()), ("registration_changed", Some("unregistered")));
    let (s, b) = app.post(&admin, "/v1/account/verify", json!({"code": "123-456"})).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let e = stream.next(WAIT).await.unwrap();
    assert_eq!(
        (e.data["gateway_status"].as_str(), e.data["wa_id"].as_str()),
        (Some("connected"), Some("16315551234")),
        "{e:?}"
    );
    let (s, _) = app.put(&admin, "/simulator/chaos", json!({"outage": true})).await;
    assert_eq!(s, StatusCode::OK);
    let e = stream.next(WAIT).await.unwrap();
    assert_eq!((e.event.as_str(), e.data["chaos"]["outage"].as_bool()), ("chaos_changed", Some(true)));
}
