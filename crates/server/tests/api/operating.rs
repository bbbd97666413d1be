//! Running wabiz as an operator does, on the real binary: the config file
//! and `wabiz config`, the start line, backup and restore under load, the
//! offline user and schema commands, the refusal of a newer schema, the
//! data folder's lock and the container's health probe.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{ADMIN_PASSWORD, first_admin_login, pg_schema, plain_client, send};
use crate::lifecycle::{Server, instant_binary, spawn_logged};

fn wabiz() -> Command {
    without_settings_of_the_machine(Command::new(env!("CARGO_BIN_EXE_wabiz")))
}

/// Nothing of the machine's own configuration leaks into a test.
fn without_settings_of_the_machine(mut cmd: Command) -> Command {
    for (k, _) in std::env::vars() {
        if k.starts_with("WABIZ_") || k.starts_with("WA_") {
            cmd.env_remove(k);
        }
    }
    cmd
}

/// Runs a command of the binary off the runtime and returns its output.
/// A command expected to end by itself: one that does not within a minute
/// (a `serve` that should have refused to start) is killed, and the test
/// fails instead of hanging.
async fn run(mut cmd: Command) -> Output {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let child = cmd.spawn().expect("wabiz runs");
    let pid = child.id();
    let waiting = tokio::task::spawn_blocking(move || child.wait_with_output().expect("wabiz's output"));
    match tokio::time::timeout(Duration::from_secs(60), waiting).await {
        Ok(out) => out.unwrap(),
        Err(_) => {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            panic!("the command did not end within a minute (killed)");
        }
    }
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// `wabiz serve` on plain HTTP with instant receipts, on `data_dir`.
fn serve(data_dir: &Path, extra: &[&str]) -> Server {
    let mut cmd = without_settings_of_the_machine(instant_binary());
    cmd.arg("--data-dir").arg(data_dir).args(extra);
    spawn_logged(cmd)
}

fn listening_line(server: &Server) -> Value {
    let log = server.log.lock().unwrap();
    let line = log.iter().find(|l| l.contains("wabiz is listening")).expect("the start line");
    serde_json::from_str(line).unwrap()
}

#[tokio::test]
async fn a_config_file_sits_under_the_environment_and_the_flags_and_secrets_stay_masked() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("wabiz.toml");
    std::fs::write(
        &file,
        format!(
            "listen = \"127.0.0.1:0\"\n\
             data_dir = \"{}\"\n\
             insecure-http = true\n\
             webhook-window = 512\n\
             message-retention-days = 9\n\
             api-key = \"file-api-key-0123456789\"\n\
             database = \"postgres://wabiz:db-password-42@db.internal:5432/wabiz\"\n\
             relay-access-token = \"EAAG-file-token\"\n\
             trusted-proxies = [\"10.0.0.0/8\", \"192.0.2.7\"]\n",
            dir.path().join("from-file").display()
        ),
    )
    .unwrap();

    let mut cmd = wabiz();
    cmd.arg("config").arg("--config").arg(&file).args(["--message-retention-days", "3"]);
    cmd.env("WABIZ_WEBHOOK_WINDOW", "2048");
    let out = run(cmd).await;
    let shown = text(&out);
    assert!(out.status.success(), "{shown}");
    let line = |key: &str| -> String {
        shown
            .lines()
            .find(|l| l.trim_start_matches("# ").starts_with(&format!("{key} =")))
            .unwrap_or_else(|| panic!("{key}: {shown}"))
            .to_owned()
    };
    let file_source = format!("# file {}", file.display());
    assert!(line("message-retention-days").contains("\"3\"") && line("message-retention-days").ends_with("# flag"));
    assert!(line("webhook-window").contains("\"2048\"") && line("webhook-window").ends_with("WABIZ_WEBHOOK_WINDOW"));
    assert!(line("data-dir").contains("from-file") && line("data-dir").ends_with(&file_source), "{shown}");
    assert!(line("insecure-http").contains("true") && line("insecure-http").ends_with(&file_source));
    assert!(line("webhook-timeout-ms").ends_with("# default"));
    assert!(line("trusted-proxies").contains("\"10.0.0.0/8,192.0.2.7\""), "a list from a TOML array: {shown}");
    assert!(shown.contains("# public-base-url ="), "an unset option is shown commented out: {shown}");
    for secret in ["file-api-key-0123456789", "db-password-42", "EAAG-file-token"] {
        assert!(!shown.contains(secret), "{secret} is shown: {shown}");
    }
    assert!(line("database").contains("postgres://wabiz:***@db.internal:5432/wabiz"), "{shown}");
    assert!(line("api-key").contains("********") && line("relay-access-token").contains("********"));
    for masked in ["api-key", "relay-access-token", "database"] {
        assert!(line(masked).starts_with("# "), "a masked value is commented out: {}", line(masked));
    }

    // The file is a real `serve` configuration: it alone makes a plain-HTTP node.
    std::fs::write(
        &file,
        format!("listen = \"127.0.0.1:0\"\ndata-dir = \"{}\"\ninsecure-http = true\n", dir.path().display()),
    )
    .unwrap();
    let mut cmd = wabiz();
    cmd.arg("serve").arg("--config").arg(&file);
    let server = spawn_logged(cmd);
    let r = plain_client().get(format!("http://{}/", server.addr)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    drop(server);

    // A flag and the file may complete each other's pairs.
    std::fs::write(&file, "tls-key-file = \"/etc/wabiz/key.pem\"\n").unwrap();
    let mut cmd = wabiz();
    cmd.arg("config").arg("--config").arg(&file).args(["--tls-cert-file", "/etc/wabiz/cert.pem"]);
    let out = run(cmd).await;
    let shown = text(&out);
    assert!(out.status.success(), "{shown}");
    assert!(shown.lines().any(|l| l.starts_with("tls-cert-file = \"/etc/wabiz/cert.pem\"") && l.ends_with("# flag")));
    assert!(shown.lines().any(|l| l.starts_with("tls-key-file = ") && l.ends_with(&file_source)), "{shown}");

    // The file's values go before a `--`: a secret never becomes a stray
    // argument that an error message would print.
    std::fs::write(&file, "database = \"postgres://wabiz:hunter2@127.0.0.1:1/wabiz\"\n").unwrap();
    let mut cmd = wabiz();
    cmd.args(["users", "reset-password", "--config"]).arg(&file).args(["--", "admin"]);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(1), "the database is unreachable: {}", text(&out));
    assert!(text(&out).contains("cannot connect") && !text(&out).contains("hunter2"), "{}", text(&out));

    // An unknown key and a bad value stop the start, naming the key.
    for (content, names) in [
        ("listen = \"127.0.0.1:0\"\nwebhook_windw = 5\n", "webhook_windw"),
        ("listen = \"127.0.0.1:0\"\nmessage-retention-days = 0\n", "--message-retention-days"),
        ("insecure-http = \"yes\"\n", "insecure-http"),
        ("listen = [1, 2]\n", "listen"),
        ("listen = \n", "wabiz.toml"),
        ("trusted-proxies = [\"10.0.0.0/8\", \"proxy.local\"]\n", "--trusted-proxies: 'proxy.local'"),
        ("trusted-proxies = [1, 2]\n", "trusted-proxies"),
    ] {
        std::fs::write(&file, content).unwrap();
        let mut cmd = wabiz();
        cmd.arg("serve").arg("--config").arg(&file).stdout(Stdio::null());
        let out = run(cmd).await;
        assert_eq!(out.status.code(), Some(2), "{content}: {}", text(&out));
        assert!(text(&out).contains(names), "{content}: {}", text(&out));
    }
}

#[tokio::test]
async fn the_start_line_says_where_to_go_and_whether_the_admin_password_is_the_factory_one() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path(), &[]);
    let line = listening_line(&server);
    let url = format!("http://{}", server.addr);
    assert_eq!(line["url"], url);
    assert_eq!(line["docs"], format!("{url}/docs"));
    assert_eq!(line["console"], format!("{url}/console"));
    assert!(line["admin"].as_str().unwrap().contains("factory password"), "{line}");
    let client = plain_client();
    for page in ["docs", "console"] {
        let r = client.get(line[page].as_str().unwrap()).send().await.unwrap();
        assert!(r.status().is_success() || r.status().is_redirection(), "{page}: {}", r.status());
    }
    first_admin_login(&client, &url).await;
    drop(server);
    let server = serve(dir.path(), &["--public-base-url", "https://wabiz.example.com/"]);
    let line = listening_line(&server);
    assert_eq!(line["console"], "https://wabiz.example.com/console");
    assert_eq!(line["admin"], "a password of its own");
}

/// Sends texts from `workers` tasks until `stop`, each acknowledged id with
/// the moment its 201 arrived.
async fn send_until(
    base: String,
    token: String,
    stop: Arc<AtomicBool>,
    count: Arc<AtomicUsize>,
    workers: u32,
) -> Vec<(String, Instant)> {
    let mut tasks = Vec::new();
    for w in 0..workers {
        let (base, token, stop, count) = (base.clone(), token.clone(), Arc::clone(&stop), Arc::clone(&count));
        tasks.push(tokio::spawn(async move {
            let client = plain_client();
            let mut acked = Vec::new();
            let mut n = 0u32;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let to = format!("1555{w:02}{n:05}");
                let body = json!({"to": to, "type": "text", "text": {"body": format!("backup load {n}")}});
                let r = client.post(format!("{base}/v1/messages")).bearer_auth(&token).json(&body).send().await;
                let Ok(r) = r else { continue };
                if r.status() == 201 {
                    let v: Value = r.json().await.unwrap();
                    acked.push((v["messages"][0]["id"].as_str().unwrap().to_owned(), Instant::now()));
                    count.fetch_add(1, Ordering::Relaxed);
                }
            }
            acked
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all
}

#[tokio::test]
async fn a_backup_taken_under_send_load_restores_every_message_acknowledged_before_it_began() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = serve(&data, &[]);
    let base = format!("http://{}", server.addr);
    let client = plain_client();
    let token = first_admin_login(&client, &base).await;
    let image = b"\x89PNG\r\n\x1a\n a picture kept by the backup".to_vec();
    let r = client
        .post(format!("{base}/v1/media"))
        .bearer_auth(&token)
        .header("Content-Type", "image/png")
        .body(image.clone())
        .send()
        .await
        .unwrap();
    let (s, b) = crate::helpers::json(r).await;
    assert_eq!(s, 201, "{b}");
    let media_id = b["media"][0]["id"].as_str().unwrap().to_owned();

    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicUsize::new(0));
    let load = tokio::spawn(send_until(base.clone(), token.clone(), Arc::clone(&stop), Arc::clone(&count), 4));
    // Let the load run, then back up while it goes on.
    let deadline = Instant::now() + Duration::from_secs(60);
    while count.load(Ordering::Relaxed) < 200 {
        assert!(Instant::now() < deadline, "the load did not get going");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let backup_dir = dir.path().join("backup");
    let began = Instant::now();
    let mut cmd = wabiz();
    cmd.arg("backup").arg("--data-dir").arg(&data).arg("--to").arg(&backup_dir);
    let out = run(cmd).await;
    assert!(out.status.success(), "{}", text(&out));
    // The load goes on after the backup.
    let done = count.load(Ordering::Relaxed);
    while count.load(Ordering::Relaxed) < done + 20 {
        assert!(Instant::now() < deadline, "the load stopped");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.store(true, Ordering::Relaxed);
    let acked = load.await.unwrap();
    let before: Vec<&String> = acked.iter().filter(|(_, at)| *at < began).map(|(id, _)| id).collect();
    let after = acked.len() - before.len();
    assert!(before.len() > 50 && after > 0, "{} acknowledged before the backup, {after} after", before.len());

    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(backup_dir.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["engine"], "sqlite");
    let files: Vec<&str> = manifest["files"].as_array().unwrap().iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert!(files.contains(&"wabiz.db") && files.iter().any(|f| f.starts_with("media/")), "{files:?}");

    // Restoring over the running node's folder is refused.
    let restored = dir.path().join("restored");
    let mut cmd = wabiz();
    cmd.arg("restore").arg("--from").arg(&backup_dir).arg("--data-dir").arg(&data).arg("--force");
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("in use"), "{}", text(&out));
    drop(server);

    let mut cmd = wabiz();
    cmd.arg("restore").arg("--from").arg(&backup_dir).arg("--data-dir").arg(&restored);
    let out = run(cmd).await;
    assert!(out.status.success(), "{}", text(&out));
    let server = serve(&restored, &[]);
    let base = format!("http://{}", server.addr);
    // The token issued before the backup is valid on the restored node.
    let mut missing = Vec::new();
    for id in &before {
        let r = client.get(format!("{base}/simulator/messages/{id}")).bearer_auth(&token).send().await.unwrap();
        if r.status() != 200 {
            missing.push(((*id).clone(), r.status()));
        }
    }
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged messages are missing, the first: {:?}",
        missing.len(),
        before.len(),
        &missing[..missing.len().min(5)]
    );
    let r = client.get(format!("{base}/v1/media/{media_id}")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap().to_vec(), image);
    drop(server);

    // A damaged backup is refused, naming the file.
    let media_file = files.iter().find(|f| f.starts_with("media/")).unwrap();
    std::fs::write(backup_dir.join(media_file), b"changed").unwrap();
    let mut cmd = wabiz();
    cmd.arg("restore").arg("--from").arg(&backup_dir).arg("--data-dir").arg(dir.path().join("third"));
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains(media_file) && text(&out).contains("damaged"), "{}", text(&out));
    // And a restore over a folder that has a database needs --force.
    let mut cmd = wabiz();
    cmd.arg("restore").arg("--from").arg(&backup_dir).arg("--data-dir").arg(&restored);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

#[tokio::test]
async fn a_postgres_backup_explains_pg_dump_instead_of_pretending() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = wabiz();
    cmd.args(["backup", "--database", "postgres://wabiz:hunter2@db:5432/wabiz", "--to"]).arg(dir.path().join("b"));
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(2));
    let said = text(&out);
    assert!(said.contains("pg_dump") && said.contains("media") && !said.contains("hunter2"), "{said}");
    assert!(!dir.path().join("b").exists(), "nothing was written");
}

#[tokio::test]
async fn users_are_listed_and_a_password_reset_works_on_a_running_node() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path(), &[]);
    let base = format!("http://{}", server.addr);
    let client = plain_client();
    let list = |dir: &Path| {
        let mut cmd = wabiz();
        cmd.args(["users", "list", "--data-dir"]).arg(dir);
        cmd
    };
    let out = run(list(dir.path())).await;
    assert!(out.status.success(), "{}", text(&out));
    let admin_line = String::from_utf8_lossy(&out.stdout).lines().find(|l| l.starts_with("admin")).unwrap().to_owned();
    assert!(admin_line.contains("ROLE_ADMIN") && admin_line.contains("factory"), "{admin_line}");
    let token = first_admin_login(&client, &base).await;
    let out = run(list(dir.path())).await;
    assert!(String::from_utf8_lossy(&out.stdout).lines().any(|l| l.starts_with("admin") && l.contains(" set ")));

    // A password from standard input, on the running node.
    let new_password = "Reset-by-0perator!";
    let mut cmd = wabiz();
    cmd.args(["users", "reset-password", "admin", "--password-stdin", "--data-dir"]).arg(dir.path());
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let out = tokio::task::spawn_blocking(move || {
        let mut child = cmd.spawn().unwrap();
        std::io::Write::write_all(child.stdin.as_mut().unwrap(), format!("{new_password}\n").as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let login = |password: &str| client.post(format!("{base}/v1/users/login")).basic_auth("admin", Some(password));
    assert_eq!(login(new_password).send().await.unwrap().status(), 200);
    assert_eq!(login(ADMIN_PASSWORD).send().await.unwrap().status(), 401);
    // Tokens stay valid, as with PUT /v1/users/{name}.
    let (s, _) = send(client.get(format!("{base}/v1/health")).bearer_auth(&token)).await;
    assert_eq!(s, 200);

    // A generated one, printed once.
    let mut cmd = wabiz();
    cmd.args(["users", "reset-password", "admin", "--data-dir"]).arg(dir.path());
    let out = run(cmd).await;
    assert!(out.status.success(), "{}", text(&out));
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    let generated = said.lines().next().unwrap().rsplit(' ').next().unwrap().to_owned();
    assert_eq!(login(&generated).send().await.unwrap().status(), 200, "{said}");

    // Refusals: no such user, a weak password.
    let mut cmd = wabiz();
    cmd.args(["users", "reset-password", "nobody", "--data-dir"]).arg(dir.path());
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("nobody"));
    let mut cmd = wabiz();
    cmd.args(["users", "reset-password", "admin", "--password-stdin", "--data-dir"]).arg(dir.path());
    cmd.stdin(Stdio::null());
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("complexity"));

    // A second node on the same folder stops at once.
    let mut cmd = wabiz();
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--insecure-http", "--data-dir"]).arg(dir.path());
    let out = run(cmd).await;
    assert!(!out.status.success());
    assert!(text(&out).contains("in use by a running wabiz"), "{}", text(&out));
    drop(server);
}

/// `db status` and `db migrate`, then the refusal of a schema newer than
/// the binary, on one engine.
async fn schema_commands(store_args: &[String], latest: i64) {
    let cmd = |verb: &str| {
        let mut cmd = wabiz();
        cmd.args(["db", verb]).args(store_args);
        cmd
    };
    let out = run(cmd("status")).await;
    assert_eq!(out.status.code(), Some(3), "pending migrations: {}", text(&out));
    assert!(text(&out).contains("cloud_relay"), "{}", text(&out));
    let out = run(cmd("migrate")).await;
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains(&format!("now at version {latest}")), "{}", text(&out));
    let out = run(cmd("status")).await;
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("up to date"));
    let out = run(cmd("migrate")).await;
    assert!(out.status.success() && text(&out).contains("nothing to do"), "{}", text(&out));
}

fn newer_schema_refusal(out: &Output, latest: i64) {
    let said = text(out);
    assert!(!out.status.success(), "{said}");
    assert!(said.contains(&format!("version {}", latest + 1)) && said.contains(&format!("up to {latest}")), "{said}");
}

#[tokio::test]
async fn a_binary_older_than_the_sqlite_schema_refuses_to_start_naming_both_versions() {
    let dir = tempfile::tempdir().unwrap();
    let args = vec!["--data-dir".to_owned(), dir.path().display().to_string()];
    let latest = wabiz_store::migrate::SQLITE.last().unwrap().version;
    schema_commands(&args, latest).await;
    let db = rusqlite::Connection::open(dir.path().join("wabiz.db")).unwrap();
    db.execute("INSERT INTO wabiz_migrations VALUES (?1, 'from_a_newer_wabiz', 'x', 0)", [latest + 1]).unwrap();
    drop(db);
    let mut cmd = wabiz();
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--insecure-http", "--data-dir"]).arg(dir.path());
    newer_schema_refusal(&run(cmd).await, latest);
    let mut cmd = wabiz();
    cmd.args(["db", "status"]).args(&args);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(2));
    newer_schema_refusal(&out, latest);
    let mut cmd = wabiz();
    cmd.args(["users", "list"]).args(&args);
    newer_schema_refusal(&run(cmd).await, latest);
}

#[cfg_attr(not(wabiz_test_pg), ignore = "needs PostgreSQL: set WABIZ_TEST_PG_URL")]
#[tokio::test]
async fn a_binary_older_than_the_postgres_schema_refuses_to_start_naming_both_versions() {
    let schema = pg_schema("older_binary").await;
    let args = vec!["--database".to_owned(), schema.url.clone()];
    let latest = wabiz_store::migrate::POSTGRES.last().unwrap().version;
    schema_commands(&args, latest).await;
    let (client, conn) = tokio_postgres::connect(&schema.url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(conn);
    client
        .execute(
            "INSERT INTO wabiz_migrations (version, name, checksum) VALUES ($1, 'from_a_newer_wabiz', 'x')",
            &[&(latest + 1)],
        )
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = wabiz();
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--insecure-http", "--database", &schema.url, "--data-dir"])
        .arg(dir.path());
    newer_schema_refusal(&run(cmd).await, latest);
    drop(client);
    schema.drop_schema().await;
}

#[tokio::test]
async fn the_health_probe_trusts_the_nodes_own_certificate_and_fails_when_the_node_is_away() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = wabiz();
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"]).arg(dir.path());
    let server = spawn_logged(cmd);
    let probe = |url: String| {
        let mut cmd = wabiz();
        cmd.args(["healthcheck", "--url", &url, "--data-dir"]).arg(dir.path());
        cmd
    };
    let out = run(probe(format!("https://{}/", server.addr))).await;
    assert!(out.status.success(), "{}", text(&out));
    // Without a URL: the node that `serve`'s own config file describes.
    let file = dir.path().join("wabiz.toml");
    std::fs::write(&file, format!("listen = \"{}\"\ndata-dir = \"{}\"\n", server.addr, dir.path().display())).unwrap();
    let mut cmd = wabiz();
    cmd.args(["healthcheck", "--config"]).arg(&file);
    let out = run(cmd).await;
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains(&format!("https://{}/: 200", server.addr)), "{}", text(&out));
    let out = run(probe(format!("https://{}/v1/health", server.addr))).await;
    assert_eq!(out.status.code(), Some(1), "a 401 is not healthy: {}", text(&out));
    let addr = server.addr.clone();
    drop(server);
    let out = run(probe(format!("https://{addr}/"))).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
}

/// One node per SQLite database, even in two data folders; the lock goes
/// with the process, even on `kill -9`.
#[tokio::test]
async fn the_data_folders_lock_is_released_when_the_node_is_killed() {
    let dir = tempfile::tempdir().unwrap();
    let first = serve(dir.path(), &[]);
    let database = format!("sqlite://{}", dir.path().join("wabiz.db").display());
    let other_folder = tempfile::tempdir().unwrap();
    let mut cmd = wabiz();
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--insecure-http", "--database", &database, "--data-dir"])
        .arg(other_folder.path());
    let out = run(cmd).await;
    assert!(!out.status.success() && text(&out).contains("in use by a running wabiz"), "{}", text(&out));
    let mut cmd = wabiz();
    cmd.args(["db", "migrate", "--data-dir"]).arg(dir.path());
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(2), "no migration under a running node: {}", text(&out));
    drop(first); // SIGKILL, then wait
    let second = serve(dir.path(), &[]);
    let r = plain_client().get(format!("http://{}/", second.addr)).send().await.unwrap();
    assert_eq!(r.status(), 200);
}
