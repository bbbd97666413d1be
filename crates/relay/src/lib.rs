//! The Cloud API relay (`--network cloud`, issue 23): the same `/v1` API,
//! with the real work carried to Meta's Cloud API (Graph API) and Cloud's
//! webhooks turned back into On-Premises callbacks.
//!
//! What is here so far are the relay's rules that need no network: the
//! webhook signature (`signature`), what a Cloud error means for an
//! On-Premises client (`errors`), what a Cloud webhook tells an On-Premises
//! one (`inbound`), and how an On-Premises send becomes a Cloud one
//! (`outbound`); the Graph API calls for one number (`graph`); and the
//! relay's options, checked at start (`config`), whose secrets never print
//! (`secret`). `cloud-mapping.md` (the spec) is their
//! source; the version-dependent rules live in this crate and nowhere else.
//! Nothing starts the relay yet: `--network` accepts `simulator` only.

pub mod config;
pub mod errors;
pub mod graph;
pub mod inbound;
pub mod outbound;
pub mod secret;
pub mod signature;
