//! Media providers (`/v1/settings/application/media/providers`): named
//! credentials used when a message's media is given by link (`settings.md` §2).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Problems, WaError, shown};

/// Most providers kept.
pub const MAX_PROVIDERS: usize = 100;

/// How wabiz authenticates to the provider's host. Serialises as the API shows
/// it: `{"basic": {"username": …, "password": …}}` or `{"bearer": "…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderAuth {
    Basic { username: String, password: String },
    Bearer(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaProvider {
    pub name: String,
    /// Always `www` (HTTP/HTTPS links).
    #[serde(rename = "type")]
    pub kind: String,
    pub config: ProviderAuth,
}

fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 200 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn non_empty_string(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned)
}

/// Reads a POST body: a JSON array with exactly one provider object.
pub fn parse_post(body: &Value) -> Result<MediaProvider, WaError> {
    let one = match body {
        Value::Array(items) if items.len() == 1 => &items[0],
        _ => return Err(WaError::invalid("Can only add 1 config at a time")),
    };
    let Value::Object(obj) = one else { return Err(WaError::invalid("Can only add 1 config at a time")) };
    let mut p = Problems::new();
    for field in ["name", "type", "config"] {
        if obj.get(field).is_none_or(Value::is_null) {
            p.push(WaError::missing_parameter(field));
        }
    }
    p.into_result()?;
    let mut p = Problems::new();

    let name = match obj.get("name").and_then(Value::as_str) {
        Some(n) if valid_name(n) => Some(n.to_owned()),
        _ => {
            p.push(WaError::invalid_value("name", &obj.get("name").map(shown).unwrap_or_default()));
            None
        }
    };
    match obj.get("type").and_then(Value::as_str) {
        Some("www") => {}
        _ => p.push(WaError::invalid_value("type", &obj.get("type").map(shown).unwrap_or_default())),
    }
    let config = match obj.get("config") {
        Some(Value::Object(c)) => match (c.get("basic"), c.get("bearer")) {
            (Some(basic), None) => {
                let user = non_empty_string(basic.get("username"));
                let pass = non_empty_string(basic.get("password"));
                match (user, pass) {
                    (Some(username), Some(password)) => Some(ProviderAuth::Basic { username, password }),
                    _ => {
                        p.push(WaError::invalid(
                            "Parameter 'config.basic' needs a non-empty 'username' and 'password'",
                        ));
                        None
                    }
                }
            }
            (None, Some(bearer)) => match non_empty_string(Some(bearer)) {
                Some(t) => Some(ProviderAuth::Bearer(t)),
                None => {
                    p.push(WaError::invalid("Parameter 'config.bearer' must be a non-empty string"));
                    None
                }
            },
            _ => {
                p.push(WaError::invalid("Parameter 'config' must hold exactly one of 'basic', 'bearer'"));
                None
            }
        },
        _ => {
            p.push(WaError::invalid("Parameter 'config' must be an object"));
            None
        }
    };
    p.into_result()?;
    match (name, config) {
        (Some(name), Some(config)) => Ok(MediaProvider { name, kind: "www".into(), config }),
        _ => Err(WaError::invalid("Invalid media provider")),
    }
}

/// Adds or replaces (by name) one provider, keeping insertion order.
pub fn upsert(list: &[MediaProvider], provider: MediaProvider) -> Result<Vec<MediaProvider>, WaError> {
    let mut next = list.to_vec();
    if let Some(slot) = next.iter_mut().find(|p| p.name == provider.name) {
        *slot = provider;
    } else if next.len() >= MAX_PROVIDERS {
        return Err(WaError::invalid(format!("Too many media providers: at most {MAX_PROVIDERS}")));
    } else {
        next.push(provider);
    }
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn details(e: WaError) -> Vec<String> {
        e.errors.into_iter().map(|i| i.details.unwrap_or_default().into_owned()).collect()
    }

    #[test]
    fn valid_posts() {
        let p = parse_post(&json!([{"name": "p1", "type": "www", "config": {"bearer": "t"}}])).unwrap();
        assert_eq!(p.config, ProviderAuth::Bearer("t".into()));
        assert_eq!(serde_json::to_value(&p).unwrap(), json!({"name": "p1", "type": "www", "config": {"bearer": "t"}}));
        let b = parse_post(
            &json!([{"name": "p_1-x", "type": "www", "config": {"basic": {"username": "u", "password": "pw"}}}]),
        )
        .unwrap();
        assert_eq!(serde_json::to_value(&b).unwrap()["config"], json!({"basic": {"username": "u", "password": "pw"}}));
    }

    #[test]
    fn invalid_posts() {
        let one = "Can only add 1 config at a time";
        assert_eq!(details(parse_post(&json!([])).unwrap_err()), [one]);
        assert_eq!(details(parse_post(&json!([{}, {}])).unwrap_err()), [one]);
        assert_eq!(details(parse_post(&json!({"name": "p"})).unwrap_err()), [one]);
        assert_eq!(
            details(parse_post(&json!([{"name": "p1", "type": "www"}])).unwrap_err()),
            ["Missing mandatory parameter 'config'"]
        );
        assert_eq!(
            details(parse_post(&json!([{"name": "p1", "type": "s3", "config": {"bearer": "t"}}])).unwrap_err()),
            ["Parameter 'type' has invalid value 's3'"]
        );
        assert!(parse_post(&json!([{"name": "p1", "type": "everstore", "config": {"bearer": "t"}}])).is_err());
        assert!(parse_post(&json!([{"name": "bad name!", "type": "www", "config": {"bearer": "t"}}])).is_err());
        assert!(
            parse_post(&json!([{"name": "p", "type": "www", "config": {"bearer": "t", "basic": {"username": "u", "password": "p"}}}]))
                .is_err()
        );
        assert!(parse_post(&json!([{"name": "p", "type": "www", "config": {}}])).is_err());
        assert!(parse_post(&json!([{"name": "p", "type": "www", "config": {"bearer": ""}}])).is_err());
        assert!(parse_post(&json!([{"name": "p", "type": "www", "config": {"basic": {"username": "u"}}}])).is_err());
    }

    #[test]
    fn upsert_replaces_by_name_and_caps() {
        let a = parse_post(&json!([{"name": "p1", "type": "www", "config": {"bearer": "t"}}])).unwrap();
        let b = parse_post(
            &json!([{"name": "p1", "type": "www", "config": {"basic": {"username": "u", "password": "p"}}}]),
        )
        .unwrap();
        let list = upsert(&[], a).unwrap();
        let list = upsert(&list, b.clone()).unwrap();
        assert_eq!(list, vec![b]);
        let mut many = Vec::new();
        for i in 0..MAX_PROVIDERS {
            let p = parse_post(&json!([{"name": format!("p{i}"), "type": "www", "config": {"bearer": "t"}}])).unwrap();
            many = upsert(&many, p).unwrap();
        }
        let extra = parse_post(&json!([{"name": "extra", "type": "www", "config": {"bearer": "t"}}])).unwrap();
        assert!(upsert(&many, extra).is_err());
    }
}
