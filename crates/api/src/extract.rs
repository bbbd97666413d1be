//! Extractors that produce On-Premises errors instead of axum's plain-text
//! rejections.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use serde_json::{Map, Value};
use wabiz_domain::WaError;
use wabiz_domain::users::Principal;

use crate::error::ApiError;
use crate::state::AppState;

/// The client's IP address: the TCP peer, or, for a request from one of the
/// `--trusted-proxies`, the client that proxy names (`client_ip.rs`).
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let peer =
            parts.extensions.get::<ConnectInfo<SocketAddr>>().map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
        Ok(ClientIp(state.trusted_proxies.client(peer, &parts.headers)))
    }
}

/// The authenticated caller, put there by the authentication layer.
#[derive(Debug, Clone)]
pub struct Auth(pub Principal);

impl<S: Send + Sync> FromRequestParts<S> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Principal>()
            .cloned()
            .map(Auth)
            .ok_or_else(|| WaError::unauthenticated("Missing or invalid authentication credentials").into())
    }
}

/// `?format=…` (`link` for photos and icons, `prometheus`/`json` for stats).
#[derive(Debug, Default, serde::Deserialize)]
pub struct FormatQuery {
    pub format: Option<String>,
}

/// A JSON object body, decoded the Webapp's way:
/// - the body is parsed only when `Content-Type` starts with `application/json`;
///   otherwise it is ignored and every parameter reads as missing;
/// - an empty body (or `null`) is `{}`;
/// - undecodable JSON is 400/1025 `Unable to decode the request: <reason>`;
/// - a body larger than the limit is 400/1009; a JSON value that is not an
///   object is 400/1025.
#[derive(Debug, Clone, Default)]
pub struct JsonBody(pub Map<String, Value>);

impl JsonBody {
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key)
    }
}

impl FromRequest<AppState> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        match JsonValue::from_request(req, state).await?.0 {
            Value::Object(m) => Ok(JsonBody(m)),
            Value::Null => Ok(JsonBody::default()),
            _ => Err(WaError::undecodable("the request body must be a JSON object").into()),
        }
    }
}

/// Any JSON body, decoded with the same rules as [`JsonBody`] (an empty or
/// unlabelled body is `null`), for the routes whose bodies are arrays or that
/// answer a non-object with their own error.
#[derive(Debug, Clone)]
pub struct JsonValue(pub Value);

impl FromRequest<AppState> for JsonValue {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("application/json"));
        if !is_json {
            return Ok(JsonValue(Value::Null));
        }
        let limit = state.limits.json_body_bytes;
        let bytes = axum::body::to_bytes(req.into_body(), limit)
            .await
            .map_err(|_| WaError::invalid(format!("Request content exceeds size of {limit} bytes")))?;
        decode_value(&bytes).map(JsonValue).map_err(ApiError::from)
    }
}

/// Reads a raw body of at most `limit` bytes; `too_large` is the error for a
/// bigger one (refused from `Content-Length` before reading when possible).
pub async fn read_raw_body(req: Request, limit: usize, too_large: impl Fn() -> WaError) -> Result<Bytes, WaError> {
    let declared =
        req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    axum::body::to_bytes(req.into_body(), limit).await.map_err(|_| too_large())
}

/// Decodes a JSON body; an empty one is `null`.
pub fn decode_value(bytes: &[u8]) -> Result<Value, WaError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    let text = std::str::from_utf8(bytes)
        .map_err(|_| WaError::undecodable("Malformed UTF-8 characters, possibly incorrectly encoded"))?;
    let mut value = serde_json::from_str::<Value>(text).map_err(|e| WaError::undecodable(php_json_error(&e)))?;
    whole_numbers_as_integers(&mut value);
    Ok(value)
}

/// `41879.0` is the number 41879: JSON has one number type, and JSON Schema
/// counts a zero fraction as an integer. The parsers ask for integers with
/// `as_u64`/`as_i64`, which refuse a float, so whole floats become integers
/// here, once, for every route.
fn whole_numbers_as_integers(value: &mut Value) {
    match value {
        Value::Number(n) if n.is_f64() => {
            if let Some(f) = n.as_f64().filter(|f| f.fract() == 0.0) {
                // Exactly representable both ways: below 2^53 in magnitude.
                if f.abs() < 9_007_199_254_740_992.0 {
                    *value = Value::from(f as i64);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(whole_numbers_as_integers),
        Value::Object(map) => map.values_mut().for_each(whole_numbers_as_integers),
        _ => {}
    }
}

/// Decodes a JSON object body (see [`JsonBody`]).
#[cfg(test)]
pub fn decode_object(bytes: &[u8]) -> Result<Map<String, Value>, WaError> {
    match decode_value(bytes)? {
        Value::Object(m) => Ok(m),
        Value::Null => Ok(Map::new()),
        _ => Err(WaError::undecodable("the request body must be a JSON object")),
    }
}

/// PHP's `json_last_error_msg()` wording, which clients of the original saw.
fn php_json_error(e: &serde_json::Error) -> &'static str {
    let msg = e.to_string();
    if msg.contains("control character") {
        "Control character error, possibly incorrectly encoded"
    } else if msg.contains("recursion limit") {
        "Maximum stack depth exceeded"
    } else {
        "Syntax error"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_floats_are_integers() {
        let v = decode_value(br#"{"a": 41879.0, "b": [2.0, -3.0, 2.5], "c": {"d": 1e3}, "e": 1e300}"#).unwrap();
        assert_eq!(v["a"].as_u64(), Some(41879));
        assert_eq!(v["b"][0].as_u64(), Some(2));
        assert_eq!(v["b"][1].as_i64(), Some(-3));
        assert_eq!(v["b"][2].as_f64(), Some(2.5), "a fraction stays");
        assert_eq!(v["c"]["d"].as_u64(), Some(1000));
        assert!(v["e"].is_f64(), "beyond 2^53 a float stays a float");
    }

    #[test]
    fn decoding() {
        assert!(decode_object(b"").unwrap().is_empty());
        assert!(decode_object(b"  \n").unwrap().is_empty());
        assert!(decode_object(b"null").unwrap().is_empty());
        assert_eq!(decode_object(br#"{"a":1}"#).unwrap()["a"], 1);
        let details = |b: &[u8]| decode_object(b).unwrap_err().errors[0].details.clone().unwrap().into_owned();
        assert_eq!(details(br#"{"username":"#), "Unable to decode the request: Syntax error");
        assert_eq!(details(b"[1]"), "Unable to decode the request: the request body must be a JSON object");
        assert_eq!(
            details(b"{\"a\":\"\x01\"}"),
            "Unable to decode the request: Control character error, possibly incorrectly encoded"
        );
        assert_eq!(
            details(b"{\"a\":\"\xff\"}"),
            "Unable to decode the request: Malformed UTF-8 characters, possibly incorrectly encoded"
        );
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        assert_eq!(details(deep.as_bytes()), "Unable to decode the request: Maximum stack depth exceeded");
        assert_eq!(decode_object(b"{").unwrap_err().errors[0].code.code(), 1025);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 1024, failure_persistence: None, ..Default::default() })]

        /// Whatever the bytes, decoding answers; a refusal is 400/1025 with PHP's words.
        #[test]
        fn any_body_is_decoded_or_refused_as_the_webapp_did(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..256)) {
            if let Err(e) = decode_object(&bytes) {
                proptest::prop_assert_eq!((e.status, e.errors[0].code.code()), (400, 1025));
            }
        }

        /// An object written as JSON, however spaced, reads back as itself.
        #[test]
        fn an_object_reads_back_as_written(
            m in proptest::collection::btree_map("[a-z_]{1,8}", proptest::prelude::any::<i64>(), 0..8),
            pretty in proptest::prelude::any::<bool>(),
        ) {
            let v = serde_json::to_value(&m).unwrap();
            let text = if pretty { serde_json::to_vec_pretty(&v).unwrap() } else { serde_json::to_vec(&v).unwrap() };
            proptest::prop_assert_eq!(Value::Object(decode_object(&text).unwrap()), v);
        }
    }
}
