//! One storage suite, run against both engines: SQLite always, PostgreSQL when
//! `WABIZ_TEST_PG_URL` is set (each PostgreSQL test gets a schema of its own).
//! Without the variable at build time the PostgreSQL half is listed as skipped.

// A test (and its helpers) stops loudly where something it relies on failed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use tempfile::TempDir;
use wabiz_domain::callbacks::{AttemptFailure, CallbackKind, CallbackOutcome, Conversation, NewCallback};
use wabiz_domain::error::{ErrorCode, ErrorItem};
use wabiz_domain::messages::MessageStatus::{self, Accepted, Delivered, Failed, Read, Received, Sent};
use wabiz_domain::messages::plan::DeliveryPlan;
use wabiz_domain::messages::{Direction, Failure, PricingCategory, RecipientType};
use wabiz_domain::ports::{
    MediaRecord, MessageRecord, SettingWrite, StatusRecord, Store, TemplateRecord, TokenRecord, Transition, UserRecord,
};
use wabiz_domain::users::Role;
use wabiz_store::DatabaseConfig;

const PG_URL_VAR: &str = "WABIZ_TEST_PG_URL";

/// A database for one test, on one engine.
struct TestDb {
    config: DatabaseConfig,
    _dir: Option<TempDir>,
    pg: Option<(String, String)>, // (base URL, schema)
}

impl TestDb {
    fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = DatabaseConfig::Sqlite { path: dir.path().join("wabiz.db") };
        Self { config, _dir: Some(dir), pg: None }
    }

    async fn postgres(test: &str) -> Self {
        let base = match std::env::var(PG_URL_VAR) {
            Ok(u) if !u.is_empty() => u,
            _ => panic!("postgres::{test}: built with {PG_URL_VAR} set, run without it"),
        };
        let mut id = [0u8; 6];
        getrandom_fill(&mut id);
        let schema = format!("t_{test}_{}", id.iter().map(|b| format!("{b:02x}")).collect::<String>());
        let (client, conn) =
            tokio_postgres::connect(&base, tokio_postgres::NoTls).await.expect("connect to PostgreSQL");
        tokio::spawn(conn);
        client.batch_execute(&format!("CREATE SCHEMA {schema}")).await.expect("create schema");
        let sep = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{sep}options=-csearch_path%3D{schema}");
        Self { config: DatabaseConfig::Postgres { url }, _dir: None, pg: Some((base, schema)) }
    }

    async fn open(&self) -> Arc<dyn Store> {
        wabiz_store::open(&self.config).await.expect("store opens")
    }

    async fn cleanup(&self) {
        if let Some((base, schema)) = &self.pg {
            let (client, conn) = tokio_postgres::connect(base, tokio_postgres::NoTls).await.expect("connect");
            tokio::spawn(conn);
            client.batch_execute(&format!("DROP SCHEMA {schema} CASCADE")).await.expect("drop schema");
        }
    }
}

fn getrandom_fill(buf: &mut [u8]) {
    // Uniqueness, not secrecy: the time and the thread are enough.
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
    let tid = format!("{:?}", std::thread::current().id());
    for (i, b) in buf.iter_mut().enumerate() {
        *b = ((t >> (8 * i)) as u8) ^ tid.as_bytes().get(i).copied().unwrap_or(0);
    }
}

/// Generates each test twice: `sqlite::NAME` and `postgres::NAME`.
macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = super::TestDb::sqlite();
                    super::$name(&db).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[cfg_attr(not(wabiz_test_pg), ignore = "needs PostgreSQL: set WABIZ_TEST_PG_URL")]
                async fn $name() {
                    let db = super::TestDb::postgres(stringify!($name)).await;
                    super::$name(&db).await;
                    db.cleanup().await;
                }
            )*
        }
    };
}

conformance!(
    migrations_are_idempotent,
    meta_values,
    users_round_trip,
    deleting_a_user_deletes_its_tokens,
    tokens_round_trip_and_purge,
    concurrent_writes_all_land,
    a_failing_write_does_not_spoil_its_batch,
    data_survives_reopening,
    ping_and_close,
    settings_documents_and_blobs,
    media_records,
    message_records,
    message_transitions,
    template_registry,
    inbound_window_and_read,
    callback_queue,
    a_waiting_callback_is_retried_now,
    callbacks_travel_with_their_cause,
    messages_stored_with_their_steps,
    conversations_last_a_day,
    groups_change_by_compare_and_set,
    garbage_collection_keeps_what_is_needed,
    contact_cache,
    traffic_runs_are_leased_and_counted,
    chats_list_the_latest_with_unread_counts,
    cloud_sends_go_one_per_customer_in_order,
    cloud_ids_and_parked_statuses,
);

fn user(name: &str) -> UserRecord {
    UserRecord {
        username: name.into(),
        password_hash: format!("$argon2id$fake${name}"),
        role: Role::User,
        password_is_default: false,
        created_at: 1_700_000_000,
    }
}

fn token(digest: &str, username: &str, expires_at: i64) -> TokenRecord {
    TokenRecord { digest: digest.into(), username: username.into(), issued_at: 1_700_000_000, expires_at }
}

async fn migrations_are_idempotent(db: &TestDb) {
    let s = db.open().await;
    s.put_meta("k", "v").await.unwrap();
    s.close().await;
    // A second open finds the schema in place and applies nothing twice.
    let s = db.open().await;
    assert_eq!(s.get_meta("k").await.unwrap().as_deref(), Some("v"));
    s.close().await;
}

async fn meta_values(db: &TestDb) {
    let s = db.open().await;
    assert_eq!(s.get_meta("missing").await.unwrap(), None);
    s.put_meta("a", "1").await.unwrap();
    s.put_meta("a", "2").await.unwrap();
    assert_eq!(s.get_meta("a").await.unwrap().as_deref(), Some("2"));
    assert_eq!(s.put_meta_if_absent("b", "first").await.unwrap(), "first");
    assert_eq!(s.put_meta_if_absent("b", "second").await.unwrap(), "first");
    assert_eq!(s.get_meta("b").await.unwrap().as_deref(), Some("first"));
    s.close().await;
}

async fn users_round_trip(db: &TestDb) {
    let s = db.open().await;
    let jdoe = user("jdoe");
    assert!(s.insert_user(&jdoe).await.unwrap());
    assert!(!s.insert_user(&UserRecord { password_hash: "other".into(), ..jdoe.clone() }).await.unwrap());
    assert_eq!(s.get_user("jdoe").await.unwrap(), Some(jdoe.clone()));
    assert_eq!(s.get_user("JDOE").await.unwrap(), None, "user names are case-sensitive");

    let admin = UserRecord { role: Role::Admin, password_is_default: true, ..user("admin") };
    assert!(s.insert_user(&admin).await.unwrap());
    assert_eq!(s.get_user("admin").await.unwrap().unwrap().role, Role::Admin);
    assert!(s.get_user("admin").await.unwrap().unwrap().password_is_default);

    assert!(s.set_password("admin", "$new", false).await.unwrap());
    let a = s.get_user("admin").await.unwrap().unwrap();
    assert_eq!((a.password_hash.as_str(), a.password_is_default), ("$new", false));
    assert!(!s.set_password("ghost", "$x", false).await.unwrap());
    let names: Vec<String> = s.list_users().await.unwrap().into_iter().map(|u| u.username).collect();
    assert_eq!(names, ["admin", "jdoe"], "every user, by name");

    assert!(s.delete_user("jdoe").await.unwrap());
    assert!(!s.delete_user("jdoe").await.unwrap());
    assert_eq!(s.get_user("jdoe").await.unwrap(), None);
    s.close().await;
}

async fn deleting_a_user_deletes_its_tokens(db: &TestDb) {
    let s = db.open().await;
    s.insert_user(&user("jdoe")).await.unwrap();
    s.insert_user(&user("mary")).await.unwrap();
    s.insert_token(&token("t1", "jdoe", i64::MAX)).await.unwrap();
    s.insert_token(&token("t2", "jdoe", i64::MAX)).await.unwrap();
    s.insert_token(&token("t3", "mary", i64::MAX)).await.unwrap();
    assert!(s.delete_user("jdoe").await.unwrap());
    assert_eq!(s.find_token("t1").await.unwrap(), None);
    assert_eq!(s.find_token("t2").await.unwrap(), None);
    assert!(s.find_token("t3").await.unwrap().is_some());
    s.close().await;
}

async fn tokens_round_trip_and_purge(db: &TestDb) {
    let s = db.open().await;
    s.insert_user(&user("jdoe")).await.unwrap();
    let t = token("abc", "jdoe", 2_000);
    s.insert_token(&t).await.unwrap();
    assert_eq!(s.find_token("abc").await.unwrap(), Some(t));
    assert!(s.insert_token(&token("abc", "jdoe", 5)).await.is_err(), "digests are unique");
    s.insert_token(&token("old1", "jdoe", 999)).await.unwrap();
    s.insert_token(&token("old2", "jdoe", 1_000)).await.unwrap();
    assert_eq!(s.purge_expired_tokens(1_000).await.unwrap(), 1, "strictly before");
    assert_eq!(s.find_token("old1").await.unwrap(), None);
    assert!(s.find_token("old2").await.unwrap().is_some());
    assert!(s.delete_token("abc").await.unwrap());
    assert!(!s.delete_token("abc").await.unwrap());
    assert!(s.insert_token(&token("orphan", "nobody", 5)).await.is_err(), "a token needs its user");
    s.close().await;
}

async fn concurrent_writes_all_land(db: &TestDb) {
    let s = db.open().await;
    s.insert_user(&user("jdoe")).await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..400 {
        let s = Arc::clone(&s);
        tasks.push(tokio::spawn(async move { s.insert_token(&token(&format!("d{i}"), "jdoe", 10)).await }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    for i in 0..400 {
        assert!(s.find_token(&format!("d{i}")).await.unwrap().is_some(), "token d{i} lost");
    }
    assert_eq!(s.purge_expired_tokens(11).await.unwrap(), 400);
    s.close().await;
}

async fn a_failing_write_does_not_spoil_its_batch(db: &TestDb) {
    let s = db.open().await;
    s.insert_user(&user("jdoe")).await.unwrap();
    s.insert_token(&token("dup", "jdoe", 10)).await.unwrap();
    // Many writes at once, so that (on SQLite) they share batches with the
    // failing ones; each failure must stay its own.
    let mut tasks = Vec::new();
    for i in 0..200 {
        let s = Arc::clone(&s);
        tasks.push(tokio::spawn(async move {
            let digest = if i % 10 == 0 { "dup".to_owned() } else { format!("ok{i}") };
            (i, s.insert_token(&token(&digest, "jdoe", 10)).await)
        }));
    }
    for t in tasks {
        let (i, res) = t.await.unwrap();
        assert_eq!(res.is_err(), i % 10 == 0, "write {i}: {res:?}");
    }
    for i in (0..200).filter(|i| i % 10 != 0) {
        assert!(s.find_token(&format!("ok{i}")).await.unwrap().is_some(), "ok{i} lost");
    }
    s.close().await;
}

async fn data_survives_reopening(db: &TestDb) {
    let s = db.open().await;
    s.insert_user(&user("jdoe")).await.unwrap();
    s.insert_token(&token("keep", "jdoe", 77)).await.unwrap();
    s.close().await;
    drop(s);
    let s = db.open().await;
    assert_eq!(s.get_user("jdoe").await.unwrap(), Some(user("jdoe")));
    assert_eq!(s.find_token("keep").await.unwrap().map(|t| t.expires_at), Some(77));
    s.close().await;
}

async fn ping_and_close(db: &TestDb) {
    let s = db.open().await;
    s.ping().await.unwrap();
    assert!(matches!(s.engine(), "sqlite" | "postgres"));
    s.close().await;
    assert!(s.put_meta("x", "y").await.is_err(), "writes after close must fail, not hang");
}

/// A migration changed after it was applied must stop the server from starting.
#[tokio::test]
async fn sqlite_refuses_a_changed_migration() {
    let db = TestDb::sqlite();
    db.open().await.close().await;
    let DatabaseConfig::Sqlite { path } = &db.config else { unreachable!() };
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute("UPDATE wabiz_migrations SET checksum = 'tampered' WHERE version = 1", []).unwrap();
    drop(conn);
    let err = wabiz_store::open(&db.config).await.err().expect("must refuse");
    assert!(err.to_string().contains("changed after it was applied"), "{err}");
}

/// A SQLite database at schema `version`, as that version of wabiz left it.
fn sqlite_at_schema(path: &std::path::Path, version: i64) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(
        "CREATE TABLE wabiz_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at INTEGER NOT NULL)",
    )
    .unwrap();
    for m in wabiz_store::migrate::SQLITE.iter().filter(|m| m.version <= version) {
        conn.execute_batch(m.sql).unwrap();
        conn.execute(
            "INSERT INTO wabiz_migrations VALUES (?1, ?2, ?3, 0)",
            rusqlite::params![m.version, m.name, m.checksum()],
        )
        .unwrap();
    }
    conn
}

/// Schema 16 moves every message's status history from `message_statuses`
/// into the message row, errors and order kept.
#[tokio::test]
async fn sqlite_moves_the_status_history_into_the_message_row() {
    let db = TestDb::sqlite();
    let DatabaseConfig::Sqlite { path } = &db.config else { unreachable!() };
    {
        // A database as schema 15 left it.
        let conn = sqlite_at_schema(path, 15);
        for id in ["old-a", "old-b", "old-c"] {
            conn.execute(
                "INSERT INTO messages (id, direction, recipient_type, peer, type, content, status, created_at, updated_at)
                 VALUES (?1, 'outbound', 'individual', '16315551234', 'text', '{}', 'read', 1, 1)",
                [id],
            )
            .unwrap();
        }
        conn.execute_batch(
            r#"INSERT INTO message_statuses VALUES ('old-a', 'read', 7, NULL), ('old-a', 'sent', 5, NULL), ('old-a', 'delivered', 5, NULL);
               INSERT INTO message_statuses VALUES ('old-b', 'failed', 9, '[{"code":1013,"title":"a \"quoted\" title"}]');"#,
        )
        .unwrap();
    }
    let s = db.open().await;
    let status = |status: MessageStatus, at: i64, errors: Option<Failure>| StatusRecord { status, at, errors };
    assert_eq!(
        s.message_statuses("old-a").await.unwrap(),
        [status(Sent, 5, None), status(Delivered, 5, None), status(Read, 7, None)]
    );
    // The stored title is the code's; the code is what is kept.
    assert_eq!(
        s.message_statuses("old-b").await.unwrap(),
        [status(Failed, 9, Some(Failure(vec![ErrorItem::bare(ErrorCode::UserNotValid)])))]
    );
    assert!(s.message_statuses("old-c").await.unwrap().is_empty());
    assert_eq!(s.db_counts().await.unwrap().receipts, 4);
    s.close().await;
}

/// Schema 24 lists the chats of messages stored before it: each customer's
/// and group's last message, a participant's group message in the group's
/// chat, named where the last message came from the customer.
#[tokio::test]
async fn sqlite_lists_the_chats_of_earlier_messages() {
    let db = TestDb::sqlite();
    let DatabaseConfig::Sqlite { path } = &db.config else { unreachable!() };
    {
        // A database as schema 23 left it.
        let conn = sqlite_at_schema(path, 23);
        let kerry = |group: &str| {
            format!(
                r#"{{"contacts":[{{"profile":{{"name":"Kerry"}},"wa_id":"111"}}],"messages":[{{"from":"111"{group}}}]}}"#
            )
        };
        let rows = [
            ("a", "inbound", "individual", "111", kerry(""), 1),
            ("b", "outbound", "group", "g-1", "{}".to_owned(), 2),
            ("c", "inbound", "individual", "111", kerry(r#","group_id":"g-1""#), 3),
            ("d", "inbound", "individual", "111", kerry(""), 4),
        ];
        for (id, direction, kind, peer, content, at) in rows {
            conn.execute(
                "INSERT INTO messages (id, direction, recipient_type, peer, type, content, status, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, 'text', ?5, 'received', ?6, ?6)",
                rusqlite::params![id, direction, kind, peer, content, at],
            )
            .unwrap();
        }
    }
    let s = db.open().await;
    let chats = s.chats(None, 10).await.unwrap();
    let view: Vec<(&str, Option<&str>, &str, u64)> = chats
        .iter()
        .map(|c| (c.id.as_str(), c.name.as_deref(), c.last.as_ref().unwrap().id.as_str(), c.unread))
        .collect();
    assert_eq!(view, [("111", Some("Kerry"), "d", 2), ("g-1", None, "c", 1)]);
    let ids = |v: Vec<MessageRecord>| v.into_iter().map(|m| m.id).collect::<Vec<_>>();
    assert_eq!(ids(s.conversation("g-1", 10).await.unwrap()), ["b", "c"]);
    assert_eq!(ids(s.conversation("111", 10).await.unwrap()), ["a", "d"]);
    s.close().await;
}

async fn settings_documents_and_blobs(db: &TestDb) {
    let s = db.open().await;
    assert_eq!(s.get_setting("application").await.unwrap(), None);
    assert_eq!(s.get_blob("photo").await.unwrap(), None);
    let photo: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    s.write_settings(
        vec![
            SettingWrite::Put { name: "application".into(), value: r#"{"a":1}"#.into() },
            SettingWrite::Put { name: "about".into(), value: r#""hi""#.into() },
            SettingWrite::PutBlob { name: "photo".into(), data: photo.clone() },
            SettingWrite::PutMeta { key: "account.number".into(), value: "15550001".into() },
        ],
        1_700_000_000,
    )
    .await
    .unwrap();
    assert_eq!(s.get_setting("application").await.unwrap().as_deref(), Some(r#"{"a":1}"#));
    assert_eq!(s.get_blob("photo").await.unwrap(), Some(photo));
    assert_eq!(s.get_meta("account.number").await.unwrap().as_deref(), Some("15550001"));

    // Replace one, delete the others, in one go.
    s.write_settings(
        vec![
            SettingWrite::Put { name: "application".into(), value: r#"{"a":2}"#.into() },
            SettingWrite::Delete { name: "about".into() },
            SettingWrite::DeleteBlob { name: "photo".into() },
            SettingWrite::Delete { name: "never-there".into() },
        ],
        1_700_000_001,
    )
    .await
    .unwrap();
    assert_eq!(s.get_setting("application").await.unwrap().as_deref(), Some(r#"{"a":2}"#));
    assert_eq!(s.get_setting("about").await.unwrap(), None);
    assert_eq!(s.get_blob("photo").await.unwrap(), None);
    s.close().await;

    let s = db.open().await;
    assert_eq!(s.get_setting("application").await.unwrap().as_deref(), Some(r#"{"a":2}"#), "kept across reopen");
    s.close().await;
}

async fn media_records(db: &TestDb) {
    let s = db.open().await;
    let m = MediaRecord {
        id: "f043afd0-f0ae-4b9c-ab3d-696fb4c8cd68".into(),
        mime_type: "image/jpeg".into(),
        size: 5_000_000_000,
        sha256: "ab".repeat(32),
        origin: "upload".into(),
        filename: None,
        created_at: 1_700_000_000,
    };
    assert!(s.insert_media(&m).await.unwrap());
    assert!(!s.insert_media(&m).await.unwrap(), "ids are unique");
    assert_eq!(s.get_media(&m.id).await.unwrap(), Some(m.clone()));
    let doc =
        MediaRecord { id: "other".into(), filename: Some("invoice.pdf".into()), origin: "inbound".into(), ..m.clone() };
    assert!(s.insert_media(&doc).await.unwrap());
    assert_eq!(s.get_media("other").await.unwrap().and_then(|d| d.filename).as_deref(), Some("invoice.pdf"));
    assert!(s.delete_media(&m.id).await.unwrap());
    assert!(!s.delete_media(&m.id).await.unwrap());
    assert_eq!(s.get_media(&m.id).await.unwrap(), None);
    s.close().await;
}

async fn message_records(db: &TestDb) {
    let s = db.open().await;
    let m = MessageRecord {
        id: "gBEGkYiEB1VXAglK1ZEqA1YKPrU".into(),
        direction: Direction::Outbound,
        recipient_type: RecipientType::Individual,
        peer: "16315551234".into(),
        kind: "text".into(),
        content: r#"{"body":"hi"}"#.into(),
        status: Accepted,
        created_at: 1_700_000_000,
        updated_at: 1_700_000_000,
        next_event_at: Some(1_700_000_000_500),
        failure: Some(Failure(vec![ErrorItem::bare(ErrorCode::TemplateMissing)])),
        category: Some(PricingCategory::Service),
        conversation: None,
        expires_at: None,
        plan: None,
        group: None,
        sender_name: None,
    };
    s.insert_message(&m, &[]).await.unwrap();
    assert!(s.insert_message(&m, &[]).await.is_err(), "ids are unique");
    assert_eq!(s.get_message(&m.id).await.unwrap(), Some(m.clone()));
    assert_eq!(s.get_message("nope").await.unwrap(), None);
    s.close().await;
    let s = db.open().await;
    assert_eq!(s.get_message(&m.id).await.unwrap(), Some(m), "kept across reopening");
    s.close().await;
}

async fn message_transitions(db: &TestDb) {
    let s = db.open().await;
    let msg = |id: &str, due: Option<i64>| MessageRecord {
        id: id.into(),
        direction: Direction::Outbound,
        recipient_type: RecipientType::Individual,
        peer: "16315551234".into(),
        kind: "text".into(),
        content: "{}".into(),
        status: Accepted,
        created_at: 1,
        updated_at: 1,
        next_event_at: due,
        failure: None,
        category: None,
        conversation: None,
        expires_at: None,
        plan: None,
        group: None,
        sender_name: None,
    };
    // A message's delivery plan (chaos) comes back with it when due.
    let plan = DeliveryPlan { stop_at: Some(Delivered), duplicate: true, ..DeliveryPlan::default() };
    s.insert_message(&msg("a", Some(3_000)), &[]).await.unwrap();
    s.insert_message(&MessageRecord { plan: Some(Box::new(plan.clone())), ..msg("b", Some(1_000)) }, &[])
        .await
        .unwrap();
    s.insert_message(&msg("c", None), &[]).await.unwrap();
    assert_eq!(s.next_message_event().await.unwrap(), Some(1_000));
    let due = s.due_messages(2_000, 10).await.unwrap();
    assert_eq!(due.iter().map(|d| d.plan.as_deref()).collect::<Vec<_>>(), [Some(&plan)]);
    assert_eq!(s.get_message("b").await.unwrap().and_then(|m| m.plan), Some(Box::new(plan)));
    let due: Vec<String> = due.into_iter().map(|d| d.id).collect();
    assert_eq!(due, ["b"]);
    let due: Vec<String> = s.due_messages(5_000, 10).await.unwrap().into_iter().map(|d| d.id).collect();
    assert_eq!(due, ["b", "a"], "oldest first");
    assert_eq!(s.due_messages(5_000, 1).await.unwrap().len(), 1, "limit");

    let t = |id: &str, from: MessageStatus, status: MessageStatus, at: i64, next: Option<i64>| Transition {
        id: id.into(),
        from_status: from,
        status,
        at,
        errors: None,
        next_event_at: next,
        reply: None,
        conversation: None,
        callbacks: Vec::new(),
    };
    s.apply_transitions(vec![t("b", Accepted, Sent, 10, Some(4_000)), t("a", Accepted, Sent, 10, Some(9_000))])
        .await
        .unwrap();
    s.apply_transitions(vec![t("b", Sent, Delivered, 11, Some(6_000))]).await.unwrap();
    // Stale steps (another worker already moved the message on) change nothing.
    s.apply_transitions(vec![t("b", Accepted, Sent, 13, Some(99_000))]).await.unwrap();
    s.apply_transitions(vec![t("b", Sent, Delivered, 14, Some(99_000))]).await.unwrap();
    let reply = MessageRecord {
        id: "reply-1".into(),
        direction: Direction::Inbound,
        recipient_type: RecipientType::Individual,
        peer: "16315551234".into(),
        kind: "text".into(),
        content: "{}".into(),
        status: Received,
        created_at: 12,
        updated_at: 12,
        next_event_at: None,
        failure: None,
        category: None,
        conversation: None,
        expires_at: None,
        plan: None,
        group: None,
        sender_name: None,
    };
    let failed = Transition {
        errors: Some(Failure(vec![ErrorItem::bare(ErrorCode::UserNotValid)])),
        reply: Some(reply.clone()),
        ..t("b", Delivered, Failed, 12, None)
    };
    s.apply_transitions(vec![failed]).await.unwrap();
    let history = s.message_statuses("b").await.unwrap();
    assert_eq!(
        history,
        vec![
            StatusRecord { status: Sent, at: 10, errors: None },
            StatusRecord { status: Delivered, at: 11, errors: None },
            StatusRecord {
                status: Failed,
                at: 12,
                errors: Some(Failure(vec![ErrorItem::bare(ErrorCode::UserNotValid)]))
            },
        ]
    );
    let b = s.get_message("b").await.unwrap().unwrap();
    assert_eq!((b.status.as_str(), b.next_event_at, b.updated_at), ("failed", None, 12));
    assert_eq!(s.next_message_event().await.unwrap(), Some(9_000));
    assert_eq!(s.get_message("reply-1").await.unwrap(), Some(reply.clone()), "the reply came with its step");
    // A stale step's reply is not stored.
    let stale = Transition {
        reply: Some(MessageRecord { id: "reply-2".into(), ..reply }),
        ..t("b", Delivered, Read, 20, None)
    };
    s.apply_transitions(vec![stale]).await.unwrap();
    assert_eq!(s.get_message("reply-2").await.unwrap(), None);
    assert_eq!(s.get_message("b").await.unwrap().unwrap().status, Failed);

    // Several steps of one message in one call apply one after the other;
    // a step whose status no longer holds is skipped in the middle of them.
    s.apply_transitions(vec![
        t("c", Accepted, Sent, 30, Some(31_000)),
        t("a", Sent, Delivered, 30, Some(40_000)),
        t("c", Sent, Delivered, 31, Some(32_000)),
        t("c", Accepted, Sent, 31, Some(99_000)),
        t("c", Delivered, Read, 32, None),
    ])
    .await
    .unwrap();
    let c = s.get_message("c").await.unwrap().unwrap();
    assert_eq!((c.status, c.next_event_at, c.updated_at), (Read, None, 32));
    let steps: Vec<(MessageStatus, i64)> =
        s.message_statuses("c").await.unwrap().into_iter().map(|h| (h.status, h.at)).collect();
    assert_eq!(steps, [(Sent, 30), (Delivered, 31), (Read, 32)]);
    assert_eq!(s.get_message("a").await.unwrap().unwrap().status, Delivered);
    s.close().await;
}

async fn template_registry(db: &TestDb) {
    let s = db.open().await;
    let t = |lang: &str, components: &str| TemplateRecord {
        namespace: "ns".into(),
        name: "order_update".into(),
        language: lang.into(),
        components: components.into(),
        created_at: 1,
        category: "UTILITY".into(),
        status: "APPROVED".into(),
        reason: None,
    };
    s.put_template(&t("en_US", "[1]")).await.unwrap();
    s.put_template(&t("pt_BR", "[2]")).await.unwrap();
    s.put_template(&t("en_US", "[3]")).await.unwrap();
    let found = s.find_templates("ns", "order_update").await.unwrap();
    assert_eq!(
        found.iter().map(|t| (t.language.as_str(), t.components.as_str())).collect::<Vec<_>>(),
        [("en_US", "[3]"), ("pt_BR", "[2]")]
    );
    assert!(s.find_templates("other", "order_update").await.unwrap().is_empty());
    assert_eq!(s.list_templates().await.unwrap().len(), 2);
    // A status change replaces the status and its reason.
    let paused = TemplateRecord { status: "PAUSED".into(), reason: Some("low quality".into()), ..t("pt_BR", "[2]") };
    s.put_template(&paused).await.unwrap();
    let found = s.find_templates("ns", "order_update").await.unwrap();
    let pt = found.iter().find(|t| t.language == "pt_BR").unwrap();
    assert_eq!((pt.status.as_str(), pt.reason.as_deref()), ("PAUSED", Some("low quality")));
    assert_eq!(s.delete_templates("ns", "order_update", Some("pt_BR")).await.unwrap(), 1);
    assert_eq!(s.delete_templates("ns", "order_update", Some("pt_BR")).await.unwrap(), 0);
    s.put_template(&t("de", "[4]")).await.unwrap();
    assert_eq!(s.delete_templates("ns", "order_update", None).await.unwrap(), 2);
    assert!(s.list_templates().await.unwrap().is_empty());
    s.close().await;
}

async fn inbound_window_and_read(db: &TestDb) {
    let s = db.open().await;
    let msg = |id: &str, direction: Direction, peer: &str, at: i64| MessageRecord {
        id: id.into(),
        direction,
        recipient_type: RecipientType::Individual,
        peer: peer.into(),
        kind: "text".into(),
        content: "{}".into(),
        status: if direction == Direction::Inbound { Received } else { Accepted },
        created_at: at,
        updated_at: at,
        next_event_at: None,
        failure: None,
        category: None,
        conversation: None,
        expires_at: None,
        plan: None,
        group: None,
        sender_name: None,
    };
    assert_eq!(s.last_inbound_at("1555").await.unwrap(), None);
    s.insert_message(&msg("in1", Direction::Inbound, "1555", 100), &[]).await.unwrap();
    s.insert_message(&msg("in2", Direction::Inbound, "1555", 300), &[]).await.unwrap();
    // Same second as in2, but later: it stays unread.
    s.insert_message(&msg("in3", Direction::Inbound, "1555", 300), &[]).await.unwrap();
    s.insert_message(&msg("out", Direction::Outbound, "1555", 400), &[]).await.unwrap();
    s.insert_message(&msg("other", Direction::Inbound, "1666", 50), &[]).await.unwrap();
    assert_eq!(s.last_inbound_at("1555").await.unwrap(), Some(300), "outbound messages do not count");
    let ids = |v: Vec<MessageRecord>| v.into_iter().map(|m| m.id).collect::<Vec<_>>();
    assert_eq!(ids(s.conversation("1555", 10).await.unwrap()), ["in1", "in2", "in3", "out"], "insertion order");
    assert_eq!(ids(s.conversation("1555", 2).await.unwrap()), ["in3", "out"], "the last ones");
    // Reading in2 reads in1 too, not in3, not another chat.
    assert_eq!(s.mark_inbound_read("in2", 500).await.unwrap(), 2);
    assert_eq!(s.mark_inbound_read("in2", 501).await.unwrap(), 0, "idempotent");
    let status = |m: Option<MessageRecord>| m.unwrap().status;
    assert_eq!(status(s.get_message("in1").await.unwrap()), Read);
    assert_eq!(status(s.get_message("in3").await.unwrap()), Received);
    assert_eq!(status(s.get_message("other").await.unwrap()), Received);
    assert_eq!(status(s.get_message("out").await.unwrap()), Accepted);
    s.close().await;
}

async fn contact_cache(db: &TestDb) {
    let s = db.open().await;
    assert_eq!(s.get_contact("15550000001").await.unwrap(), None);
    s.put_contacts(vec![("15550000001".into(), "invalid".into()), ("16315551234".into(), "valid".into())], 100)
        .await
        .unwrap();
    assert_eq!(s.get_contact("15550000001").await.unwrap(), Some(("invalid".into(), 100)));
    s.put_contacts(vec![("15550000001".into(), "valid".into())], 200).await.unwrap();
    assert_eq!(s.get_contact("15550000001").await.unwrap(), Some(("valid".into(), 200)));
    assert_eq!(s.get_contact("16315551234").await.unwrap(), Some(("valid".into(), 100)));
    // Identities: none until one is recorded; a new one replaces the old
    // and waits for its acknowledgement, which needs the right hash.
    assert_eq!(s.get_identity("16315551234").await.unwrap(), None);
    let identity = wabiz_domain::ports::IdentityRecord {
        wa_id: "16315551234".into(),
        hash: "Sjvjlx8G6Z0=".into(),
        created_at: 1_602_532_300_000,
        acknowledged: false,
    };
    s.put_identity(&identity).await.unwrap();
    assert_eq!(s.get_identity("16315551234").await.unwrap().as_ref(), Some(&identity));
    assert!(!s.acknowledge_identity("16315551234", "other=").await.unwrap());
    assert!(s.acknowledge_identity("16315551234", "Sjvjlx8G6Z0=").await.unwrap());
    assert!(s.get_identity("16315551234").await.unwrap().unwrap().acknowledged);
    let newer =
        wabiz_domain::ports::IdentityRecord { hash: "bmV3ZXI=".into(), created_at: 1_602_532_400_000, ..identity };
    s.put_identity(&newer).await.unwrap();
    assert_eq!(s.get_identity("16315551234").await.unwrap(), Some(newer));
    s.close().await;
}

fn callback(peer: &str, item: &str) -> NewCallback {
    NewCallback {
        kind: CallbackKind::Status,
        peer: peer.into(),
        subject: Some(format!("gB{item}")),
        item: format!("{{\"n\":\"{item}\"}}"),
        contact: None,
        created_at: 1_000,
    }
}

/// The items of claimed callbacks, and the item [`callback`] makes of a name.
fn items(v: &[wabiz_domain::callbacks::PendingCallback]) -> Vec<String> {
    v.iter().map(|c| c.item.clone()).collect()
}

fn n(name: &str) -> String {
    format!("{{\"n\":\"{name}\"}}")
}

/// a, b, c, e: a and c of customer 1, b of customer 2, e without a customer.
async fn enqueue_a_b_c_e(s: &Arc<dyn Store>) {
    s.enqueue_callbacks(vec![callback("1", "a"), callback("2", "b"), callback("1", "c"), callback("", "e")])
        .await
        .unwrap();
}

/// The claims of one delivering node, the same on both engines.
async fn callback_queue(db: &TestDb) {
    let s = db.open().await;
    enqueue_a_b_c_e(&s).await;
    assert_eq!(s.callback_backlog().await.unwrap(), (4, Some(1_000)));

    // Oldest first, up to the limit.
    let first = s.claim_callbacks("n1", 1_000, 10_000, 2).await.unwrap();
    assert_eq!(items(&first), [n("a"), n("b")]);
    assert!(first[0].seq < first[1].seq);
    assert_eq!((first[0].attempts, first[0].next_attempt_at, first[0].subject.as_deref()), (0, 1_000, Some("gBa")));
    let (a, b) = (first[0].seq, first[1].seq);

    // a acknowledged, b failed: b waits for its retry, released.
    s.finish_callbacks(vec![
        CallbackOutcome::Delivered { seq: a },
        CallbackOutcome::Failed {
            seq: b,
            attempts: 1,
            at: 1_500,
            next_attempt_at: 5_000,
            result: AttemptFailure::Status(500),
        },
    ])
    .await
    .unwrap();
    assert_eq!(s.get_callback(a).await.unwrap(), None);
    let failed = s.get_callback(b).await.unwrap().unwrap();
    assert_eq!(
        (failed.attempts, failed.last_attempt_at, failed.next_attempt_at, failed.last_result.as_deref()),
        (1, Some(1_500), 5_000, Some("HTTP 500"))
    );
    // Held callbacks are not handed out twice; e has no peer, so no order.
    let second = s.claim_callbacks("n1", 2_000, 10_000, 10).await.unwrap();
    assert_eq!(items(&second), [n("c"), n("e")], "a is gone, so c is free; b is not due");
    let (c, e) = (second[0].seq, second[1].seq);
    // A newer callback of b's peer waits behind b.
    s.enqueue_callbacks(vec![callback("2", "d")]).await.unwrap();
    assert!(s.claim_callbacks("n1", 3_000, 10_000, 10).await.unwrap().is_empty());
    // Due again: b, then d behind it, in one claim.
    let third = s.claim_callbacks("n1", 5_000, 20_000, 10).await.unwrap();
    assert_eq!(items(&third), [n("b"), n("d")]);
    assert_eq!(third[0].attempts, 1);
    // Given back: claimable at once; the others stay held.
    s.finish_callbacks(vec![CallbackOutcome::Released { seq: c }]).await.unwrap();
    let again = s.claim_callbacks("n1", 6_000, 20_000, 10).await.unwrap();
    assert_eq!(items(&again), [n("c")], "released: claimable at once");
    assert!(e > c);

    // A restarting single node releases every claim.
    assert_eq!(s.release_callback_claims(None).await.unwrap(), 4);
    assert_eq!(s.claim_callbacks("n1", 6_000, 20_000, 10).await.unwrap().len(), 4, "all claimable again");
    let listed: Vec<i64> = s.list_callbacks(0, 10).await.unwrap().into_iter().map(|c| c.seq).collect();
    assert_eq!(listed.len(), 4);
    assert_eq!(s.list_callbacks(listed[0], 10).await.unwrap().len(), 3, "paging by seq");

    // Sequence numbers are not reused once the queue empties.
    let last = *listed.last().unwrap();
    assert_eq!(s.clear_callbacks().await.unwrap(), 4);
    assert_eq!(s.callback_backlog().await.unwrap(), (0, None));
    s.release_callback_claims(None).await.unwrap();
    s.enqueue_callbacks(vec![callback("9", "z")]).await.unwrap();
    let fresh = s.claim_callbacks("n", 1_000, 10_000, 10).await.unwrap();
    assert!(fresh[0].seq > last, "{} > {last}", fresh[0].seq);
    s.close().await;
}

/// "Retry now": a callback waiting for its next attempt becomes due at
/// once and is claimed; one not waiting, or gone, is left alone.
async fn a_waiting_callback_is_retried_now(db: &TestDb) {
    let s = db.open().await;
    s.enqueue_callbacks(vec![callback("7", "w")]).await.unwrap();
    let w = s.claim_callbacks("n1", 1_000, 10_000, 10).await.unwrap()[0].seq;
    s.finish_callbacks(vec![CallbackOutcome::Failed {
        seq: w,
        attempts: 1,
        at: 1_500,
        next_attempt_at: 60_000,
        result: AttemptFailure::Status(500),
    }])
    .await
    .unwrap();
    assert!(s.claim_callbacks("n1", 2_000, 10_000, 10).await.unwrap().is_empty(), "waiting until 60 s");
    assert!(s.retry_callback_now(w, 2_000).await.unwrap());
    assert_eq!(s.get_callback(w).await.unwrap().unwrap().next_attempt_at, 2_000);
    let claimed = s.claim_callbacks("n1", 2_000, 10_000, 10).await.unwrap();
    assert_eq!((items(&claimed), claimed[0].attempts), (vec![n("w")], 1), "due now, its history kept");
    assert!(s.retry_callback_now(w, 5_000).await.unwrap(), "still pending, already due");
    assert_eq!(s.get_callback(w).await.unwrap().unwrap().next_attempt_at, 2_000, "never moved later");
    s.finish_callbacks(vec![CallbackOutcome::Delivered { seq: w }]).await.unwrap();
    assert!(!s.retry_callback_now(w, 3_000).await.unwrap(), "gone");
    s.close().await;
}

/// SQLite keeps its one node's claims in memory: a node's own claims do not
/// hold its peers' later callbacks back (the engine orders them itself).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_claims_of_the_one_node() {
    let s = TestDb::sqlite().open().await;
    s.enqueue_callbacks(vec![callback("1", "a"), callback("1", "b")]).await.unwrap();
    let first = s.claim_callbacks("n", 1_000, 10_000, 1).await.unwrap();
    let second = s.claim_callbacks("n", 1_000, 10_000, 10).await.unwrap();
    assert_eq!((first.len(), second.len()), (1, 1));
    assert!(first[0].seq < second[0].seq, "in order, each once");
    // A failed callback scanned past while not yet due is found once it is,
    // and its peer's later ones behind it; newer ones of others go on.
    s.enqueue_callbacks(vec![callback("2", "x")]).await.unwrap();
    let x = s.claim_callbacks("n", 1_000, 10_000, 10).await.unwrap();
    s.finish_callbacks(vec![CallbackOutcome::Failed {
        seq: x[0].seq,
        attempts: 1,
        at: 1_500,
        next_attempt_at: 9_000,
        result: AttemptFailure::Status(500),
    }])
    .await
    .unwrap();
    s.enqueue_callbacks(vec![callback("2", "y"), callback("3", "z")]).await.unwrap();
    let third = s.claim_callbacks("n", 2_000, 10_000, 10).await.unwrap();
    assert_eq!(third.iter().map(|c| c.item.as_str()).collect::<Vec<_>>(), [r#"{"n":"z"}"#]);
    let fourth = s.claim_callbacks("n", 9_000, 20_000, 10).await.unwrap();
    assert_eq!(fourth.iter().map(|c| c.item.as_str()).collect::<Vec<_>>(), [r#"{"n":"x"}"#, r#"{"n":"y"}"#]);
    // Finished callbacks are not found again, even by a full scan.
    let all: Vec<CallbackOutcome> =
        [first, second, third, fourth].iter().flatten().map(|c| CallbackOutcome::Delivered { seq: c.seq }).collect();
    s.finish_callbacks(all).await.unwrap();
    assert_eq!(s.release_callback_claims(None).await.unwrap(), 0);
    assert!(s.claim_callbacks("n", 20_000, 30_000, 10).await.unwrap().is_empty());
    s.close().await;
}

/// Claims shared by the nodes of a deployment (PostgreSQL): a node's claim
/// holds its peer's later callbacks back from the other nodes, lapses unless
/// renewed, and each node releases its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(wabiz_test_pg), ignore = "needs PostgreSQL: set WABIZ_TEST_PG_URL")]
async fn postgres_claims_across_nodes() {
    let db = TestDb::postgres("claims").await;
    let s = db.open().await;
    enqueue_a_b_c_e(&s).await;
    let first = s.claim_callbacks("n1", 1_000, 10_000, 2).await.unwrap();
    assert_eq!(items(&first), [n("a"), n("b")]);
    let b = first[1].seq;
    // c waits while its peer's older a is held by n1.
    let second = s.claim_callbacks("n2", 1_000, 10_000, 10).await.unwrap();
    assert_eq!(items(&second), [n("e")]);
    // Renewed claims hold; lapsed ones are taken over (c stays behind a).
    s.renew_callback_claims("n1", vec![b], 30_000).await.unwrap();
    let third = s.claim_callbacks("n3", 20_000, 40_000, 10).await.unwrap();
    assert_eq!(items(&third), [n("a"), n("c"), n("e")], "lapsed claims; b renewed");
    // A node releases its own claims; a single node starting, all of them.
    assert_eq!(s.release_callback_claims(Some("n1")).await.unwrap(), 1);
    assert_eq!(s.release_callback_claims(None).await.unwrap(), 3);
    s.close().await;
    db.cleanup().await;
}

async fn callbacks_travel_with_their_cause(db: &TestDb) {
    let s = db.open().await;
    let inbound = MessageRecord {
        id: "ABin".into(),
        direction: Direction::Inbound,
        recipient_type: RecipientType::Individual,
        peer: "1555".into(),
        kind: "text".into(),
        content: "{}".into(),
        status: Received,
        created_at: 1,
        updated_at: 1,
        next_event_at: None,
        failure: None,
        category: None,
        conversation: None,
        expires_at: None,
        plan: None,
        group: None,
        sender_name: None,
    };
    s.insert_message(&inbound, &[callback("1555", "in")]).await.unwrap();
    // A failing insert (duplicate id) stores no callback either.
    assert!(s.insert_message(&inbound, &[callback("1555", "dup")]).await.is_err());
    let out = MessageRecord {
        id: "gBout".into(),
        direction: Direction::Outbound,
        status: Accepted,
        next_event_at: Some(5),
        category: Some(PricingCategory::Service),
        ..inbound.clone()
    };
    s.insert_message(&out, &[]).await.unwrap();
    let c1 = Conversation::open(PricingCategory::Service, 2);
    let step = |from: MessageStatus, to: MessageStatus, item: &str| Transition {
        id: "gBout".into(),
        from_status: from,
        status: to,
        at: 2,
        errors: None,
        next_event_at: None,
        reply: None,
        conversation: Some(c1.clone()),
        callbacks: vec![callback("1555", item)],
    };
    s.apply_transitions(vec![step(Accepted, Sent, "sent")]).await.unwrap();
    // A stale step (already moved on) brings no callback.
    s.apply_transitions(vec![step(Accepted, Sent, "stale")]).await.unwrap();
    let items: Vec<String> = s.list_callbacks(0, 10).await.unwrap().into_iter().map(|c| c.item).collect();
    assert_eq!(items, [r#"{"n":"in"}"#, r#"{"n":"sent"}"#]);
    let stored = s.get_message("gBout").await.unwrap().unwrap();
    assert_eq!((stored.category, stored.conversation.as_ref()), (Some(PricingCategory::Service), Some(&c1)));
    let due = s.due_messages(10, 10).await.unwrap();
    assert!(due.is_empty());
    s.close().await;
}

/// A message stored with the steps taken at once ends as if it had been
/// inserted and then moved on: same row, history and callbacks.
async fn messages_stored_with_their_steps(db: &TestDb) {
    let s = db.open().await;
    let m = |id: &str| MessageRecord {
        id: id.into(),
        direction: Direction::Outbound,
        recipient_type: RecipientType::Individual,
        peer: "1555".into(),
        kind: "text".into(),
        content: "{}".into(),
        status: Accepted,
        created_at: 1,
        updated_at: 1,
        next_event_at: Some(1_000),
        failure: None,
        category: Some(PricingCategory::Service),
        conversation: None,
        expires_at: Some(99_000),
        plan: None,
        group: None,
        sender_name: None,
    };
    let c1 = Conversation::open(PricingCategory::Service, 2);
    let step = |id: &str, from: MessageStatus, to: MessageStatus, at: i64, cb: Option<&str>| Transition {
        id: id.into(),
        from_status: from,
        status: to,
        at,
        errors: None,
        next_event_at: None,
        reply: None,
        conversation: (to == Sent).then(|| c1.clone()),
        callbacks: cb.map(|n| callback("1555", n)).into_iter().collect(),
    };
    let run = |id: &str| {
        vec![
            step(id, Accepted, Sent, 2, None),
            step(id, Sent, Delivered, 2, None),
            step(id, Delivered, Read, 3, Some(id)),
        ]
    };
    s.insert_message_with_steps(&m("a"), run("a")).await.unwrap();
    let a = s.get_message("a").await.unwrap().unwrap();
    assert_eq!((a.status.as_str(), a.updated_at, a.next_event_at), ("read", 3, None));
    assert_eq!(a.conversation.as_ref(), Some(&c1));
    assert_eq!((a.created_at, a.expires_at, a.category), (1, Some(99_000), Some(PricingCategory::Service)));
    let history: Vec<(MessageStatus, i64)> =
        s.message_statuses("a").await.unwrap().into_iter().map(|r| (r.status, r.at)).collect();
    assert_eq!(history, [(Sent, 2), (Delivered, 2), (Read, 3)]);
    assert!(s.due_messages(i64::MAX, 10).await.unwrap().is_empty(), "nothing left to do");

    // A step left for later stays due.
    let later = vec![Transition { next_event_at: Some(7_000), ..step("b", Accepted, Sent, 2, Some("b")) }];
    s.insert_message_with_steps(&m("b"), later).await.unwrap();
    let due: Vec<(String, MessageStatus)> =
        s.due_messages(7_000, 10).await.unwrap().into_iter().map(|d| (d.id, d.status)).collect();
    assert_eq!(due, [("b".to_owned(), Sent)]);

    // Steps that do not start from the stored status change nothing but the insert.
    s.insert_message_with_steps(&m("c"), vec![step("c", Sent, Delivered, 2, Some("c"))]).await.unwrap();
    assert_eq!(s.get_message("c").await.unwrap().unwrap().status, Accepted);

    // A failing insert (the id exists) stores no callback either.
    assert!(s.insert_message_with_steps(&m("a"), run("a")).await.is_err());
    let items: Vec<String> = s.list_callbacks(0, 10).await.unwrap().into_iter().map(|c| c.item).collect();
    assert_eq!(items, [r#"{"n":"a"}"#, r#"{"n":"b"}"#]);
    s.close().await;
}

async fn conversations_last_a_day(db: &TestDb) {
    let s = db.open().await;
    let w = |peer: &str, cat: PricingCategory| (peer.to_owned(), cat);
    let first = s
        .open_conversations(
            vec![
                w("1", PricingCategory::Service),
                w("1", PricingCategory::Service),
                w("1", PricingCategory::Marketing),
            ],
            1_000,
        )
        .await
        .unwrap();
    assert!(first[0].opened_here && !first[1].opened_here && first[2].opened_here);
    assert_eq!(first[0].id, first[1].id, "same customer and category: same conversation");
    assert_ne!(first[0].id, first[2].id, "another category: another conversation");
    assert_eq!((first[0].id.len(), first[0].expires_at), (32, 1_000 + 86_400));
    let later = s.open_conversations(vec![w("1", PricingCategory::Service)], 1_000 + 86_399).await.unwrap();
    assert_eq!((later[0].id.as_str(), later[0].opened_here), (first[0].id.as_str(), false));
    let next_day = s.open_conversations(vec![w("1", PricingCategory::Service)], 1_000 + 86_400).await.unwrap();
    assert!(next_day[0].opened_here);
    assert_ne!(next_day[0].id, first[0].id);
    assert_eq!(next_day[0].expires_at, 1_000 + 2 * 86_400);
    s.close().await;
}

async fn groups_change_by_compare_and_set(db: &TestDb) {
    let s = db.open().await;
    let g = wabiz_domain::ports::GroupRecord {
        id: "16315550100-1700000000".into(),
        invite_code: "code-one".into(),
        document: r#"{"subject":"Team"}"#.into(),
        icon: None,
        version: 1,
        created_at: 1_700_000_000,
    };
    s.insert_group(&g, vec![callback("16315550100-1700000000", "created")]).await.unwrap();
    assert!(s.insert_group(&g, vec![]).await.is_err(), "ids are unique");
    assert_eq!(s.get_group(&g.id).await.unwrap(), Some(g.clone()));
    assert_eq!(s.group_by_invite("code-one").await.unwrap().map(|g| g.id), Some(g.id.clone()));
    let next = wabiz_domain::ports::GroupRecord {
        invite_code: "code-two".into(),
        document: r#"{"subject":"New"}"#.into(),
        icon: Some(vec![0xff, 0xd8, 0xff]),
        version: 2,
        ..g.clone()
    };
    assert!(s.update_group(&next, 1, vec![callback("16315550100-1700000000", "renamed")]).await.unwrap());
    assert!(!s.update_group(&next, 1, vec![callback("x", "lost")]).await.unwrap(), "a stale version changes nothing");
    assert_eq!(s.get_group(&g.id).await.unwrap(), Some(next.clone()));
    assert_eq!(s.group_by_invite("code-one").await.unwrap(), None, "the old link is gone");
    let listed = s.list_groups().await.unwrap();
    assert_eq!((listed.len(), listed[0].icon.is_none(), listed[0].version), (1, true, 2), "lists leave icons out");
    let items: Vec<String> = s.list_callbacks(0, 10).await.unwrap().into_iter().map(|c| c.item).collect();
    assert_eq!(items, [r#"{"n":"created"}"#, r#"{"n":"renamed"}"#], "callbacks only with changes that happened");
    s.close().await;
}

async fn garbage_collection_keeps_what_is_needed(db: &TestDb) {
    let s = db.open().await;
    let day = 86_400;
    let now = 100 * day;
    let out = |id: &str, status: MessageStatus, at: i64| MessageRecord {
        direction: Direction::Outbound,
        status,
        ..MessageRecord::inbound(id.into(), "1555".into(), "text".into(), "{}".into(), at)
    };
    let old = now - 31 * day;
    for m in [
        out("read-new", Read, now),           // final: collected
        out("failed-new", Failed, now),       // final: collected
        out("delivered-old", Delivered, old), // delivered and old: collected
        out("delivered-new", Delivered, now), // kept
        out("sent-old", Sent, old),           // not final: kept
        out("read-pending", Read, old),       // a callback still pending: kept
        MessageRecord::inbound("in-old".into(), "1555".into(), "text".into(), "{}".into(), old), // collected
        MessageRecord::inbound("in-new".into(), "1555".into(), "text".into(), "{}".into(), now), // kept
    ] {
        s.insert_message(&m, &[]).await.unwrap();
    }
    let pending = NewCallback { subject: Some("read-pending".into()), ..callback("1555", "x") };
    s.enqueue_callbacks(vec![pending]).await.unwrap();
    s.apply_transitions(vec![Transition {
        id: "delivered-old".into(),
        from_status: Delivered,
        status: Delivered,
        at: old,
        errors: None,
        next_event_at: None,
        reply: None,
        conversation: None,
        callbacks: Vec::new(),
    }])
    .await
    .unwrap();
    // A bulk delete with the same cutoff spares the recent final ones.
    assert_eq!(s.collect_messages(now - 30 * day, false, 100).await.unwrap(), 2, "delivered-old, in-old");
    assert_eq!(s.collect_messages(now - 30 * day, true, 1).await.unwrap(), 1, "the limit");
    assert_eq!(s.collect_messages(now - 30 * day, true, 100).await.unwrap(), 1);
    assert_eq!(s.collect_messages(now - 30 * day, true, 100).await.unwrap(), 0, "nothing left");
    for (id, kept) in [
        ("read-new", false),
        ("failed-new", false),
        ("delivered-old", false),
        ("delivered-new", true),
        ("sent-old", true),
        ("read-pending", true),
        ("in-old", false),
        ("in-new", true),
    ] {
        assert_eq!(s.get_message(id).await.unwrap().is_some(), kept, "{id}");
    }
    assert!(s.message_statuses("delivered-old").await.unwrap().is_empty(), "history goes with the message");

    // Media: the 30-day clock restarts when a send uses it.
    let media = |id: &str, at: i64| MediaRecord {
        id: id.into(),
        mime_type: "image/png".into(),
        size: 1,
        sha256: "0".repeat(64),
        origin: "upload".into(),
        filename: None,
        created_at: at,
    };
    s.insert_media(&media("a", now - 40 * day)).await.unwrap();
    s.insert_media(&media("b", now - 40 * day)).await.unwrap();
    s.insert_media(&media("c", now - 10 * day)).await.unwrap();
    s.touch_media(vec!["b".into()], now - 5 * day).await.unwrap();
    let unused: Vec<String> =
        s.media_unused_since(now - 30 * day, 10).await.unwrap().into_iter().map(|m| m.id).collect();
    assert_eq!(unused, ["a"]);
    s.close().await;
}

/// The multiconnect side of PostgreSQL: the lease is one holder at a time and
/// fences a master that lost it; a shard owner's batch is refused once the
/// shard moved; a message's shard follows the shard count.
#[tokio::test]
#[cfg_attr(not(wabiz_test_pg), ignore = "needs PostgreSQL: set WABIZ_TEST_PG_URL")]
async fn postgres_cluster_lease_and_shard_fencing() {
    use wabiz_domain::cluster::{NodeRole, ShardChange, ShardScope, shard_of};
    let db = TestDb::postgres("cluster").await;
    let store = db.open().await;
    let cluster = Arc::clone(&store).cluster().expect("PostgreSQL has the cluster side");
    assert!(TestDb::sqlite().open().await.cluster().is_none());

    cluster.register_node("a", NodeRole::All, "{}").await.unwrap();
    cluster.register_node("b", NodeRole::All, "{}").await.unwrap();
    assert!(cluster.heartbeat("a", "{\"x\":1}").await.unwrap());
    assert!(!cluster.heartbeat("gone", "{}").await.unwrap());

    // One holder; the other cannot take a live lease.
    let a = cluster.acquire_lease("a", 60_000).await.unwrap();
    assert!(a.holder == "a" && a.live);
    let seen_by_b = cluster.acquire_lease("b", 60_000).await.unwrap();
    assert_eq!((seen_by_b.holder.as_str(), seen_by_b.epoch), ("a", a.epoch));
    let change = |shard, node: &str| ShardChange { shard, node_id: Some(node.to_owned()) };
    assert!(cluster.write_shard_map("a", a.epoch, 2, vec![change(0, "a"), change(1, "b")], false).await.unwrap());

    // a's lease runs out; b takes it with a new epoch, and a is fenced.
    cluster.release_lease("a").await.unwrap();
    let b = cluster.acquire_lease("b", 60_000).await.unwrap();
    assert!(b.holder == "b" && b.epoch > a.epoch);
    assert!(!cluster.write_shard_map("a", a.epoch, 2, vec![change(1, "a")], false).await.unwrap());

    // A message for shard 0, owned by a.
    let to = (0..100).map(|i| format!("4915{i:08}")).find(|t| shard_of(t, 2) == 0).unwrap();
    let mut m = wabiz_domain::ports::MessageRecord::inbound("m1".into(), to.clone(), "text".into(), "{}".into(), 1);
    m.direction = Direction::Outbound;
    m.status = Accepted;
    m.next_event_at = Some(0);
    store.insert_message(&m, &[]).await.unwrap();
    // What a node owns, as it reads the map now.
    let scope_of = |map: &[wabiz_domain::cluster::ShardOwner], node: &str| ShardScope {
        node_id: node.into(),
        count: 2,
        owned: map.iter().filter(|o| o.node_id.as_deref() == Some(node)).map(|o| (o.shard, o.epoch)).collect(),
    };
    let map = cluster.shard_map().await.unwrap();
    let (scope_a, scope_b) = (scope_of(&map, "a"), scope_of(&map, "b"));
    assert_eq!(cluster.due_messages_in(&scope_a, 10, 10).await.unwrap().len(), 1);
    assert!(cluster.due_messages_in(&scope_b, 10, 10).await.unwrap().is_empty());
    assert_eq!(cluster.next_message_event_in(&scope_a).await.unwrap(), Some(0));

    // Shard 0 moves to b: a's batch read before the move is refused.
    assert!(cluster.write_shard_map("b", b.epoch, 2, vec![change(0, "b")], false).await.unwrap());
    let step = wabiz_domain::ports::Transition {
        id: "m1".into(),
        from_status: Accepted,
        status: Sent,
        at: 2,
        errors: None,
        next_event_at: None,
        reply: None,
        conversation: None,
        callbacks: Vec::new(),
    };
    assert!(!cluster.apply_transitions_in(&scope_a, vec![step.clone()]).await.unwrap());
    assert_eq!(store.get_message("m1").await.unwrap().unwrap().status, Accepted);
    let scope_b = scope_of(&cluster.shard_map().await.unwrap(), "b");
    assert!(cluster.apply_transitions_in(&scope_b, vec![step]).await.unwrap());
    assert_eq!(store.get_message("m1").await.unwrap().unwrap().status, Sent);

    // Fewer shards: rows at or above the count go; the members see it.
    assert!(cluster.write_shard_map("b", b.epoch, 1, Vec::new(), true).await.unwrap());
    assert!(cluster.shard_map().await.unwrap().iter().all(|o| o.shard < 1));
    assert_eq!(cluster.nodes().await.unwrap().len(), 2);
    store.close().await;
    db.cleanup().await;
}

async fn traffic_runs_are_leased_and_counted(db: &TestDb) {
    use wabiz_domain::traffic::{TrafficRun, TrafficState, id_range, message_id};
    let s = db.open().await;
    let run = |id: &str, at: i64| TrafficRun {
        id: id.into(),
        spec: r#"{"rate":1}"#.into(),
        state: TrafficState::Running,
        created_at: at,
        ended_at: None,
    };
    s.insert_traffic_run(&run("0000000a", 1)).await.unwrap();
    s.insert_traffic_run(&run("0000000b", 2)).await.unwrap();
    assert_eq!(s.get_traffic_run("0000000a").await.unwrap(), Some(run("0000000a", 1)));
    assert_eq!(
        s.traffic_runs(10).await.unwrap().iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        ["0000000b", "0000000a"]
    );

    // One owner at a time, until its lease runs out.
    assert!(s.lease_traffic_run("0000000a", "n1", 100, 200).await.unwrap());
    assert!(!s.lease_traffic_run("0000000a", "n2", 150, 250).await.unwrap(), "n1 holds it");
    assert!(s.lease_traffic_run("0000000a", "n1", 150, 250).await.unwrap(), "renewed");
    assert!(s.lease_traffic_run("0000000a", "n2", 251, 350).await.unwrap(), "taken over once expired");

    // Ended runs are neither running nor leased.
    assert!(s.end_traffic_run("0000000b", TrafficState::Stopped, 9).await.unwrap());
    assert!(!s.end_traffic_run("0000000b", TrafficState::Finished, 10).await.unwrap(), "already ended");
    assert!(!s.lease_traffic_run("0000000b", "n1", 400, 500).await.unwrap());
    let running = s.running_traffic_runs().await.unwrap();
    assert_eq!(running.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["0000000a"]);
    let ended = s.get_traffic_run("0000000b").await.unwrap().unwrap();
    assert_eq!((ended.state, ended.ended_at), (TrafficState::Stopped, Some(9)));

    // Progress: the run's messages (and only them), and their callbacks still queued.
    for n in 0..3 {
        let m = MessageRecord::inbound(message_id("0000000a", n), "16315561234".into(), "text".into(), "{}".into(), 1);
        let cb = NewCallback { subject: Some(m.id.clone()), ..callback("16315561234", "x") };
        s.insert_message(&m, if n == 0 { std::slice::from_ref(&cb) } else { &[] }).await.unwrap();
    }
    let other = MessageRecord::inbound(message_id("0000000b", 0), "1".into(), "text".into(), "{}".into(), 1);
    s.insert_message(&other, &[]).await.unwrap();
    let lookalike = MessageRecord::inbound("ABT0000000A000000000001".into(), "1".into(), "text".into(), "{}".into(), 1);
    s.insert_message(&lookalike, &[]).await.unwrap();
    let (from, to) = id_range("0000000a");
    let p = s.traffic_progress(&from, &to).await.unwrap();
    assert_eq!((p.generated, p.pending_callbacks), (3, 1));
    s.close().await;
}

/// The list of chats: one entry a customer or group, the most recent first,
/// with its last message, the name the customer last showed and the unread
/// count (capped); a group's chat holds what participants wrote in it, and
/// their own chats do not; a search finds a number or name prefix.
async fn chats_list_the_latest_with_unread_counts(db: &TestDb) {
    let s = db.open().await;
    let inbound =
        |id: &str, peer: &str, at: i64| MessageRecord::inbound(id.into(), peer.into(), "text".into(), "{}".into(), at);
    let outbound = |id: &str, peer: &str, at: i64| MessageRecord {
        direction: Direction::Outbound,
        status: Accepted,
        ..inbound(id, peer, at)
    };
    s.insert_message(&inbound("k1", "16315551234", 100).named("Kerry Fisher"), &[]).await.unwrap();
    s.insert_message(&inbound("k2", "16315551234", 110), &[]).await.unwrap();
    s.insert_message(&outbound("b1", "16315550000", 120), &[]).await.unwrap();
    let to_group = MessageRecord { recipient_type: RecipientType::Group, ..outbound("g1", "grp-1", 130) };
    s.insert_message(&to_group, &[]).await.unwrap();
    // Kerry writes in the group: the group's chat, not hers.
    s.insert_message(&inbound("g2", "16315551234", 140).named("Kerry F").in_group(Some("grp-1".into())), &[])
        .await
        .unwrap();
    let chats = s.chats(None, 10).await.unwrap();
    let view: Vec<(&str, Option<&str>, u64, Option<&str>)> = chats
        .iter()
        .map(|c| (c.id.as_str(), c.name.as_deref(), c.unread, c.last.as_ref().map(|m| m.id.as_str())))
        .collect();
    assert_eq!(
        view,
        [
            ("grp-1", None, 1, Some("g2")),
            ("16315550000", None, 0, Some("b1")),
            ("16315551234", Some("Kerry Fisher"), 2, Some("k2")),
        ],
        "most recent first; a name outlives messages without one; a group is not named by a participant"
    );
    assert_eq!(chats[0].recipient_type, RecipientType::Group);
    assert_eq!(chats[0].last.as_ref().unwrap().group.as_deref(), Some("grp-1"), "the group is kept with the message");
    assert_eq!(s.chats(None, 1).await.unwrap().len(), 1, "the limit holds");
    let ids = |v: Vec<MessageRecord>| v.into_iter().map(|m| m.id).collect::<Vec<_>>();
    assert_eq!(ids(s.conversation("grp-1", 10).await.unwrap()), ["g1", "g2"], "the group's chat, in order");
    assert_eq!(ids(s.conversation("grp-1", 1).await.unwrap()), ["g2"]);
    assert_eq!(ids(s.conversation("16315551234", 10).await.unwrap()), ["k1", "k2"], "not what she wrote in the group");

    // Reading her last message leaves nothing unread in her chat.
    s.mark_inbound_read("k2", 200).await.unwrap();
    let kerry = s.chats(Some("1631555123"), 10).await.unwrap();
    assert_eq!(kerry.iter().map(|c| (c.id.as_str(), c.unread)).collect::<Vec<_>>(), [("16315551234", 0)]);
    let by_name = s.chats(Some("kerry"), 10).await.unwrap();
    assert_eq!(by_name.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), ["16315551234"], "names match in any case");
    assert!(s.chats(Some("1632"), 10).await.unwrap().is_empty());
    let numbers = s.chats(Some("1631555"), 10).await.unwrap();
    assert_eq!(
        numbers.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        ["16315550000", "16315551234"],
        "number order"
    );

    // A customer who wrote many times: the count stops at the cap.
    for i in 0..(wabiz_domain::ports::UNREAD_CAP + 5) {
        s.insert_message(&inbound(&format!("m{i}"), "19995550000", 300), &[]).await.unwrap();
    }
    let busy = s.chats(Some("1999"), 10).await.unwrap();
    assert_eq!(busy[0].unread, wabiz_domain::ports::UNREAD_CAP);
    assert_eq!(busy[0].last.as_ref().unwrap().id, format!("m{}", wabiz_domain::ports::UNREAD_CAP + 4));
    s.close().await;
}

/// An accepted outbound message to `peer`, for the relay's queue.
fn relayed(id: &str, peer: &str) -> MessageRecord {
    MessageRecord {
        id: id.into(),
        direction: Direction::Outbound,
        recipient_type: RecipientType::Individual,
        peer: peer.into(),
        kind: "text".into(),
        content: format!(r#"{{"body":"{id}"}}"#),
        status: Accepted,
        created_at: 1_700_000_000,
        updated_at: 1_700_000_000,
        next_event_at: None,
        failure: None,
        category: Some(PricingCategory::Service),
        conversation: None,
        expires_at: None,
        plan: None,
        group: None,
        sender_name: None,
    }
}

/// The relay's queue (`RelayStore`): only the oldest waiting send of each
/// customer is handed out; a claim holds it for its lease; a send to try
/// later keeps its customer's later ones back; refused and taken sends
/// leave the queue; claims are handed back at a single node's start.
async fn cloud_sends_go_one_per_customer_in_order(db: &TestDb) {
    use wabiz_domain::relay::SendEnvelope;
    let s = db.open().await;
    let now = 1_700_000_000_000;
    let plain = SendEnvelope::default();
    let quoting = SendEnvelope { preview_url: true, context: Some("wamid.Q".into()) };
    s.queue_cloud_send(&relayed("a1", "111"), &quoting, now).await.unwrap();
    s.queue_cloud_send(&relayed("a2", "111"), &plain, now).await.unwrap();
    s.queue_cloud_send(&relayed("b1", "222"), &plain, now).await.unwrap();
    s.queue_cloud_send(&relayed("c1", "333"), &plain, now + 5_000).await.unwrap();
    assert_eq!(s.get_message("a1").await.unwrap().map(|m| m.status), Some(Accepted), "stored with its send");
    assert_eq!(s.cloud_backlog().await.unwrap(), (4, Some(1_700_000_000)));

    let lease = now + 45_000;
    let claimed = s.claim_cloud_sends(now, lease, 10).await.unwrap();
    let ids: Vec<&str> = claimed.iter().map(|c| c.message_id.as_str()).collect();
    assert_eq!(ids, ["a1", "b1"], "the heads of the due customers' queues");
    assert_eq!(claimed[0].envelope, quoting);
    assert_eq!((claimed[0].kind.as_str(), claimed[0].content.as_str()), ("text", r#"{"body":"a1"}"#));
    assert_eq!(claimed[0].attempts, 0);
    assert!(s.claim_cloud_sends(now, lease, 10).await.unwrap().is_empty(), "claimed ones are not handed out again");
    assert_eq!(s.next_cloud_send().await.unwrap(), Some(now + 5_000), "a2 waits behind a1: not due");

    // a1 must wait: a2 stays behind it, even once due.
    s.cloud_send_later(claimed[0].seq, now + 2_000).await.unwrap();
    s.cloud_send_taken(claimed[1].seq, "b1", "wamid.B1").await.unwrap();
    assert!(s.claim_cloud_sends(now + 1_000, lease, 10).await.unwrap().is_empty());
    let again = s.claim_cloud_sends(now + 2_000, lease, 10).await.unwrap();
    assert_eq!(again.iter().map(|c| c.message_id.as_str()).collect::<Vec<_>>(), ["a1"]);
    assert_eq!(again[0].attempts, 1, "the earlier try is counted");

    // A node that stopped mid-send: its claims come back at start.
    assert_eq!(s.release_cloud_claims(now + 3_000).await.unwrap(), 1);
    let after = s.claim_cloud_sends(now + 3_000, lease, 10).await.unwrap();
    assert_eq!(after.iter().map(|c| c.message_id.as_str()).collect::<Vec<_>>(), ["a1"]);

    // Refused for good: a1 fails with its callback and a2 comes up.
    let refused = Transition {
        id: "a1".into(),
        from_status: Accepted,
        status: Failed,
        at: 1_700_000_003,
        errors: Some(Failure(vec![ErrorItem::bare(ErrorCode::TemplateMissing)])),
        next_event_at: None,
        reply: None,
        conversation: None,
        callbacks: vec![NewCallback {
            kind: CallbackKind::Status,
            peer: "111".into(),
            subject: Some("a1".into()),
            item: r#"{"id":"a1","status":"failed"}"#.into(),
            contact: None,
            created_at: now,
        }],
    };
    s.cloud_send_refused(after[0].seq, refused).await.unwrap();
    assert_eq!(s.get_message("a1").await.unwrap().map(|m| m.status), Some(Failed));
    assert_eq!(s.callback_backlog().await.unwrap().0, 1, "the failure's callback is stored with it");
    let next = s.claim_cloud_sends(now + 5_000, lease, 10).await.unwrap();
    assert_eq!(next.iter().map(|c| c.message_id.as_str()).collect::<Vec<_>>(), ["a2", "c1"]);
    for c in &next {
        s.cloud_send_taken(c.seq, &c.message_id, &format!("wamid.{}", c.message_id)).await.unwrap();
    }
    assert_eq!(s.cloud_backlog().await.unwrap(), (0, None));
    assert_eq!(s.next_cloud_send().await.unwrap(), None);
    s.close().await;
}

/// The relay's ids: a `wamid` both ways, Cloud media ids, inbound messages
/// stored once, and statuses kept until their `wamid` is known.
async fn cloud_ids_and_parked_statuses(db: &TestDb) {
    use wabiz_domain::relay::CloudMedia;
    let s = db.open().await;
    s.queue_cloud_send(&relayed("m1", "111"), &Default::default(), 0).await.unwrap();
    let claimed = s.claim_cloud_sends(0, 1, 1).await.unwrap();
    s.cloud_send_taken(claimed[0].seq, "m1", "wamid.M1").await.unwrap();
    assert_eq!(s.message_of_wamid("wamid.M1").await.unwrap().as_deref(), Some("m1"));
    assert_eq!(s.wamid_of_message("m1").await.unwrap().as_deref(), Some("wamid.M1"));
    assert_eq!(s.message_of_wamid("wamid.X").await.unwrap(), None);

    let media =
        CloudMedia { id: "u-1".into(), cloud_id: "1013859600285441".into(), mime_type: "image/png".into(), at: 5 };
    s.put_cloud_media(&media).await.unwrap();
    s.put_cloud_media(&media).await.unwrap();
    assert_eq!(s.cloud_media("u-1").await.unwrap(), Some(media));
    assert_eq!(s.cloud_media("u-2").await.unwrap(), None);

    let inbound = MessageRecord::inbound("wamid.IN".into(), "111".into(), "text".into(), "{}".into(), 7);
    let cb = NewCallback {
        kind: CallbackKind::Message,
        peer: "111".into(),
        subject: Some("wamid.IN".into()),
        item: "{}".into(),
        contact: None,
        created_at: 7_000,
    };
    assert!(s.insert_message_once(&inbound, std::slice::from_ref(&cb)).await.unwrap());
    assert!(!s.insert_message_once(&inbound, std::slice::from_ref(&cb)).await.unwrap(), "a repeated webhook");
    assert_eq!(s.callback_backlog().await.unwrap().0, 1, "one callback");

    s.park_cloud_status("wamid.LATE", r#"{"status":"delivered"}"#, 1).await.unwrap();
    s.park_cloud_status("wamid.LATE", r#"{"status":"read"}"#, 2).await.unwrap();
    s.park_cloud_status("wamid.OTHER", r#"{"status":"sent"}"#, 3).await.unwrap();
    assert_eq!(
        s.take_parked_statuses("wamid.LATE").await.unwrap(),
        [r#"{"status":"delivered"}"#, r#"{"status":"read"}"#]
    );
    assert!(s.take_parked_statuses("wamid.LATE").await.unwrap().is_empty(), "taken once");
    assert_eq!(s.take_parked_statuses("wamid.OTHER").await.unwrap().len(), 1);
    s.park_cloud_status("wamid.NEVER", r#"{"status":"sent"}"#, 10).await.unwrap();
    s.park_cloud_status("wamid.RECENT", r#"{"status":"sent"}"#, 20).await.unwrap();
    assert_eq!(s.forget_parked_statuses(15).await.unwrap(), 1, "kept too long");
    assert!(s.take_parked_statuses("wamid.NEVER").await.unwrap().is_empty());
    assert_eq!(s.take_parked_statuses("wamid.RECENT").await.unwrap().len(), 1);

    // The wamid goes with its message when garbage collection takes it.
    let read = Transition {
        id: "m1".into(),
        from_status: Accepted,
        status: Read,
        at: 8,
        errors: None,
        next_event_at: None,
        reply: None,
        conversation: None,
        callbacks: vec![],
    };
    s.apply_transitions(vec![read]).await.unwrap();
    assert!(s.collect_messages(i64::MAX, true, 100).await.unwrap() >= 1);
    assert_eq!(s.get_message("m1").await.unwrap(), None);
    assert_eq!(s.message_of_wamid("wamid.M1").await.unwrap(), None);
    assert_eq!(s.wamid_of_message("m1").await.unwrap(), None);
    s.close().await;
}
