//! The load generator: wrk (Debian package `wrk`), driven with a Lua script
//! and read back from its `--latency` report.

use std::io::Write as _;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};

pub fn check_installed() -> Result<()> {
    match Command::new("wrk").arg("--version").output() {
        Ok(_) => Ok(()),
        Err(_) => bail!("wrk is not installed (Debian/Ubuntu: apt-get install wrk)"),
    }
}

/// What to load.
pub struct Load {
    url: String,
    script: String,
}

impl Load {
    /// `GET /`: no authentication, no storage.
    pub fn baseline(base: &str) -> Load {
        Load { url: format!("{base}/"), script: String::new() }
    }

    /// `POST /v1/messages`, a text to a rotating recipient per request. The
    /// recipients (`16315560000`–`16315569999`) leave out the simulator's
    /// own number (`16315550100`), which a send must refuse (1021). The
    /// 10,000 requests are formatted once, when wrk's thread starts:
    /// formatting each one in Lua cost wrk 6 µs per request, twice what it
    /// spends on a request of the baseline, and that CPU was the server's.
    pub fn sends(base: &str, token: &str) -> Load {
        let script = format!(
            r#"wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {token}"
local requests = {{}}
local n = 0
init = function(args)
  for i = 0, 9999 do
    local body = string.format('{{"to":"1631556%04d","type":"text","text":{{"body":"load test"}}}}', i)
    requests[i + 1] = wrk.format(nil, "/v1/messages", nil, body)
  end
end
request = function()
  n = n % 10000 + 1
  return requests[n]
end
"#
        );
        Load { url: format!("{base}/v1/messages"), script }
    }
}

/// What wrk reported.
#[derive(Debug, Default)]
pub struct Report {
    pub requests_per_sec: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub requests: u64,
    pub non_2xx: u64,
    pub errors: u64,
    /// Requests answered 2xx.
    pub ok_responses: u64,
}

fn ms(s: &str) -> Option<f64> {
    let s = s.trim();
    let (n, unit) = s.find(|c: char| c.is_ascii_alphabetic()).map(|i| s.split_at(i))?;
    let n: f64 = n.parse().ok()?;
    Some(match unit {
        "us" => n / 1000.0,
        "ms" => n,
        "s" => n * 1000.0,
        "m" => n * 60_000.0,
        _ => return None,
    })
}

pub fn parse(out: &str) -> Result<Report> {
    let mut r = Report::default();
    for line in out.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["50%", v] => r.p50_ms = ms(v).context("p50")?,
            ["99%", v] => r.p99_ms = ms(v).context("p99")?,
            ["Requests/sec:", v] => r.requests_per_sec = v.parse()?,
            [n, "requests", "in", ..] => r.requests = n.parse()?,
            ["Non-2xx", "or", "3xx", "responses:", n] => r.non_2xx = n.parse()?,
            ["Socket", "errors:", rest @ ..] => {
                r.errors = rest.iter().filter_map(|w| w.trim_end_matches(',').parse::<u64>().ok()).sum();
            }
            _ => {}
        }
    }
    if r.requests_per_sec == 0.0 {
        bail!("wrk reported no requests:\n{out}");
    }
    r.ok_responses = r.requests.saturating_sub(r.non_2xx);
    Ok(r)
}

pub fn run(load: &Load, duration: Duration, connections: u32, threads: u32) -> Result<Report> {
    let mut script = tempfile::NamedTempFile::new()?;
    script.write_all(load.script.as_bytes())?;
    let out = Command::new("wrk")
        .args(["--latency", "-t", &threads.to_string(), "-c", &connections.to_string()])
        .args(["-d", &format!("{}s", duration.as_secs()), "-s"])
        .arg(script.path())
        .arg(&load.url)
        .output()
        .context("wrk did not run")?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        bail!("wrk failed: {text}{}", String::from_utf8_lossy(&out.stderr));
    }
    parse(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The send load, run by the real wrk against a local server that keeps
    /// what it receives: every request is an authenticated text to a number
    /// of the bench's range, and the recipients rotate. wrk must be
    /// installed (`.ci/run` installs it); without it the test says so.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_send_load_posts_texts_to_rotating_recipients() {
        use std::sync::{Arc, Mutex};
        if check_installed().is_err() {
            eprintln!("SKIPPED: wrk is not installed (apt-get install wrk); the send load's script was not run");
            return;
        }
        type Seen = Arc<Mutex<Vec<(String, Option<String>, String)>>>;
        let seen: Seen = Arc::default();
        let keep = Arc::clone(&seen);
        let app = axum::Router::new().fallback(move |req: axum::extract::Request| {
            let keep = Arc::clone(&keep);
            async move {
                let path = format!("{} {}", req.method(), req.uri().path());
                let auth = req.headers().get("authorization").and_then(|v| v.to_str().ok()).map(str::to_owned);
                let body = axum::body::to_bytes(req.into_body(), 1 << 16).await.unwrap_or_default();
                keep.lock().unwrap().push((path, auth, String::from_utf8_lossy(&body).into_owned()));
                (axum::http::StatusCode::CREATED, "{}")
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });

        let load = Load::sends(&base, "T0KEN");
        let report =
            tokio::task::spawn_blocking(move || run(&load, Duration::from_secs(1), 4, 1)).await.unwrap().unwrap();
        let seen = seen.lock().unwrap().clone();
        assert!(report.requests > 0 && seen.len() as u64 >= report.requests, "{report:?} vs {} received", seen.len());
        assert_eq!(report.non_2xx, 0);
        let mut recipients = std::collections::HashSet::new();
        for (path, auth, body) in &seen {
            assert_eq!(path, "POST /v1/messages");
            assert_eq!(auth.as_deref(), Some("Bearer T0KEN"));
            let v: serde_json::Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{body}: {e}"));
            assert_eq!(v["type"], "text");
            assert_eq!(v["text"]["body"], "load test");
            let to = v["to"].as_str().unwrap_or_default();
            assert!(to.len() == 11 && to.starts_with("1631556") && to.bytes().all(|b| b.is_ascii_digit()), "{to}");
            recipients.insert(to.to_owned());
        }
        // Every request of the first 10,000 goes to a new number.
        assert_eq!(recipients.len(), seen.len().min(10_000), "recipients do not rotate");
    }

    #[test]
    fn reads_a_wrk_report() {
        let out = "Running 10s test @ http://127.0.0.1:1/v1/messages
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     8.70ms    3.20ms  43.10ms   80.00%
  Latency Distribution
     50%    8.66ms
     75%   10.00ms
     90%   12.00ms
     99%   23.30ms
  66670 requests in 10.00s, 12.00MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 7
Requests/sec:   6665.12
Transfer/sec:      1.20MB
";
        let r = parse(out).unwrap();
        assert_eq!((r.requests, r.non_2xx, r.errors, r.ok_responses), (66_670, 7, 3, 66_663));
        assert!((r.p50_ms - 8.66).abs() < 1e-9 && (r.p99_ms - 23.3).abs() < 1e-9);
        assert!((r.requests_per_sec - 6665.12).abs() < 1e-9);
        assert_eq!(ms("850.00us"), Some(0.85));
        assert_eq!(ms("1.50s"), Some(1500.0));
    }
}
