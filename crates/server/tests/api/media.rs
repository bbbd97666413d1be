//! `/v1/media` (`media.md` §1–§3).

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::*;

fn is_uuid_v4(id: &str) -> bool {
    let parts: Vec<&str> = id.split('-').collect();
    parts.iter().map(|p| p.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
        && id.chars().all(|c| c == '-' || matches!(c, '0'..='9' | 'a'..='f'))
        && parts[2].starts_with('4')
}

async fn upload(app: &TestApp, token: &str, content_type: Option<&str>, bytes: Vec<u8>) -> (StatusCode, Value) {
    let mut rb = app.authed(Method::POST, "/v1/media", token).body(bytes);
    if let Some(ct) = content_type {
        rb = rb.header("Content-Type", ct);
    }
    json(rb.send().await.unwrap()).await
}

/// Bytes that are not text, so any re-encoding on the way would show.
fn binary(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 256) as u8).collect()
}

#[tokio::test]
async fn upload_then_download_gives_the_same_bytes() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let user = app.user_token(&admin, "agent", "Passw0rd!").await;
    let bytes = binary(300_000);
    let (s, b) = upload(&app, &user, Some("image/jpeg"), bytes.clone()).await;
    assert_eq!(s, 201, "{b}");
    assert!(b["meta"].is_object());
    assert_eq!(b["media"].as_array().map(Vec::len), Some(1));
    let id = b["media"][0]["id"].as_str().unwrap().to_owned();
    assert!(is_uuid_v4(&id), "{id}");

    let r = app.authed(Method::GET, &format!("/v1/media/{id}"), &user).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/jpeg");
    assert_eq!(r.headers()["content-length"], bytes.len().to_string().as_str());
    assert!(r.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
    assert_eq!(r.bytes().await.unwrap().to_vec(), bytes);
}

#[tokio::test]
async fn uploads_need_a_content_type_and_a_body() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (s, b) = upload(&app, &admin, None, binary(10)).await;
    assert_error(s, &b, 400, 1008, Some("Content-Type missing"));
    let (s, b) = upload(&app, &admin, Some("image/png"), Vec::new()).await;
    assert_error(s, &b, 400, 1008, Some("Request had no (empty) content"));
}

#[tokio::test]
async fn uploads_over_the_limit_are_refused_and_leave_nothing_behind() {
    let app = TestApp::spawn_with(Spawn::default().arg("--media-max-upload-bytes").arg("65536")).await;
    let admin = app.admin_token().await;
    let (s, b) = upload(&app, &admin, Some("application/pdf"), binary(65_537)).await;
    assert_error(s, &b, 400, 1009, Some("Request content exceeds size of 65536 bytes"));
    let (s, b) = upload(&app, &admin, Some("application/pdf"), binary(65_536)).await;
    assert_eq!(s, 201, "exactly the limit is fine: {b}");
    // Nothing half-written is left in the media folder's staging area.
    let staging = app.data_dir.path().join("media/tmp");
    assert_eq!(std::fs::read_dir(staging).unwrap().count(), 0);
}

#[tokio::test]
async fn the_default_limit_is_the_originals_100_mb() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    // Declared too large: refused before the body is read. (The body sent is
    // small; only the header claims 100 MB + 1.)
    let r = app
        .authed(Method::POST, "/v1/media", &admin)
        .header("Content-Type", "video/mp4")
        .header("Content-Length", "104857601")
        .body(vec![0u8; 16])
        .send()
        .await;
    // The server answers without waiting for a body that will not come.
    let (s, b) = json(r.expect("an answer")).await;
    assert_error(s, &b, 400, 1009, Some("Request content exceeds size of 100 MB"));
}

#[tokio::test]
async fn unknown_and_deleted_media_are_not_found() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (s, b) =
        json(app.authed(Method::GET, "/v1/media/f043afd0-f0ae-4b9c-ab3d-696fb4c8cd68", &admin).send().await.unwrap())
            .await;
    assert_error(s, &b, 404, 1006, Some("File with id f043afd0-f0ae-4b9c-ab3d-696fb4c8cd68 not found"));
    let (s, b) = json(app.authed(Method::GET, "/v1/media/..%2F..%2Fwabiz.db", &admin).send().await.unwrap()).await;
    assert_eq!(s, 404, "{b}");

    let (_, b) = upload(&app, &admin, Some("audio/ogg; codecs=opus"), binary(1000)).await;
    let id = b["media"][0]["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/media/{id}");
    let (s, b) = json(app.authed(Method::DELETE, &path, &admin).send().await.unwrap()).await;
    assert_eq!((s.as_u16(), b["meta"].is_object()), (200, true));
    let (s, b) = json(app.authed(Method::DELETE, &path, &admin).send().await.unwrap()).await;
    assert_error(s, &b, 404, 1006, Some(&format!("File with id {id} not found")));
    let (s, _) = json(app.authed(Method::GET, &path, &admin).send().await.unwrap()).await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn media_needs_a_token_and_survives_a_restart() {
    let app = TestApp::spawn().await;
    let (s, b) = json(
        app.request(Method::POST, "/v1/media").header("Content-Type", "image/png").body("x").send().await.unwrap(),
    )
    .await;
    assert_error(s, &b, 401, 1005, Some("Missing or invalid authentication credentials"));
    let admin = app.admin_token().await;
    let bytes = binary(5000);
    let (_, b) = upload(&app, &admin, Some("image/png"), bytes.clone()).await;
    let id = b["media"][0]["id"].as_str().unwrap().to_owned();
    let app = app.restart().await;
    let r = app.authed(Method::GET, &format!("/v1/media/{id}"), &admin).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(r.bytes().await.unwrap().to_vec(), bytes);
}
