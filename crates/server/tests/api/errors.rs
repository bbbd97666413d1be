//! The response envelope and the framework-level errors (`errors.md`).

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn request_ids_are_echoed_or_generated() {
    let app = TestApp::spawn().await;
    for path in ["/", "/v1/health", "/v1/nothing"] {
        let r = app.request(Method::GET, path).header("X-Request-ID", "abc").send().await.unwrap();
        assert_eq!(r.headers()["x-request-id"], "abc", "{path}");
        let r = app.request(Method::GET, path).send().await.unwrap();
        let id = r.headers()["x-request-id"].to_str().unwrap().to_owned();
        assert_eq!(id.len(), 32, "{path}: {id}");
        assert!(id.chars().all(|c| c.is_ascii_hexdigit()));
        let again = app.request(Method::GET, path).send().await.unwrap();
        assert_ne!(again.headers()["x-request-id"].to_str().unwrap(), id, "ids must differ");
    }
}

#[tokio::test]
async fn every_json_response_carries_meta() {
    let app = TestApp::spawn_with(Spawn::default().env("WA_VERSION", "v2.45.1")).await;
    let admin = app.admin_token().await;
    let responses = vec![
        app.request(Method::GET, "/").send().await.unwrap(),
        app.authed(Method::GET, "/v1/health", &admin).send().await.unwrap(),
        app.authed(Method::POST, "/v1/users/logout", &admin).send().await.unwrap(),
        app.request(Method::GET, "/v1/nothing").send().await.unwrap(),
        app.request(Method::DELETE, "/v1/health").send().await.unwrap(),
    ];
    for r in responses {
        assert_eq!(r.headers()["content-type"], "application/json");
        let (_, b) = json(r).await;
        assert_eq!(b["meta"], json!({"version": "v2.45.1", "api_status": "stable"}), "{b}");
    }
}

#[tokio::test]
async fn an_error_without_details_has_no_details_key() {
    let app = TestApp::spawn().await;
    let (s, b) = send(app.request(Method::PUT, "/v1/users/login")).await;
    assert_error(s, &b, 405, 1014, None);
    assert_eq!(b["errors"][0], json!({"code": 1014, "title": "Internal error"}));
}

#[tokio::test]
async fn bodies_are_read_only_as_json_and_only_when_labelled() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let good = r#"{"username":"jdoe","password":"Passw0rd!"}"#;

    // Not labelled JSON: the body is ignored and the parameters read as missing.
    for ct in [None, Some("text/plain"), Some("application/x-www-form-urlencoded")] {
        let mut rb = app.authed(Method::POST, "/v1/users", &admin).body(good);
        if let Some(ct) = ct {
            rb = rb.header("Content-Type", ct);
        }
        let (s, b) = send(rb).await;
        assert_error(s, &b, 400, 1009, Some("Username doesn't meet length requirements"));
    }
    // An empty JSON body is {}.
    let r =
        app.authed(Method::POST, "/v1/users", &admin).header("Content-Type", "application/json").send().await.unwrap();
    let (s, b) = json(r).await;
    assert_error(s, &b, 400, 1009, Some("Username doesn't meet length requirements"));

    // Labelled JSON with parameters: decoded (with a charset too).
    let r = app
        .authed(Method::POST, "/v1/users", &admin)
        .header("Content-Type", "application/json; charset=utf-8")
        .body(good)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
}

#[tokio::test]
async fn undecodable_and_oversized_bodies() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let post = |body: Vec<u8>| {
        app.authed(Method::POST, "/v1/users", &admin).header("Content-Type", "application/json").body(body).send()
    };
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (br#"{"username":"#.to_vec(), "Unable to decode the request: Syntax error"),
        (b"{'a':1}".to_vec(), "Unable to decode the request: Syntax error"),
        (b"[1,2]".to_vec(), "Unable to decode the request: the request body must be a JSON object"),
        (b"\"text\"".to_vec(), "Unable to decode the request: the request body must be a JSON object"),
        (
            b"{\"a\":\"\xff\xfe\"}".to_vec(),
            "Unable to decode the request: Malformed UTF-8 characters, possibly incorrectly encoded",
        ),
    ];
    for (body, details) in cases {
        let (s, b) = json(post(body).await.unwrap()).await;
        assert_error(s, &b, 400, 1025, Some(details));
    }
    // 5 MiB: over the 4 MiB JSON limit.
    let big = format!(r#"{{"username":"{}"}}"#, "a".repeat(5 * 1024 * 1024)).into_bytes();
    let (s, b) = json(post(big).await.unwrap()).await;
    assert_error(s, &b, 400, 1009, Some("Request content exceeds size of 4194304 bytes"));
    // Nothing was created by any of it.
    let (s, _) = app.get(&admin, "/v1/users/aaaa").await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn trailing_slashes_are_ignored() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let r = app
        .authed(Method::POST, "/v1/users/", &admin)
        .json(&json!({"username": "jdoe", "password": "Passw0rd!"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let (s, b) = app.get(&admin, "/v1/users/jdoe/").await;
    assert_eq!(s, 200);
    assert_eq!(b["users"][0]["username"], "jdoe");
    let (s, _) = app.get(&admin, "/v1/health/").await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn garbage_never_yields_a_server_error() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let bodies: Vec<Value> = vec![
        json!({"username": 5, "password": "Passw0rd!"}),
        json!({"username": ["jdoe"], "password": {"x": 1}}),
        json!({"username": "jdoe", "password": null}),
        json!({"username": null}),
        json!({"username": "jdoe", "password": 12345678}),
        json!({"username": "j\u{0000}doe", "password": "Passw0rd!"}),
    ];
    for body in bodies {
        let (s, b) = app.post(&admin, "/v1/users", body.clone()).await;
        assert_eq!(s, 400, "{body} -> {b}");
        assert_eq!(b["errors"][0]["code"], 1009, "{body} -> {b}");
    }
    for body in [json!({"password": 5}), json!({"password": []}), json!([])] {
        let (s, b) = app.put(&admin, "/v1/users/admin", body.clone()).await;
        assert_eq!(s, 400, "{body} -> {b}");
    }
    let (s, b) = json(app.login("admin", ADMIN_PASSWORD, Some(json!({"new_password": 42}))).await).await;
    assert_error(s, &b, 400, 1009, Some("Parameter 'new_password' has invalid value '42'"));
}
