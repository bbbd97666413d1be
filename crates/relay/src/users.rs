//! Customers the Cloud API names by their business-scoped user id
//! (`user_id`, e.g. `BR.1502576394655843`) and no phone number: since 2026 a
//! customer with a username may reach the business that way.
//!
//! On-Premises clients key everything on `wa_id`, a phone number's digits.
//! Such a customer gets a number-shaped `wa_id` of the relay's own: `999`
//! (a country code no number has) and 12 digits of a digest of the
//! `user_id`, kept in the store so that it never changes and never goes to
//! two customers. Their messages, statuses and chat carry it; a send to it
//! goes to Cloud by `recipient: user_id`. A customer whose number Cloud
//! does report keeps their real `wa_id`.

use std::sync::Arc;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use wabiz_domain::ports::{Store, StoreError};

/// How a relay-given `wa_id` starts, and its length.
const PREFIX: &str = "999";
const LEN: usize = 15;
/// Candidates tried before giving up (a clash needs a 12-digit collision).
const TRIES: u32 = 8;

/// Whether `wa_id` is one the relay gave (not a phone number).
pub fn is_relay_wa_id(wa_id: &str) -> bool {
    wa_id.len() == LEN && wa_id.starts_with(PREFIX) && wa_id.bytes().all(|b| b.is_ascii_digit())
}

/// The `try`-th candidate `wa_id` for `user_id`.
fn candidate(user_id: &str, attempt: u32) -> String {
    let d = Sha256::digest(format!("{attempt}:{user_id}").as_bytes());
    let mut n = [0_u8; 8];
    n.copy_from_slice(&d[..8]);
    format!("{PREFIX}{:012}", u64::from_be_bytes(n) % 1_000_000_000_000)
}

pub struct Users {
    pub store: Arc<dyn Store>,
}

impl Users {
    /// The `wa_id` of the customer `user_id` names, given now if it has none.
    pub async fn wa_id_for(&self, user_id: &str) -> Result<String, StoreError> {
        for attempt in 0..TRIES {
            if let Some(known) = self.store.wa_id_of_user(user_id).await? {
                return Ok(known);
            }
            let wa_id = candidate(user_id, attempt);
            if self.store.put_user_wa_id(&wa_id, user_id).await? {
                tracing::info!(wa_id = %wa_id, "relay: a customer known by user id only got a wa_id");
                return Ok(wa_id);
            }
        }
        Err(StoreError::Other(format!("no free wa_id for a user id after {TRIES} tries")))
    }

    /// Gives every customer a webhook names only by `user_id` their
    /// `wa_id`: in `contacts`, as a message's `from`, as a status's
    /// `recipient_id`.
    pub async fn fill(&self, doc: &mut Value) -> Result<(), StoreError> {
        let entries = doc["entry"].as_array().map_or(0, Vec::len);
        for e in 0..entries {
            let changes = doc["entry"][e]["changes"].as_array().map_or(0, Vec::len);
            for c in 0..changes {
                // Only objects are filled: indexing anything else to write would panic.
                if doc["entry"][e]["changes"][c]["value"].is_object() {
                    self.fill_value(&mut doc["entry"][e]["changes"][c]["value"]).await?;
                }
            }
        }
        Ok(())
    }

    async fn fill_value(&self, value: &mut Value) -> Result<(), StoreError> {
        let contacts = value["contacts"].as_array().map_or(0, Vec::len);
        for i in 0..contacts {
            if let Some(user) = missing(&value["contacts"][i], "wa_id", "user_id") {
                value["contacts"][i]["wa_id"] = json!(self.wa_id_for(&user).await?);
            }
        }
        // A message without a sender's user id is the one contact's.
        let only_contact =
            (contacts == 1).then(|| value["contacts"][0]["user_id"].as_str().map(str::to_owned)).flatten();
        let messages = value["messages"].as_array().map_or(0, Vec::len);
        for i in 0..messages {
            let m = &value["messages"][i];
            let sender_unknown = m.is_object() && m["from"].as_str().is_none_or(str::is_empty);
            let user =
                missing(m, "from", "from_user_id").or_else(|| sender_unknown.then(|| only_contact.clone()).flatten());
            if let Some(user) = user {
                value["messages"][i]["from"] = json!(self.wa_id_for(&user).await?);
            }
        }
        let statuses = value["statuses"].as_array().map_or(0, Vec::len);
        for i in 0..statuses {
            if let Some(user) = missing(&value["statuses"][i], "recipient_id", "recipient_user_id") {
                value["statuses"][i]["recipient_id"] = json!(self.wa_id_for(&user).await?);
            }
        }
        Ok(())
    }
}

/// The user id in `by` when the number in `key` is missing (only of an
/// object, which the caller then writes to).
fn missing(item: &Value, key: &str, by: &str) -> Option<String> {
    let absent = item.is_object() && item[key].as_str().is_none_or(str::is_empty);
    absent.then(|| item[by].as_str().map(str::to_owned)).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relay_wa_ids_are_number_shaped_and_never_a_phone_number() {
        let a = candidate("BR.1502576394655843", 0);
        assert!(is_relay_wa_id(&a), "{a}");
        assert_eq!(a, candidate("BR.1502576394655843", 0), "stable");
        assert_ne!(a, candidate("BR.1502576394655843", 1));
        assert_ne!(a, candidate("BR.1502576394655844", 0));
        assert!(!is_relay_wa_id("16315551234") && !is_relay_wa_id("99912345678901a"));
    }
}
