//! `GET /metrics`, `/v1/stats/app`, `/v1/stats/db` and their `internal`
//! variants (`health-stats.md` §3–§5): JSON by default, Prometheus text with
//! `?format=prometheus`.

use std::sync::atomic::Ordering;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;
use wabiz_domain::WaError;

use crate::envelope::reply;
use crate::error::ApiError;
use crate::metrics::{Histogram, Kind, Metric, Sample, to_json, to_prometheus};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/metrics", get(web))
        .route("/v1/stats/app", get(app))
        .route("/v1/stats/app/internal", get(app_internal))
        .route("/v1/stats/db", get(db))
        .route("/v1/stats/db/internal", get(db_internal))
}

#[derive(serde::Deserialize)]
struct Format {
    format: Option<String>,
}

/// `{"<key>": {"<sub>": metrics}}` in the envelope, or Prometheus text.
fn answer(state: &AppState, format: &Format, path: &[&str], metrics: &[Metric]) -> Result<Response, ApiError> {
    match format.format.as_deref() {
        Some("prometheus") => {
            Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], to_prometheus(metrics))
                .into_response())
        }
        None | Some("json") => {
            let mut body = to_json(metrics);
            for key in path.iter().rev() {
                body = json!({ *key: body });
            }
            Ok(reply(StatusCode::OK, &state.meta, body))
        }
        Some(other) => Err(WaError::invalid_value("format", other).into()),
    }
}

/// `/metrics`: the web server (the `node` label in every sample).
async fn web(State(state): State<AppState>, Query(f): Query<Format>) -> Result<Response, ApiError> {
    let node = state.node.as_ref();
    let w = &state.web;
    let mut sum = Vec::new();
    let mut count = Vec::new();
    for (method, status, n, ms) in w.api() {
        let status = status.to_string();
        let labels = [("node", node), ("result", status.as_str()), ("method", method.as_str())];
        sum.push(Sample::new(&labels, ms as f64));
        count.push(Sample::new(&labels, n as f64));
    }
    let metrics = vec![
        Metric::new(
            "web_uptime",
            Kind::Gauge,
            "Number of seconds since web server has started",
            vec![Sample::new(&[("node", node)], w.uptime_secs() as f64)],
        ),
        Metric::new(
            "web_handled_requests",
            Kind::Counter,
            "Number of requests handled",
            vec![Sample::new(&[("node", node)], w.handled() as f64)],
        ),
        Metric::new(
            "web_requests",
            Kind::Gauge,
            "Number of ongoing requests",
            vec![Sample::new(&[("node", node), ("state", "handle-request")], state.in_flight.get() as f64)],
        ),
        Metric::new("api_requests_duration_ms_sum", Kind::Counter, "Total number of durations of API requests", sum),
        Metric::new("api_requests_duration_ms_count", Kind::Counter, "Total number of API requests", count),
    ];
    answer(&state, &f, &["metrics"], &metrics)
}

/// `/v1/stats/app`: the callback queue and deliveries.
async fn app(State(state): State<AppState>, Query(f): Query<Format>) -> Result<Response, ApiError> {
    let (depth, _) = state.store.callback_backlog().await.map_err(WaError::from)?;
    let m = &state.webhooks;
    let mut requests = Vec::new();
    let mut durations_sum = Vec::new();
    for ((kind, result), (n, ms)) in m.requests_by_result() {
        let labels = [("result", result.as_str()), ("type", kind)];
        requests.push(Sample::new(&labels, n as f64));
        durations_sum.push(Sample::new(&labels, ms as f64));
    }
    let latency = m.latency();
    let metrics = vec![
        Metric::new(
            "callback_queue_size",
            Kind::Gauge,
            "Current callback queue size",
            vec![Sample::new(&[], depth as f64)],
        ),
        Metric::new(
            "callback_requests_duration_ms_count",
            Kind::Counter,
            "Total number of callback requests made",
            requests.clone(),
        ),
        Metric::new(
            "callback_requests_duration_ms_sum",
            Kind::Counter,
            "Total duration of callback requests",
            durations_sum,
        ),
        Metric::new("callback_requests", Kind::Counter, "Total number of callback requests made", requests),
        Metric::new(
            "callback_delivery_latency_ms",
            Kind::Histogram,
            "Time from storing a callback to its acknowledgement (wabiz)",
            vec![Sample {
                labels: vec![],
                value: 0.0,
                buckets: Some(Histogram { buckets: latency.buckets, count: latency.count, sum: latency.sum_ms as f64 }),
            }],
        ),
        Metric::new(
            "callbacks_delivered",
            Kind::Counter,
            "Callbacks acknowledged by the webhook (wabiz)",
            vec![Sample::new(&[], m.delivered.load(Ordering::Relaxed) as f64)],
        ),
        Metric::new(
            "callback_failed_attempts",
            Kind::Counter,
            "Callback attempts not acknowledged (wabiz)",
            vec![Sample::new(&[], m.failed_callbacks.load(Ordering::Relaxed) as f64)],
        ),
    ];
    answer(&state, &f, &["stats", "app"], &metrics)
}

/// `/v1/stats/app/internal`: the engine's working state.
async fn app_internal(State(state): State<AppState>, Query(f): Query<Format>) -> Result<Response, ApiError> {
    let m = &state.webhooks;
    let metrics = vec![
        Metric::new(
            "callbacks_held_in_memory",
            Kind::Gauge,
            "Callbacks this node holds for delivery",
            vec![Sample::new(&[], m.held.load(Ordering::Relaxed) as f64)],
        ),
        Metric::new(
            "callback_requests_in_flight",
            Kind::Gauge,
            "Webhook requests in flight",
            vec![Sample::new(&[], m.in_flight.load(Ordering::Relaxed) as f64)],
        ),
    ];
    answer(&state, &f, &["stats", "app", "internal"], &metrics)
}

/// `/v1/stats/db`: counted now (slow on large databases, as documented).
async fn db(State(state): State<AppState>, Query(f): Query<Format>) -> Result<Response, ApiError> {
    let c = state.store.db_counts().await.map_err(WaError::from)?;
    let messages: Vec<Sample> =
        c.messages.iter().map(|(t, n)| Sample::new(&[("type", t.as_str())], *n as f64)).collect();
    let metrics = vec![
        Metric::new(
            "db_contacts",
            Kind::Gauge,
            "Current number of contacts in DB",
            vec![
                Sample::new(&[("type", "whatsapp_user")], c.whatsapp_contacts as f64),
                Sample::new(&[("type", "non_whatsapp_user")], c.other_contacts as f64),
            ],
        ),
        Metric::new(
            "db_message_receipts",
            Kind::Gauge,
            "Current number of message receipts in DB",
            vec![Sample::new(&[], c.receipts as f64)],
        ),
        Metric::new("db_messages", Kind::Gauge, "Current number of messages in DB", messages),
        Metric::new(
            "db_pending_callbacks",
            Kind::Gauge,
            "Current number of pending callbacks in DB",
            vec![Sample::new(&[], c.pending_callbacks as f64)],
        ),
        Metric::new(
            "db_pending_messages",
            Kind::Gauge,
            "Current number of pending messages in DB",
            vec![Sample::new(&[], c.pending_messages as f64)],
        ),
    ];
    answer(&state, &f, &["stats", "db"], &metrics)
}

/// `/v1/stats/db/internal`: the storage engine.
async fn db_internal(State(state): State<AppState>, Query(f): Query<Format>) -> Result<Response, ApiError> {
    let engine = state.store.engine();
    let metrics = vec![Metric::new(
        "db_engine",
        Kind::Gauge,
        "The storage engine (1 for the one in use)",
        vec![Sample::new(&[("engine", engine)], 1.0)],
    )];
    answer(&state, &f, &["stats", "db", "internal"], &metrics)
}
