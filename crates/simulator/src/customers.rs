//! The simulated customers: how each behaves, chosen by its `wa_id` (the
//! magic numbers documented in the README), and what the answering ones say.

use serde_json::json;
use wabiz_domain::ports::{DueMessage, MessageRecord};

use crate::inbound::{InboundRequest, callback};

/// How a simulated customer behaves, chosen by its `wa_id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Customer {
    /// Every number not listed below: sent, delivered, read.
    Ordinary,
    /// `15550000001`: not a WhatsApp user; the message fails with 1013, never sent.
    NotOnWhatsApp,
    /// `15550000002`: sent, then fails with 1026 (receiver incapable).
    Incapable,
    /// `15550000003`: sent and delivered, never read.
    NeverReads,
    /// `15550000004`: delivered only after ten times the delivery delay (at least 5 s).
    Slow,
    /// `15550000005`: reads, then replies with the text it received (`Echo: …`).
    Echo,
    /// `15550000006`: reads, then replies with a canned text.
    AutoReply,
}

impl Customer {
    /// The behaviour's name, as `GET /simulator/customers` shows it.
    pub const fn name(self) -> &'static str {
        match self {
            Customer::Ordinary => "ordinary",
            Customer::NotOnWhatsApp => "not_on_whatsapp",
            Customer::Incapable => "incapable",
            Customer::NeverReads => "never_reads",
            Customer::Slow => "slow",
            Customer::Echo => "echo",
            Customer::AutoReply => "auto_reply",
        }
    }

    /// What a message to this customer does, in a sentence.
    pub const fn behaviour(self) -> &'static str {
        match self {
            Customer::Ordinary => "sent, delivered, read",
            Customer::NotOnWhatsApp => "not a WhatsApp user: the message fails with 1013, never sent",
            Customer::Incapable => "sent, then fails with 1026 (receiver incapable)",
            Customer::NeverReads => "sent and delivered, never read",
            Customer::Slow => "delivered only after ten times the delivery delay (at least 5 s)",
            Customer::Echo => "reads, then replies with the text it received",
            Customer::AutoReply => "reads, then replies with a canned text",
        }
    }
}

/// The magic numbers, as documented in the README.
pub const MAGIC_NUMBERS: &[(&str, Customer)] = &[
    ("15550000001", Customer::NotOnWhatsApp),
    ("15550000002", Customer::Incapable),
    ("15550000003", Customer::NeverReads),
    ("15550000004", Customer::Slow),
    ("15550000005", Customer::Echo),
    ("15550000006", Customer::AutoReply),
];

/// What the auto-replying customer says.
pub const AUTO_REPLY: &str = "Thanks for your message! This is an automatic reply from a simulated customer.";

pub fn customer(wa_id: &str) -> Customer {
    MAGIC_NUMBERS.iter().find(|(n, _)| *n == wa_id).map_or(Customer::Ordinary, |(_, c)| *c)
}

/// The reply a customer sends once it has read `due` (answering customers
/// only): a text quoting the message, from the customer to `business`.
pub fn reply_to(due: &DueMessage, business: &str, now_ms: i64) -> Option<MessageRecord> {
    let (text, name) = match customer(&due.peer) {
        Customer::Echo => {
            let body = serde_json::from_str::<serde_json::Value>(&due.content)
                .ok()
                .and_then(|c| c.get("body").and_then(serde_json::Value::as_str).map(str::to_owned));
            (format!("Echo: {}", body.unwrap_or_else(|| format!("[{}]", due.kind))), "Echo Customer")
        }
        Customer::AutoReply => (AUTO_REPLY.to_owned(), "Auto-reply Customer"),
        _ => return None,
    };
    let req = InboundRequest {
        from: due.peer.clone(),
        kind: "text".into(),
        object: json!({ "body": text }),
        media: None,
        profile_name: Some(name.into()),
        context: Some(json!({ "from": business, "id": due.id })),
    };
    let id = wabiz_domain::ids::inbound_message();
    let at = now_ms / 1000;
    let content = callback(&id, &due.peer, at, &req, req.object.clone());
    Some(MessageRecord::inbound(id, due.peer.clone(), "text".into(), content.to_string(), at).named(name))
}

#[cfg(test)]
mod tests {
    use wabiz_domain::messages::{Direction, MessageStatus};

    use super::*;

    fn delivered(peer: &str) -> DueMessage {
        crate::steps::tests::due(peer, MessageStatus::Delivered)
    }

    #[test]
    fn answering_customers_reply_once_read() {
        let echo = reply_to(&delivered("15550000005"), "16315550100", 9_000).unwrap();
        let cb: serde_json::Value = serde_json::from_str(&echo.content).unwrap();
        assert_eq!(cb["messages"][0]["text"]["body"], "Echo: hello");
        assert_eq!(cb["messages"][0]["context"], json!({"from": "16315550100", "id": "m"}));
        assert_eq!((echo.direction, echo.peer.as_str(), echo.created_at), (Direction::Inbound, "15550000005", 9));
        let auto = reply_to(&delivered("15550000006"), "1", 0).unwrap();
        assert!(auto.content.contains(AUTO_REPLY));
        assert!(reply_to(&delivered("16315551234"), "1", 0).is_none());
    }

    #[test]
    fn magic_numbers_choose_the_customer() {
        assert_eq!(customer("15550000003"), Customer::NeverReads);
        assert_eq!(customer("16315551234"), Customer::Ordinary);
    }
}
