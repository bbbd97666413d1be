//! Shared by the property tests of several crates (included with `#[path]`):
//! JSON values of every kind, nested a few levels, with keys that requests
//! carry and keys they should not.

use proptest::prelude::*;
use serde_json::{Value, json};

/// Any JSON value, nested a few levels.
pub fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| json!(f)),
        ".{0,20}".prop_map(Value::String),
        "[0-9]{1,16}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(key(), inner, 0..5).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Keys a request might carry, and some it should not.
pub fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "to",
            "type",
            "recipient_type",
            "text",
            "body",
            "preview_url",
            "ttl",
            "context",
            "id",
            "image",
            "link",
            "caption",
            "template",
            "namespace",
            "name",
            "language",
            "code",
            "policy",
            "components",
            "parameters",
            "interactive",
            "action",
            "buttons",
            "location",
            "latitude",
            "longitude",
            "contacts",
            "hsm",
            "media",
            "webhooks",
            "url",
            "callback_persist",
            "max_callback_backoff_delay_ms",
            "sent_status",
            "days",
        ])
        .prop_map(str::to_owned),
        "[a-z_]{1,12}",
    ]
}
