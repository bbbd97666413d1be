//! The On-Premises `/v1` operations described so far.

use serde_json::json;

use super::Described;
use super::parts::{envelope, meta_example, meta_only, object, one};

/// `POST /v1/users/login`.
pub fn login() -> Described {
    let user = object(json!({
        "token": {"type": "string", "minLength": 1},
        "expires_after": {"type": "string", "description": "`YYYY-MM-DD HH:MM:SS+00:00`, UTC"},
    }));
    Described::answers(
        200,
        envelope(&[("users", one(user))]),
        json!({"users": [{"token": "eyJhbGciOiAiSFMyNTYi…", "expires_after": "2026-12-13 10:00:00+00:00"}], "meta": meta_example()}),
    )
    .takes(
        json!({"type": "object", "properties": {"new_password": {"type": "string", "minLength": 8, "maxLength": 64}},
               "description": "Empty, or `new_password` to change the password (required while it is the factory one)"}),
        json!({}),
    )
}

/// `GET /v1/health` (a single node).
pub fn health() -> Described {
    let gateway =
        json!({"type": "string", "enum": ["connected", "connecting", "disconnected", "uninitialized", "unregistered"]});
    Described::answers(
        200,
        envelope(&[("health", object(json!({ "gateway_status": gateway })))]),
        json!({"health": {"gateway_status": "connected"}, "meta": meta_example()}),
    )
}

/// `POST /v1/contacts`.
pub fn contacts() -> Described {
    let contact = json!({
        "type": "object",
        "required": ["input", "status"],
        "properties": {
            "input": {"type": "string"},
            "status": {"type": "string", "enum": ["valid", "invalid", "processing"]},
            "wa_id": {"type": "string", "pattern": "^[0-9]{5,15}$"},
        },
    });
    Described::answers(
        200,
        envelope(&[("contacts", json!({"type": "array", "items": contact}))]),
        json!({"contacts": [{"input": "+1 631-555-1234", "status": "valid", "wa_id": "16315551234"}], "meta": meta_example()}),
    )
    .takes(
        json!({
            "type": "object",
            "required": ["contacts"],
            "properties": {
                "blocking": {"type": "string", "enum": ["wait", "no_wait"]},
                "contacts": {"type": "array", "minItems": 1, "items": {"type": "string"}},
                "force_check": {"type": "boolean"},
            },
        }),
        json!({"blocking": "wait", "contacts": ["+1 631-555-1234"]}),
    )
}

/// `PATCH /v1/settings/application`.
pub fn patch_application_settings() -> Described {
    Described::answers(200, meta_only(), json!({"meta": meta_example()})).takes(
        json!({
            "type": "object",
            "minProperties": 1,
            "properties": {
                "callback_persist": {"type": "boolean"},
                "sent_status": {"type": "boolean"},
                "pass_through": {"type": "boolean"},
                "callback_backoff_delay_ms": {"type": ["string", "integer"], "description": "milliseconds, as a string or a number"},
                "max_callback_backoff_delay_ms": {"type": ["string", "integer"]},
                "heartbeat_interval": {"type": "integer", "minimum": 1},
                "unhealthy_interval": {"type": "integer", "minimum": 1},
                "log_level": {"type": "string", "enum": ["error", "warning", "info", "debug"]},
                "webhooks": {"type": "object", "properties": {
                    "url": {"type": "string"},
                    "max_concurrent_requests": {"type": "integer", "enum": [6, 12, 18, 24]},
                    "message": {"type": "object", "properties": {
                        "sent": {"type": "boolean"}, "delivered": {"type": "boolean"}, "read": {"type": "boolean"},
                    }},
                }},
            },
        }),
        json!({"sent_status": true, "webhooks": {"max_concurrent_requests": 12}}),
    )
}

/// `POST /v1/messages` (a text; the other types follow the same envelope).
pub fn send_message() -> Described {
    let message = object(json!({"id": {"type": "string", "minLength": 1}}));
    Described::answers(
        201,
        envelope(&[("messages", one(message))]),
        json!({"messages": [{"id": "gBGGFlA5FpafAgkOuJbRq54qwbM"}], "meta": meta_example()}),
    )
    .takes(
        json!({
            "type": "object",
            "required": ["to"],
            "properties": {
                "to": {"type": "string", "description": "the customer's number or `wa_id` (or a group id)"},
                "recipient_type": {"type": "string", "enum": ["individual", "group"]},
                "type": {"type": "string", "enum": ["text", "image", "audio", "video", "document", "sticker", "location", "contacts", "template", "hsm", "interactive", "reaction"]},
                "preview_url": {"type": "boolean"},
                "ttl": {"oneOf": [{"type": "integer"}, {"type": "object", "properties": {"days": {"type": "integer"}}}]},
                "text": {"type": "object", "required": ["body"], "properties": {"body": {"type": "string", "minLength": 1, "maxLength": 4096}}},
            },
        }),
        json!({"to": "16315551234", "type": "text", "text": {"body": "Your order has shipped."}}),
    )
}
