//! The Cloud API relay (`--network cloud`, issue 23): the same `/v1` API,
//! with the real work carried to Meta's Cloud API (Graph API) and Cloud's
//! webhooks turned back into On-Premises callbacks.
//!
//! - The rules that need no network: the webhook signature (`signature`),
//!   what a Cloud error means for an On-Premises client (`errors`), what a
//!   Cloud webhook tells an On-Premises one (`inbound`), how an On-Premises
//!   send becomes a Cloud one (`outbound`), and the relay's options checked
//!   at start (`config`), whose secrets never print (`secret`).
//! - The Graph API calls for one number (`graph`).
//! - The relay at work: the server's `Network` (`network`), the sender that
//!   hands queued sends to Cloud in order (`sender`), the webhook endpoint
//!   (`webhook`) and the statuses it applies in order, once (`statuses`);
//!   customers Cloud names by user id only (`users`); the business's
//!   profile written through to Cloud (`profile`).
//!
//! `cloud-mapping.md` (the spec) is their source; the version-dependent
//! rules live in this crate and nowhere else.

pub mod config;
pub mod errors;
pub mod graph;
pub mod inbound;
pub mod network;
pub mod outbound;
pub mod profile;
pub mod secret;
pub mod sender;
pub mod signature;
pub mod statuses;
pub mod users;
pub mod webhook;

pub use config::{RelayConfig, RelayOptions};
pub use network::RelayNetwork;
