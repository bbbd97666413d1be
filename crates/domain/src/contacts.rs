//! Contact checks (`POST /v1/contacts`, `contacts.md`) and phone-number
//! normalisation, which sending reuses.
//!
//! wabiz answers with the v2.43+ semantics: every well-formed number is
//! `valid` and its `wa_id` is its international digits; the check reveals
//! nothing about WhatsApp membership.

use std::str::FromStr;
use std::sync::{Arc, LazyLock};

use phonenumber::Mode;
use serde_json::{Map, Value, json};

use crate::callbacks::Outbox;
use crate::clock::Clock;
use crate::error::{ErrorCode, WaError};
use crate::network::Network;
use crate::ports::Store;
use crate::settings::SettingsService;

/// Most numbers accepted in one check (no documented maximum).
pub const MAX_CONTACTS: usize = 10_000;

/// The calling code of an international number given as digits (`"16315550100"` → 1).
pub fn country_code_of(wa_id: &str) -> Option<u16> {
    phonenumber::parse(None, format!("+{wa_id}")).ok().map(|n| n.code().value())
}

fn e164_digits(n: &phonenumber::PhoneNumber) -> String {
    phonenumber::format(n).mode(Mode::E164).to_string().trim_start_matches('+').to_owned()
}

/// Numbers normalised lately. Reading a number with libphonenumber runs
/// several regular expressions (per region of the business's calling code),
/// about 5 % of a send's CPU; integrations send to the same customers again
/// and again. The answer depends only on the text and the calling code.
static NORMALIZED: LazyLock<NormalizedCache> = LazyLock::new(|| moka::sync::Cache::new(100_000));

/// (number as written, business calling code) → `wa_id`.
type NormalizedCache = moka::sync::Cache<(Box<str>, Option<u16>), Option<Arc<str>>>;

/// The `wa_id` of a phone number written any common way, or `None` when it
/// cannot be one. A number written without its country code is read in the
/// business's country (`business_cc`).
pub fn normalize(input: &str, business_cc: Option<u16>) -> Option<String> {
    let key = (Box::from(input), business_cc);
    if let Some(hit) = NORMALIZED.get(&key) {
        return hit.as_deref().map(str::to_owned);
    }
    let wa_id = normalize_uncached(input, business_cc);
    NORMALIZED.insert(key, wa_id.as_deref().map(Arc::from));
    wa_id
}

fn normalize_uncached(input: &str, business_cc: Option<u16>) -> Option<String> {
    let trimmed = input.trim();
    if trimmed.is_empty() || trimmed.chars().any(|c| c.is_alphabetic()) {
        return None;
    }
    let digits: String = trimmed.chars().filter(char::is_ascii_digit).collect();
    let international = trimmed.starts_with('+') || digits.starts_with("00");
    let digits = if !trimmed.starts_with('+') && digits.starts_with("00") { digits[2..].to_owned() } else { digits };
    if !(5..=15).contains(&digits.len()) {
        return None;
    }
    if international {
        return Some(digits);
    }
    // Written nationally in the business's country? (libphonenumber knows the
    // trunk prefixes and lengths.)
    if let Some(cc) = business_cc {
        let regions = phonenumber::metadata::DATABASE.by_code(&cc).unwrap_or_default();
        for meta in regions {
            if let Ok(region) = phonenumber::country::Id::from_str(meta.id())
                && let Ok(n) = phonenumber::parse(Some(region), &digits)
                && n.code().value() == cc
                && phonenumber::is_valid(&n)
            {
                return Some(e164_digits(&n));
            }
        }
    }
    // A complete international number without its '+'.
    if let Ok(n) = phonenumber::parse(None, format!("+{digits}"))
        && phonenumber::is_valid(&n)
    {
        return Some(e164_digits(&n));
    }
    // Neither is certain: a number that already starts with the business's
    // code is taken as international, anything else gets the code prepended.
    match business_cc.map(|c| c.to_string()) {
        Some(cc) if !digits.starts_with(&cc) && digits.len() + cc.len() <= 15 => Some(format!("{cc}{digits}")),
        _ => Some(digits),
    }
}

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
pub fn check(req: &CheckRequest, business_cc: Option<u16>) -> Vec<Value> {
    req.contacts
        .iter()
        .map(|input| match normalize(input, business_cc) {
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
}

impl ContactsService {
    pub fn new(
        store: Arc<dyn Store>,
        network: Arc<dyn Network>,
        settings: Arc<SettingsService>,
        clock: Arc<dyn Clock>,
        legacy: bool,
    ) -> Self {
        Self { store, network, settings, clock, legacy, outbox: None }
    }

    /// Reports background check results by webhook.
    pub fn with_outbox(mut self, outbox: Outbox) -> Self {
        self.outbox = Some(outbox);
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
        let req = parse_check(body)?;
        if self.network.registered_number().is_none() {
            return Err(WaError::new(ErrorCode::ServiceNotReady, "Service not ready"));
        }
        let cc = self.network.registered_country_code();
        if !self.legacy {
            return Ok(check(&req, cc));
        }
        let mut answers = Vec::with_capacity(req.contacts.len());
        let mut fresh: Vec<(String, String)> = Vec::new();
        let mut later: Vec<(String, String)> = Vec::new();
        for input in &req.contacts {
            let Some(wa_id) = normalize(input, cc) else {
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

    /// Legacy mode's rule for sends (pre-v2.39): the recipient must have been
    /// checked `valid`, unless it wrote to the business first.
    pub async fn send_gate(&self, wa_id: &str) -> Result<(), WaError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_remembered_answer_is_the_same_answer() {
        for (input, cc) in
            [("6315551234", Some(1)), ("+49 30 1234567", Some(1)), ("abc", None), ("0049301234567", Some(44))]
        {
            let first = normalize(input, cc);
            assert_eq!(first, normalize_uncached(input, cc), "{input}");
            assert_eq!(normalize(input, cc), first, "{input}");
        }
        // The calling code is part of the key.
        assert_ne!(normalize("6315551234", Some(1)), normalize("6315551234", Some(49)));
    }

    #[test]
    fn normalisation() {
        let us = Some(1);
        assert_eq!(normalize("+1 (516) 283-7151", us).as_deref(), Some("15162837151"));
        assert_eq!(normalize("16315551000", us).as_deref(), Some("16315551000"));
        assert_eq!(normalize("+1 631 555 1001", us).as_deref(), Some("16315551001"));
        assert_eq!(normalize("6315551002", us).as_deref(), Some("16315551002"));
        assert_eq!(normalize("+1 (631) 555-1004", us).as_deref(), Some("16315551004"));
        assert_eq!(normalize("1-631-555-1005", us).as_deref(), Some("16315551005"));
        assert_eq!(normalize("5511987654321", us).as_deref(), Some("5511987654321"), "a Brazilian mobile");
        assert_eq!(normalize("004915112345678", us).as_deref(), Some("4915112345678"));
        assert_eq!(normalize("015112345678", Some(49)).as_deref(), Some("4915112345678"), "German national form");
        for bad in ["", "abc", "+1 631 CALL-NOW", "123", "+1234567890123456"] {
            assert_eq!(normalize(bad, us), None, "{bad}");
        }
        assert_eq!(country_code_of("16315550100"), Some(1));
        assert_eq!(country_code_of("4915112345678"), Some(49));
    }

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
