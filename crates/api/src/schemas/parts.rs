//! Schema pieces several operations share.

use serde_json::{Value, json};

/// `meta` as every answer carries it.
pub fn meta() -> Value {
    json!({
        "type": "object",
        "required": ["version", "api_status"],
        "properties": {"version": {"type": "string"}, "api_status": {"type": "string", "enum": ["stable", "deprecated"]}},
    })
}

/// An answer with `meta` and `payload`'s properties, all required.
pub fn envelope(payload: &[(&str, Value)]) -> Value {
    let mut properties = serde_json::Map::new();
    properties.insert("meta".into(), meta());
    let mut required = vec![json!("meta")];
    for (name, schema) in payload {
        properties.insert((*name).to_owned(), schema.clone());
        required.push(json!(name));
    }
    json!({"type": "object", "required": required, "properties": properties})
}

/// An answer with `meta` only.
pub fn meta_only() -> Value {
    envelope(&[])
}

/// An example `meta`.
pub fn meta_example() -> Value {
    json!({"version": "v2.53.1", "api_status": "stable"})
}

/// An array of exactly one item of `item`.
pub fn one(item: Value) -> Value {
    json!({"type": "array", "minItems": 1, "maxItems": 1, "items": item})
}

/// An object whose listed properties are all required.
pub fn object(properties: Value) -> Value {
    let required: Vec<Value> = properties.as_object().map(|p| p.keys().map(|k| json!(k)).collect()).unwrap_or_default();
    json!({"type": "object", "required": required, "properties": properties})
}

/// A share from 0 to 1.
pub fn share() -> Value {
    json!({"type": "number", "minimum": 0, "maximum": 1})
}
