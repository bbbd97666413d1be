//! The chaos settings (`GET|PUT /simulator/chaos`) and forced outcomes
//! (`POST /simulator/chaos/next`); the rules themselves are in `chaos/`.

use serde_json::{Map, Value, json};
use wabiz_domain::WaError;
use wabiz_domain::events::Event;

use super::SimulatorControl;
use crate::chaos::{ChaosConfig, MAX_FORCED, Outcome};

impl SimulatorControl {
    /// `GET /simulator/chaos`.
    pub fn chaos(&self) -> Value {
        self.chaos.to_json()
    }

    /// `PUT /simulator/chaos`: replaces every setting (`{}`: off).
    pub fn replace_chaos(&self, body: &Map<String, Value>) -> Result<Value, WaError> {
        let config = ChaosConfig::parse(body)?;
        let was_out = self.chaos.outage();
        self.chaos.replace(config);
        if was_out != self.chaos.outage() {
            tracing::info!(
                outage = !was_out,
                "simulated network: {}",
                if was_out { "reconnected" } else { "disconnected" }
            );
        }
        let now = self.chaos.to_json();
        self.events.publish(Event::ChaosChanged { chaos: now.clone() });
        Ok(now)
    }

    /// `POST /simulator/chaos/next`: `{"count": N, "outcome": …}`, the next N
    /// messages accepted get exactly that outcome.
    pub fn force_outcomes(&self, body: &Map<String, Value>) -> Result<Value, WaError> {
        let count = match body.get("count") {
            None | Some(Value::Null) => 1,
            Some(v) => v.as_u64().filter(|n| (1..=MAX_FORCED).contains(n)).ok_or_else(|| {
                WaError::invalid(format!(
                    "Parameter 'count' has invalid value '{}': from 1 to {MAX_FORCED}",
                    wabiz_domain::error::shown(v)
                ))
            })?,
        };
        let mut rest = body.clone();
        rest.remove("count");
        let outcome = Outcome::parse(&rest)?;
        let waiting = self
            .chaos
            .force(outcome, count)
            .map_err(|room| WaError::invalid(format!("At most {MAX_FORCED} outcomes wait; room is left for {room}")))?;
        let now = self.chaos.to_json();
        self.events.publish(Event::ChaosChanged { chaos: now.clone() });
        Ok(json!({ "waiting": waiting }))
    }
}
