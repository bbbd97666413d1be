//! A stand-in for Meta's Graph API (the Cloud API of one phone number), on
//! a local port: what the relay's tests point `--relay-graph-url` at. It
//! records every request, answers as Meta documents (a `wamid` for a send,
//! `{"success": true}` for the rest), fails on demand with a scripted Graph
//! error, and serves media through download URLs that work once, as Meta's
//! short-lived ones stop working. It also signs and delivers webhooks to
//! the relay as Meta would. The sends it received are checked against
//! Meta's own description of the API (`check_against_meta`).

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

pub const PNID: &str = "106540352242922";
pub const WABA_ID: &str = "102290129340398";
pub const ACCESS_TOKEN: &str = "EAAG-test-access-token";
pub const APP_SECRET: &str = "test-app-secret-0123456789";
pub const VERIFY_TOKEN: &str = "test-verify-token";
pub const PIN: &str = "314159";
/// The number Cloud shows for `PNID`.
pub const DISPLAY_NUMBER: &str = "+1 555-078-3881";
pub const BUSINESS_NUMBER: &str = "15550783881";
/// The Meta app the access token belongs to.
pub const APP_ID: &str = "1234567890123456";

/// One request as the stand-in received it.
#[derive(Debug, Clone)]
pub struct GraphCall {
    pub method: Method,
    /// Without the version: `/{PNID}/messages`.
    pub path: String,
    pub authorization: Option<String>,
    /// The JSON body, or the text fields of a multipart one.
    pub body: Value,
    /// A multipart upload's file.
    pub file: Option<Vec<u8>>,
    /// The `wamid` a send was given, when it was taken.
    pub wamid: Option<String>,
}

/// A scripted answer to the next send.
#[derive(Debug, Clone)]
pub enum Answer {
    /// A Graph error: HTTP status, Cloud code.
    Error(u16, i64),
    /// Taken, as this `wamid`.
    Take(String),
    /// No answer for this long, then a 503 (a call the relay may be killed in).
    Stall(Duration),
}

#[derive(Default)]
struct Shared {
    calls: Mutex<Vec<GraphCall>>,
    sends: Mutex<VecDeque<Answer>>,
    /// Every answer to sends, while set (an outage).
    down: Mutex<Option<Answer>>,
    media: Mutex<HashMap<String, (String, Vec<u8>)>>,
    /// Download tokens not used yet: media id of each.
    urls: Mutex<HashMap<String, String>>,
    urls_base: Mutex<String>,
    next: AtomicU64,
}

pub struct GraphStandIn {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    handle: axum_server::Handle<SocketAddr>,
}

fn graph_error(status: u16, code: i64) -> Response {
    let body = json!({"error": {"message": format!("stand-in error {code}"), "type": "OAuthException", "code": code,
        "error_data": {"messaging_product": "whatsapp", "details": format!("the stand-in refused with {code}")},
        "fbtrace_id": "AbCdEf"}});
    (StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST), axum::Json(body)).into_response()
}

fn ok(body: Value) -> Response {
    axum::Json(body).into_response()
}

async fn graph(State(s): State<Arc<Shared>>, req: Request) -> Response {
    let method = req.method().clone();
    let uri = req.uri().clone();
    let authorization = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let path = uri.path().to_owned();
    if let Some(token) = path.strip_prefix("/download/") {
        let Some(id) = s.urls.lock().unwrap().remove(token) else {
            return (StatusCode::NOT_FOUND, "this URL expired").into_response();
        };
        let (mime, bytes) = s.media.lock().unwrap().get(&id).cloned().unwrap_or_default();
        return ([(header::CONTENT_TYPE, mime)], bytes).into_response();
    }
    let Some(rest) = path.strip_prefix("/v23.0") else {
        return graph_error(400, 2500);
    };
    let rest = rest.to_owned();
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("multipart/form-data"));
    let (body, file) = if multipart {
        let mut form = Multipart::from_request(req, &()).await.expect("a multipart body");
        let (mut fields, mut file) = (serde_json::Map::new(), None);
        while let Some(field) = form.next_field().await.expect("a multipart field") {
            let name = field.name().unwrap_or_default().to_owned();
            if name == "file" {
                fields.insert("file_content_type".into(), json!(field.content_type()));
                file = Some(field.bytes().await.expect("file bytes").to_vec());
            } else {
                fields.insert(name, json!(field.text().await.expect("a text field")));
            }
        }
        (Value::Object(fields), file)
    } else {
        let bytes = axum::body::to_bytes(req.into_body(), 64 << 20).await.unwrap_or_default();
        match serde_json::from_slice(&bytes) {
            Ok(json) => (json, None),
            // A raw upload.
            Err(_) => (Value::Null, Some(bytes.to_vec())),
        }
    };
    let index = {
        let mut calls = s.calls.lock().unwrap();
        calls.push(GraphCall {
            method: method.clone(),
            path: rest.clone(),
            authorization: authorization.clone(),
            body: body.clone(),
            file: file.clone(),
            wamid: None,
        });
        calls.len() - 1
    };
    // Resumable uploads take the token as `OAuth`, every other call as `Bearer`.
    let scheme = if rest.starts_with("/upload:") { "OAuth" } else { "Bearer" };
    if authorization.as_deref() != Some(&format!("{scheme} {ACCESS_TOKEN}")) {
        return graph_error(401, 190);
    }
    let n = s.next.fetch_add(1, Ordering::SeqCst);
    let messages = format!("/{PNID}/messages");
    let media = format!("/{PNID}/media");
    match (method, rest.as_str()) {
        (Method::POST, p) if p == messages && body.get("status").is_some() => ok(json!({"success": true})),
        (Method::POST, p) if p == messages => {
            let scripted = s.sends.lock().unwrap().pop_front().or_else(|| s.down.lock().unwrap().clone());
            match scripted {
                Some(Answer::Error(status, code)) => graph_error(status, code),
                Some(Answer::Stall(long)) => {
                    tokio::time::sleep(long).await;
                    graph_error(503, 2)
                }
                chosen @ (None | Some(Answer::Take(_))) => {
                    let to = body["to"].as_str().unwrap_or_default();
                    let wamid = match chosen {
                        Some(Answer::Take(wamid)) => wamid,
                        _ => format!("wamid.STANDIN{n:06}"),
                    };
                    s.calls.lock().unwrap()[index].wamid = Some(wamid.clone());
                    ok(json!({"messaging_product": "whatsapp", "contacts": [{"input": to, "wa_id": to}],
                        "messages": [{"id": wamid}]}))
                }
            }
        }
        (Method::POST, p) if p == media => {
            let id = format!("{}", 7_000_000_000_u64 + n);
            let mime = body["type"].as_str().unwrap_or_default().to_owned();
            s.media.lock().unwrap().insert(id.clone(), (mime, file.unwrap_or_default()));
            ok(json!({"id": id}))
        }
        (Method::POST, p) if p.starts_with(&format!("/{PNID}/")) || p == format!("/{PNID}") => {
            ok(json!({"success": true}))
        }
        (Method::GET, "/app") => ok(json!({"id": APP_ID, "name": "wabiz test app"})),
        (Method::POST, p) if p == format!("/{APP_ID}/uploads") => ok(json!({"id": "upload:MTphdHRhY2htZW50"})),
        (Method::POST, "/upload:MTphdHRhY2htZW50") => ok(json!({"h": "2:c2FtcGxlLmpwZw=="})),
        (Method::GET, p) if p == format!("/{PNID}") => ok(
            json!({"display_phone_number": DISPLAY_NUMBER, "verified_name": "wabiz test", "quality_rating": "GREEN", "id": PNID}),
        ),
        (Method::GET, p) => {
            let id = p.trim_start_matches('/').to_owned();
            let Some((mime, bytes)) = s.media.lock().unwrap().get(&id).cloned() else {
                return graph_error(404, 100);
            };
            let token = format!("t{n}");
            s.urls.lock().unwrap().insert(token.clone(), id.clone());
            ok(json!({"messaging_product": "whatsapp", "url": format!("{}/download/{token}", s.base()),
                "mime_type": mime, "sha256": "00", "file_size": bytes.len(), "id": id}))
        }
        (Method::DELETE, _) => ok(json!({"success": true})),
        _ => graph_error(400, 100),
    }
}

impl Shared {
    /// The stand-in's own address, for the download URLs it hands out.
    fn base(&self) -> String {
        self.urls_base.lock().unwrap().clone()
    }
}

impl GraphStandIn {
    pub async fn start() -> GraphStandIn {
        let shared = Arc::new(Shared::default());
        let app = Router::new().fallback(graph).with_state(Arc::clone(&shared));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("addr");
        *shared.urls_base.lock().unwrap() = format!("http://{addr}");
        let handle = axum_server::Handle::new();
        let server = axum_server::from_tcp(listener).expect("serve").handle(handle.clone());
        tokio::spawn(async move { server.serve(app.into_make_service()).await });
        GraphStandIn { addr, shared, handle }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The `wabiz serve` options of a relay pointed at this stand-in.
    pub fn relay_args(&self) -> Vec<String> {
        [
            "--network",
            "cloud",
            "--relay-phone-number-id",
            PNID,
            "--relay-waba-id",
            WABA_ID,
            "--relay-access-token",
            ACCESS_TOKEN,
            "--relay-app-secret",
            APP_SECRET,
            "--relay-verify-token",
            VERIFY_TOKEN,
            "--relay-pin",
            PIN,
            "--relay-graph-url",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .chain([self.url()])
        .collect()
    }

    /// The next sends are answered so, in order.
    pub fn script(&self, answers: impl IntoIterator<Item = Answer>) {
        self.shared.sends.lock().unwrap().extend(answers);
    }

    /// Every send is answered so until `up` (an outage).
    pub fn down(&self, answer: Answer) {
        *self.shared.down.lock().unwrap() = Some(answer);
    }

    pub fn up(&self) {
        *self.shared.down.lock().unwrap() = None;
    }

    /// Media a customer sent, as Cloud holds it.
    pub fn hold_media(&self, id: &str, mime: &str, bytes: &[u8]) {
        self.shared.media.lock().unwrap().insert(id.to_owned(), (mime.to_owned(), bytes.to_vec()));
    }

    pub fn calls(&self) -> Vec<GraphCall> {
        self.shared.calls.lock().unwrap().clone()
    }

    /// The message sends received (not mark-read), with the `wamid` each
    /// successful one was given, in order.
    pub fn sends(&self) -> Vec<GraphCall> {
        let messages = format!("/{PNID}/messages");
        self.calls()
            .into_iter()
            .filter(|c| c.method == Method::POST && c.path == messages && c.body.get("status").is_none())
            .collect()
    }

    /// Waits until `done` holds for the calls received, or fails.
    pub async fn wait_for(&self, within: Duration, what: &str, done: impl Fn(&[GraphCall]) -> bool) -> Vec<GraphCall> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let calls = self.calls();
            if done(&calls) {
                return calls;
            }
            assert!(tokio::time::Instant::now() < deadline, "the Graph stand-in never saw {what}; it got {calls:#?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for GraphStandIn {
    fn drop(&mut self) {
        self.handle.shutdown();
    }
}

/// A Cloud webhook POST with one `messages` change holding `value` (Meta's
/// envelope added).
pub fn webhook(mut value: Value) -> Value {
    value["messaging_product"] = json!("whatsapp");
    value["metadata"] = json!({"display_phone_number": BUSINESS_NUMBER, "phone_number_id": PNID});
    json!({"object": "whatsapp_business_account", "entry": [{"id": WABA_ID, "changes": [{"field": "messages", "value": value}]}]})
}

/// Posts `doc` to the relay's webhook endpoint as Meta does (signed with the
/// app secret), and returns the answer's status.
pub async fn deliver(client: &reqwest::Client, relay: &str, doc: &Value) -> u16 {
    let body = serde_json::to_vec(doc).unwrap();
    let signature = wabiz_relay::signature::sign(APP_SECRET.as_bytes(), &body);
    deliver_signed(client, relay, body, Some(&signature)).await
}

pub async fn deliver_signed(client: &reqwest::Client, relay: &str, body: Vec<u8>, signature: Option<&str>) -> u16 {
    let mut rb = client.post(format!("{relay}/relay/webhook")).header("content-type", "application/json").body(body);
    if let Some(s) = signature {
        rb = rb.header("x-hub-signature-256", s);
    }
    rb.send().await.expect("the relay answers").status().as_u16()
}
