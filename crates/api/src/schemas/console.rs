//! The console's routes, described (issue 22).

use serde_json::{Value, json};

use super::parts::{envelope, meta_example, object};
use super::{Answer, Described};

/// `GET /console`.
pub fn page() -> Described {
    Described::with(200, Answer::Bytes("text/html"))
}

/// `GET /console/assets/{file}`.
pub fn asset() -> Described {
    Described::with(200, Answer::Bytes("text/*")).at("file", "console.js")
}

fn session() -> Value {
    envelope(&[(
        "session",
        object(json!({
            "username": {"type": "string"},
            "role": {"type": "string", "enum": ["ROLE_ADMIN", "ROLE_USER"]},
            "csrf": {"type": "string", "pattern": "^[0-9a-f]{32}$",
                     "description": "send it as `X-Wabiz-CSRF` on every changing request the cookie authenticates"},
        })),
    )])
}

fn session_example() -> Value {
    json!({"session": {"username": "admin", "role": "ROLE_ADMIN", "csrf": "5f0c3a1e9b7d2c4e8a6f1b3d5c7e9a0b"}, "meta": meta_example()})
}

/// `POST /console/session`: the bearer token of the request becomes the cookie.
pub fn open() -> Described {
    Described::answers(201, session(), session_example())
}

/// `GET /console/session`: `session` is `null` without a valid cookie.
pub fn show() -> Described {
    let mut schema = session();
    let session = schema["properties"]["session"].take();
    schema["properties"]["session"] = json!({"oneOf": [session, {"type": "null"}]});
    Described::answers(200, schema, session_example())
}

/// `DELETE /console/session`.
pub fn close() -> Described {
    Described::meta_only(200)
}
