//! Outbound and inbound messages (`messages.md`).

pub mod counters;
pub mod lifecycle;
pub mod plan;
pub mod registry;
pub mod service;
pub mod template_policy;
pub mod templates;
pub mod validate;

pub use counters::OutMessageCounters;
pub use lifecycle::{Direction, Failure, MessageStatus, PricingCategory, RecipientType};
pub use service::{MessageService, Sent};
