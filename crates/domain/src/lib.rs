//! The domain of wabiz: everything that is true of the On-Premises API whatever
//! the transport (HTTP) or the storage engine (SQLite, PostgreSQL).
//!
//! Nothing here knows about axum, SQL or sockets. The storage engines and the
//! simulated network implement the traits in [`ports`] and [`network`]; the HTTP
//! layer calls the services (users, settings, account, contacts, media,
//! messages, groups, garbage collection) and renders [`error::WaError`] values.
//! A message's lifecycle is typed in [`messages::lifecycle`]; every id the
//! server makes comes from [`ids`].

pub mod access;
pub mod account;
pub mod callbacks;
pub mod certificates;
pub mod clock;
pub mod cluster;
pub mod contacts;
pub mod db_stats;
pub mod error;
pub mod events;
pub mod gc;
pub mod groups;
pub mod hex;
pub mod ids;
pub mod media;
pub mod messages;
pub mod network;
pub mod phone;
pub mod ports;
pub mod ratelimit;
pub mod relay;
pub mod settings;
pub mod traffic;
pub mod users;

pub use error::{ErrorCode, ErrorItem, WaError};
