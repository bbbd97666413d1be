//! Cloud webhooks turned into On-Premises callback items
//! (`cloud-mapping.md` §3.2). A POST may hold several entries and changes,
//! for several numbers; only `field: "messages"` changes of this relay's
//! phone number id are On-Premises business. Each inbound message becomes a
//! `messages` item with its sender's `contacts` item, each status a
//! `statuses` item, and `value.errors` top-level `errors` items; Cloud's
//! envelope (`messaging_product`, `metadata`) is not part of any of them.
//!
//! A message type On-Premises lacks (`unsupported`) arrives as its
//! `unknown`, with its code 501. Media ids and customers Cloud names by
//! `user_id` only are the webhook endpoint's to map (`webhook.rs`,
//! `users.rs`): they need the store.

use serde_json::{Map, Value, json};
use wabiz_domain::error::ErrorCode;

use crate::errors::CloudError;

/// One thing a webhook tells, in On-Premises shape.
#[derive(Debug, Clone, PartialEq)]
pub enum CloudEvent {
    /// A customer's message (`messages[]`), with their `contacts[]` item.
    Message { from: String, contact: Option<Value>, message: Value },
    /// A customer moved to a new number: a `system` message, sent only with
    /// `notify_user_change_number`, and without `contacts` (`webhooks.md` §3).
    NumberChanged { from: String, message: Value },
    /// A status of a message the business sent (`statuses[]`).
    Status { recipient: String, id: String, status: Value },
    /// An out-of-band problem (`errors[]`).
    Error { error: Value },
}

/// What was left out, and why (for the log: the relay answers 200 anyway,
/// as Cloud would otherwise send it again for a week).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub what: String,
    pub why: &'static str,
}

/// The events of one webhook POST for phone number id `pnid`, in the order
/// the POST holds them.
pub fn events(body: &Value, pnid: &str) -> (Vec<CloudEvent>, Vec<Skipped>) {
    let (mut events, mut skipped) = (Vec::new(), Vec::new());
    let changes =
        body["entry"].as_array().into_iter().flatten().flat_map(|e| e["changes"].as_array().into_iter().flatten());
    for change in changes {
        let field = change["field"].as_str().unwrap_or("");
        if field != "messages" {
            skipped.push(Skipped { what: format!("a `{field}` change"), why: "no On-Premises callback has it" });
            continue;
        }
        let value = &change["value"];
        let to = value["metadata"]["phone_number_id"].as_str().unwrap_or("");
        if to != pnid {
            skipped
                .push(Skipped { what: format!("a change for phone number id {to}"), why: "not this relay's number" });
            continue;
        }
        let contacts = value["contacts"].as_array().map(Vec::as_slice).unwrap_or_default();
        for m in value["messages"].as_array().into_iter().flatten() {
            match message(m, contacts) {
                Ok(event) => events.push(event),
                Err(why) => skipped.push(Skipped { what: format!("message {}", m["id"]), why }),
            }
        }
        for s in value["statuses"].as_array().into_iter().flatten() {
            match status(s) {
                Ok(event) => events.push(event),
                Err(why) => skipped.push(Skipped { what: format!("status {} of {}", s["status"], s["id"]), why }),
            }
        }
        for e in value["errors"].as_array().into_iter().flatten() {
            events.push(CloudEvent::Error { error: error_item(e) });
        }
    }
    (events, skipped)
}

fn message(m: &Value, contacts: &[Value]) -> Result<CloudEvent, &'static str> {
    let from =
        m["from"].as_str().filter(|f| !f.is_empty()).ok_or("no `from` number (a customer known by user_id only)")?;
    let mut message = m.clone();
    if m["type"] == "system" {
        let system = &m["system"];
        if matches!(system["type"].as_str(), Some("customer_changed_number" | "user_changed_number")) {
            // Cloud names the new number `wa_id` (or `new_wa_id`); On-Premises
            // calls the event `user_changed_number` with `new_wa_id`.
            let new = system["new_wa_id"].as_str().or(system["wa_id"].as_str()).unwrap_or_default();
            message["system"] = json!({"body": system["body"], "new_wa_id": new, "type": "user_changed_number"});
            return Ok(CloudEvent::NumberChanged { from: from.to_owned(), message });
        }
    }
    if m["type"] == "unsupported" {
        // On-Premises says `unknown`, with its own code for it (`webhooks.md` §6.11).
        message["type"] = json!("unknown");
        let errors = m["errors"].as_array().map(Vec::as_slice).unwrap_or_default();
        let items: Vec<Value> =
            errors.iter().map(|e| error_item_as(e, Some(ErrorCode::UnsupportedMessageType))).collect();
        message["errors"] = if items.is_empty() {
            json!([{"code": ErrorCode::UnsupportedMessageType.code(), "title": ErrorCode::UnsupportedMessageType.title()}])
        } else {
            Value::Array(items)
        };
    } else if let Some(errors) = m["errors"].as_array() {
        message["errors"] = Value::Array(errors.iter().map(error_item).collect());
    }
    let contact = contacts.iter().find(|c| c["wa_id"] == from).or(contacts.first()).map(contact_item);
    Ok(CloudEvent::Message { from: from.to_owned(), contact, message })
}

/// A `contacts[]` item as On-Premises sent it: the profile and the `wa_id`.
fn contact_item(c: &Value) -> Value {
    json!({"profile": c["profile"], "wa_id": c["wa_id"]})
}

/// The statuses On-Premises knows.
const STATUSES: [&str; 5] = ["sent", "delivered", "read", "failed", "deleted"];

fn status(s: &Value) -> Result<CloudEvent, &'static str> {
    let kind = s["status"].as_str().unwrap_or("");
    if !STATUSES.contains(&kind) {
        return Err("a status On-Premises does not have");
    }
    let (Some(id), Some(recipient)) = (s["id"].as_str(), s["recipient_id"].as_str()) else {
        return Err("no message id or recipient");
    };
    let mut item = Map::new();
    item.insert("id".into(), json!(id));
    item.insert("recipient_id".into(), json!(recipient));
    item.insert("status".into(), json!(kind));
    item.insert("timestamp".into(), s["timestamp"].clone());
    if let Some(conversation) = s.get("conversation") {
        item.insert("conversation".into(), conversation.clone());
    }
    if let Some(pricing) = s.get("pricing") {
        item.insert("pricing".into(), pricing_item(pricing));
    }
    if let Some(errors) = s["errors"].as_array() {
        item.insert("errors".into(), Value::Array(errors.iter().map(error_item).collect()));
    }
    Ok(CloudEvent::Status { recipient: recipient.to_owned(), id: id.to_owned(), status: Value::Object(item) })
}

/// Cloud's pricing, kept as it is, with the `billable` flag legacy clients
/// read: Cloud's per-message pricing no longer sends it, and says instead
/// whether the message was free (`type: free_customer_service`,
/// `free_entry_point`).
fn pricing_item(p: &Value) -> Value {
    let mut p = p.clone();
    if p.get("billable").is_none()
        && let Some(kind) = p["type"].as_str()
    {
        p["billable"] = json!(!kind.starts_with("free"));
    }
    p
}

/// A Cloud error item (`{code, title, message, error_data: {details}}`) as
/// an On-Premises one: the On-Premises code and title, the Cloud code kept
/// in `details`.
fn error_item(e: &Value) -> Value {
    error_item_as(e, None)
}

/// The same, with the On-Premises code given (`None`: mapped from Cloud's).
fn error_item_as(e: &Value, code: Option<ErrorCode>) -> Value {
    // A webhook reports it: no HTTP status of its own.
    let cloud = CloudError::from_object(200, e);
    let code = code.unwrap_or_else(|| callback_code(&cloud));
    json!({"code": code.code(), "title": code.title(), "details": cloud.on_prem_details()})
}

/// The code a callback carries: the mapping's, with the delivery codes
/// On-Premises used in callbacks where the mapping has a request's code.
fn callback_code(e: &CloudError) -> ErrorCode {
    match e.code {
        130_429 | 131_056 | 80_007 => ErrorCode::RateLimitHit,
        131_048 => ErrorCode::SpamRateLimitHit,
        131_053 => ErrorCode::MediaDownloadError,
        _ => match e.on_prem_code() {
            ErrorCode::InternalError => ErrorCode::GenericDeliveryError,
            code => code,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNID: &str = "106540352242922";

    /// A webhook POST with one `messages` change holding `value`.
    fn webhook(value: Value) -> Value {
        json!({"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": value}]}]})
    }

    fn envelope(mut value: Value) -> Value {
        value["messaging_product"] = json!("whatsapp");
        value["metadata"] = json!({"display_phone_number": "15550783881", "phone_number_id": PNID});
        value
    }

    /// `cloud-mapping.md` §9.7: one text and two statuses.
    #[test]
    fn a_text_and_two_statuses_become_one_message_and_two_status_items() {
        let body = webhook(envelope(json!({
            "contacts": [{"profile": {"name": "Kerry Fisher"}, "wa_id": "16315551234"}],
            "messages": [{"from": "16315551234", "id": "wamid.IN", "timestamp": "1700000000", "type": "text", "text": {"body": "hi"}}],
            "statuses": [
                {"id": "wamid.OUT", "status": "delivered", "timestamp": "1700000001", "recipient_id": "16315551234",
                 "pricing": {"billable": true, "pricing_model": "PMP", "category": "utility"}},
                {"id": "wamid.OUT", "status": "read", "timestamp": "1700000002", "recipient_id": "16315551234"},
            ],
        })));
        let (events, skipped) = events(&body, PNID);
        assert!(skipped.is_empty(), "{skipped:?}");
        assert_eq!(
            events,
            [
                CloudEvent::Message {
                    from: "16315551234".into(),
                    contact: Some(json!({"profile": {"name": "Kerry Fisher"}, "wa_id": "16315551234"})),
                    message: json!({"from": "16315551234", "id": "wamid.IN", "timestamp": "1700000000", "type": "text", "text": {"body": "hi"}}),
                },
                CloudEvent::Status {
                    recipient: "16315551234".into(),
                    id: "wamid.OUT".into(),
                    status: json!({"id": "wamid.OUT", "recipient_id": "16315551234", "status": "delivered", "timestamp": "1700000001",
                               "pricing": {"billable": true, "pricing_model": "PMP", "category": "utility"}}),
                },
                CloudEvent::Status {
                    recipient: "16315551234".into(),
                    id: "wamid.OUT".into(),
                    status: json!({"id": "wamid.OUT", "recipient_id": "16315551234", "status": "read", "timestamp": "1700000002"}),
                },
            ]
        );
        let text = format!("{events:?}");
        assert!(!text.contains("metadata") && !text.contains("messaging_product"), "{text}");
    }

    #[test]
    fn other_fields_and_other_numbers_are_left_out_and_said_so() {
        let mut body = webhook(json!({"messaging_product": "whatsapp", "metadata": {"phone_number_id": "999"},
                                       "messages": [{"from": "1", "id": "wamid.X", "type": "text", "text": {"body": "x"}}]}));
        body["entry"][0]["changes"]
            .as_array_mut()
            .unwrap()
            .push(json!({"field": "message_template_status_update", "value": {}}));
        let (events, skipped) = events(&body, PNID);
        assert!(events.is_empty(), "{events:?}");
        assert_eq!(
            skipped.iter().map(|s| s.why).collect::<Vec<_>>(),
            ["not this relay's number", "no On-Premises callback has it"]
        );
    }

    #[test]
    fn a_failed_status_carries_the_on_premises_code_and_the_cloud_one() {
        let body = webhook(envelope(json!({"statuses": [{
            "id": "wamid.OUT", "status": "failed", "timestamp": "1700000003", "recipient_id": "16315551234",
            "errors": [{"code": 131047, "title": "Re-engagement message", "message": "Re-engagement message",
                        "error_data": {"details": "Message failed to send because more than 24 hours have passed"}}],
            "pricing": {"pricing_model": "PMP", "category": "service", "type": "free_customer_service"},
        }]})));
        let (events, _) = events(&body, PNID);
        let CloudEvent::Status { status, .. } = &events[0] else { panic!("{events:?}") };
        assert_eq!(
            status["errors"],
            json!([{"code": 470, "title": "Re-engagement message",
            "details": "cloud_code=131047: Message failed to send because more than 24 hours have passed"}])
        );
        assert_eq!(status["pricing"]["billable"], false, "a free message is not billable");
        for (cloud, on_prem) in [(130_429, 429), (131_048, 471), (131_026, 1013), (131_000, 500), (132_001, 2001)] {
            let e = error_item(&json!({"code": cloud, "title": "t"}));
            assert_eq!(e["code"], on_prem, "{cloud}");
        }
    }

    #[test]
    fn a_number_change_is_the_on_premises_system_message_without_contacts() {
        for cloud_type in ["customer_changed_number", "user_changed_number"] {
            let body = webhook(envelope(json!({
                "contacts": [{"profile": {"name": "Kerry"}, "wa_id": "16315551234"}],
                "messages": [{"from": "16315551234", "id": "wamid.SYS", "timestamp": "1700000004", "type": "system",
                              "system": {"body": "User A changed from 16315551234 to 16315559876", "wa_id": "16315559876", "type": cloud_type}}],
            })));
            let (events, _) = events(&body, PNID);
            assert_eq!(
                events,
                [CloudEvent::NumberChanged {
                    from: "16315551234".into(),
                    message: json!({"from": "16315551234", "id": "wamid.SYS", "timestamp": "1700000004", "type": "system",
                                "system": {"body": "User A changed from 16315551234 to 16315559876", "new_wa_id": "16315559876",
                                           "type": "user_changed_number"}}),
                }],
                "{cloud_type}"
            );
        }
    }

    #[test]
    fn unknown_statuses_and_senders_without_a_number_are_skipped_not_guessed() {
        let body = webhook(envelope(json!({
            "messages": [{"id": "wamid.U", "user_id": "US.13491208655302741918", "type": "text", "text": {"body": "hi"}}],
            "statuses": [{"id": "wamid.OUT", "status": "played", "timestamp": "1", "recipient_id": "1"}],
            "errors": [{"code": 131000, "title": "Something went wrong", "message": "Something went wrong"}],
        })));
        let (events, skipped) = events(&body, PNID);
        assert_eq!(skipped.len(), 2, "{skipped:?}");
        assert_eq!(
            events,
            [CloudEvent::Error {
                error: json!({"code": 500, "title": "Generic error", "details": "cloud_code=131000: Something went wrong"}),
            }]
        );
    }
}
