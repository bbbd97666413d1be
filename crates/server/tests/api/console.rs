//! The web console's server side (issue 22): its pages, and its session
//! cookie with the CSRF check, over plain HTTP (the browser tests drive the
//! pages themselves: `console_browser.rs`).

use reqwest::{Method, StatusCode, header};
use serde_json::{Value, json};

use crate::helpers::*;

const COOKIE: &str = "wabiz_console";

/// `POST /console/session` with `token`: the `Set-Cookie` value and the CSRF value.
async fn open_session(app: &TestApp, token: &str) -> (String, String) {
    let r = app.authed(Method::POST, "/console/session", token).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let cookie = r.headers()[header::SET_COOKIE].to_str().unwrap().to_owned();
    let body: Value = r.json().await.unwrap();
    (cookie, body["session"]["csrf"].as_str().unwrap().to_owned())
}

/// A request carrying the console's cookie (and no `Authorization`).
fn with_cookie(app: &TestApp, method: Method, path: &str, token: &str) -> reqwest::RequestBuilder {
    app.request(method, path).header(header::COOKIE, format!("other=1; {COOKIE}={token}"))
}

#[tokio::test]
async fn the_console_is_served_with_a_strict_policy() {
    let app = TestApp::spawn().await;
    let r = app.request(Method::GET, "/console").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "served without credentials");
    assert!(r.headers()[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/html"));
    let policy = r.headers()[header::CONTENT_SECURITY_POLICY].to_str().unwrap().to_owned();
    assert!(policy.contains("script-src 'self'") && policy.contains("frame-ancestors 'none'"), "{policy}");
    assert_eq!(r.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    let page = r.text().await.unwrap();
    assert!(
        page.contains("/console/assets/console.js") && !page.contains("http://") && !page.contains("https://"),
        "nothing from elsewhere"
    );

    let r = app.request(Method::GET, "/console/assets/console.css").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/css"));
    // The script and every module it imports, and they import, are served.
    let (mut wanted, mut seen) = (vec!["console.js".to_owned()], Vec::new());
    while let Some(file) = wanted.pop() {
        let r = app.request(Method::GET, &format!("/console/assets/{file}")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{file}");
        assert!(r.headers()[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/javascript"), "{file}");
        let text = r.text().await.unwrap();
        let text = text.replace("http://www.w3.org/2000/svg", ""); // a name, not an address
        assert!(!text.contains("http://") && !text.contains("https://"), "{file} loads nothing from elsewhere");
        for import in text.split("from \"./").skip(1) {
            let module = import.split('"').next().unwrap().to_owned();
            if !seen.contains(&module) && !wanted.contains(&module) {
                wanted.push(module);
            }
        }
        seen.push(file);
    }
    assert!(seen.len() >= 5, "{seen:?}");
    let (s, b) = send(app.request(Method::GET, "/console/assets/secrets.env")).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{b}");
}

#[tokio::test]
async fn a_console_session_is_an_http_only_cookie_whose_changes_need_the_csrf_value() {
    let app = TestApp::spawn().await;
    let (s, b) = send(app.request(Method::GET, "/console/session")).await;
    assert_eq!((s, &b["session"]), (StatusCode::OK, &Value::Null), "not signed in: {b}");

    let token = app.admin_token().await;
    let (cookie, csrf) = open_session(&app, &token).await;
    assert!(cookie.starts_with(&format!("{COOKIE}={token};")), "{cookie}");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attribute), "{attribute}: {cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain HTTP: {cookie}");

    // The cookie alone authenticates reading…
    let (s, b) = send(with_cookie(&app, Method::GET, "/v1/settings/application", &token)).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, b) = send(with_cookie(&app, Method::GET, "/console/session", &token)).await;
    assert_eq!(
        (s, b["session"]["username"].as_str(), b["session"]["csrf"].as_str()),
        (StatusCode::OK, Some("admin"), Some(csrf.as_str()))
    );

    // …but not changing, without the CSRF value or with another one.
    let patch = json!({"sent_status": true});
    let (s, b) = send(with_cookie(&app, Method::PATCH, "/v1/settings/application", &token).json(&patch)).await;
    assert_code(s, &b, 403, 1005);
    let wrong = "0".repeat(32);
    let (s, b) = send(
        with_cookie(&app, Method::PATCH, "/v1/settings/application", &token).header("X-Wabiz-CSRF", wrong).json(&patch),
    )
    .await;
    assert_code(s, &b, 403, 1005);
    let (s, b) = send(app.authed(Method::GET, "/v1/settings/application", &token)).await;
    assert_eq!(b["settings"]["application"]["sent_status"], false, "nothing changed: {s}");
    let (s, b) = send(
        with_cookie(&app, Method::PATCH, "/v1/settings/application", &token).header("X-Wabiz-CSRF", &csrf).json(&patch),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");

    // Signing out revokes the token and removes the cookie.
    let r = with_cookie(&app, Method::DELETE, "/console/session", &token)
        .header("X-Wabiz-CSRF", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()[header::SET_COOKIE].to_str().unwrap().contains("Max-Age=0"));
    let (s, b) = send(with_cookie(&app, Method::GET, "/v1/settings/application", &token)).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{b}");
    let (s, b) = send(with_cookie(&app, Method::GET, "/console/session", &token)).await;
    assert_eq!((s, &b["session"]), (StatusCode::OK, &Value::Null), "{b}");
}

#[tokio::test]
async fn a_users_console_session_has_a_users_rights() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let token = app.user_token(&admin, "console-user", "Us3r-Passw0rd!").await;
    let (_, csrf) = open_session(&app, &token).await;
    let (s, b) = send(with_cookie(&app, Method::GET, "/v1/settings/application", &token)).await;
    assert_code(s, &b, 403, 1005);
    let (s, b) =
        send(with_cookie(&app, Method::GET, "/simulator/templates", &token).header("X-Wabiz-CSRF", &csrf)).await;
    assert_code(s, &b, 403, 1005);
    // A session cannot be opened with no token at all.
    let (s, b) = send(app.request(Method::POST, "/console/session")).await;
    assert_code(s, &b, 401, 1005);
}

#[tokio::test]
async fn on_https_the_cookie_is_secure_only() {
    let app = TestApp::spawn_with(Spawn { https: true, ..Spawn::default() }).await;
    let token = app.admin_token().await;
    let (cookie, _) = open_session(&app, &token).await;
    assert!(cookie.contains("; Secure"), "{cookie}");
}
