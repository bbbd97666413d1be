//! `wabiz-bench`: measures the release `wabiz serve` under a matrix of
//! workloads (`workload.rs`), each on SQLite and on PostgreSQL, everything
//! measured on one machine with the same load generator (wrk, from Debian's
//! `wrk` package). For each case (`run.rs`):
//!
//! 1. a fresh database (SQLite in a temporary data dir, or a PostgreSQL
//!    database created for the run and dropped after it), and the history
//!    of earlier messages if the workload has one (`fixture.rs`);
//! 2. the node (or three multiconnect nodes) started (`server.rs`), the
//!    admin logged in, the webhook pointed at a receiver in this process
//!    (`receiver.rs`), the campaign's template registered (`setup.rs`);
//! 3. the baseline: `GET /` on the same listener (no auth, no storage: what
//!    this machine's HTTP stack does) with wrk;
//! 4. the load (`wrk.rs`), while a probe sends one message every 20 ms and
//!    times it from the send to its `delivered` callback (`probe.rs`);
//! 5. waits until every accepted message's callbacks have reached the
//!    receiver, and prints the rate, p50/p99, the ratio to the baseline,
//!    the rate of the first and last ten seconds, callbacks delivered per
//!    second, CPU per message and peak RSS.
//!
//! `--workload NAME` runs one case; without it every case runs, each in a
//! bench process of its own, and one table sums them up (`matrix.rs`).
//! With `--against B`, two runs go at once, one per binary, and each
//! figure's ratio is printed (`compare.rs`).

mod cloud;
mod compare;
mod database;
mod fixture;
mod machine;
mod matrix;
mod numbers;
mod probe;
mod receiver;
mod run;
mod server;
mod setup;
mod workload;
mod wrk;

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Parser;

use run::Settings;
use workload::{Case, Engine, Workload};

#[derive(Debug, Parser)]
#[command(about = "Measure wabiz under a matrix of workloads: throughput, latency, webhook delivery, CPU and memory \
                   against a baseline route")]
struct Args {
    /// Run one workload (default: the whole matrix).
    #[arg(long, value_enum)]
    workload: Option<Workload>,
    /// The store. With the whole matrix: only that engine's rows.
    #[arg(long, value_enum)]
    database: Option<Engine>,
    /// Multiconnect nodes sharing one PostgreSQL database (with `--workload`).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=8))]
    nodes: u32,
    /// A PostgreSQL database the bench may connect to, to create (and drop)
    /// a fresh database for each PostgreSQL run.
    #[arg(long, env = "WABIZ_BENCH_POSTGRES", default_value = "postgres://postgres@127.0.0.1:5432/test")]
    postgres: String,
    /// Seconds of load for each workload (the baseline gets at most 10).
    #[arg(long, default_value_t = 60)]
    duration: u64,
    /// Concurrent connections of the load generator (shared out between the
    /// nodes of a multiconnect run).
    #[arg(long, default_value_t = 64)]
    connections: u32,
    /// Load generator threads (per node).
    #[arg(long, default_value_t = 1)]
    threads: u32,
    /// The wabiz binary (default: next to this one).
    #[arg(long)]
    wabiz: Option<PathBuf>,
    /// `webhooks.max_concurrent_requests` (6, 12, 18 or 24).
    #[arg(long, default_value_t = 6)]
    webhook_concurrency: u32,
    /// Longest wait for the last callbacks after the load ends, in seconds.
    #[arg(long, default_value_t = 120)]
    drain_timeout: u64,
    /// A second wabiz binary: both are measured at the same time, each by
    /// its own bench, and the figures printed side by side with their ratio.
    #[arg(long)]
    against: Option<PathBuf>,
    /// Ends the output with the outcome as JSON (for the matrix's parent).
    #[arg(long, hide = true)]
    emit_outcome: bool,
}

impl Args {
    /// The cases to run: the one asked for, or the matrix (of one engine).
    fn cases(&self) -> Result<Vec<Case>> {
        let Some(workload) = self.workload else {
            return Ok(Case::matrix().into_iter().filter(|c| self.database.is_none_or(|e| c.engine == e)).collect());
        };
        let engine = self.database.unwrap_or(Engine::Sqlite);
        if self.nodes > 1 && engine != Engine::Postgres {
            bail!("several nodes share a PostgreSQL database: add --database postgres");
        }
        Ok(vec![Case { workload, engine, nodes: self.nodes }])
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let _ = rustls::crypto::ring::default_provider().install_default();
    wrk::check_installed()?;
    let bin = match &args.wabiz {
        Some(b) => b.clone(),
        None => std::env::current_exe()?.with_file_name("wabiz"),
    };
    if !bin.exists() {
        bail!("{} not found: build it first (cargo build --release -p wabiz -p wabiz-bench)", bin.display());
    }
    let settings = Settings {
        bin: bin.clone(),
        duration: args.duration,
        connections: args.connections,
        threads: args.threads,
        webhook_concurrency: args.webhook_concurrency,
        drain_timeout: args.drain_timeout,
        postgres: args.postgres.clone(),
    };
    let cases = args.cases()?;
    if let Some(other) = &args.against {
        if !other.exists() {
            bail!("{} not found", other.display());
        }
        for case in &cases {
            compare::run(&bin, other, case, &settings)?;
            println!();
        }
        return Ok(());
    }
    let (Some(_), [case]) = (args.workload, cases.as_slice()) else { return matrix::run(&cases, &settings) };
    println!(
        "wabiz bench: {} on {}, {}, {} s of load, {} connections, {} wrk thread(s), webhook concurrency {}",
        case.workload.name(),
        case.engine_label(),
        machine::describe(),
        args.duration,
        args.connections,
        args.threads,
        args.webhook_concurrency
    );
    let outcome = run::run(*case, &settings).await?;
    outcome.print_table();
    if args.emit_outcome {
        println!("{}{}", matrix::OUTCOME_TAG, serde_json::to_string(&outcome)?);
    }
    if !outcome.all_delivered() {
        bail!(
            "FAILED: only {} of {} {} reached the receiver within the run ({} failed statuses)",
            outcome.delivered,
            outcome.expected,
            outcome.items(),
            outcome.failed
        );
    }
    Ok(())
}
