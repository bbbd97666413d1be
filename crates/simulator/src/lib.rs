//! The simulated network (`--network simulator`, the default): an offline
//! stand-in for WhatsApp's servers. Today it holds the business number's
//! registration state, which `/v1/health` reports as `gateway_status`;
//! customers, receipts, inbound messages and templates build on it.

pub mod account;

pub use account::{SimulatedNetwork, SimulatorOptions};
