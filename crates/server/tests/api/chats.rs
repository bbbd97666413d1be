//! The list of chats (`GET /simulator/chats`) and a group's chat
//! (`GET /simulator/conversations/{group id}`): what the console's
//! conversations view reads.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

async fn chats(app: &TestApp, admin: &str, query: &str) -> Vec<Value> {
    let (s, b) = app.get(admin, &format!("/simulator/chats{query}")).await;
    assert_eq!(s, 200, "{b}");
    b["chats"].as_array().unwrap().clone()
}

fn summary(list: &[Value]) -> Vec<(String, Value, u64)> {
    list.iter()
        .map(|c| (c["id"].as_str().unwrap().to_owned(), c["name"].clone(), c["unread"].as_u64().unwrap()))
        .collect()
}

async fn inbound(app: &TestApp, admin: &str, body: Value) -> String {
    let (s, b) = app.post(admin, "/simulator/inbound", body).await;
    assert_eq!(s, 201, "{b}");
    b["messages"][0]["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn chats_are_listed_latest_first_with_names_and_unread_counts() {
    let app = TestApp::spawn_with(Spawn::instant_receipts().arg("--simulator-open-window")).await;
    let admin = app.admin_token().await;
    assert!(chats(&app, &admin, "").await.is_empty());
    let text = |from: &str, body: &str, name: &str| json!({"from": from, "type": "text", "text": {"body": body}, "profile": {"name": name}});
    let first = inbound(&app, &admin, text("16315551234", "hello", "Kerry Fisher")).await;
    inbound(&app, &admin, text("16315551234", "anyone there?", "Kerry Fisher")).await;
    inbound(&app, &admin, text("16315550001", "hi", "Ana Lima")).await;
    app.send_text(&admin, "16315559999", "Your code is 1234").await;
    let list = chats(&app, &admin, "").await;
    assert_eq!(
        summary(&list),
        [
            ("16315559999".to_owned(), Value::Null, 0),
            ("16315550001".to_owned(), json!("Ana Lima"), 1),
            ("16315551234".to_owned(), json!("Kerry Fisher"), 2),
        ],
        "{list:?}"
    );
    assert_eq!(list[0]["last_message"]["direction"], "outbound");
    assert_eq!(list[2]["last_message"]["content"]["messages"][0]["text"]["body"], "anyone there?");

    // The business reads the first of Kerry's messages: one left.
    let (s, b) = app.call(&admin, Method::PUT, &format!("/v1/messages/{first}"), Some(json!({"status": "read"}))).await;
    assert!(s.is_success(), "{b}");
    let kerry = chats(&app, &admin, "?search=kerry").await;
    assert_eq!(summary(&kerry), [("16315551234".to_owned(), json!("Kerry Fisher"), 1)]);
    assert_eq!(summary(&chats(&app, &admin, "?search=%2B1631555000").await)[0].0, "16315550001", "a + is ignored");
    assert_eq!(chats(&app, &admin, "?search=1631555&limit=2").await.len(), 2);
    assert!(chats(&app, &admin, "?search=nobody").await.is_empty());

    for (query, code) in [("?limit=0", 1009), ("?limit=201", 1009), ("?limit=ten", 1009)] {
        let (s, b) = app.get(&admin, &format!("/simulator/chats{query}")).await;
        assert_code(s, &b, 400, code);
    }
    let (s, b) = app.get(&admin, &format!("/simulator/chats?search={}", "9".repeat(65))).await;
    assert_code(s, &b, 400, 1009);
}

#[tokio::test]
async fn a_groups_chat_holds_what_was_sent_to_it_and_written_in_it() {
    let app = TestApp::spawn_with(Spawn::instant_receipts().arg("--simulator-open-window")).await;
    let admin = app.admin_token().await;
    let (s, b) = app.post(&admin, "/v1/groups", json!({"subject": "Book club"})).await;
    assert_eq!(s, 200, "{b}");
    let group = b["groups"][0]["id"].as_str().unwrap().to_owned();
    let (_, b) = app.get(&admin, &format!("/v1/groups/{group}/invite")).await;
    let link = b["groups"][0]["link"].as_str().unwrap().to_owned();
    let (s, b) = app.post(&admin, "/simulator/groups/join", json!({"invite": link, "wa_id": "16315551234"})).await;
    assert_eq!(s, 200, "{b}");

    let to_group = json!({"recipient_type": "group", "to": group, "type": "text", "text": {"body": "Next book?"}});
    app.send_message(&admin, to_group).await;
    inbound(&app, &admin, json!({"from": "16315551234", "group_id": group, "type": "text", "text": {"body": "Dune!"}}))
        .await;
    inbound(&app, &admin, json!({"from": "16315551234", "type": "text", "text": {"body": "Just to you"}})).await;

    let list = chats(&app, &admin, "").await;
    let g = list.iter().find(|c| c["id"] == group.as_str()).unwrap_or_else(|| panic!("{list:?}"));
    assert_eq!(
        (g["recipient_type"].as_str(), g["name"].as_str(), g["unread"].as_u64()),
        (Some("group"), Some("Book club"), Some(1))
    );
    let (s, b) = app.get(&admin, &format!("/simulator/conversations/{group}")).await;
    assert_eq!(s, 200, "{b}");
    let texts: Vec<(&str, &str)> = b["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let body = m["content"]["body"].as_str().or(m["content"]["messages"][0]["text"]["body"].as_str());
            (m["peer"].as_str().unwrap(), body.unwrap())
        })
        .collect();
    assert_eq!(texts, [(group.as_str(), "Next book?"), ("16315551234", "Dune!")], "{b}");
    assert_eq!(b["messages"][1]["group_id"], group.as_str());
    let (_, b) = app.get(&admin, "/simulator/conversations/16315551234").await;
    let own: Vec<&str> = b["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"]["messages"][0]["text"]["body"].as_str().unwrap())
        .collect();
    assert_eq!(own, ["Just to you"], "her own chat leaves out the group");
}
