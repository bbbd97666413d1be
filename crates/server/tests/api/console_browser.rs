//! The console in a real browser (issue 22): Debian's Chromium driven by
//! Playwright (PyPI) runs `tests/console/console_check.py` against the real
//! server. `WABIZ_CONSOLE_SCREENSHOTS=DIR` keeps its screenshots (the
//! README's are made so).

use std::process::Command;

use crate::helpers::*;

/// A browser check of `tests/console/`, run by `WABIZ_TEST_PYTHON` with
/// `WABIZ_TEST_CHROMIUM`.
fn browser_check(script: &str) -> Command {
    let python = std::env::var("WABIZ_TEST_PYTHON").expect("WABIZ_TEST_PYTHON");
    let chromium = std::env::var("WABIZ_TEST_CHROMIUM").expect("WABIZ_TEST_CHROMIUM");
    let mut cmd = Command::new(python);
    cmd.arg(format!("{}/tests/console/{script}", env!("CARGO_MANIFEST_DIR"))).env("WABIZ_CHROMIUM", chromium);
    cmd
}

#[cfg_attr(
    not(all(wabiz_test_browser, wabiz_test_python)),
    ignore = "needs a browser: set WABIZ_TEST_CHROMIUM and WABIZ_TEST_PYTHON (with playwright)"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_works_in_a_real_browser() {
    let rx = crate::receiver::Receiver::start().await;
    rx.refuse_containing("Is the receiver down?");
    let spawn = Spawn::instant_receipts().arg("--simulator-open-window").arg("--allow-http-webhooks");
    let app = TestApp::spawn_with(spawn).await;
    app.admin_token().await; // the factory password replaced
    let shots = std::env::var("WABIZ_CONSOLE_SCREENSHOTS").ok();
    let (base, hook) = (app.base_url.clone(), rx.url());
    let mut cmd = browser_check("console_check.py");
    cmd.arg(base).arg(ADMIN_PASSWORD).arg(hook);
    if let Some(dir) = shots {
        cmd.arg(dir);
    }
    let stdout = run_program(cmd, "console_check.py").await;
    for step in [
        "signed in",
        "inbound message shown live",
        "chat listed with its unread count",
        "chats searched and opened by keyboard",
        "document offered for download",
        "list follows the chat",
        "group chat answered by a participant",
        "test callback answered",
        "fits 390 px",
        "dark and light",
        "outbound message read",
        "per-field error shown",
        "failed message shows its code",
        "template created and sent",
        "template quick reply and list row pressed",
        "button pressed as the customer",
        "reply, location and contact as the customer",
        "picture sent as the customer",
        "failing callback retried",
        "callbacks filtered",
        "health, chaos and traffic",
        "no errors",
    ] {
        assert!(stdout.contains(step), "no `{step}`:\n{stdout}");
    }
}

/// The page recovers by itself after a restart (issue 22 §6): the script
/// signs in, then the server stops and starts again on the same port, and a
/// message that arrives afterwards appears without a reload.
#[cfg_attr(
    not(all(wabiz_test_browser, wabiz_test_python)),
    ignore = "needs a browser: set WABIZ_TEST_CHROMIUM and WABIZ_TEST_PYTHON (with playwright)"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_recovers_by_itself_after_a_restart() {
    let app = TestApp::spawn_with(Spawn::instant_receipts()).await;
    app.admin_token().await;
    let markers = tempfile::tempdir().expect("temp dir");
    let mut cmd = browser_check("console_restart_check.py");
    cmd.arg(&app.base_url).arg(ADMIN_PASSWORD).arg(markers.path());
    let browser = tokio::spawn(run_program(cmd, "console_restart_check.py"));

    let (stop, started) = (markers.path().join("stop"), markers.path().join("started"));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !stop.exists() {
        assert!(std::time::Instant::now() < deadline && !browser.is_finished(), "the page never got ready");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let app = app.restart_on_same_port().await;
    std::fs::write(&started, app.base_url.as_bytes()).expect("marker");
    let stdout = browser.await.expect("the script's task");
    for step in ["signed in, list live", "server restarted", "recovered without a reload", "no errors"] {
        assert!(stdout.contains(step), "no `{step}`:\n{stdout}");
    }
}
