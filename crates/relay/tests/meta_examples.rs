//! Meta's own send examples (Graph v23.0, `tests/contract/meta/`): each one
//! the On-Premises API can express is written as an On-Premises request,
//! which the API's validator must accept and the relay must turn into
//! exactly Meta's example; every request it makes is then checked against
//! Meta's `Message` schema (patched where the file is wrong:
//! `tests/contract/meta_contract.py`). The others are listed with why.

// A test (and its helpers) stops loudly where something it relies on failed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::{Map, Value, json};
use wabiz_domain::messages::validate::{Rules, validate};
use wabiz_relay::outbound::{CloudIds, cloud_request};

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/contract/meta_contract.py");

/// Examples no On-Premises request can express, and why.
const NOT_ON_PREMISES: [(&str, &str); 11] = [
    ("Send Catalog Message", "catalog messages came after On-Premises"),
    ("Send Catalog Template Message", "a template's catalog button came after On-Premises"),
    ("Send Draft Flow by ID", "Flows are Cloud only"),
    ("Send Draft Flow by Name", "Flows are Cloud only"),
    ("Send Published Flow by ID", "Flows are Cloud only"),
    ("Send Published Flow by Name", "Flows are Cloud only"),
    ("Send Flow Template Message", "a template's flow button is Cloud only"),
    ("Send Order Details Message", "order messages are Cloud only"),
    ("Send Order Status Message", "order messages are Cloud only"),
    (
        "Send typing indicator and read receipt",
        "not a message: the read receipt is PUT /v1/messages/{id}; typing indicators are Cloud only",
    ),
    (
        "Send Sample Issue Resolution Template",
        "its quick replies carry boolean `text` parameters; a quick reply takes a `payload`",
    ),
];

fn python(args: &[&str], input: Option<&str>) -> String {
    let python = std::env::var("WABIZ_TEST_PYTHON").expect("WABIZ_TEST_PYTHON");
    let mut child = Command::new(python)
        .arg(SCRIPT)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("python starts");
    if let Some(text) = input {
        child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "meta_contract.py {args:?} failed");
    String::from_utf8(out.stdout).unwrap()
}

/// The ids the examples use are Cloud's already.
struct Same;

impl CloudIds for Same {
    fn media(&self, id: &str) -> Option<String> {
        Some(id.to_owned())
    }
    fn message(&self, id: &str) -> Option<String> {
        Some(id.to_owned())
    }
}

/// Meta's examples hold placeholders (`{{Recipient-Phone-Number}}`,
/// `<IMAGE_OBJECT_ID>`, `http(s)://the-image-url`, `language-and-locale-code`):
/// real-looking values first, on both sides of the comparison. `key` is the
/// key `v` sits under.
fn fill(v: &mut Value, key: &str) {
    match v {
        Value::Object(o) => {
            let media = ["image", "video", "audio", "document", "sticker"].contains(&key);
            for (k, child) in o.iter_mut() {
                if media && k == "id" && child.as_str().is_some_and(|s| !s.bytes().all(|b| b.is_ascii_digit())) {
                    *child = json!("1037543291543636");
                } else {
                    fill(child, k);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| fill(i, key)),
        Value::String(s) => {
            let placeholder = s.starts_with('<') || s.starts_with("{{") || s.ends_with("...");
            *s = match key {
                "to" => "16505551234".to_owned(),
                "message_id" if placeholder => {
                    "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQTRCRDU3RUJGMkU4MEUyRjY4AA==".to_owned()
                }
                "link" if !s.starts_with("https://") => "https://example.com/media/file".to_owned(),
                "code" if s.as_str() == "language-and-locale-code" => "en_US".to_owned(),
                _ => return,
            };
        }
        _ => {}
    }
}

/// The On-Premises request that says what `cloud` says: no
/// `messaging_product`, `preview_url` at the top, a template's namespace
/// and language policy.
fn on_premises(cloud: &Value) -> Map<String, Value> {
    let mut m = cloud.as_object().unwrap().clone();
    m.remove("messaging_product");
    if let Some(preview) = m.get_mut("text").and_then(Value::as_object_mut).and_then(|t| t.remove("preview_url")) {
        m.insert("preview_url".into(), preview);
    }
    if let Some(t) = m.get_mut("template").and_then(Value::as_object_mut) {
        t.insert("namespace".into(), json!("business_a_namespace"));
        if let Some(language) = t.get_mut("language").and_then(Value::as_object_mut) {
            language.insert("policy".into(), json!("deterministic"));
        }
    }
    m
}

#[cfg_attr(not(wabiz_test_python), ignore = "needs WABIZ_TEST_PYTHON (pyyaml, jsonschema: the pip line of the README)")]
#[test]
fn every_send_example_on_premises_can_express_comes_out_as_meta_wrote_it() {
    let examples: Map<String, Value> = serde_json::from_str(&python(&["examples"], None)).unwrap();
    assert_eq!(examples.len(), 50, "Meta's file has 50 send examples");
    let mut made = Vec::new();
    let mut refused = Vec::new();
    for (name, example) in &examples {
        if NOT_ON_PREMISES.iter().any(|(n, _)| n == name) {
            continue;
        }
        let mut expected = example.clone();
        fill(&mut expected, "");
        // `preview_url: false` is On-Premises' default, and not sent.
        if expected["text"]["preview_url"] == false {
            expected["text"].as_object_mut().unwrap().remove("preview_url");
        }
        expected["recipient_type"] = json!("individual");
        let request = on_premises(&expected);
        let msg = match validate(&request, Rules { reactions: true, groups: false }) {
            Ok(msg) => msg,
            Err(e) => {
                refused.push(format!("{name}: {e}"));
                continue;
            }
        };
        let sent = cloud_request(&msg, "16505551234", &Same).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(sent, expected, "{name}");
        made.push(json!({"name": name, "request": sent}));
    }
    assert!(refused.is_empty(), "On-Premises requests the API refused:\n{}", refused.join("\n"));
    assert_eq!(made.len(), 39, "the examples On-Premises can express");
    let problems = python(&["check"], Some(&Value::Array(made).to_string()));
    assert_eq!(problems.trim(), "{}", "requests Meta's schema refuses");
}

/// Meta's 16 webhook examples through the relay's reading of webhooks: each
/// inbound message becomes one On-Premises `messages` item (with its
/// sender's contact, except a number change), nothing of Cloud's envelope
/// goes along, an unsupported message is On-Premises' `unknown` with 501,
/// and the group events (no On-Premises callback) are left out, said so.
#[cfg_attr(not(wabiz_test_python), ignore = "needs WABIZ_TEST_PYTHON (pyyaml, jsonschema: the pip line of the README)")]
#[test]
fn every_webhook_example_becomes_the_on_premises_callback_items() {
    use wabiz_relay::inbound::{CloudEvent, events};
    let examples: Map<String, Value> = serde_json::from_str(&python(&["webhooks"], None)).unwrap();
    assert_eq!(examples.len(), 16, "Meta's file has 16 webhook examples");
    let mut types = Vec::new();
    let mut left_out = 0;
    for (name, example) in &examples {
        let pnid = example["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"].as_str().unwrap();
        let (found, skipped) = events(example, pnid);
        let cloud_messages = example["entry"][0]["changes"][0]["value"]["messages"].as_array().map_or(0, Vec::len);
        assert_eq!(found.len(), cloud_messages, "{name}: {found:?} {skipped:?}");
        left_out += skipped.len();
        for event in &found {
            let text = format!("{event:?}");
            assert!(!text.contains("messaging_product") && !text.contains("phone_number_id"), "{name}: {text}");
            match event {
                CloudEvent::Message { from, contact, message } => {
                    assert_eq!(message["from"].as_str(), Some(from.as_str()), "{name}");
                    assert!(
                        message["id"].as_str().is_some_and(|id| id.starts_with("wamid.")),
                        "{name}: ids pass through"
                    );
                    let contact = contact.as_ref().unwrap_or_else(|| panic!("{name}: no contact"));
                    assert_eq!(contact["wa_id"].as_str(), Some(from.as_str()), "{name}");
                    assert!(contact["profile"]["name"].is_string(), "{name}");
                    let kind = message["type"].as_str().unwrap().to_owned();
                    if kind == "unknown" {
                        assert_eq!(message["errors"][0]["code"], 501, "{name}: {message}");
                        assert!(message["errors"][0]["details"].as_str().unwrap().starts_with("cloud_code=131051"));
                    } else {
                        assert!(message.get(&kind).is_some(), "{name}: the {kind} object");
                    }
                    types.push(kind);
                }
                CloudEvent::NumberChanged { message, .. } => {
                    assert_eq!(message["system"]["type"], "user_changed_number", "{name}");
                    assert!(
                        message["system"]["new_wa_id"].as_str().is_some_and(|n| !n.is_empty()),
                        "{name}: {message}"
                    );
                    types.push("system".to_owned());
                }
                other => panic!("{name}: {other:?}"),
            }
        }
    }
    types.sort();
    let expected = [
        "button",
        "contacts",
        "image",
        "interactive",
        "interactive",
        "location",
        "order",
        "reaction",
        "system",
        "text",
        "text",
        "text",
        "unknown",
    ];
    assert_eq!(types, expected);
    assert_eq!(left_out, 3, "the three group events");
}
