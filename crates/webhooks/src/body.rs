//! POST bodies: callback items of one kind, joined into the flat On-Premises
//! shape (`webhooks.md` §2–§7). Items are stored as JSON text and joined as
//! text, so a batch costs no parsing.

use wabiz_domain::callbacks::{CallbackKind, PendingCallback};

/// The body of one POST carrying `items` (all of the same kind, in order).
pub fn compose(kind: CallbackKind, items: &[&PendingCallback]) -> String {
    let size: usize = items.iter().map(|c| c.item.len() + c.contact.as_ref().map_or(0, String::len) + 2).sum();
    let mut out = String::with_capacity(size + 32);
    out.push('{');
    if kind == CallbackKind::Message {
        // Each sender once, in order of first appearance; system messages
        // have none, and a POST of only those has no `contacts` key.
        let mut contacts: Vec<&str> = Vec::new();
        for c in items.iter().filter_map(|c| c.contact.as_deref()) {
            if !contacts.contains(&c) {
                contacts.push(c);
            }
        }
        if !contacts.is_empty() {
            push_array(&mut out, "contacts", contacts.into_iter());
            out.push(',');
        }
    }
    push_array(&mut out, kind.as_str(), items.iter().map(|c| c.item.as_str()));
    out.push('}');
    out
}

fn push_array<'a>(out: &mut String, key: &str, items: impl Iterator<Item = &'a str>) {
    out.push('"');
    out.push_str(key);
    out.push_str("\":[");
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(item);
    }
    out.push(']');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn cb(kind: CallbackKind, item: Value, contact: Option<Value>) -> PendingCallback {
        PendingCallback {
            seq: 1,
            kind,
            peer: "1".into(),
            subject: None,
            item: item.to_string(),
            contact: contact.map(|c| c.to_string()),
            created_at: 0,
            attempts: 0,
            next_attempt_at: 0,
            last_attempt_at: None,
            last_result: None,
        }
    }

    fn parsed(kind: CallbackKind, items: &[PendingCallback]) -> Value {
        let refs: Vec<&PendingCallback> = items.iter().collect();
        serde_json::from_str(&compose(kind, &refs)).unwrap()
    }

    #[test]
    fn statuses_share_one_array() {
        let items = [
            cb(CallbackKind::Status, json!({"id": "a", "status": "sent"}), None),
            cb(CallbackKind::Status, json!({"id": "b", "status": "read"}), None),
        ];
        assert_eq!(
            parsed(CallbackKind::Status, &items),
            json!({"statuses": [{"id": "a", "status": "sent"}, {"id": "b", "status": "read"}]})
        );
    }

    #[test]
    fn messages_bring_each_sender_once() {
        let k = json!({"profile": {"name": "K"}, "wa_id": "1"});
        let items = [
            cb(CallbackKind::Message, json!({"id": "m1"}), Some(k.clone())),
            cb(CallbackKind::Message, json!({"id": "m2"}), Some(k.clone())),
            cb(CallbackKind::Message, json!({"id": "sys", "type": "system"}), None),
        ];
        assert_eq!(
            parsed(CallbackKind::Message, &items),
            json!({"contacts": [k], "messages": [{"id": "m1"}, {"id": "m2"}, {"id": "sys", "type": "system"}]})
        );
        let system = [cb(CallbackKind::Message, json!({"type": "system"}), None)];
        assert_eq!(parsed(CallbackKind::Message, &system), json!({"messages": [{"type": "system"}]}));
    }

    #[test]
    fn other_kinds() {
        let e = [cb(CallbackKind::Error, json!({"code": 1014}), None)];
        assert_eq!(parsed(CallbackKind::Error, &e), json!({"errors": [{"code": 1014}]}));
        let s = [cb(CallbackKind::Service, json!({"message": {"gc": {"status": "complete"}}}), None)];
        assert_eq!(parsed(CallbackKind::Service, &s)["services"][0]["message"]["gc"]["status"], "complete");
    }
}
