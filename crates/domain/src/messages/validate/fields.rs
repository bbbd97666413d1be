//! Field readers and error builders shared by both passes.

use std::collections::HashSet;

use serde_json::{Map, Value};

use crate::error::{ErrorCode, Problems, WaError, shown};

/// A key whose value is not `null`.
pub(super) fn given<'a>(o: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    o.get(key).filter(|v| !v.is_null())
}

/// A key whose value is neither `null` nor `""` (the Webapp treats an empty string as absent).
pub(super) fn filled<'a>(o: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    given(o, key).filter(|v| v.as_str() != Some(""))
}

/// PHP truthiness, which the Webapp's presence checks used: `0`, `false`, `""`, `[]` and `{}`
/// all count as absent there.
pub(super) fn truthy(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
    }
}

/// PHP `empty()`, which the Webapp's `ttl` check used (it also treats the string `"0"` as empty).
pub(super) fn php_empty(v: &Value) -> bool {
    match v {
        Value::String(s) => s.is_empty() || s == "0",
        other => !truthy(Some(other)),
    }
}

/// `prefix.key`, or `key` at the top of the type object.
pub(super) fn at(prefix: &str, key: &str) -> String {
    if prefix.is_empty() { key.to_owned() } else { format!("{prefix}.{key}") }
}

pub(super) fn mandatory_for(field: &str, kind: &str) -> WaError {
    WaError::new(ErrorCode::RequiredParameterMissing, format!("Parameter '{field}' is mandatory for type '{kind}'"))
}

pub(super) fn not_required_for(field: &str, kind: &str) -> WaError {
    WaError::new(ErrorCode::ParameterNotRequired, format!("Parameter '{field}' is not required for type '{kind}'"))
}

/// A required non-empty string: 1008 when absent, 1009 when not a string.
pub(super) fn req_str<'a>(p: &mut Problems, o: &'a Map<String, Value>, prefix: &str, key: &str) -> Option<&'a str> {
    match filled(o, key) {
        None => {
            p.push(WaError::missing_parameter(&at(prefix, key)));
            None
        }
        Some(Value::String(s)) => Some(s),
        Some(other) => {
            p.push(WaError::invalid_value(&at(prefix, key), &shown(other)));
            None
        }
    }
}

/// An optional string: 1009 when present but not a string.
pub(super) fn opt_str<'a>(p: &mut Problems, o: &'a Map<String, Value>, prefix: &str, key: &str) -> Option<&'a str> {
    match given(o, key) {
        None => None,
        Some(Value::String(s)) => Some(s),
        Some(other) => {
            p.push(WaError::invalid_value(&at(prefix, key), &shown(other)));
            None
        }
    }
}

/// A required object: 1008 when absent, 1009 when not an object.
pub(super) fn req_obj<'a>(
    p: &mut Problems,
    o: &'a Map<String, Value>,
    prefix: &str,
    key: &str,
) -> Option<&'a Map<String, Value>> {
    match filled(o, key) {
        None => {
            p.push(WaError::missing_parameter(&at(prefix, key)));
            None
        }
        Some(Value::Object(m)) => Some(m),
        Some(other) => {
            p.push(WaError::invalid_value(&at(prefix, key), &shown(other)));
            None
        }
    }
}

/// An optional object: 1009 when present but not an object.
pub(super) fn opt_obj<'a>(
    p: &mut Problems,
    o: &'a Map<String, Value>,
    prefix: &str,
    key: &str,
) -> Option<&'a Map<String, Value>> {
    match filled(o, key) {
        None => None,
        Some(Value::Object(m)) => Some(m),
        Some(other) => {
            p.push(WaError::invalid_value(&at(prefix, key), &shown(other)));
            None
        }
    }
}

/// A required array (possibly empty: the callers decide what an empty one means).
pub(super) fn req_array<'a>(
    p: &mut Problems,
    o: &'a Map<String, Value>,
    prefix: &str,
    key: &str,
) -> Option<&'a [Value]> {
    match filled(o, key) {
        None => {
            p.push(WaError::missing_parameter(&at(prefix, key)));
            None
        }
        Some(Value::Array(a)) => Some(a),
        Some(other) => {
            p.push(WaError::invalid_value(&at(prefix, key), &shown(other)));
            None
        }
    }
}

/// An optional array: 1009 when present but not an array.
pub(super) fn opt_array<'a>(
    p: &mut Problems,
    o: &'a Map<String, Value>,
    prefix: &str,
    key: &str,
) -> Option<&'a [Value]> {
    match filled(o, key) {
        None => None,
        Some(Value::Array(a)) => Some(a),
        Some(other) => {
            p.push(WaError::invalid_value(&at(prefix, key), &shown(other)));
            None
        }
    }
}

/// 1009 when `s` has more than `max` characters (Unicode scalar values, not bytes).
pub(super) fn max_chars(p: &mut Problems, name: &str, s: &str, max: usize) {
    let n = s.chars().count();
    if n > max {
        p.push(WaError::invalid(format!("Parameter '{name}' is too long: {n} characters, at most {max} allowed")));
    }
}

/// 1009 when `value` was already seen under the same list.
pub(super) fn unique<'a>(p: &mut Problems, seen: &mut HashSet<&'a str>, name: &str, value: &'a str) {
    if !seen.insert(value) {
        p.push(WaError::invalid(format!("Parameter '{name}' has invalid value '{value}': it must be unique")));
    }
}

/// A non-negative integer given as a JSON integer or a string of digits (the spec's examples
/// use both, e.g. the button `index` and `day_of_week`).
pub(super) fn int_like(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => s.parse().ok(),
        _ => None,
    }
}
