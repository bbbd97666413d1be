//! The requests the relay made to the Graph stand-in, checked against
//! Meta's own description of the API: each body against the schema of its
//! operation (sends against `Message`), with the patches and their reasons
//! in `crates/relay/tests/contract/meta_contract.py`.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::graph_standin::GraphCall;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../relay/tests/contract/meta_contract.py");

/// Meta's webhook examples, by name.
pub fn webhook_examples() -> Vec<(String, Value)> {
    let python = std::env::var("WABIZ_TEST_PYTHON").expect("WABIZ_TEST_PYTHON (a Python with jsonschema and pyyaml)");
    let out = Command::new(python).arg(SCRIPT).arg("webhooks").stderr(Stdio::inherit()).output().expect("python runs");
    assert!(out.status.success(), "meta_contract.py webhooks failed");
    let examples: serde_json::Map<String, Value> = serde_json::from_slice(&out.stdout).unwrap();
    examples.into_iter().collect()
}

/// Meta's operation for a call the relay makes, and the body's media type;
/// `None` for calls without a body to check (reads, deletes, the photo's
/// resumable upload, which is the Graph API's, not this description's).
fn operation_of(call: &GraphCall) -> Option<(&'static str, &'static str)> {
    use crate::graph_standin::PNID;
    if call.method != reqwest::Method::POST {
        return None;
    }
    let under = call.path.strip_prefix(&format!("/{PNID}"))?;
    Some(match under {
        "/messages" => ("sendMessage", "application/json"),
        "/media" => ("uploadImage", "multipart/form-data"),
        "/register" => ("registerWhatsAppBusinessPhoneNumber", "application/json"),
        "/request_code" => ("requestVerificationCode", "application/json"),
        "/verify_code" => ("verifyPhoneNumberCode", "application/json"),
        "/whatsapp_business_profile" => ("updateWhatsAppBusinessProfileInformation", "application/json"),
        _ => return None,
    })
}

/// Fails the test if Meta's description refuses any of the bodies of
/// `calls`; returns how many were checked.
pub fn check_calls(calls: &[GraphCall]) -> usize {
    let python = std::env::var("WABIZ_TEST_PYTHON").expect("WABIZ_TEST_PYTHON (a Python with jsonschema and pyyaml)");
    let items: Vec<Value> = calls
        .iter()
        .enumerate()
        .filter_map(|(i, c)| {
            let (operation, content_type) = operation_of(c)?;
            let mut request = c.body.clone();
            if content_type == "multipart/form-data" {
                // The form's fields; the file is bytes, not checked here.
                request["file"] = json!("<the file>");
                if let Some(o) = request.as_object_mut() {
                    o.remove("file_content_type");
                }
            }
            Some(json!({"name": format!("call {i} {} {}", c.method, c.path), "operation": operation,
                        "content_type": content_type, "request": request}))
        })
        .collect();
    assert!(!items.is_empty(), "no call to check");
    let mut child = Command::new(python)
        .arg(SCRIPT)
        .arg("calls")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("python starts");
    child.stdin.take().unwrap().write_all(Value::Array(items.clone()).to_string().as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "meta_contract.py calls failed");
    let refused: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(refused, json!({}), "Meta's description refused calls: {refused:#}\ncalls: {items:#?}");
    items.len()
}
