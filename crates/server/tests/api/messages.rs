//! `POST /v1/messages` and `PUT /v1/messages/{id}` (`messages.md`): the
//! synchronous answers. Receipts and asynchronous failures arrive by webhook.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

async fn stored(app: &TestApp, admin: &str, id: &str) -> (StatusCode, Value) {
    app.get(admin, &format!("/simulator/messages/{id}")).await
}

async fn upload(app: &TestApp, token: &str, mime: &str, bytes: Vec<u8>) -> String {
    let r = app.authed(Method::POST, "/v1/media", token).header("Content-Type", mime).body(bytes).send().await.unwrap();
    let (s, b) = json(r).await;
    assert_eq!(s, 201, "{b}");
    b["media"][0]["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_text_without_type_is_accepted_and_on_disk() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let user = app.user_token(&admin, "agent", "Passw0rd!").await;
    let (s, b) = app.post(&user, "/v1/messages", json!({"to": "16315551234", "text": {"body": "hi"}})).await;
    assert_eq!(s, 201, "{b}");
    assert!(b["meta"].is_object());
    assert_eq!(b["messages"].as_array().map(Vec::len), Some(1));
    let id = b["messages"][0]["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("gB") && id.len() == 27, "{id}");
    assert!(b.get("contacts").is_none(), "no contacts when `to` is already the wa_id: {b}");

    // A 201 means it is on disk: it is there after a restart.
    let app = app.restart().await;
    let (s, m) = stored(&app, &admin, &id).await;
    assert_eq!(s, 200, "{m}");
    assert_eq!(m["message"]["peer"], "16315551234");
    assert_eq!(m["message"]["type"], "text");
    assert_eq!(m["message"]["direction"], "outbound");
    assert_eq!(m["message"]["content"], json!({"body": "hi"}));
}

#[tokio::test]
async fn a_phone_number_recipient_is_resolved_and_echoed() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (s, b) = app
        .post(&admin, "/v1/messages", json!({"to": "+1 (631) 555-1234", "type": "text", "text": {"body": "x"}}))
        .await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["contacts"], json!([{"input": "+1 (631) 555-1234", "wa_id": "16315551234"}]));
    let (_, m) = stored(&app, &admin, b["messages"][0]["id"].as_str().unwrap()).await;
    assert_eq!(m["message"]["peer"], "16315551234");
}

#[tokio::test]
async fn webapp_validation_errors() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let cases: Vec<(Value, u64, Option<&str>)> = vec![
        (json!({"type": "text", "text": {"body": "hi"}}), 1008, Some("Missing mandatory parameter 'to'")),
        (json!({"to": "1", "type": "bogus"}), 1009, Some("Parameter 'type' has invalid value 'bogus'")),
        (json!({"to": "1", "type": "text"}), 1008, Some("Parameter 'text' is mandatory for type 'text'")),
        (
            json!({"to": "1", "type": "image", "image": {"id": "x"}, "text": {"body": "y"}}),
            1010,
            Some("Parameter 'text' is not required for type 'image'"),
        ),
        (
            json!({"to": "1", "type": "audio", "audio": {"id": "x", "caption": "c"}}),
            1010,
            Some("Parameter 'caption' is not required for type 'audio'"),
        ),
        (json!({"to": "1", "type": "image", "image": {"id": "x", "filename": "a.jpg"}}), 1010, None),
        (json!({"to": "1", "type": "text", "preview_url": "true", "text": {"body": "https://a.b"}}), 1009, None),
        (json!({"to": "1", "recipient_type": "team", "text": {"body": "x"}}), 1009, None),
        (
            json!({"to": "1", "type": "text", "ttl": "", "text": {"body": "x"}}),
            1009,
            Some("Empty TTL value not allowed"),
        ),
        (json!({"to": "1", "type": "text", "text": {"body": "x".repeat(4097)}}), 1001, None),
        (
            json!({"to": "1", "type": "template", "template": {"name": "t", "language": {"policy": "deterministic", "code": "en"}}}),
            1008,
            Some("Parameter 'namespace' is mandatory for type 'template'"),
        ),
        (
            json!({"to": "1", "type": "template", "template": {"namespace": "n", "name": "t", "language": {"code": "en"}}}),
            1008,
            None,
        ),
        (
            json!({"to": "1", "type": "template", "template": {"namespace": "n", "name": "t", "language": {"policy": "random", "code": "en"}}}),
            1009,
            None,
        ),
        (
            json!({"to": "1", "type": "hsm", "hsm": {"namespace": "n", "element_name": "e", "language": {"policy": "deterministic", "code": "en"}, "fallback_lg": "en", "fallback_lc": "US"}}),
            1010,
            None,
        ),
        (json!({"to": "1", "type": "image", "image": {"id": "x", "link": "https://a.b/c.jpg"}}), 1010, None),
    ];
    for (body, code, details) in cases {
        let (s, b) = app.post(&admin, "/v1/messages", body.clone()).await;
        assert_eq!(s, 400, "{body} -> {b}");
        assert_eq!(b["errors"][0]["code"].as_u64(), Some(code), "{body} -> {b}");
        if let Some(d) = details {
            assert_eq!(b["errors"][0]["details"], d, "{body}");
        }
    }
    // Two independent problems: two errors.
    let (s, b) = app.post(&admin, "/v1/messages", json!({"preview_url": "yes", "text": {"body": "x"}})).await;
    assert_eq!(s, 400);
    assert_eq!(b["errors"].as_array().map(Vec::len), Some(2), "{b}");
}

#[tokio::test]
async fn interactive_counts_are_checked_at_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let button = |i: usize| json!({"type": "reply", "reply": {"id": format!("b{i}"), "title": format!("B{i}")}});
    let four = json!({"to": "16315551234", "type": "interactive", "interactive": {"type": "button", "body": {"text": "?"},
        "action": {"buttons": (0..4).map(button).collect::<Vec<_>>()}}});
    let (s, b) = app.post(&admin, "/v1/messages", four).await;
    assert_error(s, &b, 400, 1009, b["errors"][0]["details"].as_str());
    let rows: Vec<Value> = (0..11).map(|i| json!({"id": format!("r{i}"), "title": format!("Row {i}")})).collect();
    let list = json!({"to": "16315551234", "type": "interactive", "interactive": {"type": "list", "body": {"text": "?"},
        "action": {"button": "Pick", "sections": [{"title": "All", "rows": rows}]}}});
    let (s, b) = app.post(&admin, "/v1/messages", list).await;
    assert_eq!((s.as_u16(), b["errors"][0]["code"].as_u64()), (400, Some(2016)), "{b}");
    let three = json!({"to": "16315551234", "type": "interactive", "interactive": {"type": "button", "body": {"text": "?"},
        "action": {"buttons": (0..3).map(button).collect::<Vec<_>>()}}});
    assert_eq!(app.post(&admin, "/v1/messages", three).await.0, 201);
}

#[tokio::test]
async fn every_message_type_is_accepted_in_its_documented_form() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let jpeg = upload(&app, &admin, "image/jpeg", vec![0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]).await;
    let pdf = upload(&app, &admin, "application/pdf", b"%PDF-1.4 test".to_vec()).await;
    let opus = upload(&app, &admin, "audio/ogg; codecs=opus", vec![1, 2, 3]).await;
    let bodies = vec![
        json!({"to": "16315551234", "type": "text", "preview_url": true, "text": {"body": "Visit https://www.whatsapp.com"}}),
        json!({"to": "16315551234", "type": "image", "image": {"id": jpeg, "caption": "Your receipt"}}),
        json!({"to": "16315551234", "type": "image", "image": {"link": "https://example.com/a.jpg"}}),
        json!({"to": "16315551234", "type": "document", "document": {"id": pdf, "caption": "Invoice", "filename": "invoice.pdf"}}),
        json!({"to": "16315551234", "type": "audio", "audio": {"id": opus}}),
        json!({"to": "16315551234", "type": "location", "location": {"longitude": -122.425332, "latitude": 37.758056, "name": "HQ", "address": "1 Hacker Way"}}),
        json!({"to": "16315551234", "type": "contacts", "contacts": [{"name": {"formatted_name": "John Smith"}, "phones": [{"phone": "+1 (650) 555-1234", "type": "WORK", "wa_id": "16505551234"}]}]}),
        json!({"to": "16315551234", "type": "template", "template": {"namespace": "business_a_namespace", "name": "order_update",
            "language": {"policy": "deterministic", "code": "en_US"},
            "components": [{"type": "body", "parameters": [{"type": "text", "text": "Jane"},
                {"type": "currency", "currency": {"fallback_value": "$100.99", "code": "USD", "amount_1000": 100990}}]}]}}),
        json!({"to": "16315551234", "type": "hsm", "hsm": {"namespace": "business_a_namespace", "element_name": "hello_world",
            "language": {"policy": "deterministic", "code": "en"}, "localizable_params": [{"default": "1234"}]}}),
    ];
    for body in bodies {
        let (s, b) = app.post(&admin, "/v1/messages", body.clone()).await;
        assert_eq!(s, 201, "{body} -> {b}");
        let (_, m) = stored(&app, &admin, b["messages"][0]["id"].as_str().unwrap()).await;
        assert_eq!(m["message"]["type"], body["type"], "{m}");
    }
}

#[tokio::test]
async fn media_ids_must_exist_and_suit_the_type() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (s, b) = app
        .post(
            &admin,
            "/v1/messages",
            json!({"to": "16315551234", "type": "image", "image": {"id": "f043afd0-f0ae-4b9c-ab3d-696fb4c8cd68"}}),
        )
        .await;
    assert_error(s, &b, 404, 1006, Some("Media id f043afd0-f0ae-4b9c-ab3d-696fb4c8cd68 not found"));
    let pdf = upload(&app, &admin, "application/pdf", b"%PDF".to_vec()).await;
    let (s, b) =
        app.post(&admin, "/v1/messages", json!({"to": "16315551234", "type": "image", "image": {"id": pdf}})).await;
    assert_error(s, &b, 400, 1009, Some("Unsupported media type 'application/pdf' for type 'image'"));
    let big_png = upload(&app, &admin, "image/png", vec![0u8; 6 * 1024 * 1024]).await;
    let (s, b) =
        app.post(&admin, "/v1/messages", json!({"to": "16315551234", "type": "image", "image": {"id": big_png}})).await;
    assert_error(s, &b, 400, 1009, Some("Media size exceeds limit for type 'image'"));
    // The same PDF is a fine document.
    let (s, _) = app
        .post(&admin, "/v1/messages", json!({"to": "16315551234", "type": "document", "document": {"id": pdf}}))
        .await;
    assert_eq!(s, 201);
}

#[tokio::test]
async fn state_dependent_refusals() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (s, b) = app.post(&admin, "/v1/messages", json!({"to": "16315550100", "text": {"body": "me"}})).await;
    assert_error(s, &b, 400, 1021, Some("Cannot send a message to your own number"));
    let (s, b) = app.post(&admin, "/v1/messages", json!({"to": "12", "text": {"body": "x"}})).await;
    assert_error(s, &b, 400, 1009, Some("Parameter 'to' has invalid value '12'"));
    let (s, b) = app
        .post(
            &admin,
            "/v1/messages",
            json!({"to": "16315558032-1530825318", "recipient_type": "group", "text": {"body": "x"}}),
        )
        .await;
    assert_error(s, &b, 404, 1012, Some("Group is unknown"));
    // Not JSON: the parameters read as missing.
    let r = app.authed(Method::POST, "/v1/messages", &admin).body(r#"{"to":"1"}"#).send().await.unwrap();
    let (s, b) = json(r).await;
    assert_error(s, &b, 400, 1008, Some("Missing mandatory parameter 'to'"));
    let r = app.request(Method::POST, "/v1/messages").json(&json!({"to": "1"})).send().await.unwrap();
    let (s, b) = json(r).await;
    assert_error(s, &b, 401, 1005, Some("Missing or invalid authentication credentials"));

    let app = TestApp::spawn_with(Spawn::default().arg("--unregistered")).await;
    let admin = app.admin_token().await;
    let (s, b) = app.post(&admin, "/v1/messages", json!({"to": "16315551234", "text": {"body": "x"}})).await;
    assert_error(s, &b, 500, 1011, Some("Service not ready"));
}

#[tokio::test]
async fn group_and_reaction_flags() {
    let app = TestApp::spawn_with(Spawn::default().arg("--disable-groups")).await;
    let admin = app.admin_token().await;
    let (s, b) = app
        .post(
            &admin,
            "/v1/messages",
            json!({"to": "16315558032-1530825318", "recipient_type": "group", "text": {"body": "x"}}),
        )
        .await;
    assert_eq!((s.as_u16(), b["errors"][0]["code"].as_u64()), (400, Some(1009)), "{b}");
    let reaction = json!({"to": "16315551234", "type": "reaction", "reaction": {"message_id": "ABGGFlA5FpafAgo6tHcNmNjXmuSf", "emoji": "👍"}});
    let (s, b) = app.post(&admin, "/v1/messages", reaction.clone()).await;
    assert_error(s, &b, 400, 1009, Some("Parameter 'type' has invalid value 'reaction'"));

    let app = TestApp::spawn_with(Spawn::default().arg("--enable-reactions")).await;
    let admin = app.admin_token().await;
    assert_eq!(app.post(&admin, "/v1/messages", reaction).await.0, 201);
}

#[tokio::test]
async fn mark_as_read_checks_its_input() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let put = |id: &str, body: Value| app.authed(Method::PUT, &format!("/v1/messages/{id}"), &admin).json(&body);
    let (s, b) = send(put("ABGGFlA5FpafAgo6tHcNmNjXmuSf", json!({}))).await;
    assert_error(s, &b, 400, 1008, Some("Missing mandatory parameter 'status'"));
    let (s, b) = send(put("ABGGFlA5FpafAgo6tHcNmNjXmuSf", json!({"status": "seen"}))).await;
    assert_error(s, &b, 400, 1009, Some("Parameter 'status' has invalid value 'seen'"));
    let (s, b) = send(put("ABGGFlA5FpafAgo6tHcNmNjXmuSf", json!({"status": "read"}))).await;
    assert_error(s, &b, 404, 1006, Some("Message ABGGFlA5FpafAgo6tHcNmNjXmuSf not found"));
    let (_, sent) = app.post(&admin, "/v1/messages", json!({"to": "16315551234", "text": {"body": "x"}})).await;
    let id = sent["messages"][0]["id"].as_str().unwrap().to_owned();
    let (s, b) = send(put(&id, json!({"status": "read"}))).await;
    assert_error(s, &b, 400, 1009, Some("Only received messages can be marked as read"));
    // GET and DELETE on a message id are the Webapp's no-ops.
    let (s, b) = app.get(&admin, &format!("/v1/messages/{id}")).await;
    assert_eq!((s.as_u16(), b["meta"].is_object()), (200, true));
}
