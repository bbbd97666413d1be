//! Property tests of the webhook body (issue 21 §4): callback items joined
//! as text always make one JSON document, the items in their order and each
//! sender's contact once.

// A property stops loudly where something it relies on failed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use serde_json::{Value, json};
use wabiz_domain::callbacks::{CallbackKind, PendingCallback};
use wabiz_webhooks::body::compose;

#[path = "../../../build-support/json_strategy.rs"]
mod json_strategy;
use json_strategy::json_value;

fn pending(item: &Value, contact: Option<&Value>) -> PendingCallback {
    PendingCallback {
        seq: 0,
        kind: CallbackKind::Message,
        peer: String::new(),
        subject: None,
        item: item.to_string(),
        contact: contact.map(Value::to_string),
        created_at: 0,
        attempts: 0,
        next_attempt_at: 0,
        last_attempt_at: None,
        last_result: None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn a_body_is_one_document_with_every_item_in_order(
        items in prop::collection::vec((json_value(), prop::option::of(0usize..3)), 1..8),
    ) {
        let contacts: Vec<Value> = (0..3).map(|n| json!({"wa_id": format!("1631555{n:04}")})).collect();
        let callbacks: Vec<PendingCallback> =
            items.iter().map(|(item, c)| pending(item, c.map(|n| &contacts[n]))).collect();
        let refs: Vec<&PendingCallback> = callbacks.iter().collect();
        for kind in [CallbackKind::Message, CallbackKind::Status] {
            let body: Value = serde_json::from_str(&compose(kind, &refs)).unwrap();
            let got = body[kind.as_str()].as_array().unwrap();
            // Each item as its stored text reads (serde_json's float parsing is
            // not exact, the same way on both sides).
            let want: Vec<Value> = callbacks.iter().map(|c| serde_json::from_str(&c.item).unwrap()).collect();
            prop_assert_eq!(got, &want);
            if kind == CallbackKind::Message {
                // Each sender once, in order of first appearance.
                let mut first: Vec<&Value> = Vec::new();
                for n in items.iter().filter_map(|(_, c)| *c) {
                    if !first.contains(&&contacts[n]) {
                        first.push(&contacts[n]);
                    }
                }
                let shown: Vec<&Value> = body["contacts"].as_array().map(|a| a.iter().collect()).unwrap_or_default();
                prop_assert_eq!(shown, first);
            } else {
                prop_assert!(body.get("contacts").is_none());
            }
        }
    }
}
