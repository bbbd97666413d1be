//! Starting and stopping `wabiz serve` processes, and what the bench reads
//! of them from `/proc` (CPU time, peak RSS).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::workload::Scheme;

/// How to start a node.
pub struct Spec<'a> {
    pub bin: &'a Path,
    pub scheme: Scheme,
    /// Zero receipt delays (statuses settled at acceptance).
    pub instant_receipts: bool,
    pub open_window: bool,
    /// `--database URL`; `None`: SQLite in the data dir.
    pub database: Option<&'a str>,
    /// A node of a multiconnect deployment (`--multiconnect --role all`).
    pub multiconnect: bool,
    /// The Cloud relay's options (`--network cloud …`), if it relays.
    pub relay: Vec<String>,
}

/// A running node; killed when dropped.
pub struct Server {
    child: Child,
    addr: String,
    scheme: Scheme,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Starts a node on a free port with `data` as its data dir, and waits
    /// until it says it is listening (migrations done).
    pub fn start(spec: &Spec<'_>, data: &Path) -> Result<Server> {
        let mut cmd = Command::new(spec.bin);
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--allow-http-webhooks"]);
        if spec.scheme == Scheme::Http {
            cmd.arg("--insecure-http");
        }
        if spec.instant_receipts {
            for delay in ["--simulator-sent-delay-ms", "--simulator-delivered-delay-ms", "--simulator-read-delay-ms"] {
                cmd.args([delay, "0"]);
            }
        }
        if spec.open_window {
            cmd.arg("--simulator-open-window");
        }
        if let Some(url) = spec.database {
            cmd.args(["--database", url]);
        }
        if spec.multiconnect {
            cmd.args(["--multiconnect", "--role", "all"]);
        }
        cmd.args(&spec.relay);
        let mut child = cmd
            .arg("--data-dir")
            .arg(data)
            .env_remove("RUST_LOG")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("cannot start {}", spec.bin.display()))?;
        let stdout = child.stdout.take().context("no stdout")?;
        let (tx, rx) = std::sync::mpsc::channel();
        // Reads the log to its end, so that the pipe never fills; the first
        // "listening" line gives the address.
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
        // A server that exits early closes its stdout, which ends the wait.
        let addr = rx.recv_timeout(Duration::from_secs(120)).context("wabiz did not report listening")?;
        Ok(Server { child, addr, scheme: spec.scheme })
    }

    /// `http://127.0.0.1:PORT` or `https://…`.
    pub fn base(&self) -> String {
        format!("{}://{}", self.scheme.as_str(), self.addr)
    }

    /// Stops the node as an operator would (SIGTERM), waiting for it to
    /// finish; a node that has not stopped after 30 s is killed.
    pub fn stop(mut self) -> Result<()> {
        let status = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status()?;
        if !status.success() {
            bail!("could not signal wabiz ({status})");
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if self.child.try_wait()?.is_some() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        eprintln!("wabiz did not stop within 30 s of SIGTERM; killed");
        Ok(())
    }

    /// CPU time (user + system) the process has used so far.
    pub fn cpu_time(&self) -> Duration {
        process_cpu(self.child.id()).unwrap_or_default()
    }

    /// The most resident memory the process has had (VmHWM).
    pub fn peak_rss_mib(&self) -> f64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("VmHWM:"))
                    .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
            })
            .map_or(0.0, |kib| kib / 1024.0)
    }
}

/// CPU time (user + system) process `pid` has used so far, if it runs.
pub fn process_cpu(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) start at ')'.
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    // Linux reports in clock ticks of 1/100 s.
    Some(Duration::from_millis(ticks * 10))
}
