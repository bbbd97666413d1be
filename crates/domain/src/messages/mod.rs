//! Outbound and inbound messages (`messages.md`).

pub mod validate;
