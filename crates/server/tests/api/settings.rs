use crate::helpers::*;

// `/v1/settings*`: application settings, media providers, profile about and
// photo, business profile, backup/restore (`settings.md`, items 1–37 of
// "Behaviours to test") and two-step verification (`registration.md` §4),
// plus persistence across restarts, `--allow-http-webhooks` and
// `--strict-restart-semantics` (`logging-ops.md` §3.2).
//
// Test images are made here by hand (an uncompressed grey-scale PNG encoder,
// a JPEG SOF reader and SHA-256): the test binary has no image or hash crate.

use std::collections::BTreeSet;

use reqwest::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};
use wabiz_domain::settings::backup;

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

const NO_PERMISSION: &str = "User doesn't have permission";
const MISSING_CREDENTIALS: &str = "Missing or invalid authentication credentials";
const NO_VALID_PARAMETERS: &str = "No valid parameters provided";
const UNABLE_TO_DECRYPT: &str = "Unable to decrypt backup data";
const PHOTO_NOT_FOUND: &str = "Profile photo not found";
const PHOTO_TOO_LARGE: &str = "Photo size too large. Max allowed size: 5242880 bytes";
const RESTART_HEADER: &str = "x-wabiz-restart-required";

// ------------------------------------------------------------------ helpers

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

async fn send(rb: RequestBuilder, what: &str) -> (StatusCode, Value) {
    json(rb.send().await.unwrap_or_else(|e| panic!("{what}: {e}"))).await
}

async fn get(app: &TestApp, token: &str, path: &str) -> (StatusCode, Value) {
    call(app, token, Method::GET, path, None).await
}

async fn patch_app(app: &TestApp, token: &str, body: Value) -> (StatusCode, Value) {
    call(app, token, Method::PATCH, APPLICATION, Some(body)).await
}

async fn patch_response(app: &TestApp, token: &str, body: Value) -> Response {
    app.authed(Method::PATCH, APPLICATION, token).json(&body).send().await.expect("PATCH application")
}

/// `GET /v1/settings/application` → the inner `application` object.
async fn app_settings(app: &TestApp, token: &str) -> Value {
    let (s, b) = get(app, token, APPLICATION).await;
    assert_eq!(s, StatusCode::OK, "GET application: {b}");
    assert_meta(&b);
    let keys: Vec<&str> = b.as_object().expect("object").keys().map(String::as_str).collect();
    assert_eq!(keys.len(), 2, "only settings and meta expected: {b}");
    b["settings"]["application"].clone()
}

async fn providers(app: &TestApp, token: &str) -> Value {
    let (s, b) = get(app, token, PROVIDERS).await;
    assert_eq!(s, StatusCode::OK, "GET providers: {b}");
    assert_meta(&b);
    b["settings"]["application"]["media"]["providers"].clone()
}

async fn about(app: &TestApp, token: &str) -> Value {
    let (s, b) = get(app, token, ABOUT).await;
    assert_eq!(s, StatusCode::OK, "GET about: {b}");
    assert_meta(&b);
    b["settings"]["profile"]["about"]["text"].clone()
}

async fn business(app: &TestApp, token: &str) -> Value {
    let (s, b) = get(app, token, BUSINESS).await;
    assert_eq!(s, StatusCode::OK, "GET business profile: {b}");
    assert_meta(&b);
    b["settings"]["business"]["profile"].clone()
}

fn error_details(body: &Value) -> BTreeSet<String> {
    body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors array: {body}"))
        .iter()
        .map(|e| e["details"].as_str().unwrap_or_else(|| panic!("error without details: {body}")).to_owned())
        .collect()
}

/// Makes a backup and returns its blob.
async fn make_backup(app: &TestApp, token: &str, password: &str) -> String {
    let (s, b) = call(app, token, Method::POST, BACKUP, Some(json!({ "password": password }))).await;
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
    let plain = backup::decrypt(password, blob).expect("the backup decrypts with its password");
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
    send(app.authed(Method::POST, PHOTO, token).header(CONTENT_TYPE, "image/png").body(bytes), "POST photo").await
}

/// `GET /v1/settings/profile/photo[?query]` that must return the image.
async fn photo_bytes(app: &TestApp, token: &str, query: &str) -> Vec<u8> {
    let r = app.authed(Method::GET, &format!("{PHOTO}{query}"), token).send().await.expect("GET photo");
    assert_eq!(r.status(), StatusCode::OK, "GET photo{query}");
    assert_eq!(r.headers()[CONTENT_TYPE], "image/jpeg", "GET photo{query}: Content-Type");
    let cd = r.headers().get(CONTENT_DISPOSITION).expect("Content-Disposition").to_str().expect("ascii").to_owned();
    assert!(cd.contains("profilePicture.jpg"), "Content-Disposition: {cd}");
    r.bytes().await.expect("photo body").to_vec()
}

async fn photo_link(app: &TestApp, token: &str) -> String {
    let (s, b) = get(app, token, &format!("{PHOTO}?format=link")).await;
    assert_eq!(s, StatusCode::OK, "GET photo link: {b}");
    assert_meta(&b);
    b["settings"]["profile"]["photo"]["link"].as_str().unwrap_or_else(|| panic!("no link: {b}")).to_owned()
}

fn provider_bearer(name: &str, token: &str) -> Value {
    json!([{ "name": name, "type": "www", "config": { "bearer": token } }])
}

async fn add_provider(app: &TestApp, token: &str, body: Value) {
    let (s, b) = call(app, token, Method::POST, PROVIDERS, Some(body)).await;
    assert_meta_only(s, &b, 200);
}

// ------------------------------------------------------- image helpers

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in data {
        a = (a + u32::from(byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    (b << 16) | a
}

/// An 8-bit grey-scale PNG, zlib with stored (uncompressed) deflate blocks.
fn png(width: u32, height: u32, shade: impl Fn(u32, u32) -> u8) -> Vec<u8> {
    let mut raw = Vec::with_capacity(((width + 1) * height) as usize);
    for y in 0..height {
        raw.push(0); // filter type: none
        raw.extend((0..width).map(|x| shade(x, y)));
    }
    let mut zlib = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = raw.chunks(65_535).collect();
    for (i, block) in blocks.iter().enumerate() {
        zlib.push(u8::from(i + 1 == blocks.len()));
        let len = u16::try_from(block.len()).expect("block fits");
        zlib.extend_from_slice(&len.to_le_bytes());
        zlib.extend_from_slice(&(!len).to_le_bytes());
        zlib.extend_from_slice(block);
    }
    zlib.extend_from_slice(&adler32(&raw).to_be_bytes());

    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]); // depth 8, grey, deflate, no filter, no interlace

    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    for (kind, data) in [(b"IHDR", ihdr), (b"IDAT", zlib), (b"IEND", Vec::new())] {
        out.extend_from_slice(&u32::try_from(data.len()).expect("chunk length").to_be_bytes());
        let mut typed = kind.to_vec();
        typed.extend_from_slice(&data);
        out.extend_from_slice(&typed);
        out.extend_from_slice(&crc32(&typed).to_be_bytes());
    }
    out
}

/// A grey-scale test picture with some structure.
fn picture(width: u32, height: u32) -> Vec<u8> {
    png(width, height, |x, y| ((x / 8 + y / 8) % 2 * 200 + 20) as u8)
}

/// `(width, height)` of a JPEG, read from its SOFn segment.
fn jpeg_size(jpeg: &[u8]) -> (u32, u32) {
    assert!(jpeg.starts_with(&[0xFF, 0xD8]), "not a JPEG (no SOI)");
    let mut i = 2;
    while i + 9 < jpeg.len() {
        assert_eq!(jpeg[i], 0xFF, "JPEG marker expected at byte {i}");
        let marker = jpeg[i + 1];
        if marker == 0xFF {
            i += 1;
            continue;
        }
        if (0xC0..=0xCF).contains(&marker) && !matches!(marker, 0xC4 | 0xC8 | 0xCC) {
            let height = u16::from_be_bytes([jpeg[i + 5], jpeg[i + 6]]);
            let width = u16::from_be_bytes([jpeg[i + 7], jpeg[i + 8]]);
            return (u32::from(width), u32::from(height));
        }
        let len = usize::from(u16::from_be_bytes([jpeg[i + 2], jpeg[i + 3]]));
        i += 2 + len;
    }
    panic!("no SOF segment in the JPEG");
}

const SHA256_K: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
    0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
    0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
    0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
    0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
    0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
    0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2,
];

/// Lower-case hex SHA-256 (FIPS 180-4).
fn sha256_hex(data: &[u8]) -> String {
    let mut h: [u32; 8] =
        [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
    let mut msg = data.to_vec();
    let bits = (data.len() as u64).wrapping_mul(8);
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bits.to_be_bytes());
    for block in msg.chunks(64) {
        let mut w = [0u32; 64];
        for (word, bytes) in w.iter_mut().zip(block.chunks(4)) {
            *word = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        }
        for t in 16..64 {
            let s0 = w[t - 15].rotate_right(7) ^ w[t - 15].rotate_right(18) ^ (w[t - 15] >> 3);
            let s1 = w[t - 2].rotate_right(17) ^ w[t - 2].rotate_right(19) ^ (w[t - 2] >> 10);
            w[t] = w[t - 16].wrapping_add(s0).wrapping_add(w[t - 7]).wrapping_add(s1);
        }
        let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut hh] = h;
        for (k, wt) in SHA256_K.iter().zip(w.iter()) {
            let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
            let ch = (e & f) ^ (!e & g);
            let t1 = hh.wrapping_add(s1).wrapping_add(ch).wrapping_add(*k).wrapping_add(*wt);
            let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
            let maj = (a & b) ^ (a & c) ^ (b & c);
            let t2 = s0.wrapping_add(maj);
            hh = g;
            g = f;
            f = e;
            e = d.wrapping_add(t1);
            d = c;
            c = b;
            b = a;
            a = t1.wrapping_add(t2);
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e, f, g, hh]) {
            *x = x.wrapping_add(y);
        }
    }
    h.iter().map(|x| format!("{x:08x}")).collect()
}

/// A `multipart/form-data` body: `(content type, bytes)`; parts are
/// `(name, file name, content)`.
fn multipart(parts: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    const BOUNDARY: &str = "----wabizTestBoundary7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (name, file, content) in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        match file {
            Some(f) => body.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                )
                .as_bytes(),
            ),
            None => body.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes()),
        }
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={BOUNDARY}"), body)
}

#[test]
fn the_test_helpers_are_right() {
    assert_eq!(sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_eq!(sha256_hex(b""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert_eq!(sha256_hex(&[b'a'; 200]), "c2a908d98f5df987ade41b5fce213067efbcc21ef2240212a41e54b5e7c28ae5");
    assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
    let p = png(3, 2, |x, y| (x + y) as u8);
    assert!(p.starts_with(b"\x89PNG\r\n\x1a\n"));
    assert_eq!(&p[16..24], &[0, 0, 0, 3, 0, 0, 0, 2]);
}

// ================================================== application settings

/// Item 1, and application settings work in any registration state.
#[tokio::test]
async fn an_unregistered_server_reports_the_documented_defaults_without_wa_id() {
    let (app, admin) = unregistered().await;
    let s = app_settings(&app, &admin).await;
    assert_eq!(s["callback_persist"], json!(true));
    assert!(s["callback_backoff_delay_ms"].is_u64(), "a number: {s}");
    assert_eq!(s["callback_backoff_delay_ms"], json!(3000));
    assert_eq!(s["max_callback_backoff_delay_ms"], json!(900000));
    assert_eq!(s["webhooks"]["max_concurrent_requests"], json!(6));
    assert!(s.get("wa_id").is_none(), "no wa_id while unregistered: {s}");
    assert!(s["webhooks"].get("url").is_none(), "no webhooks.url while unset: {s}");
    assert_eq!(s, defaults(None));

    // Settings, unlike profile or backup, need no registration.
    let (st, b) = patch_app(&app, &admin, json!({"heartbeat_interval": 10})).await;
    assert_meta_only(st, &b, 200);
    assert_eq!(app_settings(&app, &admin).await["heartbeat_interval"], json!(10));
}

#[tokio::test]
async fn a_registered_server_reports_its_number_and_the_defaults() {
    let (app, admin) = registered().await;
    let s = app_settings(&app, &admin).await;
    assert_eq!(s["wa_id"], json!(NUMBER));
    assert_eq!(s, defaults(Some(NUMBER)));
}

/// Item 2: nested objects merge key by key.
#[tokio::test]
async fn a_webhook_url_patch_keeps_the_other_webhook_settings() {
    let (app, admin) = registered().await;
    let (s, b) = patch_app(&app, &admin, json!({"webhooks": {"url": "https://example.com/hook"}})).await;
    assert_meta_only(s, &b, 200);
    let got = app_settings(&app, &admin).await;
    assert_eq!(got["webhooks"]["url"], "https://example.com/hook");
    assert_eq!(got["webhooks"]["max_concurrent_requests"], json!(6));
    assert_eq!(got["webhooks"]["message"], json!({"sent": true, "delivered": true, "read": true}));

    // And the other way round: a later nested change keeps the URL.
    let (s, b) = patch_app(&app, &admin, json!({"webhooks": {"max_concurrent_requests": 24}})).await;
    assert_meta_only(s, &b, 200);
    let got = app_settings(&app, &admin).await;
    assert_eq!(got["webhooks"]["url"], "https://example.com/hook");
    assert_eq!(got["webhooks"]["max_concurrent_requests"], json!(24));
}

/// Item 3.
#[tokio::test]
async fn a_patch_needs_at_least_one_recognised_key() {
    let (app, admin) = registered().await;
    for body in [json!({}), json!({"foo": 1}), json!({"wa_id": "1"}), json!({"tcp_listen_address": "any"}), json!([])] {
        let (s, b) = patch_app(&app, &admin, body.clone()).await;
        assert_one_error(s, &b, 400, 1009, NO_VALID_PARAMETERS);
    }
    // A JSON body that is not an object at all.
    for raw in ["5", "\"x\"", "null", "true"] {
        let rb = app.authed(Method::PATCH, APPLICATION, &admin).header(CONTENT_TYPE, "application/json").body(raw);
        let (s, b) = send(rb, raw).await;
        assert_one_error(s, &b, 400, 1009, NO_VALID_PARAMETERS);
    }
    assert_eq!(app_settings(&app, &admin).await, defaults(Some(NUMBER)));

    // An unknown key next to a recognised one is ignored.
    let (s, b) = patch_app(&app, &admin, json!({"foo": 1, "sent_status": true})).await;
    assert_meta_only(s, &b, 200);
    let got = app_settings(&app, &admin).await;
    assert_eq!(got["sent_status"], json!(true));
    assert!(got.get("foo").is_none(), "unknown keys are not stored: {got}");

    // `wa_id` is read-only: ignored next to a recognised key.
    let (s, b) = patch_app(&app, &admin, json!({"wa_id": "1999", "heartbeat_interval": 6})).await;
    assert_meta_only(s, &b, 200);
    let got = app_settings(&app, &admin).await;
    assert_eq!(got["wa_id"], json!(NUMBER));
    assert_eq!(got["heartbeat_interval"], json!(6));

    // The Webapp's undocumented keys (§1.5) count as recognised, and change nothing.
    let before = app_settings(&app, &admin).await;
    let (s, b) = patch_app(&app, &admin, json!({"dogfood_user_limit": 5})).await;
    assert_meta_only(s, &b, 200);
    assert_eq!(app_settings(&app, &admin).await, before);
}

/// Item 4, with the dotted names of nested booleans.
#[tokio::test]
async fn booleans_and_integers_are_strictly_typed() {
    let (app, admin) = registered().await;
    let cases = [
        (json!({"callback_persist": "true"}), invalid_value("callback_persist", "true")),
        (json!({"callback_persist": 1}), invalid_value("callback_persist", "1")),
        (json!({"heartbeat_interval": 5.5}), invalid_value("heartbeat_interval", "5.5")),
        (json!({"heartbeat_interval": "5"}), invalid_value("heartbeat_interval", "5")),
        (json!({"unhealthy_interval": true}), invalid_value("unhealthy_interval", "true")),
        (json!({"verbose_logging": "yes"}), invalid_value("verbose_logging", "yes")),
        (json!({"webhooks": {"message": {"read": "no"}}}), invalid_value("webhooks.message.read", "no")),
        (json!({"garbagecollector_enable": {"media": 1}}), invalid_value("garbagecollector_enable.media", "1")),
    ];
    for (body, details) in cases {
        let (s, b) = patch_app(&app, &admin, body.clone()).await;
        assert_one_error(s, &b, 400, 1009, &details);
    }
    assert_eq!(app_settings(&app, &admin).await, defaults(Some(NUMBER)));

    let (s, b) = patch_app(&app, &admin, json!({"heartbeat_interval": 60, "unhealthy_interval": 90})).await;
    assert_meta_only(s, &b, 200);
    let got = app_settings(&app, &admin).await;
    assert_eq!((got["heartbeat_interval"].clone(), got["unhealthy_interval"].clone()), (json!(60), json!(90)));
}

/// Item 5.
#[tokio::test]
async fn max_concurrent_requests_takes_only_the_documented_values() {
    let (app, admin) = registered().await;
    let (s, b) = patch_app(&app, &admin, json!({"webhooks": {"max_concurrent_requests": 12}})).await;
    assert_meta_only(s, &b, 200);
    assert_eq!(app_settings(&app, &admin).await["webhooks"]["max_concurrent_requests"], json!(12));

    for (v, shown) in [(json!(7), "7"), (json!("12"), "12"), (json!(0), "0"), (json!(12.5), "12.5")] {
        let (s, b) = patch_app(&app, &admin, json!({"webhooks": {"max_concurrent_requests": v}})).await;
        assert_one_error(s, &b, 400, 1009, &invalid_value("webhooks.max_concurrent_requests", shown));
    }
    assert_eq!(app_settings(&app, &admin).await["webhooks"]["max_concurrent_requests"], json!(12));
    for n in [6, 18, 24] {
        let (s, b) = patch_app(&app, &admin, json!({"webhooks": {"max_concurrent_requests": n}})).await;
        assert_meta_only(s, &b, 200);
        assert_eq!(app_settings(&app, &admin).await["webhooks"]["max_concurrent_requests"], json!(n));
    }
}

/// Item 6.
#[tokio::test]
async fn backoff_delays_accept_strings_and_are_shown_as_numbers() {
    let (app, admin) = registered().await;
    let (s, b) = patch_app(&app, &admin, json!({"callback_backoff_delay_ms": "5000"})).await;
    assert_meta_only(s, &b, 200);
    let got = app_settings(&app, &admin).await;
    assert_eq!(got["callback_backoff_delay_ms"], json!(5000));
    assert!(got["callback_backoff_delay_ms"].is_u64());

    let (s, b) = patch_app(&app, &admin, json!({"max_callback_backoff_delay_ms": 60000})).await;
    assert_meta_only(s, &b, 200);
    let (s, b) = patch_app(&app, &admin, json!({"callback_backoff_delay_ms": 4000})).await;
    assert_meta_only(s, &b, 200);
    let got = app_settings(&app, &admin).await;
    assert_eq!(got["max_callback_backoff_delay_ms"], json!(60000));
    assert_eq!(got["callback_backoff_delay_ms"], json!(4000));

    for (v, shown) in [(json!("abc"), "abc"), (json!(-1), "-1"), (json!(0), "0"), (json!(1.5), "1.5")] {
        let (s, b) = patch_app(&app, &admin, json!({"callback_backoff_delay_ms": v})).await;
        assert_one_error(s, &b, 400, 1009, &invalid_value("callback_backoff_delay_ms", shown));
    }
    let (s, b) = patch_app(&app, &admin, json!({"max_callback_backoff_delay_ms": "abc"})).await;
    assert_one_error(s, &b, 400, 1009, &invalid_value("max_callback_backoff_delay_ms", "abc"));
    assert_eq!(app_settings(&app, &admin).await["callback_backoff_delay_ms"], json!(4000));
}

/// Item 7.
#[tokio::test]
async fn auto_download_is_replaced_whole_and_deduplicated() {
    let (app, admin) = registered().await;
    let (s, b) = patch_app(&app, &admin, json!({"media": {"auto_download": ["image", "sticker", "image"]}})).await;
    assert_meta_only(s, &b, 200);
    assert_eq!(app_settings(&app, &admin).await["media"], json!({"auto_download": ["image", "sticker"]}));

    // Replaced whole, not merged.
    let (s, b) = patch_app(&app, &admin, json!({"media": {"auto_download": ["audio"]}})).await;
    assert_meta_only(s, &b, 200);
    assert_eq!(app_settings(&app, &admin).await["media"]["auto_download"], json!(["audio"]));

    let (s, b) = patch_app(&app, &admin, json!({"media": {"auto_download": ["gif"]}})).await;
    assert_code(s, &b, 400, 1009);
    // Nested names are dotted (as for `webhooks.max_concurrent_requests`).
    let details = b["errors"][0]["details"].as_str().unwrap_or_default();
    assert!(
        details.starts_with("Parameter 'media.auto_download' has invalid value '"),
        "the error names media.auto_download: {b}"
    );

    let (s, b) = patch_app(&app, &admin, json!({"media": {}})).await;
    assert_one_error(s, &b, 400, 1008, "Missing mandatory parameter 'auto_download'");

    let (s, b) = patch_app(&app, &admin, json!({"media": {"auto_download": []}})).await;
    assert_meta_only(s, &b, 200);
    assert_eq!(app_settings(&app, &admin).await["media"]["auto_download"], json!([]));
    let (s, b) = patch_app(
        &app,
        &admin,
        json!({"media": {"auto_download": ["image", "video", "voice", "sticker", "audio", "document"]}}),
    )
    .await;
    assert_meta_only(s, &b, 200);
    assert_eq!(
        app_settings(&app, &admin).await["media"]["auto_download"],
        json!(["image", "video", "voice", "sticker", "audio", "document"])
    );
}

/// Item 8.
#[tokio::test]
async fn log_level_takes_the_four_documented_values() {
    let (app, admin) = registered().await;
    let (s, b) = patch_app(&app, &admin, json!({"log_level": "debug"})).await;
    assert_one_error(s, &b, 400, 1009, &invalid_value("log_level", "debug"));
    let (s, b) = patch_app(&app, &admin, json!({"log_level": "error", "verbose_logging": true})).await;
    assert_meta_only(s, &b, 200);
    let got = app_settings(&app, &admin).await;
    assert_eq!(got["log_level"], "error");
    assert_eq!(got["verbose_logging"], json!(true));
    for level in ["info", "warning", "fatal"] {
        let (s, b) = patch_app(&app, &admin, json!({"log_level": level})).await;
        assert_meta_only(s, &b, 200);
        assert_eq!(app_settings(&app, &admin).await["log_level"], level);
    }
}

/// Item 9.
#[tokio::test]
async fn garbage_collector_flags_merge_key_by_key() {
    let (app, admin) = registered().await;
    let (s, b) = patch_app(&app, &admin, json!({"garbagecollector_enable": {"messages": false}})).await;
    assert_meta_only(s, &b, 200);
    assert_eq!(app_settings(&app, &admin).await["garbagecollector_enable"], json!({"media": false, "messages": false}));
    let (s, b) = patch_app(&app, &admin, json!({"garbagecollector_enable": {"media": true}})).await;
    assert_meta_only(s, &b, 200);
    assert_eq!(app_settings(&app, &admin).await["garbagecollector_enable"], json!({"media": true, "messages": false}));
}

/// Item 10.
#[tokio::test]
async fn webhook_message_flags_merge_key_by_key() {
    let (app, admin) = registered().await;
    let (s, b) = patch_app(&app, &admin, json!({"webhooks": {"message": {"read": false}}})).await;
    assert_meta_only(s, &b, 200);
    assert_eq!(
        app_settings(&app, &admin).await["webhooks"]["message"],
        json!({"sent": true, "delivered": true, "read": false})
    );
    let (s, b) = patch_app(&app, &admin, json!({"webhooks": {"message": {"delivered": false}}})).await;
    assert_meta_only(s, &b, 200);
    assert_eq!(
        app_settings(&app, &admin).await["webhooks"]["message"],
        json!({"sent": true, "delivered": false, "read": false})
    );
}

/// Item 11.
#[tokio::test]
async fn pass_through_can_only_be_off() {
    let (app, admin) = registered().await;
    let (s, b) = patch_app(&app, &admin, json!({"pass_through": true})).await;
    assert_one_error(s, &b, 400, 1009, &invalid_value("pass_through", "true"));
    let (s, b) = patch_app(&app, &admin, json!({"pass_through": false})).await;
    assert_meta_only(s, &b, 200);
    assert_eq!(app_settings(&app, &admin).await["pass_through"], json!(false));
}

/// Item 12: `sent_status` writes through to `webhooks.message.sent`.
#[tokio::test]
async fn sent_status_is_a_write_through_alias() {
    let (app, admin) = registered().await;
    let (s, b) = patch_app(&app, &admin, json!({"sent_status": true})).await;
    assert_meta_only(s, &b, 200);
    let got = app_settings(&app, &admin).await;
    assert_eq!(got["sent_status"], json!(true));
    assert_eq!(got["webhooks"]["message"]["sent"], json!(true));

    let (s, b) = patch_app(&app, &admin, json!({"sent_status": false})).await;
    assert_meta_only(s, &b, 200);
    let got = app_settings(&app, &admin).await;
    assert_eq!(got["sent_status"], json!(false));
    assert_eq!(got["webhooks"]["message"]["sent"], json!(false));

    // Both in one PATCH: `webhooks.message.sent` wins.
    let (s, b) = patch_app(&app, &admin, json!({"sent_status": true, "webhooks": {"message": {"sent": false}}})).await;
    assert_meta_only(s, &b, 200);
    let got = app_settings(&app, &admin).await;
    assert_eq!(got["sent_status"], json!(true));
    assert_eq!(got["webhooks"]["message"]["sent"], json!(false));
}

/// Item 13.
#[tokio::test]
async fn webhook_urls_must_be_https_by_default() {
    let (app, admin) = registered().await;
    let (s, b) = patch_app(&app, &admin, json!({"webhooks": {"url": "https://example.com/hook?auth=s3cret"}})).await;
    assert_meta_only(s, &b, 200);

    let (s, b) = patch_app(&app, &admin, json!({"webhooks": {"url": "ftp://x"}})).await;
    assert_one_error(s, &b, 400, 1009, &invalid_value("webhooks.url", "ftp://x"));
    let (s, b) = patch_app(&app, &admin, json!({"webhooks": {"url": "http://x"}})).await;
    assert_code(s, &b, 400, 1009);
    let (s, b) = patch_app(&app, &admin, json!({"webhooks": {"url": 5}})).await;
    assert_code(s, &b, 400, 1009);
    let long = format!("https://example.com/{}", "a".repeat(2048));
    let (s, b) = patch_app(&app, &admin, json!({"webhooks": {"url": long}})).await;
    assert_code(s, &b, 400, 1009);
    assert_eq!(app_settings(&app, &admin).await["webhooks"]["url"], "https://example.com/hook?auth=s3cret");

    let (s, b) = patch_app(&app, &admin, json!({"webhooks": {"url": ""}})).await;
    assert_meta_only(s, &b, 200);
    let got = app_settings(&app, &admin).await;
    assert!(got["webhooks"].get("url").is_none(), "\"\" clears the URL: {got}");
    assert_eq!(got, defaults(Some(NUMBER)));
}

/// `--allow-http-webhooks` also allows `http://` URLs (but nothing else).
#[tokio::test]
async fn http_webhook_urls_are_allowed_with_the_flag() {
    let (app, admin) = admin_app(Spawn::default().arg("--allow-http-webhooks")).await;
    let (s, b) = patch_app(&app, &admin, json!({"webhooks": {"url": "http://x"}})).await;
    assert_meta_only(s, &b, 200);
    assert_eq!(app_settings(&app, &admin).await["webhooks"]["url"], "http://x");
    let (s, b) = patch_app(&app, &admin, json!({"webhooks": {"url": "https://example.com/hook"}})).await;
    assert_meta_only(s, &b, 200);
    let (s, b) = patch_app(&app, &admin, json!({"webhooks": {"url": "ftp://x"}})).await;
    assert_one_error(s, &b, 400, 1009, &invalid_value("webhooks.url", "ftp://x"));
    assert_eq!(app_settings(&app, &admin).await["webhooks"]["url"], "https://example.com/hook");
}

/// Item 14: all or nothing, and every invalid field reported once.
#[tokio::test]
async fn an_invalid_patch_changes_nothing_and_reports_every_bad_field() {
    let (app, admin) = registered().await;
    let (s, b) = patch_app(&app, &admin, json!({"callback_persist": false, "log_level": "x"})).await;
    assert_one_error(s, &b, 400, 1009, &invalid_value("log_level", "x"));
    assert_eq!(app_settings(&app, &admin).await["callback_persist"], json!(true));

    let (s, b) = patch_app(
        &app,
        &admin,
        json!({
            "callback_persist": "no",
            "heartbeat_interval": 2,
            "webhooks": {"max_concurrent_requests": 7, "url": "https://example.com/x"},
            "log_level": "debug"
        }),
    )
    .await;
    assert_code(s, &b, 400, 1009);
    assert_eq!(
        error_details(&b),
        BTreeSet::from([
            invalid_value("callback_persist", "no"),
            invalid_value("webhooks.max_concurrent_requests", "7"),
            invalid_value("log_level", "debug"),
        ]),
        "{b}"
    );
    assert_eq!(b["errors"].as_array().map(Vec::len), Some(3), "one error per bad field: {b}");
    assert_eq!(app_settings(&app, &admin).await, defaults(Some(NUMBER)), "nothing saved");
}

/// Item 15: a reset restores the whole §1.6 document and touches nothing else.
#[tokio::test]
async fn a_reset_restores_the_documented_defaults_only() {
    let (app, admin) = registered().await;
    let (s, b) = patch_app(
        &app,
        &admin,
        json!({
            "axolotl_context_striping_disabled": true,
            "callback_backoff_delay_ms": "1000",
            "callback_persist": false,
            "garbagecollector_enable": {"media": true, "messages": false},
            "heartbeat_interval": 9,
            "log_level": "fatal",
            "max_callback_backoff_delay_ms": "2000",
            "media": {"auto_download": ["video"]},
            "notify_user_change_number": true,
            "sent_status": true,
            "show_security_notifications": true,
            "skip_referral_media_download": true,
            "unhealthy_interval": 99,
            "verbose_logging": true,
            "webhooks": {"url": "https://example.com/hook", "max_concurrent_requests": 18,
                         "message": {"sent": false, "delivered": false, "read": false}}
        }),
    )
    .await;
    assert_meta_only(s, &b, 200);
    assert_ne!(app_settings(&app, &admin).await, defaults(Some(NUMBER)));

    add_provider(&app, &admin, provider_bearer("p1", "t")).await;
    let (s, b) = call(&app, &admin, Method::PATCH, ABOUT, Some(json!({"text": "kept"}))).await;
    assert_meta_only(s, &b, 200);
    let (s, b) = call(&app, &admin, Method::POST, BUSINESS, Some(json!({"email": "a@b.co"}))).await;
    assert_meta_only(s, &b, 200);
    let (s, b) = upload_photo(&app, &admin, picture(200, 200)).await;
    assert_meta_only(s, &b, 201);
    let photo = photo_bytes(&app, &admin, "").await;
    let (s, b) = call(&app, &admin, Method::POST, TWO_STEP, Some(json!({"pin": "123456"}))).await;
    assert_meta_only(s, &b, 200);
    let hash = pin_hash(&app, &admin).await;
    assert!(hash.is_some(), "two-step is on");

    let (s, b) = call(&app, &admin, Method::DELETE, APPLICATION, None).await;
    assert_meta_only(s, &b, 200);

    let (s, b) = get(&app, &admin, APPLICATION).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(b, json!({"settings": {"application": defaults(Some(NUMBER))}, "meta": b["meta"].clone()}));
    assert_meta(&b);

    // Not touched: providers, registration, two-step, profile, business profile.
    assert_eq!(providers(&app, &admin).await, json!([{"name": "p1", "type": "www", "config": {"bearer": "t"}}]));
    assert_eq!(about(&app, &admin).await, "kept");
    assert_eq!(business(&app, &admin).await["email"], "a@b.co");
    assert_eq!(photo_bytes(&app, &admin, "").await, photo);
    assert_eq!(pin_hash(&app, &admin).await, hash, "the two-step PIN survives a reset");
}

/// Settings (and the other settings documents) survive a restart; so does a reset.
#[tokio::test]
async fn settings_survive_a_restart() {
    let (app, admin) = registered().await;
    let (s, b) = patch_app(
        &app,
        &admin,
        json!({
            "webhooks": {"url": "https://example.com/hook", "max_concurrent_requests": 18, "message": {"read": false}},
            "heartbeat_interval": 42,
            "callback_backoff_delay_ms": "4000",
            "media": {"auto_download": ["video", "image"]},
            "log_level": "warning",
            "garbagecollector_enable": {"media": true},
            "notify_user_change_number": true
        }),
    )
    .await;
    assert_meta_only(s, &b, 200);
    add_provider(&app, &admin, provider_bearer("p1", "t")).await;
    add_provider(
        &app,
        &admin,
        json!([{"name": "p2", "type": "www", "config": {"basic": {"username": "u", "password": "pw"}}}]),
    )
    .await;
    let (s, b) = call(&app, &admin, Method::PATCH, ABOUT, Some(json!({"text": "persisted"}))).await;
    assert_meta_only(s, &b, 200);
    let (s, b) =
        call(&app, &admin, Method::POST, BUSINESS, Some(json!({"email": "a@b.co", "vertical": "Restaurant"}))).await;
    assert_meta_only(s, &b, 200);
    let (s, b) = upload_photo(&app, &admin, picture(300, 200)).await;
    assert_meta_only(s, &b, 201);
    let (s, b) = call(&app, &admin, Method::POST, TWO_STEP, Some(json!({"pin": "654321"}))).await;
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

    let (s, b) = call(&app, &admin, Method::DELETE, APPLICATION, None).await;
    assert_meta_only(s, &b, 200);
    let app = app.restart().await;
    let admin = app.admin_token().await;
    assert_eq!(app_settings(&app, &admin).await, defaults(Some(NUMBER)));
    assert_eq!(providers(&app, &admin).await, list);
}

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
            let what = format!("{method} {path} with {token:?}");
            let (s, b) = send(rb, &what).await;
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

// ------------------------------------------- --strict-restart-semantics

fn restart_header(r: &Response) -> Option<BTreeSet<String>> {
    r.headers()
        .get(RESTART_HEADER)
        .map(|v| v.to_str().expect("ascii header").split(',').map(|k| k.trim().to_owned()).collect())
}

async fn patch_with_header(app: &TestApp, token: &str, body: Value) -> Option<BTreeSet<String>> {
    let r = patch_response(app, token, body.clone()).await;
    let header = restart_header(&r);
    let (s, b) = json(r).await;
    assert_meta_only(s, &b, 200);
    header
}

fn keys(list: &[&str]) -> Option<BTreeSet<String>> {
    Some(list.iter().map(|k| (*k).to_owned()).collect())
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
    let r = app.authed(Method::DELETE, APPLICATION, &admin).send().await.expect("DELETE application");
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
    let r = app.authed(Method::DELETE, APPLICATION, &admin).send().await.expect("DELETE application");
    assert_eq!(restart_header(&r), None);
    // Applied at once, too.
    assert_eq!(app_settings(&app, &admin).await, defaults(Some(NUMBER)));
}

// ======================================================= media providers

/// Items 17 and 18, plus the empty list and insertion order.
#[tokio::test]
async fn providers_are_added_and_replaced_by_name() {
    let (app, admin) = registered().await;
    let (s, b) = get(&app, &admin, PROVIDERS).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(b, json!({"settings": {"application": {"media": {"providers": []}}}, "meta": b["meta"].clone()}));

    add_provider(&app, &admin, provider_bearer("p1", "t")).await;
    assert_eq!(providers(&app, &admin).await, json!([{"name": "p1", "type": "www", "config": {"bearer": "t"}}]));

    add_provider(&app, &admin, provider_bearer("p-2_B", "secret2")).await;
    add_provider(
        &app,
        &admin,
        json!([{"name": "p1", "type": "www", "config": {"basic": {"username": "u", "password": "pw"}}}]),
    )
    .await;
    // One p1 (in its place), now with basic; secrets come back in clear.
    assert_eq!(
        providers(&app, &admin).await,
        json!([
            {"name": "p1", "type": "www", "config": {"basic": {"username": "u", "password": "pw"}}},
            {"name": "p-2_B", "type": "www", "config": {"bearer": "secret2"}}
        ])
    );
}

/// Item 19.
#[tokio::test]
async fn invalid_provider_posts_are_refused() {
    let (app, admin) = registered().await;
    let one = "Can only add 1 config at a time";
    let p = json!({"name": "p1", "type": "www", "config": {"bearer": "t"}});
    for body in [json!([]), json!([p.clone(), p.clone()]), p.clone(), json!("p1"), json!(["p1"])] {
        let (s, b) = call(&app, &admin, Method::POST, PROVIDERS, Some(body)).await;
        assert_one_error(s, &b, 400, 1009, one);
    }
    let (s, b) = call(&app, &admin, Method::POST, PROVIDERS, Some(json!([{"name": "p1", "type": "www"}]))).await;
    assert_one_error(s, &b, 400, 1008, "Missing mandatory parameter 'config'");
    let (s, b) =
        call(&app, &admin, Method::POST, PROVIDERS, Some(json!([{"type": "www", "config": {"bearer": "t"}}]))).await;
    assert_one_error(s, &b, 400, 1008, "Missing mandatory parameter 'name'");
    let (s, b) =
        call(&app, &admin, Method::POST, PROVIDERS, Some(json!([{"name": "p1", "config": {"bearer": "t"}}]))).await;
    assert_one_error(s, &b, 400, 1008, "Missing mandatory parameter 'type'");

    for kind in ["s3", "everstore"] {
        let body = json!([{"name": "p1", "type": kind, "config": {"bearer": "t"}}]);
        let (s, b) = call(&app, &admin, Method::POST, PROVIDERS, Some(body)).await;
        assert_one_error(s, &b, 400, 1009, &invalid_value("type", kind));
    }
    let body = json!([{"name": "bad name!", "type": "www", "config": {"bearer": "t"}}]);
    let (s, b) = call(&app, &admin, Method::POST, PROVIDERS, Some(body)).await;
    assert_one_error(s, &b, 400, 1009, &invalid_value("name", "bad name!"));
    let body = json!([{"name": "n".repeat(201), "type": "www", "config": {"bearer": "t"}}]);
    let (s, b) = call(&app, &admin, Method::POST, PROVIDERS, Some(body)).await;
    assert_code(s, &b, 400, 1009);

    for config in [
        json!({"basic": {"username": "u", "password": "pw"}, "bearer": "t"}),
        json!({}),
        json!({"bearer": ""}),
        json!({"basic": {"username": "u"}}),
        json!("t"),
    ] {
        let body = json!([{"name": "p1", "type": "www", "config": config}]);
        let (s, b) = call(&app, &admin, Method::POST, PROVIDERS, Some(body.clone())).await;
        assert_code(s, &b, 400, 1009);
    }
    assert_eq!(providers(&app, &admin).await, json!([]), "nothing was added");
}

/// Item 20.
#[tokio::test]
async fn providers_are_deleted_by_exact_name() {
    let (app, admin) = registered().await;
    add_provider(&app, &admin, provider_bearer("p1", "t")).await;
    add_provider(&app, &admin, provider_bearer("p2", "t")).await;

    let (s, b) = call(&app, &admin, Method::DELETE, &format!("{PROVIDERS}/P1"), None).await;
    assert_one_error(s, &b, 404, 1006, "Provider not found");
    let (s, b) = call(&app, &admin, Method::DELETE, &format!("{PROVIDERS}/p1"), None).await;
    assert_meta_only(s, &b, 200);
    assert_eq!(providers(&app, &admin).await, provider_bearer("p2", "t"));
    let (s, b) = call(&app, &admin, Method::DELETE, &format!("{PROVIDERS}/p1"), None).await;
    assert_one_error(s, &b, 404, 1006, "Provider not found");
    let (s, b) = call(&app, &admin, Method::DELETE, &format!("{PROVIDERS}/nobody"), None).await;
    assert_one_error(s, &b, 404, 1006, "Provider not found");
}

// =============================================================== profile

/// Items 21 and 22.
#[tokio::test]
async fn the_about_text_is_set_and_read_back() {
    let (app, admin) = registered().await;
    let (s, b) = get(&app, &admin, ABOUT).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(b, json!({"settings": {"profile": {"about": {"text": ""}}}, "meta": b["meta"].clone()}));

    let (s, b) = call(&app, &admin, Method::PATCH, ABOUT, Some(json!({"text": "Hi"}))).await;
    assert_meta_only(s, &b, 200);
    assert_eq!(about(&app, &admin).await, "Hi");

    // 139 characters (not bytes) is the limit.
    let longest = "é".repeat(139);
    let (s, b) = call(&app, &admin, Method::PATCH, ABOUT, Some(json!({"text": longest}))).await;
    assert_meta_only(s, &b, 200);
    assert_eq!(about(&app, &admin).await, json!(longest));
    let (s, b) = call(&app, &admin, Method::PATCH, ABOUT, Some(json!({"text": "a".repeat(140)}))).await;
    assert_code(s, &b, 400, 1009);
    let (s, b) = call(&app, &admin, Method::PATCH, ABOUT, Some(json!({"text": 5}))).await;
    assert_code(s, &b, 400, 1009);
    let (s, b) = call(&app, &admin, Method::PATCH, ABOUT, Some(json!({}))).await;
    assert_one_error(s, &b, 400, 1008, "Missing mandatory parameter 'text'");
    assert_eq!(about(&app, &admin).await, json!(longest), "unchanged by the failures");

    let (s, b) = call(&app, &admin, Method::PATCH, ABOUT, Some(json!({"text": ""}))).await;
    assert_meta_only(s, &b, 200);
    assert_eq!(about(&app, &admin).await, "");
}

/// Item 22 (unregistered), and the other profile updates before registration.
#[tokio::test]
async fn profile_updates_need_a_registered_number() {
    let (app, admin) = unregistered().await;
    let (s, b) = call(&app, &admin, Method::PATCH, ABOUT, Some(json!({"text": "Hi"}))).await;
    assert_code(s, &b, 500, 1011);
    assert_eq!(about(&app, &admin).await, "");
    let (s, b) = upload_photo(&app, &admin, picture(100, 100)).await;
    assert_code(s, &b, 500, 1011);
    let (s, b) = get(&app, &admin, PHOTO).await;
    assert_one_error(s, &b, 404, 1006, PHOTO_NOT_FOUND);
    let (s, b) = call(&app, &admin, Method::POST, BUSINESS, Some(json!({"email": "a@b.co"}))).await;
    assert_code(s, &b, 500, 1011);
    assert_eq!(
        business(&app, &admin).await,
        json!({"address": "", "description": "", "email": "", "vertical": "", "websites": []})
    );
}

/// Items 23 and 26.
#[tokio::test]
async fn a_png_photo_is_cropped_to_a_square_jpeg_with_a_public_link() {
    let (app, admin) = registered().await;
    let upload = picture(800, 600);
    let (s, b) = upload_photo(&app, &admin, upload).await;
    assert_meta_only(s, &b, 201);

    let jpeg = photo_bytes(&app, &admin, "").await;
    assert_eq!(jpeg_size(&jpeg), (600, 600));
    assert_eq!(photo_bytes(&app, &admin, "?format=xml").await, jpeg, "any other format is the image");

    let link = photo_link(&app, &admin).await;
    assert_eq!(link, format!("{}/pps/{}.jpg", app.base_url, sha256_hex(&jpeg)));
    let r = app.client.get(&link).send().await.expect("public link");
    assert_eq!(r.status(), StatusCode::OK, "the link is served without auth");
    assert_eq!(r.headers()[CONTENT_TYPE], "image/jpeg");
    assert_eq!(r.bytes().await.expect("link body").to_vec(), jpeg);

    // Large pictures are scaled down to 640 px; JPEG uploads are accepted.
    let (s, b) = upload_photo(&app, &admin, picture(1000, 700)).await;
    assert_meta_only(s, &b, 201);
    let big = photo_bytes(&app, &admin, "").await;
    assert_eq!(jpeg_size(&big), (640, 640));
    assert_ne!(photo_link(&app, &admin).await, link, "a new photo has a new link");
    let (s, b) =
        send(app.authed(Method::POST, PHOTO, &admin).header(CONTENT_TYPE, "image/jpeg").body(jpeg.clone()), "jpeg")
            .await;
    assert_meta_only(s, &b, 201);
    assert_eq!(jpeg_size(&photo_bytes(&app, &admin, "").await), (600, 600));
}

/// Item 24.
#[tokio::test]
async fn bad_photo_uploads_are_refused() {
    let (app, admin) = registered().await;
    let (s, b) = upload_photo(&app, &admin, vec![0u8; 5_242_880]).await;
    assert_one_error(s, &b, 400, 1009, PHOTO_TOO_LARGE);
    let (s, b) = upload_photo(&app, &admin, Vec::new()).await;
    assert_one_error(s, &b, 400, 1008, "No data found");
    let text = b"This is a plain text file, not an image.\n".to_vec();
    let (s, b) =
        send(app.authed(Method::POST, PHOTO, &admin).header(CONTENT_TYPE, "text/plain").body(text), "text").await;
    assert_one_error(s, &b, 400, 1009, "Invalid image");
    // A PNG signature on garbage does not decode.
    let mut fake = b"\x89PNG\r\n\x1a\n".to_vec();
    fake.extend_from_slice(&[7u8; 100]);
    let (s, b) = upload_photo(&app, &admin, fake).await;
    assert_one_error(s, &b, 400, 1009, "Invalid image");

    let (s, b) = get(&app, &admin, PHOTO).await;
    assert_one_error(s, &b, 404, 1006, PHOTO_NOT_FOUND);
}

/// Item 25: a multipart form's `File` part is the image.
#[tokio::test]
async fn a_multipart_upload_uses_the_file_part() {
    let (app, admin) = registered().await;
    let image = picture(300, 200);
    let (ct, body) = multipart(&[
        ("caption", None, b"my photo".as_slice()),
        ("notes", Some("notes.txt"), b"not the image".as_slice()),
        ("File", Some("photo.png"), image.as_slice()),
    ]);
    let (s, b) = send(app.authed(Method::POST, PHOTO, &admin).header(CONTENT_TYPE, ct).body(body), "multipart").await;
    assert_meta_only(s, &b, 201);
    assert_eq!(jpeg_size(&photo_bytes(&app, &admin, "").await), (200, 200));
}

/// Item 27, and a missing photo.
#[tokio::test]
async fn a_deleted_photo_is_gone() {
    let (app, admin) = registered().await;
    let (s, b) = get(&app, &admin, PHOTO).await;
    assert_one_error(s, &b, 404, 1006, PHOTO_NOT_FOUND);
    let (s, b) = get(&app, &admin, &format!("{PHOTO}?format=link")).await;
    assert_one_error(s, &b, 404, 1006, PHOTO_NOT_FOUND);

    let (s, b) = upload_photo(&app, &admin, picture(200, 300)).await;
    assert_meta_only(s, &b, 201);
    let link = photo_link(&app, &admin).await;

    let (s, b) = call(&app, &admin, Method::DELETE, PHOTO, None).await;
    assert_meta_only(s, &b, 200);
    let (s, b) = get(&app, &admin, PHOTO).await;
    assert_one_error(s, &b, 404, 1006, PHOTO_NOT_FOUND);
    let (s, b) = get(&app, &admin, &format!("{PHOTO}?format=link")).await;
    assert_one_error(s, &b, 404, 1006, PHOTO_NOT_FOUND);
    let r = app.client.get(&link).send().await.expect("public link");
    assert_eq!(r.status(), StatusCode::NOT_FOUND, "the old link no longer serves the photo");
    let (s, b) = call(&app, &admin, Method::DELETE, PHOTO, None).await;
    assert_meta_only(s, &b, 200);
}

// ====================================================== business profile

/// Item 28, and the empty profile.
#[tokio::test]
async fn the_business_profile_is_set_and_read_back() {
    let (app, admin) = registered().await;
    let (s, b) = get(&app, &admin, BUSINESS).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        b,
        json!({"settings": {"business": {"profile":
            {"address": "", "description": "", "email": "", "vertical": "", "websites": []}}},
            "meta": b["meta"].clone()})
    );

    let profile = json!({
        "address": "1 Main Street",
        "description": "We sell things",
        "email": "shop@example.com",
        "vertical": "Shopping and Retail",
        "websites": ["https://www.whatsapp.com", "http://www.facebook.com"]
    });
    let (s, b) = call(&app, &admin, Method::POST, BUSINESS, Some(profile.clone())).await;
    assert_meta_only(s, &b, 200);
    assert_eq!(business(&app, &admin).await, profile);

    // `{}` is a no-op; `""` and `[]` clear; unknown keys are ignored.
    let (s, b) = call(&app, &admin, Method::POST, BUSINESS, Some(json!({}))).await;
    assert_meta_only(s, &b, 200);
    assert_eq!(business(&app, &admin).await, profile);
    let (s, b) = call(&app, &admin, Method::POST, BUSINESS, Some(json!({"address": "", "websites": [], "x": 1}))).await;
    assert_meta_only(s, &b, 200);
    let got = business(&app, &admin).await;
    assert_eq!(got["address"], "");
    assert_eq!(got["websites"], json!([]));
    assert_eq!(got["email"], "shop@example.com");
    assert!(got.get("x").is_none());
}

/// Item 29.
#[tokio::test]
async fn the_business_profile_is_not_patched() {
    let (app, admin) = registered().await;
    let (s, b) = call(&app, &admin, Method::PATCH, BUSINESS, Some(json!({"email": "a@b.co"}))).await;
    assert_error(s, &b, 405, 1014, None);
    assert_eq!(business(&app, &admin).await["email"], "");
}

/// Item 30.
#[tokio::test]
async fn invalid_business_profiles_are_refused() {
    let (app, admin) = registered().await;
    let three = json!({"websites": ["https://a.com", "https://b.com", "https://c.com"]});
    let (s, b) = call(&app, &admin, Method::POST, BUSINESS, Some(three)).await;
    assert_one_error(s, &b, 400, 1009, "Max number of websites allowed is 2");
    for body in [
        json!({"address": "a".repeat(257)}),
        json!({"description": "d".repeat(257)}),
        json!({"email": "nope"}),
        json!({"email": format!("{}@b.co", "a".repeat(125))}),
        json!({"websites": ["www.x.com"]}),
        json!({"websites": [format!("https://{}", "w".repeat(250))]}),
        json!({"websites": "https://x.com"}),
        json!({"vertical": "Cars"}),
        json!({"vertical": "auto"}),
        json!({"address": 5}),
    ] {
        let (s, b) = call(&app, &admin, Method::POST, BUSINESS, Some(body.clone())).await;
        assert_code(s, &b, 400, 1009);
        assert!(b["errors"].as_array().is_some_and(|e| e.len() == 1), "one error for {body}: {b}");
    }
    assert_eq!(
        business(&app, &admin).await,
        json!({"address": "", "description": "", "email": "", "vertical": "", "websites": []})
    );

    let (s, b) = call(&app, &admin, Method::POST, BUSINESS, Some(json!({"address": "a".repeat(256)}))).await;
    assert_meta_only(s, &b, 200);
    let (s, b) = call(&app, &admin, Method::POST, BUSINESS, Some(json!({"vertical": "AUTO"}))).await;
    assert_meta_only(s, &b, 200);
    assert_eq!(business(&app, &admin).await["vertical"], "AUTO");
    let (s, b) = call(&app, &admin, Method::POST, BUSINESS, Some(json!({"vertical": ""}))).await;
    assert_code(s, &b, 400, 1009);
    assert_eq!(business(&app, &admin).await["vertical"], "AUTO");
    let (s, b) = call(&app, &admin, Method::POST, BUSINESS, Some(json!({"vertical": "Beauty, Spa and Salon"}))).await;
    assert_meta_only(s, &b, 200);
    assert_eq!(business(&app, &admin).await["vertical"], "Beauty, Spa and Salon");
}

/// Item 31.
#[tokio::test]
async fn a_business_profile_update_is_partial() {
    let (app, admin) = registered().await;
    let profile = json!({
        "address": "1 Main Street",
        "description": "desc",
        "email": "old@example.com",
        "vertical": "EDU",
        "websites": ["https://example.com"]
    });
    let (s, b) = call(&app, &admin, Method::POST, BUSINESS, Some(profile.clone())).await;
    assert_meta_only(s, &b, 200);
    let (s, b) = call(&app, &admin, Method::POST, BUSINESS, Some(json!({"email": "a@b.co"}))).await;
    assert_meta_only(s, &b, 200);
    let mut want = profile;
    want["email"] = json!("a@b.co");
    assert_eq!(business(&app, &admin).await, want);
}

// ===================================================== two-step (reg. §4)

#[tokio::test]
async fn two_step_verification_is_enabled_replaced_and_disabled() {
    let (app, admin) = registered().await;
    assert_eq!(pin_hash(&app, &admin).await, None);

    let (s, b) = call(&app, &admin, Method::POST, TWO_STEP, Some(json!({"pin": "123456"}))).await;
    assert_meta_only(s, &b, 200);
    let first = pin_hash(&app, &admin).await.expect("two-step on");
    assert!(!first.contains("123456"), "only a hash is kept: {first}");

    // POST while enabled replaces the PIN.
    let (s, b) = call(&app, &admin, Method::POST, TWO_STEP, Some(json!({"pin": "000001"}))).await;
    assert_meta_only(s, &b, 200);
    let second = pin_hash(&app, &admin).await.expect("two-step on");
    assert_ne!(second, first);

    let (s, b) = call(&app, &admin, Method::DELETE, TWO_STEP, None).await;
    assert_meta_only(s, &b, 200);
    assert_eq!(pin_hash(&app, &admin).await, None);
    let (s, b) = call(&app, &admin, Method::DELETE, TWO_STEP, None).await;
    assert_meta_only(s, &b, 200);
    assert_eq!(pin_hash(&app, &admin).await, None);
}

#[tokio::test]
async fn invalid_two_step_pins_are_refused() {
    let (app, admin) = registered().await;
    let (s, b) = call(&app, &admin, Method::POST, TWO_STEP, Some(json!({"pin": "123456"}))).await;
    assert_meta_only(s, &b, 200);
    let hash = pin_hash(&app, &admin).await;

    let (s, b) = call(&app, &admin, Method::POST, TWO_STEP, Some(json!({}))).await;
    assert_one_error(s, &b, 400, 1008, "Missing mandatory parameter 'pin'");
    let (s, b) = send(app.authed(Method::POST, TWO_STEP, &admin), "no body").await;
    assert_one_error(s, &b, 400, 1008, "Missing mandatory parameter 'pin'");
    for pin in ["", "0"] {
        let (s, b) = call(&app, &admin, Method::POST, TWO_STEP, Some(json!({"pin": pin}))).await;
        assert_one_error(s, &b, 400, 1009, "Pin must not be empty");
    }
    for (pin, shown) in [
        (json!("12345"), "12345"),
        (json!("1234567"), "1234567"),
        (json!("12345a"), "12345a"),
        (json!("１２３４５６"), "１２３４５６"),
        (json!(123456), "123456"),
    ] {
        let (s, b) = call(&app, &admin, Method::POST, TWO_STEP, Some(json!({"pin": pin}))).await;
        assert_one_error(s, &b, 400, 1009, &invalid_value("pin", shown));
    }
    assert_eq!(pin_hash(&app, &admin).await, hash, "the PIN is unchanged");
}

#[tokio::test]
async fn two_step_verification_needs_a_registered_number() {
    let (app, admin) = unregistered().await;
    let (s, b) = call(&app, &admin, Method::POST, TWO_STEP, Some(json!({"pin": "123456"}))).await;
    assert_one_error(s, &b, 500, 1011, "Service not ready");
    let (s, b) = call(&app, &admin, Method::DELETE, TWO_STEP, None).await;
    assert_one_error(s, &b, 500, 1011, "Service not ready");
}

// ====================================================== backup / restore

/// Items 32 and 37.
#[tokio::test]
async fn backups_need_a_registered_number_and_a_password() {
    let (app, admin) = unregistered().await;
    let (s, b) = call(&app, &admin, Method::POST, BACKUP, Some(json!({"password": "pw"}))).await;
    assert_code(s, &b, 500, 1011);

    let (app, admin) = registered().await;
    let (s, b) = call(&app, &admin, Method::POST, BACKUP, Some(json!({}))).await;
    assert_one_error(s, &b, 400, 1008, "Missing mandatory parameter 'password'");
    let (s, b) = call(&app, &admin, Method::POST, BACKUP, Some(json!({"password": ""}))).await;
    assert_code(s, &b, 400, 1009);
    let (s, b) = call(&app, &admin, Method::POST, BACKUP, Some(json!({"password": 123}))).await;
    assert_one_error(s, &b, 400, 1009, &invalid_value("password", "123"));
    let (s, b) = call(&app, &admin, Method::POST, BACKUP, Some(json!({"password": "p".repeat(1025)}))).await;
    assert_code(s, &b, 400, 1009);
}

/// Item 33, and what a backup holds (§6.1).
#[tokio::test]
async fn a_backup_is_an_encrypted_blob_of_the_settings() {
    let (app, admin) = registered().await;
    let _user = app.user_token(&admin, "jdoe", "Passw0rd!").await;
    let (s, b) = patch_app(&app, &admin, json!({"heartbeat_interval": 33})).await;
    assert_meta_only(s, &b, 200);
    let (s, b) = call(&app, &admin, Method::POST, TWO_STEP, Some(json!({"pin": "123456"}))).await;
    assert_meta_only(s, &b, 200);

    let one = make_backup(&app, &admin, "pw").await;
    let two = make_backup(&app, &admin, "pw").await;
    assert_ne!(one, two, "two backups of the same state differ");
    assert!(backup::decrypt("wrong", &one).is_err(), "the password matters");

    let doc = open_backup(&one, "pw");
    assert_eq!(doc["format"], json!(1));
    for key in ["application", "media_providers", "registration", "two_step_pin_hash", "profile", "business_profile"] {
        assert!(doc.get(key).is_some(), "{key} missing from the backup: {doc}");
    }
    assert!(doc["two_step_pin_hash"].is_string(), "{doc}");
    let plain = doc.to_string();
    assert!(plain.contains("33"), "the application settings are in it");
    assert!(!plain.contains("jdoe"), "users are not in a backup");
    assert!(!plain.contains(&admin), "tokens are not in a backup");
    assert!(!plain.contains("123456"), "the PIN only as a hash");
}

/// Item 34.
#[tokio::test]
async fn a_restore_brings_the_backed_up_settings_back() {
    let (app, admin) = registered().await;
    let (s, b) =
        patch_app(&app, &admin, json!({"heartbeat_interval": 10, "webhooks": {"url": "https://a.example/h"}})).await;
    assert_meta_only(s, &b, 200);
    add_provider(&app, &admin, provider_bearer("p1", "t")).await;
    let (s, b) = call(&app, &admin, Method::PATCH, ABOUT, Some(json!({"text": "before"}))).await;
    assert_meta_only(s, &b, 200);
    let (s, b) = call(&app, &admin, Method::POST, BUSINESS, Some(json!({"email": "before@x.co"}))).await;
    assert_meta_only(s, &b, 200);
    let (s, b) = upload_photo(&app, &admin, picture(120, 100)).await;
    assert_meta_only(s, &b, 201);
    let (s, b) = call(&app, &admin, Method::POST, TWO_STEP, Some(json!({"pin": "123456"}))).await;
    assert_meta_only(s, &b, 200);

    let settings_a = app_settings(&app, &admin).await;
    let photo_a = photo_bytes(&app, &admin, "").await;
    let hash_a = pin_hash(&app, &admin).await;
    let blob = make_backup(&app, &admin, "pw").await;

    // State B.
    let (s, b) = patch_app(&app, &admin, json!({"heartbeat_interval": 20, "webhooks": {"url": ""}})).await;
    assert_meta_only(s, &b, 200);
    let (s, b) = call(&app, &admin, Method::DELETE, &format!("{PROVIDERS}/p1"), None).await;
    assert_meta_only(s, &b, 200);
    add_provider(&app, &admin, provider_bearer("p2", "t")).await;
    let (s, b) = call(&app, &admin, Method::PATCH, ABOUT, Some(json!({"text": "after"}))).await;
    assert_meta_only(s, &b, 200);
    let (s, b) = call(&app, &admin, Method::POST, BUSINESS, Some(json!({"email": "after@x.co"}))).await;
    assert_meta_only(s, &b, 200);
    let (s, b) = call(&app, &admin, Method::DELETE, PHOTO, None).await;
    assert_meta_only(s, &b, 200);
    let (s, b) = call(&app, &admin, Method::DELETE, TWO_STEP, None).await;
    assert_meta_only(s, &b, 200);
    let settings_b = app_settings(&app, &admin).await;
    assert_ne!(settings_a, settings_b);

    // Refused restores change nothing.
    let mut tampered = blob.clone().into_bytes();
    let last = tampered.len() - 3;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).expect("ascii");
    for (password, data) in
        [("wrong", blob.as_str()), ("pw", "garbage"), ("pw", tampered.as_str()), ("pw", "WABK1."), ("pw", "")]
    {
        let body = json!({"password": password, "data": data});
        let (s, b) = call(&app, &admin, Method::POST, RESTORE, Some(body)).await;
        assert_one_error(s, &b, 400, 1009, UNABLE_TO_DECRYPT);
    }
    assert_eq!(app_settings(&app, &admin).await, settings_b);
    assert_eq!(about(&app, &admin).await, "after");
    assert_eq!(providers(&app, &admin).await, provider_bearer("p2", "t"));

    let (s, b) = call(&app, &admin, Method::POST, RESTORE, Some(json!({"password": "pw", "data": blob, "x": 1}))).await;
    assert_meta_only(s, &b, 200);
    // The admin's token is still valid, and everything is back.
    assert_eq!(app_settings(&app, &admin).await, settings_a);
    assert_eq!(providers(&app, &admin).await, provider_bearer("p1", "t"));
    assert_eq!(about(&app, &admin).await, "before");
    assert_eq!(business(&app, &admin).await["email"], "before@x.co");
    assert_eq!(photo_bytes(&app, &admin, "").await, photo_a);
    assert_eq!(pin_hash(&app, &admin).await, hash_a, "the two-step PIN is restored");
}

/// Item 35, and non-string fields.
#[tokio::test]
async fn a_restore_needs_a_password_then_data() {
    let (app, admin) = registered().await;
    let (s, b) = call(&app, &admin, Method::POST, RESTORE, Some(json!({}))).await;
    assert_one_error(s, &b, 400, 1008, "Missing mandatory parameter 'password'");
    let (s, b) = call(&app, &admin, Method::POST, RESTORE, Some(json!({"data": "x"}))).await;
    assert_one_error(s, &b, 400, 1008, "Missing mandatory parameter 'password'");
    let (s, b) = call(&app, &admin, Method::POST, RESTORE, Some(json!({"password": "pw"}))).await;
    assert_one_error(s, &b, 400, 1008, "Missing mandatory parameter 'data'");
    let (s, b) = call(&app, &admin, Method::POST, RESTORE, Some(json!({"password": 1, "data": "x"}))).await;
    assert_code(s, &b, 400, 1009);
    let (s, b) = call(&app, &admin, Method::POST, RESTORE, Some(json!({"password": "pw", "data": 5}))).await;
    assert_code(s, &b, 400, 1009);
}

/// Restores of well-encrypted content that is not a wabiz backup change nothing.
#[tokio::test]
async fn a_restore_refuses_foreign_or_future_content() {
    let (app, admin) = registered().await;
    let blob = make_backup(&app, &admin, "pw").await;
    let mut doc = open_backup(&blob, "pw");
    doc["format"] = json!(2);
    doc["application"]["heartbeat_interval"] = json!(77);
    let future = backup::encrypt("pw", doc.to_string().as_bytes()).expect("encrypt");
    let foreign = backup::encrypt("pw", br#"{"hello":"world"}"#).expect("encrypt");
    for data in [future, foreign] {
        let (s, b) = call(&app, &admin, Method::POST, RESTORE, Some(json!({"password": "pw", "data": data}))).await;
        assert_code(s, &b, 400, 1009);
    }
    assert_eq!(app_settings(&app, &admin).await, defaults(Some(NUMBER)));
}

/// Item 36: a restore registers a fresh, unregistered server.
#[tokio::test]
async fn a_restore_onto_a_fresh_unregistered_server_registers_it() {
    let (old, old_admin) = registered().await;
    let (s, b) =
        patch_app(&old, &old_admin, json!({"heartbeat_interval": 12, "webhooks": {"url": "https://example.com/hook"}}))
            .await;
    assert_meta_only(s, &b, 200);
    add_provider(&old, &old_admin, provider_bearer("p1", "t")).await;
    let (s, b) = call(&old, &old_admin, Method::PATCH, ABOUT, Some(json!({"text": "moved"}))).await;
    assert_meta_only(s, &b, 200);
    let (s, b) = call(&old, &old_admin, Method::POST, BUSINESS, Some(json!({"vertical": "OTHER"}))).await;
    assert_meta_only(s, &b, 200);
    let (s, b) = upload_photo(&old, &old_admin, picture(150, 150)).await;
    assert_meta_only(s, &b, 201);
    let (s, b) = call(&old, &old_admin, Method::POST, TWO_STEP, Some(json!({"pin": "246810"}))).await;
    assert_meta_only(s, &b, 200);
    let settings = app_settings(&old, &old_admin).await;
    let photo = photo_bytes(&old, &old_admin, "").await;
    let profile = business(&old, &old_admin).await;
    let hash = pin_hash(&old, &old_admin).await;
    assert!(hash.is_some());
    let blob = make_backup(&old, &old_admin, "move-it").await;

    let (app, admin) = unregistered().await;
    let (s, b) = get(&app, &admin, "/v1/health").await;
    assert_eq!(b["health"]["gateway_status"], "unregistered", "{s}: {b}");
    assert!(app_settings(&app, &admin).await.get("wa_id").is_none());

    let (s, b) = call(&app, &admin, Method::POST, RESTORE, Some(json!({"password": "move-it", "data": blob}))).await;
    assert_meta_only(s, &b, 200);

    let got = app_settings(&app, &admin).await;
    assert_eq!(got["wa_id"], json!(NUMBER));
    assert_eq!(got, settings);
    let (s, b) = get(&app, &admin, "/v1/health").await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["health"], json!({"gateway_status": "connected"}));
    assert_eq!(providers(&app, &admin).await, provider_bearer("p1", "t"));
    assert_eq!(about(&app, &admin).await, "moved");
    assert_eq!(business(&app, &admin).await, profile);
    assert_eq!(photo_bytes(&app, &admin, "").await, photo);

    // Backup and two-step now work, and the PIN came along.
    assert_eq!(pin_hash(&app, &admin).await, hash);
    let (s, b) = call(&app, &admin, Method::POST, TWO_STEP, Some(json!({"pin": "135790"}))).await;
    assert_meta_only(s, &b, 200);
    assert_ne!(pin_hash(&app, &admin).await, hash);
    let (s, b) = call(&app, &admin, Method::DELETE, TWO_STEP, None).await;
    assert_meta_only(s, &b, 200);
    let (s, b) = call(&app, &admin, Method::PATCH, ABOUT, Some(json!({"text": "registered now"}))).await;
    assert_meta_only(s, &b, 200);
}
