//! The commands that work on a node's data rather than serve it: back up
//! and restore, users, the schema, and the health probe for containers.
//! Each prints what it did for a person and returns the process's exit code.

pub mod backup;
pub mod db;
pub mod healthcheck;
pub mod users;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;
use wabiz_domain::ports::Store;
use wabiz_store::DatabaseConfig;

/// Where a node's data is: the same options (and config file) as `serve`.
#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    /// `wabiz serve`'s config file; only `data-dir` and `database` are read from it here.
    #[arg(long, env = "WABIZ_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// The node's data folder.
    #[arg(long, env = "WABIZ_DATA_DIR", value_name = "DIR", default_value = "./wabiz-data")]
    pub data_dir: PathBuf,

    /// The database URL, when it is not SQLite at DATA_DIR/wabiz.db.
    #[arg(long, env = "WABIZ_DATABASE", value_name = "URL", hide_env_values = true)]
    pub database: Option<String>,
}

impl StoreArgs {
    pub fn database_config(&self) -> Result<DatabaseConfig, String> {
        crate::config::database_config(self.database.as_deref(), &self.data_dir)
    }
}

/// A command's failure: the message for the person, and the exit code.
pub struct Failure {
    pub message: String,
    pub code: u8,
}

impl Failure {
    /// Something went wrong while doing the work (exit code 1).
    pub fn failed(message: impl Into<String>) -> Failure {
        Failure { message: message.into(), code: 1 }
    }

    /// The request cannot be done as asked (exit code 2).
    pub fn refused(message: impl Into<String>) -> Failure {
        Failure { message: message.into(), code: 2 }
    }
}

/// Prints a failure the way every command does.
pub fn exit_code(result: Result<(), Failure>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("wabiz: {}", f.message);
            ExitCode::from(f.code)
        }
    }
}

/// Opens the store for an offline command, after checking that its schema
/// is the one this binary writes: these commands never migrate on the side.
pub async fn open_store(args: &StoreArgs) -> Result<Arc<dyn Store>, Failure> {
    let cfg = args.database_config().map_err(Failure::refused)?;
    let status = wabiz_store::schema::status(&cfg).await.map_err(Failure::failed)?;
    if !status.exists {
        return Err(Failure::refused(format!(
            "there is no wabiz database at {} yet: `wabiz serve` (or `wabiz db migrate`) creates it",
            cfg.describe()
        )));
    }
    let pending = status.pending().map_err(Failure::refused)?;
    if !pending.is_empty() {
        return Err(Failure::refused(format!(
            "the database's schema is version {}, and this wabiz writes version {}: run `wabiz db migrate` first",
            status.version(),
            status.latest_known()
        )));
    }
    wabiz_store::open(&cfg).await.map_err(|e| Failure::failed(format!("{}: {e}", cfg.describe())))
}
