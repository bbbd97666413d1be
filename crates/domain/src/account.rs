//! Registration and shards (`/v1/account*`, `registration.md` §1–§3). The
//! checks the Webapp made come first and are all reported together; the ones
//! its Coreapp made follow; the network backend does the rest (codes, state).

use std::sync::Arc;

use base64::Engine as _;
use serde_json::{Map, Value};

use crate::error::{ErrorCode, Problems, WaError, shown};
use crate::events::{Event, EventBus};
use crate::network::{CodeRequest, Network};
use crate::ports::Store;
use crate::settings::SettingsService;

/// Meta key of the shard count.
use crate::cluster::SHARDS_META;
/// The shard counts the API accepts.
pub const SHARD_COUNTS: [u64; 6] = [1, 2, 4, 8, 16, 32];

/// What `POST /v1/account` answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistrationAnswer {
    /// 201: this number is already registered here.
    AlreadyRegistered,
    /// 202: a code is on its way; `vname` is the verified name in the certificate.
    CodeSent { vname: String },
}

pub struct AccountService {
    network: Arc<dyn Network>,
    settings: Arc<SettingsService>,
    store: Arc<dyn Store>,
    events: Option<Arc<EventBus>>,
}

/// Meta's answer to registration after the On-Premises sunset.
fn sunset() -> WaError {
    WaError::forbidden("Unknown error: biz_link_on_prem_reg_blocked")
}

fn not_ready() -> WaError {
    WaError::new(ErrorCode::ServiceNotReady, "Service not ready")
}

fn present<'a>(body: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    // The Webapp treats an empty string like an absent parameter.
    body.get(key).filter(|v| !v.is_null() && v.as_str() != Some(""))
}

/// A string of ASCII digits whose length is within `len`.
fn digits<'a>(p: &mut Problems, name: &str, v: &'a Value, len: std::ops::RangeInclusive<usize>) -> Option<&'a str> {
    match v.as_str() {
        Some(s) if len.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()) => Some(s),
        _ => {
            p.push(WaError::invalid_value(name, &shown(v)));
            None
        }
    }
}

impl AccountService {
    pub fn new(network: Arc<dyn Network>, settings: Arc<SettingsService>, store: Arc<dyn Store>) -> Self {
        Self { network, settings, store, events: None }
    }

    /// Publishes registration changes.
    pub fn with_events(mut self, events: Arc<EventBus>) -> Self {
        self.events = Some(events);
        self
    }

    fn registration_changed(&self) {
        if let Some(events) = &self.events {
            events.publish(Event::RegistrationChanged {
                wa_id: self.network.registered_number(),
                gateway_status: self.network.gateway_status().as_str(),
            });
        }
    }

    /// Checks a two-step PIN where one is required.
    async fn check_pin(&self, body: &Map<String, Value>) -> Result<(), WaError> {
        if !self.settings.two_step_enabled().await? {
            return Ok(());
        }
        match body.get("pin") {
            None | Some(Value::Null) => Err(WaError::missing_parameter("pin")),
            Some(Value::String(pin)) if self.settings.verify_pin(pin).await? => Ok(()),
            Some(_) => Err(WaError::forbidden("Invalid PIN")),
        }
    }

    /// `POST /v1/account`: request a registration code.
    pub async fn request_code(&self, body: &Map<String, Value>) -> Result<RegistrationAnswer, WaError> {
        // After Meta's sunset every registration is refused, whatever it says.
        if self.network.registration_sunset() {
            return Err(sunset());
        }
        // The Webapp's presence checks, all reported together.
        let mut p = Problems::new();
        for key in ["cc", "phone_number", "method"] {
            if present(body, key).is_none() {
                p.push(WaError::missing_parameter(key));
            }
        }
        let cert = match (present(body, "cert"), present(body, "vname_cert")) {
            (None, None) => {
                p.push(WaError::missing_parameter_of(&["cert", "vname_cert"]));
                None
            }
            (Some(_), Some(_)) => {
                p.push(WaError::exactly_one_of(&["cert", "vname_cert"]));
                None
            }
            (Some(c), None) | (None, Some(c)) => Some(c),
        };
        let wipe = match present(body, "reset") {
            None => false,
            Some(Value::String(r)) if r == "wipe" => true,
            Some(other) => {
                p.push(WaError::invalid_value("reset", &shown(other)));
                false
            }
        };
        if wipe && present(body, "pin").is_some() {
            p.push(WaError::new(ErrorCode::ParameterNotRequired, "Parameter 'pin' is not required for reset 'wipe'"));
        }
        p.into_result()?;

        // The Coreapp's value checks.
        let mut p = Problems::new();
        let cc = body.get("cc").and_then(|v| digits(&mut p, "cc", v, 1..=3));
        let phone = body.get("phone_number").and_then(|v| digits(&mut p, "phone_number", v, 4..=15));
        let method = match body.get("method").and_then(Value::as_str) {
            Some(m @ ("sms" | "voice")) => Some(m),
            _ => {
                p.push(WaError::invalid_value("method", &body.get("method").map(shown).unwrap_or_default()));
                None
            }
        };
        let vname = match cert.map(|c| (c, c.as_str())) {
            Some((_, Some(text))) => match base64::engine::general_purpose::STANDARD.decode(text.trim()) {
                Ok(raw) => Some(verified_name(&raw)),
                Err(_) => {
                    p.push(WaError::invalid("Invalid cert"));
                    None
                }
            },
            _ => {
                p.push(WaError::invalid("Invalid cert"));
                None
            }
        };
        p.into_result()?;
        let (Some(cc), Some(phone), Some(method), Some(vname)) = (cc, phone, method, vname) else {
            return Err(WaError::invalid("Invalid registration request"));
        };
        if !wipe {
            self.check_pin(body).await?;
        }
        let number = format!("{cc}{phone}");
        let answer = match self.network.request_code(&number, method, wipe).await? {
            CodeRequest::AlreadyRegistered => RegistrationAnswer::AlreadyRegistered,
            CodeRequest::CodeSent => RegistrationAnswer::CodeSent { vname },
        };
        self.registration_changed();
        Ok(answer)
    }

    /// `POST /v1/account/verify`: completes a registration.
    pub async fn verify(&self, body: &Map<String, Value>) -> Result<(), WaError> {
        let code = match present(body, "code") {
            None => return Err(WaError::missing_parameter("code")),
            Some(Value::String(c)) => c,
            Some(other) => return Err(WaError::invalid_value("code", &shown(other))),
        };
        // "123-456" is how the code is often written down.
        let cleaned: String = code.chars().filter(|c| *c != '-').collect();
        if cleaned.len() != 6 || !cleaned.bytes().all(|b| b.is_ascii_digit()) {
            return Err(WaError::invalid_value("code", code));
        }
        self.network.verify_code(&cleaned).await?;
        self.registration_changed();
        Ok(())
    }

    /// `GET /v1/account/shards`.
    pub async fn shards(&self) -> Result<u64, WaError> {
        let stored = self.store.get_meta(SHARDS_META).await?;
        Ok(stored.and_then(|s| s.parse().ok()).unwrap_or(1))
    }

    /// `POST /v1/account/shards`.
    pub async fn set_shards(&self, body: &Map<String, Value>) -> Result<(), WaError> {
        if self.network.registration_sunset() {
            return Err(sunset());
        }
        let mut p = Problems::new();
        for key in ["cc", "phone_number", "shards"] {
            if present(body, key).is_none() {
                p.push(WaError::missing_parameter(key));
            }
        }
        if present(body, "cert").is_none() {
            p.push(WaError::missing_parameter("cert"));
        }
        p.into_result()?;
        let mut p = Problems::new();
        let shards = match body.get("shards").and_then(Value::as_u64) {
            Some(n) if SHARD_COUNTS.contains(&n) => Some(n),
            _ => {
                p.push(WaError::invalid_value("shards", &body.get("shards").map(shown).unwrap_or_default()));
                None
            }
        };
        let cc = body.get("cc").and_then(|v| digits(&mut p, "cc", v, 1..=3));
        let phone = body.get("phone_number").and_then(|v| digits(&mut p, "phone_number", v, 4..=15));
        if body
            .get("cert")
            .and_then(Value::as_str)
            .is_none_or(|c| base64::engine::general_purpose::STANDARD.decode(c.trim()).is_err())
        {
            p.push(WaError::invalid("Invalid cert"));
        }
        p.into_result()?;
        let (Some(shards), Some(cc), Some(phone)) = (shards, cc, phone) else {
            return Err(WaError::invalid("Invalid shards request"));
        };
        let Some(registered) = self.network.registered_number() else { return Err(not_ready()) };
        if registered != format!("{cc}{phone}") {
            return Err(WaError::invalid("The number is not the registered number"));
        }
        self.check_pin(body).await?;
        self.store.put_meta(SHARDS_META, &shards.to_string()).await?;
        Ok(())
    }
}

/// The verified name inside a `VerifiedNameCertificate` (protobuf: field 1,
/// `details`, holds a message whose field 4 is the name). Anything that does
/// not parse gives `""`; the layout is not confirmed by the sources.
pub fn verified_name(cert: &[u8]) -> String {
    field(cert, 1)
        .and_then(|details| field(details, 4))
        .and_then(|n| std::str::from_utf8(n).ok())
        .unwrap_or("")
        .to_owned()
}

/// The first length-delimited field `wanted` of a protobuf message.
fn field(mut buf: &[u8], wanted: u64) -> Option<&[u8]> {
    fn varint(buf: &mut &[u8]) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let (&b, rest) = buf.split_first()?;
            *buf = rest;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    }
    while !buf.is_empty() {
        let key = varint(&mut buf)?;
        let (number, wire) = (key >> 3, key & 7);
        match wire {
            0 => {
                varint(&mut buf)?;
            }
            1 => buf = buf.get(8..)?,
            5 => buf = buf.get(4..)?,
            2 => {
                let len = usize::try_from(varint(&mut buf)?).ok()?;
                let (value, rest) = (buf.get(..len)?, buf.get(len..)?);
                if number == wanted {
                    return Some(value);
                }
                buf = rest;
            }
            _ => return None,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ld(field: u8, bytes: &[u8]) -> Vec<u8> {
        let mut v = vec![(field << 3) | 2, u8::try_from(bytes.len()).unwrap()];
        v.extend_from_slice(bytes);
        v
    }

    #[test]
    fn verified_name_is_read_from_the_certificate() {
        let mut details = vec![0x08, 0x96, 0x01]; // serial = 150 (a varint field)
        details.extend(ld(2, b"smb:wa"));
        details.extend(ld(4, b"Acme Shop"));
        let mut cert = ld(1, &details);
        cert.extend(ld(2, &[0xaa; 64])); // signature
        assert_eq!(verified_name(&cert), "Acme Shop");
        assert_eq!(verified_name(b"not protobuf at all"), "");
        assert_eq!(verified_name(&[]), "");
    }
}
