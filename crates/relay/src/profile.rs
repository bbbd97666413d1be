//! The business's profile written through to Cloud (`cloud-mapping.md` §1,
//! §5): the about text and the business profile become Cloud's
//! `whatsapp_business_profile`, the two-step PIN Cloud's, the photo goes
//! through Cloud's resumable upload to the profile's picture handle; what
//! Cloud offers no call for (turning two-step off, removing the photo)
//! answers 501.

use serde_json::{Map, Value, json};
use wabiz_domain::error::{ErrorCode, WaError};
use wabiz_domain::network::ProfileChange;
use wabiz_domain::settings::business::{VERTICAL_CODES, VERTICALS};

/// Cloud's vertical for an On-Premises one (`cloud-mapping.md` §5; the
/// settings keep both lists in the same order). A Cloud name stays as it
/// is; empty or unknown is `OTHER`.
pub fn cloud_vertical(stored: &str) -> &'static str {
    if let Some(code) = VERTICAL_CODES.iter().find(|c| **c == stored) {
        return code;
    }
    VERTICALS.iter().position(|v| *v == stored).and_then(|i| VERTICAL_CODES.get(i)).copied().unwrap_or("OTHER")
}

fn not_in_relay_mode(what: &str) -> WaError {
    WaError::new(ErrorCode::GenericError, format!("Not supported in relay mode: {what}")).with_status(501)
}

/// What the relay does with a change: a Graph call to make, or a refusal.
#[derive(Debug, Clone, PartialEq)]
pub enum ProfileCall {
    /// `POST /{PNID}/whatsapp_business_profile` with this body.
    BusinessProfile(Value),
    /// `POST /{PNID}` with `{"pin"}`.
    Pin(String),
    /// The resumable upload of this JPEG, then its handle as the profile's picture.
    Photo(Vec<u8>),
}

pub fn call_for(change: &ProfileChange) -> Result<ProfileCall, WaError> {
    match change {
        ProfileChange::About(text) if text.is_empty() => Err(WaError::new(
            ErrorCode::ParameterValueNotValid,
            "Parameter 'text' must be 1 to 139 characters on the Cloud API",
        )),
        ProfileChange::About(text) => {
            Ok(ProfileCall::BusinessProfile(json!({"messaging_product": "whatsapp", "about": text})))
        }
        ProfileChange::Business(profile) => {
            let mut body = Map::new();
            body.insert("messaging_product".into(), json!("whatsapp"));
            for key in ["address", "description", "email", "websites"] {
                if let Some(v) = profile.get(key).filter(|v| !v.is_null()) {
                    body.insert(key.into(), v.clone());
                }
            }
            let vertical = profile["vertical"].as_str().unwrap_or_default();
            body.insert("vertical".into(), json!(cloud_vertical(vertical)));
            Ok(ProfileCall::BusinessProfile(Value::Object(body)))
        }
        ProfileChange::TwoStepPin(pin) => Ok(ProfileCall::Pin(pin.clone())),
        ProfileChange::TwoStepOff => Err(not_in_relay_mode("the Cloud API cannot turn two-step verification off")),
        ProfileChange::Photo(jpeg) => Ok(ProfileCall::Photo(jpeg.clone())),
        ProfileChange::PhotoRemoved => Err(not_in_relay_mode("the Cloud API cannot remove the profile photo")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_on_premises_vertical_has_its_cloud_name() {
        for v in VERTICALS {
            let cloud = cloud_vertical(v);
            assert!(*v == "Other" || cloud != "OTHER", "{v}");
        }
        assert_eq!(cloud_vertical("Restaurant"), "RESTAURANT");
        assert_eq!(cloud_vertical("Public Service"), "GOVT");
        assert_eq!(cloud_vertical("GOVT"), "GOVT");
        assert_eq!((cloud_vertical("Other"), cloud_vertical("")), ("OTHER", "OTHER"));
    }

    #[test]
    fn changes_become_cloud_calls_or_501() {
        let business = json!({"address": "1 Main St", "description": null, "email": "a@b.c", "vertical": "Public Service", "websites": ["https://a.b"]});
        assert_eq!(
            call_for(&ProfileChange::Business(business)).unwrap(),
            ProfileCall::BusinessProfile(
                json!({"messaging_product": "whatsapp", "address": "1 Main St", "email": "a@b.c",
                "vertical": "GOVT", "websites": ["https://a.b"]})
            )
        );
        assert_eq!(call_for(&ProfileChange::About(String::new())).unwrap_err().status, 400);
        assert_eq!(call_for(&ProfileChange::TwoStepOff).unwrap_err().status, 501);
        assert_eq!(call_for(&ProfileChange::PhotoRemoved).unwrap_err().status, 501);
        assert_eq!(call_for(&ProfileChange::Photo(vec![0xff, 0xd8])).unwrap(), ProfileCall::Photo(vec![0xff, 0xd8]));
    }
}
