//! wabiz's view of the callback queue (`/wabiz/callbacks`, admin only;
//! documented in the README): what is pending, each callback's delivery
//! history (attempts, last result, next retry), what was delivered lately,
//! and the engine's counters.

use std::sync::atomic::Ordering;

use crate::openapi::ApiRouter;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};
use wabiz_domain::WaError;
use wabiz_domain::callbacks::PendingCallback;
use wabiz_webhooks::metrics::Delivered;

use crate::envelope::reply;
use crate::error::ApiError;
use crate::state::AppState;

pub fn routes() -> ApiRouter {
    ApiRouter::new()
        .get("/wabiz/callbacks", queue, "The webhook queue: depth, counters, latency and pending callbacks")
        .described(crate::schemas::wabiz::callback_queue())
        .get("/wabiz/callbacks/{seq}", one, "One callback, pending or recently delivered")
        .described(crate::schemas::wabiz::callback())
        .post("/wabiz/callbacks/{seq}/retry", retry, "Retry a waiting callback now, not at its next attempt time")
        .described(crate::schemas::wabiz::retry_callback())
        .post(
            "/wabiz/webhook/test",
            test_callback,
            "Send a test callback to the configured webhook URL and show what the receiver answers",
        )
        .described(crate::schemas::wabiz::test_callback())
}

/// One POST of a `{"test": …}` body to `webhooks.url`, outside the queue
/// (nothing is stored or retried); answers what the receiver said, or why
/// nothing was sent (no URL; `http://` not allowed). A
/// receiver that dispatches on `contacts`, `messages`, `statuses` and
/// `errors` finds none of them and should acknowledge it.
async fn test_callback(State(state): State<AppState>) -> Result<Response, ApiError> {
    let id = wabiz_domain::ids::outbound_message();
    let body = json!({ "test": { "id": id, "timestamp": state.clock.now_unix().to_string(),
                                 "note": "A test callback sent from wabiz; it reports nothing." } });
    let outcome = state.webhook_test.send(body.to_string()).await;
    let answer = json!({ "test": {
        "id": id, "status": outcome.status, "acknowledged": outcome.acknowledged, "body": outcome.body,
        "failure": outcome.failure, "took_ms": outcome.took_ms,
    }});
    Ok(reply(StatusCode::OK, &state.meta, answer))
}

/// Most callbacks listed at once.
const MAX_LIMIT: usize = 1000;

#[derive(serde::Deserialize)]
struct Paging {
    after: Option<String>,
    limit: Option<String>,
}

fn number<T: std::str::FromStr>(name: &str, raw: Option<&str>, default: T) -> Result<T, WaError> {
    match raw {
        None => Ok(default),
        Some(v) => v.parse().map_err(|_| WaError::invalid_value(name, v)),
    }
}

fn pending_json(c: &PendingCallback) -> Value {
    json!({
        "seq": c.seq,
        "state": "pending",
        "kind": c.kind.as_str(),
        "peer": c.peer,
        "subject": c.subject,
        "created_at": c.created_at,
        "attempts": c.attempts,
        "last_attempt_at": c.last_attempt_at,
        "last_result": c.last_result,
        "next_attempt_at": c.next_attempt_at,
        "items": items_json(&c.item),
    })
}

/// A callback's items as a list: one row may hold several (a message's
/// status chain), kept as comma-separated JSON text.
fn items_json(items: &str) -> Value {
    serde_json::from_str::<Value>(&format!("[{items}]")).unwrap_or(Value::Null)
}

fn delivered_json(d: &Delivered) -> Value {
    json!({
        "seq": d.seq,
        "state": "delivered",
        "kind": d.kind,
        "peer": d.peer,
        "subject": d.subject,
        "created_at": d.created_at,
        "attempts": d.attempts,
        "last_attempt_at": d.delivered_at,
        "last_result": d.last_result,
        "next_attempt_at": null,
        "items": items_json(&d.items),
    })
}

/// The queue: counters, pending callbacks (oldest first, `after`/`limit`
/// paging by `seq`) and the last delivered ones.
async fn queue(State(state): State<AppState>, Query(paging): Query<Paging>) -> Result<Response, ApiError> {
    let after = number("after", paging.after.as_deref(), 0i64)?;
    let limit = number("limit", paging.limit.as_deref(), 100usize)?;
    if limit == 0 || limit > MAX_LIMIT {
        return Err(WaError::invalid(format!("Parameter 'limit' must be between 1 and {MAX_LIMIT}")).into());
    }
    let (depth, oldest) = state.store.callback_backlog().await.map_err(WaError::from)?;
    let pending: Vec<Value> =
        state.store.list_callbacks(after, limit).await.map_err(WaError::from)?.iter().map(pending_json).collect();
    let m = &state.webhooks;
    let latency = m.latency();
    let buckets: serde_json::Map<String, Value> = latency.buckets.into_iter().map(|(le, n)| (le, json!(n))).collect();
    let recent: Vec<Value> = m.recently_delivered(20).iter().map(delivered_json).collect();
    let body = json!({
        "callbacks": {
            "queue": {
                "pending": depth,
                "oldest_created_at": oldest,
                "held_in_memory": m.held.load(Ordering::Relaxed),
                "requests_in_flight": m.in_flight.load(Ordering::Relaxed),
            },
            "delivery": {
                "delivered": m.delivered.load(Ordering::Relaxed),
                "requests": m.requests.load(Ordering::Relaxed),
                "failed_requests": m.failed_requests.load(Ordering::Relaxed),
                "failed_attempts": m.failed_callbacks.load(Ordering::Relaxed),
                "latency_ms": { "buckets": buckets, "sum": latency.sum_ms, "count": latency.count },
            },
            "pending": pending,
            "recently_delivered": recent,
        }
    });
    Ok(reply(StatusCode::OK, &state.meta, body))
}

/// One callback, pending or recently delivered.
async fn one(State(state): State<AppState>, Path(seq): Path<String>) -> Result<Response, ApiError> {
    let seq: i64 = seq.parse().map_err(|_| WaError::not_found(format!("Callback {seq} not found")))?;
    if let Some(c) = state.store.get_callback(seq).await.map_err(WaError::from)? {
        return Ok(reply(StatusCode::OK, &state.meta, json!({ "callback": pending_json(&c) })));
    }
    match state.webhooks.delivered(seq) {
        Some(d) => Ok(reply(StatusCode::OK, &state.meta, json!({ "callback": delivered_json(&d) }))),
        None => Err(WaError::not_found(format!("Callback {seq} not found (or delivered long ago)")).into()),
    }
}

/// "Retry now": a callback waiting for its next attempt is made due and
/// the delivery engine woken; 202 with the callback as it now stands.
async fn retry(State(state): State<AppState>, Path(seq): Path<String>) -> Result<Response, ApiError> {
    let seq: i64 = seq.parse().map_err(|_| WaError::not_found(format!("Callback {seq} not found")))?;
    let now = state.clock.now_millis();
    if !state.store.retry_callback_now(seq, now).await.map_err(WaError::from)? {
        return Err(WaError::not_found(format!("Callback {seq} is not waiting (delivered, or unknown)")).into());
    }
    // Read before the engine is woken: it may deliver (and remove) it at once.
    let callback = state.store.get_callback(seq).await.map_err(WaError::from)?;
    state.outbox.stored();
    let body = json!({ "callback": callback.as_ref().map(pending_json) });
    Ok(reply(StatusCode::ACCEPTED, &state.meta, body))
}
