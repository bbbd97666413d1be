//! Property tests of the simulator's control-API parsers (issue 21 §4): the
//! chaos settings, forced outcomes, traffic requests and customers'
//! messages never panic, refuse as client errors, and what they accept
//! reads back as itself.

// A property stops loudly where something it relies on failed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use serde_json::{Map, Value};
use wabiz_domain::WaError;
use wabiz_simulator::chaos::{ChaosConfig, Outcome};
use wabiz_simulator::inbound;
use wabiz_simulator::traffic::TrafficSpec;

#[path = "../../../build-support/json_strategy.rs"]
mod json_strategy;
use json_strategy::{json_value, key};

fn json_object() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::btree_map(key(), json_value(), 0..6).prop_map(|m| m.into_iter().collect())
}

fn assert_refusal(e: &WaError) {
    assert!((400..500).contains(&e.status), "{e:?}");
    assert!(!e.errors.is_empty());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn chaos_settings_never_panic_and_read_back(body in json_object()) {
        match ChaosConfig::parse(&body) {
            Err(e) => assert_refusal(&e),
            Ok(config) => {
                let shown = config.to_json();
                let again = ChaosConfig::parse(shown.as_object().unwrap()).unwrap();
                prop_assert_eq!(again, config);
            }
        }
        if let Err(e) = Outcome::parse(&body) {
            assert_refusal(&e);
        }
    }

    #[test]
    fn traffic_requests_never_panic_and_what_they_make_is_a_valid_message(body in json_object()) {
        match TrafficSpec::parse(&body) {
            Err(e) => assert_refusal(&e),
            Ok(spec) => {
                let again = TrafficSpec::parse(spec.to_json().as_object().unwrap()).unwrap();
                prop_assert_eq!(&again, &spec);
                for n in 0..5 {
                    prop_assert!(inbound::parse(&spec.message(n)).is_ok());
                }
            }
        }
    }

    #[test]
    fn customers_messages_never_panic(body in json_object()) {
        if let Err(e) = inbound::parse(&body) {
            assert_refusal(&e);
        }
    }
}
