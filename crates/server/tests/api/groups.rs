//! `/v1/groups…` (`groups.md`): every route and its errors, and the scenario
//! of a simulated customer joining by the invite link, writing in the group
//! and the business seeing it (and every group event) at its webhook.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::receiver::Receiver;

const WAIT: Duration = Duration::from_secs(20);

async fn create(app: &TestApp, admin: &str, subject: &str) -> String {
    let (s, b) = app.post(admin, "/v1/groups", json!({ "subject": subject })).await;
    assert_eq!(s, 200, "{b}");
    b["groups"][0]["id"].as_str().unwrap().to_owned()
}

async fn info(app: &TestApp, admin: &str, id: &str) -> Value {
    let (s, b) = app.get(admin, &format!("/v1/groups/{id}")).await;
    assert_eq!(s, 200, "{b}");
    b["groups"][0].clone()
}

async fn invite_link(app: &TestApp, admin: &str, id: &str) -> String {
    let (s, b) = app.get(admin, &format!("/v1/groups/{id}/invite")).await;
    assert_eq!(s, 200, "{b}");
    b["groups"][0]["link"].as_str().unwrap().to_owned()
}

async fn join(app: &TestApp, admin: &str, link: &str, wa_id: &str) -> (reqwest::StatusCode, Value) {
    app.post(admin, "/simulator/groups/join", json!({ "invite": link, "wa_id": wa_id })).await
}

/// `system.type` of every group event the receiver got, in order.
fn events(rx: &Receiver) -> Vec<String> {
    rx.acked("messages")
        .iter()
        .filter(|m| m["type"] == "system")
        .map(|m| m["system"]["type"].as_str().unwrap_or("").to_owned())
        .collect()
}

#[tokio::test]
async fn the_group_lifecycle_over_http() {
    let rx = Receiver::start().await;
    let app = TestApp::spawn_with(Spawn::instant_receipts().arg("--allow-http-webhooks")).await;
    let admin = app.admin_token().await;
    let (s, b) = app.patch(&admin, "/v1/settings/application", json!({"webhooks": {"url": rx.url()}})).await;
    assert!(s.is_success(), "{b}");

    // Create: `<creator>-<seconds>`, an integer creation time.
    let (s, b) = app.post(&admin, "/v1/groups", json!({"subject": "Team"})).await;
    assert_eq!(s, 200, "{b}");
    let id = b["groups"][0]["id"].as_str().unwrap().to_owned();
    let (creator, secs) = id.split_once('-').unwrap();
    assert!(creator.chars().all(|c| c.is_ascii_digit()) && secs.parse::<i64>().is_ok(), "{id}");
    assert!(b["groups"][0]["creation_time"].is_i64());
    let (s, b) = app.post(&admin, "/v1/groups", json!({})).await;
    assert_one_error(s, &b, 400, 1008, "Missing mandatory parameter 'subject'");
    let (s, b) = app.post(&admin, "/v1/groups", json!({"subject": "x".repeat(26)})).await;
    assert_one_error(s, &b, 400, 1009, "Subject exceeds 25 characters");
    let second = create(&app, &admin, "Second").await;
    assert_ne!(second, id, "two groups in one second get different ids");

    // List and info.
    let (_, b) = app.get(&admin, "/v1/groups").await;
    let ids: Vec<&str> = b["groups"].as_array().unwrap().iter().map(|g| g["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [id.as_str(), second.as_str()]);
    let g = info(&app, &admin, &id).await;
    assert_eq!(g["admins"], json!([creator]));
    assert_eq!(g["participants"], json!([creator]));
    assert_eq!((g["creator"].as_str(), g["subject"].as_str()), (Some(creator), Some("Team")));
    let mut keys: Vec<&str> = g.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["admins", "creation_time", "creator", "participants", "subject"]);

    // Subject.
    let (s, b) = app.put(&admin, &format!("/v1/groups/{id}"), json!({"subject": "New"})).await;
    assert_meta_only(s, &b, 200);
    assert_eq!(info(&app, &admin, &id).await["subject"], "New");

    // Invite link: stable until revoked.
    let first = invite_link(&app, &admin, &id).await;
    assert!(first.starts_with("https://chat.whatsapp.com/") && first.len() == 26 + 22, "{first}");
    assert_eq!(invite_link(&app, &admin, &id).await, first);
    let (s, b) = app.delete(&admin, &format!("/v1/groups/{id}/invite")).await;
    assert_meta_only(s, &b, 200);
    let current = invite_link(&app, &admin, &id).await;
    assert_ne!(current, first);

    // Customers join by the link (not the revoked one).
    let (s, b) = join(&app, &admin, &first, "16505550001").await;
    assert_code(s, &b, 404, 1006);
    for customer in ["16505550001", "16505550002"] {
        let (s, b) = join(&app, &admin, &current, customer).await;
        assert_eq!(s, 200, "{b}");
    }
    assert_eq!(info(&app, &admin, &id).await["participants"], json!([creator, "16505550001", "16505550002"]));

    // Admins: promote, demote; bodies on DELETE.
    let path = format!("/v1/groups/{id}/admins");
    let (s, b) = app.patch(&admin, &path, json!({"wa_ids": ["16505550001"]})).await;
    assert_meta_only(s, &b, 200);
    assert_eq!(info(&app, &admin, &id).await["admins"], json!([creator, "16505550001"]));
    let (s, b) = app.delete_with(&admin, &path, json!({"wa_ids": ["16505550001"]})).await;
    assert_meta_only(s, &b, 200);
    assert_eq!(info(&app, &admin, &id).await["admins"], json!([creator]));
    let (s, b) = app.patch(&admin, &path, json!({})).await;
    assert_one_error(s, &b, 400, 1008, "Missing mandatory parameter 'wa_ids'");
    let (s, b) = app.patch(&admin, &path, json!({"wa_ids": ["19999999999"]})).await;
    assert_code(s, &b, 400, 1009);
    let (s, b) = app.delete_with(&admin, &path, json!({"wa_ids": [creator]})).await;
    assert_code(s, &b, 400, 1009);

    // Remove a participant.
    let (s, b) =
        app.delete_with(&admin, &format!("/v1/groups/{id}/participants"), json!({"wa_ids": ["16505550002"]})).await;
    assert_meta_only(s, &b, 200);
    assert_eq!(info(&app, &admin, &id).await["participants"], json!([creator, "16505550001"]));

    // Icon: raw JPEG bytes, 201; same bytes back; limits.
    let jpeg: Vec<u8> = [&[0xff, 0xd8, 0xff, 0xe0][..], &vec![7u8; 10_000]].concat();
    let icon_path = format!("/v1/groups/{id}/icon");
    let r = app
        .authed(Method::POST, &icon_path, &admin)
        .header("content-type", "image/jpeg")
        .body(jpeg.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let r = app.authed(Method::GET, &icon_path, &admin).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/jpeg");
    assert!(r.headers()["content-disposition"].to_str().unwrap().contains("groupIcon.jpg"));
    assert_eq!(r.bytes().await.unwrap().to_vec(), jpeg);
    // As a public link: served without credentials while the icon is current.
    let (s, b) = app.get(&admin, &format!("{icon_path}?format=link")).await;
    assert_eq!(s, 200, "{b}");
    let link = b["groups"][0]["icon"]["link"].as_str().unwrap().to_owned();
    let public_path = link.split_once("/pps/").map(|(_, rest)| format!("/pps/{rest}")).unwrap();
    assert!(public_path.starts_with(&format!("/pps/groups/{id}/")) && public_path.ends_with(".jpg"), "{link}");
    let r = app.request(Method::GET, &public_path).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap().to_vec(), jpeg);
    let stale = format!("/pps/groups/{id}/{}.jpg", "0".repeat(64));
    assert_eq!(app.request(Method::GET, &stale).send().await.unwrap().status(), 404);
    let (s, b) = send(app.authed(Method::POST, &icon_path, &admin).body(Vec::new())).await;
    assert_one_error(s, &b, 400, 1008, "No data found");
    let huge = [&[0xff, 0xd8, 0xff][..], &vec![0u8; 5 * 1024 * 1024]].concat();
    let (s, b) = send(app.authed(Method::POST, &icon_path, &admin).body(huge)).await;
    assert_one_error(s, &b, 400, 1009, "Photo size too large. Max allowed size: 5242880 bytes");
    let (s, b) = app.delete(&admin, &icon_path).await;
    assert_meta_only(s, &b, 200);
    let (s, b) = app.get(&admin, &icon_path).await;
    assert_code(s, &b, 404, 1006);
    assert_eq!(app.request(Method::GET, &public_path).send().await.unwrap().status(), 404, "deleted: the link is dead");

    // A customer writes in the group; the business sends to it.
    let (s, b) = app
        .post(
            &admin,
            "/simulator/inbound",
            json!({"from": "16505550001", "group_id": id, "type": "text", "text": {"body": "hello group"}}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let (s, b) = app
        .post(
            &admin,
            "/simulator/inbound",
            json!({"from": "16505550002", "group_id": id, "type": "text", "text": {"body": "I was removed"}}),
        )
        .await;
    assert_code(s, &b, 400, 1003);
    let (s, b) = app
        .post(&admin, "/v1/messages", json!({"to": id, "recipient_type": "group", "text": {"body": "hi all"}}))
        .await;
    assert_eq!(s, 201, "{b}");
    let sent = b["messages"][0]["id"].as_str().unwrap().to_owned();
    let (s, b) =
        app.post(&admin, "/v1/messages", json!({"to": "1-2", "recipient_type": "group", "text": {"body": "x"}})).await;
    assert_code(s, &b, 404, 1012);

    // Leave: gone from the list and from every route.
    let (s, b) = app.call(&admin, Method::POST, &format!("/v1/groups/{second}/leave"), None).await;
    assert_meta_only(s, &b, 200);
    let (_, b) = app.get(&admin, "/v1/groups").await;
    assert_eq!(b["groups"].as_array().unwrap().len(), 1);
    let (s, b) = app.get(&admin, &format!("/v1/groups/{second}")).await;
    assert_code(s, &b, 404, 1006);

    // The webhook saw every event, the group message, and the send's statuses.
    rx.wait_for(WAIT, "the group events", |_| events(&rx).len() >= 12).await;
    assert_eq!(
        events(&rx),
        [
            "group_created",
            "group_created",
            "group_subject_changed",
            "group_invite_link_revoked",
            "group_user_joined",
            "group_user_joined",
            "group_user_promoted",
            "group_user_demoted",
            "group_user_left",
            "group_icon_changed",
            "group_icon_deleted",
            "group_user_left",
        ]
    );
    let joined = rx.acked("messages").into_iter().find(|m| m["system"]["type"] == "group_user_joined").unwrap();
    assert_eq!(
        (joined["group_id"].as_str(), joined["system"]["group_id"].as_str()),
        (Some(id.as_str()), Some(id.as_str()))
    );
    assert_eq!(joined["system"]["users"], json!(["16505550001"]));
    assert_eq!(joined["from"], "16505550001");
    let said = rx.acked("messages").into_iter().find(|m| m["type"] == "text").expect("the group message");
    assert_eq!((said["group_id"].as_str(), said["from"].as_str()), (Some(id.as_str()), Some("16505550001")));
    let statuses = rx.wait_for_statuses(3, WAIT).await;
    let of_sent: Vec<&str> = statuses.iter().filter(|(i, _)| *i == sent).map(|(_, s)| s.as_str()).collect();
    assert_eq!(of_sent, ["sent", "delivered", "read"]);
    assert!(rx.acked_statuses().iter().all(|s| s["recipient_id"] == id.as_str()));
}

#[tokio::test]
async fn groups_can_be_switched_off() {
    let app = TestApp::spawn_with(Spawn::default().arg("--disable-groups")).await;
    let admin = app.admin_token().await;
    for (method, path) in [
        (Method::GET, "/v1/groups"),
        (Method::POST, "/v1/groups"),
        (Method::GET, "/v1/groups/1-2"),
        (Method::DELETE, "/v1/groups/1-2/invite"),
        (Method::POST, "/v1/groups/1-2/icon"),
        (Method::PATCH, "/v1/groups/1-2/admins"),
    ] {
        let (s, b) = app.call(&admin, method.clone(), path, Some(json!({"subject": "x"}))).await;
        assert_one_error(s, &b, 404, 1006, "URL path not found");
    }
}

/// A group message is `sent` once for the group, then `delivered` and `read`
/// once per participant, each naming them (`groups.md` §5).
#[tokio::test]
async fn each_participant_sends_their_own_receipts() {
    let rx = Receiver::start().await;
    let app = TestApp::spawn_with(Spawn::instant_receipts().arg("--allow-http-webhooks")).await;
    let admin = app.admin_token().await;
    let (s, b) = app.patch(&admin, "/v1/settings/application", json!({"webhooks": {"url": rx.url()}})).await;
    assert!(s.is_success(), "{b}");
    let id = create(&app, &admin, "Receipts").await;
    let link = invite_link(&app, &admin, &id).await;
    for customer in ["16505550011", "16505550012"] {
        let (s, b) = join(&app, &admin, &link, customer).await;
        assert!(s.is_success(), "{b}");
    }
    let (s, b) = app
        .post(&admin, "/v1/messages", json!({"to": id, "recipient_type": "group", "text": {"body": "hi all"}}))
        .await;
    assert_eq!(s, 201, "{b}");
    let sent = b["messages"][0]["id"].as_str().unwrap().to_owned();
    rx.wait_for_statuses(5, WAIT).await;
    let mine: Vec<Value> = rx.acked_statuses().into_iter().filter(|s| s["id"] == sent.as_str()).collect();
    let receipts: Vec<(&str, Option<&str>)> =
        mine.iter().map(|s| (s["status"].as_str().unwrap(), s["participant_id"].as_str())).collect();
    assert_eq!(
        receipts,
        [
            ("sent", None),
            ("delivered", Some("16505550011")),
            ("delivered", Some("16505550012")),
            ("read", Some("16505550011")),
            ("read", Some("16505550012")),
        ]
    );
    assert!(mine.iter().all(|s| s["recipient_id"] == id.as_str() && s["recipient_type"] == "group"), "{mine:?}");
    // The message itself reached `read`.
    let m = message_view(&app, &admin, &sent).await;
    assert_eq!(m["status"], "read");
}
