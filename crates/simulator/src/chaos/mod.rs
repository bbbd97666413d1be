//! Chaos on demand (`GET|PUT /simulator/chaos`, `POST /simulator/chaos/next`):
//! the simulated network on a bad day, reproducibly. At acceptance each
//! outbound message gets a [`DeliveryPlan`] (its delays, where it stops, how
//! it fails, what happens to its callbacks), stored with it; the steps follow
//! it from then on, whatever happens to the chaos settings or the process.
//!
//! The n-th message accepted after a `PUT` draws its plan from the seed and
//! n alone (`draw.rs`), so the same seed and the same sends, in the same
//! order, give the same outcomes. Chaos lives in this process: it is off
//! after a restart, and each node of a deployment has its own.

pub mod config;
mod draw;

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{Value, json};
use tokio::sync::Notify;
use wabiz_domain::messages::plan::DeliveryPlan;

pub use config::{ChaosConfig, Outcome};

/// The most forced outcomes waiting (`chaos/next`).
pub const MAX_FORCED: u64 = 100_000;

struct State {
    config: ChaosConfig,
    /// Messages planned since the last `PUT`.
    ordinal: u64,
    /// Forced outcomes, each with how many messages it still takes.
    forced: VecDeque<(Outcome, u64)>,
}

pub struct Chaos {
    state: Mutex<State>,
    /// Whether any message gets a plan: read on every send without the lock.
    shaping: AtomicBool,
    outage: AtomicBool,
    /// Rung when the outage ends (the receipt worker waits on it).
    pub reconnected: Notify,
}

impl Default for Chaos {
    fn default() -> Self {
        Self {
            state: Mutex::new(State { config: ChaosConfig::default(), ordinal: 0, forced: VecDeque::new() }),
            shaping: AtomicBool::new(false),
            outage: AtomicBool::new(false),
            reconnected: Notify::new(),
        }
    }
}

impl Chaos {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn refresh(&self, st: &State) {
        self.shaping.store(st.config.shapes_messages() || !st.forced.is_empty(), Ordering::Release);
        let was_out = self.outage.swap(st.config.outage, Ordering::AcqRel);
        if was_out && !st.config.outage {
            self.reconnected.notify_waiters();
        }
    }

    /// Replaces the settings (and drops forced outcomes); the count of
    /// planned messages starts again.
    pub fn replace(&self, config: ChaosConfig) {
        let mut st = self.state();
        st.config = config;
        st.ordinal = 0;
        st.forced.clear();
        self.refresh(&st);
    }

    /// The next `count` messages get `outcome`, after those already forced.
    pub fn force(&self, outcome: Outcome, count: u64) -> Result<u64, u64> {
        let mut st = self.state();
        let waiting: u64 = st.forced.iter().map(|(_, n)| n).sum();
        if waiting + count > MAX_FORCED {
            return Err(MAX_FORCED - waiting);
        }
        st.forced.push_back((outcome, count));
        self.refresh(&st);
        Ok(waiting + count)
    }

    /// Whether the simulated network is disconnected.
    pub fn outage(&self) -> bool {
        self.outage.load(Ordering::Acquire)
    }

    /// The plan of the next accepted message; `None` while chaos leaves
    /// messages alone.
    pub fn plan_next(&self) -> Option<DeliveryPlan> {
        if !self.shaping.load(Ordering::Acquire) {
            return None;
        }
        let mut st = self.state();
        let mut plan = match st.forced.front_mut() {
            Some((outcome, left)) => {
                let plan = draw::forced(outcome);
                *left -= 1;
                if *left == 0 {
                    st.forced.pop_front();
                }
                self.refresh(&st);
                plan
            }
            None => {
                st.ordinal += 1;
                draw::plan(&st.config, st.ordinal)
            }
        };
        // Chaos's delays hold for forced outcomes too.
        if plan.delays_ms.is_none() {
            plan.delays_ms = draw::delays(&st.config, st.ordinal);
        }
        (!plan.is_empty()).then_some(plan)
    }

    /// `GET /simulator/chaos`: the settings, the forced outcomes waiting and
    /// how many messages were planned since the last `PUT`.
    pub fn to_json(&self) -> Value {
        let st = self.state();
        let mut v = st.config.to_json();
        v["next"] = st
            .forced
            .iter()
            .map(|(o, n)| {
                let mut o = o.to_json();
                o["count"] = json!(n);
                o
            })
            .collect::<Vec<_>>()
            .into();
        v["planned"] = json!(st.ordinal);
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wabiz_domain::error::ErrorCode;
    use wabiz_domain::messages::MessageStatus;

    fn config(v: Value) -> ChaosConfig {
        ChaosConfig::parse(v.as_object().unwrap()).unwrap()
    }

    #[test]
    fn off_by_default_and_after_an_empty_put() {
        let chaos = Chaos::default();
        assert_eq!(chaos.plan_next(), None);
        chaos.replace(config(json!({"never_read": 1})));
        assert!(chaos.plan_next().is_some());
        chaos.replace(config(json!({})));
        assert_eq!(chaos.plan_next(), None);
        assert!(!chaos.outage());
    }

    #[test]
    fn the_same_seed_gives_the_same_plans() {
        let c = json!({"seed": 9, "never_read": 0.5, "failures": [{"rate": 0.2, "code": 470}],
                       "delays": {"delivered": [0, 1000]}, "webhooks": {"duplicate": 0.3}});
        let run = || {
            let chaos = Chaos::default();
            chaos.replace(config(c.clone()));
            (0..200).map(|_| chaos.plan_next()).collect::<Vec<_>>()
        };
        let (a, b) = (run(), run());
        assert_eq!(a, b);
        // Another seed, other plans.
        let chaos = Chaos::default();
        chaos.replace(config(json!({"seed": 10, "never_read": 0.5, "failures": [{"rate": 0.2, "code": 470}],
                                    "delays": {"delivered": [0, 1000]}, "webhooks": {"duplicate": 0.3}})));
        let other: Vec<_> = (0..200).map(|_| chaos.plan_next()).collect();
        assert_ne!(a, other);
        // The shares come out near what was asked.
        let failed = a.iter().flatten().filter(|p| p.fail.is_some()).count();
        assert!((20..=60).contains(&failed), "{failed} of 200 failed at a 20% rate");
    }

    #[test]
    fn forced_outcomes_come_first_in_order() {
        let chaos = Chaos::default();
        chaos.force(Outcome::Failed { code: ErrorCode::ReceiverIncapable, step: MessageStatus::Sent }, 2).unwrap();
        chaos.force(Outcome::Delivered, 1).unwrap();
        let fail = chaos.plan_next().unwrap().fail.unwrap();
        assert_eq!((fail.from, fail.errors.code()), (MessageStatus::Sent, Some(ErrorCode::ReceiverIncapable)));
        assert!(chaos.plan_next().unwrap().fail.is_some());
        assert_eq!(chaos.plan_next().unwrap().stop_at, Some(MessageStatus::Delivered));
        assert_eq!(chaos.plan_next(), None, "then chaos is off again");
        assert_eq!(chaos.force(Outcome::Read, MAX_FORCED + 1), Err(MAX_FORCED));
    }
}
