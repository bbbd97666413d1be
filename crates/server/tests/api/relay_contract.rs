//! Every send the relay made to the Graph stand-in, checked against Meta's
//! own description of the API (its `Message` schema, with the patches and
//! their reasons in `crates/relay/tests/contract/meta_contract.py`).

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::graph_standin::GraphCall;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../relay/tests/contract/meta_contract.py");

/// Fails the test if Meta's schema refuses any of `sends`.
pub fn check_sends(sends: &[GraphCall]) {
    assert!(!sends.is_empty(), "no send to check");
    let python = std::env::var("WABIZ_TEST_PYTHON").expect("WABIZ_TEST_PYTHON (a Python with jsonschema and pyyaml)");
    let items: Vec<Value> =
        sends.iter().enumerate().map(|(i, c)| json!({"name": format!("send {i}"), "request": c.body})).collect();
    let mut child = Command::new(python)
        .arg(SCRIPT)
        .arg("check")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("python starts");
    child.stdin.take().unwrap().write_all(Value::Array(items).to_string().as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "meta_contract.py check failed");
    let refused: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(refused, json!({}), "Meta's schema refused sends: {refused:#}\nsends: {sends:#?}");
}

/// Meta's webhook examples, by name.
pub fn webhook_examples() -> Vec<(String, Value)> {
    let python = std::env::var("WABIZ_TEST_PYTHON").expect("WABIZ_TEST_PYTHON (a Python with jsonschema and pyyaml)");
    let out = Command::new(python).arg(SCRIPT).arg("webhooks").stderr(Stdio::inherit()).output().expect("python runs");
    assert!(out.status.success(), "meta_contract.py webhooks failed");
    let examples: serde_json::Map<String, Value> = serde_json::from_slice(&out.stdout).unwrap();
    examples.into_iter().collect()
}
