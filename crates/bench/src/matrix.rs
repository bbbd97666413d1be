//! The whole matrix: every case run by a bench process of its own (a fresh
//! receiver, and one case's failure does not stop the others), its output
//! passed through, and one markdown table of all of them at the end.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

use crate::run::{Outcome, Settings};
use crate::workload::{Case, Traffic};

/// The line a bench run with `--emit-outcome` ends with, before the JSON
/// of its outcome.
pub const OUTCOME_TAG: &str = "wabiz-bench-outcome: ";

/// The arguments that run `case` with `settings` in another bench process
/// (all but the binary to measure, `--wabiz`).
pub fn case_args(case: &Case, settings: &Settings) -> Vec<String> {
    vec![
        "--workload".into(),
        case.workload.name().into(),
        "--database".into(),
        case.engine.name().into(),
        "--nodes".into(),
        case.nodes.to_string(),
        "--postgres".into(),
        settings.postgres.clone(),
        "--duration".into(),
        settings.duration.to_string(),
        "--connections".into(),
        settings.connections.to_string(),
        "--threads".into(),
        settings.threads.to_string(),
        "--webhook-concurrency".into(),
        settings.webhook_concurrency.to_string(),
        "--drain-timeout".into(),
        settings.drain_timeout.to_string(),
    ]
}

/// Runs one case in a child bench, echoing its output; its outcome, if it
/// got that far.
fn run_child(case: &Case, settings: &Settings) -> Result<Option<Outcome>> {
    let mut child = Command::new(std::env::current_exe()?)
        .args(case_args(case, settings))
        .arg("--wabiz")
        .arg(&settings.bin)
        .arg("--emit-outcome")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("cannot start a bench for one case")?;
    let mut outcome = None;
    for line in BufReader::new(child.stdout.take().context("no stdout")?).lines() {
        let line = line?;
        match line.strip_prefix(OUTCOME_TAG) {
            Some(json) => outcome = Some(serde_json::from_str(json)?),
            None => println!("{line}"),
        }
    }
    let status = child.wait()?;
    if !status.success() {
        eprintln!("the bench of {} on {} failed ({status})", case.workload.name(), case.engine_label());
    }
    Ok(outcome)
}

fn today() -> String {
    Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

/// Runs `cases` one after the other and prints the table.
pub fn run(cases: &[Case], settings: &Settings) -> Result<()> {
    let header = format!(
        "wabiz bench matrix, {}: {}, {} s per workload ({} s of baseline), {} connections, {} wrk thread(s), webhook concurrency {}",
        today(),
        crate::machine::describe(),
        settings.duration,
        settings.duration.min(10),
        settings.connections,
        settings.threads,
        settings.webhook_concurrency
    );
    println!("{header}");
    let mut rows = Vec::new();
    for case in cases {
        println!();
        println!("## {} on {}", case.workload.name(), case.engine_label());
        rows.push((*case, run_child(case, settings)?));
    }
    println!();
    println!("{header}");
    println!();
    print_table(&rows);
    let failed: Vec<String> = rows
        .iter()
        .filter(|(_, o)| !o.as_ref().is_some_and(Outcome::all_delivered))
        .map(|(c, _)| format!("{} on {}", c.workload.name(), c.engine_label()))
        .collect();
    if !failed.is_empty() {
        bail!("FAILED: not every callback reached the receiver (or the run failed) in: {}", failed.join(", "));
    }
    Ok(())
}

fn print_table(rows: &[(Case, Option<Outcome>)]) {
    println!(
        "| workload | engine | `GET /` req/s | accepted/s | ÷ `GET /` | p50 / p99 | req/s first → last 10 s | delivered/s | all delivered | CPU / msg | peak RSS | others / steal |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|");
    for (case, outcome) in rows {
        let Some(o) = outcome else {
            println!("| {} | {} | run failed | | | | | | **NO** | | | |", case.workload.name(), case.engine_label());
            continue;
        };
        println!("{}", row(o));
    }
    println!();
    println!(
        "accepted/s: 201 answers per second (inbound: customers' messages taken); delivered/s: statuses (inbound: \
         messages) reaching the webhook receiver, first to last callback; CPU / msg: the server's CPU (all nodes) per \
         accepted message, its callbacks included (+ db: the PostgreSQL backends of the run's database); several \
         nodes: rates summed, latencies of the slowest node; others / steal: the machine's CPU that other processes \
         (PostgreSQL's background processes among them) used, and that the hypervisor stole, while the load ran."
    );
}

/// One line of the table.
pub fn row(o: &Outcome) -> String {
    let c = &o.case;
    let flat = match o.first_and_last_ten {
        Some((first, last)) => format!("{first:.0} → {last:.0} ({:+.0} %)", (last / first - 1.0) * 100.0),
        None => "–".into(),
    };
    let delivered = match c.workload.traffic() {
        Traffic::Sends => format!("{:.0}", o.delivered_per_sec),
        Traffic::Inbound => format!("{:.0} msgs", o.delivered_per_sec),
    };
    let all = if o.all_delivered() {
        format!("yes, {:.0} s", o.drained_after)
    } else if o.failed > 0 {
        format!("**NO**: {} of {} ({} failed)", o.delivered, o.expected, o.failed)
    } else {
        format!("**NO**: {} of {}", o.delivered, o.expected)
    };
    let cpu = match o.database_cpu_us_per_message {
        Some(db) => format!("{:.0} µs + {db:.0} µs db", o.cpu_us_per_message),
        None => format!("{:.0} µs", o.cpu_us_per_message),
    };
    format!(
        "| {} | {} | {:.0} | {:.0} | {:.3} | {:.1} / {:.1} ms | {flat} | {delivered} | {all} | {cpu} | {:.0} MiB | {:.0} % / {:.0} % |",
        c.workload.name(),
        c.engine_label(),
        o.baseline_per_sec,
        o.accepted_per_sec,
        o.ratio(),
        o.p50_ms,
        o.p99_ms,
        o.peak_rss_mib,
        o.other_cpu_share * 100.0,
        o.steal_share * 100.0
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::{Engine, Workload};

    fn outcome() -> Outcome {
        Outcome {
            case: Case { workload: Workload::Campaign, engine: Engine::Postgres, nodes: 3 },
            duration: 60,
            history: None,
            baseline_per_sec: 40_000.0,
            baseline_p50_ms: 1.0,
            baseline_p99_ms: 3.0,
            accepted_per_sec: 5_000.0,
            p50_ms: 10.0,
            p99_ms: 40.25,
            non_2xx: 0,
            socket_errors: 0,
            first_and_last_ten: Some((5_000.0, 4_500.0)),
            expected: 900_000,
            delivered: 900_000,
            failed: 0,
            delivered_per_sec: 14_000.0,
            drained_after: 63.4,
            probe: Some((2_900, 700.0, 900.0)),
            webhook_posts: 1_000,
            cpu_us_per_message: 210.4,
            database_cpu_us_per_message: Some(300.0),
            peak_rss_mib: 120.2,
            other_cpu_share: 0.031,
            steal_share: 0.0,
        }
    }

    #[test]
    fn a_row_shows_the_case_its_ratio_flatness_and_delivery() {
        let r = row(&outcome());
        assert_eq!(
            r,
            "| campaign | postgres ×3 (multiconnect) | 40000 | 5000 | 0.125 | 10.0 / 40.2 ms | 5000 → 4500 (-10 %) | 14000 | yes, 63 s | 210 µs + 300 µs db | 120 MiB | 3 % / 0 % |"
        );
        let mut short = outcome();
        short.delivered = 899_000;
        short.failed = 10;
        assert!(row(&short).contains("**NO**: 899000 of 900000 (10 failed)"), "{}", row(&short));
        // The outcome travels from the child bench as JSON.
        let back: Outcome = serde_json::from_str(&serde_json::to_string(&outcome()).unwrap()).unwrap();
        assert_eq!(row(&back), r);
    }

    #[test]
    fn a_child_gets_the_case_and_the_shared_settings() {
        let settings = Settings {
            bin: "/x/wabiz".into(),
            duration: 5,
            connections: 64,
            threads: 1,
            webhook_concurrency: 6,
            drain_timeout: 120,
            postgres: "postgres://p@h/test".into(),
        };
        let args = case_args(&Case { workload: Workload::OneCustomer, engine: Engine::Sqlite, nodes: 1 }, &settings);
        let joined = args.join(" ");
        assert!(joined.contains("--workload one-customer --database sqlite --nodes 1"), "{joined}");
        assert!(joined.contains("--duration 5") && !joined.contains("--wabiz"), "{joined}");
    }
}
