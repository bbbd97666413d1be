//! The business profile (`settings.md` §5): address, description, e-mail,
//! industry ("vertical") and up to two websites, read with
//! `GET /v1/settings/business/profile` and updated with `POST` on the same path.
//!
//! The Webapp only forwarded the body; the value rules here are the spec's
//! Recommended Coreapp-side rules. An update is partial (absent keys keep
//! their value) and all-or-nothing: every problem of the body is reported in
//! one response and nothing is changed unless the whole body is valid.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::error::{Problems, WaError, shown};

/// Most characters in `address` and `description` (documented).
pub const MAX_TEXT_CHARS: usize = 256;
/// Most characters in `email` (documented).
pub const MAX_EMAIL_CHARS: usize = 128;
/// Most characters in one website (documented).
pub const MAX_WEBSITE_CHARS: usize = 256;
/// Most websites (documented; the Webapp's own check).
pub const MAX_WEBSITES: usize = 2;

/// The 17 on-prem display strings accepted for `vertical`.
pub const VERTICALS: &[&str] = &[
    "Automotive",
    "Beauty, Spa and Salon",
    "Clothing and Apparel",
    "Education",
    "Entertainment",
    "Event Planning and Service",
    "Finance and Banking",
    "Food and Grocery",
    "Public Service",
    "Hotel and Lodging",
    "Medical and Health",
    "Non-profit",
    "Professional Services",
    "Shopping and Retail",
    "Travel and Transportation",
    "Restaurant",
    "Other",
];

/// The 17 Cloud API codes for the same industries, also accepted so that
/// clients written against the Cloud API work unchanged.
pub const VERTICAL_CODES: &[&str] = &[
    "AUTO",
    "BEAUTY",
    "APPAREL",
    "EDU",
    "ENTERTAIN",
    "EVENT_PLAN",
    "FINANCE",
    "GROCERY",
    "GOVT",
    "HOTEL",
    "HEALTH",
    "NONPROFIT",
    "PROF_SERVICES",
    "RETAIL",
    "TRAVEL",
    "RESTAURANT",
    "OTHER",
];

/// The stored business profile. The default (all empty) is what `GET` shows
/// before any `POST`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BusinessProfile {
    pub address: String,
    pub description: String,
    pub email: String,
    pub vertical: String,
    pub websites: Vec<String>,
}

impl BusinessProfile {
    /// Applies a `POST` body as a partial update and returns the new profile.
    ///
    /// The body must be a JSON object. Absent keys (and keys set to `null`)
    /// leave the field unchanged, unknown keys are ignored, `{}` is a no-op.
    /// `""` clears `address`/`description`/`email` (and `vertical` while it
    /// is still empty), `[]` clears `websites`. All problems are collected and
    /// returned together, 400/1009 each; on error `self` is untouched.
    pub fn apply_update(&self, body: &Value) -> Result<BusinessProfile, WaError> {
        let Some(body) = body.as_object() else {
            return Err(WaError::invalid("Request body must be a JSON object"));
        };
        let mut next = self.clone();
        let mut problems = Problems::new();

        if let Some(v) = field(body, "address") {
            record(&mut problems, text("address", v, MAX_TEXT_CHARS), |s| next.address = s);
        }
        if let Some(v) = field(body, "description") {
            record(&mut problems, text("description", v, MAX_TEXT_CHARS), |s| next.description = s);
        }
        if let Some(v) = field(body, "email") {
            record(&mut problems, email(v), |s| next.email = s);
        }
        if let Some(v) = field(body, "vertical") {
            record(&mut problems, vertical(v, &self.vertical), |s| next.vertical = s);
        }
        if let Some(v) = field(body, "websites") {
            record(&mut problems, websites(v), |w| next.websites = w);
        }

        problems.into_result()?;
        Ok(next)
    }

    /// The `settings.business.profile` object: all five keys, always.
    pub fn to_json(&self) -> Value {
        json!({
            "address": self.address,
            "description": self.description,
            "email": self.email,
            "vertical": self.vertical,
            "websites": self.websites,
        })
    }
}

/// A key of the body, with `null` read as absent: generated clients (the
/// unblu OpenAPI marks all five fields) tend to send unset fields as `null`,
/// and the Webapp read each field as optional.
fn field<'a>(body: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    body.get(name).filter(|v| !v.is_null())
}

/// Stores the value on success, or the errors among the problems.
fn record<T>(problems: &mut Problems, result: Result<T, Vec<WaError>>, store: impl FnOnce(T)) {
    match result {
        Ok(value) => store(value),
        Err(errors) => errors.into_iter().for_each(|e| problems.push(e)),
    }
}

fn string<'a>(name: &str, v: &'a Value) -> Result<&'a str, Vec<WaError>> {
    v.as_str().ok_or_else(|| vec![WaError::invalid_value(name, &shown(v))])
}

fn too_long(name: &str, max: usize) -> WaError {
    // Not `invalid_value`: echoing a value of hundreds of characters back
    // would hide the reason.
    WaError::invalid(format!("Parameter '{name}' is too long. Max allowed length: {max} characters"))
}

/// A free-text field: a string of at most `max` characters (Unicode scalar
/// values, not bytes, as the limit is documented in characters).
fn text(name: &str, v: &Value, max: usize) -> Result<String, Vec<WaError>> {
    let s = string(name, v)?;
    if s.chars().count() > max {
        return Err(vec![too_long(name, max)]);
    }
    Ok(s.to_owned())
}

fn email(v: &Value) -> Result<String, Vec<WaError>> {
    let s = string("email", v)?;
    if s.is_empty() {
        return Ok(String::new());
    }
    if s.chars().count() > MAX_EMAIL_CHARS {
        return Err(vec![too_long("email", MAX_EMAIL_CHARS)]);
    }
    if !is_email(s) {
        return Err(vec![WaError::invalid_value("email", s)]);
    }
    Ok(s.to_owned())
}

/// `^[^@\s]+@[^@\s]+\.[^@\s]+$`, by hand: exactly one `@`, no whitespace, a
/// non-empty local part, and a domain with a dot that has characters on both
/// sides.
fn is_email(s: &str) -> bool {
    if s.chars().any(char::is_whitespace) {
        return false;
    }
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    if local.is_empty() || domain.contains('@') {
        return false;
    }
    // Some dot strictly inside the domain (the regex backtracks to any dot).
    domain.char_indices().any(|(i, c)| c == '.' && i > 0 && i + 1 < domain.len())
}

/// One of the 17 strings or 17 codes, case-sensitive, stored as given. Once a
/// vertical is set it cannot go back to empty (documented).
fn vertical(v: &Value, current: &str) -> Result<String, Vec<WaError>> {
    let s = string("vertical", v)?;
    if s.is_empty() {
        if current.is_empty() {
            return Ok(String::new());
        }
        return Err(vec![WaError::invalid("Parameter 'vertical' cannot be emptied once it is set")]);
    }
    if VERTICALS.contains(&s) || VERTICAL_CODES.contains(&s) {
        Ok(s.to_owned())
    } else {
        Err(vec![WaError::invalid_value("vertical", s)])
    }
}

/// An array of at most two strings, each at most 256 characters and starting
/// with `http://` or `https://` (scheme case-insensitive, host non-empty).
/// Every bad item is reported, not only the first.
fn websites(v: &Value) -> Result<Vec<String>, Vec<WaError>> {
    let Some(items) = v.as_array() else {
        return Err(vec![WaError::invalid_value("websites", &shown(v))]);
    };
    let mut errors = Vec::new();
    if items.len() > MAX_WEBSITES {
        errors.push(WaError::invalid(format!("Max number of websites allowed is {MAX_WEBSITES}")));
    }
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let Some(url) = item.as_str() else {
            errors.push(WaError::invalid_value("websites", &shown(item)));
            continue;
        };
        if url.chars().count() > MAX_WEBSITE_CHARS {
            errors.push(too_long("websites", MAX_WEBSITE_CHARS));
        } else if !has_http_scheme(url) {
            errors.push(WaError::invalid_value("websites", url));
        } else {
            out.push(url.to_owned());
        }
    }
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

fn has_http_scheme(url: &str) -> bool {
    ["http://", "https://"].iter().any(|scheme| {
        // `get` rather than slicing: the prefix may end inside a multi-byte
        // character.
        url.get(..scheme.len()).is_some_and(|p| p.eq_ignore_ascii_case(scheme)) && url.len() > scheme.len()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    fn full() -> Value {
        json!({
            "address": "1 Main St",
            "description": "We sell things",
            "email": "shop@example.com",
            "vertical": "Shopping and Retail",
            "websites": ["https://www.whatsapp.com", "http://www.facebook.com"],
        })
    }

    fn details(err: &WaError) -> Vec<&str> {
        err.errors.iter().map(|e| e.details.as_deref().unwrap_or("")).collect()
    }

    /// Applies `body` to `profile`, expecting one or more 400/1009 errors.
    fn refused(profile: &BusinessProfile, body: Value) -> WaError {
        let err = profile.apply_update(&body).expect_err("update should be refused");
        assert_eq!(err.status, 400);
        assert!(err.errors.iter().all(|e| e.code == ErrorCode::ParameterValueNotValid), "{err}");
        err
    }

    #[test]
    fn lists_have_seventeen_distinct_entries() {
        assert_eq!(VERTICALS.len(), 17);
        assert_eq!(VERTICAL_CODES.len(), 17);
        let all: std::collections::HashSet<_> = VERTICALS.iter().chain(VERTICAL_CODES).collect();
        assert_eq!(all.len(), 34);
    }

    #[test]
    fn default_profile_is_all_empty() {
        assert_eq!(
            BusinessProfile::default().to_json(),
            json!({"address": "", "description": "", "email": "", "vertical": "", "websites": []})
        );
    }

    #[test]
    fn all_five_valid_fields_are_stored_and_echoed() {
        let p = BusinessProfile::default().apply_update(&full()).unwrap();
        assert_eq!(p.to_json(), full());
        assert_eq!(p.websites.len(), 2);
    }

    #[test]
    fn empty_object_is_a_no_op_and_unknown_keys_are_ignored() {
        let p = BusinessProfile::default().apply_update(&full()).unwrap();
        assert_eq!(p.apply_update(&json!({})).unwrap(), p);
        assert_eq!(p.apply_update(&json!({"colour": "blue", "address": null})).unwrap(), p);
    }

    #[test]
    fn non_object_bodies_are_refused() {
        for body in [json!([]), json!("x"), json!(1), Value::Null] {
            refused(&BusinessProfile::default(), body);
        }
    }

    #[test]
    fn three_websites_are_too_many() {
        let err =
            refused(&BusinessProfile::default(), json!({"websites": ["http://a.com", "http://b.com", "http://c.com"]}));
        assert_eq!(details(&err), ["Max number of websites allowed is 2"]);
    }

    #[test]
    fn website_needs_an_http_scheme() {
        let err = refused(&BusinessProfile::default(), json!({"websites": ["www.x.com"]}));
        assert_eq!(details(&err), ["Parameter 'websites' has invalid value 'www.x.com'"]);
        refused(&BusinessProfile::default(), json!({"websites": ["ftp://x.com"]}));
        refused(&BusinessProfile::default(), json!({"websites": ["https://"]}));
        let p =
            BusinessProfile::default().apply_update(&json!({"websites": ["HTTPS://X.com", "Http://y.org"]})).unwrap();
        assert_eq!(p.websites, ["HTTPS://X.com", "Http://y.org"]);
    }

    #[test]
    fn website_length_is_limited() {
        let ok = format!("https://{}", "a".repeat(MAX_WEBSITE_CHARS - 8));
        assert!(BusinessProfile::default().apply_update(&json!({"websites": [ok]})).is_ok());
        let long = format!("https://{}", "a".repeat(MAX_WEBSITE_CHARS - 7));
        refused(&BusinessProfile::default(), json!({"websites": [long]}));
    }

    #[test]
    fn websites_must_be_an_array_of_strings() {
        let err = refused(&BusinessProfile::default(), json!({"websites": "https://x.com"}));
        assert_eq!(details(&err), ["Parameter 'websites' has invalid value 'https://x.com'"]);
        let err = refused(&BusinessProfile::default(), json!({"websites": [5]}));
        assert_eq!(details(&err), ["Parameter 'websites' has invalid value '5'"]);
    }

    #[test]
    fn empty_array_clears_websites() {
        let p = BusinessProfile::default().apply_update(&full()).unwrap();
        assert!(p.apply_update(&json!({"websites": []})).unwrap().websites.is_empty());
    }

    #[test]
    fn address_and_description_are_limited_to_256_characters() {
        let base = BusinessProfile::default();
        assert!(base.apply_update(&json!({"address": "a".repeat(256)})).is_ok());
        let err = refused(&base, json!({"address": "a".repeat(257)}));
        assert_eq!(details(&err), ["Parameter 'address' is too long. Max allowed length: 256 characters"]);
        refused(&base, json!({"description": "d".repeat(257)}));
        // Characters, not bytes: 256 three-byte characters fit.
        assert!(base.apply_update(&json!({"description": "€".repeat(256)})).is_ok());
    }

    #[test]
    fn empty_strings_clear_text_fields() {
        let p = BusinessProfile::default().apply_update(&full()).unwrap();
        let cleared = p.apply_update(&json!({"address": "", "description": "", "email": ""})).unwrap();
        assert_eq!((cleared.address.as_str(), cleared.description.as_str(), cleared.email.as_str()), ("", "", ""));
        assert_eq!(cleared.vertical, p.vertical);
        assert_eq!(cleared.websites, p.websites);
    }

    #[test]
    fn email_must_look_like_one() {
        let base = BusinessProfile::default();
        let err = refused(&base, json!({"email": "nope"}));
        assert_eq!(details(&err), ["Parameter 'email' has invalid value 'nope'"]);
        for bad in ["a@b", "@b.co", "a@.co", "a@b.", "a@@b.co", "a@b@c.co", "a b@c.co", "a@b .co"] {
            refused(&base, json!({ "email": bad }));
        }
        for good in ["a@b.co", "first.last+tag@mail.example.org", "x@a.b.c"] {
            assert_eq!(base.apply_update(&json!({ "email": good })).unwrap().email, good);
        }
        let long = format!("{}@example.com", "a".repeat(MAX_EMAIL_CHARS - 11));
        refused(&base, json!({ "email": long }));
        let fits = format!("{}@example.com", "a".repeat(MAX_EMAIL_CHARS - 12));
        assert!(base.apply_update(&json!({ "email": fits })).is_ok());
    }

    #[test]
    fn vertical_accepts_the_lists_and_cannot_be_emptied_once_set() {
        let base = BusinessProfile::default();
        let err = refused(&base, json!({"vertical": "Cars"}));
        assert_eq!(details(&err), ["Parameter 'vertical' has invalid value 'Cars'"]);
        refused(&base, json!({"vertical": "auto"}));
        // Still empty: clearing is a no-op.
        assert_eq!(base.apply_update(&json!({"vertical": ""})).unwrap(), base);
        let set = base.apply_update(&json!({"vertical": "AUTO"})).unwrap();
        assert_eq!(set.vertical, "AUTO");
        refused(&set, json!({"vertical": ""}));
        for v in VERTICALS.iter().chain(VERTICAL_CODES) {
            assert_eq!(set.apply_update(&json!({ "vertical": v })).unwrap().vertical, *v);
        }
    }

    #[test]
    fn wrong_types_echo_the_value() {
        let err = refused(&BusinessProfile::default(), json!({"address": 5}));
        assert_eq!(details(&err), ["Parameter 'address' has invalid value '5'"]);
        let err = refused(&BusinessProfile::default(), json!({"vertical": true}));
        assert_eq!(details(&err), ["Parameter 'vertical' has invalid value 'true'"]);
    }

    #[test]
    fn partial_update_keeps_other_fields() {
        let p = BusinessProfile::default().apply_update(&full()).unwrap();
        let q = p.apply_update(&json!({"email": "a@b.co"})).unwrap();
        assert_eq!(q.email, "a@b.co");
        assert_eq!(q, BusinessProfile { email: "a@b.co".into(), ..p });
    }

    #[test]
    fn several_bad_fields_are_reported_together_and_nothing_changes() {
        let p = BusinessProfile::default().apply_update(&full()).unwrap();
        let err = refused(
            &p,
            json!({
                "address": "a".repeat(257),
                "email": "nope",
                "vertical": "Cars",
                "websites": ["www.x.com", "http://ok.com", "ftp://y"],
                "description": "fine",
            }),
        );
        assert_eq!(
            details(&err),
            [
                "Parameter 'address' is too long. Max allowed length: 256 characters",
                "Parameter 'email' has invalid value 'nope'",
                "Parameter 'vertical' has invalid value 'Cars'",
                "Max number of websites allowed is 2",
                "Parameter 'websites' has invalid value 'www.x.com'",
                "Parameter 'websites' has invalid value 'ftp://y'",
            ]
        );
        // `apply_update` borrows: the stored profile is untouched.
        assert_eq!(p.to_json(), full());
    }

    #[test]
    fn serde_round_trip() {
        let p = BusinessProfile::default().apply_update(&full()).unwrap();
        let back: BusinessProfile = serde_json::from_value(serde_json::to_value(&p).unwrap()).unwrap();
        assert_eq!(back, p);
    }
}
