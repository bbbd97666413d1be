//! The access table and the authentication schemes, on real routes.

use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

const API_KEY: &str = "monitoring-key-0123";

#[tokio::test]
async fn routing_comes_before_authentication() {
    let app = TestApp::spawn().await;
    let (s, b) = send(app.request(Method::GET, "/v1/nothing/here")).await;
    assert_error(s, &b, 404, 1006, Some("URL path not found"));
    let (s, b) = send(app.request(Method::PATCH, "/v1/users/login")).await;
    assert_error(s, &b, 405, 1014, None);
    let (s, b) = send(app.request(Method::GET, "/v1/users")).await;
    assert_error(s, &b, 405, 1014, None);
    // A routed path without a token: now authentication speaks.
    let (s, b) = send(app.request(Method::GET, "/v1/health")).await;
    assert_error(s, &b, 401, 1005, Some("Missing or invalid authentication credentials"));
}

#[tokio::test]
async fn role_is_checked_before_the_body_is_decoded() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let user = app.user_token(&admin, "jdoe", "Passw0rd!").await;
    let r = app
        .authed(Method::POST, "/v1/users", &user)
        .header("Content-Type", "application/json")
        .body(r#"{"username":"#)
        .send()
        .await
        .unwrap();
    let (s, b) = json(r).await;
    assert_error(s, &b, 403, 1005, Some("User doesn't have permission"));
    // The admin sending the same body gets the decoding error.
    let r = app
        .authed(Method::POST, "/v1/users", &admin)
        .header("Content-Type", "application/json")
        .body(r#"{"username":"#)
        .send()
        .await
        .unwrap();
    let (s, b) = json(r).await;
    assert_error(s, &b, 400, 1025, Some("Unable to decode the request: Syntax error"));
}

#[tokio::test]
async fn authorization_header_forms() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let cases: Vec<(String, &str)> = vec![
        ("".into(), "Missing or invalid authentication credentials"),
        ("Bearer".into(), "Missing or invalid authentication credentials"),
        (format!("bearer {admin}"), "Missing or invalid authentication credentials"),
        (format!("Token {admin}"), "Missing or invalid authentication credentials"),
        ("Bearer not-a-token".into(), "Missing or invalid authentication credentials"),
        (format!("Bearer  {admin}"), "Missing or invalid authentication credentials"),
        (basic("admin", ADMIN_PASSWORD), "Missing or invalid authentication credentials"),
    ];
    for (header, details) in cases {
        let r = app.request(Method::GET, "/v1/health").header("Authorization", &header).send().await.unwrap();
        let (s, b) = json(r).await;
        assert_error(s, &b, 401, 1005, Some(details));
    }
    let ok = app.authed(Method::GET, "/v1/health", &admin).send().await.unwrap();
    assert_eq!(ok.status(), 200);
}

#[tokio::test]
async fn a_token_signed_by_another_server_is_refused() {
    let a = TestApp::spawn().await;
    let b = TestApp::spawn().await;
    let token_a = a.admin_token().await;
    let (s, body) = b.get(&token_a, "/v1/health").await;
    assert_error(s, &body, 401, 1005, Some("Invalid credentials."));
}

#[tokio::test]
async fn api_key_opens_health_only() {
    let app = TestApp::spawn_with(Spawn::default().env("WA_API_KEY", API_KEY)).await;
    let get = |path: &str, auth: String| app.request(Method::GET, path).header("Authorization", auth).send();

    let (s, b) = json(get("/v1/health", format!("Apikey {API_KEY}")).await.unwrap()).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["health"]["gateway_status"], "connected");

    let (s, b) = json(get("/v1/health", "Apikey wrong-key-0123456".into()).await.unwrap()).await;
    assert_error(s, &b, 401, 1005, Some("Invalid credentials."));
    // A bare scheme (HTTP trims the trailing space) carries no credential at all.
    let (s, b) = json(get("/v1/health", "Apikey ".into()).await.unwrap()).await;
    assert_error(s, &b, 401, 1005, Some("Missing or invalid authentication credentials"));

    // ROLE_API is below ROLE_USER: user routes are forbidden, not unauthenticated.
    let (s, b) = json(get("/v1/users/admin", format!("Apikey {API_KEY}")).await.unwrap()).await;
    assert_error(s, &b, 403, 1005, Some("User doesn't have permission"));
    let (s, b) = json(get("/v1/support", format!("Apikey {API_KEY}")).await.unwrap()).await;
    assert_error(s, &b, 403, 1005, Some("User doesn't have permission"));
    let r = app
        .request(Method::POST, "/v1/users/logout")
        .header("Authorization", format!("Apikey {API_KEY}"))
        .send()
        .await
        .unwrap();
    let (s, b) = json(r).await;
    assert_error(s, &b, 403, 1005, Some("User doesn't have permission"));
}

#[tokio::test]
async fn api_key_option_wins_and_short_keys_disable_the_scheme() {
    let app =
        TestApp::spawn_with(Spawn::default().arg("--api-key").arg("option-key-0123").env("WA_API_KEY", API_KEY)).await;
    let r =
        app.request(Method::GET, "/v1/health").header("Authorization", "Apikey option-key-0123").send().await.unwrap();
    assert_eq!(r.status(), 200);
    let r = app
        .request(Method::GET, "/v1/health")
        .header("Authorization", format!("Apikey {API_KEY}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    // 8 characters: outside 12–128, so no Apikey header is ever accepted.
    let app = TestApp::spawn_with(Spawn::default().env("WA_API_KEY", "8-chars!")).await;
    for key in ["8-chars!", "", "x"] {
        let r = app
            .request(Method::GET, "/v1/health")
            .header("Authorization", format!("Apikey {key}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "key {key:?}");
    }
}

#[tokio::test]
async fn every_user_route_needs_a_token() {
    let app = TestApp::spawn().await;
    let routes = [
        (Method::POST, "/v1/users/logout"),
        (Method::POST, "/v1/users"),
        (Method::GET, "/v1/users/admin"),
        (Method::PUT, "/v1/users/admin"),
        (Method::DELETE, "/v1/users/admin"),
        (Method::GET, "/v1/health"),
    ];
    for (m, p) in routes {
        let r = app.request(m.clone(), p).json(&json!({})).send().await.unwrap();
        let (s, b) = json(r).await;
        assert_error(s, &b, 401, 1005, Some("Missing or invalid authentication credentials"));
    }
    // The public ones answer without.
    let r = app.request(Method::GET, "/").send().await.unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn parallel_bad_logins_cannot_pass_the_limit() {
    let app = TestApp::spawn().await;
    let tasks: Vec<_> = (0..60)
        .map(|i| {
            let attempt =
                app.request(Method::POST, "/v1/users/login").basic_auth("admin", Some(format!("wrong-{i}"))).send();
            tokio::spawn(attempt)
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap().unwrap().status().as_u16());
    }
    let checked = statuses.iter().filter(|s| **s == 401).count();
    let limited = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((checked, limited), (30, 30), "exactly 30 attempts may be checked: {statuses:?}");
}

#[tokio::test]
async fn head_follows_the_rule_of_get() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let user = app.user_token(&admin, "jdoe", "Passw0rd!").await;
    let r = app.authed(Method::HEAD, "/v1/certificates/webhooks/ca", &user).send().await.unwrap();
    assert_eq!(r.status(), 403, "a user may not probe admin resources with HEAD");
    let r = app.request(Method::HEAD, "/").send().await.unwrap();
    assert_eq!(r.status(), 200, "public pages stay public");
    let r = app.request(Method::HEAD, "/v1/health").send().await.unwrap();
    assert_eq!(r.status(), 401);
}

/// 30 failed logins from one client, all through the same proxy: with the
/// proxy trusted, only that client is held back; without, the header is
/// the client's word and is ignored, so everyone behind the proxy is.
#[tokio::test]
async fn a_trusted_proxy_names_the_client_whose_failed_logins_are_counted() {
    async fn fail_30_times_from(app: &TestApp, client: &str) {
        for i in 0..30 {
            let r = app
                .request(Method::POST, "/v1/users/login")
                .header("X-Forwarded-For", format!("198.51.100.1, {client}"))
                .basic_auth("admin", Some(format!("wrong-{i}")))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 401);
        }
    }
    let login_from = |app: &TestApp, client: &str| {
        app.request(Method::POST, "/v1/users/login")
            .header("X-Forwarded-For", client.to_owned())
            .basic_auth("admin", Some("secret"))
            .json(&json!({"new_password": "Adm1n-Passw0rd!"}))
            .send()
    };

    let behind = TestApp::spawn_with(Spawn::default().arg("--trusted-proxies").arg("10.0.0.0/8,127.0.0.1")).await;
    fail_30_times_from(&behind, "203.0.113.9").await;
    assert_eq!(login_from(&behind, "203.0.113.9").await.unwrap().status(), 429);
    assert_eq!(login_from(&behind, "203.0.113.10").await.unwrap().status(), 200, "another client is not held back");

    let direct = TestApp::spawn().await;
    fail_30_times_from(&direct, "203.0.113.9").await;
    assert_eq!(login_from(&direct, "203.0.113.10").await.unwrap().status(), 429, "an untrusted header changes nothing");
}
