//! Every settings route is the admin's: users and anonymous callers are refused
//! and change nothing (item 16).

use super::*;

const NO_PERMISSION: &str = "User doesn't have permission";
const MISSING_CREDENTIALS: &str = "Missing or invalid authentication credentials";

enum Body {
    None,
    Json(Value),
    Raw(Vec<u8>),
}

/// Item 16 (and registration.md item 16): every route is the admin's.
#[tokio::test]
async fn every_settings_route_refuses_users_and_anonymous_callers() {
    let (app, admin) = registered().await;
    add_provider(&app, &admin, provider_bearer("p1", "t")).await;
    let (s, b) = upload_photo(&app, &admin, picture(100, 100)).await;
    assert_meta_only(s, &b, 201);
    let blob = make_backup(&app, &admin, "pw").await;
    let photo = photo_bytes(&app, &admin, "").await;
    let user = app.user_token(&admin, "jdoe", "Passw0rd!").await;

    let routes = vec![
        (Method::GET, APPLICATION.to_owned(), Body::None),
        (Method::PATCH, APPLICATION.to_owned(), Body::Json(json!({"heartbeat_interval": 10}))),
        (Method::DELETE, APPLICATION.to_owned(), Body::None),
        (Method::GET, PROVIDERS.to_owned(), Body::None),
        (Method::POST, PROVIDERS.to_owned(), Body::Json(provider_bearer("p2", "t"))),
        (Method::DELETE, format!("{PROVIDERS}/p1"), Body::None),
        (Method::GET, ABOUT.to_owned(), Body::None),
        (Method::PATCH, ABOUT.to_owned(), Body::Json(json!({"text": "hacked"}))),
        (Method::GET, PHOTO.to_owned(), Body::None),
        (Method::GET, format!("{PHOTO}?format=link"), Body::None),
        (Method::POST, PHOTO.to_owned(), Body::Raw(picture(64, 64))),
        (Method::DELETE, PHOTO.to_owned(), Body::None),
        (Method::GET, BUSINESS.to_owned(), Body::None),
        (Method::POST, BUSINESS.to_owned(), Body::Json(json!({"email": "x@y.zz"}))),
        (Method::POST, TWO_STEP.to_owned(), Body::Json(json!({"pin": "123456"}))),
        (Method::DELETE, TWO_STEP.to_owned(), Body::None),
        (Method::POST, BACKUP.to_owned(), Body::Json(json!({"password": "pw"}))),
        (Method::POST, RESTORE.to_owned(), Body::Json(json!({"password": "pw", "data": blob}))),
    ];
    for (method, path, body) in &routes {
        for token in [Some(user.as_str()), None, Some("not-a-token")] {
            let mut rb = app.request(method.clone(), path);
            if let Some(t) = token {
                rb = rb.bearer_auth(t);
            }
            rb = match body {
                Body::None => rb,
                Body::Json(v) => rb.json(v),
                Body::Raw(bytes) => rb.header(CONTENT_TYPE, "image/png").body(bytes.clone()),
            };
            let (s, b) = send(rb).await;
            match token {
                Some(t) if t == user => assert_error(s, &b, 403, 1005, Some(NO_PERMISSION)),
                _ => assert_error(s, &b, 401, 1005, Some(MISSING_CREDENTIALS)),
            }
        }
    }

    // Nothing changed.
    assert_eq!(app_settings(&app, &admin).await, defaults(Some(NUMBER)));
    assert_eq!(providers(&app, &admin).await, provider_bearer("p1", "t"));
    assert_eq!(about(&app, &admin).await, "");
    assert_eq!(business(&app, &admin).await["email"], "");
    assert_eq!(photo_bytes(&app, &admin, "").await, photo);
    assert_eq!(pin_hash(&app, &admin).await, None);
}
