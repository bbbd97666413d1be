//! `GET /`, `GET /ready` and `GET /v1/health` (`health-stats.md` §2).

use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn health_reports_a_registered_simulated_number_as_connected() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let user = app.user_token(&admin, "jdoe", "Passw0rd!").await;
    for token in [&admin, &user] {
        let (s, b) = app.get(token, "/v1/health").await;
        assert_eq!(s, 200);
        assert_eq!(b["health"], json!({"gateway_status": "connected"}));
        assert_eq!(b["meta"]["api_status"], "stable");
    }
}

#[tokio::test]
async fn health_follows_the_registration_state_across_restarts() {
    let app = TestApp::spawn_with(Spawn::default().arg("--unregistered")).await;
    let admin = app.admin_token().await;
    let (_, b) = app.get(&admin, "/v1/health").await;
    assert_eq!(b["health"]["gateway_status"], "unregistered");

    // Restarted with the flag again: still unregistered, token still valid.
    let app = app.restart().await;
    let (_, b) = app.get(&admin, "/v1/health").await;
    assert_eq!(b["health"]["gateway_status"], "unregistered");
}

#[tokio::test]
async fn health_fails_loudly_when_the_database_is_gone() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    // One request first, so the token is in the authentication cache.
    assert_eq!(app.get(&admin, "/v1/health").await.0, 200);
    app.app().store().close().await;
    let (s, b) = app.get(&admin, "/v1/health").await;
    // The token is still cached, so authentication passes and health reports.
    assert_error(s, &b, 500, 1014, Some("Communication failure: the database does not answer"));
}

#[tokio::test]
async fn root_is_a_public_liveness_page() {
    let app = TestApp::spawn_with(Spawn::https()).await;
    let (s, b) = send(app.request(Method::GET, "/")).await;
    assert_eq!(s, 200);
    assert!(b["meta"].is_object());
}

/// Readiness (`GET /ready`, no credentials): 200 while the node can take
/// traffic; 503 with the reasons when the number is not registered or the
/// database is gone, while liveness (`GET /`) still answers.
#[tokio::test]
async fn readiness_says_whether_the_node_can_take_traffic_and_why_not() {
    let app = TestApp::spawn().await;
    let (s, b) = send(app.request(Method::GET, "/ready")).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!((b["ready"].as_bool(), b["reasons"].as_array().map(Vec::len)), (Some(true), Some(0)), "{b}");

    let unregistered = TestApp::spawn_with(Spawn::default().arg("--unregistered")).await;
    let (s, b) = send(unregistered.request(Method::GET, "/ready")).await;
    assert_eq!(s, 503, "{b}");
    assert_eq!(b["reasons"], json!(["the network is unregistered"]), "{b}");

    app.app().store().close().await;
    let (s, b) = send(app.request(Method::GET, "/ready")).await;
    assert_eq!(s, 503, "{b}");
    assert_eq!(b["reasons"][0], "the database does not answer", "{b}");
    assert_eq!(send(app.request(Method::GET, "/")).await.0, 200, "alive, not ready");
}
