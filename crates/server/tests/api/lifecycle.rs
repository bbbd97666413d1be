//! Starting, stopping and restarting: what survives, on both engines; the
//! generated certificate; and the real `wabiz` binary.

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

/// Users, passwords and unexpired tokens survive a restart.
async fn survives_restart(spawn: Spawn) {
    let app = TestApp::spawn_with(spawn).await;
    let admin = app.admin_token().await;
    let user = app.user_token(&admin, "jdoe", "Passw0rd!").await;
    let logged_out = app.admin_token().await;
    let (s, b) = app.call(&logged_out, Method::POST, "/v1/users/logout", None).await;
    assert_eq!(s, 200, "{b}");

    let app = app.restart().await;
    for token in [&admin, &user] {
        let (s, _) = app.get(token, "/v1/users/jdoe").await;
        assert_eq!(s, 200, "token lost in the restart");
    }
    let (s, b) = app.get(&logged_out, "/v1/health").await;
    assert_error(s, &b, 401, 1005, Some("Invalid credentials."));
    // The changed admin password is kept; the factory one stays refused.
    assert_eq!(app.login("admin", ADMIN_PASSWORD, None).await.status(), 200);
    assert_eq!(app.login("admin", "secret", None).await.status(), 401);
    assert_eq!(app.login("jdoe", "Passw0rd!", None).await.status(), 200);
}

#[tokio::test]
async fn restart_keeps_users_passwords_and_tokens_on_sqlite() {
    survives_restart(Spawn::default()).await;
}

#[cfg_attr(not(wabiz_test_pg), ignore = "needs PostgreSQL: set WABIZ_TEST_PG_URL")]
#[tokio::test]
async fn restart_keeps_users_passwords_and_tokens_on_postgres() {
    let schema = pg_schema("restart").await;
    survives_restart(Spawn::default().arg("--database").arg(&schema.url)).await;
    schema.drop_schema().await;
}

#[cfg_attr(not(wabiz_test_pg), ignore = "needs PostgreSQL: set WABIZ_TEST_PG_URL")]
#[tokio::test]
async fn two_servers_on_one_postgres_database_share_users_and_tokens() {
    let schema = pg_schema("shared").await;
    let a = TestApp::spawn_with(Spawn::default().arg("--database").arg(&schema.url)).await;
    let b = TestApp::spawn_with(Spawn::default().arg("--database").arg(&schema.url)).await;
    let admin = a.admin_token().await;
    // Server b knows the new password and accepts a's token (one signing key in the database).
    assert_eq!(b.login("admin", ADMIN_PASSWORD, None).await.status(), 200);
    assert_eq!(b.get(&admin, "/v1/users/admin").await.0, 200);
    drop((a, b));
    schema.drop_schema().await;
}

#[tokio::test]
async fn generated_certificate_is_kept_across_restarts() {
    let app = TestApp::spawn_with(Spawn::https()).await;
    let ca = app.app().ca_pem().expect("generated CA").to_owned();
    let cert = std::fs::read_to_string(app.data_dir.path().join("tls/server.pem")).unwrap();
    let admin = app.admin_token().await;
    let app = app.restart().await;
    assert_eq!(app.app().ca_pem(), Some(ca.as_str()));
    assert_eq!(std::fs::read_to_string(app.data_dir.path().join("tls/server.pem")).unwrap(), cert);
    assert_eq!(app.get(&admin, "/v1/health").await.0, 200);
}

#[tokio::test]
async fn plain_http_is_refused_on_the_https_listener() {
    let app = TestApp::spawn_with(Spawn::https()).await;
    let plain = app.url("/").replacen("https://", "http://", 1);
    let r = plain_client().get(plain).send().await;
    assert!(r.is_err() || r.unwrap().status() != 200);
}

// ---------------------------------------------------------------- the binary

pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) addr: String,
    /// Every log line the process wrote to stdout so far.
    pub(crate) log: Arc<Mutex<Vec<String>>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the real binary the way the README does (HTTPS, embedded default),
/// but on a random port and a temporary data dir, and waits for its
/// "listening" log line.
fn start_binary(data_dir: &std::path::Path) -> Server {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wabiz"));
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"]).arg(data_dir);
    spawn_logged(cmd)
}

/// `wabiz serve` as the binary tests run it: a random port, plain HTTP,
/// `http://` webhooks, every customer in the window and instant receipts.
/// The caller adds the data dir and its own options.
pub(crate) fn instant_binary() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wabiz"));
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--insecure-http", "--allow-http-webhooks"])
        .args(["--simulator-open-window", "--simulator-sent-delay-ms", "0"])
        .args(["--simulator-delivered-delay-ms", "0", "--simulator-read-delay-ms", "0"]);
    cmd
}

/// Runs `cmd` with its stdout captured and waits for the "listening" line.
pub(crate) fn spawn_logged(mut cmd: Command) -> Server {
    let mut child =
        cmd.env_remove("RUST_LOG").stdout(Stdio::piped()).stderr(Stdio::null()).spawn().expect("wabiz starts");
    let stdout = child.stdout.take().expect("stdout");
    let log = Arc::new(Mutex::new(Vec::new()));
    let (tx, rx) = std::sync::mpsc::channel();
    let sink = Arc::clone(&log);
    // Keeps reading for the life of the process, so nothing it logs is lost.
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let v: serde_json::Value = serde_json::from_str(&line).expect("JSON log lines");
            // Kept before the address is reported, so a test that has the
            // address finds the line in the log.
            sink.lock().unwrap().push(line);
            if v["message"] == "wabiz is listening" {
                let _ = tx.send(v["addr"].as_str().unwrap_or_default().to_owned());
            }
        }
    });
    let addr = rx.recv_timeout(Duration::from_secs(60)).expect("a 'wabiz is listening' log line");
    Server { child, addr, log }
}

fn https_client(data_dir: &std::path::Path) -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let ca = std::fs::read(data_dir.join("tls/ca.pem")).expect("CA written to the data dir");
    reqwest::Client::builder().tls_certs_only([reqwest::Certificate::from_pem(&ca).unwrap()]).build().unwrap()
}

#[tokio::test]
async fn the_binary_serves_https_and_keeps_its_state() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_binary(dir.path());
    let client = https_client(dir.path());
    let base = format!("https://{}", server.addr);
    let token = first_admin_login(&client, &base).await;

    // SIGTERM: a graceful stop with exit status 0.
    let mut server = server;
    let pid = server.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let status = server.child.wait().unwrap();
    assert!(status.success(), "exit status {status}");

    let first_log = server.log.lock().unwrap().clone();

    // Started again on the same data dir: same certificate, same token.
    let server = start_binary(dir.path());
    let client = https_client(dir.path());
    let (s, b) = send(client.get(format!("https://{}/v1/health", server.addr)).bearer_auth(&token)).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["health"]["gateway_status"], "connected");

    // A user created just before a SIGKILL is still there afterwards: a 201
    // means the write was on disk.
    let r = client
        .post(format!("https://{}/v1/users", server.addr))
        .bearer_auth(&token)
        .json(&json!({"username": "jdoe", "password": "S3cret-Passw0rd"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    // The reader thread must have seen the line before the process dies.
    wait_for_log(&server, "user created", |v| v["message"] == "user created" && v["user"] == "jdoe");
    let mut server = server;
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    let second_log = server.log.lock().unwrap().clone();
    let server = start_binary(dir.path());
    let client = https_client(dir.path());
    let r = client
        .post(format!("https://{}/v1/users/login", server.addr))
        .basic_auth("jdoe", Some("S3cret-Passw0rd"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "user lost in the crash");

    // Nothing secret was logged at the default level.
    let log = [first_log, second_log, server.log.lock().unwrap().clone()].concat().join("\n");
    assert!(log.contains("wabiz is listening") && log.contains("user created"), "the log was captured");
    for secret in [ADMIN_PASSWORD, "Passw0rd!", "S3cret-Passw0rd", token.as_str(), "\"secret\""] {
        assert!(!log.contains(secret), "{secret} appears in the log");
    }
}

#[tokio::test]
async fn every_option_can_come_from_a_wabiz_variable() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wabiz"));
    cmd.arg("serve")
        .env("WABIZ_LISTEN", "127.0.0.1:0")
        .env("WABIZ_DATA_DIR", dir.path())
        .env("WABIZ_INSECURE_HTTP", "true")
        .env("WABIZ_UNREGISTERED", "true")
        .env("WABIZ_API_KEY", "env-api-key-0123")
        .env("WABIZ_LOG_FORMAT", "json");
    let server = spawn_logged(cmd);
    let r = plain_client()
        .get(format!("http://{}/v1/health", server.addr))
        .header("Authorization", "Apikey env-api-key-0123")
        .send()
        .await
        .unwrap();
    let (s, b) = json(r).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["health"]["gateway_status"], "unregistered");
    assert!(dir.path().join("wabiz.db").exists(), "the database is in WABIZ_DATA_DIR");
}

#[test]
fn help_describes_every_option() {
    let out = Command::new(env!("CARGO_BIN_EXE_wabiz")).args(["serve", "--help"]).output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for opt in [
        "--listen",
        "--data-dir",
        "--database",
        "--insecure-http",
        "--allow-http-webhooks",
        "--network",
        "--simulator-number",
        "--unregistered",
        "--tls-cert-file",
        "--tls-key-file",
        "--api-key",
        "--log-format",
        "WABIZ_LISTEN",
        "WABIZ_DATA_DIR",
        "WABIZ_DATABASE",
    ] {
        assert!(help.contains(opt), "{opt} missing from serve --help");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_wabiz")).arg("--help").output().unwrap();
    assert!(String::from_utf8(out.stdout).unwrap().contains("serve"));
}

#[test]
fn bad_options_stop_the_binary_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_wabiz"))
        .args(["serve", "--listen", "127.0.0.1:0", "--database", "mysql://root@db/wa", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unsupported database URL"));

    let out = Command::new(env!("CARGO_BIN_EXE_wabiz"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .env("WA_APP_MULTICONNECT", "yes")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("WA_APP_MULTICONNECT"));
}

/// Waits (with a deadline) until a log line satisfies `pred`.
fn wait_for_log(server: &Server, what: &str, pred: impl Fn(&serde_json::Value) -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let found = server
            .log
            .lock()
            .unwrap()
            .iter()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .any(|v| pred(&v));
        if found {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "no log line: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn logged_user_created(server: &Server, user: &str) -> bool {
    server
        .log
        .lock()
        .unwrap()
        .iter()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .any(|v| v["message"] == "user created" && v["user"] == user)
}

/// Drives the log settings of a running binary and reports which of three
/// users' "user created" INFO lines were written: one created at the default
/// level, one after `log_level: warning`, one after `verbose_logging: true`.
async fn log_level_scenario(extra: &[&str]) -> (bool, bool, bool, bool) {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wabiz"));
    cmd.args(["serve", "--insecure-http", "--listen", "127.0.0.1:0", "--data-dir"]).arg(dir.path()).args(extra);
    let server = spawn_logged(cmd);
    let base = format!("http://{}", server.addr);
    let client = plain_client();
    let token = first_admin_login(&client, &base).await;
    let create = |name: &'static str| {
        client
            .post(format!("{base}/v1/users"))
            .bearer_auth(&token)
            .json(&json!({"username": name, "password": "Passw0rd!"}))
            .send()
    };
    let patch = |body: serde_json::Value| {
        client.patch(format!("{base}/v1/settings/application")).bearer_auth(&token).json(&body).send()
    };
    assert_eq!(create("first").await.unwrap().status(), 201);
    wait_for_log(&server, "first user", |v| v["message"] == "user created" && v["user"] == "first");

    assert_eq!(patch(json!({"log_level": "warning"})).await.unwrap().status(), 200);
    assert_eq!(create("second").await.unwrap().status(), 201);

    // Verbose wins over the level: DEBUG lines (one per request) appear.
    assert_eq!(patch(json!({"verbose_logging": true})).await.unwrap().status(), 200);
    assert_eq!(create("third").await.unwrap().status(), 201);
    // Back to INFO: a marker line proves every earlier line has been read.
    assert_eq!(patch(json!({"verbose_logging": false, "log_level": "info"})).await.unwrap().status(), 200);
    assert_eq!(create("fourth").await.unwrap().status(), 201);
    wait_for_log(&server, "fourth user", |v| v["message"] == "user created" && v["user"] == "fourth");
    let debug_seen = server.log.lock().unwrap().iter().any(|l| l.contains("\"level\":\"DEBUG\""));
    (
        logged_user_created(&server, "first"),
        logged_user_created(&server, "second"),
        logged_user_created(&server, "third"),
        debug_seen,
    )
}

#[tokio::test]
async fn log_settings_apply_at_once() {
    let (first, second, third, debug) = log_level_scenario(&[]).await;
    assert!(first, "INFO at the default level");
    assert!(!second, "log_level: warning must silence INFO at once");
    assert!(third && debug, "verbose_logging must bring INFO and DEBUG back at once");
}

#[tokio::test]
async fn log_settings_wait_for_a_restart_in_strict_mode() {
    let (first, second, third, debug) = log_level_scenario(&["--strict-restart-semantics"]).await;
    assert!(first && second && third, "the level the node started with stays in force");
    assert!(!debug, "verbose_logging waits for a restart");
}
