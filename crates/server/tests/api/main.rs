//! One integration-test binary (one link step): every test starts the real
//! server and talks HTTP(S) to it.

// A test (and its helpers) stops loudly where something it relies on failed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;

mod access_matrix;
mod auth;
mod certificates;
mod chaos;
mod chats;
mod clients;
mod cluster;
mod conformance;
mod console;
mod console_browser;
mod contacts;
mod crash;
mod described;
mod errors;
mod events;
mod graph_standin;
mod groups;
mod health;
mod inbound;
mod lifecycle;
mod media;
mod messages;
mod openapi;
mod operating;
mod receipts;
mod receiver;
mod registration;
mod relay;
mod relay_contract;
mod relay_crash;
mod services;
mod settings;
mod sse;
mod stats;
mod templates;
mod traffic;
mod uploads_fuzz;
mod users;
mod webhook_trust;
mod webhooks;
