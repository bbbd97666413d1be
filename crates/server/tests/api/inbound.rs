//! Simulated customers writing in (`POST /simulator/inbound`), the 24-hour
//! customer-service window, and marking received messages read.

use std::time::Duration;

use base64::Engine as _;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

const TEN_SECONDS: Duration = Duration::from_secs(10);

async fn inbound(app: &TestApp, token: &str, body: Value) -> (StatusCode, Value) {
    app.post(token, "/simulator/inbound", body).await
}

fn text_to(to: &str) -> Value {
    json!({"to": to, "text": {"body": "hello"}})
}

#[tokio::test]
async fn a_customer_message_is_stored_in_the_callback_shape() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (s, b) = inbound(
        &app,
        &admin,
        json!({"from": "+1 631 555 1234", "type": "text", "text": {"body": "Hello this is an answer"},
        "profile": {"name": "Kerry Fisher"}}),
    )
    .await;
    assert_eq!(s, 201, "{b}");
    let id = b["messages"][0]["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("AB") && id.len() == 28, "{id}");
    let m = message_view(&app, &admin, &id).await;
    assert_eq!(
        (m["direction"].as_str(), m["status"].as_str(), m["peer"].as_str()),
        (Some("inbound"), Some("received"), Some("16315551234"))
    );
    let cb = &m["content"];
    assert_eq!(cb["contacts"], json!([{"profile": {"name": "Kerry Fisher"}, "wa_id": "16315551234"}]));
    let msg = &cb["messages"][0];
    assert_eq!(
        (msg["from"].as_str(), msg["id"].as_str(), msg["type"].as_str()),
        (Some("16315551234"), Some(id.as_str()), Some("text"))
    );
    assert_eq!(msg["text"], json!({"body": "Hello this is an answer"}));
    assert!(msg["timestamp"].as_str().unwrap().parse::<i64>().is_ok(), "timestamp is a string of digits");
}

/// A customer written in without a profile still has a name, as every
/// WhatsApp user does: derived from the number, the same after a restart,
/// and different for another number.
#[tokio::test]
async fn every_customer_has_a_profile_name_that_stays() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let first = profile_name_of(&app, &admin, "16315551234").await;
    let other = profile_name_of(&app, &admin, "16315559876").await;
    assert!(!first.is_empty() && first.contains(' '), "a given and a family name: {first:?}");
    assert_ne!(first, other, "two customers, two names");
    let app = app.restart().await;
    let admin = app.admin_token().await;
    assert_eq!(profile_name_of(&app, &admin, "16315551234").await, first, "the same name after a restart");
}

/// The profile name in the callback of a text from `from`.
async fn profile_name_of(app: &TestApp, admin: &str, from: &str) -> String {
    let (s, b) = inbound(app, admin, json!({"from": from, "type": "text", "text": {"body": "hi"}})).await;
    assert_eq!(s, 201, "{b}");
    let m = message_view(app, admin, b["messages"][0]["id"].as_str().unwrap()).await;
    m["content"]["contacts"][0]["profile"]["name"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn customer_media_can_be_downloaded() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    // Documents are auto-downloaded (their callbacks name the stored file);
    // images are not (id only, fetched on demand).
    let (s, b) = app.patch(&admin, "/v1/settings/application", json!({"media": {"auto_download": ["document"]}})).await;
    assert!(s.is_success(), "{b}");
    let pdf = b"%PDF-1.4 customer invoice".to_vec();
    let data = base64::engine::general_purpose::STANDARD.encode(&pdf);
    let (s, b) = inbound(
        &app,
        &admin,
        json!({"from": "16315551234", "type": "document",
        "document": {"data": data, "mime_type": "application/pdf", "filename": "invoice.pdf", "caption": "Invoice"}}),
    )
    .await;
    assert_eq!(s, 201, "{b}");
    let m = message_view(&app, &admin, b["messages"][0]["id"].as_str().unwrap()).await;
    let doc = &m["content"]["messages"][0]["document"];
    assert_eq!(
        (doc["mime_type"].as_str(), doc["filename"].as_str(), doc["caption"].as_str()),
        (Some("application/pdf"), Some("invoice.pdf"), Some("Invoice"))
    );
    assert_eq!(doc["sha256"].as_str().map(str::len), Some(64));
    assert!(std::path::Path::new(doc["file"].as_str().unwrap()).exists(), "`file` is the stored file's path");
    let r =
        app.authed(Method::GET, &format!("/v1/media/{}", doc["id"].as_str().unwrap()), &admin).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    assert_eq!(r.bytes().await.unwrap().to_vec(), pdf);

    // Without bytes the simulator sends a sample of the right kind.
    for (kind, mime) in [
        ("image", "image/jpeg"),
        ("voice", "audio/ogg; codecs=opus"),
        ("video", "video/mp4"),
        ("sticker", "image/webp"),
        ("audio", "audio/mpeg"),
    ] {
        let (s, b) = inbound(&app, &admin, json!({"from": "16315551234", "type": kind, kind: {}})).await;
        assert_eq!(s, 201, "{kind}: {b}");
        let stored = message_view(&app, &admin, b["messages"][0]["id"].as_str().unwrap()).await;
        assert!(
            stored["content"]["messages"][0][kind].get("file").is_none(),
            "{kind} is not auto-downloaded: {stored}"
        );
        let m = message_view(&app, &admin, b["messages"][0]["id"].as_str().unwrap()).await;
        let media = &m["content"]["messages"][0][kind];
        assert_eq!(media["mime_type"], mime);
        let r = app
            .authed(Method::GET, &format!("/v1/media/{}", media["id"].as_str().unwrap()), &admin)
            .send()
            .await
            .unwrap();
        assert_eq!((r.status().as_u16(), r.headers()["content-type"].to_str().unwrap()), (200, mime));
    }
}

#[tokio::test]
async fn every_inbound_type_is_accepted_and_bad_ones_are_not() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let ok = [
        json!({"from": "16315551234", "type": "location", "location": {"latitude": 38.98, "longitude": -131.94, "name": "Home"}}),
        json!({"from": "16315551234", "type": "contacts", "contacts": [{"name": {"formatted_name": "John Smith"}}]}),
        json!({"from": "16315551234", "type": "button", "button": {"payload": "YES-123", "text": "Yes"}, "context": {"from": "16315550100", "id": "gBEGkYiEB1VXAglK1ZEqA1YKPrU"}}),
        json!({"from": "16315551234", "type": "interactive", "interactive": {"type": "button_reply", "button_reply": {"id": "yes", "title": "Yes"}}}),
        json!({"from": "16315551234", "type": "interactive", "interactive": {"type": "list_reply", "list_reply": {"id": "r1", "title": "Row", "description": "d"}}}),
    ];
    for body in ok {
        let (s, b) = inbound(&app, &admin, body.clone()).await;
        assert_eq!(s, 201, "{body} -> {b}");
        let m = message_view(&app, &admin, b["messages"][0]["id"].as_str().unwrap()).await;
        let kind = body["type"].as_str().unwrap();
        assert_eq!(m["content"]["messages"][0][kind], body[kind], "{kind}");
        if let Some(ctx) = body.get("context") {
            assert_eq!(&m["content"]["messages"][0]["context"], ctx);
        }
    }
    let bad = [
        (json!({"type": "text", "text": {"body": "x"}}), 1008),
        (json!({"from": "16315551234", "type": "fax", "fax": {}}), 1009),
        (json!({"from": "16315551234", "type": "text"}), 1008),
        (json!({"from": "16315551234", "type": "image", "image": {"data": "not base64!"}}), 1009),
        (json!({"from": "12", "type": "text", "text": {"body": "x"}}), 1009),
        (json!({"from": "16315550100", "type": "text", "text": {"body": "x"}}), 1021),
    ];
    for (body, code) in bad {
        let (s, b) = inbound(&app, &admin, body.clone()).await;
        assert_eq!((s.as_u16(), b["errors"][0]["code"].as_u64()), (400, Some(code)), "{body} -> {b}");
    }
    let user = app.user_token(&admin, "agent", "Passw0rd!").await;
    let (s, b) = inbound(&app, &user, json!({"from": "16315551234", "type": "text", "text": {"body": "x"}})).await;
    assert_error(s, &b, 403, 1005, Some("User doesn't have permission"));
}

#[tokio::test]
async fn free_form_messages_need_the_customer_service_window() {
    let app = TestApp::spawn_with(Spawn::instant_receipts()).await;
    let admin = app.admin_token().await;
    // Never wrote: outside the window. 201, then failed 470 without `sent`.
    let m = settled_message(&app, &admin, &app.send_message(&admin, text_to("16315551234")).await, TEN_SECONDS).await;
    let statuses: Vec<&str> = m["statuses"].as_array().unwrap().iter().map(|s| s["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["failed"]);
    assert_eq!(m["statuses"][0]["errors"][0]["code"], 470);
    assert_eq!(m["statuses"][0]["errors"][0]["title"], "Re-engagement message");

    // The customer writes: free-form messages go through for 24 hours.
    inbound(&app, &admin, json!({"from": "16315551234", "type": "text", "text": {"body": "hi"}})).await;
    let m = settled_message(&app, &admin, &app.send_message(&admin, text_to("16315551234")).await, TEN_SECONDS).await;
    assert_eq!(m["status"], "read", "{m}");
    let location = json!({"to": "16315551234", "type": "location", "location": {"latitude": 1.0, "longitude": 2.0}});
    assert_eq!(
        settled_message(&app, &admin, &app.send_message(&admin, location.clone()).await, TEN_SECONDS).await["status"],
        "read"
    );

    // 25 hours later the window is closed again; a template still goes through.
    app.clock.advance(25 * 3600);
    let m = settled_message(&app, &admin, &app.send_message(&admin, location).await, TEN_SECONDS).await;
    assert_eq!(m["statuses"][0]["errors"][0]["code"], 470, "{m}");
    let register = json!({"namespace": "ns", "name": "hello", "language": "en", "components": [{"type": "BODY", "text": "Hello"}]});
    let (s, _) = app.post(&admin, "/simulator/templates", register).await;
    assert_eq!(s, 201);
    let template = json!({"to": "16315551234", "type": "template", "template": {"namespace": "ns", "name": "hello",
        "language": {"policy": "deterministic", "code": "en"}}});
    assert_eq!(
        settled_message(&app, &admin, &app.send_message(&admin, template).await, TEN_SECONDS).await["status"],
        "read"
    );
}

#[tokio::test]
async fn the_open_window_flag_lets_everything_through() {
    let app = TestApp::spawn_with(Spawn::instant_receipts().arg("--simulator-open-window")).await;
    let admin = app.admin_token().await;
    let m = settled_message(&app, &admin, &app.send_message(&admin, text_to("16315551234")).await, TEN_SECONDS).await;
    assert_eq!(m["status"], "read");
}

#[tokio::test]
async fn received_messages_are_marked_read_with_the_earlier_ones() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let user = app.user_token(&admin, "agent", "Passw0rd!").await;
    let mut ids = Vec::new();
    for text in ["one", "two", "three"] {
        let (_, b) =
            inbound(&app, &admin, json!({"from": "16315551234", "type": "text", "text": {"body": text}})).await;
        ids.push(b["messages"][0]["id"].as_str().unwrap().to_owned());
    }
    let put = |id: &str| app.authed(Method::PUT, &format!("/v1/messages/{id}"), &user).json(&json!({"status": "read"}));
    let (s, b) = send(put(&ids[1])).await;
    assert_eq!((s.as_u16(), b["meta"].is_object(), b.get("errors").is_none()), (200, true, true), "{b}");
    let status = |m: Value| m["status"].as_str().unwrap().to_owned();
    assert_eq!(status(message_view(&app, &admin, &ids[0]).await), "read");
    assert_eq!(status(message_view(&app, &admin, &ids[1]).await), "read");
    assert_eq!(status(message_view(&app, &admin, &ids[2]).await), "received");
    let (s, _) = send(put(&ids[1])).await;
    assert_eq!(s, 200, "marking again is fine");
}

#[tokio::test]
async fn inbound_needs_a_registered_number() {
    let app = TestApp::spawn_with(Spawn::default().arg("--unregistered")).await;
    let admin = app.admin_token().await;
    let (s, b) = inbound(&app, &admin, json!({"from": "16315551234", "type": "text", "text": {"body": "x"}})).await;
    assert_error(s, &b, 500, 1011, Some("Service not ready"));
}

/// Polls a conversation until it holds `count` messages (with a deadline).
async fn conversation_of(app: &TestApp, admin: &str, wa_id: &str, count: usize) -> Vec<Value> {
    let deadline = std::time::Instant::now() + TEN_SECONDS;
    loop {
        let (s, b) = app.get(admin, &format!("/simulator/conversations/{wa_id}")).await;
        assert_eq!(s, 200, "{b}");
        let messages = b["messages"].as_array().cloned().unwrap_or_default();
        if messages.len() >= count {
            return messages;
        }
        assert!(std::time::Instant::now() < deadline, "conversation with {wa_id}: {b}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn answering_customers_reply_once_they_read() {
    let app = TestApp::spawn_with(Spawn::instant_receipts()).await;
    let admin = app.admin_token().await;
    let register = json!({"namespace": "ns", "name": "hello", "language": "en", "components": [{"type": "BODY", "text": "Hello"}]});
    assert_eq!(app.post(&admin, "/simulator/templates", register).await.0, 201);
    let template = json!({"to": "15550000005", "type": "template", "template": {"namespace": "ns", "name": "hello",
        "language": {"policy": "deterministic", "code": "en"}}});

    // The echo customer reads the template and answers, which opens the window...
    let first = app.send_message(&admin, template).await;
    let talk = conversation_of(&app, &admin, "15550000005", 2).await;
    assert_eq!(talk[0]["id"], first.as_str());
    let reply = &talk[1]["content"]["messages"][0];
    assert_eq!(talk[1]["direction"], "inbound");
    assert_eq!(reply["text"]["body"], "Echo: [template]");
    assert_eq!(reply["context"], json!({"from": "16315550100", "id": first}));
    assert_eq!(talk[1]["content"]["contacts"][0]["profile"]["name"], "Echo Customer");

    // ...so a text goes through, and comes back.
    let second = app.send_message(&admin, text_to("15550000005")).await;
    let talk = conversation_of(&app, &admin, "15550000005", 4).await;
    assert_eq!(talk[2]["id"], second.as_str());
    assert_eq!(talk[2]["status"], "read");
    assert_eq!(talk[3]["content"]["messages"][0]["text"]["body"], "Echo: hello");

    // The auto-replying customer, after writing first.
    inbound(&app, &admin, json!({"from": "15550000006", "type": "text", "text": {"body": "hi"}})).await;
    app.send_message(&admin, text_to("15550000006")).await;
    let talk = conversation_of(&app, &admin, "15550000006", 3).await;
    let body = talk[2]["content"]["messages"][0]["text"]["body"].as_str().unwrap();
    assert!(body.starts_with("Thanks for your message!"), "{body}");

    // Ordinary customers never answer.
    inbound(&app, &admin, json!({"from": "16315551234", "type": "text", "text": {"body": "hi"}})).await;
    let id = app.send_message(&admin, text_to("16315551234")).await;
    assert_eq!(settled_message(&app, &admin, &id, TEN_SECONDS).await["status"], "read");
    // Barrier: a later echo reply means the worker finished the iteration that
    // read the ordinary customer's message, replies included.
    app.send_message(&admin, text_to("15550000005")).await;
    conversation_of(&app, &admin, "15550000005", 6).await;
    assert_eq!(conversation_of(&app, &admin, "16315551234", 2).await.len(), 2, "no reply from an ordinary customer");
}
