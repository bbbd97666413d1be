//! The simulated network (`--network simulator`, the default): an offline
//! stand-in for WhatsApp's servers, implementing the domain's `Network`.
//!
//! - `account.rs`: the network itself: the business number and its
//!   registration flow, and how it takes accepted messages in;
//! - `customers.rs`: the simulated customers (the magic numbers) and their
//!   replies; `inbound.rs`: customers' messages in the callback shape;
//! - `steps.rs`: the steps of an outbound message and the callbacks that
//!   report them; `receipts.rs`: the worker that takes them when due, and
//!   the same steps taken at acceptance; `links.rs`: media sent by link;
//! - `chaos/`: the network on a bad day, per message, from a seed;
//! - `traffic/`: generated traffic, customers writing in at a rate;
//! - `control/`: the control plane the `/simulator` routes call.

pub mod account;
pub mod chaos;
pub mod control;
pub mod customers;
pub mod inbound;
pub mod links;
pub mod profile;
pub mod receipts;
pub mod steps;
pub mod traffic;
pub mod wa_ids;

pub use account::{SimulatedNetwork, SimulatorOptions};
pub use control::SimulatorControl;
pub use customers::{Customer, MAGIC_NUMBERS};
pub use steps::Delays;
