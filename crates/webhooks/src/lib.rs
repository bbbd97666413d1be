//! Webhook delivery (`webhooks.md`): the engine that takes stored callbacks to
//! the configured URL, with the settings' backoff, concurrency limit and
//! filters, and what it reports about itself.
//!
//! Which callbacks exist is decided by their producers
//! (`wabiz_domain::callbacks`); which webhook URLs are acceptable is a settings
//! rule (`wabiz_domain::settings::application`).

pub mod backoff;
pub mod body;
pub mod client;
pub mod engine;
pub mod metrics;
pub mod test_call;
pub mod trust;

pub use engine::{Engine, EngineConfig, prepare_queue};
pub use metrics::Metrics;
pub use test_call::{TestOutcome, Tester};
