//! The response envelope: every JSON body carries `meta` (`errors.md` §1).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Map, Value};

/// The `meta` object.
#[derive(Debug, Clone, Serialize)]
pub struct Meta {
    pub version: String,
    pub api_status: &'static str,
}

impl Meta {
    /// `version` is the emulated client version (`WA_VERSION`, default `v2.53.1`).
    pub fn new(version: impl Into<String>) -> Self {
        Self { version: version.into(), api_status: "stable" }
    }

    pub fn to_value(&self) -> Value {
        serde_json::json!({ "version": self.version, "api_status": self.api_status })
    }
}

/// A successful answer: `payload`'s keys plus `meta`.
pub fn reply(status: StatusCode, meta: &Meta, payload: Value) -> Response {
    let mut body = match payload {
        Value::Object(m) => m,
        Value::Null => Map::new(),
        other => {
            let mut m = Map::new();
            m.insert("data".into(), other);
            m
        }
    };
    body.insert("meta".into(), meta.to_value());
    (status, Json(Value::Object(body))).into_response()
}
