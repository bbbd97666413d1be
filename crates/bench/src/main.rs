//! `wabiz-bench`: one run on one machine, everything measured with the same
//! load generator (wrk, from Debian's `wrk` package):
//!
//! 1. starts the release `wabiz serve` (embedded SQLite, simulated network
//!    with zero receipt delays, every customer inside the 24-hour window, plain
//!    HTTP) on a temporary data dir, and a real webhook receiver in this
//!    process;
//! 2. the baseline: `GET /` (no auth, no storage: what this machine's HTTP
//!    stack does) with wrk;
//! 3. the sends: `POST /v1/messages` (text, recipients rotating) with wrk,
//!    while a probe sends one message every 20 ms and times it from the send
//!    to its `delivered` callback;
//! 4. waits until every accepted message's sent/delivered/read statuses have
//!    reached the receiver;
//! 5. prints sends/s, p50/p99, the ratio to the baseline, statuses delivered
//!    per second, the probe's end-to-end p50/p99, and the server's peak RSS.
//!
//! With `--against B`, two such runs go at once, one per binary (`compare.rs`).

mod compare;
mod receiver;
mod wrk;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Parser;
use serde_json::{Value, json};

use receiver::Receiver;

#[derive(Debug, Parser)]
#[command(about = "Measure wabiz: sends/s, latency, webhook throughput and memory against a baseline route")]
struct Args {
    /// Seconds of load for each measured route.
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Concurrent connections of the load generator.
    #[arg(long, default_value_t = 64)]
    connections: u32,
    /// Load generator threads.
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
}

struct Server {
    child: Child,
    addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server(bin: &PathBuf, data: &std::path::Path) -> Result<Server> {
    use std::io::{BufRead, BufReader};
    let mut child = Command::new(bin)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--insecure-http",
            "--allow-http-webhooks",
            "--simulator-open-window",
        ])
        .args([
            "--simulator-sent-delay-ms",
            "0",
            "--simulator-delivered-delay-ms",
            "0",
            "--simulator-read-delay-ms",
            "0",
        ])
        .arg("--data-dir")
        .arg(data)
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("cannot start {}", bin.display()))?;
    let stdout = child.stdout.take().context("no stdout")?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut sent = false;
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if !sent
                && let Ok(v) = serde_json::from_str::<Value>(&line)
                && v["message"] == "wabiz is listening"
            {
                let _ = tx.send(v["addr"].as_str().unwrap_or_default().to_owned());
                sent = true;
            }
        }
    });
    let addr = rx.recv_timeout(Duration::from_secs(60)).context("wabiz did not report listening")?;
    Ok(Server { child, addr })
}

fn peak_rss_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

/// CPU time (user + system) the process has used so far.
fn cpu_time(pid: u32) -> Duration {
    let ticks = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok().and_then(|s| {
        // Fields after the command name (which may hold spaces) start at ')'.
        let rest = s.rsplit_once(')')?.1;
        let f: Vec<&str> = rest.split_whitespace().collect();
        Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
    });
    // Linux reports in clock ticks of 1/100 s.
    Duration::from_millis(ticks.unwrap_or(0) * 10)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
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
        bail!("{} not found: build it first (cargo build --release --bins)", bin.display());
    }
    if let Some(other) = &args.against {
        if !other.exists() {
            bail!("{} not found", other.display());
        }
        let shared = compare::Shared {
            duration: args.duration,
            connections: args.connections,
            threads: args.threads,
            webhook_concurrency: args.webhook_concurrency,
            drain_timeout: args.drain_timeout,
        };
        return compare::run(&bin, other, &shared);
    }
    let data = tempfile::tempdir()?;
    let receiver = Arc::new(Receiver::start().await?);
    let server = start_server(&bin, data.path())?;
    let base = format!("http://{}", server.addr);
    let client = reqwest::Client::new();

    // First login, then the webhook.
    let login: Value = client
        .post(format!("{base}/v1/users/login"))
        .basic_auth("admin", Some("secret"))
        .json(&json!({"new_password": "Bench-Passw0rd!"}))
        .send()
        .await?
        .json()
        .await?;
    let token = login["users"][0]["token"].as_str().context("no token")?.to_owned();
    let r = client
        .patch(format!("{base}/v1/settings/application"))
        .bearer_auth(&token)
        .json(&json!({"webhooks": {"url": receiver.url(), "max_concurrent_requests": args.webhook_concurrency}}))
        .send()
        .await?;
    if !r.status().is_success() {
        bail!("settings refused: {}", r.text().await?);
    }

    let duration = Duration::from_secs(args.duration);
    println!(
        "wabiz bench: {} s per route, {} connections, {} wrk thread(s), webhook concurrency {}",
        args.duration, args.connections, args.threads, args.webhook_concurrency
    );
    let baseline = wrk::run(&wrk::Load::baseline(&base), duration, args.connections, args.threads)?;

    // The probe: one send every 20 ms during the load, timed to `delivered`.
    let probe_stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let probe = {
        let (client, base, token, stop) = (client.clone(), base.clone(), token.clone(), Arc::clone(&probe_stop));
        tokio::spawn(async move {
            let mut sent: Vec<(String, Instant)> = Vec::new();
            let mut n = 0u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                n += 1;
                let at = Instant::now();
                let r = client
                    .post(format!("{base}/v1/messages"))
                    .bearer_auth(&token)
                    .json(&json!({"to": format!("{}{:04}", receiver::PROBE_PREFIX, n % 10_000), "type": "text", "text": {"body": "probe"}}))
                    .send()
                    .await;
                if let Ok(r) = r
                    && let Ok(v) = r.json::<Value>().await
                    && let Some(id) = v["messages"][0]["id"].as_str()
                {
                    sent.push((id.to_owned(), at));
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            sent
        })
    };
    let load_started = Instant::now();
    let cpu_before = cpu_time(server.child.id());
    let sends = wrk::run(&wrk::Load::sends(&base, &token), duration, args.connections, args.threads)?;
    probe_stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let probes = probe.await?;

    // Every accepted message: three statuses.
    let accepted = sends.ok_responses + probes.len() as u64;
    let expected = accepted * 3;
    let deadline = Instant::now() + Duration::from_secs(args.drain_timeout);
    while receiver.statuses() < expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let drained_after = load_started.elapsed();
    let cpu_used = cpu_time(server.child.id()).saturating_sub(cpu_before);
    let statuses = receiver.statuses();
    let (first, last) = receiver.first_and_last();
    let delivery_secs = match (first, last) {
        (Some(f), Some(l)) if l > f => (l - f).as_secs_f64(),
        _ => f64::NAN,
    };
    let mut e2e: Vec<Duration> = probes
        .iter()
        .filter_map(|(id, at)| receiver.delivered_at(id).map(|d| d.saturating_duration_since(*at)))
        .collect();
    e2e.sort_unstable();
    let rss = peak_rss_mib(server.child.id());
    let sends_per_sec = sends.requests_per_sec;

    println!();
    println!("| measure | value |");
    println!("|---|---:|");
    println!("| baseline `GET /` requests/s | {:.0} |", baseline.requests_per_sec);
    println!("| baseline p50 / p99 | {:.2} ms / {:.2} ms |", baseline.p50_ms, baseline.p99_ms);
    println!("| accepted sends/s (`POST /v1/messages`, 201) | {sends_per_sec:.0} |");
    println!("| send p50 / p99 | {:.2} ms / {:.2} ms |", sends.p50_ms, sends.p99_ms);
    println!("| sends / baseline | {:.2} |", sends_per_sec / baseline.requests_per_sec);
    println!("| non-201 answers / socket errors | {} / {} |", sends.non_2xx, sends.errors);
    println!("| statuses delivered (of {expected}) | {statuses} |");
    println!("| statuses delivered/s (first to last callback) | {:.0} |", statuses as f64 / delivery_secs);
    println!("| all statuses delivered after (from load start) | {:.1} s |", drained_after.as_secs_f64());
    println!(
        "| send → delivered callback p50 / p99 ({} probes) | {:.1} ms / {:.1} ms |",
        e2e.len(),
        percentile(&e2e, 0.5).as_secs_f64() * 1e3,
        percentile(&e2e, 0.99).as_secs_f64() * 1e3
    );
    println!("| webhook POSTs | {} |", receiver.posts());
    println!(
        "| server CPU per accepted message (send + 3 statuses delivered) | {:.0} µs |",
        cpu_used.as_secs_f64() * 1e6 / accepted.max(1) as f64
    );
    println!("| server peak RSS | {rss:.0} MiB |");
    if statuses < expected {
        bail!("only {statuses} of {expected} statuses reached the receiver within {} s", args.drain_timeout);
    }
    Ok(())
}
