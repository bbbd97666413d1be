//! `wabiz db status` and `wabiz db migrate`.

use clap::Subcommand;

use super::{Failure, StoreArgs};

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// The database's schema version, the newest this binary knows, and the
    /// migrations still to apply. Changes nothing. Exits 0 when the schema is
    /// up to date, 3 when migrations are pending, 2 when this binary is older
    /// than the schema.
    Status(StoreArgs),
    /// Applies the pending migrations (creating the database if there is
    /// none), as `wabiz serve` does at start, and stops.
    Migrate(StoreArgs),
}

pub async fn run(command: DbCommand) -> Result<(), Failure> {
    match command {
        DbCommand::Status(args) => status(&args).await,
        DbCommand::Migrate(args) => migrate(&args).await,
    }
}

async fn status(args: &StoreArgs) -> Result<(), Failure> {
    let cfg = args.database_config().map_err(Failure::refused)?;
    let status = wabiz_store::schema::status(&cfg).await.map_err(Failure::failed)?;
    println!("database:       {}", cfg.describe());
    if !status.exists {
        println!("schema version: none (no wabiz database yet)");
    } else {
        println!("schema version: {}", status.version());
    }
    println!("this wabiz:     {} (schema version {})", env!("CARGO_PKG_VERSION"), status.latest_known());
    let pending = status.pending().map_err(Failure::refused)?;
    if pending.is_empty() {
        println!("pending:        none: the schema is up to date");
        return Ok(());
    }
    println!("pending:        {} migration(s), applied by `wabiz db migrate` or at the next start:", pending.len());
    for m in &pending {
        println!("  {:>4} {}", m.version, m.name);
    }
    Err(Failure { message: format!("{} migration(s) pending", pending.len()), code: 3 })
}

async fn migrate(args: &StoreArgs) -> Result<(), Failure> {
    let cfg = args.database_config().map_err(Failure::refused)?;
    // Not under a running node: it would go on with a schema it does not
    // know. (PostgreSQL nodes migrate under an advisory lock themselves.)
    let _lock = match &cfg {
        wabiz_store::DatabaseConfig::Sqlite { path } => Some(
            crate::data_lock::DataLock::for_database(path)
                .map_err(|e| Failure::refused(format!("{e}; stop it first (a node migrates at start by itself)")))?,
        ),
        wabiz_store::DatabaseConfig::Postgres { .. } => None,
    };
    let before = wabiz_store::schema::status(&cfg).await.map_err(Failure::failed)?;
    let pending = before.pending().map_err(Failure::refused)?;
    let store = wabiz_store::open(&cfg).await.map_err(|e| Failure::failed(format!("{}: {e}", cfg.describe())))?;
    store.close().await;
    if pending.is_empty() {
        println!("{}: the schema is already at version {}; nothing to do", cfg.describe(), before.version());
    } else {
        for m in &pending {
            println!("applied {:>4} {}", m.version, m.name);
        }
        println!("{}: the schema is now at version {}", cfg.describe(), before.latest_known());
    }
    Ok(())
}
