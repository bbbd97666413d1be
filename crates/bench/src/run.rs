//! One case of the matrix, start to finish: a fresh database, the history
//! if the workload has one, the nodes, the baseline, the load with the
//! probe, the wait for every callback, and what it all measured.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::cloud::CloudStandIn;
use crate::database::{self, FreshDatabase};
use crate::fixture::{self, Loaded};
use crate::machine::{self, MachineCpu};
use crate::probe::{self, Probe};
use crate::receiver::Receiver;
use crate::server::{Server, Spec};
use crate::setup::{self, Api};
use crate::workload::{Case, Engine, Traffic};
use crate::{numbers, wrk};

/// The knobs every case shares.
#[derive(Debug, Clone)]
pub struct Settings {
    pub bin: PathBuf,
    pub duration: u64,
    pub connections: u32,
    pub threads: u32,
    pub webhook_concurrency: u32,
    pub drain_timeout: u64,
    /// A PostgreSQL database to connect to for creating the run's own.
    pub postgres: String,
}

/// Message shards of a multiconnect run: one per node that is not the
/// primary master, as `multiconnect.md` lays out three nodes.
const MULTICONNECT_SHARDS: u32 = 2;

/// Give up waiting for callbacks when none came for this long.
const STALL: Duration = Duration::from_secs(30);

/// What one case measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Outcome {
    pub case: Case,
    pub duration: u64,
    pub history: Option<Loaded>,
    pub baseline_per_sec: f64,
    pub baseline_p50_ms: f64,
    pub baseline_p99_ms: f64,
    /// Requests answered 201 per second.
    pub accepted_per_sec: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub non_2xx: u64,
    pub socket_errors: u64,
    /// Requests made per second in the first and the last ten whole seconds.
    pub first_and_last_ten: Option<(f64, f64)>,
    /// Callback items the receiver must hear: three statuses per accepted
    /// send, or one message per accepted inbound message.
    pub expected: u64,
    pub delivered: u64,
    /// `failed` statuses among them.
    pub failed: u64,
    pub delivered_per_sec: f64,
    /// From the start of the load until the last expected item arrived (or
    /// the wait gave up).
    pub drained_after: f64,
    /// Probes heard of, and their send → `delivered` p50 and p99 in ms.
    pub probe: Option<(usize, f64, f64)>,
    pub webhook_posts: u64,
    pub cpu_us_per_message: f64,
    /// PostgreSQL: the CPU of the run database's backends per accepted message.
    pub database_cpu_us_per_message: Option<f64>,
    /// The largest peak RSS of the nodes.
    pub peak_rss_mib: f64,
    /// While the load ran: the share of the machine's CPU other processes
    /// used (PostgreSQL's background processes among them), and the share
    /// the hypervisor stole.
    pub other_cpu_share: f64,
    pub steal_share: f64,
}

impl Outcome {
    pub fn all_delivered(&self) -> bool {
        self.delivered >= self.expected && self.failed == 0
    }

    pub fn ratio(&self) -> f64 {
        self.accepted_per_sec / self.baseline_per_sec
    }

    /// What the delivered items are.
    pub fn items(&self) -> &'static str {
        match self.case.workload.traffic() {
            Traffic::Sends => "statuses",
            Traffic::Inbound => "inbound messages",
        }
    }

    /// The `| measure | value |` table (`compare.rs` reads it back).
    pub fn print_table(&self) {
        let c = &self.case;
        let (verb, path) = match c.workload.traffic() {
            Traffic::Sends => ("sends", "`POST /v1/messages`"),
            Traffic::Inbound => ("inbound messages", "`POST /simulator/inbound`"),
        };
        println!();
        println!("| measure | value |");
        println!("|---|---:|");
        println!("| workload | {} on {} |", c.workload.name(), c.engine_label());
        if let Some(h) = self.history {
            println!("| history loaded before the run | {} messages in {:.1} s |", h.messages, h.seconds);
        }
        println!("| baseline `GET /` requests/s | {:.0} |", self.baseline_per_sec);
        println!("| baseline p50 / p99 | {:.2} ms / {:.2} ms |", self.baseline_p50_ms, self.baseline_p99_ms);
        println!("| accepted {verb}/s ({path}, 201) | {:.0} |", self.accepted_per_sec);
        println!("| {verb} p50 / p99 | {:.2} ms / {:.2} ms |", self.p50_ms, self.p99_ms);
        println!("| {verb} / baseline | {:.3} |", self.ratio());
        println!("| non-201 answers / socket errors | {} / {} |", self.non_2xx, self.socket_errors);
        if let Some((first, last)) = self.first_and_last_ten {
            println!(
                "| requests/s, first 10 s → last 10 s | {first:.0} → {last:.0} ({:+.1} %) |",
                (last / first - 1.0) * 100.0
            );
        }
        println!("| {} delivered (of {}) | {} |", self.items(), self.expected, self.delivered);
        if self.failed > 0 {
            println!("| failed statuses among them | {} |", self.failed);
        }
        println!("| {} delivered/s (first to last callback) | {:.0} |", self.items(), self.delivered_per_sec);
        println!("| all delivered after (from load start) | {:.1} s |", self.drained_after);
        if let Some((n, p50, p99)) = self.probe {
            println!("| send → delivered callback p50 / p99 ({n} probes) | {p50:.1} ms / {p99:.1} ms |");
        }
        println!("| webhook POSTs | {} |", self.webhook_posts);
        println!("| server CPU per accepted message (and its callbacks) | {:.0} µs |", self.cpu_us_per_message);
        if let Some(db) = self.database_cpu_us_per_message {
            println!("| PostgreSQL backends' CPU per accepted message | {db:.0} µs |");
        }
        println!("| server peak RSS | {:.0} MiB |", self.peak_rss_mib);
        println!(
            "| machine CPU used by other processes / stolen, during the load | {:.1} % / {:.1} % |",
            self.other_cpu_share * 100.0,
            self.steal_share * 100.0
        );
    }
}

/// The nodes of a run and their data dirs.
struct Deployment {
    nodes: Vec<Server>,
    _dirs: Vec<tempfile::TempDir>,
}

/// The CPU counters of everything a run looks at, at one moment.
struct Snapshot {
    /// The nodes together.
    servers: Duration,
    /// The run database's PostgreSQL backends.
    backends: Option<HashMap<u32, Duration>>,
    /// The bench and the wrk processes it has waited for.
    own: Duration,
    machine: MachineCpu,
}

impl Snapshot {
    async fn take(deployment: &Deployment, fresh: Option<&FreshDatabase>) -> Result<Snapshot> {
        let backends = match fresh {
            Some(db) => Some(db.backends_cpu().await?),
            None => None,
        };
        Ok(Snapshot {
            servers: deployment.nodes.iter().map(Server::cpu_time).sum(),
            backends,
            own: machine::own_cpu(),
            machine: MachineCpu::now(),
        })
    }

    /// The machine's CPU used by other processes, and stolen, from this
    /// snapshot until `later`, as shares of the machine.
    fn shares_until(&self, later: &Snapshot) -> (f64, f64) {
        let backends = self.backends.as_ref().zip(later.backends.as_ref()).map(|(b, a)| database::backends_used(b, a));
        let known = later.servers.saturating_sub(self.servers)
            + later.own.saturating_sub(self.own)
            + backends.unwrap_or_default();
        machine::shares(self.machine, later.machine, known)
    }
}

/// Runs `case` and returns what it measured.
pub async fn run(case: Case, settings: &Settings) -> Result<Outcome> {
    let database = match case.engine {
        Engine::Sqlite => None,
        Engine::Postgres => Some(FreshDatabase::create(&settings.postgres).await?),
    };
    let result = measure(case, settings, database.as_ref()).await;
    if let Some(db) = database
        && let Err(e) = db.drop_database().await
    {
        eprintln!("could not drop the run's database: {e:#}");
    }
    result
}

async fn measure(case: Case, settings: &Settings, fresh: Option<&FreshDatabase>) -> Result<Outcome> {
    let w = case.workload;
    let database = fresh.map(|d| d.url.as_str());
    let cloud = if w.relay() { Some(CloudStandIn::start(setup::client()?).await?) } else { None };
    let spec = Spec {
        bin: &settings.bin,
        scheme: w.scheme(),
        instant_receipts: w.instant_receipts(),
        open_window: w.open_window(),
        database,
        multiconnect: case.nodes > 1,
        relay: cloud.as_ref().map(CloudStandIn::relay_args).unwrap_or_default(),
    };
    let dirs: Vec<tempfile::TempDir> = (0..case.nodes).map(|_| tempfile::tempdir()).collect::<Result<_, _>>()?;
    let history = match w.history() {
        Some(h) => Some(load_history(&spec, dirs[0].path(), database, &h).await?),
        None => None,
    };
    let receiver = Arc::new(Receiver::start().await?);
    let mut nodes = Vec::new();
    for dir in &dirs {
        nodes.push(Server::start(&spec, dir.path())?);
    }
    let deployment = Deployment { nodes, _dirs: dirs };
    let bases: Vec<String> = deployment.nodes.iter().map(Server::base).collect();

    if let Some(cloud) = &cloud {
        cloud.report_to(&bases[0]);
    }
    let client = setup::client()?;
    let api = Api::first_login(&client, &bases[0]).await?;
    if cloud.is_some() {
        api.wait_connected(Duration::from_secs(30)).await?;
    }
    api.set_webhook(&receiver.url(), settings.webhook_concurrency).await?;
    api.register_template().await?;
    if case.nodes > 1 {
        api.set_shards(MULTICONNECT_SHARDS).await?;
        api.wait_for_shards(deployment.nodes.len(), i64::from(MULTICONNECT_SHARDS), Duration::from_secs(90)).await?;
    }

    // The connections are shared out between the nodes' wrk processes.
    let connections = settings.connections.div_ceil(case.nodes).max(settings.threads);
    let baseline_duration = Duration::from_secs(settings.duration.min(10));
    let loads: Vec<wrk::Load> = bases.iter().map(|b| wrk::Load::baseline(b)).collect();
    let threads = settings.threads;
    let baseline = blocking(move || wrk::run_all(&loads, baseline_duration, connections, threads)).await?;
    let baseline = wrk::Report::sum(&baseline);

    let probe = w.probe().map(|kind| Probe::start(client.clone(), bases[0].clone(), &api, kind));
    let slots = u64::from(case.nodes) * u64::from(settings.threads);
    let loads: Vec<wrk::Load> = bases
        .iter()
        .enumerate()
        .map(|(i, b)| w.load(b, &api.token, i as u64 * u64::from(settings.threads), slots))
        .collect();
    let duration = Duration::from_secs(settings.duration);
    let load_started = Instant::now();
    let before = Snapshot::take(&deployment, fresh).await?;
    let reports = blocking(move || wrk::run_all(&loads, duration, connections, threads)).await?;
    let load_ended = Snapshot::take(&deployment, fresh).await?;
    let (other_cpu_share, steal_share) = before.shares_until(&load_ended);
    let probes = match probe {
        Some(p) => Some(p.stop().await),
        None => None,
    };
    if let Some(r) = reports.iter().find(|r| r.requests >= numbers::stride(slots)) {
        anyhow::bail!(
            "a wrk process made {} requests, more than the {} numbers of its slot: the campaign would repeat numbers",
            r.requests,
            numbers::stride(slots)
        );
    }
    let load = wrk::Report::sum(&reports);

    let accepted = load.ok_responses + probes.as_ref().map_or(0, |p| p.len() as u64);
    let expected = match w.traffic() {
        Traffic::Sends => 3 * accepted,
        Traffic::Inbound => accepted,
    };
    let heard = || match w.traffic() {
        Traffic::Sends => receiver.statuses(),
        Traffic::Inbound => receiver.messages(),
    };
    let deadline = Instant::now() + Duration::from_secs(settings.drain_timeout);
    let (mut last_count, mut last_change) = (heard(), Instant::now());
    while heard() < expected && Instant::now() < deadline && last_change.elapsed() < STALL {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let now = heard();
        if now != last_count {
            (last_count, last_change) = (now, Instant::now());
        }
    }
    let drained_after = load_started.elapsed().as_secs_f64();
    let drained = Snapshot::take(&deployment, fresh).await?;
    let cpu_used = drained.servers.saturating_sub(before.servers);
    let backends_used =
        before.backends.as_ref().zip(drained.backends.as_ref()).map(|(b, a)| database::backends_used(b, a));
    let delivered = heard();
    let delivery_secs = match receiver.first_and_last() {
        (Some(f), Some(l)) if l > f => (l - f).as_secs_f64(),
        _ => f64::NAN,
    };
    let peak_rss_mib = deployment.nodes.iter().map(Server::peak_rss_mib).fold(0.0, f64::max);
    let probe = probes.map(|p| {
        let (n, p50, p99) = probe::latencies(&p, &receiver);
        (n, p50.as_secs_f64() * 1e3, p99.as_secs_f64() * 1e3)
    });
    drop(deployment);
    Ok(Outcome {
        case,
        duration: settings.duration,
        history,
        baseline_per_sec: baseline.requests_per_sec,
        baseline_p50_ms: baseline.p50_ms,
        baseline_p99_ms: baseline.p99_ms,
        accepted_per_sec: reports.iter().map(wrk::Report::ok_per_sec).sum(),
        p50_ms: load.p50_ms,
        p99_ms: load.p99_ms,
        non_2xx: load.non_2xx,
        socket_errors: load.errors,
        first_and_last_ten: load.first_and_last_ten_seconds(),
        expected,
        delivered,
        failed: receiver.failed(),
        delivered_per_sec: delivered as f64 / delivery_secs,
        drained_after,
        probe,
        webhook_posts: receiver.posts(),
        cpu_us_per_message: cpu_used.as_secs_f64() * 1e6 / accepted.max(1) as f64,
        database_cpu_us_per_message: backends_used.map(|t| t.as_secs_f64() * 1e6 / accepted.max(1) as f64),
        peak_rss_mib,
        other_cpu_share,
        steal_share,
    })
}

/// Runs wrk (a blocking child process) off the async runtime, so that the
/// receiver and the probe keep running meanwhile.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f).await.context("the wrk task panicked")?
}

/// Starts the server once so that it migrates the database, stops it, and
/// writes the history.
async fn load_history(
    spec: &Spec<'_>,
    data: &std::path::Path,
    database: Option<&str>,
    history: &fixture::History,
) -> Result<Loaded> {
    let first = Server::start(spec, data)?;
    first.stop()?;
    println!("loading {} earlier messages of {} customer(s)…", history.messages(), history.customers.len());
    let loaded = match database {
        None => {
            let (path, history) = (data.join("wabiz.db"), history.clone());
            tokio::task::spawn_blocking(move || fixture::load_sqlite(&path, &history)).await??
        }
        Some(url) => fixture::load_postgres(url, history).await?,
    };
    println!("history: {} messages in {:.1} s", loaded.messages, loaded.seconds);
    Ok(loaded)
}
