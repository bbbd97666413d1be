//! The simulator's approved-template registry and template sends checked
//! against it (201, then `failed` with the 2000-range code when they do not fit).

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

fn order_update() -> Value {
    json!({
        "namespace": "business_a_namespace",
        "name": "order_update",
        "language": "en_US",
        "components": [
            {"type": "HEADER", "format": "IMAGE"},
            {"type": "BODY", "text": "Hi {{1}}, your order of {{2}} ships on {{3}}."},
            {"type": "FOOTER", "text": "Reply STOP to opt out"},
            {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Track"}]}
        ]
    })
}

async fn register(app: &TestApp, admin: &str, template: Value) -> (reqwest::StatusCode, Value) {
    app.post(admin, "/simulator/templates", template).await
}

fn template_send(language: &str, header: Option<Value>, body_params: usize) -> Value {
    let mut components = Vec::new();
    if let Some(h) = header {
        components.push(json!({"type": "header", "parameters": [h]}));
    }
    let params: Vec<Value> = (0..body_params).map(|i| json!({"type": "text", "text": format!("p{i}")})).collect();
    components.push(json!({"type": "body", "parameters": params}));
    json!({"to": "16315551234", "type": "template", "template": {
        "namespace": "business_a_namespace", "name": "order_update",
        "language": {"policy": "deterministic", "code": language}, "components": components}})
}

fn image() -> Value {
    json!({"type": "image", "image": {"link": "https://example.com/h.jpg"}})
}

/// Sends, expects 201, and waits until the message has nothing left to do.
async fn outcome(app: &TestApp, admin: &str, body: Value) -> Value {
    let (s, b) = app.post(admin, "/v1/messages", body).await;
    assert_eq!(s, 201, "template sends are accepted even when they will fail: {b}");
    let id = b["messages"][0]["id"].as_str().unwrap().to_owned();
    settled_message(app, admin, &id, Duration::from_secs(10)).await
}

fn statuses(m: &Value) -> Vec<&str> {
    m["statuses"].as_array().unwrap().iter().map(|s| s["status"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn the_registry_is_managed_by_the_admin() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let user = app.user_token(&admin, "agent", "Passw0rd!").await;
    let (s, b) = register(&app, &admin, order_update()).await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["templates"][0]["name"], "order_update");
    let mut pt = order_update();
    pt["language"] = json!("pt_BR");
    assert_eq!(register(&app, &admin, pt).await.0, 201);
    // Same key again: replaced, not duplicated.
    assert_eq!(register(&app, &admin, order_update()).await.0, 201);
    let (s, b) = app.get(&admin, "/simulator/templates").await;
    assert_eq!(s, 200);
    assert_eq!(b["templates"].as_array().map(Vec::len), Some(2), "{b}");
    assert_eq!(b["templates"][0]["components"], order_update()["components"]);

    let (s, b) =
        register(&app, &admin, json!({"name": "x", "language": "en", "components": [{"type": "BODY", "text": "x"}]}))
            .await;
    assert_error(s, &b, 400, 1008, Some("Missing mandatory parameter 'namespace'"));
    let (s, b) = register(
        &app,
        &admin,
        json!({"namespace": "n", "name": "x", "language": "en", "components": [{"type": "CAROUSEL"}]}),
    )
    .await;
    assert_eq!((s.as_u16(), b["errors"][0]["code"].as_u64()), (400, Some(1009)), "{b}");

    let (s, b) = register(&app, &user, order_update()).await;
    assert_error(s, &b, 403, 1005, Some("User doesn't have permission"));
    let (s, _) = send(app.request(Method::GET, "/simulator/templates")).await;
    assert_eq!(s, 401);

    let delete = |q: &str| app.authed(Method::DELETE, &format!("/simulator/templates?{q}"), &admin);
    let (s, b) = send(delete("namespace=business_a_namespace&name=order_update&language=pt_BR")).await;
    assert_eq!((s.as_u16(), b["deleted"].as_u64()), (200, Some(1)), "{b}");
    let (s, b) = send(delete("namespace=business_a_namespace&name=order_update&language=pt_BR")).await;
    assert_error(s, &b, 404, 1006, Some("Template not found"));
    let (s, b) = send(delete("namespace=business_a_namespace&name=order_update")).await;
    assert_eq!((s.as_u16(), b["deleted"].as_u64()), (200, Some(1)), "{b}");
}

#[tokio::test]
async fn a_fitting_template_is_delivered_and_misfits_fail_by_status() {
    let app = TestApp::spawn_with(Spawn::instant_receipts()).await;
    let admin = app.admin_token().await;
    assert_eq!(register(&app, &admin, order_update()).await.0, 201);

    let m = outcome(&app, &admin, template_send("en_US", Some(image()), 3)).await;
    assert_eq!(statuses(&m), ["sent", "delivered", "read"]);

    let cases = [
        (template_send("pt_BR", Some(image()), 3), 2001),
        (template_send("en_US", Some(image()), 2), 2000),
        (template_send("en_US", None, 3), 2009),
        (
            template_send("en_US", Some(json!({"type": "video", "video": {"link": "https://example.com/v.mp4"}})), 3),
            2012,
        ),
    ];
    for (body, code) in cases {
        let m = outcome(&app, &admin, body.clone()).await;
        assert_eq!(statuses(&m), ["failed"], "{body}");
        assert_eq!(m["statuses"][0]["errors"][0]["code"], code, "{body}");
    }
    let mut unknown = template_send("en_US", Some(image()), 3);
    unknown["template"]["name"] = json!("no_such_template");
    let m = outcome(&app, &admin, unknown).await;
    assert_eq!(m["statuses"][0]["errors"][0]["code"], 2001);
}

#[tokio::test]
async fn hsm_sends_use_the_same_registry() {
    let app = TestApp::spawn_with(Spawn::instant_receipts()).await;
    let admin = app.admin_token().await;
    let hello = json!({"namespace": "business_a_namespace", "name": "hello_world", "language": "en",
        "components": [{"type": "BODY", "text": "Your code is {{1}}"}]});
    assert_eq!(register(&app, &admin, hello).await.0, 201);
    let hsm = |params: Vec<Value>| {
        json!({"to": "16315551234", "type": "hsm", "hsm": {"namespace": "business_a_namespace",
        "element_name": "hello_world", "language": {"policy": "deterministic", "code": "en"}, "localizable_params": params}})
    };
    let m = outcome(&app, &admin, hsm(vec![json!({"default": "1234"})])).await;
    assert_eq!(statuses(&m), ["sent", "delivered", "read"]);
    let m = outcome(&app, &admin, hsm(vec![])).await;
    assert_eq!(m["statuses"][0]["errors"][0]["code"], 2000);
}

/// A template's review status decides whether it can be sent: only an
/// approved one goes out; the others fail by status with their own code
/// (and the reason given), and a change applies to the next send.
#[tokio::test]
async fn only_approved_templates_are_sent_and_a_status_change_applies_at_once() {
    let app = TestApp::spawn_with(Spawn::instant_receipts()).await;
    let admin = app.admin_token().await;
    let mut pending = order_update();
    pending["status"] = json!("PENDING");
    assert_eq!(register(&app, &admin, pending).await.0, 201);
    let m = outcome(&app, &admin, template_send("en_US", Some(image()), 3)).await;
    assert_eq!((statuses(&m), &m["statuses"][0]["errors"][0]["code"]), (vec!["failed"], &json!(2001)), "{m}");

    let key = json!({"namespace": "business_a_namespace", "name": "order_update", "language": "en_US"});
    let with = |status: &str, reason: Option<&str>| {
        let mut change = key.clone();
        change["status"] = json!(status);
        if let Some(r) = reason {
            change["reason"] = json!(r);
        }
        change
    };
    for (status, reason, code) in [
        ("PAUSED", Some("Low quality rating"), 2061),
        ("REJECTED", Some("INVALID_FORMAT"), 2060),
        ("DISABLED", None, 2062),
    ] {
        let (s, b) = app.patch(&admin, "/simulator/templates", with(status, reason)).await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(
            (b["templates"][0]["status"].as_str(), b["templates"][0]["reason"].as_str()),
            (Some(status), reason)
        );
        let m = outcome(&app, &admin, template_send("en_US", Some(image()), 3)).await;
        let error = &m["statuses"][0]["errors"][0];
        assert_eq!((statuses(&m), &error["code"]), (vec!["failed"], &json!(code)), "{status}: {m}");
        let details = error["details"].as_str().unwrap_or_default();
        assert!(details.contains(&status.to_lowercase()), "{details}");
        if let Some(r) = reason {
            assert!(details.contains(r), "{details}");
        }
    }
    let (s, b) = app.patch(&admin, "/simulator/templates", with("approved", None)).await;
    assert_eq!((s.as_u16(), b["templates"][0]["status"].as_str()), (200, Some("APPROVED")), "{b}");
    let m = outcome(&app, &admin, template_send("en_US", Some(image()), 3)).await;
    assert_eq!(statuses(&m), ["sent", "delivered", "read"]);
    let (_, b) = app.get(&admin, "/simulator/templates").await;
    assert_eq!(b["templates"][0]["status"], "APPROVED");

    // Bad changes: an unknown status, a missing language, a template that
    // is not there, and a caller who is not an admin.
    let (s, b) = app.patch(&admin, "/simulator/templates", with("ARCHIVED", None)).await;
    assert_error(s, &b, 400, 1009, Some("Parameter 'status' has invalid value 'ARCHIVED'"));
    let mut no_language = with("PAUSED", None);
    no_language.as_object_mut().unwrap().remove("language");
    let (s, b) = app.patch(&admin, "/simulator/templates", no_language).await;
    assert_error(s, &b, 400, 1008, Some("Missing mandatory parameter 'language'"));
    let mut elsewhere = with("PAUSED", None);
    elsewhere["language"] = json!("de");
    let (s, b) = app.patch(&admin, "/simulator/templates", elsewhere).await;
    assert_eq!(s, 404, "{b}");
    let user = app.user_token(&admin, "agent", "Passw0rd!").await;
    let (s, _) = app.patch(&user, "/simulator/templates", with("PAUSED", None)).await;
    assert_eq!(s, 403);
}

/// Parameters that fit in number and kind may still break the text
/// policies (2004–2007), and button parameters must match the template's
/// buttons (2000, 2010, 2012); each fails by status with its code.
#[tokio::test]
async fn parameter_texts_and_buttons_are_held_to_the_policies() {
    let app = TestApp::spawn_with(Spawn::instant_receipts()).await;
    let admin = app.admin_token().await;
    let shipping = json!({
        "namespace": "business_a_namespace", "name": "shipping", "language": "en",
        "components": [
            {"type": "BODY", "text": "Hi {{1}}, your parcel is on its way."},
            {"type": "BUTTONS", "buttons": [
                {"type": "QUICK_REPLY", "text": "Thanks"},
                {"type": "URL", "text": "Track", "url": "https://example.com/track/{{1}}"}]}
        ]
    });
    assert_eq!(register(&app, &admin, shipping).await.0, 201);
    let long_notice = json!({
        "namespace": "business_a_namespace", "name": "long_notice", "language": "en",
        "components": [{"type": "BODY", "text": format!("{} {{{{1}}}}", "x".repeat(1000))}]
    });
    assert_eq!(register(&app, &admin, long_notice).await.0, 201);
    let send = |name: &str, body: &str, buttons: Value| {
        let mut components = vec![json!({"type": "body", "parameters": [{"type": "text", "text": body}]})];
        components.extend(buttons.as_array().cloned().unwrap_or_default());
        json!({"to": "16315551234", "type": "template", "template": {
            "namespace": "business_a_namespace", "name": name,
            "language": {"policy": "deterministic", "code": "en"}, "components": components}})
    };
    let url = |index: u8, suffix: &str| json!({"type": "button", "sub_type": "url", "index": index.to_string(), "parameters": [{"type": "text", "text": suffix}]});
    let quick = |index: u8| json!({"type": "button", "sub_type": "quick_reply", "index": index, "parameters": [{"type": "payload", "payload": "THX"}]});

    let m = outcome(&app, &admin, send("shipping", "Jane", json!([quick(0), url(1, "order/123")]))).await;
    assert_eq!(statuses(&m), ["sent", "delivered", "read"], "{m}");

    let cases = [
        (send("shipping", &"a".repeat(1025), json!([url(1, "o")])), 2004),
        (send("long_notice", &"b".repeat(100), json!([])), 2005),
        (send("shipping", "two\nlines", json!([url(1, "o")])), 2006),
        (send("shipping", "tab\there", json!([url(1, "o")])), 2006),
        (send("shipping", "wide     gap", json!([url(1, "o")])), 2006),
        (send("shipping", "zero\u{200B}width", json!([url(1, "o")])), 2007),
        (send("shipping", "Jane", json!([])), 2000),
        (send("shipping", "Jane", json!([url(1, "o"), quick(2)])), 2000),
        (send("shipping", "Jane", json!([quick(1)])), 2012),
        (send("shipping", "Jane", json!([url(0, "o"), url(1, "o")])), 2012),
        (send("shipping", "Jane", json!([url(1, "order 123")])), 2010),
    ];
    for (body, code) in cases {
        let m = outcome(&app, &admin, body.clone()).await;
        assert_eq!(statuses(&m), ["failed"], "{body}");
        assert_eq!(m["statuses"][0]["errors"][0]["code"], code, "{body}: {m}");
    }
}
