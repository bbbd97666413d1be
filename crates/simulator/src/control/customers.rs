//! What simulated customers do on their own: write to the business (in a
//! chat or a group), move to a new number, get a new security code, delete
//! a message they sent, join a group by its invite link.

use serde_json::{Map, Value, json};
use wabiz_domain::WaError;
use wabiz_domain::callbacks::{NewCallback, Outbox};
use wabiz_domain::error::ErrorCode;
use wabiz_domain::events::Event;
use wabiz_domain::messages::Direction;
use wabiz_domain::ports::{IdentityRecord, MessageRecord};

use super::SimulatorControl;
use crate::inbound;

impl SimulatorControl {
    /// Stores a customer's message (system messages included) with its
    /// callback, wakes the webhook engine and tells the event stream.
    async fn store_customer_message(
        &self,
        record: &MessageRecord,
        callback: Option<NewCallback>,
    ) -> Result<(), WaError> {
        self.store.insert_message(record, callback.as_slice()).await?;
        self.outbox.stored();
        self.events.publish_with(|| {
            vec![Event::MessageInbound { id: record.id.clone(), wa_id: record.peer.clone(), kind: record.kind.clone() }]
        });
        Ok(())
    }

    /// `POST /simulator/inbound`: a customer writes to the business. Media is
    /// stored first; the message is stored in its callback shape, with its
    /// callback. Answers the new message's id.
    pub async fn receive(&self, body: &Map<String, Value>) -> Result<String, WaError> {
        self.receive_as(body, wabiz_domain::ids::inbound_message()).await
    }

    /// A customer's message with the id `id` (generated traffic makes its own).
    pub(crate) async fn receive_as(&self, body: &Map<String, Value>, id: String) -> Result<String, WaError> {
        let req = inbound::parse(body)?;
        let own = self.business_number()?;
        let wa_id = self.network.wa_id_for_input(&req.from).ok_or_else(|| WaError::invalid_value("from", &req.from))?;
        if wa_id == own {
            return Err(WaError::new(ErrorCode::BadUser, "A customer cannot have the business's own number"));
        }
        let object = match &req.media {
            None => req.object.clone(),
            Some(m) => {
                let record = self.media.store_bytes(&m.bytes, &m.mime_type, "inbound", m.filename.clone()).await?;
                let mut o = json!({ "id": record.id, "mime_type": record.mime_type, "sha256": record.sha256 });
                if self.outbox.auto_downloads(&req.kind)
                    && let Some(file) = self.media.location(&record.id)
                {
                    o["file"] = json!(file);
                }
                if let Some(c) = &m.caption {
                    o["caption"] = json!(c);
                }
                if let Some(f) = &m.filename {
                    o["filename"] = json!(f);
                }
                o
            }
        };
        // A customer writing in a group must be one of its participants.
        let group_id = match body.get("group_id") {
            None | Some(Value::Null) => None,
            Some(Value::String(g)) => {
                let group = self.groups.known(g).await?;
                if !group.participants.contains(&wa_id) {
                    return Err(WaError::new(
                        ErrorCode::NotGroupParticipant,
                        format!("{wa_id} is not a participant of group {g}"),
                    ));
                }
                Some(g.clone())
            }
            Some(other) => return Err(WaError::invalid_json_value("group_id", other)),
        };
        let now = self.clock.now_unix();
        let mut content = inbound::callback(&id, &wa_id, now, &req, object);
        if let Some(g) = &group_id {
            content["messages"][0]["group_id"] = json!(g);
        }
        // With security notifications on, a customer whose identity changed
        // here shows it on each message (`webhooks.md` §3, `identity`); the
        // lookup is made only then.
        if self.outbox.settings().show_security_notifications
            && let Some(identity) = self.store.get_identity(&wa_id).await?
        {
            content["messages"][0]["identity"] = json!({
                "acknowledged": identity.acknowledged, "created_timestamp": identity.created_at, "hash": identity.hash,
            });
        }
        let name = inbound::shown_name(&req, &wa_id);
        let record = MessageRecord::inbound(id.clone(), wa_id, req.kind.clone(), content.to_string(), now)
            .in_group(group_id)
            .named(name);
        let callback = Outbox::inbound(&self.outbox.policy(), &content, self.clock.now_millis());
        self.store_customer_message(&record, callback).await?;
        Ok(id)
    }

    /// `POST /simulator/customers/{wa_id}/change-number`: a customer moves to
    /// a new number. Stored as a system message; its callback (no `contacts`)
    /// goes out only with `notify_user_change_number` (`webhooks.md` §3).
    pub async fn change_number(&self, wa_id: &str, body: &Map<String, Value>) -> Result<String, WaError> {
        let old = self
            .network
            .wa_id_for_input(wa_id)
            .ok_or_else(|| WaError::not_found(format!("Customer {wa_id} not found")))?;
        let new = match body.get("new_wa_id") {
            None | Some(Value::Null) => return Err(WaError::missing_parameter("new_wa_id")),
            Some(Value::String(n)) => {
                self.network.wa_id_for_input(n).ok_or_else(|| WaError::invalid_value("new_wa_id", n))?
            }
            Some(other) => return Err(WaError::invalid_json_value("new_wa_id", other)),
        };
        if new == old {
            return Err(WaError::invalid("The new number is the customer's current number"));
        }
        let id = wabiz_domain::ids::inbound_message();
        let now = self.clock.now_unix();
        let content = json!({ "messages": [{
            "from": old, "id": id, "timestamp": now.to_string(), "type": "system",
            "system": { "type": "user_changed_number", "body": format!("User {old} changed from {old} to {new}"), "new_wa_id": new },
        }]});
        let record = MessageRecord::inbound(id.clone(), old, "system".into(), content.to_string(), now);
        let callback = if self.outbox.settings().notify_user_change_number {
            Outbox::inbound(&self.outbox.policy(), &content, self.clock.now_millis())
        } else {
            None
        };
        self.store_customer_message(&record, callback).await?;
        Ok(id)
    }

    /// `POST /simulator/customers/{wa_id}/change-identity`: the customer's
    /// security code changes (a new phone, a reinstall). The new identity is
    /// recorded unacknowledged; with `show_security_notifications` the business
    /// hears of it by a `user_identity_changed` system message and cannot send
    /// to the customer until it acknowledges (`contacts.md` §4, `webhooks.md`
    /// §3). Answers the system message's id and the new identity.
    pub async fn change_identity(&self, wa_id: &str) -> Result<(String, IdentityRecord), WaError> {
        let customer = self
            .network
            .wa_id_for_input(wa_id)
            .ok_or_else(|| WaError::not_found(format!("Customer {wa_id} not found")))?;
        let mut raw = [0u8; 8];
        getrandom::fill(&mut raw).map_err(|e| WaError::internal(format!("no randomness: {e}")))?;
        use base64::Engine as _;
        let hash = base64::engine::general_purpose::STANDARD.encode(raw);
        let now_ms = self.clock.now_millis();
        let identity =
            IdentityRecord { wa_id: customer.clone(), hash: hash.clone(), created_at: now_ms, acknowledged: false };
        self.store.put_identity(&identity).await?;
        let id = wabiz_domain::ids::inbound_message();
        let content = json!({ "messages": [{
            "from": customer, "id": id, "timestamp": (now_ms / 1000).to_string(), "type": "system",
            "system": { "type": "user_identity_changed", "body": format!("{customer}'s security code changed"), "identity": hash },
            "identity": { "acknowledged": false, "created_timestamp": now_ms, "hash": hash },
        }]});
        let record = MessageRecord::inbound(id.clone(), customer, "system".into(), content.to_string(), now_ms / 1000);
        let callback = if self.outbox.settings().show_security_notifications {
            Outbox::inbound(&self.outbox.policy(), &content, now_ms)
        } else {
            None
        };
        self.store_customer_message(&record, callback).await?;
        Ok((id, identity))
    }

    /// `POST /simulator/messages/{id}/delete`: the customer deletes a message
    /// they sent; the business hears of it by a `deleted` status.
    pub async fn delete_message(&self, id: &str) -> Result<(), WaError> {
        let Some(m) = self.store.get_message(id).await? else {
            return Err(WaError::not_found(format!("Message {id} not found")));
        };
        if m.direction != Direction::Inbound || m.kind == "system" {
            return Err(WaError::invalid("Only a message the customer sent can be deleted by the customer"));
        }
        let now = self.clock.now_millis();
        if let Some(cb) = Outbox::deleted(&self.outbox.policy(), id, &m.peer, now / 1000, now) {
            self.store.enqueue_callbacks(vec![cb]).await?;
            self.outbox.stored();
        }
        Ok(())
    }

    /// `POST /simulator/groups/join`: a customer joins a group through its
    /// invite link; answers the group's id.
    pub async fn join_group(&self, body: &Map<String, Value>) -> Result<String, WaError> {
        self.groups.join(body).await
    }
}
