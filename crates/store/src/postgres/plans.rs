//! The plans PostgreSQL chooses for the statements on the request and
//! delivery paths, read with `EXPLAIN` on a real server. The queue tables
//! start empty, and the planner keeps believing so until a vacuum or an
//! analyze has run; the checks fill them without one, which is how a busy
//! server's first minutes look.

use super::PgStore;
use super::claim::{CLAIM_PLANNER, HEAD_PAGE, take_statement};
use super::gc::COLLECT_MESSAGES;
use super::messages::{CHAT_LIST, CONVERSATION, DUE_MESSAGES, LAST_INBOUND, MARK_READ, NEXT_EVENT};
use super::relay::CLAIM;

/// A store in a schema of its own, dropped by `drop`.
struct Scratch {
    store: PgStore,
    base: String,
    schema: String,
}

impl Scratch {
    async fn new(test: &str) -> Self {
        let base = std::env::var("WABIZ_TEST_PG_URL").expect("built with WABIZ_TEST_PG_URL set, run without it");
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
        let schema = format!("plan_{test}_{nanos:08x}");
        let (c, conn) = tokio_postgres::connect(&base, tokio_postgres::NoTls).await.unwrap();
        tokio::spawn(conn);
        c.batch_execute(&format!("CREATE SCHEMA {schema}")).await.unwrap();
        let sep = if base.contains('?') { '&' } else { '?' };
        let store = PgStore::connect(&format!("{base}{sep}options=-csearch_path%3D{schema}")).await.unwrap();
        Self { store, base, schema }
    }

    async fn run(&self, sql: &str) {
        self.store.client().await.unwrap().batch_execute(sql).await.unwrap();
    }

    /// The plan of `sql` with `params`, as text.
    async fn plan(&self, sql: &str, params: &[&(dyn tokio_postgres::types::ToSql + Sync)]) -> String {
        self.plan_after("", sql, params).await
    }

    /// The plan of `sql` in a transaction that first runs `setup`.
    async fn plan_after(
        &self,
        setup: &str,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> String {
        let mut c = self.store.client().await.unwrap();
        let tx = c.transaction().await.unwrap();
        tx.batch_execute(setup).await.unwrap();
        let rows = tx.query(&format!("EXPLAIN {sql}"), params).await.unwrap();
        rows.iter().map(|r| r.get::<_, String>(0)).collect::<Vec<_>>().join("\n")
    }

    async fn drop(self) {
        self.store.pool.close();
        let (c, conn) = tokio_postgres::connect(&self.base, tokio_postgres::NoTls).await.unwrap();
        tokio::spawn(conn);
        c.batch_execute(&format!("DROP SCHEMA {} CASCADE", self.schema)).await.unwrap();
    }
}

const NOW: i64 = 1_800_000_000_000;

/// 100,000 waiting callbacks over 20,000 customers, never analyzed.
const FILL_CALLBACKS: &str = "INSERT INTO callbacks (kind, peer, subject, item, created_at)
     SELECT 'status', (16315550000 + g % 20000)::text, 'wamid.' || g, '{}', 1
     FROM generate_series(1, 100000) AS g";

/// 100,000 messages: one customer's long chat (every tenth inbound, the
/// last hundred of those unread) and receipts due over the next hour.
const FILL_MESSAGES: &str = "INSERT INTO messages (id, direction, recipient_type, peer, type, content, status,
                           created_at, updated_at, next_event_at)
     SELECT 'wamid.' || g, CASE WHEN g % 10 = 0 THEN 'inbound' ELSE 'outbound' END, 'individual',
            '16315551234', 'text', '{}',
            CASE WHEN g % 10 <> 0 THEN 'sent' WHEN g > 99000 THEN 'received' ELSE 'read' END,
            g, g, CASE WHEN g % 10 <> 0 THEN 1800000000000 + g * 36 END
     FROM generate_series(1, 100000) AS g";

/// The claim reads the queue's head along the primary key and takes rows
/// by their address, whatever the statistics say.
#[tokio::test]
#[cfg_attr(not(wabiz_test_pg), ignore = "needs PostgreSQL: set WABIZ_TEST_PG_URL")]
async fn the_claim_reads_in_key_order_and_takes_by_address_whatever_the_statistics() {
    let db = Scratch::new("claim").await;
    db.run(FILL_CALLBACKS).await;
    let (node, until, after, page) = ("n1", NOW + 30_000, 0_i64, 4096_i64);
    let addresses = vec!["(0,1)".to_owned(), "(5,7)".to_owned()];
    for stage in ["never analyzed", "vacuumed when nearly empty", "analyzed"] {
        let plan = db.plan_after(CLAIM_PLANNER, HEAD_PAGE, &[&after, &page, &NOW]).await;
        assert!(plan.contains("Index Scan using callbacks_pkey on callbacks"), "{stage}: the head:\n{plan}");
        assert!(!plan.contains("Sort") && !plan.contains("Seq Scan"), "{stage}: the head:\n{plan}");
        let plan = db.plan_after(CLAIM_PLANNER, &take_statement(), &[&node, &until, &addresses, &NOW]).await;
        assert!(plan.contains("Tid Scan on callbacks"), "{stage}: the update:\n{plan}");
        assert!(!plan.contains("Seq Scan"), "{stage}: the update:\n{plan}");
        match stage {
            // A vacuum between two bursts records a nearly empty table; the
            // next burst then runs on those statistics.
            "never analyzed" => {
                db.run("DELETE FROM callbacks WHERE seq % 1000 <> 0").await;
                db.run("VACUUM callbacks").await;
                db.run(FILL_CALLBACKS).await;
            }
            _ => db.run("ANALYZE callbacks").await,
        }
    }
    db.drop().await;
}

/// Garbage collection, likewise: one pick, then deletes by key.
#[tokio::test]
#[cfg_attr(not(wabiz_test_pg), ignore = "needs PostgreSQL: set WABIZ_TEST_PG_URL")]
async fn garbage_collection_picks_once() {
    let db = Scratch::new("gc").await;
    db.run(FILL_MESSAGES).await;
    db.run(FILL_CALLBACKS).await;
    let plan = db.plan(COLLECT_MESSAGES, &[&NOW, &1000_i64, &true]).await;
    assert!(plan.contains("InitPlan"), "{plan}");
    assert!(!plan.contains("Semi Join"), "{plan}");
    db.drop().await;
}

/// The window check, marking read and the receipt clock each answer from
/// their own index, whatever one customer's history.
#[tokio::test]
#[cfg_attr(not(wabiz_test_pg), ignore = "needs PostgreSQL: set WABIZ_TEST_PG_URL")]
async fn request_path_reads_use_their_indexes() {
    let db = Scratch::new("reads").await;
    db.run(FILL_MESSAGES).await;
    // Customers who wrote in: on an empty table a scan is the right plan, and
    // the planner took it once (the test then failed now and then).
    db.run(FILL_WINDOWS).await;
    db.run("ANALYZE messages").await;
    let peer = "16315551234";
    let plan = db.plan(LAST_INBOUND, &[&peer]).await;
    assert!(plan.contains("inbound_windows_pkey"), "{plan}");
    let (id, at) = ("wamid.99990", NOW);
    let plan = db.plan(MARK_READ, &[&id, &at]).await;
    assert!(plan.contains("messages_peer_unread"), "{plan}");
    let limit = 500_i64;
    let plan = db.plan(DUE_MESSAGES, &[&(NOW + 60_000), &limit]).await;
    assert!(plan.contains("messages_next_event"), "{plan}");
    let plan = db.plan(NEXT_EVENT, &[]).await;
    assert!(plan.contains("messages_next_event"), "{plan}");
    for plan in [db.plan(LAST_INBOUND, &[&peer]).await, db.plan(MARK_READ, &[&id, &at]).await] {
        assert!(!plan.contains("Seq Scan"), "{plan}");
    }
    db.drop().await;
}

/// 20,000 customers who wrote in.
const FILL_WINDOWS: &str = "INSERT INTO inbound_windows (peer, last_at)
     SELECT (16315550000 + g)::text, g FROM generate_series(1, 20000) AS g ON CONFLICT (peer) DO NOTHING";

/// 20,000 chats, the long one's last message among them.
const FILL_CHATS: &str = "INSERT INTO chats (id, recipient_type, name, last_message_id, last_at, last_seq)
     SELECT (16315550000 + g)::text, 'individual', 'Customer ' || g, 'wamid.' || g, g, g FROM generate_series(1, 20000) AS g
     ON CONFLICT (id) DO NOTHING";

/// Reading a chat and listing chats walk indexes and stop at their limits,
/// whatever one customer's history and however many chats there are.
#[tokio::test]
#[cfg_attr(not(wabiz_test_pg), ignore = "needs PostgreSQL: set WABIZ_TEST_PG_URL")]
async fn chats_and_conversations_read_along_their_indexes() {
    let db = Scratch::new("chats").await;
    db.run(FILL_MESSAGES).await;
    db.run(FILL_CHATS).await;
    for stage in ["never analyzed", "analyzed"] {
        let (peer, limit) = ("16315551234", 100_i64);
        let plan = db.plan(CONVERSATION, &[&peer, &limit]).await;
        assert!(!plan.contains("Seq Scan") && !plan.contains("Bitmap"), "{stage}: conversation:\n{plan}");
        let plan = db.plan(&format!("{CHAT_LIST} ORDER BY c.last_seq DESC LIMIT $1"), &[&50_i64]).await;
        assert!(plan.contains("chats_recent"), "{stage}: list:\n{plan}");
        assert!(plan.contains("messages_peer_unread"), "{stage}: list:\n{plan}");
        assert!(!plan.contains("Seq Scan"), "{stage}: list:\n{plan}");
        let (from, to) = ("1631555", "1631556");
        let plan = db
            .plan(&format!("{CHAT_LIST} WHERE c.id >= $1 AND c.id < $2 ORDER BY c.id LIMIT $3"), &[&from, &to, &50_i64])
            .await;
        assert!(plan.contains("chats_pkey") && !plan.contains("Seq Scan"), "{stage}: by number:\n{plan}");
        db.run("ANALYZE").await;
    }
    db.drop().await;
}

/// The relay's queue during a long outage: 100,000 sends over 20,000
/// customers, only each customer's oldest one due. Claiming reads the due
/// heads from their index and checks each for an older send with one seek,
/// whatever waits behind them, analyzed or not.
#[tokio::test]
#[cfg_attr(not(wabiz_test_pg), ignore = "needs PostgreSQL: set WABIZ_TEST_PG_URL")]
async fn the_relay_claims_due_heads_along_their_index() {
    let db = Scratch::new("relay_claim").await;
    db.run(
        "INSERT INTO messages (id, direction, recipient_type, peer, type, content, status, created_at, updated_at)
         SELECT 'gB' || g, 'outbound', 'individual', (16315550000 + g % 20000)::text, 'text', '{}', 'accepted', g, g
         FROM generate_series(1, 100000) AS g;
         INSERT INTO cloud_sends (message_id, peer, due_at)
         SELECT 'gB' || g, (16315550000 + g % 20000)::text, CASE WHEN g <= 20000 THEN 1800000000000 + g END
         FROM generate_series(1, 100000) AS g;",
    )
    .await;
    let (until, limit) = (NOW + 45_000, 64_i64);
    for stage in ["never analyzed", "analyzed"] {
        let plan = db.plan(CLAIM, &[&NOW, &until, &limit]).await;
        assert!(plan.contains("cloud_sends_due"), "{stage}: the due heads by their index:\n{plan}");
        assert!(plan.contains("cloud_sends_peer"), "{stage}: one seek for an older send:\n{plan}");
        assert!(!plan.contains("Seq Scan on cloud_sends"), "{stage}:\n{plan}");
        db.run("ANALYZE cloud_sends; ANALYZE messages").await;
    }
    db.drop().await;
}
