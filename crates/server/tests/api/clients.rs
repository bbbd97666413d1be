//! Real third-party On-Premises clients against the real server. Each needs an
//! interpreter with the client installed (`.ci/run` provides one); without it
//! the test is listed as skipped.

use std::process::Command;

use std::time::Duration;

use serde_json::json;

use crate::helpers::*;
use crate::receiver::Receiver;

/// The Python interpreter that has `wabclient` installed.
const PYTHON_VAR: &str = "WABIZ_TEST_PYTHON";

/// Tests that call it are ignored where the variable was not set at build time.
fn python(test: &str) -> String {
    match std::env::var(PYTHON_VAR) {
        Ok(p) if !p.is_empty() => p,
        _ => panic!("{test}: built with {PYTHON_VAR} set, run without it"),
    }
}

/// praekelt's `wabclient` (PyPI) logs in, reads and writes settings (delay
/// fields as strings), profile, business profile, photo, users, backup and
/// restore, over HTTPS, trusting the server's generated CA. Then it checks a
/// contact and sends a text, an uploaded image and a template (`hsm`), and
/// the sent/delivered/read statuses of each reach the webhook it configured.
#[cfg_attr(not(wabiz_test_python), ignore = "needs the real clients: set WABIZ_TEST_PYTHON")]
#[tokio::test]
async fn wabclient_works_unchanged() {
    let python = python("wabclient_works_unchanged");
    let rx = Receiver::start().await;
    let spawn =
        Spawn { https: true, ..Spawn::instant_receipts() }.arg("--allow-http-webhooks").arg("--simulator-open-window");
    let app = TestApp::spawn_with(spawn).await;
    // The registry knows the template the client sends (stored directly:
    // wabclient must meet the factory password at its first login).
    let template = wabiz_domain::ports::TemplateRecord {
        namespace: "wabclient_ns".into(),
        name: "greeting".into(),
        language: "en".into(),
        components: json!([{"type": "BODY", "text": "Hello {{1}}!"}]).to_string(),
        created_at: 0,
        category: "UTILITY".into(),
        status: "APPROVED".into(),
        reason: None,
    };
    app.app().store().put_template(&template).await.expect("template stored");
    let ca = app.data_dir.path().join("tls/ca.pem");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients/wabclient_check.py");
    let (base, hook) = (app.base_url.clone(), rx.url());
    let mut cmd = Command::new(python);
    cmd.arg(script).arg(base).arg(hook).env("REQUESTS_CA_BUNDLE", ca);
    let stdout = run_program(cmd, "wabclient").await;
    assert!(stdout.contains("checks passed"), "{stdout}");
    let ids = printed_message_ids(&stdout);
    each_sent_delivered_read(&rx, &ids).await;
}

/// The ids `wabclient_check.py` prints of the messages it sent.
fn printed_message_ids(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("MESSAGE_IDS "))
        .and_then(|j| serde_json::from_str(j).ok())
        .unwrap_or_else(|| panic!("no message ids printed: {stdout}"))
}

/// Waits until the webhook got `sent`, `delivered`, `read` of each of `ids`,
/// in that order.
async fn each_sent_delivered_read(rx: &Receiver, ids: &[String]) {
    let pairs = rx.wait_for_statuses(3 * ids.len(), Duration::from_secs(20)).await;
    for id in ids {
        let of: Vec<&str> = pairs.iter().filter(|(i, _)| i == id).map(|(_, s)| s.as_str()).collect();
        assert_eq!(of, ["sent", "delivered", "read"], "statuses of {id}: {pairs:?}");
    }
}

/// A Python integration reads the event stream with `sseclient-py` (PyPI):
/// a message's statuses as they happen, then a reconnection with
/// `Last-Event-ID` that picks up exactly after the event it names.
#[cfg_attr(not(wabiz_test_python), ignore = "needs the real clients: set WABIZ_TEST_PYTHON")]
#[tokio::test]
async fn sseclient_reads_the_event_stream() {
    let python = python("sseclient_reads_the_event_stream");
    let app = TestApp::spawn_with(Spawn::default().arg("--simulator-open-window")).await;
    let admin = app.admin_token().await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients/sse_check.py");
    let base = app.base_url.clone();
    let mut cmd = Command::new(python);
    cmd.arg(script).arg(base).arg(admin);
    let stdout = run_program(cmd, "sse_check.py").await;
    assert!(stdout.contains("statuses sent delivered read"), "{stdout}");
    assert!(stdout.contains("resumed delivered read"), "{stdout}");
}

/// A client generated from `/openapi.json` by openapi-python-client (PyPI,
/// the generator's defaults) logs in with HTTP Basic, sends a text through
/// the typed text model of the message `oneOf`, and reads the settings into
/// its typed model: the document is good enough to build a client from.
#[cfg_attr(not(wabiz_test_python), ignore = "needs the real clients: set WABIZ_TEST_PYTHON")]
#[tokio::test]
async fn a_client_generated_from_the_document_works() {
    let python = python("a_client_generated_from_the_document_works");
    let app = TestApp::spawn_with(Spawn::instant_receipts().arg("--simulator-open-window")).await;
    app.admin_token().await; // the factory password replaced
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients/generated_client_check.py");
    let base = app.base_url.clone();
    let mut cmd = Command::new(python);
    cmd.arg(script).arg(base).arg(ADMIN_PASSWORD);
    let stdout = run_program(cmd, "generated_client_check.py").await;
    for line in ["login v", "sent ", "settings callback_persist"] {
        assert!(stdout.contains(line), "no `{line}`:\n{stdout}");
    }
}

/// The same `wabclient` flow against wabiz in relay mode (`--network cloud`,
/// on the Graph API stand-in): its text, image and `hsm` reach Cloud in
/// Cloud's shapes (checked against Meta's description), and the statuses
/// Cloud then reports by webhook reach the integration as it expects them.
#[cfg_attr(not(wabiz_test_python), ignore = "needs the real clients: set WABIZ_TEST_PYTHON")]
#[tokio::test]
async fn wabclient_works_unchanged_in_relay_mode() {
    use crate::graph_standin::{GraphStandIn, deliver, webhook};
    let python = python("wabclient_works_unchanged_in_relay_mode");
    let graph = GraphStandIn::start().await;
    let rx = Receiver::start().await;
    let spawn = graph.relay_args().iter().fold(Spawn::https().arg("--allow-http-webhooks"), |s, a| s.arg(a));
    let app = TestApp::spawn_with(spawn).await;
    let ca = app.data_dir.path().join("tls/ca.pem");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients/wabclient_check.py");
    let mut cmd = Command::new(python);
    cmd.arg(script).arg(app.base_url.clone()).arg(rx.url()).env("REQUESTS_CA_BUNDLE", ca);
    let stdout = run_program(cmd, "wabclient").await;
    assert!(stdout.contains("checks passed"), "{stdout}");
    let ids = printed_message_ids(&stdout);
    graph
        .wait_for(Duration::from_secs(20), "the three sends taken", |_| {
            graph.sends().iter().filter(|c| c.wamid.is_some()).count() == 3
        })
        .await;
    let sends = graph.sends();
    let kinds: Vec<&str> = sends.iter().map(|c| c.body["type"].as_str().unwrap_or_default()).collect();
    assert_eq!(kinds, ["text", "image", "template"], "the hsm goes as a template (§9.3)");
    assert_eq!(sends[2].body["template"]["name"], "greeting");
    assert_eq!(sends[2].body["template"]["components"][0]["parameters"][0], json!({"type": "text", "text": "Kerry"}));
    crate::relay_contract::check_calls(&graph.calls());
    for (i, send) in sends.iter().enumerate() {
        let wamid = send.wamid.clone().unwrap();
        let statuses: Vec<serde_json::Value> = ["sent", "delivered", "read"]
            .iter()
            .enumerate()
            .map(|(n, s)| json!({"id": wamid, "status": s, "timestamp": (1_700_000_000 + 10 * i + n).to_string(), "recipient_id": "16315551234"}))
            .collect();
        let status = deliver(&app.client, &app.base_url, &webhook(json!({"statuses": statuses}))).await;
        assert_eq!(status, 200);
    }
    each_sent_delivered_read(&rx, &ids).await;
}
