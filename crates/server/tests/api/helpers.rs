//! The integration-test harness: starts the real server (the same `App` the
//! binary runs) on a random port with a temporary data dir, and talks HTTP or
//! HTTPS to it with a real client.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use base64::Engine as _;
use clap::Parser as _;
use reqwest::{Client, Method, RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};
use tempfile::TempDir;
use wabiz::{App, BuildOptions, Cli, Command};
use wabiz_domain::clock::ShiftedClock;
use wabiz_domain::users::password::PasswordHasher;

/// The password the harness gives `admin` at first login.
pub const ADMIN_PASSWORD: &str = "Adm1n-Passw0rd!";

/// The environment variable holding a PostgreSQL URL for tests that need one.
pub const PG_URL_VAR: &str = "WABIZ_TEST_PG_URL";

/// How to start a test server.
#[derive(Default, Clone)]
pub struct Spawn {
    /// Serve HTTPS with the generated certificate (default: plain HTTP).
    pub https: bool,
    /// Extra `wabiz serve` options.
    pub args: Vec<String>,
    /// The original containers' variables (`WA_API_KEY`, …) seen by the server.
    pub env: HashMap<String, String>,
    /// Use the production Argon2 costs instead of cheap test costs.
    pub real_password_costs: bool,
}

impl Spawn {
    pub fn https() -> Self {
        Self { https: true, ..Self::default() }
    }

    /// The simulated network with zero receipt delays (sent, delivered and
    /// read follow at once).
    pub fn instant_receipts() -> Self {
        ["--simulator-sent-delay-ms", "--simulator-delivered-delay-ms", "--simulator-read-delay-ms"]
            .iter()
            .fold(Self::default(), |s, flag| s.arg(flag).arg("0"))
    }

    pub fn arg(mut self, a: &str) -> Self {
        self.args.push(a.to_owned());
        self
    }

    pub fn env(mut self, k: &str, v: &str) -> Self {
        self.env.insert(k.to_owned(), v.to_owned());
        self
    }
}

/// Instant receipts, `http://` webhooks and every customer inside the
/// 24-hour window: the usual server of webhook scenarios.
pub fn instant_open() -> Spawn {
    Spawn::instant_receipts().arg("--allow-http-webhooks").arg("--simulator-open-window")
}

pub struct TestApp {
    app: Option<App>,
    pub base_url: String,
    pub client: Client,
    pub data_dir: Arc<TempDir>,
    /// The server's clock; tests move it to cross expiry windows.
    pub clock: Arc<ShiftedClock>,
    spawn: Spawn,
    /// Whether `admin_token` already replaced the factory password (kept across
    /// restarts, so the harness never causes a failed login of its own).
    admin_changed: Arc<AtomicBool>,
}

impl TestApp {
    /// A plain-HTTP server on SQLite with default options.
    pub async fn spawn() -> TestApp {
        Self::spawn_with(Spawn::default()).await
    }

    pub async fn spawn_with(spawn: Spawn) -> TestApp {
        let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
        Self::start(spawn, dir, Arc::new(ShiftedClock::new()), Arc::new(AtomicBool::new(false)), "127.0.0.1:0").await
    }

    async fn start(
        spawn: Spawn,
        dir: Arc<TempDir>,
        clock: Arc<ShiftedClock>,
        admin_changed: Arc<AtomicBool>,
        listen: &str,
    ) -> TestApp {
        let data_dir = dir.path().to_str().expect("utf-8 temp path").to_owned();
        let mut argv: Vec<String> =
            ["wabiz", "serve", "--listen", listen, "--data-dir", &data_dir].iter().map(|s| (*s).to_owned()).collect();
        if !spawn.https {
            argv.push("--insecure-http".into());
        }
        argv.extend(spawn.args.iter().cloned());
        let Command::Serve(args) = Cli::try_parse_from(&argv).expect("valid test arguments").command else {
            panic!("not serve's arguments")
        };
        let env = spawn.env.clone();
        let config = args.resolve(&move |k| env.get(k).cloned()).expect("valid test configuration");
        let hasher =
            if spawn.real_password_costs { PasswordHasher::default() } else { PasswordHasher::with_costs(1024, 1, 1) };
        let app = App::build(config, BuildOptions { clock: clock.clone(), hasher, log_filter: None })
            .await
            .expect("server starts");
        let mut builder = Client::builder().redirect(reqwest::redirect::Policy::none());
        if let Some(ca) = app.ca_pem() {
            let cert = reqwest::Certificate::from_pem(ca.as_bytes()).expect("CA parses");
            builder = builder.tls_certs_only([cert]);
        }
        TestApp {
            base_url: app.base_url(),
            client: builder.build().expect("client"),
            app: Some(app),
            data_dir: dir,
            clock,
            spawn,
            admin_changed,
        }
    }

    /// Stops the server gracefully and starts it again on the same data dir
    /// (a new port), as an operator restarting it would.
    pub async fn restart(self) -> TestApp {
        self.restart_on("127.0.0.1:0").await
    }

    /// Restarts it on the port it had, so that clients of the old one
    /// (a browser's page) find it again.
    pub async fn restart_on_same_port(self) -> TestApp {
        let addr = self.app().local_addr().to_string();
        self.restart_on(&addr).await
    }

    async fn restart_on(self, listen: &str) -> TestApp {
        let spawn = self.spawn.clone();
        self.restart_as(spawn, listen).await
    }

    /// Restarts it on the same data dir with other options (a new port), as
    /// an operator changing the configuration would.
    pub async fn restart_with(self, spawn: Spawn) -> TestApp {
        self.restart_as(spawn, "127.0.0.1:0").await
    }

    async fn restart_as(mut self, spawn: Spawn, listen: &str) -> TestApp {
        if let Some(app) = self.app.take() {
            app.shutdown().await;
        }
        let (dir, clock, changed) =
            (Arc::clone(&self.data_dir), Arc::clone(&self.clock), Arc::clone(&self.admin_changed));
        Self::start(spawn, dir, clock, changed, listen).await
    }

    pub fn app(&self) -> &App {
        self.app.as_ref().expect("running")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, self.url(path))
    }

    /// A request with a bearer token.
    pub fn authed(&self, method: Method, path: &str, token: &str) -> RequestBuilder {
        self.request(method, path).bearer_auth(token)
    }

    /// `POST /v1/users/login` with Basic credentials and an optional JSON body.
    pub async fn login(&self, user: &str, password: &str, body: Option<Value>) -> Response {
        let mut rb = self.request(Method::POST, "/v1/users/login").basic_auth(user, Some(password));
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        rb.send().await.expect("login request")
    }

    /// Logs `admin` in, changing the factory password on first use; returns a token.
    pub async fn admin_token(&self) -> String {
        if self.admin_changed.load(Ordering::SeqCst) {
            let r = self.login("admin", ADMIN_PASSWORD, None).await;
            assert_eq!(r.status(), StatusCode::OK, "admin login");
            return token_of(r).await;
        }
        let r = self.login("admin", "secret", Some(serde_json::json!({ "new_password": ADMIN_PASSWORD }))).await;
        assert_eq!(r.status(), StatusCode::OK, "first admin login");
        self.admin_changed.store(true, Ordering::SeqCst);
        token_of(r).await
    }

    /// Creates a `ROLE_USER` user and returns a token for it.
    pub async fn user_token(&self, admin: &str, username: &str, password: &str) -> String {
        let (s, b) = self.post(admin, "/v1/users", json!({ "username": username, "password": password })).await;
        assert_eq!(s, StatusCode::CREATED, "create {username}: {b}");
        token_of(self.login(username, password, None).await).await
    }

    /// An authenticated request with an optional JSON body: the whole
    /// response, for callers that read headers or raw bytes.
    pub async fn response(&self, token: &str, method: Method, path: &str, body: Option<Value>) -> Response {
        let what = format!("{method} {path}");
        let mut rb = self.authed(method, path, token);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        rb.send().await.unwrap_or_else(|e| panic!("{what}: {e}"))
    }

    /// An authenticated call with an optional JSON body: the status and the
    /// JSON answer. The shorthands below cover the usual cases.
    pub async fn call(&self, token: &str, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        json(self.response(token, method, path, body).await).await
    }

    pub async fn get(&self, token: &str, path: &str) -> (StatusCode, Value) {
        self.call(token, Method::GET, path, None).await
    }

    pub async fn post(&self, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(token, Method::POST, path, Some(body)).await
    }

    pub async fn patch(&self, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(token, Method::PATCH, path, Some(body)).await
    }

    pub async fn put(&self, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(token, Method::PUT, path, Some(body)).await
    }

    pub async fn delete(&self, token: &str, path: &str) -> (StatusCode, Value) {
        self.call(token, Method::DELETE, path, None).await
    }

    /// A `DELETE` with a JSON body (group admins and participants, messages).
    pub async fn delete_with(&self, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(token, Method::DELETE, path, Some(body)).await
    }

    /// `POST /v1/messages` that must be accepted: the new message id.
    pub async fn send_message(&self, token: &str, body: Value) -> String {
        let (s, b) = self.post(token, "/v1/messages", body).await;
        assert_eq!(s, StatusCode::CREATED, "send: {b}");
        b["messages"][0]["id"].as_str().unwrap_or_else(|| panic!("no message id: {b}")).to_owned()
    }

    /// Sends the text `body` to `to`: the new message id.
    pub async fn send_text(&self, token: &str, to: &str, body: &str) -> String {
        self.send_message(token, json!({"to": to, "type": "text", "text": {"body": body}})).await
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Dropping the App aborts nothing by itself; stop the server so the
        // port and the SQLite files are released before the temp dir goes.
        if let Some(app) = self.app.take()
            && let Ok(handle) = tokio::runtime::Handle::try_current()
        {
            handle.spawn(app.shutdown());
        }
    }
}

/// The token of a successful login response.
pub async fn token_of(r: Response) -> String {
    let v: Value = r.json().await.expect("login JSON");
    v["users"][0]["token"].as_str().expect("token").to_owned()
}

/// The first login of `admin` on the server at `base` (it changes the
/// factory password to [`ADMIN_PASSWORD`]): the token.
pub async fn first_admin_login(client: &Client, base: &str) -> String {
    let r = client
        .post(format!("{base}/v1/users/login"))
        .basic_auth("admin", Some("secret"))
        .json(&serde_json::json!({ "new_password": ADMIN_PASSWORD }))
        .send()
        .await
        .unwrap();
    let (s, b) = json(r).await;
    assert_eq!(s, 200, "first login: {b}");
    b["users"][0]["token"].as_str().expect("token").to_owned()
}

/// Status and JSON body of a response (`Value::Null` for an empty body).
pub async fn json(r: Response) -> (StatusCode, Value) {
    let status = r.status();
    let bytes = r.bytes().await.expect("body");
    let v = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).expect("JSON body") };
    (status, v)
}

/// Asserts an On-Premises error response: status, first code, details, meta.
pub fn assert_error(status: StatusCode, body: &Value, want_status: u16, want_code: u64, want_details: Option<&str>) {
    assert_eq!(status.as_u16(), want_status, "status; body: {body}");
    assert!(body["meta"]["version"].is_string(), "meta missing: {body}");
    assert_eq!(body["meta"]["api_status"], "stable");
    assert_eq!(body["errors"][0]["code"].as_u64(), Some(want_code), "code; body: {body}");
    assert!(body["errors"][0]["title"].is_string(), "title missing: {body}");
    match want_details {
        Some(d) => assert_eq!(body["errors"][0]["details"].as_str(), Some(d), "details; body: {body}"),
        None => assert!(body["errors"][0].get("details").is_none(), "unexpected details: {body}"),
    }
}

/// `Basic base64(user:pass)`.
pub fn basic(user: &str, pass: &str) -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}")))
}

/// The PostgreSQL URL for tests. Tests that need it carry
/// `#[cfg_attr(not(wabiz_test_pg), ignore = …)]`, so a build without the
/// variable lists them as skipped; a run that lost it since fails here.
pub fn pg_url(test: &str) -> String {
    match std::env::var(PG_URL_VAR) {
        Ok(u) if !u.is_empty() => u,
        _ => panic!("{test}: built with {PG_URL_VAR} set, run without it"),
    }
}

/// A PostgreSQL schema of one test's own.
pub struct PgSchema {
    /// A database URL whose connections use the schema.
    pub url: String,
    base: String,
    name: String,
}

impl PgSchema {
    /// Drops the schema (call at the end of a passing test; a failing one
    /// leaves it behind for inspection).
    pub async fn drop_schema(self) {
        let (client, conn) = tokio_postgres::connect(&self.base, tokio_postgres::NoTls).await.expect("connect");
        tokio::spawn(conn);
        client.batch_execute(&format!("DROP SCHEMA {} CASCADE", self.name)).await.expect("drop schema");
    }
}

/// A fresh PostgreSQL schema for one test.
pub async fn pg_schema(test: &str) -> PgSchema {
    let base = pg_url(test);
    let mut raw = [0u8; 6];
    getrandom_like(&mut raw);
    let name = format!("api_{test}_{}", raw.iter().map(|b| format!("{b:02x}")).collect::<String>());
    let (client, conn) = tokio_postgres::connect(&base, tokio_postgres::NoTls).await.expect("connect to PostgreSQL");
    tokio::spawn(conn);
    client.batch_execute(&format!("CREATE SCHEMA {name}")).await.expect("create schema");
    let sep = if base.contains('?') { '&' } else { '?' };
    PgSchema { url: format!("{base}{sep}options=-csearch_path%3D{name}"), base, name }
}

fn getrandom_like(buf: &mut [u8]) {
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
    let tid = format!("{:?}", std::thread::current().id());
    for (i, b) in buf.iter_mut().enumerate() {
        *b = ((t >> (8 * i)) as u8) ^ tid.as_bytes().get(i).copied().unwrap_or(0);
    }
}

/// A client for servers the harness did not start (the binary, plain HTTP).
/// reqwest is built without a bundled crypto backend: install ring first.
pub fn plain_client() -> Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    Client::new()
}

/// The simulator's view of a stored message (`GET /simulator/messages/{id}`).
pub async fn message_view(app: &TestApp, admin: &str, id: &str) -> Value {
    let (s, b) = app.get(admin, &format!("/simulator/messages/{id}")).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    b["message"].clone()
}

/// Polls a message until the network has nothing left to do with it (with a
/// deadline), and returns its view.
pub async fn settled_message(app: &TestApp, admin: &str, id: &str, within: std::time::Duration) -> Value {
    let deadline = std::time::Instant::now() + within;
    loop {
        let m = message_view(app, admin, id).await;
        if m["next_event_at"].is_null() {
            return m;
        }
        assert!(std::time::Instant::now() < deadline, "message {id} did not settle: {m}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Asserts the `meta` object of a response.
pub fn assert_meta(body: &Value) {
    assert!(body["meta"]["version"].is_string(), "meta.version missing: {body}");
    assert_eq!(body["meta"]["api_status"], "stable", "meta.api_status: {body}");
}

/// A success whose body is `meta` and nothing else.
pub fn assert_meta_only(status: StatusCode, body: &Value, want: u16) {
    assert_eq!(status.as_u16(), want, "status; body: {body}");
    assert_meta(body);
    let keys: Vec<&str> =
        body.as_object().unwrap_or_else(|| panic!("not an object: {body}")).keys().map(String::as_str).collect();
    assert_eq!(keys, ["meta"], "meta-only body expected: {body}");
}

/// Like `assert_error`, but the error must be the only one.
pub fn assert_one_error(status: StatusCode, body: &Value, http: u16, code: u64, details: &str) {
    assert_error(status, body, http, code, Some(details));
    assert_eq!(body["errors"].as_array().map(Vec::len), Some(1), "exactly one error expected: {body}");
}

/// An error of which only status and code are fixed by the spec.
pub fn assert_code(status: StatusCode, body: &Value, http: u16, code: u64) {
    assert_eq!(status.as_u16(), http, "status; body: {body}");
    assert_meta(body);
    let errors = body["errors"].as_array().unwrap_or_else(|| panic!("no errors array: {body}"));
    assert!(!errors.is_empty(), "empty errors: {body}");
    for e in errors {
        assert_eq!(e["code"].as_u64(), Some(code), "code; body: {body}");
        assert!(e["title"].is_string(), "title missing: {body}");
    }
}

/// The Webapp's wording for a rejected value.
pub fn invalid_value(name: &str, value: &str) -> String {
    format!("Parameter '{name}' has invalid value '{value}'")
}

/// Sends a request: its status and JSON body (for requests the shorthands on
/// [`TestApp`] do not cover, such as raw bodies or extra headers).
pub async fn send(rb: RequestBuilder) -> (StatusCode, Value) {
    json(rb.send().await.unwrap_or_else(|e| panic!("request failed: {e}"))).await
}

/// Runs an outside program (a real client, a tester, a browser script) off
/// the async runtime: its standard output when it succeeds, else a failure
/// that shows both of its outputs.
pub async fn run_program(mut cmd: std::process::Command, what: &str) -> String {
    let name = what.to_owned();
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("{name} does not start: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{what} failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    stdout
}
