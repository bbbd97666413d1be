//! The On-Premises `/v1` operations described so far.

use serde_json::json;

use wabiz_domain::settings::application::{LogLevel, RECOGNISED};
use wabiz_domain::users::policy::{USERNAME_MAX, USERNAME_MIN};

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
    .body_optional()
    .null_is_absent()
    .link_described("UseTheToken", "get_v1_settings_application", "Send `users[0].token` as `Authorization: Bearer <token>` on every other call")
    .link_described("LogOut", "post_v1_users_logout", "Revokes the token sent with it")
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
    .null_is_absent()
    .link("Identity", "get_v1_contacts_wa_id_identity", "wa_id", "/contacts/0/wa_id")
}

/// The log levels the settings take and show.
fn log_level() -> serde_json::Value {
    let levels: Vec<&str> = LogLevel::ALL.iter().map(|l| l.as_str()).collect();
    json!({"type": "string", "enum": levels})
}

/// `PATCH /v1/settings/application`.
pub fn patch_application_settings() -> Described {
    Described::answers(200, meta_only(), json!({"meta": meta_example()})).takes(
        json!({
            "type": "object",
            "description": "at least one recognised key; unknown keys are ignored",
            "anyOf": RECOGNISED.iter().map(|k| json!({"required": [k]})).collect::<Vec<_>>(),
            "properties": {
                "callback_persist": {"type": "boolean"},
                "sent_status": {"type": "boolean"},
                "axolotl_context_striping_disabled": {"type": "boolean"},
                "notify_user_change_number": {"type": "boolean"},
                "show_security_notifications": {"type": "boolean"},
                "skip_referral_media_download": {"type": "boolean"},
                "verbose_logging": {"type": "boolean"},
                "webhook_payload_conversation_pricingmodel_disabled": {"type": "boolean"},
                "db_garbagecollector_enable": {"type": "boolean", "description": "the old name of `garbagecollector_enable.messages`"},
                "allow_nonexistent_users": {"type": "boolean", "description": "read, changes nothing here"},
                "template_send_side_validation_disabled": {"type": "boolean", "description": "read, changes nothing here"},
                "on_call_pager": {"type": "string", "pattern": "^[0-9-]{0,64}$"},
                "garbagecollector_enable": {"type": "object", "properties": {"media": {"type": "boolean"}, "messages": {"type": "boolean"}}},
                "media": {"type": "object", "required": ["auto_download"], "properties": {"auto_download": {"type": "array", "items": {"type": "string", "enum": ["audio", "document", "voice", "video", "image", "sticker"]}}}},
                "pass_through": {"const": false, "description": "can no longer be turned on (since v2.35)"},
                "callback_backoff_delay_ms": {"anyOf": [
                    {"type": "integer", "minimum": 1, "maximum": 900_000},
                    {"type": "string", "pattern": "^0*([1-9][0-9]{0,4}|[1-8][0-9]{5}|900000)$"},
                ], "description": "milliseconds (1 to 900000), as a number or a string of digits"},
                "max_callback_backoff_delay_ms": {"anyOf": [
                    {"type": "integer", "minimum": 1, "maximum": 86_400_000},
                    {"type": "string", "pattern": "^0*([1-9][0-9]{0,6}|[1-7][0-9]{7}|8[0-5][0-9]{6}|86[0-3][0-9]{5}|86400000)$"},
                ], "description": "milliseconds (1 to 86400000), as a number or a string of digits"},
                "heartbeat_interval": {"type": "integer", "minimum": 1, "maximum": 3600},
                "unhealthy_interval": {"type": "integer", "minimum": 1, "maximum": 3600},
                "log_level": log_level(),
                "webhooks": {"type": "object", "properties": {
                    "url": {"type": "string", "maxLength": 2048, "pattern": "^$|^[hH][tT][tT][pP][sS]://[^/?#\\s]+[^\\s]*$",
                            "description": "https (http too with `--allow-http-webhooks`); empty to remove"},
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
            "log_level": log_level(),
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
            "username": {"type": "string", "minLength": USERNAME_MIN, "maxLength": USERNAME_MAX},
            "password": {"type": "string", "minLength": 8, "maxLength": 64,
                         "description": "upper and lower case letters, a digit and a special character"},
        }}),
        json!({"username": "jdoe", "password": "Us3r-Passw0rd!"}),
    )
    .link("User", "get_v1_users_username", "username", "/users/0/username")
    .link("ChangePassword", "put_v1_users_username", "username", "/users/0/username")
    .link("DeleteUser", "delete_v1_users_username", "username", "/users/0/username")
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
    .link("Group", "get_v1_groups_id", "id", "/groups/0/id")
    .link("Invite", "get_v1_groups_id_invite", "id", "/groups/0/id")
    .link("Subject", "put_v1_groups_id", "id", "/groups/0/id")
    .link("Leave", "post_v1_groups_id_leave", "id", "/groups/0/id")
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

/// A user as `users[]` shows it after a change.
fn username_only() -> serde_json::Value {
    envelope(&[("users", one(object(json!({"username": {"type": "string"}}))))])
}

/// The password rules, as the user routes check them.
fn password() -> serde_json::Value {
    json!({"type": "string", "minLength": 8, "maxLength": 64,
           "description": "upper and lower case letters, a digit and a special character"})
}

/// `POST /v1/users/logout`.
pub fn logout() -> Described {
    Described::meta_only(200)
}

/// `GET /v1/users/{username}`.
pub fn read_user() -> Described {
    let user = object(json!({
        "ROLES": {"type": "string", "enum": ["ROLE_ADMIN", "ROLE_USER"]},
        "username": {"type": "string"},
    }));
    Described::answers(
        200,
        envelope(&[("users", one(user))]),
        json!({"users": [{"ROLES": "ROLE_USER", "username": "jdoe"}], "meta": meta_example()}),
    )
    .at("username", "jdoe")
}

/// `PUT /v1/users/{username}`.
pub fn update_user() -> Described {
    Described::answers(200, username_only(), json!({"users": [{"username": "jdoe"}], "meta": meta_example()}))
        .takes(
            json!({"type": "object", "required": ["password"], "properties": {"password": password()}}),
            json!({"password": "N3w-Passw0rd!"}),
        )
        .at("username", "jdoe")
}

/// `DELETE /v1/users/{username}`.
pub fn delete_user() -> Described {
    Described::answers(200, username_only(), json!({"users": [{"username": "jdoe"}], "meta": meta_example()}))
        .at("username", "jdoe")
}

/// A verified-name certificate as the registration routes take it.
const CERT_EXAMPLE: &str = "Cg4IlgEiCUFjbWUgU2hvcBIE3q2+7w==";

fn phone_parts() -> serde_json::Value {
    json!({
        "cc": {"type": "string", "pattern": "^[0-9]{1,3}$", "description": "country calling code"},
        "phone_number": {"type": "string", "pattern": "^[0-9]{4,15}$", "description": "the number without the country code"},
        "cert": {"type": "string", "contentEncoding": "base64", "description": "the verified-name certificate"},
    })
}

/// `POST /v1/account`: 201 when the number is already registered here, 202
/// with the verified name when a code was sent (`.or` documents that one).
pub fn request_code() -> Described {
    let mut props = phone_parts();
    props["method"] = json!({"type": "string", "enum": ["sms", "voice"]});
    props["pin"] =
        json!({"type": "string", "pattern": "^[0-9]{6}$", "description": "the two-step PIN, when one is set"});
    props["vname_cert"] = json!({"type": "string", "description": "an older name for `cert`"});
    props["reset"] = json!({"type": "string", "enum": ["wipe"]});
    Described::meta_only(201)
        .or(
            202,
            envelope(&[("account", one(object(json!({"vname": {"type": "string"}}))))]),
            json!({"account": [{"vname": "Acme Shop"}], "meta": meta_example()}),
        )
        .takes(
            json!({"type": "object", "required": ["cc", "phone_number", "method"], "properties": props,
                   "oneOf": [
                       {"required": ["cert"], "properties": {"cert": {"type": "string"}}, "not": {"required": ["vname_cert"]}},
                       {"required": ["vname_cert"], "properties": {"vname_cert": {"type": "string"}}, "not": {"required": ["cert"]}},
                   ]}),
            json!({"cc": "1", "phone_number": "6315550100", "method": "sms", "cert": CERT_EXAMPLE}),
        )
    .null_is_absent()
}

/// `POST /v1/account/verify`.
pub fn verify() -> Described {
    Described::meta_only(201).takes(
        json!({"type": "object", "required": ["code"], "properties": {
            "code": {"type": "string", "pattern": "^[0-9]{6}$|^[0-9]{3}-[0-9]{3}$", "description": "the six-digit code"},
        }}),
        json!({"code": "123456"}),
    )
}

/// `POST /v1/account/shards`.
pub fn set_shards() -> Described {
    let mut props = phone_parts();
    props["shards"] = json!({"type": "integer", "enum": [1, 2, 4, 8, 16, 32]});
    props["pin"] = json!({"type": "string", "pattern": "^[0-9]{6}$"});
    Described::meta_only(201).takes(
        json!({"type": "object", "required": ["cc", "phone_number", "shards", "cert"], "properties": props}),
        json!({"cc": "1", "phone_number": "6315550100", "shards": 1, "cert": CERT_EXAMPLE}),
    )
}

/// `DELETE /v1/messages`.
pub fn delete_stored_messages() -> Described {
    let seconds = json!({"anyOf": [
        {"type": "integer", "minimum": 0, "maximum": i64::MAX},
        {"type": "string", "pattern": "^[0-9]{1,18}$"},
    ]});
    Described::meta_only(200).takes(
        json!({"type": "object",
               "description": "`age` (delete messages older than this many seconds) or `before` (a Unix time), not both",
               "properties": {"age": seconds, "before": seconds},
               "oneOf": [{"required": ["age"], "not": {"required": ["before"]}}, {"required": ["before"], "not": {"required": ["age"]}}]}),
        json!({"age": 2592000}),
    )
}

/// `PUT /v1/messages/{id}`.
pub fn mark_read() -> Described {
    Described::meta_only(200)
        .takes(
            json!({"type": "object", "required": ["status"], "properties": {"status": {"type": "string", "enum": ["read"]}}}),
            json!({"status": "read"}),
        )
        .at("id", "ABGGFlA5FpafAgo6tHcNmNjXmuSf")
}

/// `GET` and `DELETE /v1/messages/{id}`: routed by the Webapp, doing nothing.
pub fn message_no_op() -> Described {
    Described::meta_only(200).at("id", "gBGGFlA5FpafAgkOuJbRq54qwbM")
}

/// `GET /v1/contacts/{wa_id}/identity`.
pub fn identity() -> Described {
    let identity = object(json!({
        "hash": {"type": "string", "minLength": 1},
        "created_timestamp": {"type": "integer"},
    }));
    Described::answers(
        200,
        envelope(&[("identity", one(identity))]),
        json!({"identity": [{"hash": "b3d6e4a1f0c2", "created_timestamp": 1796559908}], "meta": meta_example()}),
    )
    .at("wa_id", "16315551234")
}

/// `PUT /v1/contacts/{wa_id}/identity`.
pub fn acknowledge_identity() -> Described {
    Described::meta_only(200)
        .takes(
            json!({"type": "object", "required": ["hash"], "properties": {"hash": {"type": "string", "description": "the hash `GET` shows"}}}),
            json!({"hash": "b3d6e4a1f0c2"}),
        )
        .at("wa_id", "16315551234")
}

/// `PUT|POST /v1/services/{message,media}/gc`.
pub fn garbage_collection(key: &'static str) -> Described {
    let status = object(json!({"status": {"type": "string", "enum": ["processing"]}}));
    let mut services = serde_json::Map::new();
    services.insert(key.to_owned(), object(json!({ "gc": status })));
    Described::answers(
        200,
        envelope(&[("services", object(serde_json::Value::Object(services)))]),
        json!({"services": { key: {"gc": {"status": "processing"}} }, "meta": meta_example()}),
    )
}

const GROUP: &str = "16315550100-1796559908";

fn wa_ids() -> serde_json::Value {
    json!({"type": "object", "required": ["wa_ids"], "properties": {
        "wa_ids": {"type": "array", "minItems": 1, "items": {"type": "string", "pattern": "^[0-9]+$"}},
    }})
}

/// `GET /v1/groups/{id}`.
pub fn group_info() -> Described {
    let ids = json!({"type": "array", "items": {"type": "string"}});
    let info = object(json!({
        "admins": ids, "creation_time": {"type": "integer"}, "creator": {"type": "string"},
        "participants": ids, "subject": {"type": "string"},
    }));
    Described::answers(
        200,
        envelope(&[("groups", one(info))]),
        json!({"groups": [{"admins": ["16315550100"], "creation_time": 1796559908, "creator": "16315550100",
                           "participants": ["16315551234"], "subject": "Order questions"}], "meta": meta_example()}),
    )
    .at("id", GROUP)
}

/// `PUT /v1/groups/{id}`.
pub fn set_group_subject() -> Described {
    Described::meta_only(200)
        .takes(
            json!({"type": "object", "required": ["subject"], "properties": {"subject": {"type": "string", "minLength": 1, "maxLength": 25}}}),
            json!({"subject": "Returns"}),
        )
        .at("id", GROUP)
}

/// `GET /v1/groups/{id}/invite`.
pub fn group_invite() -> Described {
    Described::answers(
        200,
        envelope(&[("groups", one(object(json!({"link": {"type": "string", "format": "uri"}}))))]),
        json!({"groups": [{"link": "https://chat.whatsapp.com/KqA5g2Jx0bLmN4pQ7rS9tU"}], "meta": meta_example()}),
    )
    .at("id", GROUP)
}

/// A group operation that answers `meta` only: revoke, leave, icon delete.
pub fn group_done() -> Described {
    Described::meta_only(200).at("id", GROUP)
}

/// `GET /v1/groups/{id}/icon`: the image (`?format=link` for a public link instead).
pub fn group_icon() -> Described {
    Described::with(200, super::Answer::Bytes("image/*")).at("id", GROUP).query(
        "format",
        json!({"type": "string", "enum": ["link"]}),
        "`link`: answer `groups[0].icon.link`, a public link, instead of the image",
    )
}

/// `POST /v1/groups/{id}/icon`.
pub fn set_group_icon() -> Described {
    Described::meta_only(201).takes_bytes().at("id", GROUP)
}

/// `PATCH|DELETE /v1/groups/{id}/admins`, `DELETE /v1/groups/{id}/participants`.
pub fn group_members() -> Described {
    Described::meta_only(200).takes(wa_ids(), json!({"wa_ids": ["16315551234"]})).at("id", GROUP)
}

/// `POST /v1/certificates/external`: key, certificate and CA chain in one PEM body.
pub fn upload_certificate() -> Described {
    Described::meta_only(201).takes_bytes()
}

/// `GET /v1/certificates/{external,webhooks}/ca`.
pub fn ca_certificate() -> Described {
    Described::with(200, super::Answer::Bytes("text/plain"))
}

/// `POST /v1/certificates/webhooks/ca`.
pub fn upload_webhook_ca() -> Described {
    Described::meta_only(200).takes_bytes()
}

/// `DELETE /v1/certificates/webhooks/ca`.
pub fn delete_webhook_ca() -> Described {
    Described::meta_only(200)
}
