//! The Cloud relay (`--network cloud`) end to end: the real server pointed
//! at a local Graph API stand-in (`graph_standin.rs`), a real webhook
//! receiver for the On-Premises callbacks, and Meta's webhooks signed and
//! posted to `/relay/webhook`. The behaviours of `cloud-mapping.md` §9, on
//! SQLite and on PostgreSQL.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::graph_standin::{
    Answer, BUSINESS_NUMBER, GraphStandIn, PIN, PNID, VERIFY_TOKEN, deliver, deliver_signed, webhook,
};
use crate::helpers::{Spawn, TestApp, assert_code};
use crate::receiver::Receiver;

const WAIT: Duration = Duration::from_secs(10);
const CUSTOMER: &str = "16315551234";

/// A relay on the stand-in, its callbacks going to a receiver.
struct Relay {
    graph: GraphStandIn,
    rx: Receiver,
    app: TestApp,
    admin: String,
}

impl Relay {
    async fn start() -> Relay {
        Self::start_with(Spawn::default()).await
    }

    async fn start_with(spawn: Spawn) -> Relay {
        let graph = GraphStandIn::start().await;
        let rx = Receiver::start().await;
        let spawn = graph.relay_args().iter().fold(spawn.arg("--allow-http-webhooks"), |s, a| s.arg(a));
        let app = TestApp::spawn_with(spawn).await;
        let admin = app.admin_token().await;
        let (s, b) = app.patch(&admin, "/v1/settings/application", json!({"webhooks": {"url": rx.url()}})).await;
        assert_eq!(s, 200, "{b}");
        let relay = Relay { graph, rx, app, admin };
        relay.wait_connected().await;
        relay
    }

    /// The relay read the number from Cloud at start: it is connected.
    async fn wait_connected(&self) {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let (_, b) = self.app.get(&self.admin, "/v1/health").await;
            if b["health"]["gateway_status"] == "connected" {
                return;
            }
            assert!(tokio::time::Instant::now() < deadline, "the relay never connected: {b}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn send(&self, body: Value) -> String {
        let (s, b) = self.app.post(&self.admin, "/v1/messages", body).await;
        assert_eq!(s, 201, "{b}");
        b["messages"][0]["id"].as_str().unwrap().to_owned()
    }

    async fn webhook(&self, value: Value) {
        let status = deliver(&self.app.client, &self.app.base_url, &webhook(value)).await;
        assert_eq!(status, 200, "the relay took the webhook");
    }

    /// The wamid Cloud gave the `n`-th send (waiting for it).
    async fn wamid_of_send(&self, n: usize) -> String {
        self.graph
            .wait_for(WAIT, &format!("send number {}", n + 1), |_| {
                self.graph.sends().get(n).is_some_and(|c| c.wamid.is_some())
            })
            .await;
        self.graph.sends()[n].wamid.clone().unwrap()
    }

    async fn message_status(&self, id: &str) -> String {
        let (s, b) = self.app.get(&self.admin, &format!("/simulator/messages/{id}")).await;
        assert_eq!(s, 200, "{b}");
        b["message"]["status"].as_str().unwrap_or_default().to_owned()
    }
}

fn status(wamid: &str, status: &str, at: u64) -> Value {
    json!({"id": wamid, "status": status, "timestamp": at.to_string(), "recipient_id": CUSTOMER,
           "pricing": {"pricing_model": "PMP", "category": "utility", "type": "regular"}})
}

/// §9.1 and §9.7, and statuses out of order and twice: a text with a
/// top-level `preview_url` reaches Cloud as Meta describes it; the legacy
/// client gets its own id, and each of sent, delivered, read once, in order.
async fn a_send_and_its_webhooks_make_the_round_trip(spawn: Spawn) {
    let r = Relay::start_with(spawn).await;
    let id =
        r.send(json!({"to": "+1 631-555-1234", "preview_url": true, "text": {"body": "see https://wabiz.dev"}})).await;
    assert!(!id.starts_with("wamid."), "the 201 comes before Cloud sees the send: wabiz's own id ({id})");
    let wamid = r.wamid_of_send(0).await;
    let sent = &r.graph.sends()[0];
    assert_eq!(
        sent.body,
        json!({"messaging_product": "whatsapp", "recipient_type": "individual", "to": CUSTOMER, "type": "text",
               "text": {"body": "see https://wabiz.dev", "preview_url": true}})
    );

    // Cloud's webhooks: a reply, then the statuses out of order and one twice.
    r.webhook(json!({
        "contacts": [{"profile": {"name": "Kerry Fisher"}, "wa_id": CUSTOMER}],
        "messages": [{"from": CUSTOMER, "id": "wamid.IN1", "timestamp": "1700000003", "type": "text", "text": {"body": "hi"}}],
        "statuses": [status(&wamid, "read", 1_700_000_003), status(&wamid, "delivered", 1_700_000_002)],
    }))
    .await;
    r.webhook(json!({"statuses": [status(&wamid, "delivered", 1_700_000_002), status(&wamid, "sent", 1_700_000_001)]}))
        .await;
    let pairs = r.rx.wait_for_statuses(3, WAIT).await;
    let mine: Vec<&str> = pairs.iter().filter(|(i, _)| *i == id).map(|(_, s)| s.as_str()).collect();
    assert_eq!(mine, ["sent", "delivered", "read"], "each status once, in order: {pairs:?}");
    let read = r.rx.acked_statuses().into_iter().find(|s| s["status"] == "read").unwrap();
    assert_eq!(read["recipient_id"], CUSTOMER);
    assert_eq!(read["pricing"]["billable"], true, "legacy clients read `billable`: {read}");

    let messages = r.rx.acked("messages");
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(messages[0]["id"], "wamid.IN1");
    assert_eq!(messages[0]["text"]["body"], "hi");
    let hit = r.rx.hits().into_iter().find(|h| h.body.get("messages").is_some()).unwrap();
    assert_eq!(hit.body["contacts"][0]["profile"]["name"], "Kerry Fisher");
    for key in ["metadata", "messaging_product", "entry", "object"] {
        assert!(hit.body.get(key).is_none(), "no Cloud envelope in an On-Premises callback: {}", hit.body);
    }
    // A delivery of the same webhook again changes nothing.
    r.webhook(json!({
        "contacts": [{"profile": {"name": "Kerry Fisher"}, "wa_id": CUSTOMER}],
        "messages": [{"from": CUSTOMER, "id": "wamid.IN1", "timestamp": "1700000003", "type": "text", "text": {"body": "hi"}}],
    }))
    .await;
    assert_eq!(r.message_status(&id).await, "read");

    // The console's chats show relay traffic as they show simulated traffic.
    let (s, chats) = r.app.get(&r.admin, "/simulator/chats").await;
    assert_eq!(s, 200, "{chats}");
    let chat = &chats["chats"][0];
    assert_eq!(
        (chat["id"].as_str(), chat["name"].as_str(), chat["unread"].as_u64()),
        (Some(CUSTOMER), Some("Kerry Fisher"), Some(1)),
        "{chats}"
    );

    // §9.6: marking the reply read tells Cloud by its wamid.
    let (s, b) = r.app.put(&r.admin, "/v1/messages/wamid.IN1", json!({"status": "read"})).await;
    assert_eq!(s, 200, "{b}");
    let read = r.graph.calls().into_iter().find(|c| c.body.get("status").is_some()).expect("a read receipt");
    assert_eq!(read.body, json!({"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.IN1"}));
    assert_eq!(r.rx.acked("messages").len(), 1, "the repeated webhook made no second callback");
    let bearer = format!("Bearer {}", crate::graph_standin::ACCESS_TOKEN);
    assert!(
        r.graph.calls().iter().all(|c| c.authorization.as_deref() == Some(bearer.as_str())),
        "the token on every call"
    );
    crate::relay_contract::check_calls(&r.graph.calls());
}

/// §9.8 and §9.9: a webhook without the right signature is refused and
/// nothing of it is forwarded; the handshake echoes the challenge only for
/// the verify token.
async fn only_meta_can_call_the_webhook(spawn: Spawn) {
    let r = Relay::start_with(spawn).await;
    let doc = webhook(json!({"contacts": [{"profile": {"name": "Mallory"}, "wa_id": CUSTOMER}],
        "messages": [{"from": CUSTOMER, "id": "wamid.FORGED", "timestamp": "1700000000", "type": "text", "text": {"body": "pay me"}}]}));
    let body = serde_json::to_vec(&doc).unwrap();
    let forged = wabiz_relay::signature::sign(b"not-the-app-secret", &body);
    let base = &r.app.base_url;
    assert_eq!(deliver_signed(&r.app.client, base, body.clone(), Some(&forged)).await, 401);
    assert_eq!(deliver_signed(&r.app.client, base, body.clone(), None).await, 401);
    assert_eq!(deliver_signed(&r.app.client, base, body.clone(), Some("sha256=zz")).await, 401);
    // A signature over other bytes: a body changed on the way.
    let mut changed = body.clone();
    changed.extend_from_slice(b" ");
    let of_original = wabiz_relay::signature::sign(crate::graph_standin::APP_SECRET.as_bytes(), &body);
    assert_eq!(deliver_signed(&r.app.client, base, changed, Some(&of_original)).await, 401);
    let (s, _) = r.app.get(&r.admin, "/simulator/messages/wamid.FORGED").await;
    assert_eq!(s, 404, "nothing of a refused webhook is stored");

    let handshake = |token: &str| {
        r.app
            .client
            .get(format!("{base}/relay/webhook?hub.mode=subscribe&hub.verify_token={token}&hub.challenge=1158201444"))
            .send()
    };
    let ok = handshake(VERIFY_TOKEN).await.unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.text().await.unwrap(), "1158201444");
    assert_eq!(handshake("wrong-token").await.unwrap().status(), 403);

    // The right signature is taken (no token needed: Meta has none).
    assert_eq!(deliver(&r.app.client, base, &doc).await, 200);
    r.rx.wait_for(WAIT, "the signed message", |hits| hits.iter().any(|h| h.body.to_string().contains("wamid.FORGED")))
        .await;
    assert!(r.rx.hits().len() == 1, "only the signed delivery was forwarded");

    // Counted in /v1/stats/app, by outcome.
    let (s, b) = r.app.get(&r.admin, "/v1/stats/app").await;
    assert_eq!(s, 200, "{b}");
    let events: Vec<(String, f64)> = b["stats"]["app"]["relay_webhook_events"]["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["labels"]["result"].as_str().unwrap().to_owned(), d["value"].as_f64().unwrap()))
        .collect();
    assert_eq!(
        events,
        [("bad_signature".to_owned(), 4.0), ("malformed".to_owned(), 0.0), ("stored".to_owned(), 1.0)],
        "{b}"
    );
}

/// Without the relay, the webhook path does not exist.
#[tokio::test]
async fn the_simulator_has_no_relay_webhook() {
    let app = TestApp::spawn().await;
    let r = app.client.get(app.url("/relay/webhook?hub.mode=subscribe")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let doc: Value = app.client.get(app.url("/openapi.json")).send().await.unwrap().json().await.unwrap();
    assert!(doc["paths"].get("/relay/webhook").is_none());
}

/// The relay's secrets reach the Graph API and nothing else a client sees.
#[tokio::test]
async fn secrets_never_show() {
    use crate::graph_standin::{ACCESS_TOKEN, APP_SECRET};
    let r = Relay::start().await;
    let doc: Value = r.app.client.get(r.app.url("/openapi.json")).send().await.unwrap().json().await.unwrap();
    assert!(doc["paths"].get("/relay/webhook").is_some(), "the relay's webhook is described in relay mode");
    let (_, support) = r.app.get(&r.admin, "/v1/support").await;
    let (_, settings) = r.app.get(&r.admin, "/v1/settings/application").await;
    r.graph.script([Answer::Error(401, 190)]);
    r.send(json!({"to": CUSTOMER, "text": {"body": "x"}})).await;
    r.rx.wait_for(WAIT, "the failed status", |hits| hits.iter().any(|h| h.body.to_string().contains("failed"))).await;
    let failed = r.rx.acked_statuses();
    let shown = format!("{doc} {support} {settings} {failed:?}");
    for secret in [ACCESS_TOKEN, APP_SECRET, VERIFY_TOKEN, PIN] {
        assert!(!shown.contains(secret), "{secret} shown");
    }
    assert!(failed[0]["errors"][0]["details"].as_str().unwrap().contains("cloud_code=190"), "{failed:?}");
    // The token was refused: the link is down until a call succeeds again.
    let (_, health) = r.app.get(&r.admin, "/v1/health").await;
    assert_eq!(health["health"]["gateway_status"], "disconnected", "{health}");
    r.send(json!({"to": CUSTOMER, "text": {"body": "y"}})).await;
    r.wamid_of_send(1).await;
    r.wait_connected().await;
    // The stand-in gave its wamid before the relay recorded it: poll.
    let lines = ["relay_requests{result=\"refused\"} 1", "relay_requests{result=\"taken\"} 1", "relay_queue_size 0"];
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let text = r
            .app
            .request(Method::GET, "/v1/stats/app?format=prometheus")
            .bearer_auth(&r.admin)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if lines.iter().all(|l| text.contains(l)) {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{lines:?} in {text}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // And in /metrics, with the node.
    let (s, metrics) = r.app.get(&r.admin, "/metrics").await;
    assert_eq!(s, 200, "{metrics}");
    let taken = metrics["metrics"]["relay_requests"]["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["labels"]["result"] == "taken")
        .cloned()
        .unwrap();
    assert_eq!(taken["value"], 1.0, "{taken}");
    assert!(taken["labels"]["node"].is_string(), "{taken}");
}

/// §9.10 and per-customer order: Cloud's rate limit and server errors are
/// retried with backoff, and a customer's later message waits for the
/// earlier one; another customer's does not.
async fn sends_are_retried_in_order_per_customer(spawn: Spawn) {
    let r = Relay::start_with(spawn).await;
    r.graph.script([Answer::Error(429, 130_429), Answer::Error(503, 2)]);
    let first = r.send(json!({"to": CUSTOMER, "text": {"body": "first"}})).await;
    let second = r.send(json!({"to": CUSTOMER, "text": {"body": "second"}})).await;
    r.graph
        .wait_for(Duration::from_secs(20), "both texts taken", |_| {
            r.graph.sends().iter().filter(|c| c.wamid.is_some()).count() == 2
        })
        .await;
    let bodies: Vec<String> = r
        .graph
        .sends()
        .iter()
        .map(|c| format!("{}:{}", c.body["text"]["body"].as_str().unwrap(), c.wamid.is_some()))
        .collect();
    assert_eq!(
        bodies,
        ["first:false", "first:false", "first:true", "second:true"],
        "the second waited for the first's retries"
    );
    assert_eq!(r.message_status(&first).await, "accepted", "taken by Cloud; its statuses come by webhook");
    assert_eq!(r.message_status(&second).await, "accepted");
    let (s, b) = r.app.get(&r.admin, "/wabiz/callbacks").await;
    assert_eq!(s, 200, "{b}");
}

/// §9.11: Cloud refuses a template that does not exist: the message fails,
/// reported by a `failed` status with the On-Premises code and Cloud's.
async fn a_refused_send_fails_with_the_mapped_code(spawn: Spawn) {
    let r = Relay::start_with(spawn).await;
    r.graph.script([Answer::Error(404, 132_001)]);
    let id = r
        .send(json!({"to": CUSTOMER, "type": "template", "template": {"namespace": "ns", "name": "missing",
            "language": {"policy": "deterministic", "code": "en"}, "components": []}}))
        .await;
    r.rx.wait_for(WAIT, "the failed status", |hits| hits.iter().any(|h| h.body.to_string().contains("failed"))).await;
    let failed = r.rx.acked_statuses().into_iter().find(|s| s["id"] == id.as_str()).unwrap();
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["errors"][0]["code"], 2001, "{failed}");
    assert!(failed["errors"][0]["details"].as_str().unwrap().starts_with("cloud_code=132001"), "{failed}");
    let sent = &r.graph.sends()[0].body;
    assert_eq!(sent["template"], json!({"name": "missing", "language": {"code": "en"}, "components": []}), "§9.2");
    assert_eq!(r.message_status(&id).await, "failed");
}

/// §9.4 and §9.5: an upload reaches Cloud as a multipart upload when it is
/// first sent, by Cloud's id; a customer's media is fetched from Cloud on
/// each download, through a fresh URL.
async fn media_goes_both_ways_by_wabiz_ids(spawn: Spawn) {
    let r = Relay::start_with(spawn).await;
    let jpeg = b"\xff\xd8\xff\xe0 not really a picture".to_vec();
    let upload = r
        .app
        .request(Method::POST, "/v1/media")
        .bearer_auth(&r.admin)
        .header("content-type", "image/jpeg")
        .body(jpeg.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(upload.status(), StatusCode::CREATED);
    let media_id = upload.json::<Value>().await.unwrap()["media"][0]["id"].as_str().unwrap().to_owned();
    r.send(json!({"to": CUSTOMER, "type": "image", "image": {"id": media_id, "caption": "look"}})).await;
    r.wamid_of_send(0).await;
    let calls = r.graph.calls();
    let uploaded = calls.iter().find(|c| c.path == format!("/{PNID}/media")).expect("an upload");
    assert_eq!(uploaded.body["type"], "image/jpeg");
    assert_eq!(uploaded.body["messaging_product"], "whatsapp");
    assert_eq!(uploaded.file.as_deref(), Some(jpeg.as_slice()));
    let cloud_id = r.graph.sends()[0].body["image"]["id"].as_str().unwrap().to_owned();
    assert!(cloud_id.bytes().all(|b| b.is_ascii_digit()), "Cloud's media id: {cloud_id}");
    assert_eq!(r.graph.sends()[0].body["image"]["caption"], "look");
    // A second send of the same media uploads nothing again.
    r.send(json!({"to": CUSTOMER, "type": "image", "image": {"id": media_id}})).await;
    r.wamid_of_send(1).await;
    assert_eq!(r.graph.calls().iter().filter(|c| c.path == format!("/{PNID}/media")).count(), 1);

    // A customer's picture, and a document downloaded at once (`media.auto_download`).
    let (s, b) =
        r.app.patch(&r.admin, "/v1/settings/application", json!({"media": {"auto_download": ["document"]}})).await;
    assert_eq!(s, 200, "{b}");
    r.graph.hold_media("2013859600285441", "application/pdf", b"%PDF-1.4 a customer's file");
    r.webhook(json!({"contacts": [{"profile": {"name": "Kerry"}, "wa_id": CUSTOMER}],
        "messages": [{"from": CUSTOMER, "id": "wamid.DOC", "timestamp": "1700000000", "type": "document",
                      "document": {"id": "2013859600285441", "mime_type": "application/pdf", "sha256": "abc", "filename": "a.pdf"}}]}))
        .await;
    r.rx.wait_for(WAIT, "the document's callback", |hits| {
        hits.iter().any(|h| h.body.to_string().contains("wamid.DOC"))
    })
    .await;
    let document = r.rx.acked("messages").into_iter().find(|m| m["id"] == "wamid.DOC").unwrap()["document"].clone();
    let file = document["file"].as_str().unwrap_or_else(|| panic!("a file path: {document}"));
    assert_eq!(std::fs::read(file).unwrap(), b"%PDF-1.4 a customer's file");
    r.graph.hold_media("1013859600285441", "image/png", b"customer's png");
    r.webhook(json!({"contacts": [{"profile": {"name": "Kerry"}, "wa_id": CUSTOMER}],
        "messages": [{"from": CUSTOMER, "id": "wamid.IMG", "timestamp": "1700000000", "type": "image",
                      "image": {"id": "1013859600285441", "mime_type": "image/png", "sha256": "abc",
                                "url": "https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1"}}]}))
        .await;
    r.rx.wait_for(WAIT, "the picture's callback", |hits| hits.iter().any(|h| h.body.to_string().contains("wamid.IMG")))
        .await;
    let image = &r.rx.acked("messages").into_iter().find(|m| m["id"] == "wamid.IMG").unwrap()["image"].clone();
    let id = image["id"].as_str().unwrap().to_owned();
    assert_ne!(id, "1013859600285441", "wabiz's own media id");
    assert!(image.get("url").is_none(), "Cloud's URL needs the relay's token: {image}");
    for _ in 0..2 {
        let got = r.app.request(Method::GET, &format!("/v1/media/{id}")).bearer_auth(&r.admin).send().await.unwrap();
        assert_eq!(got.status(), 200);
        assert_eq!(got.headers()["content-type"], "image/png");
        assert_eq!(got.bytes().await.unwrap().as_ref(), b"customer's png");
    }
    // Deleting deletes Cloud's copy too: an upload, and a customer's picture.
    for deleted in [&media_id, &id] {
        let (s, b) = r.app.delete(&r.admin, &format!("/v1/media/{deleted}")).await;
        assert_eq!(s, 200, "{b}");
    }
    let deletes: Vec<String> =
        r.graph.calls().into_iter().filter(|c| c.method == Method::DELETE).map(|c| c.path).collect();
    assert_eq!(deletes, [format!("/{cloud_id}"), "/1013859600285441".to_owned()]);
    let (s, _) = r.app.get(&r.admin, &format!("/v1/media/{id}")).await;
    assert_eq!(s, 404, "gone");
    crate::relay_contract::check_calls(&r.graph.calls());
}

/// §9.13: registration goes to Cloud: the code by SMS or voice, then the
/// code and the configured PIN.
async fn registration_requests_and_verifies_the_code_on_cloud(spawn: Spawn) {
    let r = Relay::start_with(spawn).await;
    // The number Cloud shows is registered already.
    let (s, b) = r
        .app
        .post(
            &r.admin,
            "/v1/account",
            json!({"cc": "1", "phone_number": &BUSINESS_NUMBER[1..], "method": "sms", "cert": "Y2VydA=="}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let (s, b) = r
        .app
        .post(
            &r.admin,
            "/v1/account",
            json!({"cc": "44", "phone_number": "7700900123", "method": "voice", "cert": "Y2VydA=="}),
        )
        .await;
    assert_eq!(s, 202, "{b}");
    let (s, b) = r.app.post(&r.admin, "/v1/account/verify", json!({"code": "123456"})).await;
    assert_eq!(s, 201, "{b}");
    let calls: Vec<(String, Value)> = r.graph.calls().into_iter().map(|c| (c.path, c.body)).collect();
    let find = |p: &str| calls.iter().find(|(path, _)| path == &format!("/{PNID}/{p}")).map(|(_, b)| b.clone());
    assert_eq!(find("request_code"), Some(json!({"code_method": "VOICE", "language": "en_US"})));
    assert_eq!(find("verify_code"), Some(json!({"code": "123456"})));
    assert_eq!(find("register"), Some(json!({"messaging_product": "whatsapp", "pin": PIN})));
    assert_eq!(crate::relay_contract::check_calls(&r.graph.calls()), 3, "the three calls, by Meta's description");
    let (_, b) = r.app.get(&r.admin, "/v1/health").await;
    assert_eq!(b["health"]["gateway_status"], "connected");
}

/// §9.12 and §9.14: contacts answer from the number alone; groups are off.
async fn contacts_answer_locally_and_groups_are_off(spawn: Spawn) {
    let r = Relay::start_with(spawn).await;
    let (s, b) =
        r.app.post(&r.admin, "/v1/contacts", json!({"blocking": "wait", "contacts": ["+1 (631) 555-1234"]})).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["contacts"][0], json!({"input": "+1 (631) 555-1234", "status": "valid", "wa_id": CUSTOMER}));
    let (s, b) = r.app.post(&r.admin, "/v1/groups", json!({"subject": "team"})).await;
    assert_code(s, &b, 404, 1006);
    // The simulator's controls that play WhatsApp's part have nothing to act on.
    let inbound = json!({"from": CUSTOMER, "type": "text", "text": {"body": "fake"}});
    for (method, path, body) in [
        (Method::POST, "/simulator/inbound", inbound),
        (Method::PUT, "/simulator/chaos", json!({})),
        (Method::GET, "/simulator/registration", Value::Null),
    ] {
        let body = (!body.is_null()).then_some(body);
        let (s, b) = r.app.call(&r.admin, method, path, body).await;
        assert_code(s, &b, 501, 1000);
    }
    let (s, b) = r.app.get(&r.admin, "/simulator/chats").await;
    assert_eq!(s, 200, "the views of what is stored still work: {b}");
    assert!(r.graph.calls().iter().all(|c| !c.path.contains("groups")), "no Cloud call for groups");
}

/// A status that overtakes the answer to its send (Cloud's webhook arrives
/// before the relay recorded the wamid) is kept and applied once it is.
async fn a_status_before_its_send_is_recorded_is_kept_until_it_is(spawn: Spawn) {
    let r = Relay::start_with(spawn).await;
    r.graph.down(Answer::Error(503, 2));
    let id = r.send(json!({"to": CUSTOMER, "text": {"body": "early"}})).await;
    r.graph.wait_for(WAIT, "a first try", |_| !r.graph.sends().is_empty()).await;
    let wamid = "wamid.EARLY";
    r.webhook(json!({"statuses": [status(wamid, "delivered", 1_700_000_002)]})).await;
    r.graph.script([Answer::Take(wamid.to_owned())]);
    r.graph.up();
    let pairs = r.rx.wait_for_statuses(2, Duration::from_secs(20)).await;
    assert_eq!(pairs, [(id.clone(), "sent".to_owned()), (id, "delivered".to_owned())]);
    assert_eq!(r.graph.sends().last().unwrap().wamid.as_deref(), Some(wamid));
}

/// A customer Cloud names by business-scoped user id only (a username, no
/// number) gets a number-shaped wa_id of the relay's own, the same each
/// time; the legacy client replies to it, and Cloud gets the user id.
async fn a_customer_known_by_user_id_only_gets_a_stable_wa_id(spawn: Spawn) {
    let r = Relay::start_with(spawn).await;
    let user = "BR.1502576394655843";
    let inbound = |id: &str| {
        json!({"contacts": [{"profile": {"name": "Ana", "username": "ana.s"}, "user_id": user}],
               "messages": [{"from_user_id": user, "id": id, "timestamp": "1700000000", "type": "text", "text": {"body": "oi"}}]})
    };
    r.webhook(inbound("wamid.U1")).await;
    r.webhook(inbound("wamid.U2")).await;
    r.rx.wait_for(WAIT, "two messages", |_| r.rx.acked("messages").len() == 2).await;
    let messages = r.rx.acked("messages");
    let wa_id = messages[0]["from"].as_str().unwrap().to_owned();
    assert!(wa_id.len() == 15 && wa_id.starts_with("999") && wa_id.bytes().all(|b| b.is_ascii_digit()), "{wa_id}");
    assert_eq!(messages[1]["from"], wa_id.as_str(), "the same customer, the same wa_id");
    let hit = r.rx.hits().into_iter().find(|h| h.body.get("messages").is_some()).unwrap();
    assert_eq!(hit.body["contacts"][0]["wa_id"], wa_id.as_str());

    let id = r.send(json!({"to": wa_id, "text": {"body": "olá"}})).await;
    let wamid = r.wamid_of_send(0).await;
    let sent = &r.graph.sends()[0].body;
    assert_eq!(sent["recipient"], user, "{sent}");
    assert!(sent.get("to").is_none(), "{sent}");
    r.webhook(json!({"statuses": [{"id": wamid, "status": "delivered", "timestamp": "1700000002", "recipient_user_id": user}]}))
        .await;
    let pairs = r.rx.wait_for_statuses(2, WAIT).await;
    assert_eq!(pairs, [(id.clone(), "sent".to_owned()), (id, "delivered".to_owned())]);
    assert!(r.rx.acked_statuses().iter().all(|s| s["recipient_id"] == wa_id.as_str()));

    // A relay-shaped wa_id no customer has cannot be reached.
    let stranger = r.send(json!({"to": "999000000000001", "text": {"body": "?"}})).await;
    r.rx.wait_for(WAIT, "the stranger's failure", |h| h.iter().any(|h| h.body.to_string().contains(&stranger))).await;
    let failed = r.rx.acked_statuses().into_iter().find(|s| s["id"] == stranger.as_str()).unwrap();
    assert_eq!((failed["status"].as_str(), failed["errors"][0]["code"].as_u64()), (Some("failed"), Some(1013)));
}

/// §9.10, the other half: when the queue for Cloud is full, a send answers
/// 503/1016 (System overloaded), as legacy load shedding expects; once Cloud
/// takes the queue, sends are accepted again.
async fn a_full_queue_answers_system_overloaded(spawn: Spawn) {
    let r = Relay::start_with(spawn.arg("--relay-queue-limit").arg("3")).await;
    r.graph.down(Answer::Error(503, 2));
    for i in 0..3 {
        r.send(json!({"to": format!("1631555020{i}"), "text": {"body": "queued"}})).await;
    }
    let (s, b) = r.app.post(&r.admin, "/v1/messages", json!({"to": CUSTOMER, "text": {"body": "one too many"}})).await;
    assert_code(s, &b, 503, 1016);
    r.graph.up();
    r.graph
        .wait_for(Duration::from_secs(20), "the queue taken", |_| {
            r.graph.sends().iter().filter(|c| c.wamid.is_some()).count() == 3
        })
        .await;
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let (s, b) =
            r.app.post(&r.admin, "/v1/messages", json!({"to": CUSTOMER, "text": {"body": "room again"}})).await;
        if s == 201 {
            break;
        }
        assert_code(s, &b, 503, 1016);
        assert!(tokio::time::Instant::now() < deadline, "the queue never had room again");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Meta's 16 webhook examples (Graph v23.0's description), each signed and
/// posted to a running relay: every inbound message reaches the legacy app
/// as an On-Premises `messages` callback (a number change too, with
/// `notify_user_change_number`), the image under a wabiz media id; the group
/// events, which On-Premises lacks, are taken (200) and forward nothing.
/// The examples share ids; each is made unique, or the relay would rightly
/// take the repeats for Cloud's redeliveries.
#[cfg_attr(not(wabiz_test_python), ignore = "needs WABIZ_TEST_PYTHON (pyyaml, jsonschema: the pip line of the README)")]
#[tokio::test]
async fn every_meta_webhook_example_reaches_the_legacy_app() {
    let r = Relay::start().await;
    let (s, b) = r.app.patch(&r.admin, "/v1/settings/application", json!({"notify_user_change_number": true})).await;
    assert_eq!(s, 200, "{b}");
    let examples = crate::relay_contract::webhook_examples();
    assert_eq!(examples.len(), 16);
    let mut expected = Vec::new();
    for (i, (name, mut example)) in examples.into_iter().enumerate() {
        for m in example["entry"][0]["changes"][0]["value"]["messages"].as_array_mut().into_iter().flatten() {
            let id = format!("{}.{i}", m["id"].as_str().unwrap());
            m["id"] = json!(id);
            expected.push((name.clone(), id, m["type"].as_str().unwrap().to_owned()));
        }
        assert_eq!(deliver(&r.app.client, &r.app.base_url, &example).await, 200, "{name}");
    }
    assert_eq!(expected.len(), 13);
    r.rx.wait_for(WAIT, "13 messages callbacks", |_| r.rx.acked("messages").len() >= 13).await;
    let got = r.rx.acked("messages");
    assert_eq!(got.len(), 13, "{got:#?}");
    for (name, id, kind) in &expected {
        let m = got.iter().find(|m| m["id"] == id.as_str()).unwrap_or_else(|| panic!("{name}: no callback"));
        let shown = if kind == "unsupported" { "unknown" } else { kind.as_str() };
        assert_eq!(m["type"], shown, "{name}: {m}");
        assert!(m.get("metadata").is_none() && m.get("messaging_product").is_none(), "{name}: {m}");
        if kind == "image" {
            assert!(m["image"]["id"].as_str().is_some_and(|id| id.len() == 36), "{name}: a wabiz media id: {m}");
        }
        if kind == "system" {
            assert_eq!(m["system"]["type"], "user_changed_number", "{name}: {m}");
        }
    }
}

/// The business's profile is written through to Cloud (`cloud-mapping.md`
/// §1, §5): about and business profile as Cloud's business profile (the
/// vertical by Cloud's name), the photo by resumable upload, the two-step
/// PIN; what Cloud has no call for answers 501, and a change Cloud refuses
/// is not kept.
async fn the_profile_is_written_through_to_cloud(spawn: Spawn) {
    use crate::graph_standin::APP_ID;
    let r = Relay::start_with(spawn).await;
    let (s, b) = r.app.patch(&r.admin, "/v1/settings/profile/about", json!({"text": "Open 9 to 5"})).await;
    assert_eq!(s, 200, "{b}");
    let business =
        json!({"address": "1 Main St", "vertical": "Public Service", "websites": ["https://shop.example.com"]});
    let (s, b) = r.app.post(&r.admin, "/v1/settings/business/profile", business).await;
    assert_eq!(s, 200, "{b}");
    let (s, b) = r.app.post(&r.admin, "/v1/settings/account/two-step", json!({"pin": "246810"})).await;
    assert_eq!(s, 200, "{b}");
    let png = {
        let mut img = Vec::new();
        let pixels = image::RgbImage::from_pixel(200, 200, image::Rgb([200, 30, 30]));
        image::DynamicImage::ImageRgb8(pixels)
            .write_to(&mut std::io::Cursor::new(&mut img), image::ImageFormat::Png)
            .unwrap();
        img
    };
    let photo = r
        .app
        .request(Method::POST, "/v1/settings/profile/photo")
        .bearer_auth(&r.admin)
        .header("content-type", "image/png")
        .body(png)
        .send()
        .await
        .unwrap();
    assert_eq!(photo.status(), 201);

    let calls = r.graph.calls();
    let profile: Vec<&Value> =
        calls.iter().filter(|c| c.path == format!("/{PNID}/whatsapp_business_profile")).map(|c| &c.body).collect();
    assert_eq!(
        profile,
        [
            &json!({"messaging_product": "whatsapp", "about": "Open 9 to 5"}),
            &json!({"messaging_product": "whatsapp", "address": "1 Main St", "description": "", "email": "",
                    "vertical": "GOVT", "websites": ["https://shop.example.com"]}),
            &json!({"messaging_product": "whatsapp", "profile_picture_handle": "2:c2FtcGxlLmpwZw=="}),
        ]
    );
    let pin = calls.iter().find(|c| c.path == format!("/{PNID}") && c.method == Method::POST).expect("the PIN");
    assert_eq!(pin.body, json!({"pin": "246810"}));
    let session = calls.iter().find(|c| c.path == format!("/{APP_ID}/uploads")).expect("an upload session");
    assert_eq!(session.method, Method::POST);
    let uploaded = calls.iter().find(|c| c.path.starts_with("/upload:")).expect("the bytes");
    assert_eq!(uploaded.file.as_deref().map(|f| &f[..2]), Some(&[0xff, 0xd8][..]), "the stored JPEG");

    let (s, b) = r.app.delete(&r.admin, "/v1/settings/account/two-step").await;
    assert_code(s, &b, 501, 1000);
    let (s, b) = r.app.delete(&r.admin, "/v1/settings/profile/photo").await;
    assert_code(s, &b, 501, 1000);
    let (s, b) = r.app.patch(&r.admin, "/v1/settings/profile/about", json!({"text": ""})).await;
    assert_code(s, &b, 400, 1009);
    assert_eq!(crate::relay_contract::check_calls(&calls), 3, "the profile's calls, by Meta's description");
    let (_, about) = r.app.get(&r.admin, "/v1/settings/profile/about").await;
    assert_eq!(about["settings"]["profile"]["about"]["text"], "Open 9 to 5", "a refused change is not kept");
}

/// Going live: a data dir the simulator used starts in relay mode with its
/// users, settings and history; the number is the one Cloud shows, not the
/// simulator's.
#[tokio::test]
async fn a_simulator_data_dir_goes_live_on_the_relay() {
    let app = TestApp::spawn_with(Spawn::default().arg("--simulator-open-window")).await;
    let admin = app.admin_token().await;
    let old = app.send_text(&admin, CUSTOMER, "sent on the simulator").await;
    // A run of generated traffic still going when the simulator stops.
    let (s, b) = app.post(&admin, "/simulator/traffic", json!({"rate": 0.5, "duration_s": 3600})).await;
    assert_eq!(s, 201, "{b}");
    let graph = GraphStandIn::start().await;
    let spawn = graph.relay_args().iter().fold(Spawn::default(), |s, a| s.arg(a));
    let app = app.restart_with(spawn).await;
    let (s, b) = app.get(&admin, &format!("/simulator/messages/{old}")).await;
    assert_eq!(s, 200, "the token and the history carried over: {b}");
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let (_, b) = app.get(&admin, "/v1/health").await;
        if b["health"]["gateway_status"] == "connected" {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{b}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (s, b) = app
        .post(
            &admin,
            "/v1/account",
            json!({"cc": "1", "phone_number": &BUSINESS_NUMBER[1..], "method": "sms", "cert": "Y2VydA=="}),
        )
        .await;
    assert_eq!(s, 201, "the Cloud number is the registered one: {b}");
    let (s, b) = app
        .post(&admin, "/v1/messages", json!({"to": "16315550100", "text": {"body": "to the simulator's number"}}))
        .await;
    assert_eq!(s, 201, "the simulator's number is no longer the business's own: {b}");
    // No simulated customer writes in on the real network, even one whose run
    // the simulator left going (at 0.5/s, it would have sent one by now).
    let traffic = |chats: &Value| -> Vec<Value> {
        chats["chats"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["id"].as_str().unwrap().starts_with("1631556"))
            .cloned()
            .collect()
    };
    let before = traffic(&app.get(&admin, "/simulator/chats").await.1);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let after = traffic(&app.get(&admin, "/simulator/chats").await.1);
    assert_eq!(before, after, "no generated message since going live");
}

/// A send Cloud would not take before its `ttl` ran out fails with `410
/// Message expired`, and leaves the queue: the customer's next one goes.
async fn a_send_past_its_ttl_fails_as_expired(spawn: Spawn) {
    let r = Relay::start_with(spawn).await;
    r.graph.down(Answer::Error(503, 2));
    let old = r.send(json!({"to": CUSTOMER, "ttl": 3600, "text": {"body": "stale"}})).await;
    r.graph.wait_for(WAIT, "a first try", |_| !r.graph.sends().is_empty()).await;
    r.app.clock.advance(2 * 3600);
    r.graph.up();
    let next = r.send(json!({"to": CUSTOMER, "text": {"body": "fresh"}})).await;
    r.rx.wait_for(Duration::from_secs(20), "the expiry", |h| h.iter().any(|h| h.body.to_string().contains("410")))
        .await;
    let failed = r.rx.acked_statuses().into_iter().find(|s| s["id"] == old.as_str()).unwrap();
    assert_eq!((failed["status"].as_str(), failed["errors"][0]["code"].as_u64()), (Some("failed"), Some(410)));
    r.graph.wait_for(WAIT, "the next send taken", |_| r.graph.sends().iter().any(|c| c.wamid.is_some())).await;
    assert_eq!(r.graph.sends().iter().filter(|c| c.wamid.is_some()).count(), 1, "only the fresh one");
    assert_eq!(r.message_status(&next).await, "accepted");
    assert_eq!(r.graph.sends().last().unwrap().body["text"]["body"], "fresh");
}

/// Runs each scenario on SQLite and on PostgreSQL (`relay::engines::NAME::sqlite`, `…::postgres`).
macro_rules! on_both_engines {
    ($($name:ident),* $(,)?) => {
        mod engines {
            $(
                mod $name {
                    use crate::helpers::{Spawn, pg_schema};

                    #[tokio::test]
                    async fn sqlite() {
                        super::super::$name(Spawn::default()).await;
                    }

                    #[tokio::test]
                    #[cfg_attr(not(wabiz_test_pg), ignore = "needs WABIZ_TEST_PG_URL at build time")]
                    async fn postgres() {
                        // Schema names stop at 63 bytes.
                        let test: String = stringify!($name).chars().take(24).collect();
                        let schema = pg_schema(&test).await;
                        super::super::$name(Spawn::default().arg("--database").arg(&schema.url)).await;
                        schema.drop_schema().await;
                    }
                }
            )*
        }
    };
}

on_both_engines!(
    a_send_and_its_webhooks_make_the_round_trip,
    only_meta_can_call_the_webhook,
    sends_are_retried_in_order_per_customer,
    a_refused_send_fails_with_the_mapped_code,
    media_goes_both_ways_by_wabiz_ids,
    registration_requests_and_verifies_the_code_on_cloud,
    contacts_answer_locally_and_groups_are_off,
    a_status_before_its_send_is_recorded_is_kept_until_it_is,
    a_customer_known_by_user_id_only_gets_a_stable_wa_id,
    a_full_queue_answers_system_overloaded,
    the_profile_is_written_through_to_cloud,
    a_send_past_its_ttl_fails_as_expired,
);
