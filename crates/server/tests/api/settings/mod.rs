//! `/v1/settings*`: application settings, media providers, profile about and
//! photo, business profile, backup/restore (`settings.md`, items 1–37 of
//! "Behaviours to test") and two-step verification (`registration.md` §4),
//! plus persistence across restarts, `--allow-http-webhooks` and
//! `--strict-restart-semantics` (`logging-ops.md` §3.2). This file holds what
//! several of the files below share.

mod access;
mod application;
mod backup;
mod business;
mod photo;
mod profile;
mod providers;
mod restart;
mod two_step;

use std::collections::BTreeSet;
use std::io::Cursor;

use image::{GrayImage, ImageFormat, Luma};
use reqwest::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

/// The number the simulated network registers by default.
const NUMBER: &str = "16315550100";
const APPLICATION: &str = "/v1/settings/application";
const PROVIDERS: &str = "/v1/settings/application/media/providers";
const ABOUT: &str = "/v1/settings/profile/about";
const PHOTO: &str = "/v1/settings/profile/photo";
const BUSINESS: &str = "/v1/settings/business/profile";
const TWO_STEP: &str = "/v1/settings/account/two-step";
const BACKUP: &str = "/v1/settings/backup";
const RESTORE: &str = "/v1/settings/restore";
const PHOTO_NOT_FOUND: &str = "Profile photo not found";

/// The inner `settings.application` object right after a reset (§1.6).
fn defaults(wa_id: Option<&str>) -> Value {
    let mut doc = json!({
        "axolotl_context_striping_disabled": false,
        "callback_backoff_delay_ms": 3000,
        "callback_persist": true,
        "garbagecollector_enable": { "media": false, "messages": true },
        "heartbeat_interval": 5,
        "log_level": "info",
        "max_callback_backoff_delay_ms": 900000,
        "media": { "auto_download": [] },
        "notify_user_change_number": false,
        "pass_through": false,
        "sent_status": false,
        "show_security_notifications": false,
        "skip_referral_media_download": false,
        "unhealthy_interval": 30,
        "verbose_logging": false,
        "webhooks": {
            "max_concurrent_requests": 6,
            "message": { "sent": true, "delivered": true, "read": true }
        }
    });
    if let Some(w) = wa_id {
        doc["wa_id"] = json!(w);
    }
    doc
}

async fn admin_app(spawn: Spawn) -> (TestApp, String) {
    let app = TestApp::spawn_with(spawn).await;
    let admin = app.admin_token().await;
    (app, admin)
}

async fn registered() -> (TestApp, String) {
    admin_app(Spawn::default()).await
}

async fn unregistered() -> (TestApp, String) {
    admin_app(Spawn::default().arg("--unregistered")).await
}

/// `GET /v1/settings/application` → the inner `application` object.
async fn app_settings(app: &TestApp, token: &str) -> Value {
    let (s, b) = app.get(token, APPLICATION).await;
    assert_eq!(s, StatusCode::OK, "GET application: {b}");
    assert_meta(&b);
    let keys: Vec<&str> = b.as_object().expect("object").keys().map(String::as_str).collect();
    assert_eq!(keys.len(), 2, "only settings and meta expected: {b}");
    b["settings"]["application"].clone()
}

async fn providers(app: &TestApp, token: &str) -> Value {
    let (s, b) = app.get(token, PROVIDERS).await;
    assert_eq!(s, StatusCode::OK, "GET providers: {b}");
    assert_meta(&b);
    b["settings"]["application"]["media"]["providers"].clone()
}

async fn about(app: &TestApp, token: &str) -> Value {
    let (s, b) = app.get(token, ABOUT).await;
    assert_eq!(s, StatusCode::OK, "GET about: {b}");
    assert_meta(&b);
    b["settings"]["profile"]["about"]["text"].clone()
}

async fn business(app: &TestApp, token: &str) -> Value {
    let (s, b) = app.get(token, BUSINESS).await;
    assert_eq!(s, StatusCode::OK, "GET business profile: {b}");
    assert_meta(&b);
    b["settings"]["business"]["profile"].clone()
}

/// Makes a backup and returns its blob.
async fn make_backup(app: &TestApp, token: &str, password: &str) -> String {
    let (s, b) = app.post(token, BACKUP, json!({ "password": password })).await;
    assert_eq!(s, StatusCode::OK, "backup: {b}");
    assert_meta(&b);
    let keys: BTreeSet<&str> = b.as_object().expect("object").keys().map(String::as_str).collect();
    assert_eq!(keys, BTreeSet::from(["meta", "settings"]), "backup body: {b}");
    let data = b["settings"]["data"].as_str().unwrap_or_else(|| panic!("no settings.data: {b}")).to_owned();
    assert!(data.starts_with("WABK1."), "backup blob prefix: {data}");
    data
}

/// The plaintext JSON of a backup blob (the format of `settings.md` §6.1).
fn open_backup(blob: &str, password: &str) -> Value {
    let plain = wabiz_domain::settings::backup::decrypt(password, blob).expect("the backup decrypts with its password");
    serde_json::from_slice(&plain).expect("the backup plaintext is JSON")
}

/// The stored two-step PIN hash, as carried by a backup (`None` while off).
async fn pin_hash(app: &TestApp, token: &str) -> Option<String> {
    let doc = open_backup(&make_backup(app, token, "inspect").await, "inspect");
    match &doc["two_step_pin_hash"] {
        Value::Null => None,
        Value::String(h) => Some(h.clone()),
        other => panic!("two_step_pin_hash is neither null nor a string: {other}"),
    }
}

async fn upload_photo(app: &TestApp, token: &str, bytes: Vec<u8>) -> (StatusCode, Value) {
    send(app.authed(Method::POST, PHOTO, token).header(CONTENT_TYPE, "image/png").body(bytes)).await
}

/// `GET /v1/settings/profile/photo[?query]` that must return the image.
async fn photo_bytes(app: &TestApp, token: &str, query: &str) -> Vec<u8> {
    let r = app.response(token, Method::GET, &format!("{PHOTO}{query}"), None).await;
    assert_eq!(r.status(), StatusCode::OK, "GET photo{query}");
    assert_eq!(r.headers()[CONTENT_TYPE], "image/jpeg", "GET photo{query}: Content-Type");
    let cd = r.headers().get(CONTENT_DISPOSITION).expect("Content-Disposition").to_str().expect("ascii").to_owned();
    assert!(cd.contains("profilePicture.jpg"), "Content-Disposition: {cd}");
    r.bytes().await.expect("photo body").to_vec()
}

fn provider_bearer(name: &str, token: &str) -> Value {
    json!([{ "name": name, "type": "www", "config": { "bearer": token } }])
}

async fn add_provider(app: &TestApp, token: &str, body: Value) {
    let (s, b) = app.post(token, PROVIDERS, body).await;
    assert_meta_only(s, &b, 200);
}

/// A grey-scale test picture with some structure, as a PNG.
pub(crate) fn picture(width: u32, height: u32) -> Vec<u8> {
    let image = GrayImage::from_fn(width, height, |x, y| Luma([((x / 8 + y / 8) % 2 * 200 + 20) as u8]));
    let mut png = Cursor::new(Vec::new());
    image.write_to(&mut png, ImageFormat::Png).expect("the test picture encodes");
    png.into_inner()
}
