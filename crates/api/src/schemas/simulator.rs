//! The simulator's control API, described (issue 20's routes first).

use serde_json::{Value, json};

use super::Described;
use super::parts::{envelope, meta_example, object, one, share};

/// A delay: a number, `[min, max]`, or a named distribution.
fn delay() -> Value {
    json!({"oneOf": [
        {"type": "integer", "minimum": 0},
        {"type": "array", "items": {"type": "integer", "minimum": 0}, "minItems": 2, "maxItems": 2},
        {"type": "object", "required": ["distribution"], "properties": {
            "distribution": {"type": "string", "enum": ["fixed", "uniform", "exponential", "normal"]},
            "ms": {"type": "integer"}, "min": {"type": "integer"}, "max": {"type": "integer"},
            "mean": {"type": "integer"}, "stddev": {"type": "integer"},
        }},
    ]})
}

/// The chaos settings, as `PUT` takes them.
fn chaos_settings() -> Value {
    json!({
        "type": "object",
        "properties": {
            "seed": {"type": "integer", "minimum": 0},
            "delays": {"type": "object", "properties": {"sent": delay(), "delivered": delay(), "read": delay()}},
            "never_read": share(),
            "failures": {"type": "array", "items": {"type": "object", "required": ["code"], "properties": {
                "rate": share(),
                "code": {"type": "integer", "enum": [400, 402, 408, 410, 429, 470, 471, 472, 480, 500, 501, 1000, 1013, 1026]},
                "step": {"type": "string", "enum": ["accepted", "sent"]},
            }}},
            "webhooks": {"type": "object", "properties": {
                "duplicate": share(), "out_of_order": share(), "out_of_order_ms": delay(),
            }},
            "outage": {"type": "boolean"},
        },
    })
}

/// The chaos settings as `GET` shows them: every field, the forced outcomes, the count.
fn chaos_shown() -> Value {
    let mut s = chaos_settings();
    s["required"] = json!(["seed", "delays", "never_read", "failures", "webhooks", "outage", "next", "planned"]);
    s["properties"]["next"] = json!({"type": "array", "items": {"type": "object", "required": ["outcome", "count"]}});
    s["properties"]["planned"] = json!({"type": "integer", "minimum": 0});
    s
}

fn chaos_example() -> Value {
    json!({"seed": 42, "delays": {"delivered": [500, 3000]}, "never_read": 0.3,
           "failures": [{"rate": 0.05, "code": 470, "step": "accepted"}],
           "webhooks": {"duplicate": 0.1, "out_of_order": 0.0, "out_of_order_ms": [1000, 3000]},
           "outage": false, "next": [], "planned": 0})
}

/// `GET /simulator/chaos`.
pub fn show_chaos() -> Described {
    Described::answers(
        200,
        envelope(&[("chaos", chaos_shown())]),
        json!({"chaos": chaos_example(), "meta": meta_example()}),
    )
}

/// `PUT /simulator/chaos`.
pub fn replace_chaos() -> Described {
    show_chaos().takes(
        chaos_settings(),
        json!({"seed": 42, "delays": {"delivered": [500, 3000]}, "never_read": 0.3, "failures": [{"rate": 0.05, "code": 470}]}),
    )
}

/// `POST /simulator/chaos/next`.
pub fn force_outcomes() -> Described {
    Described::answers(
        200,
        envelope(&[("waiting", json!({"type": "integer", "minimum": 1}))]),
        json!({"waiting": 2, "meta": meta_example()}),
    )
    .takes(
        json!({
            "type": "object",
            "required": ["outcome"],
            "properties": {
                "count": {"type": "integer", "minimum": 1, "maximum": 100_000},
                "outcome": {"type": "string", "enum": ["read", "delivered", "sent", "failed"]},
                "code": {"type": "integer", "description": "with `failed` only"},
                "step": {"type": "string", "enum": ["accepted", "sent"]},
            },
        }),
        json!({"count": 2, "outcome": "failed", "code": 1026}),
    )
}

/// A traffic run as the API shows it.
fn traffic_run() -> Value {
    object(json!({
        "id": {"type": "string", "pattern": "^[0-9a-f]{8}$"},
        "state": {"type": "string", "enum": ["running", "stopped", "finished"]},
        "spec": {"type": "object"},
        "created_at": {"type": "integer"},
        "ended_at": {"type": ["integer", "null"]},
        "generated": {"type": "integer", "minimum": 0},
        "delivered": {"type": ["integer", "null"]},
        "pending_callbacks": {"type": "integer", "minimum": 0},
        "rate_achieved": {"type": "number", "minimum": 0},
    }))
}

/// `POST /simulator/traffic`.
pub fn start_traffic() -> Described {
    Described::answers(
        201,
        envelope(&[("traffic", one(traffic_run()))]),
        json!({"traffic": [{"id": "9f2c41d0", "state": "running", "spec": {"rate": 20.0, "count": 100, "duration_s": null, "customers": 10, "types": {"text": 1.0}, "seed": 0},
                            "created_at": 1796554486437i64, "ended_at": null, "generated": 0, "delivered": null, "pending_callbacks": 0, "rate_achieved": 0.0}],
               "meta": meta_example()}),
    )
    .takes(
        json!({
            "type": "object",
            "required": ["rate"],
            "properties": {
                "rate": {"type": "number", "exclusiveMinimum": 0, "maximum": 1000},
                "count": {"type": "integer", "minimum": 1},
                "duration_s": {"type": "integer", "minimum": 1},
                "customers": {"type": "integer", "minimum": 1, "maximum": 10_000},
                "types": {"type": "object", "additionalProperties": {"type": "number", "minimum": 0}},
                "seed": {"type": "integer", "minimum": 0},
            },
        }),
        json!({"rate": 20, "count": 5, "customers": 3, "types": {"text": 8, "location": 1}, "seed": 7}),
    )
}

/// `GET /simulator/traffic`.
pub fn list_traffic() -> Described {
    Described::answers(
        200,
        envelope(&[("traffic", json!({"type": "array", "items": traffic_run()}))]),
        json!({"traffic": [], "meta": meta_example()}),
    )
}

/// `POST /simulator/events/token`.
pub fn stream_token() -> Described {
    let token =
        object(json!({"token": {"type": "string", "pattern": "^[0-9a-f]{48}$"}, "expires_at": {"type": "integer"}}));
    Described::answers(
        201,
        envelope(&[("stream_token", token)]),
        json!({"stream_token": {"token": "3f9a0c41d07be2a95c11f0d8e4b7a6c2d9e0f1a2b3c4d5e6", "expires_at": 1796554786437i64}, "meta": meta_example()}),
    )
    .takes(json!({"type": "object"}), json!({}))
}

/// `GET /simulator/registration`.
pub fn registration() -> Described {
    let pending = json!({"type": ["object", "null"], "properties": {
        "number": {"type": "string"}, "method": {"type": "string", "enum": ["sms", "voice"]}, "code": {"type": "string"},
        "attempts_left": {"type": "integer"}, "expires_at": {"type": "integer"},
    }});
    let registration = json!({"type": "object", "required": ["gateway_status", "pending"], "properties": {
        "wa_id": {"type": ["string", "null"]}, "gateway_status": {"type": "string"}, "pending": pending,
    }});
    Described::answers(
        200,
        envelope(&[("registration", registration)]),
        json!({"registration": {"wa_id": "16315550100", "gateway_status": "connected", "pending": null}, "meta": meta_example()}),
    )
}

/// `POST /simulator/inbound`.
pub fn inbound() -> Described {
    Described::answers(
        201,
        envelope(&[("messages", one(object(json!({"id": {"type": "string", "minLength": 1}}))))]),
        json!({"messages": [{"id": "ABGGFlA5FpafAgo6tHcNmNjXmuSf"}], "meta": meta_example()}),
    )
    .takes(
        json!({
            "type": "object",
            "required": ["from", "type"],
            "properties": {
                "from": {"type": "string"},
                "type": {"type": "string", "enum": ["text", "image", "document", "audio", "voice", "video", "sticker", "location", "contacts", "button", "interactive"]},
                "profile": {"type": "object", "properties": {"name": {"type": "string"}}},
                "group_id": {"type": "string"},
                "context": {"type": "object", "properties": {"id": {"type": "string"}}},
            },
        }),
        json!({"from": "16315551234", "type": "text", "text": {"body": "Hi!"}, "profile": {"name": "Kerry Fisher"}}),
    )
}

/// A template of the registry.
fn template() -> Value {
    json!({
        "type": "object",
        "required": ["namespace", "name", "language", "components", "category", "status"],
        "properties": {
            "namespace": {"type": "string"}, "name": {"type": "string"}, "language": {"type": "string"},
            "components": {"type": "array", "items": {"type": "object", "required": ["type"]}},
            "category": {"type": "string", "enum": ["MARKETING", "UTILITY", "AUTHENTICATION"]},
            "status": {"type": "string", "enum": ["APPROVED", "PENDING", "REJECTED", "PAUSED", "DISABLED"]},
            "reason": {"type": ["string", "null"]},
        },
    })
}

fn template_example() -> Value {
    json!({"namespace": "business_a_namespace", "name": "order_update", "language": "en_US",
           "components": [{"type": "BODY", "text": "Hi {{1}}, your order ships {{2}}."}],
           "category": "UTILITY", "status": "APPROVED", "reason": null})
}

/// `GET /simulator/templates`.
pub fn list_templates() -> Described {
    Described::answers(
        200,
        envelope(&[("templates", json!({"type": "array", "items": template()}))]),
        json!({"templates": [template_example()], "meta": meta_example()}),
    )
}

/// `POST /simulator/templates`.
pub fn add_template() -> Described {
    Described::answers(
        201,
        envelope(&[("templates", json!({"type": "array", "items": template()}))]),
        json!({"templates": [template_example()], "meta": meta_example()}),
    )
    .takes(
        json!({"type": "object", "required": ["namespace", "name", "language", "components"], "properties": {
            "namespace": {"type": "string"}, "name": {"type": "string"}, "language": {"type": "string"},
            "components": {"type": "array", "items": {"type": "object", "required": ["type"]}},
            "category": {"type": "string", "enum": ["MARKETING", "UTILITY", "AUTHENTICATION"]},
            "status": {"type": "string", "enum": ["APPROVED", "PENDING", "REJECTED", "PAUSED", "DISABLED"]},
        }}),
        json!({"namespace": "business_a_namespace", "name": "order_update", "language": "en_US",
               "components": [{"type": "BODY", "text": "Hi {{1}}, your order ships {{2}}."}]}),
    )
}

/// `POST /simulator/errors`.
pub fn inject_error() -> Described {
    Described::answers(200, super::parts::meta_only(), json!({"meta": meta_example()})).takes(
        json!({"type": "object", "required": ["code"], "properties": {"code": {"type": "integer"}, "details": {"type": "string"}}}),
        json!({"code": 1014, "details": "Internal error, try again"}),
    )
}
