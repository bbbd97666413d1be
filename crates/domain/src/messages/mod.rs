//! Outbound and inbound messages (`messages.md`).

pub mod inbound;
pub mod service;
pub mod templates;
pub mod validate;

pub use service::{MessageService, Sent};
