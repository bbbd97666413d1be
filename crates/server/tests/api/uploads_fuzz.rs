//! Raw and multipart uploads of any bytes under any content type (issue 21
//! §4), drawn by proptest and sent to the real server: every one is stored
//! or refused in the envelope, never a server error.

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

/// A content type: the usual ones, odd ones, and multipart with a boundary
/// that may or may not match the body's.
fn content_type() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "image/jpeg",
            "image/png",
            "image/webp",
            "video/mp4",
            "audio/ogg; codecs=opus",
            "application/pdf",
            "text/plain",
            "application/octet-stream",
            "application/json",
            "image/jpeg; charset=\"x\"",
            "",
            "multipart/form-data",
            "multipart/form-data; boundary=",
            "image/",
            "/png",
        ])
        .prop_map(str::to_owned),
        "multipart/form-data; boundary=[A-Za-z0-9'()+_,./:=?-]{1,30}",
        "[ -~]{0,40}",
    ]
}

/// A body: random bytes, a JPEG or PNG start, or a multipart form (maybe broken).
fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..512),
        prop::collection::vec(any::<u8>(), 0..256).prop_map(|rest| [&[0xff, 0xd8, 0xff, 0xe0][..], &rest].concat()),
        prop::collection::vec(any::<u8>(), 0..256).prop_map(|rest| [&b"\x89PNG\r\n\x1a\n"[..], &rest].concat()),
        ("[A-Za-z0-9]{1,20}", prop::collection::vec(any::<u8>(), 0..256), any::<bool>()).prop_map(
            |(boundary, data, closed)| {
                let mut b = format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n"
                )
                .into_bytes();
                b.extend(data);
                if closed {
                    b.extend(format!("\r\n--{boundary}--\r\n").into_bytes());
                }
                b
            }
        ),
    ]
}

#[tokio::test]
async fn uploads_of_any_bytes_and_type_never_meet_a_server_error() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (s, b) = app.post(&admin, "/v1/groups", json!({"subject": "Fuzz"})).await;
    assert_eq!(s, 200, "{b}");
    let group = b["groups"][0]["id"].as_str().unwrap().to_owned();
    let routes = ["/v1/media".to_owned(), "/v1/settings/profile/photo".to_owned(), format!("/v1/groups/{group}/icon")];
    let mut runner = TestRunner::deterministic();
    let strategy = (0..routes.len(), content_type(), body());
    let mut answers = std::collections::BTreeMap::<u16, usize>::new();
    for _ in 0..300 {
        let (route, ct, bytes) = strategy.new_tree(&mut runner).unwrap().current();
        let mut rb = app.authed(Method::POST, &routes[route], &admin).body(bytes.clone());
        if !ct.is_empty() {
            rb = rb.header("Content-Type", ct.clone());
        }
        let r = rb.send().await.unwrap();
        let status = r.status().as_u16();
        *answers.entry(status).or_default() += 1;
        let body: Value = r.json().await.unwrap_or(Value::Null);
        assert!(status < 500, "{} as {ct:?} ({} bytes): {status} {body}", routes[route], bytes.len());
        if status >= 400 {
            assert!(body["errors"][0]["code"].is_u64() && body["meta"].is_object(), "{status}: {body}");
        }
    }
    // Both paths were taken: some uploads stored, some refused.
    assert!(answers.keys().any(|s| *s < 300) && answers.keys().any(|s| *s >= 400), "{answers:?}");
}
