use std::process::ExitCode;

use wabiz::admin::{self, exit_code};
use wabiz::config::file::{self, ConfigError};
use wabiz::config::{effective, process_env};
use wabiz::{App, BuildOptions, Command, ServeArgs, telemetry};

/// mimalloc instead of glibc's allocator: requests allocate on the tokio
/// workers and free on the SQLite writer (and back), and glibc's arenas
/// paid for that in locks and consolidation, a quarter of the workers'
/// time. Paired runs (two benches at once) gave 20-28 % more sends per
/// second and a fifth less CPU per message (docs/performance.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let parsed = match file::parse(std::env::args_os().collect()) {
        Ok(p) => p,
        Err(ConfigError::Cli(e)) => e.exit(),
        Err(ConfigError::File(message)) => {
            eprintln!("wabiz: {message}");
            return ExitCode::from(2);
        }
    };
    match parsed.cli.command {
        Command::Serve(ref args) => serve(args.clone()).await,
        Command::Config(ref args) => {
            print!("{}", effective::render(&parsed, &process_env));
            match args.clone().resolve(&process_env) {
                Ok(_) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("wabiz: this configuration would not start: {e}");
                    ExitCode::from(2)
                }
            }
        }
        Command::Backup(ref args) => exit_code(admin::backup::backup(args)),
        Command::Restore(ref args) => exit_code(admin::backup::restore(args)),
        Command::Users(command) => exit_code(admin::users::run(command).await),
        Command::Db(command) => exit_code(admin::db::run(command).await),
        Command::Healthcheck(ref args) => exit_code(admin::healthcheck::run(args).await),
    }
}

async fn serve(args: ServeArgs) -> ExitCode {
    let config = match args.resolve(&process_env) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("wabiz: {e}");
            return ExitCode::from(2);
        }
    };
    let log_filter = telemetry::init(config.log_format);
    let app = match App::build(config, BuildOptions { log_filter, ..BuildOptions::default() }).await {
        Ok(app) => app,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "wabiz could not start");
            eprintln!("wabiz: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    match app.run_until_stopped().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "wabiz stopped with an error");
            ExitCode::FAILURE
        }
    }
}
