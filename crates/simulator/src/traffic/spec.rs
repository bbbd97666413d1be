//! What `POST /simulator/traffic` asks for, checked, and the messages it
//! makes: the n-th message's customer and type are drawn from the seed and
//! n, so a resumed run goes on exactly where it stopped.

use serde_json::{Map, Value, json};
use wabiz_domain::WaError;

use crate::inbound::INBOUND_TYPES;

/// Bounds of a run. The slowest rate is one message in about 17 minutes: a
/// rate near zero would put the next message past what a timer can hold.
pub const MIN_RATE: f64 = 0.001;
pub const MAX_RATE: f64 = 1_000.0;
pub const MAX_COUNT: u64 = 10_000_000;
pub const MAX_DURATION_S: u64 = 7 * 24 * 3600;
pub const MAX_CUSTOMERS: u64 = 10_000;

/// A checked request.
#[derive(Debug, Clone, PartialEq)]
pub struct TrafficSpec {
    /// Messages per second.
    pub rate: f64,
    /// Stop after this many messages…
    pub count: Option<u64>,
    /// …or after this long, whichever comes first.
    pub duration_s: Option<u64>,
    /// How many distinct customers write.
    pub customers: u64,
    /// Inbound types and their weights (all positive).
    pub mix: Vec<(&'static str, f64)>,
    pub seed: u64,
}

fn positive_integer(body: &Map<String, Value>, key: &str, max: u64) -> Result<Option<u64>, WaError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_u64().filter(|n| (1..=max).contains(n)).map(Some).ok_or_else(|| {
            WaError::invalid(format!(
                "Parameter '{key}' has invalid value '{}': a whole number from 1 to {max}",
                wabiz_domain::error::shown(v)
            ))
        }),
    }
}

impl TrafficSpec {
    pub fn parse(body: &Map<String, Value>) -> Result<Self, WaError> {
        const KEYS: [&str; 6] = ["rate", "count", "duration_s", "customers", "types", "seed"];
        if let Some(unknown) = body.keys().find(|k| !KEYS.contains(&k.as_str())) {
            return Err(WaError::invalid(format!("Unknown parameter '{unknown}'; known: {}", KEYS.join(", "))));
        }
        let rate = match body.get("rate") {
            None | Some(Value::Null) => return Err(WaError::missing_parameter("rate")),
            Some(v) => v.as_f64().filter(|r| (MIN_RATE..=MAX_RATE).contains(r)).ok_or_else(|| {
                WaError::invalid(format!(
                    "Parameter 'rate' has invalid value '{}': messages per second, from {MIN_RATE} to {MAX_RATE}",
                    wabiz_domain::error::shown(v)
                ))
            })?,
        };
        let count = positive_integer(body, "count", MAX_COUNT)?;
        let duration_s = positive_integer(body, "duration_s", MAX_DURATION_S)?;
        if count.is_none() && duration_s.is_none() {
            return Err(WaError::missing_parameter_of(&["count", "duration_s"]));
        }
        let customers = positive_integer(body, "customers", MAX_CUSTOMERS)?.unwrap_or(10);
        let mix = match body.get("types") {
            None | Some(Value::Null) => vec![("text", 1.0)],
            Some(Value::Object(types)) => {
                let mut mix = Vec::new();
                for (name, weight) in types {
                    let Some(kind) = INBOUND_TYPES.iter().find(|t| **t == name.as_str()) else {
                        return Err(WaError::invalid(format!(
                            "Unknown inbound type '{name}' in 'types'; types: {}",
                            INBOUND_TYPES.join(", ")
                        )));
                    };
                    let w = weight
                        .as_f64()
                        .filter(|w| *w >= 0.0 && w.is_finite())
                        .ok_or_else(|| WaError::invalid_json_value(&format!("types.{name}"), weight))?;
                    if w > 0.0 {
                        mix.push((*kind, w));
                    }
                }
                if mix.is_empty() {
                    return Err(WaError::invalid("Parameter 'types' gives no type a weight above 0"));
                }
                mix
            }
            Some(other) => return Err(WaError::invalid_json_value("types", other)),
        };
        let seed = match body.get("seed") {
            None | Some(Value::Null) => 0,
            Some(v) => v.as_u64().ok_or_else(|| WaError::invalid_json_value("seed", v))?,
        };
        Ok(Self { rate, count, duration_s, customers, mix, seed })
    }

    pub fn to_json(&self) -> Value {
        let types: Map<String, Value> = self.mix.iter().map(|(k, w)| ((*k).to_owned(), json!(w))).collect();
        json!({
            "rate": self.rate, "count": self.count, "duration_s": self.duration_s,
            "customers": self.customers, "types": types, "seed": self.seed,
        })
    }

    /// How many messages the run makes in all, if it is bounded by count
    /// only or by both (the duration bound is applied by time).
    pub fn total(&self) -> Option<u64> {
        let by_time = self.duration_s.map(|s| (s as f64 * self.rate).ceil() as u64);
        match (self.count, by_time) {
            (Some(c), Some(t)) => Some(c.min(t)),
            (c, t) => c.or(t),
        }
    }

    /// The `POST /simulator/inbound` body of the n-th message.
    pub fn message(&self, n: u64) -> Map<String, Value> {
        let (a, b) = (mix(self.seed, n, 1), mix(self.seed, n, 2));
        let customer = a % self.customers;
        let total: f64 = self.mix.iter().map(|(_, w)| w).sum();
        let mut pick = (b >> 11) as f64 / (1u64 << 53) as f64 * total;
        let mut kind = self.mix[0].0;
        for (k, w) in &self.mix {
            if pick < *w {
                kind = k;
                break;
            }
            pick -= w;
        }
        // Fictional numbers of one exchange, apart from the magic numbers.
        let from = format!("1631556{customer:04}");
        let object = match kind {
            "text" => json!({"body": format!("Generated message {n}")}),
            "image" | "video" => json!({"caption": format!("Generated {kind} {n}")}),
            "document" => json!({"filename": format!("generated-{n}.pdf")}),
            "location" => {
                json!({"latitude": 38.9 + (a % 100) as f64 / 1000.0, "longitude": -77.0, "name": "Generated place"})
            }
            "contacts" => json!([{"name": {"formatted_name": format!("Contact {n}"), "first_name": "Contact"},
                                   "phones": [{"phone": "+1 631-556-0000", "type": "CELL"}]}]),
            "button" => json!({"payload": "GENERATED", "text": "Yes"}),
            "interactive" => json!({"type": "button_reply", "button_reply": {"id": "generated", "title": "Yes"}}),
            _ => json!({}),
        };
        let mut body = Map::new();
        body.insert("from".into(), json!(from));
        body.insert("type".into(), json!(kind));
        body.insert(kind.into(), object);
        body
    }
}

/// SplitMix64 of (seed, n, salt): the draws of one message.
fn mix(seed: u64, n: u64, salt: u64) -> u64 {
    let mut z = seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ salt.wrapping_mul(0xD1B5_4A32_D192_ED03);
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(v: Value) -> Result<TrafficSpec, WaError> {
        TrafficSpec::parse(v.as_object().unwrap())
    }

    #[test]
    fn every_type_it_makes_is_a_valid_inbound_message() {
        let types: Map<String, Value> = INBOUND_TYPES.iter().map(|t| ((*t).to_owned(), json!(1))).collect();
        let s = spec(json!({"rate": 10, "count": 500, "customers": 7, "types": types, "seed": 3})).unwrap();
        let mut seen = std::collections::HashSet::new();
        for n in 0..500 {
            let body = s.message(n);
            crate::inbound::parse(&body).unwrap_or_else(|e| panic!("{body:?}: {e:?}"));
            seen.insert(body["type"].as_str().unwrap().to_owned());
            let from = body["from"].as_str().unwrap();
            assert!(from.starts_with("1631556") && from[7..].parse::<u64>().unwrap() < 7);
        }
        assert_eq!(seen.len(), INBOUND_TYPES.len(), "every type comes up");
        assert_eq!(s.message(42), s.message(42), "the same message for the same n");
    }

    #[test]
    fn requests_are_checked() {
        assert!(spec(json!({"count": 1})).is_err(), "rate is required");
        assert!(spec(json!({"rate": 1})).is_err(), "count or duration_s");
        assert!(spec(json!({"rate": 0, "count": 1})).is_err());
        assert!(spec(json!({"rate": 1e-300, "count": 3})).is_err(), "too slow for a timer");
        assert!(spec(json!({"rate": MIN_RATE, "count": MAX_COUNT})).is_ok());
        assert!(spec(json!({"rate": 1, "count": 1, "types": {"fax": 1}})).is_err());
        assert!(spec(json!({"rate": 1, "count": 1, "types": {"text": 0}})).is_err());
        assert!(spec(json!({"rate": 1, "count": 1, "customers": 0})).is_err());
        let s = spec(json!({"rate": 2, "duration_s": 10, "count": 100})).unwrap();
        assert_eq!(s.total(), Some(20));
        assert_eq!(spec(json!({"rate": 2, "count": 7})).unwrap().total(), Some(7));
    }
}
