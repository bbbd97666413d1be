//! `GET /metrics`, `/v1/stats/app`, `/v1/stats/db` and their `internal`
//! variants (`health-stats.md` §3–§5): JSON by default, Prometheus text with
//! `?format=prometheus`.
//!
//! In a multiconnect deployment the stats are keyed by node (§4.1): this
//! node's own figures are read now, the other nodes' as they last published
//! them with their heartbeat; a silent node is left out. The database stats
//! sit under the primary master, the other nodes map to `{}`.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

use crate::openapi::ApiRouter;
use crate::schemas::wabiz as schemas;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use wabiz_domain::WaError;
use wabiz_domain::messages::MessageStatus;

use crate::envelope::reply;
use crate::error::ApiError;
use crate::extract::FormatQuery;
use crate::metrics::{Histogram, Kind, Metric, Sample, to_json, to_json_by_node, to_prometheus, to_prometheus_by_node};
use crate::snapshot::{STATS_APP, STATS_APP_INTERNAL, published};
use crate::state::AppState;
use wabiz_domain::relay::RelayCounters;

pub fn routes() -> ApiRouter {
    ApiRouter::new()
        .get("/metrics", web, "Web server metrics (JSON, or Prometheus text with `?format=prometheus`)")
        .described(schemas::web_metrics())
        .get("/v1/stats/app", app, "Application stats (JSON or Prometheus text)")
        .described(schemas::app_stats())
        .get("/v1/stats/app/internal", app_internal, "Internal application stats")
        .described(schemas::app_internal_stats())
        .get("/v1/stats/db", db, "Database stats (JSON or Prometheus text)")
        .described(schemas::db_stats())
        .get("/v1/stats/db/internal", db_internal, "Internal database stats")
        .described(schemas::db_internal_stats())
}

/// One node's metrics, or every node's (multiconnect).
enum Figures {
    Single(Vec<Metric>),
    ByNode(Vec<(String, Vec<Metric>)>),
}

/// `{"<key>": {"<sub>": metrics}}` in the envelope, or Prometheus text.
fn answer(state: &AppState, format: &FormatQuery, path: &[&str], figures: Figures) -> Result<Response, ApiError> {
    match format.format.as_deref() {
        Some("prometheus") => {
            let text = match &figures {
                Figures::Single(metrics) => to_prometheus(metrics),
                Figures::ByNode(nodes) => to_prometheus_by_node(nodes),
            };
            Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text).into_response())
        }
        None | Some("json") => {
            let mut body = match &figures {
                Figures::Single(metrics) => to_json(metrics),
                Figures::ByNode(nodes) => to_json_by_node(nodes),
            };
            for key in path.iter().rev() {
                body = json!({ *key: body });
            }
            Ok(reply(StatusCode::OK, &state.meta, body))
        }
        Some(other) => Err(WaError::invalid_value("format", other).into()),
    }
}

/// Multiconnect: this node's `own` metrics and, for every other healthy
/// node, what it published under `part`; on a single node, `own` alone.
async fn per_node(state: &AppState, own: Vec<Metric>, part: &str) -> Result<Figures, WaError> {
    let Some(cluster) = &state.cluster else { return Ok(Figures::Single(own)) };
    let mut own = Some(own);
    let mut nodes = Vec::new();
    for m in cluster.members(unhealthy(state)).await? {
        if m.node_id == cluster.node_id() {
            nodes.push((m.node_id, own.take().unwrap_or_default()));
        } else if m.healthy {
            let metrics = published(&m.snapshot, part).and_then(|v| serde_json::from_value::<Vec<Metric>>(v).ok());
            if let Some(metrics) = metrics {
                nodes.push((m.node_id, metrics));
            }
        }
    }
    Ok(Figures::ByNode(nodes))
}

/// Multiconnect: the database figures under the primary master, `{}` for
/// the other healthy nodes (the database is shared, so this node counts).
async fn under_primary(state: &AppState, metrics: Vec<Metric>) -> Result<Figures, WaError> {
    let Some(cluster) = &state.cluster else { return Ok(Figures::Single(metrics)) };
    let mut metrics = Some(metrics);
    let mut nodes = Vec::new();
    for m in cluster.members(unhealthy(state)).await?.into_iter().filter(|m| m.healthy) {
        let figures = if m.role == "primary_master" { metrics.take().unwrap_or_default() } else { Vec::new() };
        nodes.push((m.node_id, figures));
    }
    Ok(Figures::ByNode(nodes))
}

fn unhealthy(state: &AppState) -> std::time::Duration {
    std::time::Duration::from_secs(state.settings.current().unhealthy_interval.max(1))
}

/// `/metrics`: the web server (the `node` label in every sample).
async fn web(State(state): State<AppState>, Query(f): Query<FormatQuery>) -> Result<Response, ApiError> {
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
        Metric::new(
            "web_connections",
            Kind::Counter,
            "Number of connections accepted",
            vec![Sample::new(&[("node", node)], w.connections() as f64)],
        ),
        Metric::new(
            "web_out_kbytes",
            Kind::Counter,
            "Outgoing traffic in kB (response bodies)",
            vec![Sample::new(&[("node", node)], w.out_kbytes() as f64)],
        ),
        Metric::new("api_requests_duration_ms_sum", Kind::Counter, "Total number of durations of API requests", sum),
        Metric::new("api_requests_duration_ms_count", Kind::Counter, "Total number of API requests", count),
    ];
    let mut metrics = metrics;
    if let Some(relay) = &state.relay_counters {
        metrics.extend(relay_metrics(relay, Some(node)));
    }
    answer(&state, &f, &["metrics"], Figures::Single(metrics))
}

/// `/v1/stats/app`: the callback queue and deliveries.
async fn app(State(state): State<AppState>, Query(f): Query<FormatQuery>) -> Result<Response, ApiError> {
    let own = app_metrics(&state).await?;
    answer(&state, &f, &["stats", "app"], per_node(&state, own, STATS_APP).await?)
}

/// This node's `stats/app` metrics. The callback queue is the database's
/// backlog on a single node; in a deployment it is what this node holds for
/// delivery, so that the nodes' figures add up.
pub async fn app_metrics(state: &AppState) -> Result<Vec<Metric>, WaError> {
    let depth = match &state.cluster {
        None => state.store.callback_backlog().await?.0,
        Some(_) => state.webhooks.held.load(Ordering::Relaxed),
    };
    let m = &state.webhooks;
    let mut requests = Vec::new();
    let mut durations_sum = Vec::new();
    for ((kind, result), (n, ms)) in m.requests_by_result() {
        let labels = [("result", result.as_str()), ("type", kind)];
        requests.push(Sample::new(&labels, n as f64));
        durations_sum.push(Sample::new(&labels, ms as f64));
    }
    let latency = m.latency();
    // Endpoint requests by route and result (`ok`, or the HTTP status of a refusal).
    let mut endpoint: BTreeMap<(String, String), (u64, u64)> = BTreeMap::new();
    for (method, status, n, ms) in state.web.api() {
        let result = if status < 400 { "ok".to_owned() } else { status.to_string() };
        let e = endpoint.entry((method, result)).or_default();
        e.0 += n;
        e.1 += ms;
    }
    let (mut endpoint_count, mut endpoint_sum) = (Vec::new(), Vec::new());
    for ((method, result), (n, ms)) in &endpoint {
        let labels = [("method", method.as_str()), ("result", result.as_str())];
        endpoint_count.push(Sample::new(&labels, *n as f64));
        endpoint_sum.push(Sample::new(&labels, *ms as f64));
    }
    let out = state.out_messages.snapshot();
    let out_messages = |status: MessageStatus| {
        let n = out.iter().find(|(s, _)| *s == status).map_or(0, |(_, n)| *n);
        vec![Sample::new(&[], n as f64)]
    };
    let metrics = vec![
        Metric::new("endpoint_requests", Kind::Counter, "Total number of endpoint requests", endpoint_count.clone()),
        Metric::new(
            "endpoint_requests_duration_ms_count",
            Kind::Counter,
            "Total number of endpoint requests",
            endpoint_count,
        ),
        Metric::new(
            "endpoint_requests_duration_ms_sum",
            Kind::Counter,
            "Total duration of endpoint requests in ms",
            endpoint_sum,
        ),
        Metric::new("out_message_sent", Kind::Counter, "Outgoing messages sent", out_messages(MessageStatus::Sent)),
        Metric::new(
            "out_message_delivered",
            Kind::Counter,
            "Outgoing messages delivered",
            out_messages(MessageStatus::Delivered),
        ),
        Metric::new("out_message_read", Kind::Counter, "Outgoing messages read", out_messages(MessageStatus::Read)),
        Metric::new(
            "out_message_failed",
            Kind::Counter,
            "Outgoing messages failed",
            out_messages(MessageStatus::Failed),
        ),
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
    let mut metrics = metrics;
    if let Some(relay) = &state.relay_counters {
        metrics.extend(relay_metrics(relay, None));
    }
    Ok(metrics)
}

/// The Cloud relay's figures (`--network cloud`), every sample labelled
/// with `node` when given (`/metrics`).
fn relay_metrics(relay: &RelayCounters, node: Option<&str>) -> Vec<Metric> {
    let labels = |more: &[(&'static str, &'static str)]| -> Vec<(&str, &str)> {
        node.map(|n| ("node", n)).into_iter().chain(more.iter().copied()).collect()
    };
    let by_result = |figures: [(&'static str, u64); 3]| -> Vec<Sample> {
        figures.iter().map(|(result, n)| Sample::new(&labels(&[("result", result)]), *n as f64)).collect()
    };
    let single = |value: f64| vec![Sample::new(&labels(&[]), value)];
    let queued = relay.queued.load(Ordering::Relaxed);
    vec![
        Metric::new(
            "relay_requests",
            Kind::Counter,
            "Sends the relay made to the Cloud API, by outcome: taken, retried (a rate limit, a server error, no answer) or refused",
            by_result(relay.requests()),
        ),
        Metric::new(
            "relay_media_uploads",
            Kind::Counter,
            "Media the relay uploaded to the Cloud API",
            single(relay.uploads.load(Ordering::Relaxed) as f64),
        ),
        Metric::new("relay_queue_size", Kind::Gauge, "Sends waiting for the Cloud API", single(queued as f64)),
        Metric::new(
            "relay_webhook_events",
            Kind::Counter,
            "Webhook POSTs from Meta: stored, or refused for a bad signature or a body that is not JSON",
            by_result(relay.webhooks()),
        ),
    ]
}

/// `/v1/stats/app/internal`: the engine's working state.
async fn app_internal(State(state): State<AppState>, Query(f): Query<FormatQuery>) -> Result<Response, ApiError> {
    let own = app_internal_metrics(&state);
    answer(&state, &f, &["stats", "app", "internal"], per_node(&state, own, STATS_APP_INTERNAL).await?)
}

/// This node's `stats/app/internal` metrics.
pub fn app_internal_metrics(state: &AppState) -> Vec<Metric> {
    let m = &state.webhooks;
    vec![
        Metric::new(
            "gc_automatic_rounds",
            Kind::Counter,
            "Rounds of automatic garbage collection this node ran (only the primary master in a deployment)",
            vec![Sample::new(&[], state.gc.automatic_rounds() as f64)],
        ),
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
    ]
}

/// `/v1/stats/db`: the latest snapshot of the counts (`db_stats.rs`).
async fn db(State(state): State<AppState>, Query(f): Query<FormatQuery>) -> Result<Response, ApiError> {
    let c = state.db_stats.counts().await.map_err(WaError::from)?;
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
    answer(&state, &f, &["stats", "db"], under_primary(&state, metrics).await?)
}

/// `/v1/stats/db/internal`: the storage engine.
async fn db_internal(State(state): State<AppState>, Query(f): Query<FormatQuery>) -> Result<Response, ApiError> {
    let engine = state.store.engine();
    let metrics = vec![Metric::new(
        "db_engine",
        Kind::Gauge,
        "The storage engine (1 for the one in use)",
        vec![Sample::new(&[("engine", engine)], 1.0)],
    )];
    answer(&state, &f, &["stats", "db", "internal"], under_primary(&state, metrics).await?)
}
