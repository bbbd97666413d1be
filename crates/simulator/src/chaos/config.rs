//! The chaos settings as `PUT /simulator/chaos` takes them and `GET` shows
//! them: checked field by field, every problem named.

use serde_json::{Map, Value, json};
use wabiz_domain::WaError;
use wabiz_domain::error::ErrorCode;
use wabiz_domain::messages::MessageStatus;

/// The longest delay a distribution may give (a day).
pub const MAX_DELAY_MS: u64 = 24 * 3600 * 1000;

/// How long a delay lasts, drawn per message.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Distribution {
    Fixed(u64),
    Uniform {
        min: u64,
        max: u64,
    },
    /// Capped at twenty times the mean (and [`MAX_DELAY_MS`]).
    Exponential {
        mean: u64,
    },
    /// Clamped to zero and six deviations above the mean.
    Normal {
        mean: u64,
        stddev: u64,
    },
}

impl Distribution {
    /// The delay for a uniform draw `u` in [0, 1) (and a second, `v`, for
    /// the normal distribution).
    pub fn sample(self, u: f64, v: f64) -> u64 {
        let ms = match self {
            Distribution::Fixed(ms) => ms as f64,
            Distribution::Uniform { min, max } => min as f64 + u * (max - min + 1) as f64,
            Distribution::Exponential { mean } => (-(1.0 - u).ln() * mean as f64).min(20.0 * mean as f64),
            Distribution::Normal { mean, stddev } => {
                // Box–Muller.
                let z = (-2.0 * (1.0 - u).ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos();
                (mean as f64 + z * stddev as f64).clamp(0.0, mean as f64 + 6.0 * stddev as f64)
            }
        };
        // `as` saturates: a float too large for u64 is the cap.
        (ms.floor() as u64).min(MAX_DELAY_MS)
    }

    fn to_json(self) -> Value {
        match self {
            Distribution::Fixed(ms) => json!(ms),
            Distribution::Uniform { min, max } => json!([min, max]),
            Distribution::Exponential { mean } => json!({"distribution": "exponential", "mean": mean}),
            Distribution::Normal { mean, stddev } => json!({"distribution": "normal", "mean": mean, "stddev": stddev}),
        }
    }

    /// `200`, `[100, 500]`, `{"distribution": "uniform", "min", "max"}`,
    /// `{"distribution": "exponential", "mean"}`, `{"distribution": "normal", "mean", "stddev"}`.
    fn parse(name: &str, v: &Value) -> Result<Self, WaError> {
        let bad = || WaError::invalid_json_value(name, v);
        let ms = |v: Option<&Value>| v.and_then(Value::as_u64).filter(|ms| *ms <= MAX_DELAY_MS);
        match v {
            Value::Number(_) => ms(Some(v)).map(Distribution::Fixed).ok_or_else(bad),
            Value::Array(pair) if pair.len() == 2 => match (ms(pair.first()), ms(pair.get(1))) {
                (Some(min), Some(max)) if min <= max => Ok(Distribution::Uniform { min, max }),
                _ => Err(bad()),
            },
            Value::Object(o) => match o.get("distribution").and_then(Value::as_str) {
                Some("fixed") => ms(o.get("ms")).map(Distribution::Fixed).ok_or_else(bad),
                Some("uniform") => match (ms(o.get("min")), ms(o.get("max"))) {
                    (Some(min), Some(max)) if min <= max => Ok(Distribution::Uniform { min, max }),
                    _ => Err(bad()),
                },
                Some("exponential") => ms(o.get("mean")).map(|mean| Distribution::Exponential { mean }).ok_or_else(bad),
                Some("normal") => match (ms(o.get("mean")), ms(o.get("stddev"))) {
                    (Some(mean), Some(stddev)) => Ok(Distribution::Normal { mean, stddev }),
                    _ => Err(bad()),
                },
                _ => Err(bad()),
            },
            _ => Err(bad()),
        }
    }
}

/// A share of sends that fail with `code` from `step`.
#[derive(Debug, Clone, PartialEq)]
pub struct FailureRule {
    pub rate: f64,
    pub code: ErrorCode,
    /// `accepted` (never sent) or `sent` (never delivered).
    pub step: MessageStatus,
}

/// The codes a chaos failure may carry: the delivery codes of the webhook
/// table and the send failures a status reports.
pub const FAILURE_CODES: [u16; 14] = [400, 402, 408, 410, 429, 470, 471, 472, 480, 500, 501, 1000, 1013, 1026];

/// Where a code fails when the rule does not say: expiries, incapable
/// receivers and changed users after `sent`, everything else before it.
fn default_step(code: ErrorCode) -> MessageStatus {
    match code {
        ErrorCode::MessageExpired | ErrorCode::ReceiverIncapable | ErrorCode::UserPotentiallyChanged => {
            MessageStatus::Sent
        }
        _ => MessageStatus::Accepted,
    }
}

/// What a message may be forced to do (`POST /simulator/chaos/next`).
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The whole path: sent, delivered, read.
    Read,
    /// Delivered, never read.
    Delivered,
    /// Sent, never delivered (it expires at its ttl).
    Sent,
    Failed {
        code: ErrorCode,
        step: MessageStatus,
    },
}

impl Outcome {
    pub fn to_json(&self) -> Value {
        match self {
            Outcome::Read => json!({"outcome": "read"}),
            Outcome::Delivered => json!({"outcome": "delivered"}),
            Outcome::Sent => json!({"outcome": "sent"}),
            Outcome::Failed { code, step } => json!({"outcome": "failed", "code": code.code(), "step": step.as_str()}),
        }
    }

    /// `{"outcome": "read" | "delivered" | "sent" | "failed", "code", "step"}`.
    pub fn parse(body: &Map<String, Value>) -> Result<Self, WaError> {
        let outcome = match body.get("outcome") {
            None | Some(Value::Null) => return Err(WaError::missing_parameter("outcome")),
            Some(v) => v.as_str().ok_or_else(|| WaError::invalid_json_value("outcome", v))?,
        };
        let only_for_failed = |key: &str| {
            if body.get(key).is_some_and(|v| !v.is_null()) {
                Err(WaError::new(
                    ErrorCode::ParameterNotRequired,
                    format!("Parameter '{key}' is only for outcome 'failed'"),
                ))
            } else {
                Ok(())
            }
        };
        match outcome {
            "read" | "delivered" | "sent" => {
                only_for_failed("code")?;
                only_for_failed("step")?;
                Ok(match outcome {
                    "read" => Outcome::Read,
                    "delivered" => Outcome::Delivered,
                    _ => Outcome::Sent,
                })
            }
            "failed" => {
                let code = failure_code("code", body.get("code"))?;
                let step = step("step", body.get("step"), code)?;
                Ok(Outcome::Failed { code, step })
            }
            other => Err(WaError::invalid_value("outcome", other)),
        }
    }
}

fn failure_code(name: &str, v: Option<&Value>) -> Result<ErrorCode, WaError> {
    let v = match v {
        None | Some(Value::Null) => return Err(WaError::missing_parameter(name)),
        Some(v) => v,
    };
    v.as_u64()
        .and_then(|c| u16::try_from(c).ok())
        .filter(|c| FAILURE_CODES.contains(c))
        .and_then(ErrorCode::from_code)
        .ok_or_else(|| {
            WaError::invalid(format!(
                "Parameter '{name}' has invalid value '{}': a failure's code is one of {FAILURE_CODES:?}",
                wabiz_domain::error::shown(v)
            ))
        })
}

fn step(name: &str, v: Option<&Value>, code: ErrorCode) -> Result<MessageStatus, WaError> {
    match v {
        None | Some(Value::Null) => Ok(default_step(code)),
        Some(Value::String(s)) if s == "accepted" => Ok(MessageStatus::Accepted),
        Some(Value::String(s)) if s == "sent" => Ok(MessageStatus::Sent),
        Some(other) => Err(WaError::invalid_json_value(name, other)),
    }
}

fn fraction(name: &str, v: Option<&Value>) -> Result<f64, WaError> {
    match v {
        None | Some(Value::Null) => Ok(0.0),
        Some(v) => v.as_f64().filter(|f| (0.0..=1.0).contains(f)).ok_or_else(|| {
            WaError::invalid(format!(
                "Parameter '{name}' has invalid value '{}': a share is a number from 0 to 1",
                wabiz_domain::error::shown(v)
            ))
        }),
    }
}

/// The chaos settings. The default is off: nothing changes.
#[derive(Debug, Clone, PartialEq)]
pub struct ChaosConfig {
    pub seed: u64,
    /// Per step (`sent`, `delivered`, `read`); `None` keeps the configured delay.
    pub delays: [Option<Distribution>; 3],
    /// The share of delivered messages never read.
    pub never_read: f64,
    pub failures: Vec<FailureRule>,
    /// The share of messages whose status callbacks are delivered twice.
    pub duplicate: f64,
    /// The share of messages whose status callbacks are held back, out of
    /// their customer's order, for `out_of_order_ms`.
    pub out_of_order: f64,
    pub out_of_order_ms: Distribution,
    /// The simulated network is disconnected.
    pub outage: bool,
}

impl Default for ChaosConfig {
    fn default() -> Self {
        Self {
            seed: 0,
            delays: [None; 3],
            never_read: 0.0,
            failures: Vec::new(),
            duplicate: 0.0,
            out_of_order: 0.0,
            out_of_order_ms: DEFAULT_HOLD,
            outage: false,
        }
    }
}

/// How long a message's callbacks are held back by default.
const DEFAULT_HOLD: Distribution = Distribution::Uniform { min: 1_000, max: 3_000 };

const STEPS: [&str; 3] = ["sent", "delivered", "read"];

impl ChaosConfig {
    /// Whether any message is affected (the outage aside).
    pub fn shapes_messages(&self) -> bool {
        self.delays.iter().any(Option::is_some)
            || self.never_read > 0.0
            || !self.failures.is_empty()
            || self.duplicate > 0.0
            || self.out_of_order > 0.0
    }

    /// Reads a `PUT /simulator/chaos` body (`{}` turns everything off).
    pub fn parse(body: &Map<String, Value>) -> Result<Self, WaError> {
        const KEYS: [&str; 6] = ["seed", "delays", "never_read", "failures", "webhooks", "outage"];
        if let Some(unknown) = body.keys().find(|k| !KEYS.contains(&k.as_str())) {
            return Err(WaError::invalid(format!("Unknown parameter '{unknown}'; known: {}", KEYS.join(", "))));
        }
        let seed = match body.get("seed") {
            None | Some(Value::Null) => 0,
            Some(v) => v.as_u64().ok_or_else(|| WaError::invalid_json_value("seed", v))?,
        };
        let mut delays = [None; 3];
        match body.get("delays") {
            None | Some(Value::Null) => {}
            Some(Value::Object(o)) => {
                if let Some(unknown) = o.keys().find(|k| !STEPS.contains(&k.as_str())) {
                    return Err(WaError::invalid(format!(
                        "Unknown step 'delays.{unknown}'; steps: sent, delivered, read"
                    )));
                }
                for (i, step) in STEPS.iter().enumerate() {
                    if let Some(v) = o.get(*step).filter(|v| !v.is_null()) {
                        delays[i] = Some(Distribution::parse(&format!("delays.{step}"), v)?);
                    }
                }
            }
            Some(other) => return Err(WaError::invalid_json_value("delays", other)),
        }
        let never_read = fraction("never_read", body.get("never_read"))?;
        let mut failures = Vec::new();
        match body.get("failures") {
            None | Some(Value::Null) => {}
            Some(Value::Array(rules)) => {
                for (i, rule) in rules.iter().enumerate() {
                    let name = |key: &str| format!("failures[{i}].{key}");
                    let Value::Object(rule) = rule else {
                        return Err(WaError::invalid_json_value(&format!("failures[{i}]"), rule));
                    };
                    let rate = fraction(&name("rate"), rule.get("rate"))?;
                    let code = failure_code(&name("code"), rule.get("code"))?;
                    let step = step(&name("step"), rule.get("step"), code)?;
                    failures.push(FailureRule { rate, code, step });
                }
                let total: f64 = failures.iter().map(|f| f.rate).sum();
                if total > 1.0 + 1e-9 {
                    return Err(WaError::invalid(format!("The failures' rates add up to {total}, more than 1")));
                }
            }
            Some(other) => return Err(WaError::invalid_json_value("failures", other)),
        }
        let (mut duplicate, mut out_of_order, mut out_of_order_ms) = (0.0, 0.0, DEFAULT_HOLD);
        match body.get("webhooks") {
            None | Some(Value::Null) => {}
            Some(Value::Object(o)) => {
                duplicate = fraction("webhooks.duplicate", o.get("duplicate"))?;
                out_of_order = fraction("webhooks.out_of_order", o.get("out_of_order"))?;
                if let Some(v) = o.get("out_of_order_ms").filter(|v| !v.is_null()) {
                    out_of_order_ms = Distribution::parse("webhooks.out_of_order_ms", v)?;
                }
            }
            Some(other) => return Err(WaError::invalid_json_value("webhooks", other)),
        }
        let outage = match body.get("outage") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(other) => return Err(WaError::invalid_json_value("outage", other)),
        };
        Ok(Self { seed, delays, never_read, failures, duplicate, out_of_order, out_of_order_ms, outage })
    }

    /// As `GET /simulator/chaos` shows it (the same shape `PUT` takes).
    pub fn to_json(&self) -> Value {
        let mut delays = Map::new();
        for (i, step) in STEPS.iter().enumerate() {
            if let Some(d) = self.delays[i] {
                delays.insert((*step).to_owned(), d.to_json());
            }
        }
        json!({
            "seed": self.seed,
            "delays": delays,
            "never_read": self.never_read,
            "failures": self.failures.iter().map(|f| json!({
                "rate": f.rate, "code": f.code.code(), "step": f.step.as_str(),
            })).collect::<Vec<_>>(),
            "webhooks": {
                "duplicate": self.duplicate,
                "out_of_order": self.out_of_order,
                "out_of_order_ms": self.out_of_order_ms.to_json(),
            },
            "outage": self.outage,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: Value) -> Result<ChaosConfig, WaError> {
        ChaosConfig::parse(v.as_object().unwrap())
    }

    #[test]
    fn the_empty_body_is_off_and_a_full_one_round_trips() {
        let off = parse(json!({})).unwrap();
        assert_eq!(off, ChaosConfig::default());
        assert!(!off.shapes_messages() && !off.outage);
        let full = json!({
            "seed": 42,
            "delays": {"sent": 10, "delivered": [100, 200], "read": {"distribution": "exponential", "mean": 300}},
            "never_read": 0.25,
            "failures": [{"rate": 0.1, "code": 1026, "step": "sent"}, {"rate": 0.05, "code": 470, "step": "accepted"}],
            "webhooks": {"duplicate": 0.5, "out_of_order": 0.1, "out_of_order_ms": [1000, 3000]},
            "outage": true,
        });
        let config = parse(full.clone()).unwrap();
        assert_eq!(config.to_json(), full);
        assert_eq!(parse(config.to_json()).unwrap(), config);
        assert_eq!(config.failures[0].step, MessageStatus::Sent);
    }

    #[test]
    fn bad_values_are_named() {
        let details = |v: Value| parse(v).unwrap_err().to_string();
        assert!(details(json!({"never_read": 2})).contains("never_read"));
        assert!(details(json!({"delays": {"sent": [5, 1]}})).contains("delays.sent"));
        assert!(details(json!({"delays": {"later": 5}})).contains("delays.later"));
        assert!(details(json!({"failures": [{"rate": 0.1, "code": 1005}]})).contains("failures[0].code"));
        assert!(details(json!({"failures": [{"rate": 0.1}]})).contains("failures[0].code"));
        assert!(
            details(json!({"failures": [{"rate": 0.7, "code": 470}, {"rate": 0.7, "code": 410}]})).contains("add up")
        );
        assert!(details(json!({"webhooks": {"duplicate": -1}})).contains("webhooks.duplicate"));
        assert!(details(json!({"outage": "yes"})).contains("outage"));
        assert!(details(json!({"sed": 1})).contains("sed"));
    }

    #[test]
    fn failures_default_to_their_step() {
        let c = parse(json!({"failures": [{"rate": 1, "code": 410}, {"rate": 0, "code": 1013}]})).unwrap();
        assert_eq!((c.failures[0].step, c.failures[1].step), (MessageStatus::Sent, MessageStatus::Accepted));
    }

    #[test]
    fn distributions_stay_in_their_bounds() {
        for i in 0..1000 {
            let u = f64::from(i) / 1000.0;
            let v = 1.0 - u;
            assert!((100..=200).contains(&Distribution::Uniform { min: 100, max: 200 }.sample(u, v)));
            assert!(Distribution::Exponential { mean: 100 }.sample(u, v) <= 2000);
            assert!(Distribution::Normal { mean: 100, stddev: 10 }.sample(u, v) <= 160);
            assert_eq!(Distribution::Fixed(7).sample(u, v), 7);
        }
    }

    #[test]
    fn outcomes() {
        let o = |v: Value| Outcome::parse(v.as_object().unwrap());
        assert_eq!(o(json!({"outcome": "read"})).unwrap(), Outcome::Read);
        assert_eq!(
            o(json!({"outcome": "failed", "code": 1026})).unwrap(),
            Outcome::Failed { code: ErrorCode::ReceiverIncapable, step: MessageStatus::Sent }
        );
        assert!(o(json!({"outcome": "read", "code": 1026})).is_err());
        assert!(o(json!({"outcome": "failed"})).is_err());
        assert!(o(json!({"outcome": "lost"})).is_err());
        assert!(o(json!({})).is_err());
    }
}
