//! The `wabiz` server: configuration, TLS, logging and the composition of the
//! other crates into a running node. `main.rs` is a thin shell around [`App`].

pub mod admin;
pub mod app;
pub mod config;
pub mod data_lock;
pub mod telemetry;
pub mod tls;

pub use app::{App, BuildOptions};
pub use config::{Cli, Command, Config, ServeArgs};
