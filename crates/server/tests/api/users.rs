use crate::helpers::*;

// `/v1/users*`: login, logout, user management, bearer-token lifecycle and the
// authentication failures every endpoint reuses (`users-auth.md`, items 1–20 of
// "Behaviours to test", plus the create-user check order of §7 and the
// `expires_after` format of §4).

use reqwest::header::{CONTENT_TYPE, WWW_AUTHENTICATE};
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
use wabiz_domain::clock::Clock as _;
use wabiz_domain::users::token::token_digest;

/// The 1009 details of a password failing the complexity rules (§5 step 4).
const COMPLEXITY: &str = "Password doesn't meet complexity requirements: length between 8 and 64 characters, at least 1 each of upper-case character, lower-case character, digit, special character (!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~) are required";

const MISSING_CREDENTIALS: &str = "Missing or invalid authentication credentials";
const INVALID_CREDENTIALS: &str = "Invalid credentials.";
const NO_PERMISSION: &str = "User doesn't have permission";
const TOKEN_LIFETIME: i64 = 604_800;

// ------------------------------------------------------------------ helpers

/// Asserts a success: status, `meta`, and that the only other key is `key`
/// holding exactly `want` (or no other key at all when `key` is `None`).
fn assert_payload(status: StatusCode, body: &Value, want_status: u16, key: Option<(&str, Value)>) {
    assert_eq!(status.as_u16(), want_status, "status; body: {body}");
    assert_meta(body);
    let obj = body.as_object().unwrap_or_else(|| panic!("not an object: {body}"));
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    keys.sort_unstable();
    match key {
        None => assert_eq!(keys, ["meta"], "body: {body}"),
        Some((k, want)) => {
            let mut expected = vec![k, "meta"];
            expected.sort_unstable();
            assert_eq!(keys, expected, "body: {body}");
            assert_eq!(body[k], want, "body: {body}");
        }
    }
}

/// Asserts the Basic challenge of a failed login: 401, `WWW-Authenticate:
/// Basic realm="Secured"` and an empty body (no envelope).
async fn assert_challenge(r: Response, what: &str) {
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{what}: status");
    let header = r.headers().get(WWW_AUTHENTICATE).map(|v| v.to_str().unwrap_or("<non-ascii>").to_owned());
    assert_eq!(header.as_deref(), Some("Basic realm=\"Secured\""), "{what}: WWW-Authenticate");
    let bytes = r.bytes().await.expect("body");
    assert!(bytes.is_empty(), "{what}: body must be empty, got {:?}", String::from_utf8_lossy(&bytes));
}

/// Asserts a successful login and returns `(token, expires_after)`.
async fn assert_login_ok(r: Response, what: &str) -> (String, String) {
    let (status, body) = json(r).await;
    assert_eq!(status, StatusCode::OK, "{what}: body {body}");
    assert_meta(&body);
    let users = body["users"].as_array().unwrap_or_else(|| panic!("{what}: no users array: {body}"));
    assert_eq!(users.len(), 1, "{what}: {body}");
    let token = users[0]["token"].as_str().unwrap_or_else(|| panic!("{what}: no token: {body}")).to_owned();
    let expires =
        users[0]["expires_after"].as_str().unwrap_or_else(|| panic!("{what}: no expires_after: {body}")).to_owned();
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "{what}: token {token} is not three dot-separated parts");
    assert!(parts.iter().all(|p| !p.is_empty()), "{what}: empty token part in {token}");
    (token, expires)
}

/// Parses `YYYY-MM-DD HH:MM:SS+00:00` (exactly that shape, `^\d{4}-\d\d-\d\d
/// \d\d:\d\d:\d\d\+00:00$`) into Unix seconds; panics on any other shape.
fn parse_expires_after(s: &str) -> i64 {
    let b = s.as_bytes();
    assert_eq!(b.len(), 25, "expires_after {s:?} has the wrong length");
    for (i, c) in b.iter().enumerate().take(19) {
        let want_sep = match i {
            4 | 7 => Some(b'-'),
            10 => Some(b' '),
            13 | 16 => Some(b':'),
            _ => None,
        };
        match want_sep {
            Some(sep) => assert_eq!(*c, sep, "expires_after {s:?}: byte {i}"),
            None => assert!(c.is_ascii_digit(), "expires_after {s:?}: byte {i} is not a digit"),
        }
    }
    assert_eq!(&s[19..], "+00:00", "expires_after {s:?}: offset");
    let n = |r: std::ops::Range<usize>| s[r].parse::<i64>().expect("digits");
    let (y, mo, d, h, mi, se) = (n(0..4), n(5..7), n(8..10), n(11..13), n(14..16), n(17..19));
    let month = time::Month::try_from(u8::try_from(mo).expect("month")).expect("valid month");
    let date = time::Date::from_calendar_date(i32::try_from(y).expect("year"), month, u8::try_from(d).expect("day"))
        .expect("valid date");
    let tod = time::Time::from_hms(
        u8::try_from(h).expect("hour"),
        u8::try_from(mi).expect("minute"),
        u8::try_from(se).expect("second"),
    )
    .expect("valid time");
    time::PrimitiveDateTime::new(date, tod).assume_utc().unix_timestamp()
}

/// A fresh server whose admin password has been changed; returns the admin token.
async fn app_with_admin() -> (TestApp, String) {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    (app, admin)
}

async fn create(app: &TestApp, token: &str, body: Value) -> (StatusCode, Value) {
    app.post(token, "/v1/users", body).await
}

async fn get_user(app: &TestApp, token: &str, username: &str) -> (StatusCode, Value) {
    app.get(token, &format!("/v1/users/{username}")).await
}

async fn put_user(app: &TestApp, token: &str, username: &str, body: Value) -> (StatusCode, Value) {
    app.put(token, &format!("/v1/users/{username}"), body).await
}

async fn delete_user(app: &TestApp, token: &str, username: &str) -> (StatusCode, Value) {
    app.delete(token, &format!("/v1/users/{username}")).await
}

async fn token_in_store(app: &TestApp, token: &str) -> bool {
    app.app().store().find_token(&token_digest(token)).await.expect("store lookup").is_some()
}

/// Replaces the first character of the signature part with another base64url
/// character, so that the signature still decodes but no longer matches.
fn alter_signature(token: &str) -> String {
    let sig_start = token.rfind('.').expect("token has dots") + 1;
    let mut bytes = token.as_bytes().to_vec();
    bytes[sig_start] = if bytes[sig_start] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).expect("ascii")
}

/// The token with its claims changed (later expiry, another user) under the
/// original signature.
fn forge_claims(token: &str) -> String {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "{token}");
    let mut claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).expect("payload is base64url"))
        .expect("payload is JSON");
    claims["user"] = json!("root");
    if let Some(exp) = claims["exp"].as_i64() {
        claims["exp"] = json!(exp + 86_400);
    }
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).expect("JSON"));
    format!("{}.{payload}.{}", parts[0], parts[2])
}

// ------------------------------------------------------ login (items 1–6)

/// Item 1.
#[tokio::test]
async fn fresh_admin_login_without_new_password_requires_a_change() {
    let app = TestApp::spawn().await;

    let (status, body) = json(app.login("admin", "secret", None).await).await;
    assert_error(status, &body, 401, 1024, Some("Password must be changed"));
    assert_eq!(body["errors"][0]["title"], "Password Change Required", "title: {body}");
    assert!(body.get("users").is_none(), "no token may be issued: {body}");

    // An empty `new_password` counts as absent.
    let (status, body) = json(app.login("admin", "secret", Some(json!({ "new_password": "" }))).await).await;
    assert_error(status, &body, 401, 1024, Some("Password must be changed"));

    // Unknown keys do not help either.
    let (status, body) = json(app.login("admin", "secret", Some(json!({ "password": "Passw0rd!" }))).await).await;
    assert_error(status, &body, 401, 1024, Some("Password must be changed"));

    // The factory password is still in place: the change works afterwards.
    assert_login_ok(app.login("admin", "secret", Some(json!({ "new_password": "Passw0rd!" }))).await, "change").await;
}

/// Items 2 and 3, and the `expires_after` format (§4).
#[tokio::test]
async fn first_admin_login_changes_the_password_and_issues_a_token() {
    let app = TestApp::spawn().await;

    let before = app.clock.now_unix();
    let r = app.login("admin", "secret", Some(json!({ "new_password": "Passw0rd!" }))).await;
    let after = app.clock.now_unix();
    let (token, expires) = assert_login_ok(r, "first login").await;
    let exp = parse_expires_after(&expires);
    assert!(
        exp >= before + TOKEN_LIFETIME - 5 && exp <= after + TOKEN_LIFETIME + 5,
        "expires_after {expires} ({exp}) is not 7 days after now ({before}..{after})"
    );

    // The token works.
    let (status, body) = get_user(&app, &token, "admin").await;
    assert_payload(status, &body, 200, Some(("users", json!([{ "ROLES": "ROLE_ADMIN", "username": "admin" }]))));

    // Item 3: the factory password is gone, the new one works without a body.
    assert_challenge(app.login("admin", "secret", None).await, "admin:secret after change").await;
    assert_challenge(
        app.login("admin", "secret", Some(json!({ "new_password": "Other-Passw0rd" }))).await,
        "admin:secret with new_password after change",
    )
    .await;
    let (second, expires2) = assert_login_ok(app.login("admin", "Passw0rd!", None).await, "admin:Passw0rd!").await;
    assert_ne!(second, token, "each login issues a new token");
    parse_expires_after(&expires2);
}

/// `expires_after` follows the server clock and is formatted in UTC.
#[tokio::test]
async fn expires_after_is_exp_in_utc_with_space_and_offset() {
    let (app, _admin) = app_with_admin().await;
    // Move the clock by a year and a bit: the value must follow the server clock.
    app.clock.advance(400 * 86_400);
    let now = app.clock.now_unix();
    let (_, expires) = assert_login_ok(app.login("admin", ADMIN_PASSWORD, None).await, "login").await;
    let exp = parse_expires_after(&expires);
    assert!((exp - (now + TOKEN_LIFETIME)).abs() <= 5, "expires_after {expires} vs now {now}");
    assert!(!expires.contains('T') && !expires.ends_with('Z'), "{expires}");
}

/// Item 4, for admin's forced change and for a regular user.
#[tokio::test]
async fn weak_new_passwords_are_refused_and_leave_the_password_unchanged() {
    let app = TestApp::spawn().await;
    let long = format!("Aa1!{}", "x".repeat(61));
    assert_eq!(long.chars().count(), 65);
    let weak = [
        "Short1!",
        "alllower1!",
        "ALLUPPER1!",
        "NoDigits!!",
        "NoSpecial12",
        "Has Space1!",
        "Ünicode1!a",
        long.as_str(),
    ];

    for pw in weak {
        let (status, body) = json(app.login("admin", "secret", Some(json!({ "new_password": pw }))).await).await;
        assert_error(status, &body, 400, 1009, Some(COMPLEXITY));
        assert!(body.get("users").is_none(), "{pw:?}: no token may be issued: {body}");
    }
    // Still the factory password, still a forced change.
    let (status, body) = json(app.login("admin", "secret", None).await).await;
    assert_error(status, &body, 401, 1024, Some("Password must be changed"));
    assert_challenge(app.login("admin", "alllower1!", None).await, "a refused password was not set").await;

    // A non-string `new_password` is refused too (Recommended).
    let (status, body) = json(app.login("admin", "secret", Some(json!({ "new_password": 12345678 }))).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["errors"][0]["code"], 1009, "{body}");
    assert_meta(&body);

    // The 64-character version is long enough and short enough.
    let ok64 = &long[..64];
    let admin = token_of(app.login("admin", "secret", Some(json!({ "new_password": ok64 }))).await).await;
    assert_login_ok(app.login("admin", ok64, None).await, "64-char password").await;

    // Any user may change its password at login; the same rules apply.
    let jdoe_token = app.user_token(&admin, "jdoe", "Passw0rd!").await;
    assert!(!jdoe_token.is_empty());
    for pw in weak {
        let (status, body) = json(app.login("jdoe", "Passw0rd!", Some(json!({ "new_password": pw }))).await).await;
        assert_error(status, &body, 400, 1009, Some(COMPLEXITY));
    }
    assert_login_ok(app.login("jdoe", "Passw0rd!", None).await, "jdoe unchanged").await;
    assert_login_ok(
        app.login("jdoe", "Passw0rd!", Some(json!({ "new_password": "N3w-Passw0rd" }))).await,
        "jdoe change",
    )
    .await;
    assert_challenge(app.login("jdoe", "Passw0rd!", None).await, "jdoe old password").await;
    assert_login_ok(app.login("jdoe", "N3w-Passw0rd", None).await, "jdoe new password").await;
}

/// Item 5, plus other bad Basic credentials and the credentials-before-body order.
#[tokio::test]
async fn login_without_valid_basic_credentials_is_a_bare_challenge() {
    let (app, admin) = app_with_admin().await;

    let r = app.request(Method::POST, "/v1/users/login").send().await.expect("login");
    assert_challenge(r, "no Authorization").await;

    let r = app.authed(Method::POST, "/v1/users/login", &admin).send().await.expect("login");
    assert_challenge(r, "Bearer token on login").await;

    assert_challenge(app.login("admin", "wrong-Passw0rd", None).await, "wrong password").await;
    assert_challenge(app.login("nobody", ADMIN_PASSWORD, None).await, "unknown user").await;
    assert_challenge(app.login("ADMIN", ADMIN_PASSWORD, None).await, "user names are case-sensitive").await;

    let r = app
        .request(Method::POST, "/v1/users/login")
        .header("Authorization", "Basic !!!notbase64")
        .send()
        .await
        .expect("login");
    assert_challenge(r, "undecodable Basic").await;

    // Bad credentials win over a malformed body …
    let r = app
        .request(Method::POST, "/v1/users/login")
        .basic_auth("admin", Some("wrong-Passw0rd"))
        .header(CONTENT_TYPE, "application/json")
        .body("{\"new_password\":")
        .send()
        .await
        .expect("login");
    assert_challenge(r, "bad credentials and malformed body").await;

    // … good credentials reach body decoding.
    let r = app
        .request(Method::POST, "/v1/users/login")
        .header("Authorization", basic("admin", ADMIN_PASSWORD))
        .header(CONTENT_TYPE, "application/json")
        .body("{\"new_password\":")
        .send()
        .await
        .expect("login");
    let (status, body) = json(r).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["errors"][0]["code"], 1025, "{body}");
    assert!(
        body["errors"][0]["details"].as_str().is_some_and(|d| d.starts_with("Unable to decode the request: ")),
        "{body}"
    );
    assert_meta(&body);

    // The Basic header built by hand works like reqwest's.
    let r = app
        .request(Method::POST, "/v1/users/login")
        .header("Authorization", basic("admin", ADMIN_PASSWORD))
        .send()
        .await
        .expect("login");
    assert_login_ok(r, "hand-built Basic").await;
}

/// Item 6.
#[tokio::test]
async fn thirty_failed_logins_from_one_ip_lock_it_out_for_an_hour() {
    // Not `admin_token()`: its first attempt with the new password is itself a failure.
    let app = TestApp::spawn().await;
    let r = app.login("admin", "secret", Some(json!({ "new_password": ADMIN_PASSWORD }))).await;
    assert_login_ok(r, "first login").await;

    for i in 1..=30 {
        assert_challenge(app.login("admin", "wrong-Passw0rd", None).await, &format!("failure {i}")).await;
    }
    let (status, body) = json(app.login("admin", "wrong-Passw0rd", None).await).await;
    assert_error(status, &body, 429, 1015, Some("Rate limiting exceeded on bad login attempts"));
    // Even correct credentials are refused now.
    let (status, body) = json(app.login("admin", ADMIN_PASSWORD, None).await).await;
    assert_error(status, &body, 429, 1015, Some("Rate limiting exceeded on bad login attempts"));
    let r = app.request(Method::POST, "/v1/users/login").send().await.expect("login");
    let (status, body) = json(r).await;
    assert_error(status, &body, 429, 1015, Some("Rate limiting exceeded on bad login attempts"));

    // The window is one hour.
    app.clock.advance(3601);
    assert_login_ok(app.login("admin", ADMIN_PASSWORD, None).await, "after an hour").await;
}

/// Item 6: the 1024 answers are 401s on the login path, so they count too;
/// successful logins do not.
#[tokio::test]
async fn forced_password_change_answers_count_as_failed_logins() {
    let app = TestApp::spawn().await;
    for _ in 1..=29 {
        let (status, body) = json(app.login("admin", "secret", None).await).await;
        assert_error(status, &body, 401, 1024, Some("Password must be changed"));
    }
    // A success in between neither counts nor resets.
    let admin = token_of(app.login("admin", "secret", Some(json!({ "new_password": ADMIN_PASSWORD }))).await).await;
    assert!(!admin.is_empty());
    assert_login_ok(app.login("admin", ADMIN_PASSWORD, None).await, "success").await;
    assert_challenge(app.login("admin", "secret", None).await, "30th failure").await;
    let (status, body) = json(app.login("admin", ADMIN_PASSWORD, None).await).await;
    assert_error(status, &body, 429, 1015, Some("Rate limiting exceeded on bad login attempts"));
    // Bearer endpoints are not affected.
    let (status, _) = get_user(&app, &admin, "admin").await;
    assert_eq!(status, StatusCode::OK);
}

// ------------------------------------------------ tokens (items 7, 8, 9)

/// Item 7.
#[tokio::test]
async fn logout_revokes_only_the_presented_token() {
    let (app, _admin) = app_with_admin().await;
    let first = token_of(app.login("admin", ADMIN_PASSWORD, None).await).await;
    let second = token_of(app.login("admin", ADMIN_PASSWORD, None).await).await;
    assert_ne!(first, second, "two logins must give two different tokens");
    assert!(token_in_store(&app, &first).await && token_in_store(&app, &second).await);

    let (status, body) = app.call(&first, Method::POST, "/v1/users/logout", None).await;
    assert_payload(status, &body, 200, None);
    assert!(!token_in_store(&app, &first).await, "the logged-out token must leave the store");
    assert!(token_in_store(&app, &second).await, "other tokens stay");

    let (status, body) = get_user(&app, &first, "admin").await;
    assert_error(status, &body, 401, 1005, Some(INVALID_CREDENTIALS));
    let (status, body) = app.call(&first, Method::POST, "/v1/users/logout", None).await;
    assert_error(status, &body, 401, 1005, Some(INVALID_CREDENTIALS));

    let (status, body) = get_user(&app, &second, "admin").await;
    assert_payload(status, &body, 200, Some(("users", json!([{ "ROLES": "ROLE_ADMIN", "username": "admin" }]))));

    // Logout without a token is an ordinary bearer failure.
    let (status, body) = send(app.request(Method::POST, "/v1/users/logout")).await;
    assert_error(status, &body, 401, 1005, Some(MISSING_CREDENTIALS));

    // A regular user may log out too.
    let jdoe = app.user_token(&second, "jdoe", "Passw0rd!").await;
    let (status, body) = app.call(&jdoe, Method::POST, "/v1/users/logout", None).await;
    assert_payload(status, &body, 200, None);
    let (status, body) = get_user(&app, &jdoe, "jdoe").await;
    assert_error(status, &body, 401, 1005, Some(INVALID_CREDENTIALS));
}

/// The bearer failures of item 8 on `path`.
async fn assert_bearer_failures(app: &TestApp, method: Method, path: &str, token: &str) {
    let send = |auth: Option<String>| {
        let mut rb = app.request(method.clone(), path);
        if let Some(a) = auth {
            rb = rb.header("Authorization", a);
        }
        async move { send(rb).await }
    };
    let (status, body) = send(None).await;
    assert_error(status, &body, 401, 1005, Some(MISSING_CREDENTIALS));
    let (status, body) = send(Some(format!("bearer {token}"))).await;
    assert_error(status, &body, 401, 1005, Some(MISSING_CREDENTIALS));
    let (status, body) = send(Some(format!("BEARER {token}"))).await;
    assert_error(status, &body, 401, 1005, Some(MISSING_CREDENTIALS));
    let (status, body) = send(Some(basic("admin", ADMIN_PASSWORD))).await;
    assert_error(status, &body, 401, 1005, Some(MISSING_CREDENTIALS));
    let (status, body) = send(Some("Bearer not-a-token".into())).await;
    assert_error(status, &body, 401, 1005, Some(MISSING_CREDENTIALS));
    let (status, body) = send(Some("Bearer".into())).await;
    assert_error(status, &body, 401, 1005, Some(MISSING_CREDENTIALS));

    let (status, body) = send(Some(format!("Bearer {}", alter_signature(token)))).await;
    assert_error(status, &body, 401, 1005, Some(INVALID_CREDENTIALS));
    // Other claims under the original signature.
    let (status, body) = send(Some(format!("Bearer {}", forge_claims(token)))).await;
    assert_error(status, &body, 401, 1005, Some(INVALID_CREDENTIALS));

    // The untouched token still works.
    let (status, body) = send(Some(format!("Bearer {token}"))).await;
    assert!(status.is_success(), "valid token refused on {path}: {status} {body}");
}

/// Item 8 (the spec names `GET /v1/settings/application`, which the settings
/// work adds; the rules are the same on every bearer route), for an admin's and
/// a regular user's token.
#[tokio::test]
async fn bearer_failures_on_users_endpoint() {
    let (app, admin) = app_with_admin().await;
    assert_bearer_failures(&app, Method::GET, "/v1/users/admin", &admin).await;
    let jdoe = app.user_token(&admin, "jdoe", "Passw0rd!").await;
    assert_bearer_failures(&app, Method::GET, "/v1/users/jdoe", &jdoe).await;
    // A bad signature does not revoke the real token.
    assert!(token_in_store(&app, &jdoe).await);
}

/// Item 9: 7-day lifetime, 600 s of skew, expired tokens leave the store.
#[tokio::test]
async fn expired_tokens_are_refused_after_the_skew_and_deleted() {
    let (app, admin) = app_with_admin().await;
    let jdoe = app.user_token(&admin, "jdoe", "Passw0rd!").await;
    assert!(token_in_store(&app, &admin).await);

    // Six days later: fine.
    app.clock.advance(6 * 86_400);
    let (status, _) = get_user(&app, &admin, "admin").await;
    assert_eq!(status, StatusCode::OK);

    // `exp` 5 minutes in the past: still accepted.
    app.clock.advance(86_400 + 300);
    let (status, body) = get_user(&app, &admin, "admin").await;
    assert_eq!(status, StatusCode::OK, "5 min past exp: {body}");
    assert!(token_in_store(&app, &admin).await);

    // 11 minutes in the past: refused and gone.
    app.clock.advance(360);
    let (status, body) = get_user(&app, &admin, "admin").await;
    assert_error(status, &body, 401, 1005, Some(INVALID_CREDENTIALS));
    assert!(!token_in_store(&app, &admin).await, "an expired token must be deleted from the store");
    let (status, body) = get_user(&app, &admin, "admin").await;
    assert_error(status, &body, 401, 1005, Some(INVALID_CREDENTIALS));

    // Same for the user's token, and for logout with an expired token.
    assert!(token_in_store(&app, &jdoe).await);
    let (status, body) = app.call(&jdoe, Method::POST, "/v1/users/logout", None).await;
    assert_error(status, &body, 401, 1005, Some(INVALID_CREDENTIALS));
    assert!(!token_in_store(&app, &jdoe).await);

    // A new login gives a new 7-day token.
    let fresh = token_of(app.login("admin", ADMIN_PASSWORD, None).await).await;
    let (status, _) = get_user(&app, &fresh, "admin").await;
    assert_eq!(status, StatusCode::OK);
}

/// §4: tokens are stored server-side and the signing key persists, so
/// tokens (and the changed admin password) survive a restart.
#[tokio::test]
async fn tokens_and_passwords_survive_a_restart() {
    let (app, admin) = app_with_admin().await;
    let jdoe = app.user_token(&admin, "jdoe", "Passw0rd!").await;
    let app = app.restart().await;
    let (status, body) = get_user(&app, &admin, "jdoe").await;
    assert_payload(status, &body, 200, Some(("users", json!([{ "ROLES": "ROLE_USER", "username": "jdoe" }]))));
    let (status, _) = get_user(&app, &jdoe, "jdoe").await;
    assert_eq!(status, StatusCode::OK);
    assert_challenge(app.login("admin", "secret", None).await, "factory password after restart").await;
    assert_login_ok(app.login("admin", ADMIN_PASSWORD, None).await, "after restart").await;
}

/// Login and a bearer call over HTTPS.
#[tokio::test]
async fn login_and_bearer_work_over_https() {
    let app = TestApp::spawn_with(Spawn::https()).await;
    assert!(app.base_url.starts_with("https://"), "{}", app.base_url);
    let (status, body) = json(app.login("admin", "secret", None).await).await;
    assert_error(status, &body, 401, 1024, Some("Password must be changed"));
    let admin = app.admin_token().await;
    let (status, body) = get_user(&app, &admin, "admin").await;
    assert_payload(status, &body, 200, Some(("users", json!([{ "ROLES": "ROLE_ADMIN", "username": "admin" }]))));
}

// --------------------------------------------- create user (items 10–12, 20)

/// Item 10.
#[tokio::test]
async fn create_user_then_duplicates_are_500() {
    let (app, admin) = app_with_admin().await;
    let (status, body) = create(&app, &admin, json!({ "username": "jdoe", "password": "Passw0rd!" })).await;
    assert_payload(status, &body, 201, Some(("users", json!([{ "username": "jdoe" }]))));

    let (status, body) = create(&app, &admin, json!({ "username": "jdoe", "password": "Passw0rd!" })).await;
    assert_error(status, &body, 500, 1014, Some("Unable to create user. Already exist?"));
    let (status, body) = create(&app, &admin, json!({ "username": "jdoe", "password": "Other-Passw0rd" })).await;
    assert_error(status, &body, 500, 1014, Some("Unable to create user. Already exist?"));
    let (status, body) = create(&app, &admin, json!({ "username": "admin", "password": "Passw0rd!" })).await;
    assert_error(status, &body, 500, 1014, Some("Unable to create user. Already exist?"));

    // The duplicate attempt did not change jdoe's password.
    assert_login_ok(app.login("jdoe", "Passw0rd!", None).await, "jdoe").await;
    assert_challenge(app.login("jdoe", "Other-Passw0rd", None).await, "duplicate did not overwrite").await;

    // Names are case-sensitive: another user.
    let (status, body) = create(&app, &admin, json!({ "username": "JDoe", "password": "Passw0rd!" })).await;
    assert_payload(status, &body, 201, Some(("users", json!([{ "username": "JDoe" }]))));

    // A new user is a ROLE_USER and needs no password change at first login.
    let (status, body) = get_user(&app, &admin, "jdoe").await;
    assert_payload(status, &body, 200, Some(("users", json!([{ "ROLES": "ROLE_USER", "username": "jdoe" }]))));
}

/// Item 11 and the check order of §7 (rows 2–7), first failure wins.
#[tokio::test]
async fn create_user_checks_in_order() {
    let (app, admin) = app_with_admin().await;
    // An existing user for row 7.
    let (status, _) = create(&app, &admin, json!({ "username": "jdoe", "password": "Passw0rd!" })).await;
    assert_eq!(status, StatusCode::CREATED);

    const INVALID_NAME: &str = "Invalid Username";
    const NAME_LENGTH: &str = "Username doesn't meet length requirements";
    const NAME_CHARS: &str = "Username contains prohibited characters";
    const PW_LENGTH: &str = "Password doesn't meet length requirements";
    let n33 = "a".repeat(33);
    let p65 = format!("Aa1!{}", "x".repeat(61));
    let cases: Vec<(Value, u16, u64, &str)> = vec![
        // Item 11.
        (json!({ "username": "abc", "password": "Passw0rd!" }), 400, 1009, NAME_LENGTH),
        (json!({ "username": &n33, "password": "Passw0rd!" }), 400, 1009, NAME_LENGTH),
        (json!({ "username": "j doe", "password": "Passw0rd!" }), 400, 1009, NAME_CHARS),
        (json!({ "username": "_apiuser", "password": "Passw0rd!" }), 400, 1009, INVALID_NAME),
        (json!({ "password": "Passw0rd!" }), 400, 1009, NAME_LENGTH),
        (json!({ "username": "newuser", "password": "weak" }), 400, 1009, PW_LENGTH),
        (json!({ "username": "newuser", "password": "weakpassword" }), 400, 1009, COMPLEXITY),
        // More single failures.
        (json!({ "username": "", "password": "Passw0rd!" }), 400, 1009, NAME_LENGTH),
        (json!({ "username": "jdoé1", "password": "Passw0rd!" }), 400, 1009, NAME_CHARS),
        (json!({ "username": "j/doe", "password": "Passw0rd!" }), 400, 1009, NAME_CHARS),
        (json!({ "username": "j%20d", "password": "Passw0rd!" }), 400, 1009, NAME_CHARS),
        (json!({ "username": "newuser" }), 400, 1009, PW_LENGTH),
        (json!({ "username": "newuser", "password": "" }), 400, 1009, PW_LENGTH),
        (json!({ "username": "newuser", "password": "Sh0rt!x" }), 400, 1009, PW_LENGTH),
        (json!({ "username": "newuser", "password": &p65 }), 400, 1009, PW_LENGTH),
        (json!({ "username": "newuser", "password": "Has Space1!" }), 400, 1009, COMPLEXITY),
        (json!({ "username": "newuser", "password": "NoSpecial12" }), 400, 1009, COMPLEXITY),
        (json!({}), 400, 1009, NAME_LENGTH),
        // Order: row 2 before 3–7.
        (json!({ "username": "_apiuser", "password": "weak" }), 400, 1009, INVALID_NAME),
        (json!({ "username": "_apiuser" }), 400, 1009, INVALID_NAME),
        // Row 3 before 4.
        (json!({ "username": "a b", "password": "Passw0rd!" }), 400, 1009, NAME_LENGTH),
        (json!({ "username": format!("{n33} "), "password": "Passw0rd!" }), 400, 1009, NAME_LENGTH),
        // Row 3 before 5.
        (json!({ "username": "abc", "password": "weak" }), 400, 1009, NAME_LENGTH),
        // Row 4 before 5.
        (json!({ "username": "j doe", "password": "weak" }), 400, 1009, NAME_CHARS),
        (json!({ "username": "j doe" }), 400, 1009, NAME_CHARS),
        // Row 5 before 6: a short password that also lacks complexity.
        (json!({ "username": "newuser", "password": "abc" }), 400, 1009, PW_LENGTH),
        // Rows 5 and 6 before 7 (the name exists).
        (json!({ "username": "jdoe", "password": "weak" }), 400, 1009, PW_LENGTH),
        (json!({ "username": "jdoe", "password": "weakpassword" }), 400, 1009, COMPLEXITY),
        (json!({ "username": "admin", "password": "weak" }), 400, 1009, PW_LENGTH),
        (json!({ "username": "admin", "password": "weakpassword" }), 400, 1009, COMPLEXITY),
        // Row 7.
        (json!({ "username": "jdoe", "password": "Passw0rd!" }), 500, 1014, "Unable to create user. Already exist?"),
    ];
    for (body, want_status, want_code, details) in cases {
        let (status, resp) = create(&app, &admin, body.clone()).await;
        assert_eq!(status.as_u16(), want_status, "request {body}: {resp}");
        assert_error(status, &resp, want_status, want_code, Some(details));
    }

    // None of the refused names was created.
    for name in ["abc", "newuser", "_apiuser", "j doe"] {
        assert_challenge(app.login(name, "Passw0rd!", None).await, name).await;
    }

    // Boundaries that pass: 4 and 32 characters, every allowed character, 8- and 64-character passwords.
    let n32 = "b".repeat(32);
    let p64 = &p65[..64];
    for (name, pw) in [("abcd", "Passw0r!"), (n32.as_str(), p64), ("a.B_c-D9", "Passw0rd!"), ("_apiuse", "Passw0rd!")] {
        let (status, body) = create(&app, &admin, json!({ "username": name, "password": pw })).await;
        assert_payload(status, &body, 201, Some(("users", json!([{ "username": name }]))));
        assert_login_ok(app.login(name, pw, None).await, name).await;
    }
}

/// §7: extra keys are ignored (no way to pick a role); a body that is not
/// declared as JSON is ignored, so parameters read as missing.
#[tokio::test]
async fn create_user_ignores_extra_keys_and_non_json_bodies() {
    let (app, admin) = app_with_admin().await;
    let (status, body) = create(
        &app,
        &admin,
        json!({ "username": "sneaky", "password": "Passw0rd!", "role": "ROLE_ADMIN", "ROLES": "ROLE_ADMIN" }),
    )
    .await;
    assert_payload(status, &body, 201, Some(("users", json!([{ "username": "sneaky" }]))));
    let (status, body) = get_user(&app, &admin, "sneaky").await;
    assert_payload(status, &body, 200, Some(("users", json!([{ "ROLES": "ROLE_USER", "username": "sneaky" }]))));
    let sneaky = token_of(app.login("sneaky", "Passw0rd!", None).await).await;
    let (status, body) = create(&app, &sneaky, json!({ "username": "other", "password": "Passw0rd!" })).await;
    assert_error(status, &body, 403, 1005, Some(NO_PERMISSION));

    let r = app
        .authed(Method::POST, "/v1/users", &admin)
        .header(CONTENT_TYPE, "text/plain")
        .body(r#"{"username":"plain","password":"Passw0rd!"}"#)
        .send()
        .await
        .expect("create");
    let (status, body) = json(r).await;
    assert_error(status, &body, 400, 1009, Some("Username doesn't meet length requirements"));

    // `application/json; charset=utf-8` is JSON.
    let r = app
        .authed(Method::POST, "/v1/users", &admin)
        .header(CONTENT_TYPE, "application/json; charset=utf-8")
        .body(r#"{"username":"charset","password":"Passw0rd!"}"#)
        .send()
        .await
        .expect("create");
    let (status, body) = json(r).await;
    assert_payload(status, &body, 201, Some(("users", json!([{ "username": "charset" }]))));
}

/// §8 (Recommended): `/v1/users/` is the same path as `/v1/users`.
#[tokio::test]
async fn create_user_accepts_a_trailing_slash() {
    let (app, admin) = app_with_admin().await;
    let r = app
        .authed(Method::POST, "/v1/users/", &admin)
        .json(&json!({ "username": "slash", "password": "Passw0rd!" }))
        .send()
        .await
        .expect("create");
    let (status, body) = json(r).await;
    assert_payload(status, &body, 201, Some(("users", json!([{ "username": "slash" }]))));
}

/// §7 row 1 (and §9): more than 256 create/update-user calls per IP and hour → 429.
#[tokio::test]
async fn create_and_update_user_calls_are_rate_limited() {
    let (app, admin) = app_with_admin().await;
    let jdoe = app.user_token(&admin, "jdoe", "Passw0rd!").await; // call 1
    for i in 2..=200 {
        let (status, body) = create(&app, &admin, json!({ "username": "abc", "password": "Passw0rd!" })).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "call {i}: {body}");
    }
    for i in 201..=256 {
        let (status, body) = put_user(&app, &admin, "ghost", json!({})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "call {i}: {body}");
    }
    // Call 257: row 1 comes before every other check.
    let (status, body) = create(&app, &admin, json!({ "username": "_apiuser", "password": "Passw0rd!" })).await;
    assert_error(status, &body, 429, 1015, Some("Rate limiting exceeded on create user"));
    let (status, body) = create(&app, &admin, json!({ "username": "valid1", "password": "Passw0rd!" })).await;
    assert_error(status, &body, 429, 1015, Some("Rate limiting exceeded on create user"));
    let (status, body) = put_user(&app, &jdoe, "jdoe", json!({ "password": "N3w-Passw0rd" })).await;
    assert_error(status, &body, 429, 1015, Some("Rate limiting exceeded on update user"));
    let (status, body) = put_user(&app, &jdoe, "admin", json!({ "password": "N3w-Passw0rd" })).await;
    assert_error(status, &body, 429, 1015, Some("Rate limiting exceeded on update user"));
    // Nothing was created or changed.
    assert_login_ok(app.login("jdoe", "Passw0rd!", None).await, "jdoe unchanged").await;
    let (status, body) = get_user(&app, &admin, "valid1").await;
    assert_error(status, &body, 404, 1006, Some("User does not exist"));
    // Other user endpoints are not limited.
    let (status, _) = get_user(&app, &jdoe, "jdoe").await;
    assert_eq!(status, StatusCode::OK);

    // The window is one hour.
    app.clock.advance(3601);
    let (status, body) = create(&app, &admin, json!({ "username": "valid1", "password": "Passw0rd!" })).await;
    assert_payload(status, &body, 201, Some(("users", json!([{ "username": "valid1" }]))));
}

/// Item 12, and the role check before body decoding (§1.2).
#[tokio::test]
async fn regular_users_cannot_create_users() {
    let (app, admin) = app_with_admin().await;
    let jdoe = app.user_token(&admin, "jdoe", "Passw0rd!").await;
    let (status, body) = create(&app, &jdoe, json!({ "username": "other", "password": "Passw0rd!" })).await;
    assert_error(status, &body, 403, 1005, Some(NO_PERMISSION));
    let r = app
        .authed(Method::POST, "/v1/users", &jdoe)
        .header(CONTENT_TYPE, "application/json")
        .body("{\"username\":")
        .send()
        .await
        .expect("create");
    let (status, body) = json(r).await;
    assert_error(status, &body, 403, 1005, Some(NO_PERMISSION));
    let (status, body) = get_user(&app, &admin, "other").await;
    assert_error(status, &body, 404, 1006, Some("User does not exist"));
}

/// Item 20, and authentication before body decoding (§1.2).
#[tokio::test]
async fn create_user_with_malformed_json_is_1025() {
    let (app, admin) = app_with_admin().await;
    let r = app
        .authed(Method::POST, "/v1/users", &admin)
        .header(CONTENT_TYPE, "application/json")
        .body("{\"username\":")
        .send()
        .await
        .expect("create");
    let (status, body) = json(r).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_meta(&body);
    assert_eq!(body["errors"][0]["code"], 1025, "{body}");
    assert!(body["errors"][0]["title"].is_string(), "{body}");
    let details = body["errors"][0]["details"].as_str().unwrap_or_default();
    assert!(details.starts_with("Unable to decode the request: "), "details: {body}");

    let r = app
        .request(Method::POST, "/v1/users")
        .header(CONTENT_TYPE, "application/json")
        .body("{\"username\":")
        .send()
        .await
        .expect("create");
    let (status, body) = json(r).await;
    assert_error(status, &body, 401, 1005, Some(MISSING_CREDENTIALS));
}

// ------------------------------------------------- read user (items 13–14)

/// Item 13.
#[tokio::test]
async fn admin_reads_any_user() {
    let (app, admin) = app_with_admin().await;
    let _ = app.user_token(&admin, "jdoe", "Passw0rd!").await;
    let (status, body) = get_user(&app, &admin, "jdoe").await;
    assert_payload(status, &body, 200, Some(("users", json!([{ "ROLES": "ROLE_USER", "username": "jdoe" }]))));
    let (status, body) = get_user(&app, &admin, "admin").await;
    assert_payload(status, &body, 200, Some(("users", json!([{ "ROLES": "ROLE_ADMIN", "username": "admin" }]))));
    assert_eq!(body["users"][0]["ROLES"], "ROLE_ADMIN");
    let (status, body) = get_user(&app, &admin, "nobody").await;
    assert_error(status, &body, 404, 1006, Some("User does not exist"));
    // Case-sensitive names.
    let (status, body) = get_user(&app, &admin, "JDOE").await;
    assert_error(status, &body, 404, 1006, Some("User does not exist"));
}

/// Item 14.
#[tokio::test]
async fn regular_users_read_only_themselves() {
    let (app, admin) = app_with_admin().await;
    let jdoe = app.user_token(&admin, "jdoe", "Passw0rd!").await;
    let _ = app.user_token(&admin, "mary", "Passw0rd!").await;
    for other in ["admin", "mary", "nobody", "JDOE"] {
        let (status, body) = get_user(&app, &jdoe, other).await;
        assert_error(status, &body, 403, 1005, Some("Regular user cannot read other user information"));
    }
    let (status, body) = get_user(&app, &jdoe, "jdoe").await;
    assert_payload(status, &body, 200, Some(("users", json!([{ "ROLES": "ROLE_USER", "username": "jdoe" }]))));
}

// ----------------------------------------------- change password (15–16)

/// Item 15, plus admin changing passwords.
#[tokio::test]
async fn users_change_their_own_password_and_keep_their_tokens() {
    let (app, admin) = app_with_admin().await;
    let jdoe = app.user_token(&admin, "jdoe", "Passw0rd!").await;

    let (status, body) = put_user(&app, &jdoe, "jdoe", json!({ "password": "N3w-Passw0rd" })).await;
    assert_payload(status, &body, 200, Some(("users", json!([{ "username": "jdoe" }]))));
    let (status, _) = get_user(&app, &jdoe, "jdoe").await;
    assert_eq!(status, StatusCode::OK, "the old token stays valid");
    assert!(token_in_store(&app, &jdoe).await);
    assert_challenge(app.login("jdoe", "Passw0rd!", None).await, "old password").await;
    assert_login_ok(app.login("jdoe", "N3w-Passw0rd", None).await, "new password").await;

    // Complexity applies to changes too; nothing changes on failure.
    for pw in ["weak", "weakpassword", "Has Space1!", "Ünicode1!a"] {
        let (status, body) = put_user(&app, &jdoe, "jdoe", json!({ "password": pw })).await;
        assert_error(status, &body, 400, 1009, Some(COMPLEXITY));
    }
    let (status, body) = put_user(&app, &jdoe, "jdoe", json!({ "password": 123 })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "non-string password: {body}");
    assert_eq!(body["errors"][0]["code"], 1009, "non-string password: {body}");
    assert_login_ok(app.login("jdoe", "N3w-Passw0rd", None).await, "unchanged after refusals").await;

    // Admin changes jdoe's password; extra keys are ignored.
    let (status, body) = put_user(&app, &admin, "jdoe", json!({ "password": "Adm1n-Set!", "username": "other" })).await;
    assert_payload(status, &body, 200, Some(("users", json!([{ "username": "jdoe" }]))));
    assert_login_ok(app.login("jdoe", "Adm1n-Set!", None).await, "set by admin").await;
    let (status, _) = get_user(&app, &jdoe, "jdoe").await;
    assert_eq!(status, StatusCode::OK);

    // Admin changes its own password; its token stays valid.
    let (status, body) = put_user(&app, &admin, "admin", json!({ "password": "Adm1n-Again!" })).await;
    assert_payload(status, &body, 200, Some(("users", json!([{ "username": "admin" }]))));
    let (status, _) = get_user(&app, &admin, "admin").await;
    assert_eq!(status, StatusCode::OK);
    assert_challenge(app.login("admin", ADMIN_PASSWORD, None).await, "admin old password").await;
    assert_login_ok(app.login("admin", "Adm1n-Again!", None).await, "admin new password").await;
}

/// Item 16, and the order of the update checks (§9).
#[tokio::test]
async fn password_change_checks_permission_then_complexity_then_existence() {
    let (app, admin) = app_with_admin().await;
    let jdoe = app.user_token(&admin, "jdoe", "Passw0rd!").await;

    let (status, body) = put_user(&app, &jdoe, "admin", json!({ "password": "N3w-Passw0rd" })).await;
    assert_error(status, &body, 403, 1005, Some("Regular user cannot modify other user"));
    // Permission before complexity and before existence.
    let (status, body) = put_user(&app, &jdoe, "admin", json!({})).await;
    assert_error(status, &body, 403, 1005, Some("Regular user cannot modify other user"));
    let (status, body) = put_user(&app, &jdoe, "ghost", json!({ "password": "N3w-Passw0rd" })).await;
    assert_error(status, &body, 403, 1005, Some("Regular user cannot modify other user"));
    assert_login_ok(app.login("admin", ADMIN_PASSWORD, None).await, "admin unchanged").await;

    let (status, body) = put_user(&app, &admin, "ghost", json!({ "password": "N3w-Passw0rd" })).await;
    assert_error(status, &body, 404, 1006, Some("User does not exist"));
    // Complexity (a missing password fails it) before existence.
    let (status, body) = put_user(&app, &admin, "ghost", json!({})).await;
    assert_error(status, &body, 400, 1009, Some(COMPLEXITY));
    let (status, body) = put_user(&app, &admin, "jdoe", json!({})).await;
    assert_error(status, &body, 400, 1009, Some(COMPLEXITY));
    let (status, body) = put_user(&app, &jdoe, "jdoe", json!({})).await;
    assert_error(status, &body, 400, 1009, Some(COMPLEXITY));
    // PUT does not create users.
    let (status, body) = get_user(&app, &admin, "ghost").await;
    assert_error(status, &body, 404, 1006, Some("User does not exist"));
}

// -------------------------------------------------- delete user (17–18)

/// Item 17.
#[tokio::test]
async fn deleting_a_user_revokes_all_its_tokens() {
    let (app, admin) = app_with_admin().await;
    let jdoe1 = app.user_token(&admin, "jdoe", "Passw0rd!").await;
    let jdoe2 = token_of(app.login("jdoe", "Passw0rd!", None).await).await;
    let mary = app.user_token(&admin, "mary", "Passw0rd!").await;
    // Warm any token cache.
    for t in [&jdoe1, &jdoe2] {
        let (status, _) = get_user(&app, t, "jdoe").await;
        assert_eq!(status, StatusCode::OK);
    }

    let (status, body) = delete_user(&app, &admin, "jdoe").await;
    assert_payload(status, &body, 200, Some(("users", json!([{ "username": "jdoe" }]))));
    for t in [&jdoe1, &jdoe2] {
        assert!(!token_in_store(&app, t).await, "jdoe's tokens must leave the store");
        let (status, body) = get_user(&app, t, "jdoe").await;
        assert_error(status, &body, 401, 1005, Some(INVALID_CREDENTIALS));
    }
    assert_challenge(app.login("jdoe", "Passw0rd!", None).await, "deleted user").await;
    let (status, body) = get_user(&app, &admin, "jdoe").await;
    assert_error(status, &body, 404, 1006, Some("User does not exist"));
    // Other users keep theirs.
    let (status, _) = get_user(&app, &mary, "mary").await;
    assert_eq!(status, StatusCode::OK);

    let (status, body) = delete_user(&app, &admin, "jdoe").await;
    assert_error(status, &body, 404, 1006, Some("User does not exist"));

    // The name can be used again; the old tokens stay dead.
    let (status, _) = create(&app, &admin, json!({ "username": "jdoe", "password": "Passw0rd!" })).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = get_user(&app, &jdoe1, "jdoe").await;
    assert_error(status, &body, 401, 1005, Some(INVALID_CREDENTIALS));
}

/// Item 18.
#[tokio::test]
async fn admin_cannot_be_deleted_and_users_cannot_delete() {
    let (app, admin) = app_with_admin().await;
    let jdoe = app.user_token(&admin, "jdoe", "Passw0rd!").await;

    let (status, body) = delete_user(&app, &admin, "admin").await;
    assert_error(status, &body, 400, 1009, Some("Admin user cannot be deleted"));
    assert_login_ok(app.login("admin", ADMIN_PASSWORD, None).await, "admin still there").await;
    let (status, _) = get_user(&app, &admin, "admin").await;
    assert_eq!(status, StatusCode::OK, "admin's token survives");

    for target in ["jdoe", "admin", "ghost"] {
        let (status, body) = delete_user(&app, &jdoe, target).await;
        assert_error(status, &body, 403, 1005, Some(NO_PERMISSION));
    }
    let (status, _) = get_user(&app, &jdoe, "jdoe").await;
    assert_eq!(status, StatusCode::OK, "jdoe still exists");
}

// ------------------------------------------ routing failures (item 19)

/// Item 19, plus the Recommended `GET /v1/users` → 405.
#[tokio::test]
async fn unknown_paths_and_methods() {
    let (app, admin) = app_with_admin().await;
    let jdoe = app.user_token(&admin, "jdoe", "Passw0rd!").await;

    let (status, body) = send(app.request(Method::GET, "/v1/users/jdoe/extra")).await;
    assert_error(status, &body, 404, 1006, Some("URL path not found"));
    for t in [&admin, &jdoe] {
        let (status, body) = app.get(t, "/v1/users/jdoe/extra").await;
        assert_error(status, &body, 404, 1006, Some("URL path not found"));
    }
    let (status, body) = app.get("garbage", "/v1/users/jdoe/extra").await;
    assert_error(status, &body, 404, 1006, Some("URL path not found"));

    for token in [None, Some(&admin)] {
        let mut rb = app.request(Method::PATCH, "/v1/users/login");
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        let (status, body) = send(rb).await;
        assert_error(status, &body, 405, 1014, None);
    }
    let (status, body) = app.call(&admin, Method::PATCH, "/v1/users/jdoe", None).await;
    assert_error(status, &body, 405, 1014, None);

    // No list endpoint (Recommended): the path exists for POST only.
    let (status, body) = app.get(&admin, "/v1/users").await;
    assert_error(status, &body, 405, 1014, None);
    let (status, body) = send(app.request(Method::GET, "/v1/users")).await;
    assert_error(status, &body, 405, 1014, None);
}
