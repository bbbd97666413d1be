//! Earlier messages, loaded straight into a migrated database before the
//! run, so that `chat` and `one-customer` measure a server whose customers
//! have long histories.
//!
//! How: the bench starts the server once on the fresh database (it runs its
//! migrations), stops it with SIGTERM, writes the rows with the engine's own
//! client, then starts the server again for the run. SQLite: rusqlite, one
//! prepared `INSERT` per row in transactions of about 100,000 rows with
//! `synchronous = OFF`, then a WAL checkpoint so that the server starts on a
//! folded database. PostgreSQL: binary `COPY` into `messages` and
//! `message_statuses` in transactions of about 100,000 messages, then
//! `ANALYZE` (what autovacuum would have done for a table that grew over
//! months). On the 2-core VM of the figures, 1,000,000 messages (`chat`)
//! took 10.7 s on SQLite and 25.8 s on PostgreSQL; 100,000 (`one-customer`)
//! 0.6 s and 2.5 s.
//!
//! What: each customer's chat alternates inbound and outbound texts over the
//! last six days, newest last; the newest is the customer's, a minute old,
//! so the 24-hour window is open. Outbound ones are `read`, with the three
//! status lines (`sent`, `delivered`, `read`), the `service` category and a
//! conversation per customer and day, the way the server leaves them;
//! inbound ones are `received`, in their callback shape. The columns and
//! their texts follow `store/src/{sqlite,postgres}/messages.rs` and
//! `store/src/columns.rs`; the test loads a small history into databases
//! built from `store/migrations` and reads it back with the server's window
//! question.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Customers and how many earlier messages each has.
#[derive(Debug, Clone)]
pub struct History {
    pub customers: Vec<String>,
    pub per_customer: u32,
}

/// What a load did.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Loaded {
    pub messages: u64,
    pub seconds: f64,
}

/// How far back a chat goes.
const SPAN_SECS: i64 = 6 * 24 * 3600;
/// The newest message (the customer's) is this old when loaded.
const NEWEST_AGE_SECS: i64 = 60;
/// Rows per transaction.
const BATCH: usize = 100_000;
/// The server's default `ttl` for outbound messages (30 days), in ms.
const TTL_MS: i64 = 30 * 24 * 3600 * 1000;

/// One earlier message, in the columns both engines share.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub id: String,
    pub inbound: bool,
    pub peer: String,
    pub content: String,
    pub created_at: i64,
    pub updated_at: i64,
    /// Outbound: the pricing conversation (JSON text).
    pub conversation: Option<String>,
    /// Outbound: when it would have expired undelivered (Unix ms).
    pub expires_at: Option<i64>,
}

impl Row {
    fn direction(&self) -> &'static str {
        if self.inbound { "inbound" } else { "outbound" }
    }

    fn status(&self) -> &'static str {
        if self.inbound { "received" } else { "read" }
    }

    fn category(&self) -> Option<&'static str> {
        (!self.inbound).then_some("service")
    }

    /// Outbound: `(status, at)` of its history, in order.
    fn statuses(&self) -> Vec<(&'static str, i64)> {
        if self.inbound {
            return Vec::new();
        }
        vec![("sent", self.created_at), ("delivered", self.created_at), ("read", self.updated_at)]
    }

    /// SQLite's history column: one JSON array `[status, at, errors]` a line.
    fn history_text(&self) -> Option<String> {
        let lines: Vec<String> = self.statuses().iter().map(|(s, at)| json!([s, at, null]).to_string()).collect();
        (!lines.is_empty()).then(|| lines.join("\n"))
    }
}

impl History {
    pub fn messages(&self) -> u64 {
        self.customers.len() as u64 * u64::from(self.per_customer)
    }

    /// The chat of customer number `index`, oldest first; `serial` numbers
    /// the ids across customers.
    pub fn chat(&self, index: usize, serial: &mut u64, now: i64) -> Vec<Row> {
        let peer = &self.customers[index];
        let n = i64::from(self.per_customer);
        let spacing = (SPAN_SECS / n.max(1)).max(1);
        let mut rows = Vec::with_capacity(self.per_customer as usize);
        let mut conversation_day = None;
        for k in 0..n {
            let from_newest = n - 1 - k;
            let created_at = now - NEWEST_AGE_SECS - from_newest * spacing;
            let inbound = from_newest % 2 == 0;
            *serial += 1;
            let body = format!("earlier message {k}");
            let row = if inbound {
                let id = format!("ABhistory{serial:019}");
                let content = json!({
                    "contacts": [{"profile": {}, "wa_id": peer}],
                    "messages": [{"from": peer, "id": id, "text": {"body": body}, "timestamp": created_at.to_string(), "type": "text"}],
                });
                Row {
                    id,
                    inbound,
                    peer: peer.clone(),
                    content: content.to_string(),
                    created_at,
                    updated_at: created_at,
                    conversation: None,
                    expires_at: None,
                }
            } else {
                // One conversation per customer and day, opened by its first message.
                let day = created_at.div_euclid(24 * 3600);
                let opened_here = conversation_day != Some(day);
                conversation_day = Some(day);
                let conversation = json!({
                    "id": format!("{:016x}{:016x}", index, day),
                    "category": "service",
                    "expires_at": (day + 1) * 24 * 3600,
                    "opened_here": opened_here,
                });
                Row {
                    id: format!("gBhistory{serial:018}"),
                    inbound,
                    peer: peer.clone(),
                    content: json!({"body": body}).to_string(),
                    created_at,
                    updated_at: created_at + 2,
                    conversation: Some(conversation.to_string()),
                    expires_at: Some(created_at * 1000 + TTL_MS),
                }
            };
            rows.push(row);
        }
        rows
    }
}

fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Writes the history into the SQLite database at `path` (the server stopped).
pub fn load_sqlite(path: &Path, history: &History) -> Result<Loaded> {
    let started = Instant::now();
    let now = now_unix();
    let mut c = rusqlite::Connection::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    c.busy_timeout(std::time::Duration::from_secs(30))?;
    c.pragma_update(None, "synchronous", "OFF")?;
    let mut serial = 0;
    let mut index = 0;
    while index < history.customers.len() {
        let tx = c.transaction()?;
        let mut in_batch = 0;
        {
            let mut insert = tx.prepare(
                "INSERT INTO messages (id, direction, recipient_type, peer, type, content, status, created_at, updated_at,
                                       next_event_at, failure, category, conversation, expires_at, history)
                 VALUES (?1, ?2, 'individual', ?3, 'text', ?4, ?5, ?6, ?7, NULL, NULL, ?8, ?9, ?10, ?11)",
            )?;
            while index < history.customers.len() && in_batch < BATCH {
                for r in history.chat(index, &mut serial, now) {
                    insert.execute(rusqlite::params![
                        r.id,
                        r.direction(),
                        r.peer,
                        r.content,
                        r.status(),
                        r.created_at,
                        r.updated_at,
                        r.category(),
                        r.conversation,
                        r.expires_at,
                        r.history_text(),
                    ])?;
                    in_batch += 1;
                }
                index += 1;
            }
        }
        tx.commit()?;
    }
    c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    Ok(Loaded { messages: serial, seconds: started.elapsed().as_secs_f64() })
}

/// The route of a message on PostgreSQL: CRC-32 of the recipient's digits
/// (`domain::cluster::route_hash`).
fn route(peer: &str) -> i64 {
    let digits: Vec<u8> = peer.bytes().filter(u8::is_ascii_digit).collect();
    i64::from(crc32fast::hash(&digits))
}

/// Writes the history into the PostgreSQL database at `url` (the servers stopped).
pub async fn load_postgres(url: &str, history: &History) -> Result<Loaded> {
    use tokio_postgres::binary_copy::BinaryCopyInWriter;
    use tokio_postgres::types::Type;

    let started = Instant::now();
    let now = now_unix();
    let mut c = crate::database::connect(url).await?;
    let mut serial = 0;
    let mut index = 0;
    let message_types = [
        Type::TEXT,
        Type::TEXT,
        Type::TEXT,
        Type::TEXT,
        Type::TEXT,
        Type::TEXT,
        Type::TEXT,
        Type::INT8,
        Type::INT8,
        Type::TEXT,
        Type::TEXT,
        Type::INT8,
        Type::INT8,
    ];
    while index < history.customers.len() {
        let mut rows = Vec::new();
        while index < history.customers.len() && rows.len() < BATCH {
            rows.extend(history.chat(index, &mut serial, now));
            index += 1;
        }
        let tx = c.transaction().await?;
        let sink = tx
            .copy_in(
                "COPY messages (id, direction, recipient_type, peer, type, content, status, created_at, updated_at,
                                category, conversation, expires_at, route) FROM STDIN BINARY",
            )
            .await?;
        let writer = BinaryCopyInWriter::new(sink, &message_types);
        let mut writer = std::pin::pin!(writer);
        for r in &rows {
            writer
                .as_mut()
                .write(&[
                    &r.id,
                    &r.direction(),
                    &"individual",
                    &r.peer,
                    &"text",
                    &r.content,
                    &r.status(),
                    &r.created_at,
                    &r.updated_at,
                    &r.category(),
                    &r.conversation,
                    &r.expires_at,
                    &route(&r.peer),
                ])
                .await?;
        }
        writer.finish().await?;
        let sink = tx.copy_in("COPY message_statuses (message_id, status, at) FROM STDIN BINARY").await?;
        let writer = BinaryCopyInWriter::new(sink, &[Type::TEXT, Type::TEXT, Type::INT8]);
        let mut writer = std::pin::pin!(writer);
        for r in &rows {
            for (status, at) in r.statuses() {
                writer.as_mut().write(&[&r.id, &status, &at]).await?;
            }
        }
        writer.finish().await?;
        // The server keeps each customer's last inbound time beside the
        // messages (the window check reads it, not the history).
        tx.batch_execute(
            "INSERT INTO inbound_windows (peer, last_at)
             SELECT peer, MAX(created_at) FROM messages WHERE direction = 'inbound' GROUP BY peer
             ON CONFLICT (peer) DO UPDATE SET last_at = GREATEST(inbound_windows.last_at, EXCLUDED.last_at)",
        )
        .await?;
        tx.commit().await?;
    }
    c.batch_execute("ANALYZE messages; ANALYZE message_statuses; ANALYZE inbound_windows").await?;
    Ok(Loaded { messages: serial, seconds: started.elapsed().as_secs_f64() })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The test database server (`WABIZ_TEST_PG_URL`, as for the rest of
    /// the suite). Tests that call it are ignored where the variable was not
    /// set at build time.
    pub(crate) fn pg_url(test: &str) -> String {
        match std::env::var("WABIZ_TEST_PG_URL") {
            Ok(url) if !url.is_empty() => url,
            _ => panic!("{test}: built with WABIZ_TEST_PG_URL set, run without it"),
        }
    }

    /// The server's migrations for `engine`, in order.
    fn migrations(engine: &str) -> Vec<String> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../store/migrations").join(engine);
        let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
        files.sort();
        assert!(files.len() >= 17, "{files:?}");
        files.iter().map(|f| std::fs::read_to_string(f).unwrap()).collect()
    }

    fn small() -> History {
        History { customers: vec!["16315570000".into(), "16315570001".into(), "16315570002".into()], per_customer: 11 }
    }

    /// The server's window question (`store/src/*/messages.rs`).
    const LAST_INBOUND: &str = "SELECT MAX(created_at) FROM messages WHERE peer = $1 AND direction = 'inbound'";

    #[test]
    fn each_chat_alternates_ends_with_the_customer_and_keeps_ids_unique() {
        let h = small();
        let mut serial = 0;
        let now = 1_800_000_000;
        let rows: Vec<Row> = (0..3).flat_map(|i| h.chat(i, &mut serial, now)).collect();
        assert_eq!((rows.len() as u64, serial), (h.messages(), 33));
        let ids: std::collections::HashSet<&str> = rows.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids.len(), rows.len());
        assert!(rows.iter().all(|r| r.id.len() == if r.inbound { 28 } else { 27 }), "the server's id lengths");
        for chat in rows.chunks(11) {
            let newest = chat.last().unwrap();
            assert!(newest.inbound && now - newest.created_at == NEWEST_AGE_SECS, "{newest:?}");
            assert!(chat.windows(2).all(|w| w[0].inbound != w[1].inbound && w[0].created_at < w[1].created_at));
            assert!(now - chat[0].created_at <= SPAN_SECS + NEWEST_AGE_SECS);
        }
        let inbound = rows.iter().find(|r| r.inbound).unwrap();
        let cb: serde_json::Value = serde_json::from_str(&inbound.content).unwrap();
        assert_eq!(cb["messages"][0]["id"], inbound.id.as_str());
        assert_eq!(cb["messages"][0]["from"], inbound.peer.as_str());
        let outbound = rows.iter().find(|r| !r.inbound).unwrap();
        assert_eq!(
            outbound.history_text().unwrap().lines().count(),
            3,
            "sent, delivered and read, one line each: {:?}",
            outbound.history_text()
        );
        let conversation: serde_json::Value = serde_json::from_str(outbound.conversation.as_ref().unwrap()).unwrap();
        assert_eq!(conversation["category"], "service");
        assert_eq!(conversation["id"].as_str().unwrap().len(), 32);
    }

    #[test]
    fn a_history_loads_into_the_sqlite_schema_and_opens_the_window() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wabiz.db");
        {
            let c = rusqlite::Connection::open(&path).unwrap();
            c.pragma_update(None, "journal_mode", "WAL").unwrap();
            for sql in migrations("sqlite") {
                c.execute_batch(&sql).unwrap();
            }
        }
        let loaded = load_sqlite(&path, &small()).unwrap();
        assert_eq!(loaded.messages, 33);
        let c = rusqlite::Connection::open(&path).unwrap();
        let count: i64 = c.query_row("SELECT COUNT(*) FROM messages", [], |r| r.get(0)).unwrap();
        assert_eq!(count, 33);
        let now = now_unix();
        for peer in &small().customers {
            let last: i64 = c.query_row(&LAST_INBOUND.replace("$1", "?1"), [peer], |r| r.get(0)).unwrap();
            assert!(now - last < 24 * 3600, "{peer}: the window is closed");
        }
        let (status, history, route): (String, String, i64) = c
            .query_row("SELECT status, history, route FROM messages WHERE direction = 'outbound' LIMIT 1", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .unwrap();
        assert_eq!((status.as_str(), route), ("read", 0));
        let first: (String, i64, Option<String>) = serde_json::from_str(history.lines().next().unwrap()).unwrap();
        assert_eq!(first.0, "sent");
    }

    #[cfg_attr(not(wabiz_test_pg), ignore = "needs PostgreSQL: set WABIZ_TEST_PG_URL")]
    #[tokio::test]
    async fn a_history_loads_into_the_postgres_schema_and_opens_the_window() {
        let admin = pg_url("a_history_loads_into_the_postgres_schema_and_opens_the_window");
        let db = crate::database::FreshDatabase::create(&admin).await.unwrap();
        {
            let c = crate::database::connect(&db.url).await.unwrap();
            for sql in migrations("postgres") {
                c.batch_execute(&sql).await.unwrap();
            }
            let loaded = load_postgres(&db.url, &small()).await.unwrap();
            assert_eq!(loaded.messages, 33);
            let count: i64 = c.query_one("SELECT COUNT(*) FROM messages", &[]).await.unwrap().get(0);
            let statuses: i64 = c.query_one("SELECT COUNT(*) FROM message_statuses", &[]).await.unwrap().get(0);
            assert_eq!((count, statuses), (33, 3 * 15), "15 of the 33 are outbound, three statuses each");
            let now = now_unix();
            for peer in &small().customers {
                let last: Option<i64> = c.query_one(LAST_INBOUND, &[peer]).await.unwrap().get(0);
                assert!(last.is_some_and(|l| now - l < 24 * 3600), "{peer}: the window is closed");
                let kept: i64 =
                    c.query_one("SELECT last_at FROM inbound_windows WHERE peer = $1", &[peer]).await.unwrap().get(0);
                assert_eq!(Some(kept), last, "{peer}: the server's window record");
            }
            let route: i64 =
                c.query_one("SELECT route FROM messages WHERE peer = '16315570001' LIMIT 1", &[]).await.unwrap().get(0);
            assert_eq!(route, i64::from(crc32fast::hash(b"16315570001")));
            let seqs: i64 = c.query_one("SELECT COUNT(DISTINCT seq) FROM messages", &[]).await.unwrap().get(0);
            assert_eq!(seqs, 33, "every row took its insertion order");
        }
        db.drop_database().await.unwrap();
    }
}
