//! Outbound and inbound messages (`messages.md`).

pub mod counters;
pub mod inbound;
pub mod service;
pub mod templates;
pub mod validate;

pub use counters::OutMessageCounters;
pub use service::{MessageService, Sent};
