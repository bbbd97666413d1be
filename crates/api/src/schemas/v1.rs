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

/// `GET /v1/settings/application`.
pub fn application_settings() -> Described {
    let flag = json!({"type": "boolean"});
    let application = json!({
        "type": "object",
        "required": ["callback_persist", "sent_status", "webhooks", "heartbeat_interval", "unhealthy_interval", "log_level"],
        "properties": {
            "axolotl_context_striping_disabled": flag, "callback_persist": flag, "notify_user_change_number": flag,
            "pass_through": flag, "sent_status": flag, "show_security_notifications": flag,
            "skip_referral_media_download": flag, "verbose_logging": flag,
            "callback_backoff_delay_ms": {"type": "integer", "minimum": 0},
            "max_callback_backoff_delay_ms": {"type": "integer", "minimum": 0},
            "heartbeat_interval": {"type": "integer", "minimum": 1},
            "unhealthy_interval": {"type": "integer", "minimum": 1},
            "log_level": {"type": "string", "enum": ["error", "warning", "info", "debug"]},
            "garbagecollector_enable": {"type": "object", "properties": {"media": flag, "messages": flag}},
            "media": {"type": "object", "properties": {"auto_download": {"type": "array", "items": {"type": "string"}}}},
            "wa_id": {"type": "string"},
            "on_call_pager": {"type": "string"},
            "webhooks": {"type": "object", "required": ["max_concurrent_requests", "message"], "properties": {
                "url": {"type": "string"},
                "max_concurrent_requests": {"type": "integer", "enum": [6, 12, 18, 24]},
                "message": object(json!({"sent": flag, "delivered": flag, "read": flag})),
            }},
        },
    });
    Described::answers(
        200,
        envelope(&[("settings", object(json!({ "application": application })))]),
        json!({"settings": {"application": {
            "callback_backoff_delay_ms": 3000, "callback_persist": true, "heartbeat_interval": 5, "log_level": "info",
            "max_callback_backoff_delay_ms": 900000, "sent_status": false, "unhealthy_interval": 30, "wa_id": "16315550100",
            "webhooks": {"max_concurrent_requests": 6, "message": {"delivered": true, "read": true, "sent": true}},
        }}, "meta": meta_example()}),
    )
}

/// `POST /v1/users`.
pub fn create_user() -> Described {
    Described::answers(
        201,
        envelope(&[("users", one(object(json!({"username": {"type": "string"}}))))]),
        json!({"users": [{"username": "jdoe"}], "meta": meta_example()}),
    )
    .takes(
        json!({"type": "object", "required": ["username", "password"], "properties": {
            "username": {"type": "string", "minLength": 1},
            "password": {"type": "string", "minLength": 8, "maxLength": 64,
                         "description": "upper and lower case letters, a digit and a special character"},
        }}),
        json!({"username": "jdoe", "password": "Us3r-Passw0rd!"}),
    )
}

/// A group in the list and in the creation's answer.
fn group() -> serde_json::Value {
    object(json!({
        "id": {"type": "string", "pattern": "^[0-9]+-[0-9]+$"},
        "creation_time": {"type": "integer"},
    }))
}

/// `POST /v1/groups`.
pub fn create_group() -> Described {
    Described::answers(
        200,
        envelope(&[("groups", one(group()))]),
        json!({"groups": [{"id": "16315550100-1796559908", "creation_time": 1796559908}], "meta": meta_example()}),
    )
    .takes(
        json!({"type": "object", "required": ["subject"], "properties": {"subject": {"type": "string", "minLength": 1, "maxLength": 25}}}),
        json!({"subject": "Order questions"}),
    )
}

/// `GET /v1/groups`.
pub fn list_groups() -> Described {
    Described::answers(
        200,
        envelope(&[("groups", json!({"type": "array", "items": group()}))]),
        json!({"groups": [{"id": "16315550100-1796559908", "creation_time": 1796559908}], "meta": meta_example()}),
    )
}

/// `GET /v1/account/shards`.
pub fn shards() -> Described {
    Described::answers(
        200,
        envelope(&[("account", object(json!({"shards": {"type": "integer", "enum": [1, 2, 4, 8, 16, 32]}})))]),
        json!({"account": {"shards": 1}, "meta": meta_example()}),
    )
}
