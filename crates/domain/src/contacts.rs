//! Contact checks (`POST /v1/contacts`, `contacts.md`); the numbers are read
//! by `crate::phone`.
//!
//! wabiz answers with the v2.43+ semantics: every well-formed number is
//! `valid` and its `wa_id` is its international digits; the check reveals
//! nothing about WhatsApp membership.

use std::sync::Arc;

use serde_json::{Map, Value, json};

use crate::callbacks::Outbox;
use crate::clock::Clock;
use crate::error::{ErrorCode, WaError};
use crate::events::{Event, EventBus};
use crate::network::Network;
use crate::ports::Store;
use crate::settings::SettingsService;

/// Most numbers accepted in one check (no documented maximum).
pub const MAX_CONTACTS: usize = 10_000;

/// The checked request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckRequest {
    pub contacts: Vec<String>,
    pub wait: bool,
    pub force_check: bool,
}

/// Validates a `POST /v1/contacts` body (the Webapp's checks and wording).
pub fn parse_check(body: &Map<String, Value>) -> Result<CheckRequest, WaError> {
    let contacts = match body.get("contacts") {
        None | Some(Value::Null) => return Err(WaError::missing_parameter("contacts")),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(WaError::invalid("Contacts field has to be an array")),
    };
    if contacts.is_empty() {
        return Err(WaError::invalid("Contacts field must have atleast one entry"));
    }
    if contacts.len() > MAX_CONTACTS {
        return Err(WaError::invalid(format!("At most {MAX_CONTACTS} contacts can be checked in one call")));
    }
    let wait = match body.get("blocking") {
        None | Some(Value::Null) => false,
        Some(Value::String(b)) if b == "wait" => true,
        Some(Value::String(b)) if b == "no_wait" => false,
        Some(other) => {
            return Err(WaError::invalid_json_value("blocking", other));
        }
    };
    let force_check = match body.get("force_check") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => return Err(WaError::invalid_value("force_check", &other.to_string())),
    };
    let contacts = contacts
        .iter()
        .map(|c| match c {
            Value::String(s) => Ok(s.clone()),
            other => Err(WaError::new(
                ErrorCode::ParameterValueNotValid,
                format!("Parameter 'contacts' has invalid value '{other}'"),
            )),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(CheckRequest { contacts, wait, force_check })
}

/// The answer for each number, in order: `valid` with its `wa_id`, or
/// `invalid` for what cannot be a phone number.
pub fn check(req: &CheckRequest, network: &dyn Network) -> Vec<Value> {
    req.contacts
        .iter()
        .map(|input| match network.wa_id_for_input(input) {
            Some(wa_id) => json!({ "input": input, "status": "valid", "wa_id": wa_id }),
            None => json!({ "input": input, "status": "invalid" }),
        })
        .collect()
}

/// How long a legacy check result is reused (Meta: 7 days).
pub const CACHE_SECS: i64 = 7 * 24 * 3600;

/// Contact checks, in the v2.43+ mode (default) or the legacy one
/// (`--contacts-legacy-validation`: real answers, a 7-day cache, `force_check`,
/// `processing` for unchecked numbers in `no_wait` calls).
pub struct ContactsService {
    store: Arc<dyn Store>,
    network: Arc<dyn Network>,
    settings: Arc<SettingsService>,
    clock: Arc<dyn Clock>,
    legacy: bool,
    /// Where background results (`no_wait` checks) are reported.
    outbox: Option<Outbox>,
    /// Where each check is told.
    events: Option<Arc<EventBus>>,
}

impl ContactsService {
    pub fn new(
        store: Arc<dyn Store>,
        network: Arc<dyn Network>,
        settings: Arc<SettingsService>,
        clock: Arc<dyn Clock>,
        legacy: bool,
    ) -> Self {
        Self { store, network, settings, clock, legacy, outbox: None, events: None }
    }

    /// Reports background check results by webhook.
    pub fn with_outbox(mut self, outbox: Outbox) -> Self {
        self.outbox = Some(outbox);
        self
    }

    /// Publishes every check.
    pub fn with_events(mut self, events: Arc<EventBus>) -> Self {
        self.events = Some(events);
        self
    }

    pub fn legacy(&self) -> bool {
        self.legacy
    }

    /// A fresh cached result for `wa_id`, if any.
    async fn cached(&self, wa_id: &str) -> Result<Option<String>, WaError> {
        let now = self.clock.now_unix();
        Ok(self.store.get_contact(wa_id).await?.filter(|(_, at)| now - at <= CACHE_SECS).map(|(status, _)| status))
    }

    /// `POST /v1/contacts`.
    pub async fn check(&self, body: &Map<String, Value>) -> Result<Vec<Value>, WaError> {
        let answers = self.check_numbers(body).await?;
        if let Some(events) = &self.events {
            events.publish_with(|| {
                answers
                    .iter()
                    .map(|a| Event::ContactCheck {
                        input: a["input"].as_str().unwrap_or_default().to_owned(),
                        wa_id: a["wa_id"].as_str().map(str::to_owned),
                        status: match a["status"].as_str() {
                            Some("valid") => "valid",
                            Some("processing") => "processing",
                            _ => "invalid",
                        },
                    })
                    .collect()
            });
        }
        Ok(answers)
    }

    async fn check_numbers(&self, body: &Map<String, Value>) -> Result<Vec<Value>, WaError> {
        let req = parse_check(body)?;
        if self.network.registered_number().is_none() {
            return Err(WaError::new(ErrorCode::ServiceNotReady, "Service not ready"));
        }
        if !self.legacy {
            return Ok(check(&req, self.network.as_ref()));
        }
        let mut answers = Vec::with_capacity(req.contacts.len());
        let mut fresh: Vec<(String, String)> = Vec::new();
        let mut later: Vec<(String, String)> = Vec::new();
        for input in &req.contacts {
            let Some(wa_id) = self.network.wa_id_for_input(input) else {
                answers.push(json!({ "input": input, "status": "invalid" }));
                continue;
            };
            let known = if req.force_check { None } else { self.cached(&wa_id).await? };
            let status = match known {
                Some(status) => status,
                None if req.wait => {
                    let status = if self.network.is_whatsapp_user(&wa_id) { "valid" } else { "invalid" };
                    fresh.push((wa_id.clone(), status.to_owned()));
                    status.to_owned()
                }
                None => {
                    later.push((input.clone(), wa_id.clone()));
                    "processing".to_owned()
                }
            };
            answers.push(match status.as_str() {
                "valid" => json!({ "input": input, "status": "valid", "wa_id": wa_id }),
                other => json!({ "input": input, "status": other }),
            });
        }
        // Background results are delivered by webhook: without a URL there is
        // nowhere to deliver them.
        if !later.is_empty() && self.settings.current().webhooks.url.is_none() {
            return Err(WaError::new(ErrorCode::WebhooksUrlNotConfigured, "Webhooks URL is not configured"));
        }
        if !fresh.is_empty() {
            self.store.put_contacts(fresh, self.clock.now_unix()).await?;
        }
        if !later.is_empty() {
            let results: Vec<(String, String, String)> = later
                .into_iter()
                .map(|(input, w)| {
                    let status = if self.network.is_whatsapp_user(&w) { "valid" } else { "invalid" };
                    (input, w, status.to_owned())
                })
                .collect();
            // The check itself is instant on the simulated network; it is stored
            // now and answered from the cache from the next call on, and its
            // result goes out by webhook (`webhooks.md` §6).
            let cache = results.iter().map(|(_, w, s)| (w.clone(), s.clone())).collect();
            self.store.put_contacts(cache, self.clock.now_unix()).await?;
            if let Some(outbox) = &self.outbox {
                let policy = outbox.policy();
                let now = self.clock.now_millis();
                let callbacks: Vec<_> = results
                    .iter()
                    .filter_map(|(input, w, s)| Outbox::contact_result(&policy, input, w, s, now))
                    .collect();
                if !callbacks.is_empty() {
                    self.store.enqueue_callbacks(callbacks).await?;
                    outbox.stored();
                }
            }
        }
        Ok(answers)
    }

    /// What a send to `wa_id` must pass: with `show_security_notifications`,
    /// an identity change acknowledged (400/1028 until it is, `contacts.md`
    /// §4); in legacy mode (pre-v2.39), a recipient checked `valid`, unless it
    /// wrote to the business first.
    pub async fn send_gate(&self, wa_id: &str) -> Result<(), WaError> {
        // Read only with the setting on: a send costs no lookup otherwise.
        if self.settings.current().show_security_notifications
            && self.store.get_identity(wa_id).await?.is_some_and(|i| !i.acknowledged)
        {
            return Err(WaError::new(
                ErrorCode::IdentityChangeAckRequired,
                format!("The identity of {wa_id} changed; acknowledge it with PUT /v1/contacts/{wa_id}/identity"),
            ));
        }
        if !self.legacy || self.store.last_inbound_at(wa_id).await?.is_some() {
            return Ok(());
        }
        match self.cached(wa_id).await?.as_deref() {
            Some("valid") => Ok(()),
            Some(_) => Err(WaError::new(ErrorCode::UserNotValid, "User is not valid")),
            None => Err(WaError::not_found("unknown contact")),
        }
    }
}

impl ContactsService {
    /// `GET /v1/contacts/{wa_id}/identity`: the customer's identity as last
    /// recorded (404/1006 for a customer whose identity never changed here).
    pub async fn identity(&self, wa_id: &str) -> Result<Value, WaError> {
        let identity = self.recorded_identity(wa_id).await?;
        Ok(json!({ "identity": [ { "hash": identity.hash, "created_timestamp": identity.created_at } ] }))
    }

    /// `PUT /v1/contacts/{wa_id}/identity` with `{"hash": …}`: acknowledges
    /// the current identity; a hash that is not the current one → 400/1009.
    pub async fn acknowledge_identity(&self, wa_id: &str, body: &Map<String, Value>) -> Result<(), WaError> {
        let hash = match body.get("hash") {
            None | Some(Value::Null) => return Err(WaError::missing_parameter("hash")),
            Some(Value::String(h)) => h.clone(),
            Some(other) => return Err(WaError::invalid_json_value("hash", other)),
        };
        let identity = self.recorded_identity(wa_id).await?;
        if self.store.acknowledge_identity(&identity.wa_id, &hash).await? {
            Ok(())
        } else {
            Err(WaError::invalid_value("hash", &hash))
        }
    }

    async fn recorded_identity(&self, wa_id: &str) -> Result<crate::ports::IdentityRecord, WaError> {
        let unknown = || WaError::not_found(format!("No identity recorded for {wa_id}"));
        let resolved = self.network.wa_id_for_input(wa_id).ok_or_else(unknown)?;
        self.store.get_identity(&resolved).await?.ok_or_else(unknown)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_validation() {
        let body = |v: Value| v.as_object().cloned().unwrap();
        let details = |r: Result<CheckRequest, WaError>| r.unwrap_err().errors[0].details.clone().unwrap().into_owned();
        assert_eq!(details(parse_check(&body(json!({})))), "Missing mandatory parameter 'contacts'");
        assert_eq!(details(parse_check(&body(json!({"contacts": "1631"})))), "Contacts field has to be an array");
        assert_eq!(details(parse_check(&body(json!({"contacts": []})))), "Contacts field must have atleast one entry");
        assert_eq!(
            details(parse_check(&body(json!({"contacts": ["1"], "blocking": "maybe"})))),
            "Parameter 'blocking' has invalid value 'maybe'"
        );
        assert!(parse_check(&body(json!({"contacts": ["1"], "force_check": "yes"}))).is_err());
        let ok = parse_check(&body(json!({"contacts": ["1", "2"], "blocking": "wait", "force_check": true}))).unwrap();
        assert!(ok.wait && ok.force_check && ok.contacts.len() == 2);
    }
}
