//! `/v1/settings` (besides the application settings in `v1.rs`), described.
//! Limits and enums come from the domain's own constants.

use serde_json::{Value, json};
use wabiz_domain::settings::business::{
    MAX_EMAIL_CHARS, MAX_TEXT_CHARS, MAX_WEBSITE_CHARS, MAX_WEBSITES, VERTICAL_CODES, VERTICALS,
};
use wabiz_domain::settings::service::{ABOUT_MAX_CHARS, BACKUP_PASSWORD_MAX};

use super::parts::{envelope, meta_example, object};
use super::{Answer, Described};

/// `{"settings": {<key>: {<key2>: payload}}}` with `meta`.
fn settings_of(path: &[&str], payload: Value) -> Value {
    let wrapped = path.iter().rev().fold(payload, |inner, key| object(json!({ *key: inner })));
    envelope(&[("settings", wrapped)])
}

/// `DELETE /v1/settings/application`.
pub fn reset_application() -> Described {
    Described::meta_only(200)
}

fn provider() -> Value {
    object(json!({
        "name": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,200}$"},
        "type": {"type": "string", "enum": ["www"]},
        "config": {"type": "object", "description": "exactly one of `bearer` and `basic`", "oneOf": [
            {"required": ["bearer"], "not": {"required": ["basic"]}, "properties": {"bearer": {"type": "string", "minLength": 1}}},
            {"required": ["basic"], "not": {"required": ["bearer"]},
             "properties": {"basic": object(json!({"username": {"type": "string", "minLength": 1}, "password": {"type": "string", "minLength": 1}}))}},
        ]},
    }))
}

fn provider_example() -> Value {
    json!({"name": "my-cdn", "type": "www", "config": {"bearer": "7fd0c2b1e9"}})
}

/// `GET /v1/settings/application/media/providers`.
pub fn providers() -> Described {
    Described::answers(
        200,
        settings_of(&["application", "media"], object(json!({"providers": {"type": "array", "items": provider()}}))),
        json!({"settings": {"application": {"media": {"providers": [provider_example()]}}}, "meta": meta_example()}),
    )
}

/// `POST /v1/settings/application/media/providers`: added, or replaced by name.
pub fn add_providers() -> Described {
    Described::meta_only(200).takes(
        json!({"type": "array", "minItems": 1, "maxItems": 1, "items": provider(), "description": "one provider at a time"}),
        json!([provider_example()]),
    )
}

/// `DELETE /v1/settings/application/media/providers/{name}`.
pub fn delete_provider() -> Described {
    Described::meta_only(200).at("name", "my-cdn")
}

/// `GET /v1/settings/profile/about`.
pub fn about() -> Described {
    Described::answers(
        200,
        settings_of(&["profile", "about"], object(json!({"text": {"type": "string", "maxLength": ABOUT_MAX_CHARS}}))),
        json!({"settings": {"profile": {"about": {"text": "Open 9-5, Monday to Friday"}}}, "meta": meta_example()}),
    )
}

/// `PATCH /v1/settings/profile/about`.
pub fn set_about() -> Described {
    Described::meta_only(200).takes(
        json!({"type": "object", "required": ["text"], "properties": {"text": {"type": "string", "maxLength": ABOUT_MAX_CHARS}}}),
        json!({"text": "Open 9-5, Monday to Friday"}),
    )
}

/// `GET /v1/settings/profile/photo`: the JPEG (`?format=link` for a public link).
pub fn photo() -> Described {
    Described::with(200, Answer::Bytes("image/jpeg")).query(
        "format",
        json!({"type": "string", "enum": ["link"]}),
        "`link`: answer `settings.profile.photo.link`, a public link, instead of the image",
    )
}

/// `POST /v1/settings/profile/photo`: a JPEG or PNG, raw or as a multipart form.
pub fn set_photo() -> Described {
    Described::meta_only(201).takes_bytes()
}

/// `DELETE /v1/settings/profile/photo`.
pub fn delete_photo() -> Described {
    Described::meta_only(200)
}

fn business_fields(required: bool) -> Value {
    // Two enums, not one: "Restaurant" and "RESTAURANT" would give clashing
    // member names in generated clients.
    let mut verticals = json!({"anyOf": [
        {"type": "string", "enum": VERTICALS, "title": "vertical", "description": "the On-Premises names"},
        {"type": "string", "enum": VERTICAL_CODES, "title": "vertical code", "description": "the Cloud API codes"},
    ]});
    if required {
        // What is stored and shown may still be empty (never set).
        verticals = json!({"type": "string"});
    }
    let text = json!({"type": "string", "maxLength": MAX_TEXT_CHARS});
    let props = json!({
        "address": text, "description": text,
        "email": {"type": "string", "maxLength": MAX_EMAIL_CHARS, "pattern": "^$|^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$"},
        "vertical": verticals,
        "websites": {"type": "array", "maxItems": MAX_WEBSITES, "items": {"type": "string", "maxLength": MAX_WEBSITE_CHARS, "pattern": "^[hH][tT][tT][pP][sS]?://."}},
    });
    if required { object(props) } else { json!({"type": "object", "properties": props}) }
}

fn business_example() -> Value {
    json!({"address": "1 Hacker Way, Menlo Park, CA 94025", "description": "Shoes and bags",
           "email": "help@example.com", "vertical": "Shopping and Retail", "websites": ["https://www.example.com"]})
}

/// `GET /v1/settings/business/profile`.
pub fn business_profile() -> Described {
    Described::answers(
        200,
        settings_of(&["business", "profile"], business_fields(true)),
        json!({"settings": {"business": {"profile": business_example()}}, "meta": meta_example()}),
    )
}

/// `POST /v1/settings/business/profile`: the fields given change, the others stay.
pub fn set_business_profile() -> Described {
    Described::meta_only(200).takes(business_fields(false), business_example()).body_optional().null_is_absent()
}

/// `POST /v1/settings/account/two-step`.
pub fn enable_two_step() -> Described {
    Described::meta_only(200).takes(
        json!({"type": "object", "required": ["pin"], "properties": {"pin": {"type": "string", "pattern": "^[0-9]{6}$"}}}),
        json!({"pin": "482916"}),
    )
}

/// `DELETE /v1/settings/account/two-step`.
pub fn disable_two_step() -> Described {
    Described::meta_only(200)
}

fn backup_password() -> Value {
    json!({"type": "string", "minLength": 1, "maxLength": BACKUP_PASSWORD_MAX})
}

/// `POST /v1/settings/backup`.
pub fn backup() -> Described {
    Described::answers(
        200,
        envelope(&[(
            "settings",
            object(json!({"data": {"type": "string", "minLength": 1, "contentEncoding": "base64"}})),
        )]),
        json!({"settings": {"data": "V0FCSVotQkFDS1VQ…"}, "meta": meta_example()}),
    )
    .takes(
        json!({"type": "object", "required": ["password"], "properties": {"password": backup_password()}}),
        json!({"password": "backup-passphrase"}),
    )
}

/// `POST /v1/settings/restore`.
pub fn restore() -> Described {
    Described::meta_only(200).takes(
        json!({"type": "object", "required": ["password", "data"], "properties": {
            "password": backup_password(),
            "data": {"type": "string", "minLength": 1, "description": "what `POST /v1/settings/backup` answered"},
        }}),
        json!({"password": "backup-passphrase", "data": "V0FCSVotQkFDS1VQ…"}),
    )
}
