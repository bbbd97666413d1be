//! The Cloud API as the relay workload sees it: a Graph API stand-in in the
//! bench process that takes every send at once (a `wamid`) and, as Cloud
//! does, reports it back by webhook: one signed POST to the relay's
//! `/relay/webhook` with its `sent`, `delivered` and `read`. The relay then
//! turns those into the On-Premises callbacks the receiver counts, so the
//! run measures both of the relay's paths under load.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use anyhow::Result;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

pub const PHONE_NUMBER_ID: &str = "106540352242922";
const APP_SECRET: &str = "wabiz-bench-app-secret";

struct Shared {
    next: AtomicU64,
    /// The relay's address, once it listens.
    relay: OnceLock<String>,
    client: reqwest::Client,
}

pub struct CloudStandIn {
    url: String,
    shared: Arc<Shared>,
}

/// Posts the three statuses of `wamid` to the relay, signed as Meta signs.
async fn report(shared: Arc<Shared>, wamid: String, to: String) {
    let Some(relay) = shared.relay.get() else { return };
    let at = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs();
    let statuses: Vec<Value> = ["sent", "delivered", "read"]
        .iter()
        .map(|s| json!({"id": wamid, "status": s, "timestamp": at.to_string(), "recipient_id": to}))
        .collect();
    let doc = json!({"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": [{"field": "messages",
        "value": {"messaging_product": "whatsapp", "metadata": {"display_phone_number": "15550783881", "phone_number_id": PHONE_NUMBER_ID},
                  "statuses": statuses}}]}]});
    let body = doc.to_string().into_bytes();
    let signature = wabiz_relay::signature::sign(APP_SECRET.as_bytes(), &body);
    // Meta retries a webhook that is not acknowledged; so does the stand-in.
    for _ in 0..20 {
        let sent = shared
            .client
            .post(format!("{relay}/relay/webhook"))
            .header("content-type", "application/json")
            .header("x-hub-signature-256", &signature)
            .body(body.clone())
            .send()
            .await;
        if sent.is_ok_and(|r| r.status().is_success()) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    eprintln!("the Cloud stand-in gave up a webhook for {wamid}");
}

async fn graph(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let (method, path) = (req.method().clone(), req.uri().path().to_owned());
    let body: Bytes = axum::body::to_bytes(req.into_body(), 1 << 20).await.unwrap_or_default();
    if method == Method::GET {
        return axum::Json(
            json!({"display_phone_number": "+1 555-078-3881", "verified_name": "wabiz bench", "id": PHONE_NUMBER_ID}),
        )
        .into_response();
    }
    if !path.ends_with("/messages") {
        return axum::Json(json!({"success": true})).into_response();
    }
    let send: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let to = send["to"].as_str().unwrap_or_default().to_owned();
    let wamid = format!("wamid.BENCH{}", shared.next.fetch_add(1, Ordering::Relaxed));
    tokio::spawn(report(Arc::clone(&shared), wamid.clone(), to.clone()));
    axum::Json(
        json!({"messaging_product": "whatsapp", "contacts": [{"input": to, "wa_id": to}], "messages": [{"id": wamid}]}),
    )
    .into_response()
}

impl CloudStandIn {
    pub async fn start(client: reqwest::Client) -> Result<CloudStandIn> {
        let shared = Arc::new(Shared { next: AtomicU64::new(0), relay: OnceLock::new(), client });
        let app = axum::Router::new().fallback(graph).with_state(Arc::clone(&shared));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        tokio::spawn(async move { axum::serve(listener, app).await });
        Ok(CloudStandIn { url, shared })
    }

    /// The `wabiz serve` options of a relay on this stand-in.
    pub fn relay_args(&self) -> Vec<String> {
        [
            "--network",
            "cloud",
            "--relay-phone-number-id",
            PHONE_NUMBER_ID,
            "--relay-waba-id",
            "102290129340398",
            "--relay-access-token",
            "bench-token",
            "--relay-app-secret",
            APP_SECRET,
            "--relay-verify-token",
            "bench-verify",
            "--relay-pin",
            "123456",
            "--relay-graph-url",
            &self.url,
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect()
    }

    /// Where the webhooks go, once the relay listens.
    pub fn report_to(&self, relay_base: &str) {
        let _ = self.shared.relay.set(relay_base.to_owned());
    }
}
