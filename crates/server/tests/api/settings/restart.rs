//! Settings across restarts, and `--strict-restart-semantics`
//! (`logging-ops.md` §3.2).

use reqwest::Response;

use super::*;

const RESTART_HEADER: &str = "x-wabiz-restart-required";

fn restart_header(r: &Response) -> Option<BTreeSet<String>> {
    r.headers()
        .get(RESTART_HEADER)
        .map(|v| v.to_str().expect("ascii header").split(',').map(|k| k.trim().to_owned()).collect())
}

async fn patch_with_header(app: &TestApp, token: &str, body: Value) -> Option<BTreeSet<String>> {
    let r = app.response(token, Method::PATCH, APPLICATION, Some(body)).await;
    let header = restart_header(&r);
    let (s, b) = json(r).await;
    assert_meta_only(s, &b, 200);
    header
}

/// Settings (and the other settings documents) survive a restart; so does a reset.
fn keys(list: &[&str]) -> Option<BTreeSet<String>> {
    Some(list.iter().map(|k| (*k).to_owned()).collect())
}

#[tokio::test]
async fn settings_survive_a_restart() {
    let (app, admin) = registered().await;
    let (s, b) = app.patch(&admin, APPLICATION, json!({
            "webhooks": {"url": "https://example.com/hook", "max_concurrent_requests": 18, "message": {"read": false}},
            "heartbeat_interval": 42,
            "callback_backoff_delay_ms": "4000",
            "media": {"auto_download": ["video", "image"]},
            "log_level": "warning",
            "garbagecollector_enable": {"media": true},
            "notify_user_change_number": true
        }))
    .await;
    assert_meta_only(s, &b, 200);
    add_provider(&app, &admin, provider_bearer("p1", "t")).await;
    add_provider(
        &app,
        &admin,
        json!([{"name": "p2", "type": "www", "config": {"basic": {"username": "u", "password": "pw"}}}]),
    )
    .await;
    let (s, b) = app.patch(&admin, ABOUT, json!({"text": "persisted"})).await;
    assert_meta_only(s, &b, 200);
    let (s, b) = app.post(&admin, BUSINESS, json!({"email": "a@b.co", "vertical": "Restaurant"})).await;
    assert_meta_only(s, &b, 200);
    let (s, b) = upload_photo(&app, &admin, picture(300, 200)).await;
    assert_meta_only(s, &b, 201);
    let (s, b) = app.post(&admin, TWO_STEP, json!({"pin": "654321"})).await;
    assert_meta_only(s, &b, 200);

    let settings = app_settings(&app, &admin).await;
    assert_eq!(settings["heartbeat_interval"], json!(42));
    let list = providers(&app, &admin).await;
    let profile = business(&app, &admin).await;
    let photo = photo_bytes(&app, &admin, "").await;
    let hash = pin_hash(&app, &admin).await;
    assert!(hash.is_some());

    let app = app.restart().await;
    let admin = app.admin_token().await;
    assert_eq!(app_settings(&app, &admin).await, settings);
    assert_eq!(providers(&app, &admin).await, list);
    assert_eq!(about(&app, &admin).await, "persisted");
    assert_eq!(business(&app, &admin).await, profile);
    assert_eq!(photo_bytes(&app, &admin, "").await, photo);
    assert_eq!(pin_hash(&app, &admin).await, hash);

    let (s, b) = app.delete(&admin, APPLICATION).await;
    assert_meta_only(s, &b, 200);
    let app = app.restart().await;
    let admin = app.admin_token().await;
    assert_eq!(app_settings(&app, &admin).await, defaults(Some(NUMBER)));
    assert_eq!(providers(&app, &admin).await, list);
}

#[tokio::test]
async fn strict_restart_semantics_name_the_keys_waiting_for_a_restart() {
    let (app, admin) = admin_app(Spawn::default().arg("--strict-restart-semantics")).await;
    assert_eq!(patch_with_header(&app, &admin, json!({"heartbeat_interval": 7})).await, None);
    assert_eq!(patch_with_header(&app, &admin, json!({"callback_persist": false})).await, keys(&["callback_persist"]));
    // Stored and shown at once.
    assert_eq!(app_settings(&app, &admin).await["callback_persist"], json!(false));

    let got =
        patch_with_header(&app, &admin, json!({"log_level": "error", "webhooks": {"max_concurrent_requests": 12}}))
            .await
            .expect("restart header");
    assert!(got.contains("log_level") && got.contains("webhooks.max_concurrent_requests"), "{got:?}");
    assert!(!got.contains("heartbeat_interval"), "{got:?}");

    // After a restart the new values are the boot values: nothing pending.
    let app = app.restart().await;
    let admin = app.admin_token().await;
    assert_eq!(app_settings(&app, &admin).await["callback_persist"], json!(false));
    assert_eq!(patch_with_header(&app, &admin, json!({"heartbeat_interval": 8})).await, None);

    // A reset follows the same rules.
    let r = app.response(&admin, Method::DELETE, APPLICATION, None).await;
    let got = restart_header(&r).expect("restart header on reset");
    let (s, b) = json(r).await;
    assert_meta_only(s, &b, 200);
    for k in ["callback_persist", "log_level", "webhooks.max_concurrent_requests"] {
        assert!(got.contains(k), "{k} in {got:?}");
    }
    assert!(!got.contains("heartbeat_interval"), "{got:?}");
}

/// "A PATCH of a non-restart key never sets the header", even while another
/// restart-required change is pending.
#[tokio::test]
async fn strict_restart_semantics_never_flag_a_patch_of_non_restart_keys() {
    let (app, admin) = admin_app(Spawn::default().arg("--strict-restart-semantics")).await;
    assert_eq!(patch_with_header(&app, &admin, json!({"heartbeat_interval": 7})).await, None);
    assert_eq!(patch_with_header(&app, &admin, json!({"callback_persist": false})).await, keys(&["callback_persist"]));
    assert_eq!(patch_with_header(&app, &admin, json!({"heartbeat_interval": 9})).await, None);
    assert_eq!(patch_with_header(&app, &admin, json!({"webhooks": {"url": "https://example.com/h"}})).await, None);
}

#[tokio::test]
async fn without_strict_restart_semantics_there_is_no_restart_header() {
    let (app, admin) = registered().await;
    assert_eq!(patch_with_header(&app, &admin, json!({"callback_persist": false})).await, None);
    assert_eq!(
        patch_with_header(&app, &admin, json!({"log_level": "error", "webhooks": {"max_concurrent_requests": 12}}))
            .await,
        None
    );
    assert_eq!(patch_with_header(&app, &admin, json!({"heartbeat_interval": 7})).await, None);
    let r = app.response(&admin, Method::DELETE, APPLICATION, None).await;
    assert_eq!(restart_header(&r), None);
    // Applied at once, too.
    assert_eq!(app_settings(&app, &admin).await, defaults(Some(NUMBER)));
}
