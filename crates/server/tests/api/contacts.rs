//! `POST /v1/contacts` (`contacts.md`), with the v2.43+ answers.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

async fn check(app: &TestApp, token: &str, body: Value) -> (reqwest::StatusCode, Value) {
    app.post(token, "/v1/contacts", body).await
}

#[tokio::test]
async fn a_number_in_any_format_is_valid_with_its_wa_id() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (s, b) = check(&app, &admin, json!({"blocking": "wait", "contacts": ["+1 (516) 283-7151"]})).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["contacts"], json!([{"input": "+1 (516) 283-7151", "status": "valid", "wa_id": "15162837151"}]));
    assert!(b["meta"].is_object());
}

#[tokio::test]
async fn order_and_inputs_are_preserved_and_national_numbers_get_the_business_country() {
    let app = TestApp::spawn().await;
    let user = {
        let admin = app.admin_token().await;
        app.user_token(&admin, "agent", "Passw0rd!").await
    };
    let inputs =
        ["16315551000", "+1 631 555 1001", "6315551002", "+1 (631) 555-1004", "1-631-555-1005", "5511987654321"];
    let (s, b) = check(&app, &user, json!({"contacts": inputs})).await;
    assert_eq!(s, 200, "{b}");
    let got: Vec<(String, String, String)> = b["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let f = |k: &str| c[k].as_str().unwrap_or_default().to_owned();
            (f("input"), f("status"), f("wa_id"))
        })
        .collect();
    let want = [
        ("16315551000", "16315551000"),
        ("+1 631 555 1001", "16315551001"),
        ("6315551002", "16315551002"),
        ("+1 (631) 555-1004", "16315551004"),
        ("1-631-555-1005", "16315551005"),
        ("5511987654321", "5511987654321"),
    ];
    assert_eq!(got.len(), want.len());
    for ((input, status, wa_id), (want_input, want_wa_id)) in got.iter().zip(want) {
        assert_eq!((input.as_str(), status.as_str(), wa_id.as_str()), (want_input, "valid", want_wa_id));
    }
}

#[tokio::test]
async fn what_cannot_be_a_number_is_invalid_without_wa_id() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (s, b) = check(&app, &admin, json!({"contacts": ["hello", "123", "+44 20 7946 0958"]})).await;
    assert_eq!(s, 200);
    assert_eq!(b["contacts"][0], json!({"input": "hello", "status": "invalid"}));
    assert_eq!(b["contacts"][1], json!({"input": "123", "status": "invalid"}));
    assert_eq!(b["contacts"][2]["wa_id"], "442079460958");
}

#[tokio::test]
async fn bad_requests_get_the_webapp_errors() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let cases = [
        (json!({}), 1008, "Missing mandatory parameter 'contacts'"),
        (json!({"contacts": "16315551000"}), 1009, "Contacts field has to be an array"),
        (json!({"contacts": []}), 1009, "Contacts field must have atleast one entry"),
        (json!({"blocking": "maybe", "contacts": ["1"]}), 1009, "Parameter 'blocking' has invalid value 'maybe'"),
        (json!({"contacts": ["1"], "force_check": "yes"}), 1009, "Parameter 'force_check' has invalid value '\"yes\"'"),
        (json!({"contacts": [5]}), 1009, "Parameter 'contacts' has invalid value '5'"),
    ];
    for (body, code, details) in cases {
        let (s, b) = check(&app, &admin, body.clone()).await;
        assert_error(s, &b, 400, code, Some(details));
    }
    // Not JSON: the parameters read as missing.
    let r = app.authed(Method::POST, "/v1/contacts", &admin).body(r#"{"contacts":["1"]}"#).send().await.unwrap();
    let (s, b) = json(r).await;
    assert_error(s, &b, 400, 1008, Some("Missing mandatory parameter 'contacts'"));
}

#[tokio::test]
async fn contacts_need_a_token_and_a_registered_number() {
    let app = TestApp::spawn_with(Spawn::default().arg("--unregistered")).await;
    let r = app.request(Method::POST, "/v1/contacts").json(&json!({"contacts": ["1"]})).send().await.unwrap();
    let (s, b) = json(r).await;
    assert_error(s, &b, 401, 1005, Some("Missing or invalid authentication credentials"));
    let admin = app.admin_token().await;
    let (s, b) = check(&app, &admin, json!({"contacts": ["16315551000"]})).await;
    assert_error(s, &b, 500, 1011, Some("Service not ready"));
}

fn legacy() -> Spawn {
    Spawn::default().arg("--contacts-legacy-validation")
}

#[tokio::test]
async fn legacy_mode_answers_for_real_and_caches() {
    let app = TestApp::spawn_with(legacy()).await;
    let admin = app.admin_token().await;
    let (s, b) =
        check(&app, &admin, json!({"blocking": "wait", "contacts": ["+1 631 555 1234", "15550000001", "nope"]})).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        b["contacts"],
        json!([
            {"input": "+1 631 555 1234", "status": "valid", "wa_id": "16315551234"},
            {"input": "15550000001", "status": "invalid"},
            {"input": "nope", "status": "invalid"}
        ])
    );
    // Cached: a no_wait call answers at once, without `processing`.
    let (s, b) = check(&app, &admin, json!({"contacts": ["16315551234"]})).await;
    assert_eq!((s.as_u16(), b["contacts"][0]["status"].as_str()), (200, Some("valid")), "{b}");
    // force_check asks again (and may wait for it).
    let (_, b) =
        check(&app, &admin, json!({"blocking": "wait", "force_check": true, "contacts": ["15550000001"]})).await;
    assert_eq!(b["contacts"][0]["status"], "invalid");
}

#[tokio::test]
async fn legacy_no_wait_checks_need_a_webhook_and_answer_processing() {
    let app = TestApp::spawn_with(legacy()).await;
    let admin = app.admin_token().await;
    let (s, b) = check(&app, &admin, json!({"contacts": ["16315551234"]})).await;
    assert_error(s, &b, 412, 1022, Some("Webhooks URL is not configured"));

    let patch = json!({"webhooks": {"url": "https://hooks.example.com/wa"}});
    let (s, _) = app.patch(&admin, "/v1/settings/application", patch).await;
    assert_eq!(s, 200);
    let (s, b) = check(&app, &admin, json!({"contacts": ["16315551234"]})).await;
    assert_eq!(s, 200);
    assert_eq!(b["contacts"][0], json!({"input": "16315551234", "status": "processing"}));
    // The background check landed in the cache: the next call knows.
    let (_, b) = check(&app, &admin, json!({"contacts": ["16315551234"]})).await;
    assert_eq!(b["contacts"][0]["status"], "valid");
    // Results are kept 7 days.
    // Just past 7 days (the token, valid 7 days + 600 s skew, still works).
    app.clock.advance(7 * 24 * 3600 + 300);
    let (_, b) = check(&app, &admin, json!({"contacts": ["16315551234"]})).await;
    assert_eq!(b["contacts"][0]["status"], "processing", "an expired result is checked again");
}

#[tokio::test]
async fn legacy_sends_need_a_valid_check_unless_the_customer_wrote() {
    let app = TestApp::spawn_with(legacy()).await;
    let admin = app.admin_token().await;
    let send = |to: &str| app.post(&admin, "/v1/messages", json!({"to": to, "text": {"body": "hi"}}));
    let (s, b) = send("16315551234").await;
    assert_error(s, &b, 404, 1006, Some("unknown contact"));
    check(&app, &admin, json!({"blocking": "wait", "contacts": ["16315551234", "15550000001"]})).await;
    assert_eq!(send("16315551234").await.0, 201);
    let (s, b) = send("15550000001").await;
    assert_error(s, &b, 400, 1013, Some("User is not valid"));
    // A customer who wrote first needs no check.
    let (s, _) = app
        .post(&admin, "/simulator/inbound", json!({"from": "16315559999", "type": "text", "text": {"body": "hello"}}))
        .await;
    assert_eq!(s, 201);
    assert_eq!(send("16315559999").await.0, 201);
}

#[tokio::test]
async fn without_legacy_mode_the_not_on_whatsapp_number_is_valid_too() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (_, b) = check(&app, &admin, json!({"blocking": "wait", "contacts": ["15550000001"]})).await;
    assert_eq!(b["contacts"][0], json!({"input": "15550000001", "status": "valid", "wa_id": "15550000001"}));
}

/// With the legacy contact rules, Brazilian and Mexican mobile numbers get
/// the `wa_id` WhatsApp gave them, and that `wa_id` is the customer's
/// everywhere: the check, the send's answer, the statuses and the
/// customer's own messages.
#[tokio::test]
async fn legacy_mode_gives_brazilian_and_mexican_mobiles_their_wa_id() {
    use crate::receiver::Receiver;
    let rx = Receiver::start().await;
    let spawn = Spawn::instant_receipts()
        .arg("--allow-http-webhooks")
        .arg("--contacts-legacy-validation")
        .arg("--simulator-open-window");
    let app = TestApp::spawn_with(spawn).await;
    let admin = app.admin_token().await;
    let (s, b) = app.patch(&admin, "/v1/settings/application", json!({"webhooks": {"url": rx.url()}})).await;
    assert!(s.is_success(), "{b}");
    let cases = [("+55 11 91234-5678", "551112345678"), ("+52 55 1234 5678", "5215512345678")];
    let inputs: Vec<&str> = cases.iter().map(|(i, _)| *i).collect();
    let (s, b) = check(&app, &admin, json!({"blocking": "wait", "contacts": inputs})).await;
    assert_eq!(s, 200, "{b}");
    for ((input, wa_id), got) in cases.iter().zip(b["contacts"].as_array().unwrap()) {
        assert_eq!(got, &json!({"input": input, "status": "valid", "wa_id": wa_id}));
    }
    let mut sent = Vec::new();
    for (input, wa_id) in cases {
        let (s, b) =
            app.post(&admin, "/v1/messages", json!({"to": input, "type": "text", "text": {"body": "hi"}})).await;
        assert_eq!(s, 201, "{b}");
        assert_eq!(b["contacts"], json!([{"input": input, "wa_id": wa_id}]));
        sent.push((b["messages"][0]["id"].as_str().unwrap().to_owned(), wa_id));
    }
    rx.wait_for(Duration::from_secs(20), "the statuses of both sends", |hits| {
        let statuses: Vec<&Value> = hits
            .iter()
            .filter_map(|h| h.body["statuses"].as_array())
            .flatten()
            .filter(|s| s["status"] == "read")
            .collect();
        sent.iter().all(|(id, wa_id)| statuses.iter().any(|s| s["id"] == id.as_str() && s["recipient_id"] == *wa_id))
    })
    .await;
    // The customer writes in, typed as the business would type it.
    let (s, b) = app
        .post(&admin, "/simulator/inbound", json!({"from": cases[0].0, "type": "text", "text": {"body": "oi"}}))
        .await;
    assert_eq!(s, 201, "{b}");
    let hits = rx
        .wait_for(Duration::from_secs(20), "the customer's message", |hits| {
            hits.iter().any(|h| h.body["messages"][0]["text"]["body"] == "oi")
        })
        .await;
    let cb = hits.iter().find(|h| h.body["messages"][0]["text"]["body"] == "oi").unwrap();
    assert_eq!(cb.body["contacts"][0]["wa_id"], cases[0].1);
    assert_eq!(cb.body["messages"][0]["from"], cases[0].1);
}

/// With `show_security_notifications`, a customer's new security code
/// reaches the webhook as `user_identity_changed`, sends to the customer
/// answer 400/1028 until the business acknowledges the new identity, and
/// then go through. With the setting off, a change blocks nothing.
#[tokio::test]
async fn an_identity_change_blocks_sends_until_acknowledged() {
    use crate::receiver::Receiver;
    let rx = Receiver::start().await;
    let app =
        TestApp::spawn_with(Spawn::instant_receipts().arg("--allow-http-webhooks").arg("--simulator-open-window"))
            .await;
    let admin = app.admin_token().await;
    let settings = json!({"webhooks": {"url": rx.url()}, "show_security_notifications": true});
    let (s, b) = app.patch(&admin, "/v1/settings/application", settings).await;
    assert!(s.is_success(), "{b}");
    let text = json!({"to": "16315551234", "type": "text", "text": {"body": "hello"}});
    let (s, b) = app.get(&admin, "/v1/contacts/16315551234/identity").await;
    assert_code(s, &b, 404, 1006);

    let (s, b) = app.post(&admin, "/simulator/customers/16315551234/change-identity", json!({})).await;
    assert_eq!(s, 201, "{b}");
    let hash = b["identity"][0]["hash"].as_str().unwrap().to_owned();
    let hits = rx
        .wait_for(Duration::from_secs(20), "the user_identity_changed message", |hits| {
            hits.iter().any(|h| h.body["messages"][0]["system"]["type"] == "user_identity_changed")
        })
        .await;
    let m = &hits.iter().find(|h| h.body["messages"][0]["system"]["type"] == "user_identity_changed").unwrap().body;
    assert_eq!(m["messages"][0]["from"], "16315551234");
    assert_eq!(m["messages"][0]["system"]["identity"], hash.as_str());
    assert_eq!(m["messages"][0]["identity"]["acknowledged"], false);

    let (s, b) = app.post(&admin, "/v1/messages", text.clone()).await;
    assert_code(s, &b, 400, 1028);
    let (s, b) = app.get(&admin, "/v1/contacts/+1 631 555 1234/identity").await;
    assert_eq!((s.as_u16(), b["identity"][0]["hash"].as_str()), (200, Some(hash.as_str())), "{b}");
    assert!(b["identity"][0]["created_timestamp"].as_i64().is_some_and(|t| t > 1_600_000_000_000), "{b}");
    let (s, b) = app.put(&admin, "/v1/contacts/16315551234/identity", json!({"hash": "not-it"})).await;
    assert_error(s, &b, 400, 1009, Some("Parameter 'hash' has invalid value 'not-it'"));
    let (s, b) = app.put(&admin, "/v1/contacts/16315551234/identity", json!({})).await;
    assert_error(s, &b, 400, 1008, Some("Missing mandatory parameter 'hash'"));
    let (s, b) = app.post(&admin, "/v1/messages", text.clone()).await;
    assert_code(s, &b, 400, 1028);
    // The customer's own messages show the identity, and whether it was
    // acknowledged.
    let identity_on = |body: &'static str| {
        let rx = &rx;
        async move {
            let hits = rx
                .wait_for(Duration::from_secs(20), body, |hits| {
                    hits.iter().any(|h| h.body["messages"][0]["text"]["body"] == body)
                })
                .await;
            hits.iter().find(|h| h.body["messages"][0]["text"]["body"] == body).unwrap().body["messages"][0]["identity"]
                .clone()
        }
    };
    let write = json!({"from": "16315551234", "type": "text", "text": {"body": "before"}});
    assert_eq!(app.post(&admin, "/simulator/inbound", write).await.0, 201);
    let seen = identity_on("before").await;
    assert_eq!((seen["hash"].as_str(), &seen["acknowledged"]), (Some(hash.as_str()), &json!(false)), "{seen}");
    let (s, b) = app.put(&admin, "/v1/contacts/16315551234/identity", json!({"hash": hash})).await;
    assert_eq!(s, 200, "{b}");
    let write = json!({"from": "16315551234", "type": "text", "text": {"body": "after"}});
    assert_eq!(app.post(&admin, "/simulator/inbound", write).await.0, 201);
    assert_eq!(identity_on("after").await["acknowledged"], true);
    let (s, b) = app.post(&admin, "/v1/messages", text.clone()).await;
    assert_eq!(s, 201, "acknowledged: {b}");

    let (s, b) = app.patch(&admin, "/v1/settings/application", json!({"show_security_notifications": false})).await;
    assert!(s.is_success(), "{b}");
    let (s, b) = app.post(&admin, "/simulator/customers/16315551234/change-identity", json!({})).await;
    assert_eq!(s, 201, "{b}");
    let (s, b) = app.post(&admin, "/v1/messages", text).await;
    assert_eq!(s, 201, "the setting off blocks nothing: {b}");
}
