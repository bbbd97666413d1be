//! wabiz's own routes, described: liveness, the metrics and stats, support,
//! the callback queue, the documentation and the public picture links.

use serde_json::{Map, Value, json};

use super::parts::{envelope, meta_example, object};
use super::{Answer, Described};

/// `GET /`: 200 and `meta`, without credentials.
pub fn root() -> Described {
    Described::meta_only(200)
}

/// `GET /ready`: ready (200) or not (503), with the reasons.
pub fn ready() -> Described {
    let schema = envelope(&[
        ("ready", json!({"type": "boolean"})),
        (
            "gateway_status",
            json!({"type": "string", "enum": ["connected", "connecting", "disconnected", "uninitialized", "unregistered"]}),
        ),
        ("reasons", json!({"type": "array", "items": {"type": "string"}})),
    ]);
    Described::answers(
        200,
        schema.clone(),
        json!({"ready": true, "gateway_status": "connected", "reasons": [], "meta": meta_example()}),
    )
    .or(
        503,
        schema,
        json!({"ready": false, "gateway_status": "unregistered", "reasons": ["the network is unregistered"], "meta": meta_example()}),
    )
}

// ---- metrics and stats (`health-stats.md` §3–§5) ----

/// One metric: its name, type and the labels each of its samples carries
/// (none: the sample has no `labels`).
struct Spec {
    name: &'static str,
    kind: &'static str,
    labels: &'static [&'static str],
}

const fn spec(name: &'static str, kind: &'static str, labels: &'static [&'static str]) -> Spec {
    Spec { name, kind, labels }
}

/// `/metrics`: the web server, every sample labelled with the node.
const WEB: &[Spec] = &[
    spec("api_requests_duration_ms_count", "counter", &["method", "node", "result"]),
    spec("api_requests_duration_ms_sum", "counter", &["method", "node", "result"]),
    spec("web_connections", "counter", &["node"]),
    spec("web_handled_requests", "counter", &["node"]),
    spec("web_out_kbytes", "counter", &["node"]),
    spec("web_requests", "gauge", &["node", "state"]),
    spec("web_uptime", "gauge", &["node"]),
];

/// `/v1/stats/app`.
const APP: &[Spec] = &[
    spec("callback_delivery_latency_ms", "histogram", &[]),
    spec("callback_failed_attempts", "counter", &[]),
    spec("callback_queue_size", "gauge", &[]),
    spec("callback_requests", "counter", &["result", "type"]),
    spec("callback_requests_duration_ms_count", "counter", &["result", "type"]),
    spec("callback_requests_duration_ms_sum", "counter", &["result", "type"]),
    spec("callbacks_delivered", "counter", &[]),
    spec("endpoint_requests", "counter", &["method", "result"]),
    spec("endpoint_requests_duration_ms_count", "counter", &["method", "result"]),
    spec("endpoint_requests_duration_ms_sum", "counter", &["method", "result"]),
    spec("out_message_delivered", "counter", &[]),
    spec("out_message_failed", "counter", &[]),
    spec("out_message_read", "counter", &[]),
    spec("out_message_sent", "counter", &[]),
];

/// `/metrics` in relay mode (`--network cloud`) only.
const WEB_RELAY: &[Spec] = &[
    spec("relay_media_uploads", "counter", &["node"]),
    spec("relay_queue_size", "gauge", &["node"]),
    spec("relay_requests", "counter", &["node", "result"]),
    spec("relay_webhook_events", "counter", &["node", "result"]),
];

/// `/v1/stats/app` in relay mode (`--network cloud`) only.
const APP_RELAY: &[Spec] = &[
    spec("relay_media_uploads", "counter", &[]),
    spec("relay_queue_size", "gauge", &[]),
    spec("relay_requests", "counter", &["result"]),
    spec("relay_webhook_events", "counter", &["result"]),
];

/// `/v1/stats/app/internal`.
const APP_INTERNAL: &[Spec] = &[
    spec("callback_requests_in_flight", "gauge", &[]),
    spec("callbacks_held_in_memory", "gauge", &[]),
    spec("gc_automatic_rounds", "counter", &[]),
];

/// `/v1/stats/db`.
const DB: &[Spec] = &[
    spec("db_contacts", "gauge", &["type"]),
    spec("db_message_receipts", "gauge", &[]),
    spec("db_messages", "gauge", &["type"]),
    spec("db_pending_callbacks", "gauge", &[]),
    spec("db_pending_messages", "gauge", &[]),
];

/// `/v1/stats/db/internal`.
const DB_INTERNAL: &[Spec] = &[spec("db_engine", "gauge", &["engine"])];

/// A sample of a metric with these labels: a value, or a histogram's
/// cumulative buckets (by upper bound, the last `+Inf`), count and sum.
fn sample(kind: &str, labels: &[&str]) -> Value {
    let mut s = if kind == "histogram" {
        object(json!({
            "bucket": {"type": "object", "propertyNames": {"pattern": "^([0-9]+|\\+Inf)$"},
                       "additionalProperties": {"type": "integer", "minimum": 0}},
            "count": {"type": "integer", "minimum": 0},
            "sum": {"type": "number", "minimum": 0},
        }))
    } else {
        object(json!({"value": {"type": "number"}}))
    };
    if !labels.is_empty() {
        let names: Map<String, Value> = labels.iter().map(|l| ((*l).to_owned(), json!({"type": "string"}))).collect();
        s["properties"]["labels"] =
            json!({"type": "object", "required": labels, "properties": names, "additionalProperties": false});
        if let Some(required) = s["required"].as_array_mut() {
            required.push(json!("labels"));
        }
    }
    s["additionalProperties"] = json!(false);
    s
}

fn metric(s: &Spec) -> Value {
    object(json!({
        "type": {"const": s.kind},
        "help": {"type": "string", "minLength": 1},
        "data": {"type": "array", "items": sample(s.kind, s.labels)},
    }))
}

/// The metrics object of one node: exactly these metrics (`required`), or
/// any of them (what another node of a deployment published); `optional`
/// ones may be there too (the relay's).
fn metrics_and(specs: &[Spec], optional: &[Spec], required: bool) -> Value {
    let properties: Map<String, Value> = specs.iter().chain(optional).map(|s| (s.name.to_owned(), metric(s))).collect();
    let mut schema = json!({"type": "object", "properties": properties, "additionalProperties": false});
    if required {
        schema["required"] = json!(specs.iter().map(|s| s.name).collect::<Vec<_>>());
    }
    schema
}

/// A node's figures, or in a multiconnect deployment every node's, keyed by
/// node id (a node that does not answer is left out).
fn metrics_or_by_node(specs: &[Spec], by_node: &'static str) -> Value {
    metrics_or_by_node_and(specs, &[], by_node)
}

/// The same, where `optional` metrics may be there too.
fn metrics_or_by_node_and(specs: &[Spec], optional: &[Spec], by_node: &'static str) -> Value {
    json!({"oneOf": [
        metrics_and(specs, optional, true),
        {"type": "object", "description": by_node, "additionalProperties": metrics_and(specs, optional, false)},
    ]})
}

const APP_BY_NODE: &str = "Multiconnect: keyed by node id (`host:instance`), each node's own figures";
const DB_BY_NODE: &str = "Multiconnect: keyed by node id (`host:instance`); the figures sit under the primary master, the other nodes map to `{}`";

/// A metric object of an example.
fn m(kind: &str, help: &str, data: Value) -> Value {
    json!({"type": kind, "help": help, "data": data})
}

/// `?format=`, on every metrics and stats route.
fn with_format(d: Described) -> Described {
    d.query(
        "format",
        json!({"type": "string", "enum": ["json", "prometheus"], "default": "json"}),
        "`prometheus`: the same figures as Prometheus text (`text/plain; version=0.0.4`) instead of JSON",
    )
    .or_media_type("text/plain")
}

const NODE: &str = "wacore1:9dfe77618dba";

/// `GET /metrics`.
pub fn web_metrics() -> Described {
    let node = |extra: Value| {
        let mut labels = json!({"node": NODE});
        for (k, v) in extra.as_object().into_iter().flatten() {
            labels[k] = v.clone();
        }
        labels
    };
    let requests = |values: [i64; 2]| {
        json!([
            {"labels": node(json!({"method": "GET_v1_health", "result": "200"})), "value": values[0]},
            {"labels": node(json!({"method": "POST_v1_messages", "result": "201"})), "value": values[1]},
        ])
    };
    let example = json!({
        "api_requests_duration_ms_count": m("counter", "Total number of API requests", requests([120, 3412])),
        "api_requests_duration_ms_sum": m("counter", "Total number of durations of API requests", requests([96, 10238])),
        "web_connections": m("counter", "Number of connections accepted", json!([{"labels": node(json!({})), "value": 57}])),
        "web_handled_requests": m("counter", "Number of requests handled", json!([{"labels": node(json!({})), "value": 3532}])),
        "web_out_kbytes": m("counter", "Outgoing traffic in kB (response bodies)", json!([{"labels": node(json!({})), "value": 412}])),
        "web_requests": m("gauge", "Number of ongoing requests", json!([{"labels": node(json!({"state": "handle-request"})), "value": 1}])),
        "web_uptime": m("gauge", "Number of seconds since web server has started", json!([{"labels": node(json!({})), "value": 348842}])),
    });
    with_format(Described::answers(
        200,
        envelope(&[("metrics", metrics_and(WEB, WEB_RELAY, true))]),
        json!({"metrics": example, "meta": meta_example()}),
    ))
}

/// `GET /v1/stats/app`.
pub fn app_stats() -> Described {
    let single = |v: i64| json!([{"value": v}]);
    let by_route = |v: [i64; 2]| {
        json!([
            {"labels": {"method": "GET_v1_health", "result": "ok"}, "value": v[0]},
            {"labels": {"method": "POST_v1_messages", "result": "ok"}, "value": v[1]},
        ])
    };
    let callbacks = |v: [i64; 2]| {
        json!([
            {"labels": {"result": "success", "type": "status_change"}, "value": v[0]},
            {"labels": {"result": "500", "type": "status_change"}, "value": v[1]},
        ])
    };
    let latency = json!([{
        "bucket": {"10": 0, "50": 412, "100": 3190, "250": 3402, "500": 3409, "1000": 3410, "5000": 3412,
                   "30000": 3412, "300000": 3412, "3600000": 3412, "+Inf": 3412},
        "count": 3412, "sum": 221_780,
    }]);
    let example = json!({
        "callback_delivery_latency_ms": m("histogram", "Time from storing a callback to its acknowledgement (wabiz)", latency),
        "callback_failed_attempts": m("counter", "Callback attempts not acknowledged (wabiz)", single(3)),
        "callback_queue_size": m("gauge", "Current callback queue size", single(2)),
        "callback_requests": m("counter", "Total number of callback requests made", callbacks([3377, 3])),
        "callback_requests_duration_ms_count": m("counter", "Total number of callback requests made", callbacks([3377, 3])),
        "callback_requests_duration_ms_sum": m("counter", "Total duration of callback requests", callbacks([101_310, 27])),
        "callbacks_delivered": m("counter", "Callbacks acknowledged by the webhook (wabiz)", single(3412)),
        "endpoint_requests": m("counter", "Total number of endpoint requests", by_route([120, 3412])),
        "endpoint_requests_duration_ms_count": m("counter", "Total number of endpoint requests", by_route([120, 3412])),
        "endpoint_requests_duration_ms_sum": m("counter", "Total duration of endpoint requests in ms", by_route([96, 10238])),
        "out_message_delivered": m("counter", "Outgoing messages delivered", single(3398)),
        "out_message_failed": m("counter", "Outgoing messages failed", single(14)),
        "out_message_read": m("counter", "Outgoing messages read", single(2710)),
        "out_message_sent": m("counter", "Outgoing messages sent", single(3410)),
    });
    with_format(Described::answers(
        200,
        envelope(&[("stats", object(json!({"app": metrics_or_by_node_and(APP, APP_RELAY, APP_BY_NODE)})))]),
        json!({"stats": {"app": example}, "meta": meta_example()}),
    ))
}

/// `GET /v1/stats/app/internal`.
pub fn app_internal_stats() -> Described {
    let example = json!({
        "callback_requests_in_flight": m("gauge", "Webhook requests in flight", json!([{"value": 1}])),
        "callbacks_held_in_memory": m("gauge", "Callbacks this node holds for delivery", json!([{"value": 2}])),
        "gc_automatic_rounds": m(
            "counter",
            "Rounds of automatic garbage collection this node ran (only the primary master in a deployment)",
            json!([{"value": 4}]),
        ),
    });
    let internal = object(json!({"internal": metrics_or_by_node(APP_INTERNAL, APP_BY_NODE)}));
    with_format(Described::answers(
        200,
        envelope(&[("stats", object(json!({"app": internal})))]),
        json!({"stats": {"app": {"internal": example}}, "meta": meta_example()}),
    ))
}

/// `GET /v1/stats/db`.
pub fn db_stats() -> Described {
    let example = json!({
        "db_contacts": m("gauge", "Current number of contacts in DB", json!([
            {"labels": {"type": "whatsapp_user"}, "value": 4}, {"labels": {"type": "non_whatsapp_user"}, "value": 1},
        ])),
        "db_message_receipts": m("gauge", "Current number of message receipts in DB", json!([{"value": 9}])),
        "db_messages": m("gauge", "Current number of messages in DB", json!([
            {"labels": {"type": "image"}, "value": 2}, {"labels": {"type": "text"}, "value": 5},
        ])),
        "db_pending_callbacks": m("gauge", "Current number of pending callbacks in DB", json!([{"value": 2}])),
        "db_pending_messages": m("gauge", "Current number of pending messages in DB", json!([{"value": 0}])),
    });
    let mut schema = metrics_or_by_node(DB, DB_BY_NODE);
    // The two labels with a fixed set of values.
    let single = &mut schema["oneOf"][0]["properties"];
    single["db_contacts"]["properties"]["data"]["items"]["properties"]["labels"]["properties"]["type"] =
        json!({"type": "string", "enum": ["whatsapp_user", "non_whatsapp_user"]});
    with_format(Described::answers(
        200,
        envelope(&[("stats", object(json!({"db": schema})))]),
        json!({"stats": {"db": example}, "meta": meta_example()}),
    ))
}

/// `GET /v1/stats/db/internal`.
pub fn db_internal_stats() -> Described {
    let example = json!({
        "db_engine": m("gauge", "The storage engine (1 for the one in use)", json!([{"labels": {"engine": "sqlite"}, "value": 1}])),
    });
    let mut schema = metrics_or_by_node(DB_INTERNAL, DB_BY_NODE);
    schema["oneOf"][0]["properties"]["db_engine"]["properties"]["data"]["items"]["properties"]["labels"]["properties"]
        ["engine"] = json!({"type": "string", "enum": ["sqlite", "postgres"]});
    let internal = object(json!({"internal": schema}));
    with_format(Described::answers(
        200,
        envelope(&[("stats", object(json!({"db": internal})))]),
        json!({"stats": {"db": {"internal": example}}, "meta": meta_example()}),
    ))
}

// ---- support (`health-stats.md` §6) ----

/// One node's support document.
fn support_document() -> Value {
    let bytes = json!({"type": "integer", "minimum": 0, "description": "bytes free"});
    let mut doc = object(json!({
        "context": {"const": "healthcheck"},
        "db_engine": {"type": "string", "enum": ["SQLITE", "POSTGRESQL"]},
        "db_info": {"type": "array", "minItems": 1, "items": {"type": "string"}},
        "debug_info": {"type": "string", "pattern": "^([0-9]+|unregistered)$",
                       "description": "the registered business number, or `unregistered`"},
        "description": {"type": "string"},
        "device_iso8601": {"type": "string", "format": "date-time"},
        "env": {"type": "array", "items": {"type": "string", "pattern": "^[A-Z_]+="},
                "description": "`NAME=value` of the non-secret variables set (a fixed whitelist), sorted"},
        "expire_timestamp": {"type": "string"},
        "free_space_data": bytes,
        "free_space_logs": bytes,
        "free_space_media_incoming": bytes,
        "free_space_media_outgoing": bytes,
        "lc": {"type": "string", "pattern": "^[a-z]{2,3}$"},
        "lg": {"type": "string", "pattern": "^[A-Z]{2}$"},
        "multi_connect": {"type": "boolean"},
        "os_name": {"type": "string"},
        "os_version": {"type": "string"},
        "schema": object(json!({"wabiz": {"type": "integer", "minimum": 0}})),
        "socket_conn": {"type": "string", "enum": ["UP", "SC", "DN", "UNK"]},
    }));
    doc["additionalProperties"] = json!(false);
    doc
}

/// A node of a deployment that did not answer: its error.
fn unreachable_node() -> Value {
    let error =
        object(json!({"code": {"type": "integer"}, "title": {"type": "string"}, "details": {"type": "string"}}));
    object(json!({"errors": {"type": "array", "minItems": 1, "items": error}}))
}

/// `GET /v1/support`.
pub fn support() -> Described {
    let mut node = support_document();
    node["properties"]["role"] = json!({"type": "string", "enum": ["primary_master", "secondary_master", "coreapp"]});
    node["properties"]["shards"] = json!({"type": "array", "items": {"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 2}});
    node["properties"]["multi_connect"] = json!({"const": true});
    if let Some(required) = node["required"].as_array_mut() {
        required.extend([json!("role"), json!("shards")]);
    }
    let schema = json!({"oneOf": [
        support_document(),
        {"type": "object", "description": "Multiconnect: keyed by node id, each node's document with `role` and `shards`, or its error",
         "additionalProperties": {"oneOf": [node, unreachable_node()]}},
    ]});
    let example = json!({
        "context": "healthcheck",
        "db_engine": "SQLITE",
        "db_info": ["SQLite 3.54.1 (rusqlite, bundled)"],
        "debug_info": "16315550100",
        "description": "wabiz 0.1.0 (On-Premises API v2.53.1)",
        "device_iso8601": "2026-12-06T10:00:00Z",
        "env": ["TZ=UTC", "WABIZ_LISTEN=0.0.0.0:443"],
        "expire_timestamp": "9999-12-31T00:00:00",
        "free_space_data": 80_773_582_848i64,
        "free_space_logs": 80_773_582_848i64,
        "free_space_media_incoming": 80_773_582_848i64,
        "free_space_media_outgoing": 80_773_582_848i64,
        "lc": "en",
        "lg": "US",
        "multi_connect": false,
        "os_name": "debian-x86_64",
        "os_version": "12",
        "schema": {"wabiz": 23},
        "socket_conn": "UP",
    });
    Described::answers(200, envelope(&[("support", schema)]), json!({"support": example, "meta": meta_example()}))
}

// ---- the callback queue (`/wabiz/callbacks`) ----

const KINDS: [&str; 5] = ["statuses", "messages", "errors", "services", "contacts"];

/// A callback still in the queue, with its delivery history.
fn pending_callback() -> Value {
    let mut c = object(json!({
        "seq": {"type": "integer", "minimum": 1},
        "state": {"const": "pending"},
        "kind": {"type": "string", "enum": KINDS},
        "peer": {"type": "string", "description": "the customer (or group) it is about; ordering is per peer"},
        "subject": {"type": ["string", "null"], "description": "the message it reports, if any"},
        "created_at": {"type": "integer", "description": "Unix ms"},
        "attempts": {"type": "integer", "minimum": 0, "description": "failed attempts so far"},
        "last_attempt_at": {"type": ["integer", "null"]},
        "last_result": {"type": ["string", "null"], "description": "`HTTP 500`, `timeout`, `connection failed: …`, `TLS failed: …`"},
        "next_attempt_at": {"type": "integer", "description": "Unix ms, not before"},
        "items": {"type": ["array", "null"], "items": {"type": "object"},
                  "description": "the items the webhook POST carries under `kind` (a message's status chain may be several)"},
    }));
    c["additionalProperties"] = json!(false);
    c
}

/// A callback acknowledged lately (kept in memory, the last few).
fn delivered_callback() -> Value {
    let mut c = object(json!({
        "seq": {"type": "integer", "minimum": 1},
        "state": {"const": "delivered"},
        "kind": {"type": "string", "enum": KINDS},
        "peer": {"type": "string", "description": "the customer (or group) it was about"},
        "subject": {"type": ["string", "null"]},
        "created_at": {"type": "integer"},
        "attempts": {"type": "integer", "minimum": 1, "description": "the successful one included"},
        "last_attempt_at": {"type": "integer", "description": "when it was acknowledged (Unix ms)"},
        "last_result": {"const": "HTTP 200"},
        "next_attempt_at": {"type": "null"},
        "items": {"type": ["array", "null"], "items": {"type": "object"}, "description": "what the POST carried under `kind`"},
    }));
    c["additionalProperties"] = json!(false);
    c
}

fn pending_example() -> Value {
    json!({"seq": 41, "state": "pending", "kind": "statuses", "peer": "16315551234", "subject": "gBGGFlA5FpafAgkOuJbRq54qwbM",
           "created_at": 1_795_262_224_000i64, "attempts": 3, "last_attempt_at": 1_795_262_233_000i64, "last_result": "HTTP 500",
           "next_attempt_at": 1_795_262_242_000i64,
           "items": [{"id": "gBGGFlA5FpafAgkOuJbRq54qwbM", "recipient_id": "16315551234", "status": "read", "timestamp": "1795262224"}]})
}

/// `GET /wabiz/callbacks`.
pub fn callback_queue() -> Described {
    let count = json!({"type": "integer", "minimum": 0});
    let queue = object(json!({
        "pending": count, "oldest_created_at": {"type": ["integer", "null"]},
        "held_in_memory": count, "requests_in_flight": count,
    }));
    let latency = object(json!({
        "buckets": {"type": "object", "propertyNames": {"pattern": "^([0-9]+|\\+Inf)$"}, "additionalProperties": count,
                    "description": "cumulative counts by upper bound (ms)"},
        "sum": count, "count": count,
    }));
    let delivery = object(json!({
        "delivered": count, "requests": count, "failed_requests": count, "failed_attempts": count, "latency_ms": latency,
    }));
    let callbacks = object(json!({
        "queue": queue,
        "delivery": delivery,
        "pending": {"type": "array", "items": pending_callback(), "description": "oldest first; page with `after` and `limit`"},
        "recently_delivered": {"type": "array", "maxItems": 20, "items": delivered_callback()},
    }));
    let buckets = json!({"10": 0, "50": 31, "100": 37, "250": 40, "500": 40, "1000": 40, "5000": 40, "30000": 40,
                         "300000": 40, "3600000": 40, "+Inf": 40});
    let example = json!({
        "queue": {"pending": 1, "oldest_created_at": 1_795_262_224_000i64, "held_in_memory": 1, "requests_in_flight": 0},
        "delivery": {"delivered": 40, "requests": 43, "failed_requests": 3, "failed_attempts": 3,
                     "latency_ms": {"buckets": buckets, "sum": 2290, "count": 40}},
        "pending": [pending_example()],
        "recently_delivered": [{"seq": 40, "state": "delivered", "kind": "messages", "peer": "16315551234",
                                "subject": "ABGGFlA5FpafAgo6tHcNmNjXmuSf",
                                "created_at": 1_795_262_221_000i64, "attempts": 1, "last_attempt_at": 1_795_262_221_042i64,
                                "last_result": "HTTP 200", "next_attempt_at": null,
                                "items": [{"from": "16315551234", "id": "ABGGFlA5FpafAgo6tHcNmNjXmuSf", "text": {"body": "Hi"},
                                           "timestamp": "1795262221", "type": "text"}]}],
    });
    Described::answers(
        200,
        envelope(&[("callbacks", callbacks)]),
        json!({"callbacks": example, "meta": meta_example()}),
    )
    .query(
        "after",
        json!({"type": "integer", "minimum": i64::MIN, "maximum": i64::MAX, "default": 0}),
        "Pending callbacks after this `seq` only (below 1: from the first)",
    )
    .query(
        "limit",
        json!({"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}),
        "How many pending callbacks to list",
    )
}

/// `GET /wabiz/callbacks/{seq}`.
pub fn callback() -> Described {
    Described::answers(
        200,
        envelope(&[("callback", json!({"oneOf": [pending_callback(), delivered_callback()]}))]),
        json!({"callback": pending_example(), "meta": meta_example()}),
    )
    .at("seq", "41")
}

/// `POST /wabiz/callbacks/{seq}/retry`: the callback, now due (`null` if
/// the engine delivered it before the answer was written).
pub fn retry_callback() -> Described {
    let mut example = pending_example();
    example["next_attempt_at"] = example["last_attempt_at"].clone();
    Described::answers(
        202,
        envelope(&[("callback", json!({"oneOf": [pending_callback(), {"type": "null"}]}))]),
        json!({"callback": example, "meta": meta_example()}),
    )
    .at("seq", "41")
}

/// `POST /wabiz/webhook/test`.
pub fn test_callback() -> Described {
    let test = object(json!({
        "id": {"type": "string", "minLength": 1, "description": "the `test.id` the body carried"},
        "status": {"type": ["integer", "null"], "description": "the HTTP status the receiver answered; `null` without an answer"},
        "acknowledged": {"type": "boolean", "description": "whether a real callback would count as delivered (only a 200 does)"},
        "body": {"type": "string", "maxLength": 2048, "description": "the start of the receiver's answer"},
        "failure": {"type": ["string", "null"], "description": "why no answer came (connection, TLS, timeout), or why nothing was sent (no URL; `http://` without `--allow-http-webhooks`)"},
        "took_ms": {"type": "integer", "minimum": 0},
    }));
    Described::answers(
        200,
        envelope(&[("test", test)]),
        json!({"test": {"id": "gBGGFlA5FpafAgkOuJbRq54qwbM", "status": 200, "acknowledged": true, "body": "ok",
                        "failure": null, "took_ms": 12}, "meta": meta_example()}),
    )
}

// ---- documentation and public links ----

/// `GET /openapi.json`.
pub fn openapi() -> Described {
    let schema = json!({
        "type": "object",
        "required": ["openapi", "info", "paths", "components"],
        "properties": {
            "openapi": {"type": "string", "pattern": "^3\\.1\\."},
            "info": object(json!({"title": {"type": "string"}, "version": {"type": "string"}})),
            "paths": {"type": "object", "propertyNames": {"pattern": "^/"},
                      "additionalProperties": {"type": "object", "minProperties": 1}},
            "components": {"type": "object", "required": ["schemas", "securitySchemes"]},
            "tags": {"type": "array", "items": object(json!({"name": {"type": "string"}}))},
        },
    });
    let example = json!({
        "openapi": "3.1.0",
        "info": {"title": "wabiz: WhatsApp Business On-Premises API", "version": "0.1.0"},
        "paths": {"/": {"get": {"summary": "Liveness: 200 without credentials", "operationId": "get_root",
                                "responses": {"200": {"description": "Success: `meta` and the payload"}}}}},
        "components": {"schemas": {}, "securitySchemes": {}},
        "tags": [{"name": "Health and stats"}],
    });
    Described::answers(200, schema, example)
}

/// `GET /docs`: to the Swagger UI page.
pub fn docs() -> Described {
    Described::with(303, Answer::Redirect("/docs/index.html"))
}

/// `GET /docs/{file}`: Swagger UI's page, scripts and styles.
pub fn docs_file() -> Described {
    Described::with(200, Answer::Bytes("*/*")).at("file", "index.html")
}

/// `GET /pps/{file}`: the profile photo, while the link is current.
pub fn profile_photo() -> Described {
    Described::with(200, Answer::Bytes("image/jpeg"))
        .at("file", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08.jpg")
}

/// `GET /pps/groups/{id}/{file}`: a group's icon, while the link is current.
pub fn group_icon() -> Described {
    Described::with(200, Answer::Bytes("image/*"))
        .at("id", "16315550100-1796551200")
        .at("file", "3a6eb0790f39ac87c94f3856b2dd2c5d110e6811602261a9a923d3bb23adc8b7.jpg")
}

// ---- the Cloud relay's webhook (`--network cloud`) ----

/// `GET /relay/webhook`: the challenge echoed as plain text (403 when the
/// verify token does not match).
pub fn relay_handshake() -> Described {
    Described::with(200, Answer::Bytes("text/plain"))
        .needs_query("hub.mode", json!({"type": "string", "enum": ["subscribe"]}), "Always `subscribe`")
        .needs_query(
            "hub.verify_token",
            json!({"type": "string"}),
            "The verify token given to Meta (`--relay-verify-token`)",
        )
        .needs_query("hub.challenge", json!({"type": "string"}), "What the answer must echo")
}

/// `POST /relay/webhook`: a Cloud webhook, signed in `X-Hub-Signature-256`
/// (401 without a matching signature).
pub fn relay_events() -> Described {
    Described::meta_only(200).takes(
        json!({"type": "object", "required": ["object", "entry"],
               "properties": {"object": {"type": "string"}, "entry": {"type": "array", "items": {"type": "object"}}}}),
        json!({"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": [{"field": "messages",
               "value": {"messaging_product": "whatsapp", "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
                         "statuses": [{"id": "wamid.HBgLMTYzMTU1NTEyMzQVAgARGBI", "status": "delivered", "timestamp": "1700000001", "recipient_id": "16315551234"}]}}]}]}),
    )
}
