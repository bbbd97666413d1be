//! The simulator's control API, described (issue 20's routes first).

use serde_json::{Value, json};

use super::parts::{envelope, meta_example, object, one, share};
use wabiz_domain::ErrorCode;
use wabiz_domain::events::Event;
use wabiz_simulator::chaos::config::{FAILURE_CODES, MAX_DELAY_MS};
use wabiz_simulator::inbound::INBOUND_TYPES;
use wabiz_simulator::traffic::spec::{MAX_COUNT, MAX_CUSTOMERS, MAX_DURATION_S, MAX_RATE, MIN_RATE};

use super::{Answer, Described};

/// A delay: a number, `[min, max]`, or a named distribution.
fn delay() -> Value {
    json!({"oneOf": [
        {"type": "integer", "minimum": 0, "maximum": MAX_DELAY_MS},
        {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": MAX_DELAY_MS}, "minItems": 2, "maxItems": 2,
         "description": "`[min, max]`, min not above max"},
        // A named distribution: each with its own parameters (others are not read).
        distribution("fixed", &["ms"]),
        distribution("uniform", &["min", "max"]),
        distribution("exponential", &["mean"]),
        distribution("normal", &["mean", "stddev"]),
    ]})
}

/// `{"distribution": name, <parameter>: ms, …}`.
fn distribution(name: &str, parameters: &[&str]) -> Value {
    let mut properties = json!({"distribution": {"const": name}});
    for p in parameters {
        properties[*p] = json!({"type": "integer", "minimum": 0, "maximum": MAX_DELAY_MS});
    }
    let mut required = vec!["distribution"];
    required.extend_from_slice(parameters);
    json!({"type": "object", "required": required, "properties": properties})
}

/// The chaos settings, as `PUT` takes them.
fn chaos_settings() -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "seed": {"type": "integer", "minimum": 0},
            "delays": {"type": "object", "properties": {"sent": delay(), "delivered": delay(), "read": delay()}},
            "never_read": share(),
            "failures": {"type": "array", "items": {"type": "object", "required": ["code"], "properties": {
                "rate": share(),
                "code": {"type": "integer", "enum": FAILURE_CODES},
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
    .body_optional()
    .null_is_absent()
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
                "code": {"type": "integer", "enum": FAILURE_CODES, "description": "with `failed` only"},
                "step": {"type": "string", "enum": ["accepted", "sent"], "description": "with `failed` only"},
            },
            "oneOf": [
                {"properties": {"outcome": {"enum": ["read", "delivered", "sent"]}},
                 "not": {"anyOf": [{"required": ["code"]}, {"required": ["step"]}]}},
                {"required": ["code"], "properties": {"outcome": {"const": "failed"}}},
            ],
        }),
        json!({"count": 2, "outcome": "failed", "code": 1026}),
    )
    .null_is_absent()
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
            "additionalProperties": false,
            "required": ["rate"],
            "properties": {
                "rate": {"type": "number", "minimum": MIN_RATE, "maximum": MAX_RATE},
                "count": {"type": "integer", "minimum": 1, "maximum": MAX_COUNT},
                "duration_s": {"type": "integer", "minimum": 1, "maximum": MAX_DURATION_S},
                "customers": {"type": "integer", "minimum": 1, "maximum": MAX_CUSTOMERS},
                "types": {"type": "object", "propertyNames": {"enum": INBOUND_TYPES}, "additionalProperties": {"type": "number", "minimum": 0},
                          // Some type weighs more than 0.
                          "not": {"additionalProperties": {"maximum": 0}}},
                "seed": {"type": "integer", "minimum": 0},
            },
            // `count`, `duration_s` or both; `null` is not a value for either here.
            "anyOf": [
                {"required": ["count"], "properties": {"count": {"type": "integer"}}},
                {"required": ["duration_s"], "properties": {"duration_s": {"type": "integer"}}},
            ],
        }),
        json!({"rate": 20, "count": 5, "customers": 3, "types": {"text": 8, "location": 1}, "seed": 7}),
    )
    .null_is_absent()
    .link("Run", "get_simulator_traffic_id", "id", "/traffic/0/id")
    .link("Stop", "delete_simulator_traffic_id", "id", "/traffic/0/id")
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
                "context": {"type": "object", "properties": {"id": {"description": "the message replied to"}}},
            },
        }),
        json!({"from": "16315551234", "type": "text", "text": {"body": "Hi!"}, "profile": {"name": "Kerry Fisher"}}),
    )
    .null_is_absent()
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
            "components": {"type": "array", "items": {"type": "object", "required": ["type"],
                           "properties": {"type": {"type": "string", "minLength": 1}}}},
            "category": {"type": "string", "enum": ["MARKETING", "UTILITY", "AUTHENTICATION"]},
            "status": {"type": "string", "enum": ["APPROVED", "PENDING", "REJECTED", "PAUSED", "DISABLED"]},
        }}),
        json!({"namespace": "business_a_namespace", "name": "order_update", "language": "en_US",
               "components": [{"type": "BODY", "text": "Hi {{1}}, your order ships {{2}}."}]}),
    )
    .null_is_absent()
}

/// `POST /simulator/errors`.
pub fn inject_error() -> Described {
    Described::answers(200, super::parts::meta_only(), json!({"meta": meta_example()}))
        .takes(
            json!({"type": "object", "required": ["code"], "properties": {
                "code": {"type": "integer", "enum": ErrorCode::ALL.iter().map(|c| c.code()).collect::<Vec<_>>()},
                "details": {"type": "string"},
            }}),
            json!({"code": 1014, "details": "Internal error, try again"}),
        )
        .null_is_absent()
}

/// `DELETE /simulator/templates?namespace=…&name=…[&language=…]`.
pub fn delete_templates() -> Described {
    Described::answers(
        200,
        envelope(&[(
            "deleted",
            json!({"type": "integer", "minimum": 1, "description": "how many languages were deleted"}),
        )]),
        json!({"deleted": 1, "meta": meta_example()}),
    )
    .needs_query("namespace", json!({"type": "string", "minLength": 1}), "The template's namespace")
    .needs_query("name", json!({"type": "string", "minLength": 1}), "The template's name")
    .query(
        "language",
        json!({"type": "string"}),
        "One language (e.g. `en_US`); every language of the name without it",
    )
}

/// `PATCH /simulator/templates`.
pub fn change_template_status() -> Described {
    let mut paused = template_example();
    paused["status"] = json!("PAUSED");
    paused["reason"] = json!("Low quality rating");
    Described::answers(
        200,
        envelope(&[("templates", one(template()))]),
        json!({"templates": [paused], "meta": meta_example()}),
    )
    .takes(
        json!({"type": "object", "required": ["namespace", "name", "language", "status"], "properties": {
            "namespace": {"type": "string", "minLength": 1}, "name": {"type": "string", "minLength": 1},
            "language": {"type": "string", "minLength": 1},
            "status": {"type": "string", "enum": ["APPROVED", "PENDING", "REJECTED", "PAUSED", "DISABLED"],
                       "description": "read in any case"},
            "reason": {"type": ["string", "null"]},
        }}),
        json!({"namespace": "business_a_namespace", "name": "order_update", "language": "en_US",
                   "status": "PAUSED", "reason": "Low quality rating"}),
    )
}

/// The statuses a stored message can be in (`deleted` is only reported).
const STORED_STATUSES: [&str; 6] = ["accepted", "sent", "delivered", "read", "failed", "received"];

/// A message as the server stores it.
fn stored_message() -> Value {
    let mut m = object(json!({
        "id": {"type": "string", "minLength": 1},
        "direction": {"type": "string", "enum": ["outbound", "inbound"]},
        "recipient_type": {"type": "string", "enum": ["individual", "group"]},
        "peer": {"type": "string", "description": "the customer's `wa_id`, or the group id"},
        "type": {"type": "string"},
        "content": {"type": ["object", "array", "null"],
                    "description": "outbound: the type object as sent (`text`: `{\"body\": …}`); inbound: the callback it makes (`messages`, `contacts`)"},
        "status": {"type": "string", "enum": STORED_STATUSES},
        "created_at": {"type": "integer", "description": "Unix seconds"},
        "updated_at": {"type": "integer", "description": "Unix seconds"},
        "next_event_at": {"type": ["integer", "null"], "description": "Unix ms of the network's next step for it; `null` once nothing is left"},
        "group_id": {"type": ["string", "null"], "description": "inbound: the group a participant wrote it in (`peer` is the participant)"},
    }));
    m["additionalProperties"] = json!(false);
    m
}

/// `GET /simulator/chats`.
pub fn chats() -> Described {
    let chat = object(json!({
        "id": {"type": "string", "minLength": 1, "description": "the customer's `wa_id`, or the group id (`GET /simulator/conversations/{wa_id}` reads it)"},
        "recipient_type": {"type": "string", "enum": ["individual", "group"]},
        "name": {"type": ["string", "null"], "description": "the profile name the customer last showed (`null` until they write), or the group's subject"},
        "last_at": {"type": "integer", "description": "Unix seconds of its last message"},
        "unread": {"type": "integer", "minimum": 0, "maximum": wabiz_domain::ports::UNREAD_CAP,
                   "description": "inbound messages the business has not marked read; counting stops at the maximum (shown as \"99+\")"},
        "last_message": {"oneOf": [stored_message(), {"type": "null"}], "description": "`null` once garbage collection removed it"},
    }));
    let example = json!({
        "id": "16315551234", "recipient_type": "individual", "name": "Kerry Fisher", "last_at": 1_796_551_100i64, "unread": 1,
        "last_message": {
            "id": "ABGGFlA5FpafAgo6tHcNmNjXmuSf", "direction": "inbound", "recipient_type": "individual", "peer": "16315551234",
            "type": "text",
            "content": {"contacts": [{"profile": {"name": "Kerry Fisher"}, "wa_id": "16315551234"}],
                        "messages": [{"from": "16315551234", "id": "ABGGFlA5FpafAgo6tHcNmNjXmuSf", "text": {"body": "Where is my order?"},
                                      "timestamp": "1796551100", "type": "text"}]},
            "status": "received", "created_at": 1_796_551_100i64, "updated_at": 1_796_551_100i64, "next_event_at": null, "group_id": null,
        },
    });
    Described::answers(
        200,
        envelope(&[("chats", json!({"type": "array", "maxItems": 200, "items": chat}))]),
        json!({"chats": [example], "meta": meta_example()}),
    )
    .query("search", json!({"type": "string", "maxLength": 64}),
           "chats whose number (a leading `+` is ignored) or name starts with it, in number then name order; without it, the most recent chats")
    .query("limit", json!({"type": "integer", "minimum": 1, "maximum": 200, "default": 50}), "how many chats at most")
    .link("Conversation", "get_simulator_conversations_wa_id", "wa_id", "/chats/0/id")
}

/// `GET /simulator/messages/{id}`.
pub fn message() -> Described {
    let error = json!({"type": "object", "required": ["code", "title"], "properties": {
        "code": {"type": "integer"}, "title": {"type": "string"}, "details": {"type": "string"}, "href": {"type": "string"},
    }});
    let status = json!({"type": "object", "required": ["status", "timestamp"], "additionalProperties": false, "properties": {
        "status": {"type": "string", "enum": STORED_STATUSES},
        "timestamp": {"type": "string", "pattern": "^[0-9]+$", "description": "Unix seconds"},
        "errors": {"type": "array", "minItems": 1, "items": error},
    }});
    let mut view = stored_message();
    view["properties"]["statuses"] = json!({"type": "array", "items": status, "description": "oldest first"});
    if let Some(required) = view["required"].as_array_mut() {
        required.push(json!("statuses"));
    }
    let id = "gBGGFlA5FpafAgkOuJbRq54qwbM";
    let example = json!({
        "id": id, "direction": "outbound", "recipient_type": "individual", "peer": "16315551234", "type": "text",
        "content": {"body": "Your order has shipped"}, "status": "read",
        "created_at": 1_796_551_200i64, "updated_at": 1_796_551_203i64, "next_event_at": null, "group_id": null,
        "statuses": [{"status": "sent", "timestamp": "1796551200"}, {"status": "delivered", "timestamp": "1796551201"},
                     {"status": "read", "timestamp": "1796551203"}],
    });
    Described::answers(200, envelope(&[("message", view)]), json!({"message": example, "meta": meta_example()}))
        .at("id", id)
}

/// `GET /simulator/conversations/{wa_id}`.
pub fn conversation() -> Described {
    let inbound = json!({
        "id": "ABGGFlA5FpafAgo6tHcNmNjXmuSf", "direction": "inbound", "recipient_type": "individual", "peer": "16315551234",
        "type": "text",
        "content": {"contacts": [{"profile": {"name": "Kerry Fisher"}, "wa_id": "16315551234"}],
                    "messages": [{"from": "16315551234", "id": "ABGGFlA5FpafAgo6tHcNmNjXmuSf", "text": {"body": "Where is my order?"},
                                  "timestamp": "1796551100", "type": "text"}]},
        "status": "received", "created_at": 1_796_551_100i64, "updated_at": 1_796_551_100i64, "next_event_at": null,
        "group_id": null,
    });
    let outbound = json!({
        "id": "gBGGFlA5FpafAgkOuJbRq54qwbM", "direction": "outbound", "recipient_type": "individual", "peer": "16315551234",
        "type": "text", "content": {"body": "Your order has shipped"}, "status": "delivered",
        "created_at": 1_796_551_200i64, "updated_at": 1_796_551_201i64, "next_event_at": 1_796_551_203_000i64,
        "group_id": null,
    });
    Described::answers(
        200,
        envelope(&[("messages", json!({"type": "array", "maxItems": 100, "items": stored_message(), "description": "the last 100, oldest first"}))]),
        json!({"messages": [inbound, outbound], "meta": meta_example()}),
    )
    .at("wa_id", "16315551234")
}

/// The id of the system message a customer change makes.
fn system_message() -> Value {
    one(object(json!({"id": {"type": "string", "minLength": 1}})))
}

/// `POST /simulator/customers/{wa_id}/change-number`.
pub fn change_number() -> Described {
    Described::answers(
        201,
        envelope(&[("messages", system_message())]),
        json!({"messages": [{"id": "ABGGFlA5FpafAgo6tHcNmNjXmuSf"}], "meta": meta_example()}),
    )
    .takes(
        json!({"type": "object", "required": ["new_wa_id"], "properties": {
            "new_wa_id": {"type": "string", "description": "the customer's new number; not their current one"},
        }}),
        json!({"new_wa_id": "16315559876"}),
    )
    .at("wa_id", "16315551234")
}

/// `POST /simulator/customers/{wa_id}/change-identity`.
pub fn change_identity() -> Described {
    let identity = object(json!({
        "hash": {"type": "string", "minLength": 1, "description": "what `PUT /v1/contacts/{wa_id}/identity` acknowledges"},
        "created_timestamp": {"type": "integer", "description": "Unix ms"},
    }));
    Described::answers(
        201,
        envelope(&[("messages", system_message()), ("identity", one(identity))]),
        json!({"messages": [{"id": "AB5X9BEKxOYncJ-XLlpHQIsSRNOm"}], "identity": [{"hash": "RRNBQdxN7M0=", "created_timestamp": 1_796_551_200_114i64}],
               "meta": meta_example()}),
    )
    .at("wa_id", "16315551234")
}

/// `POST /simulator/messages/{id}/delete`.
pub fn delete_message() -> Described {
    Described::answers(200, super::parts::meta_only(), json!({"meta": meta_example()}))
        .at("id", "ABGGFlA5FpafAgo6tHcNmNjXmuSf")
}

/// `POST /simulator/groups/join`.
pub fn join_group() -> Described {
    Described::answers(
        200,
        envelope(&[("groups", one(object(json!({"id": {"type": "string", "minLength": 1}}))))]),
        json!({"groups": [{"id": "16315550100-1796551200"}], "meta": meta_example()}),
    )
    .takes(
        json!({"type": "object", "required": ["invite", "wa_id"], "properties": {
            "invite": {"type": "string", "minLength": 1, "description": "the invite link (`https://chat.whatsapp.com/<code>`) or its code"},
            "wa_id": {"type": "string", "minLength": 1, "description": "the customer; joining twice changes nothing"},
        }}),
        json!({"invite": "https://chat.whatsapp.com/Fq2ZbJ0yH9mX4cW7aL1tRk", "wa_id": "16315551234"}),
    )
}

fn traffic_example(state: &str, generated: u64, ended_at: Value) -> Value {
    json!({"id": "9f2c41d0", "state": state,
           "spec": {"rate": 20.0, "count": 100, "duration_s": null, "customers": 10, "types": {"text": 1.0}, "seed": 0},
           "created_at": 1_796_554_486_437i64, "ended_at": ended_at, "generated": generated, "delivered": generated,
           "pending_callbacks": 0, "rate_achieved": 19.98})
}

/// `GET /simulator/traffic/{id}`.
pub fn show_traffic() -> Described {
    Described::answers(
        200,
        envelope(&[("traffic", one(traffic_run()))]),
        json!({"traffic": [traffic_example("running", 41, Value::Null)], "meta": meta_example()}),
    )
    .at("id", "9f2c41d0")
}

/// `DELETE /simulator/traffic/{id}`: the run as it stopped (or as it ended).
pub fn stop_traffic() -> Described {
    Described::answers(
        200,
        envelope(&[("traffic", one(traffic_run()))]),
        json!({"traffic": [traffic_example("stopped", 41, json!(1_796_554_488_490i64))], "meta": meta_example()}),
    )
    .at("id", "9f2c41d0")
}

/// `GET /simulator/events`: a Server-Sent Events stream (the events are
/// listed in the answer's description).
pub fn events() -> Described {
    let one = Event::NAMES.join("|");
    let names = json!({"type": "string", "pattern": format!("^$|^({one})(,({one}))*$"), "description": Event::NAMES.join(", ")});
    Described::with(200, Answer::Events)
        .query("types", names, "Only events of these types (comma-separated); an unknown type is refused (400)")
        .query("wa_id", json!({"type": "string"}), "Only events about this customer (or group)")
        .query(
            "last_event_id",
            json!({"type": "string", "description": "an event's `id:` (`<stream>-<seq>`)"}),
            "Resume after this event (as `Last-Event-ID` does), for clients that cannot send the header; an id of an earlier run replays what is retained, after a `gap` event",
        )
}

/// `GET /simulator/customers`: the magic numbers.
pub fn magic_customers() -> Described {
    let names: Vec<&str> = wabiz_simulator::MAGIC_NUMBERS.iter().map(|(_, c)| c.name()).collect();
    let customer = object(json!({
        "wa_id": {"type": "string", "pattern": "^[0-9]+$"},
        "behaviour": {"type": "string", "enum": names},
        "description": {"type": "string"},
    }));
    Described::answers(
        200,
        envelope(&[("customers", json!({"type": "array", "items": customer}))]),
        json!({"customers": [{"wa_id": "15550000002", "behaviour": "incapable",
                              "description": "sent, then fails with 1026 (receiver incapable)"}], "meta": meta_example()}),
    )
}
