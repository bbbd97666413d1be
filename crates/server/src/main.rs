use std::process::ExitCode;

use clap::Parser as _;
use wabiz::config::process_env;
use wabiz::{App, BuildOptions, Cli, Command, telemetry};

/// mimalloc instead of glibc's allocator: requests allocate on the tokio
/// workers and free on the SQLite writer (and back), and glibc's arenas
/// paid for that in locks and consolidation, a quarter of the workers'
/// time. Paired runs (two benches at once) gave 20-28 % more sends per
/// second and a fifth less CPU per message (docs/performance.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => {
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
    }
}
