use crate::helpers::*;

// Registration, shards and two-step verification (`registration.md`, items
// 1–17 of "Behaviours to test", plus the details of §1, §2 and §5: the
// 201-vs-202 rule, `reset: "wipe"`, code expiry and attempts, the simulator
// control API that shows the code, restarts and the sunset mode).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use wabiz_domain::clock::Clock as _;

const ACCOUNT: &str = "/v1/account";
const VERIFY: &str = "/v1/account/verify";
const SHARDS: &str = "/v1/account/shards";
const TWO_STEP: &str = "/v1/settings/account/two-step";
const APPLICATION: &str = "/v1/settings/application";
const HEALTH: &str = "/v1/health";
const SIMULATOR: &str = "/simulator/registration";

/// The code the fixed-code servers accept.
const CODE: &str = "123456";

/// The number registered by the tests: `cc` + `phone_number`.
const CC: &str = "1";
const PHONE: &str = "6315551234";
const WA_ID: &str = "16315551234";

/// The number the simulated network registers by default (`--simulator-number`).
const DEFAULT_CC: &str = "1";
const DEFAULT_PHONE: &str = "6315550100";
const DEFAULT_WA_ID: &str = "16315550100";

const NO_PERMISSION: &str = "User doesn't have permission";
const NO_CODE_REQUESTED: &str = "No registration code was requested";
const INVALID_CODE: &str = "Invalid registration code";
const SUNSET: &str = "Unknown error: biz_link_on_prem_reg_blocked";

// ------------------------------------------------------------------ helpers

/// A base64 `VerifiedNameCertificate` whose details carry `vname`: field 1
/// (`details`, bytes) holds a message whose field 4 is the verified name;
/// field 2 is the signature.
fn cert(vname: &str) -> String {
    let name = vname.as_bytes();
    let mut details = vec![0x08, 0x96, 0x01]; // field 1 (serial), varint 150
    details.extend([0x22, u8::try_from(name.len()).expect("short name")]);
    details.extend_from_slice(name);
    let mut raw = vec![0x0a, u8::try_from(details.len()).expect("short details")];
    raw.extend(details);
    raw.extend([0x12, 0x04, 0xde, 0xad, 0xbe, 0xef]); // field 2 (signature)
    STANDARD.encode(raw)
}

/// The certificate most tests use.
pub(crate) fn acme() -> String {
    cert("Acme Shop")
}

/// A registration request for `cc` + `phone` by SMS.
fn request(cc: &str, phone: &str) -> Value {
    json!({"cc": cc, "phone_number": phone, "method": "sms", "cert": acme()})
}

/// The same with extra keys merged in.
fn request_with(cc: &str, phone: &str, extra: Value) -> Value {
    let mut body = request(cc, phone);
    for (k, v) in extra.as_object().expect("object") {
        body[k] = v.clone();
    }
    body
}

/// A set-shards request for `cc` + `phone`.
fn shards_request(cc: &str, phone: &str, shards: Value) -> Value {
    json!({"cc": cc, "phone_number": phone, "shards": shards, "cert": acme()})
}

async fn verify(app: &TestApp, token: &str, code: &str) -> (StatusCode, Value) {
    app.post(token, VERIFY, json!({"code": code})).await
}

/// A `202 Accepted` carrying `account: [{vname}]` and `meta`, nothing else.
fn assert_code_sent(status: StatusCode, body: &Value, vname: &str) {
    assert_eq!(status, StatusCode::ACCEPTED, "status; body: {body}");
    assert_meta(body);
    let mut keys: Vec<&str> =
        body.as_object().unwrap_or_else(|| panic!("not an object: {body}")).keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["account", "meta"], "body: {body}");
    assert_eq!(body["account"], json!([{"vname": vname}]), "body: {body}");
}

fn missing(name: &str) -> String {
    format!("Missing mandatory parameter '{name}'")
}

/// A server started with `--unregistered` and a fixed code; the admin token.
async fn unregistered() -> (TestApp, String) {
    spawn(Spawn::default().arg("--unregistered").arg("--simulator-registration-code").arg(CODE)).await
}

/// A server with the default registered number and a fixed code.
async fn registered() -> (TestApp, String) {
    spawn(Spawn::default().arg("--simulator-registration-code").arg(CODE)).await
}

async fn spawn(spawn: Spawn) -> (TestApp, String) {
    let app = TestApp::spawn_with(spawn).await;
    let admin = app.admin_token().await;
    (app, admin)
}

/// `gateway_status` of `/v1/health`.
async fn gateway(app: &TestApp, token: &str) -> String {
    let (s, b) = app.get(token, HEALTH).await;
    assert_eq!(s, StatusCode::OK, "health: {b}");
    b["health"]["gateway_status"].as_str().unwrap_or_else(|| panic!("no gateway_status: {b}")).to_owned()
}

/// `settings.application.wa_id` (`None` when absent).
async fn wa_id(app: &TestApp, token: &str) -> Option<String> {
    let (s, b) = app.get(token, APPLICATION).await;
    assert_eq!(s, StatusCode::OK, "application settings: {b}");
    let application = &b["settings"]["application"];
    assert!(application.is_object(), "no settings.application: {b}");
    match application.get("wa_id") {
        None => None,
        Some(Value::String(w)) => Some(w.clone()),
        Some(other) => panic!("wa_id is not a string: {other}"),
    }
}

/// `registration` of the simulator control API.
async fn simulator(app: &TestApp, admin: &str) -> Value {
    let (s, b) = app.get(admin, SIMULATOR).await;
    assert_eq!(s, StatusCode::OK, "simulator registration: {b}");
    assert_meta(&b);
    b["registration"].clone()
}

/// The pending code as the simulated SMS carried it.
async fn pending_code(app: &TestApp, admin: &str) -> String {
    let reg = simulator(app, admin).await;
    let code = reg["pending"]["code"].as_str().unwrap_or_else(|| panic!("no pending code: {reg}")).to_owned();
    assert!(code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()), "code {code:?} is not 6 digits");
    code
}

/// `GET /v1/account/shards` → the count.
async fn shard_count(app: &TestApp, admin: &str) -> Value {
    let (s, b) = app.get(admin, SHARDS).await;
    assert_eq!(s, StatusCode::OK, "get shards: {b}");
    assert_meta(&b);
    b["account"]["shards"].clone()
}

async fn enable_two_step(app: &TestApp, admin: &str, pin: &str) {
    let (s, b) = app.post(admin, TWO_STEP, json!({"pin": pin})).await;
    assert_meta_only(s, &b, 200);
}

/// Asserts the registered number everywhere it shows: health, application
/// settings and the simulator.
async fn assert_registered(app: &TestApp, admin: &str, number: &str) {
    assert_eq!(gateway(app, admin).await, "connected");
    assert_eq!(wa_id(app, admin).await.as_deref(), Some(number));
    let reg = simulator(app, admin).await;
    assert_eq!(reg["wa_id"], number, "{reg}");
    assert_eq!(reg["gateway_status"], "connected", "{reg}");
}

async fn assert_unregistered(app: &TestApp, admin: &str) {
    assert_eq!(gateway(app, admin).await, "unregistered");
    assert_eq!(wa_id(app, admin).await, None, "no wa_id while unregistered");
    let reg = simulator(app, admin).await;
    assert_eq!(reg["wa_id"], Value::Null, "{reg}");
    assert_eq!(reg["gateway_status"], "unregistered", "{reg}");
}

// ================================================== register (items 1–3)

/// Items 1–3; §2 (health and `wa_id` follow the registration).
#[tokio::test]
async fn a_number_is_registered_by_requesting_and_verifying_a_code() {
    let (app, admin) = unregistered().await;
    assert_unregistered(&app, &admin).await;

    // 1. 202 with the verified name of the certificate.
    let (s, b) = app.post(&admin, ACCOUNT, request(CC, PHONE)).await;
    assert_code_sent(s, &b, "Acme Shop");
    assert!(b["account"][0]["vname"].is_string());
    // Requesting a code registers nothing yet.
    assert_unregistered(&app, &admin).await;
    let reg = simulator(&app, &admin).await;
    assert_eq!(reg["pending"]["number"], WA_ID, "{reg}");
    assert_eq!(reg["pending"]["method"], "sms", "{reg}");
    assert_eq!(reg["pending"]["code"], CODE, "the configured code is the one sent: {reg}");

    // 2. 201, meta only.
    let (s, b) = verify(&app, &admin, CODE).await;
    assert_meta_only(s, &b, 201);
    assert!(b.get("errors").is_none());
    assert_registered(&app, &admin, WA_ID).await;
    assert_eq!(simulator(&app, &admin).await["pending"], Value::Null, "the code is used up");

    // 3. The same number again: 201 without `account`.
    let (s, b) = app.post(&admin, ACCOUNT, request(CC, PHONE)).await;
    assert_meta_only(s, &b, 201);
    let (s, b) = app.get(&admin, APPLICATION).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(b["settings"]["application"]["wa_id"], "16315551234", "{b}");
    // Nothing was requested by the 201.
    assert_eq!(simulator(&app, &admin).await["pending"], Value::Null);
    let (s, b) = verify(&app, &admin, CODE).await;
    assert_one_error(s, &b, 400, 1009, NO_CODE_REQUESTED);
}

/// §1: `vname` is decoded from the certificate's protobuf; a valid base64 blob
/// that is not such a protobuf gives `""`. `voice` is a method too.
#[tokio::test]
async fn the_verified_name_comes_from_the_certificate() {
    let (app, admin) = unregistered().await;
    for name in ["Acme Shop", "Zoë's Café", "X"] {
        let (s, b) = app.post(&admin, ACCOUNT, request_with(CC, PHONE, json!({"cert": cert(name)}))).await;
        assert_code_sent(s, &b, name);
    }
    let not_protobuf = STANDARD.encode(b"not a certificate");
    let (s, b) = app.post(&admin, ACCOUNT, request_with(CC, PHONE, json!({"cert": not_protobuf}))).await;
    assert_code_sent(s, &b, "");

    let (s, b) = app.post(&admin, ACCOUNT, request_with(CC, PHONE, json!({"method": "voice"}))).await;
    assert_code_sent(s, &b, "Acme Shop");
    assert_eq!(simulator(&app, &admin).await["pending"]["method"], "voice");
}

// ============================================ request validation (4–7)

/// Item 4: the Webapp's presence checks are all reported together.
#[tokio::test]
async fn an_empty_request_reports_every_missing_parameter() {
    let (app, admin) = unregistered().await;
    let (s, b) = app.post(&admin, ACCOUNT, json!({})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
    assert_meta(&b);
    let errors = b["errors"].as_array().unwrap_or_else(|| panic!("no errors: {b}"));
    assert_eq!(errors.len(), 4, "four errors expected: {b}");
    let mut got: Vec<(u64, String)> = errors
        .iter()
        .map(|e| {
            assert!(e["title"].is_string(), "title missing: {b}");
            (e["code"].as_u64().expect("code"), e["details"].as_str().expect("details").to_owned())
        })
        .collect();
    got.sort();
    let mut want = vec![
        (1008, missing("cc")),
        (1008, missing("phone_number")),
        (1008, missing("method")),
        (1008, "Atleast one of the following parameters must be present: 'cert', 'vname_cert'".to_owned()),
    ];
    want.sort();
    assert_eq!(got, want, "{b}");
    assert_eq!(simulator(&app, &admin).await["pending"], Value::Null, "nothing was requested");
}

/// Item 5.
#[tokio::test]
async fn exactly_one_of_cert_and_vname_cert_is_accepted() {
    let (app, admin) = unregistered().await;
    let (s, b) = app.post(&admin, ACCOUNT, request_with(CC, PHONE, json!({"vname_cert": acme()}))).await;
    assert_one_error(s, &b, 400, 1010, "Exactly one of the following parameters must be present: 'cert', 'vname_cert'");
    assert_eq!(simulator(&app, &admin).await["pending"], Value::Null);

    // Only `vname_cert`: the legacy alias works like `cert`, through to verify.
    let body = json!({"cc": CC, "phone_number": PHONE, "method": "sms", "vname_cert": cert("Legacy Ltd")});
    let (s, b) = app.post(&admin, ACCOUNT, body).await;
    assert_code_sent(s, &b, "Legacy Ltd");
    let (s, b) = verify(&app, &admin, CODE).await;
    assert_meta_only(s, &b, 201);
    assert_registered(&app, &admin, WA_ID).await;
}

/// Item 6.
#[tokio::test]
async fn reset_accepts_only_wipe_and_wipe_takes_no_pin() {
    let (app, admin) = unregistered().await;
    let (s, b) = app.post(&admin, ACCOUNT, request_with(CC, PHONE, json!({"reset": "all"}))).await;
    assert_one_error(s, &b, 400, 1009, &invalid_value("reset", "all"));
    let (s, b) = app.post(&admin, ACCOUNT, request_with(CC, PHONE, json!({"reset": "wipe", "pin": "123456"}))).await;
    assert_one_error(s, &b, 400, 1010, "Parameter 'pin' is not required for reset 'wipe'");
    assert_eq!(simulator(&app, &admin).await["pending"], Value::Null, "nothing was requested");
}

/// Item 7 and the Coreapp-side value checks of §1.
#[tokio::test]
async fn request_values_are_checked() {
    let (app, admin) = unregistered().await;
    let cases: Vec<(Value, String)> = vec![
        (json!({"method": "email"}), invalid_value("method", "email")),
        (json!({"cc": 1}), invalid_value("cc", "1")),
        (json!({"cc": "1234"}), invalid_value("cc", "1234")),
        (json!({"cc": "+1"}), invalid_value("cc", "+1")),
        (json!({"cc": "1a"}), invalid_value("cc", "1a")),
        (json!({"phone_number": 6315551234_u64}), invalid_value("phone_number", "6315551234")),
        (json!({"phone_number": "123"}), invalid_value("phone_number", "123")),
        (json!({"phone_number": "1234567890123456"}), invalid_value("phone_number", "1234567890123456")),
        (json!({"phone_number": "631-555-1234"}), invalid_value("phone_number", "631-555-1234")),
        (json!({"cert": "%%%"}), "Invalid cert".to_owned()),
    ];
    for (extra, details) in cases {
        let body = request_with(CC, PHONE, extra.clone());
        let (s, b) = app.post(&admin, ACCOUNT, body).await;
        assert_one_error(s, &b, 400, 1009, &details);
        assert_eq!(simulator(&app, &admin).await["pending"], Value::Null, "{extra}: nothing was requested");
    }
    // A cert that is not a string is not a valid cert either.
    let (s, b) = app.post(&admin, ACCOUNT, request_with(CC, PHONE, json!({"cert": 12345}))).await;
    assert_code(s, &b, 400, 1009);
    assert_eq!(simulator(&app, &admin).await["pending"], Value::Null);
    // The boundaries are accepted: 3-digit cc, 4- and 15-digit numbers.
    for (cc, phone) in [("351", "1234"), ("49", "123456789012345")] {
        let (s, b) = app.post(&admin, ACCOUNT, request(cc, phone)).await;
        assert_code_sent(s, &b, "Acme Shop");
        assert_eq!(simulator(&app, &admin).await["pending"]["number"], format!("{cc}{phone}"));
    }
}

// ====================================================== access (item 8)

/// Item 8, for every endpoint of this spec, and the admin-only simulator API.
#[tokio::test]
async fn registration_is_for_the_admin_only() {
    let (app, admin) = unregistered().await;
    let user = app.user_token(&admin, "jdoe", "Passw0rd!").await;
    let requests: Vec<(Method, &str, Option<Value>)> = vec![
        (Method::POST, ACCOUNT, Some(request(CC, PHONE))),
        (Method::POST, VERIFY, Some(json!({"code": CODE}))),
        (Method::POST, SHARDS, Some(shards_request(CC, PHONE, json!(4)))),
        (Method::GET, SHARDS, None),
        (Method::POST, TWO_STEP, Some(json!({"pin": "123456"}))),
        (Method::DELETE, TWO_STEP, None),
        (Method::GET, SIMULATOR, None),
    ];
    for (method, path, body) in &requests {
        let (s, b) = app.call(&user, method.clone(), path, body.clone()).await;
        assert_one_error(s, &b, 403, 1005, NO_PERMISSION);

        let mut rb = app.request(method.clone(), path);
        if let Some(body) = body {
            rb = rb.json(body);
        }
        let (s, b) = send(rb).await;
        assert_error(s, &b, 401, 1005, Some("Missing or invalid authentication credentials"));

        let (s, b) = app.call("not-a-token", method.clone(), path, body.clone()).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{method} {path} with a bad token: {b}");
        assert_eq!(b["errors"][0]["code"], 1005, "{b}");
    }
    // None of it did anything.
    assert_unregistered(&app, &admin).await;
    assert_eq!(simulator(&app, &admin).await["pending"], Value::Null);
}

// ====================================================== verify (item 9)

/// Item 9: missing, non-string and malformed codes; no pending request;
/// wrong code; `"123-456"`.
#[tokio::test]
async fn verify_checks_the_code() {
    let (app, admin) = unregistered().await;
    let (s, b) = app.post(&admin, VERIFY, json!({})).await;
    assert_one_error(s, &b, 400, 1008, &missing("code"));
    let (s, b) = verify(&app, &admin, CODE).await;
    assert_one_error(s, &b, 400, 1009, NO_CODE_REQUESTED);

    let (s, b) = app.post(&admin, ACCOUNT, request(CC, PHONE)).await;
    assert_code_sent(s, &b, "Acme Shop");
    let (s, b) = app.post(&admin, VERIFY, json!({})).await;
    assert_one_error(s, &b, 400, 1008, &missing("code"));
    let (s, b) = app.post(&admin, VERIFY, json!({"code": 123456})).await;
    assert_code(s, &b, 400, 1009);
    let (s, b) = verify(&app, &admin, "654321").await;
    assert_one_error(s, &b, 400, 1009, INVALID_CODE);
    assert_unregistered(&app, &admin).await;

    // The usual written form of the code.
    let (s, b) = verify(&app, &admin, "123-456").await;
    assert_meta_only(s, &b, 201);
    assert_registered(&app, &admin, WA_ID).await;
}

/// Item 9 and §2: five wrong codes discard the pending request; four do not.
#[tokio::test]
async fn five_wrong_codes_discard_the_pending_request() {
    let (app, admin) = unregistered().await;

    // Four wrong codes leave the request usable.
    let (s, b) = app.post(&admin, ACCOUNT, request(CC, PHONE)).await;
    assert_code_sent(s, &b, "Acme Shop");
    assert_eq!(simulator(&app, &admin).await["pending"]["attempts_left"], 5);
    for i in 1..=4 {
        let (s, b) = verify(&app, &admin, "000000").await;
        assert_one_error(s, &b, 400, 1009, INVALID_CODE);
        assert_eq!(simulator(&app, &admin).await["pending"]["attempts_left"], 5 - i);
    }
    let (s, b) = verify(&app, &admin, CODE).await;
    assert_meta_only(s, &b, 201);
    assert_registered(&app, &admin, WA_ID).await;

    // On another server: the fifth wrong code discards it.
    let (app, admin) = unregistered().await;
    let (s, b) = app.post(&admin, ACCOUNT, request(CC, PHONE)).await;
    assert_code_sent(s, &b, "Acme Shop");
    for _ in 0..5 {
        let (s, b) = verify(&app, &admin, "000000").await;
        assert_one_error(s, &b, 400, 1009, INVALID_CODE);
    }
    assert_eq!(simulator(&app, &admin).await["pending"], Value::Null, "the request is discarded");
    // The sixth attempt finds nothing, and neither does the right code.
    let (s, b) = verify(&app, &admin, "000000").await;
    assert_one_error(s, &b, 400, 1009, NO_CODE_REQUESTED);
    let (s, b) = verify(&app, &admin, CODE).await;
    assert_one_error(s, &b, 400, 1009, NO_CODE_REQUESTED);
    assert_unregistered(&app, &admin).await;

    // A new request starts over.
    let (s, b) = app.post(&admin, ACCOUNT, request(CC, PHONE)).await;
    assert_code_sent(s, &b, "Acme Shop");
    let (s, b) = verify(&app, &admin, CODE).await;
    assert_meta_only(s, &b, 201);
    assert_registered(&app, &admin, WA_ID).await;
}

/// §2: a pending request expires after 10 minutes (server clock).
#[tokio::test]
async fn a_requested_code_expires_after_ten_minutes() {
    let (app, admin) = unregistered().await;
    let (s, b) = app.post(&admin, ACCOUNT, request(CC, PHONE)).await;
    assert_code_sent(s, &b, "Acme Shop");
    app.clock.advance(601);
    assert_eq!(simulator(&app, &admin).await["pending"], Value::Null, "expired");
    let (s, b) = verify(&app, &admin, CODE).await;
    assert_one_error(s, &b, 400, 1009, NO_CODE_REQUESTED);
    assert_unregistered(&app, &admin).await;

    // Within the ten minutes the code still works.
    let (s, b) = app.post(&admin, ACCOUNT, request(CC, PHONE)).await;
    assert_code_sent(s, &b, "Acme Shop");
    app.clock.advance(590);
    let (s, b) = verify(&app, &admin, CODE).await;
    assert_meta_only(s, &b, 201);
    assert_registered(&app, &admin, WA_ID).await;
}

// =============================================== simulator control API (§5)

/// §5: without `--simulator-registration-code` the code is random; it is read
/// from `GET /simulator/registration` and never appears in a `/v1` response.
#[tokio::test]
async fn a_random_code_is_shown_only_by_the_simulator_api() {
    let (app, admin) = spawn(Spawn::default().arg("--unregistered")).await;
    let user = app.user_token(&admin, "jdoe", "Passw0rd!").await;
    let reg = simulator(&app, &admin).await;
    assert_eq!(reg, json!({"wa_id": null, "gateway_status": "unregistered", "pending": null}));

    let (s, reply) = app.post(&admin, ACCOUNT, request_with(CC, PHONE, json!({"method": "voice"}))).await;
    assert_code_sent(s, &reply, "Acme Shop");
    let now = app.clock.now_unix();
    let reg = simulator(&app, &admin).await;
    assert_eq!(reg["wa_id"], Value::Null, "{reg}");
    assert_eq!(reg["gateway_status"], "unregistered", "{reg}");
    let pending = &reg["pending"];
    assert_eq!(pending["number"], WA_ID, "{reg}");
    assert_eq!(pending["method"], "voice", "{reg}");
    assert_eq!(pending["attempts_left"], 5, "{reg}");
    let expires = pending["expires_at"].as_i64().unwrap_or_else(|| panic!("expires_at: {reg}"));
    assert!((now + 598..=now + 600).contains(&expires), "expires_at {expires} is not now ({now}) + 600");
    let code = pending_code(&app, &admin).await;
    assert!(!reply.to_string().contains(&code), "the code {code} leaked: {reply}");

    // A user may not read it.
    let (s, b) = app.get(&user, SIMULATOR).await;
    assert_one_error(s, &b, 403, 1005, NO_PERMISSION);

    // No /v1 answer carries the code; a second request sends a new one.
    let (s, reply) = app.post(&admin, ACCOUNT, request(CC, PHONE)).await;
    assert_code_sent(s, &reply, "Acme Shop");
    let code = pending_code(&app, &admin).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let mut bodies = vec![reply];
    for (method, path, body) in [
        (Method::POST, VERIFY, Some(json!({"code": wrong}))),
        (Method::GET, HEALTH, None),
        (Method::GET, APPLICATION, None),
        (Method::GET, SHARDS, None),
    ] {
        bodies.push(app.call(&admin, method, path, body).await.1);
    }
    for body in &bodies {
        assert!(!body.to_string().contains(&code), "the code {code} leaked: {body}");
    }

    // The code read there registers the number.
    let (s, b) = verify(&app, &admin, &code).await;
    assert_meta_only(s, &b, 201);
    assert!(!b.to_string().contains(&code), "{b}");
    assert_registered(&app, &admin, WA_ID).await;
    let reg = simulator(&app, &admin).await;
    assert_eq!(reg, json!({"wa_id": WA_ID, "gateway_status": "connected", "pending": null}));
}

/// §5: requesting again replaces the pending request: a new code, all
/// attempts back, a new expiry; the old code no longer works.
#[tokio::test]
async fn a_new_request_replaces_the_pending_one() {
    let (app, admin) = spawn(Spawn::default().arg("--unregistered")).await;
    let (s, b) = app.post(&admin, ACCOUNT, request(CC, PHONE)).await;
    assert_code_sent(s, &b, "Acme Shop");
    let first = pending_code(&app, &admin).await;
    let first_expiry = simulator(&app, &admin).await["pending"]["expires_at"].as_i64().expect("expires_at");
    let wrong = if first == "000000" { "111111" } else { "000000" };
    let (s, b) = verify(&app, &admin, wrong).await;
    assert_one_error(s, &b, 400, 1009, INVALID_CODE);
    assert_eq!(simulator(&app, &admin).await["pending"]["attempts_left"], 4);

    app.clock.advance(300);
    let (s, b) = app.post(&admin, ACCOUNT, request(CC, PHONE)).await;
    assert_code_sent(s, &b, "Acme Shop");
    let reg = simulator(&app, &admin).await;
    assert_eq!(reg["pending"]["attempts_left"], 5, "{reg}");
    let expiry = reg["pending"]["expires_at"].as_i64().expect("expires_at");
    assert!(expiry >= first_expiry + 299, "the expiry moved: {first_expiry} → {expiry}");
    let second = pending_code(&app, &admin).await;

    // 400 s after the first request, 100 s after the second: only the second counts.
    app.clock.advance(400);
    if first != second {
        let (s, b) = verify(&app, &admin, &first).await;
        assert_one_error(s, &b, 400, 1009, INVALID_CODE);
    }
    let (s, b) = verify(&app, &admin, &second).await;
    assert_meta_only(s, &b, 201);
    assert_registered(&app, &admin, WA_ID).await;
}

// ============================================== 201 vs 202, wipe, restart (§1)

/// §1: the same registered number → 201 meta-only; another number → 202
/// while the current registration stays active until verify.
#[tokio::test]
async fn another_number_is_switched_to_only_when_verified() {
    let (app, admin) = registered().await;
    assert_registered(&app, &admin, DEFAULT_WA_ID).await;

    let (s, b) = app.post(&admin, ACCOUNT, request(DEFAULT_CC, DEFAULT_PHONE)).await;
    assert_meta_only(s, &b, 201);
    assert_eq!(simulator(&app, &admin).await["pending"], Value::Null);

    let (s, b) = app.post(&admin, ACCOUNT, request(CC, PHONE)).await;
    assert_code_sent(s, &b, "Acme Shop");
    // The old number is still the registered one.
    assert_registered(&app, &admin, DEFAULT_WA_ID).await;
    assert_eq!(simulator(&app, &admin).await["pending"]["number"], WA_ID);
    let (s, b) = app.post(&admin, ACCOUNT, request(DEFAULT_CC, DEFAULT_PHONE)).await;
    assert_meta_only(s, &b, 201);

    // A wrong code changes nothing.
    let (s, b) = verify(&app, &admin, "000000").await;
    assert_one_error(s, &b, 400, 1009, INVALID_CODE);
    assert_registered(&app, &admin, DEFAULT_WA_ID).await;

    let (s, b) = verify(&app, &admin, CODE).await;
    assert_meta_only(s, &b, 201);
    assert_registered(&app, &admin, WA_ID).await;

    // Now the old number is "another number".
    let (s, b) = app.post(&admin, ACCOUNT, request(DEFAULT_CC, DEFAULT_PHONE)).await;
    assert_code_sent(s, &b, "Acme Shop");
    let (s, b) = app.post(&admin, ACCOUNT, request(CC, PHONE)).await;
    assert_meta_only(s, &b, 201);
}

/// §5: a failed re-registration (five wrong codes, or expiry) returns to the
/// previous state: the old number stays registered.
#[tokio::test]
async fn a_failed_re_registration_keeps_the_old_number() {
    let (app, admin) = registered().await;
    let (s, b) = app.post(&admin, ACCOUNT, request(CC, PHONE)).await;
    assert_code_sent(s, &b, "Acme Shop");
    for _ in 0..5 {
        let (s, b) = verify(&app, &admin, "000000").await;
        assert_one_error(s, &b, 400, 1009, INVALID_CODE);
    }
    let (s, b) = verify(&app, &admin, CODE).await;
    assert_one_error(s, &b, 400, 1009, NO_CODE_REQUESTED);
    assert_registered(&app, &admin, DEFAULT_WA_ID).await;

    let (s, b) = app.post(&admin, ACCOUNT, request(CC, PHONE)).await;
    assert_code_sent(s, &b, "Acme Shop");
    app.clock.advance(601);
    let (s, b) = verify(&app, &admin, CODE).await;
    assert_one_error(s, &b, 400, 1009, NO_CODE_REQUESTED);
    assert_registered(&app, &admin, DEFAULT_WA_ID).await;
}

/// §1: `reset: "wipe"` always answers 202 (even for the registered number)
/// and unregisters at once.
#[tokio::test]
async fn reset_wipe_unregisters_at_once() {
    let (app, admin) = registered().await;
    let body = request_with(DEFAULT_CC, DEFAULT_PHONE, json!({"reset": "wipe"}));
    let (s, b) = app.post(&admin, ACCOUNT, body).await;
    assert_code_sent(s, &b, "Acme Shop");
    assert_unregistered(&app, &admin).await;
    assert_eq!(simulator(&app, &admin).await["pending"]["number"], DEFAULT_WA_ID);
    // Features that need a registered number now refuse.
    let (s, b) = app.post(&admin, TWO_STEP, json!({"pin": "123456"})).await;
    assert_one_error(s, &b, 500, 1011, "Service not ready");

    // The same number is no longer "already registered".
    let (s, b) = app.post(&admin, ACCOUNT, request(DEFAULT_CC, DEFAULT_PHONE)).await;
    assert_code_sent(s, &b, "Acme Shop");
    let (s, b) = verify(&app, &admin, CODE).await;
    assert_meta_only(s, &b, 201);
    assert_registered(&app, &admin, DEFAULT_WA_ID).await;

    // Wipe with another number, from the registered state, and while unregistered.
    let (s, b) = app.post(&admin, ACCOUNT, request_with(CC, PHONE, json!({"reset": "wipe"}))).await;
    assert_code_sent(s, &b, "Acme Shop");
    assert_unregistered(&app, &admin).await;
    let (s, b) = app.post(&admin, ACCOUNT, request_with(CC, PHONE, json!({"reset": "wipe"}))).await;
    assert_code_sent(s, &b, "Acme Shop");
    assert_unregistered(&app, &admin).await;
    let (s, b) = verify(&app, &admin, CODE).await;
    assert_meta_only(s, &b, 201);
    assert_registered(&app, &admin, WA_ID).await;
}

/// §5: a number registered through the flow survives a restart (a random
/// code, read from the simulator API, on the default server).
#[tokio::test]
async fn a_registration_survives_a_restart() {
    let (app, admin) = spawn(Spawn::default()).await;
    let (s, b) = app.post(&admin, ACCOUNT, request(CC, PHONE)).await;
    assert_code_sent(s, &b, "Acme Shop");
    let code = pending_code(&app, &admin).await;
    let (s, b) = verify(&app, &admin, &code).await;
    assert_meta_only(s, &b, 201);
    assert_registered(&app, &admin, WA_ID).await;

    let app = app.restart().await;
    let admin = app.admin_token().await;
    assert_registered(&app, &admin, WA_ID).await;
    let (s, b) = app.post(&admin, ACCOUNT, request(CC, PHONE)).await;
    assert_meta_only(s, &b, 201);
    // Registered features work after the restart.
    enable_two_step(&app, &admin, "123456").await;
}

// ======================================================= sunset (item 10)

/// Item 10: in sunset mode registration and set-shards answer Meta's error.
#[tokio::test]
async fn sunset_mode_blocks_registration_and_shards() {
    let want = json!({"code": 1005, "title": "Access denied", "details": SUNSET});
    let (app, admin) = spawn(Spawn::default().arg("--simulator-sunset")).await;
    for body in
        [request(CC, PHONE), request(DEFAULT_CC, DEFAULT_PHONE), request_with(CC, PHONE, json!({"reset": "wipe"}))]
    {
        let (s, b) = app.post(&admin, ACCOUNT, body).await;
        assert_one_error(s, &b, 403, 1005, SUNSET);
        assert_eq!(b["errors"][0], want, "{b}");
    }
    let (s, b) = app.post(&admin, SHARDS, shards_request(DEFAULT_CC, DEFAULT_PHONE, json!(4))).await;
    assert_one_error(s, &b, 403, 1005, SUNSET);
    assert_eq!(b["errors"][0], want, "{b}");
    // Nothing changed: still registered, no code, one shard.
    assert_registered(&app, &admin, DEFAULT_WA_ID).await;
    assert_eq!(simulator(&app, &admin).await["pending"], Value::Null);
    assert_eq!(shard_count(&app, &admin).await, 1);

    // Unregistered and in sunset: still the sunset error.
    let (app, admin) = spawn(Spawn::default().arg("--unregistered").arg("--simulator-sunset")).await;
    let (s, b) = app.post(&admin, ACCOUNT, request(CC, PHONE)).await;
    assert_one_error(s, &b, 403, 1005, SUNSET);
    assert_eq!(b["errors"][0], want, "{b}");
    let (s, b) = app.post(&admin, SHARDS, shards_request(CC, PHONE, json!(4))).await;
    assert_one_error(s, &b, 403, 1005, SUNSET);
    assert_unregistered(&app, &admin).await;
}

// ===================================================== shards (11–12)

/// Item 11 and §3.2: the default is one shard; a valid change is stored.
#[tokio::test]
async fn shards_are_set_and_reported() {
    let (app, admin) = registered().await;
    let (s, b) = app.get(&admin, SHARDS).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b, json!({"account": {"shards": 1}, "meta": b["meta"].clone()}));
    assert_meta(&b);

    let (s, b) = app.post(&admin, SHARDS, shards_request(DEFAULT_CC, DEFAULT_PHONE, json!(4))).await;
    assert_meta_only(s, &b, 201);
    let (s, b) = app.get(&admin, SHARDS).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b, json!({"account": {"shards": 4}, "meta": b["meta"].clone()}));

    for n in [1, 2, 8, 16, 32] {
        let (s, b) = app.post(&admin, SHARDS, shards_request(DEFAULT_CC, DEFAULT_PHONE, json!(n))).await;
        assert_meta_only(s, &b, 201);
        assert_eq!(shard_count(&app, &admin).await, n);
    }
}

/// Item 12 and the value checks of §3.1.
#[tokio::test]
async fn invalid_shard_requests_are_refused() {
    let (app, admin) = unregistered().await;
    let (s, b) = app.post(&admin, SHARDS, shards_request(CC, PHONE, json!(4))).await;
    assert_one_error(s, &b, 500, 1011, "Service not ready");

    let (s, b) = app.post(&admin, ACCOUNT, request(CC, PHONE)).await;
    assert_code_sent(s, &b, "Acme Shop");
    // A pending request is not a registration.
    let (s, b) = app.post(&admin, SHARDS, shards_request(CC, PHONE, json!(4))).await;
    assert_one_error(s, &b, 500, 1011, "Service not ready");
    let (s, b) = verify(&app, &admin, CODE).await;
    assert_meta_only(s, &b, 201);

    let (s, b) = app.post(&admin, SHARDS, json!({"cc": CC, "phone_number": PHONE, "cert": acme()})).await;
    assert_one_error(s, &b, 400, 1008, &missing("shards"));
    let (s, b) = app.post(&admin, SHARDS, json!({"phone_number": PHONE, "shards": 4, "cert": acme()})).await;
    assert_one_error(s, &b, 400, 1008, &missing("cc"));
    let (s, b) = app.post(&admin, SHARDS, json!({"cc": CC, "shards": 4, "cert": acme()})).await;
    assert_one_error(s, &b, 400, 1008, &missing("phone_number"));
    let (s, b) = app.post(&admin, SHARDS, json!({"cc": CC, "phone_number": PHONE, "shards": 4})).await;
    assert_one_error(s, &b, 400, 1008, &missing("cert"));
    for (shards, shown) in [(json!(3), "3"), (json!("4"), "4"), (json!(0), "0"), (json!(64), "64"), (json!(4.5), "4.5")]
    {
        let (s, b) = app.post(&admin, SHARDS, shards_request(CC, PHONE, shards)).await;
        assert_one_error(s, &b, 400, 1009, &invalid_value("shards", shown));
    }
    // Another number than the registered one.
    let (s, b) = app.post(&admin, SHARDS, shards_request(DEFAULT_CC, DEFAULT_PHONE, json!(4))).await;
    assert_code(s, &b, 400, 1009);
    assert_eq!(shard_count(&app, &admin).await, 1, "nothing was stored");

    let (s, b) = app.post(&admin, SHARDS, shards_request(CC, PHONE, json!(2))).await;
    assert_meta_only(s, &b, 201);
    assert_eq!(shard_count(&app, &admin).await, 2);
}

/// §3.1: with two-step on, set-shards needs the PIN too.
#[tokio::test]
async fn shards_need_the_pin_when_two_step_is_on() {
    let (app, admin) = registered().await;
    enable_two_step(&app, &admin, "123456").await;
    let body = shards_request(DEFAULT_CC, DEFAULT_PHONE, json!(8));
    let (s, b) = app.post(&admin, SHARDS, body.clone()).await;
    assert_one_error(s, &b, 400, 1008, &missing("pin"));
    let mut with_pin = body.clone();
    with_pin["pin"] = json!("000000");
    let (s, b) = app.post(&admin, SHARDS, with_pin.clone()).await;
    assert_one_error(s, &b, 403, 1005, "Invalid PIN");
    assert_eq!(shard_count(&app, &admin).await, 1);
    with_pin["pin"] = json!("123456");
    let (s, b) = app.post(&admin, SHARDS, with_pin).await;
    assert_meta_only(s, &b, 201);
    assert_eq!(shard_count(&app, &admin).await, 8);
}

// ==================================================== two-step (13–17)

/// Item 13: with two-step on, re-registration needs the right PIN.
#[tokio::test]
async fn re_registration_needs_the_two_step_pin() {
    let (app, admin) = registered().await;
    let (s, b) = app.post(&admin, TWO_STEP, json!({"pin": "123456"})).await;
    assert_meta_only(s, &b, 200);

    let (s, b) = app.post(&admin, ACCOUNT, request(CC, PHONE)).await;
    assert_one_error(s, &b, 400, 1008, &missing("pin"));
    let (s, b) = app.post(&admin, ACCOUNT, request_with(CC, PHONE, json!({"pin": "000000"}))).await;
    assert_one_error(s, &b, 403, 1005, "Invalid PIN");
    assert_eq!(simulator(&app, &admin).await["pending"], Value::Null, "no code was sent");
    assert_registered(&app, &admin, DEFAULT_WA_ID).await;

    let (s, b) = app.post(&admin, ACCOUNT, request_with(CC, PHONE, json!({"pin": "123456"}))).await;
    assert_code_sent(s, &b, "Acme Shop");
    let (s, b) = verify(&app, &admin, CODE).await;
    assert_meta_only(s, &b, 201);
    assert_registered(&app, &admin, WA_ID).await;
}

/// §1: `reset: "wipe"` takes no PIN, so it works with two-step on.
#[tokio::test]
async fn wipe_needs_no_pin_with_two_step_on() {
    let (app, admin) = registered().await;
    enable_two_step(&app, &admin, "123456").await;
    let (s, b) = app.post(&admin, ACCOUNT, request_with(CC, PHONE, json!({"reset": "wipe"}))).await;
    assert_code_sent(s, &b, "Acme Shop");
    assert_unregistered(&app, &admin).await;
}

/// Items 14 and 16.
#[tokio::test]
async fn two_step_pins_are_checked_and_need_a_registration() {
    let (app, admin) = unregistered().await;
    let user = app.user_token(&admin, "jdoe", "Passw0rd!").await;
    // 16. Before registration, and as a user.
    let (s, b) = app.post(&admin, TWO_STEP, json!({"pin": "123456"})).await;
    assert_one_error(s, &b, 500, 1011, "Service not ready");
    let (s, b) = app.post(&user, TWO_STEP, json!({"pin": "123456"})).await;
    assert_one_error(s, &b, 403, 1005, NO_PERMISSION);
    let (s, b) = app.delete(&user, TWO_STEP).await;
    assert_one_error(s, &b, 403, 1005, NO_PERMISSION);

    // Once registered it works; re-registration then needs the PIN.
    let (s, b) = app.post(&admin, ACCOUNT, request(CC, PHONE)).await;
    assert_code_sent(s, &b, "Acme Shop");
    let (s, b) = verify(&app, &admin, CODE).await;
    assert_meta_only(s, &b, 201);
    let (s, b) = app.post(&user, TWO_STEP, json!({"pin": "123456"})).await;
    assert_one_error(s, &b, 403, 1005, NO_PERMISSION);

    // 14. Bad PINs change nothing: two-step stays off.
    let (s, b) = app.post(&admin, TWO_STEP, json!({})).await;
    assert_one_error(s, &b, 400, 1008, &missing("pin"));
    let (s, b) = app.post(&admin, TWO_STEP, json!({"pin": ""})).await;
    assert_one_error(s, &b, 400, 1009, "Pin must not be empty");
    let (s, b) = app.post(&admin, TWO_STEP, json!({"pin": "12345"})).await;
    assert_one_error(s, &b, 400, 1009, &invalid_value("pin", "12345"));
    let (s, b) = app.post(&admin, TWO_STEP, json!({"pin": 123456})).await;
    assert_one_error(s, &b, 400, 1009, &invalid_value("pin", "123456"));
    let (s, b) = app.post(&admin, ACCOUNT, request("44", "7700900123")).await;
    assert_code_sent(s, &b, "Acme Shop");

    enable_two_step(&app, &admin, "654321").await;
    let (s, b) = app.post(&admin, ACCOUNT, request("44", "7700900123")).await;
    assert_one_error(s, &b, 400, 1008, &missing("pin"));
}

/// Item 15: disabling (twice) lifts the PIN requirement; re-enabling with a
/// new PIN replaces the old one (the forgotten-PIN procedure).
#[tokio::test]
async fn disabling_two_step_lifts_the_pin_requirement() {
    let (app, admin) = registered().await;
    enable_two_step(&app, &admin, "123456").await;
    let (s, b) = app.post(&admin, ACCOUNT, request(CC, PHONE)).await;
    assert_one_error(s, &b, 400, 1008, &missing("pin"));

    let (s, b) = app.delete(&admin, TWO_STEP).await;
    assert_meta_only(s, &b, 200);
    let (s, b) = app.delete(&admin, TWO_STEP).await;
    assert_meta_only(s, &b, 200);
    let (s, b) = app.post(&admin, ACCOUNT, request(CC, PHONE)).await;
    assert_code_sent(s, &b, "Acme Shop");

    // Forgotten PIN: disable and re-enable with a new one; the old is gone.
    enable_two_step(&app, &admin, "111111").await;
    let (s, b) = app.delete(&admin, TWO_STEP).await;
    assert_meta_only(s, &b, 200);
    enable_two_step(&app, &admin, "222222").await;
    let (s, b) = app.post(&admin, ACCOUNT, request_with(CC, PHONE, json!({"pin": "111111"}))).await;
    assert_one_error(s, &b, 403, 1005, "Invalid PIN");
    let (s, b) = app.post(&admin, ACCOUNT, request_with(CC, PHONE, json!({"pin": "222222"}))).await;
    assert_code_sent(s, &b, "Acme Shop");
}

/// Item 17: resetting the application settings leaves two-step on (and the
/// registration in place).
#[tokio::test]
async fn resetting_application_settings_keeps_two_step() {
    let (app, admin) = registered().await;
    enable_two_step(&app, &admin, "123456").await;
    let (s, b) = app.delete(&admin, APPLICATION).await;
    assert_meta_only(s, &b, 200);
    assert_registered(&app, &admin, DEFAULT_WA_ID).await;

    let (s, b) = app.post(&admin, ACCOUNT, request(CC, PHONE)).await;
    assert_one_error(s, &b, 400, 1008, &missing("pin"));
    let (s, b) = app.post(&admin, ACCOUNT, request_with(CC, PHONE, json!({"pin": "000000"}))).await;
    assert_one_error(s, &b, 403, 1005, "Invalid PIN");
    let (s, b) = app.post(&admin, ACCOUNT, request_with(CC, PHONE, json!({"pin": "123456"}))).await;
    assert_code_sent(s, &b, "Acme Shop");
}
