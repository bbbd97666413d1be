//! Settings of the account and the application (`settings.md`, `registration.md` §4):
//! their models, validation and the service that keeps them.

pub mod application;
pub mod backup;
pub mod business;
pub mod photo;
pub mod providers;
pub mod service;

pub use service::{PatchOutcome, SettingsConfig, SettingsService};
