//! Real third-party On-Premises clients against the real server. Each needs an
//! interpreter with the client installed (`.ci/run` provides one); without it
//! the test says loudly that it was skipped.

use std::process::Command;

use crate::helpers::*;

/// The Python interpreter that has `wabclient` installed.
const PYTHON_VAR: &str = "WABIZ_TEST_PYTHON";

fn python(test: &str) -> Option<String> {
    match std::env::var(PYTHON_VAR) {
        Ok(p) if !p.is_empty() => Some(p),
        _ => {
            eprintln!("SKIPPED: {test}: {PYTHON_VAR} is not set, so the real-client test did not run");
            None
        }
    }
}

/// praekelt's `wabclient` (PyPI) logs in, reads and writes settings (delay
/// fields as strings), profile, business profile, photo, users, backup and
/// restore, over HTTPS, trusting the server's generated CA.
#[tokio::test]
async fn wabclient_works_unchanged() {
    let Some(python) = python("wabclient_works_unchanged") else { return };
    let app = TestApp::spawn_with(Spawn::https()).await;
    let ca = app.data_dir.path().join("tls/ca.pem");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients/wabclient_check.py");
    let base = app.base_url.clone();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(python).arg(script).arg(base).env("REQUESTS_CA_BUNDLE", ca).output()
    })
    .await
    .unwrap()
    .expect("the interpreter runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "wabclient failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("checks passed"), "{stdout}");
}
