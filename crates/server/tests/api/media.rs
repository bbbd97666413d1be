//! `/v1/media` (`media.md` §1–§3).

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

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
    send(rb).await
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
    let (s, b) = app.get(&admin, "/v1/media/f043afd0-f0ae-4b9c-ab3d-696fb4c8cd68").await;
    assert_error(s, &b, 404, 1006, Some("File with id f043afd0-f0ae-4b9c-ab3d-696fb4c8cd68 not found"));
    let (s, b) = app.get(&admin, "/v1/media/..%2F..%2Fwabiz.db").await;
    assert_eq!(s, 404, "{b}");

    let (_, b) = upload(&app, &admin, Some("audio/ogg; codecs=opus"), binary(1000)).await;
    let id = b["media"][0]["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/media/{id}");
    let (s, b) = app.delete(&admin, &path).await;
    assert_eq!((s.as_u16(), b["meta"].is_object()), (200, true));
    let (s, b) = app.delete(&admin, &path).await;
    assert_error(s, &b, 404, 1006, Some(&format!("File with id {id} not found")));
    let (s, _) = app.get(&admin, &path).await;
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

/// A local web server holding media for `link` sends: `/open.png`,
/// `/private.png` (Basic `u:p` only), `/huge.png` (over the image limit),
/// anything else 404. Counts the requests it saw with credentials.
async fn media_host() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use axum::extract::{Path, State};
    use axum::http::{HeaderMap, StatusCode as Code};

    let authed = Arc::new(AtomicUsize::new(0));
    async fn file(
        State(authed): State<Arc<AtomicUsize>>,
        Path(name): Path<String>,
        headers: HeaderMap,
    ) -> Result<Vec<u8>, Code> {
        let png = b"\x89PNG\r\n\x1a\nrest-of-a-png".to_vec();
        match name.as_str() {
            "open.png" => Ok(png),
            "private.png" => {
                // Basic base64("u:p")
                if headers.get("authorization").and_then(|v| v.to_str().ok()) == Some("Basic dTpw") {
                    authed.fetch_add(1, Ordering::SeqCst);
                    Ok(png)
                } else {
                    Err(Code::UNAUTHORIZED)
                }
            }
            "huge.png" => Ok(vec![0u8; 5 * 1024 * 1024 + 1]),
            _ => Err(Code::NOT_FOUND),
        }
    }
    let app = axum::Router::new().route("/{name}", axum::routing::get(file)).with_state(Arc::clone(&authed));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), authed)
}

#[tokio::test]
async fn media_sent_by_link_is_fetched_with_its_provider() {
    let (host, authed) = media_host().await;
    let app = TestApp::spawn_with(Spawn::instant_receipts().arg("--simulator-open-window")).await;
    let admin = app.admin_token().await;
    let (s, b) = app
        .post(
            &admin,
            "/v1/settings/application/media/providers",
            json!([{"name": "my-cdn", "type": "www", "config": {"basic": {"username": "u", "password": "p"}}}]),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let send = |image: Value| {
        let (app, admin) = (&app, &admin);
        async move {
            let (s, b) =
                app.post(admin, "/v1/messages", json!({"to": "16315551234", "type": "image", "image": image})).await;
            assert_eq!(s, 201, "{b}");
            let id = b["messages"][0]["id"].as_str().unwrap().to_owned();
            settled_message(app, admin, &id, std::time::Duration::from_secs(20)).await
        }
    };
    let outcome = |m: &Value| {
        let last = m["statuses"].as_array().unwrap().last().cloned().unwrap();
        (last["status"].as_str().unwrap().to_owned(), last["errors"][0].clone())
    };

    let m = send(json!({"link": format!("{host}/open.png"), "caption": "open"})).await;
    assert_eq!(outcome(&m).0, "read", "{m}");
    let m = send(json!({"link": format!("{host}/private.png"), "provider": {"name": "my-cdn"}})).await;
    assert_eq!(outcome(&m).0, "read", "{m}");
    assert_eq!(authed.load(std::sync::atomic::Ordering::SeqCst), 1, "the provider's credentials were sent");

    for (image, details) in [
        (json!({"link": format!("{host}/private.png")}), "Media download failed: HTTP 401 from the link"),
        (json!({"link": format!("{host}/gone.png")}), "Media download failed: HTTP 404 from the link"),
        (json!({"link": format!("{host}/huge.png")}), "Media size exceeds limit for type 'image'"),
        (
            json!({"link": format!("{host}/open.png"), "provider": {"name": "nope"}}),
            "Media provider 'nope' is not configured",
        ),
        (json!({"link": "http://127.0.0.1:9/closed.png"}), "Media download failed: the link could not be reached"),
    ] {
        let m = send(image.clone()).await;
        let (status, error) = outcome(&m);
        assert_eq!(status, "failed", "{image}: {m}");
        assert_eq!(m["statuses"].as_array().unwrap().len(), 1, "never sent: {m}");
        assert_eq!((error["code"].as_u64(), error["title"].as_str()), (Some(400), Some("Media download error")));
        assert_eq!(error["details"], details, "{image}");
    }
}
