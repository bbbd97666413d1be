//! The Graph API client against a local stand-in that records what it
//! receives: paths with the pinned version, the bearer token, the bodies
//! (JSON and multipart), and Cloud's error answers read as such.

// A test (and its helpers) stops loudly where something it relies on failed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use wabiz_relay::errors::Disposition;
use wabiz_relay::graph::{Accepted, CodeMethod, Graph, GraphConfig};
use wabiz_relay::secret::Secret;

/// One request as the stand-in saw it.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path_and_query: String,
    authorization: String,
    content_type: String,
    body: Vec<u8>,
}

#[derive(Clone, Default)]
struct StandIn {
    seen: Arc<Mutex<Vec<Seen>>>,
    /// The next answer, instead of the usual one.
    next: Arc<Mutex<Option<(u16, Value)>>>,
}

async fn answer(State(s): State<StandIn>, headers: HeaderMap, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body: Bytes = axum::body::to_bytes(body, 1 << 20).await.unwrap();
    let header = |h: &str| headers.get(h).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let path = parts.uri.path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_default();
    s.seen.lock().unwrap().push(Seen {
        method: parts.method.to_string(),
        path_and_query: path.clone(),
        authorization: header("authorization"),
        content_type: header("content-type"),
        body: body.to_vec(),
    });
    if let Some((status, body)) = s.next.lock().unwrap().take() {
        return (StatusCode::from_u16(status).unwrap(), axum::Json(body)).into_response();
    }
    let ok = json!({"success": true});
    let body = match (parts.method.as_str(), path.as_str()) {
        ("POST", "/v23.0/106540352242922/messages")
            if body.starts_with(b"{\"messaging_product\":\"whatsapp\",\"recipient_type\"") =>
        {
            json!({"messaging_product": "whatsapp", "contacts": [{"input": "16315551234", "wa_id": "16315551234"}],
                   "messages": [{"id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBJDQjZCMzlEQUE4OTJBMTE4RTUA"}]})
        }
        ("POST", "/v23.0/106540352242922/media") => json!({"id": "1037543291543636"}),
        ("GET", "/v23.0/1037543291543636") => json!({"messaging_product": "whatsapp", "id": "1037543291543636",
            "url": "/files/1037543291543636?ext=1", "mime_type": "image/jpeg", "sha256": "abc", "file_size": 4}),
        ("GET", "/files/1037543291543636?ext=1") => {
            return (StatusCode::OK, b"\xff\xd8\xff\xe0".to_vec()).into_response();
        }
        _ => ok,
    };
    axum::Json(body).into_response()
}

async fn start() -> (StandIn, String) {
    let s = StandIn::default();
    let app = Router::new().fallback(answer).with_state(s.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (s, url)
}

fn graph(url: &str, timeout: Duration) -> Graph {
    // The workspace's reqwest brings no TLS provider of its own; the stand-in is plain HTTP.
    let _ = rustls::crypto::ring::default_provider().install_default();
    Graph::new(
        reqwest::Client::new(),
        GraphConfig {
            url: url.to_owned(),
            version: "v23.0".into(),
            phone_number_id: "106540352242922".into(),
            access_token: Secret::new("EAAtoken"),
            timeout,
        },
    )
}

#[tokio::test]
async fn each_call_goes_to_its_versioned_path_with_the_token() {
    let (s, url) = start().await;
    let g = graph(&url, Duration::from_secs(5));
    let message = json!({"messaging_product": "whatsapp", "recipient_type": "individual", "to": "16315551234", "type": "text", "text": {"body": "hi"}});
    assert_eq!(
        g.send(&message).await.unwrap(),
        Accepted {
            wamid: "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBJDQjZCMzlEQUE4OTJBMTE4RTUA".into(),
            wa_id: Some("16315551234".into())
        }
    );
    g.mark_read("wamid.IN").await.unwrap();
    assert_eq!(g.upload(b"\xff\xd8\xff\xe0".to_vec(), "image/jpeg", "a.jpg").await.unwrap(), "1037543291543636");
    let info = g.media("1037543291543636").await.unwrap();
    assert_eq!((info.mime_type.as_str(), info.file_size), ("image/jpeg", Some(4)));
    let download = format!("{url}{}", info.url);
    assert_eq!(g.download(&download).await.unwrap(), b"\xff\xd8\xff\xe0");
    g.delete_media("1037543291543636").await.unwrap();
    g.request_code(CodeMethod::Voice, "en_US").await.unwrap();
    g.verify_code("123456").await.unwrap();
    g.register(&Secret::new("654321")).await.unwrap();

    let seen = s.seen.lock().unwrap().clone();
    let calls: Vec<(&str, &str)> = seen.iter().map(|r| (r.method.as_str(), r.path_and_query.as_str())).collect();
    assert_eq!(
        calls,
        [
            ("POST", "/v23.0/106540352242922/messages"),
            ("POST", "/v23.0/106540352242922/messages"),
            ("POST", "/v23.0/106540352242922/media"),
            ("GET", "/v23.0/1037543291543636"),
            ("GET", "/files/1037543291543636?ext=1"),
            ("DELETE", "/v23.0/1037543291543636?phone_number_id=106540352242922"),
            ("POST", "/v23.0/106540352242922/request_code"),
            ("POST", "/v23.0/106540352242922/verify_code"),
            ("POST", "/v23.0/106540352242922/register"),
        ]
    );
    assert!(seen.iter().all(|r| r.authorization == "Bearer EAAtoken"), "the token on every call, the download's too");
    let json_of = |i: usize| serde_json::from_slice::<Value>(&seen[i].body).unwrap();
    assert_eq!(json_of(1), json!({"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.IN"}));
    assert_eq!(json_of(6), json!({"code_method": "VOICE", "language": "en_US"}));
    assert_eq!(json_of(8), json!({"messaging_product": "whatsapp", "pin": "654321"}));
    // §9.4: the upload is multipart, with the file, its type and the product.
    assert!(seen[2].content_type.starts_with("multipart/form-data; boundary="), "{}", seen[2].content_type);
    let form = String::from_utf8_lossy(&seen[2].body);
    for part in [
        "name=\"messaging_product\"\r\n\r\nwhatsapp",
        "name=\"type\"\r\n\r\nimage/jpeg",
        "name=\"file\"; filename=\"a.jpg\"",
    ] {
        assert!(form.contains(part), "{part} in\n{form}");
    }
}

#[tokio::test]
async fn cloud_errors_and_silence_are_read_for_what_they_mean() {
    let (s, url) = start().await;
    let g = graph(&url, Duration::from_millis(300));
    let message = json!({"messaging_product": "whatsapp", "recipient_type": "individual", "to": "1", "type": "text", "text": {"body": "x"}});
    *s.next.lock().unwrap() = Some((
        400,
        json!({"error": {"message": "(#132001) Template name does not exist in the translation",
        "type": "OAuthException", "code": 132_001, "error_data": {"messaging_product": "whatsapp", "details": "template name (x) does not exist in en_US"},
        "fbtrace_id": "A1"}}),
    ));
    let e = g.send(&message).await.unwrap_err();
    assert_eq!(
        (e.status, e.code, e.disposition()),
        (400, 132_001, Disposition::Fail(wabiz_domain::error::ErrorCode::TemplateMissing))
    );
    assert!(e.to_wa_error().to_string().contains("cloud_code=132001: template name (x) does not exist in en_US"));
    *s.next.lock().unwrap() = Some((
        429,
        json!({"error": {"message": "(#130429) Rate limit hit", "code": 130_429, "type": "OAuthException"}}),
    ));
    assert_eq!(g.send(&message).await.unwrap_err().disposition(), Disposition::TryAgain);
    assert!(g.media("../../me").await.is_err(), "only Cloud's media ids are asked for");
    // Nobody listening: no answer, tried again.
    let gone = graph("http://127.0.0.1:9", Duration::from_millis(300));
    let e = gone.send(&message).await.unwrap_err();
    assert_eq!((e.status, e.disposition()), (0, Disposition::TryAgain));
    assert!(!format!("{e:?}").contains("EAAtoken"), "no token in errors: {e:?}");
}
