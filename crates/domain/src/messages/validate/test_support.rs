//! Helpers and fixtures shared by the section tests: requests are built as JSON and run
//! through [`validate`] end to end, so each test sees what a client would.

use serde_json::{Map, Value, json};

use super::{OutboundMessage, Rules, validate};
use crate::error::WaError;

/// One reported error: (code, details).
pub(super) type Reported = (u16, String);

pub(super) const RULES: Rules = Rules { reactions: false, groups: true };

pub(super) fn map(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        other => panic!("not an object: {other}"),
    }
}

pub(super) fn check_with(v: Value, rules: Rules) -> Result<OutboundMessage, WaError> {
    validate(&map(v), rules)
}

pub(super) fn ok(v: Value) -> OutboundMessage {
    check_with(v, RULES).unwrap_or_else(|e| panic!("rejected: {e}"))
}

pub(super) fn errs_with(v: Value, rules: Rules) -> Vec<Reported> {
    let e = check_with(v, rules).expect_err("accepted");
    assert_eq!(e.status, e.errors.last().unwrap().code.http_status());
    e.errors.into_iter().map(|i| (i.code.code(), i.details.unwrap_or_default().into_owned())).collect()
}

pub(super) fn errs(v: Value) -> Vec<Reported> {
    errs_with(v, RULES)
}

pub(super) fn codes(v: Value) -> Vec<u16> {
    errs(v).into_iter().map(|(c, _)| c).collect()
}

/// A request of the given type around `object`.
pub(super) fn of(kind: &str, object: Value) -> Value {
    let mut m = map(json!({"to": "16315551234", "type": kind}));
    m.insert(kind.to_owned(), object);
    Value::Object(m)
}

pub(super) fn one(code: u16, details: &str) -> Vec<Reported> {
    vec![(code, details.to_owned())]
}

pub(super) fn codes_with(v: Value, rules: Rules) -> Vec<u16> {
    errs_with(v, rules).into_iter().map(|(c, _)| c).collect()
}

pub(super) fn template_body() -> Value {
    json!({
        "namespace": "business_a_namespace",
        "name": "order_update",
        "language": {"policy": "deterministic", "code": "en_US"},
        "components": [
            {"type": "header", "parameters": [{"type": "image", "image": {"link": "https://example.com/h.jpg"}}]},
            {"type": "body", "parameters": [
                {"type": "text", "text": "Jane"},
                {"type": "currency", "currency": {"fallback_value": "$100.99", "code": "USD", "amount_1000": 100990}},
                {"type": "date_time", "date_time": {"fallback_value": "February 25, 1977"}}]},
            {"type": "button", "sub_type": "quick_reply", "index": "0", "parameters": [{"type": "payload", "payload": "YES-123"}]},
            {"type": "button", "sub_type": "url", "index": 1, "parameters": [{"type": "text", "text": "order/123"}]}
        ]
    })
}

/// The spec's template example with one change at a JSON pointer.
pub(super) fn template_with(pointer: &str, v: Option<Value>) -> Value {
    let mut t = template_body();
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let parent = t.pointer_mut(parent).unwrap();
    match (parent, v) {
        (Value::Object(o), Some(v)) => {
            o.insert(key.to_owned(), v);
        }
        (Value::Object(o), None) => {
            o.remove(key);
        }
        (Value::Array(a), Some(v)) => a[key.parse::<usize>().unwrap()] = v,
        _ => panic!("bad pointer"),
    }
    of("template", t)
}

pub(super) fn hsm_body() -> Value {
    json!({
        "namespace": "business_a_namespace", "element_name": "hello_world",
        "language": {"policy": "deterministic", "code": "en"},
        "localizable_params": [
            {"default": "1234"},
            {"default": "$100.99", "currency": {"currency_code": "USD", "amount_1000": 100990}},
            {"default": "February 25, 1977", "date_time": {"component": {"day_of_week": 5, "day_of_month": 25, "year": 1977, "month": 2, "hour": 15, "minute": 33}}},
            {"default": "ignored", "date_time": {"unix_epoch": {"timestamp": 1485470276}}}
        ]
    })
}
