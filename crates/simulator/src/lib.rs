//! The simulated network (`--network simulator`, the default): an offline
//! stand-in for WhatsApp's servers. Today it holds the business number's
//! registration state (which `/v1/health` reports as `gateway_status`) and the
//! receipts of outbound messages; inbound customers and templates build on it.

pub mod account;
pub mod links;
pub mod receipts;

pub use account::{SimulatedNetwork, SimulatorOptions};
pub use receipts::{Customer, Delays, MAGIC_NUMBERS};
