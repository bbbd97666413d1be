//! The load generator: wrk (Debian package `wrk`), driven with a Lua script
//! and read back from its `--latency` report.

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail};

pub fn check_installed() -> Result<()> {
    match Command::new("wrk").arg("--version").output() {
        Ok(_) => Ok(()),
        Err(_) => bail!("wrk is not installed (Debian/Ubuntu: apt-get install wrk)"),
    }
}

/// What to load: a URL and the Lua script that makes its requests.
pub struct Load {
    url: String,
    script: String,
}

/// The part of every send script that counts the requests it makes, per
/// second of the run and per thread, and prints them when wrk is done
/// (`wabiz-second S N` lines): the first and last ten seconds of a long run
/// are compared from these. `os.time()` is the C library's `time()`, a
/// vDSO call; Debian's wrk 4.1 has no `wrk.time_us`.
const COUNT_PER_SECOND: &str = r#"
local threads = {}
function setup(thread)
  thread:set("slot", SLOT_BASE + #threads)
  table.insert(threads, thread)
end
function count_second()
  local s = os.time() - started
  per_second[s] = (per_second[s] or 0) + 1
end
done = function(summary, latency, requests)
  for _, t in ipairs(threads) do
    for s, n in pairs(t:get("per_second")) do
      io.write("wabiz-second ", s, " ", n, "\n")
    end
  end
end
"#;

/// A POST script: `prepare` runs once per thread (after `started`,
/// `per_second` and `slot` exist), `next` returns each request.
fn post_script(token: &str, slot_base: u64, prepare: &str, next: &str) -> String {
    format!(
        r#"wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {token}"
{count}
init = function(args)
  started = os.time()
  per_second = {{}}
{prepare}
end
request = function()
  count_second()
{next}
end
"#,
        count = COUNT_PER_SECOND.replace("SLOT_BASE", &slot_base.to_string()),
    )
}

impl Load {
    /// `GET /`: no authentication, no storage. wrk's own request, no Lua
    /// per request, as in the first bench's figures.
    pub fn baseline(base: &str) -> Load {
        Load { url: format!("{base}/"), script: String::new() }
    }

    /// A POST to `path` whose body is one of `count` bodies, used in turn.
    /// `body` is a Lua `string.format` pattern with one `%04d` for the
    /// turn's number. The requests are formatted once, when wrk's thread
    /// starts: formatting each one in Lua cost wrk 6 µs per request, twice
    /// what it spends on a request of the baseline, and that CPU was the
    /// server's.
    fn rotating(base: &str, path: &str, token: &str, body: &str, count: u32) -> Load {
        let prepare = format!(
            r#"  requests = {{}}
  turn = 0
  for i = 0, {last} do
    requests[i + 1] = wrk.format(nil, "{path}", nil, string.format([[{body}]], i))
  end"#,
            last = count.saturating_sub(1)
        );
        let next = format!(
            "  turn = turn % {count} + 1
  return requests[turn]"
        );
        Load { url: format!("{base}{path}"), script: post_script(token, 0, &prepare, &next) }
    }

    /// `POST /v1/messages`: a text to `prefix` followed by a turn number
    /// (`%04d`; with a `count` of 1 the prefix is the whole number).
    pub fn rotating_texts(base: &str, token: &str, prefix: &str, count: u32) -> Load {
        let to = if count == 1 { prefix.to_owned() } else { format!("{prefix}%04d") };
        let body = format!(r#"{{"to":"{to}","type":"text","text":{{"body":"load test"}}}}"#);
        Load::rotating(base, "/v1/messages", token, &body, count)
    }

    /// `POST /simulator/inbound`: a text from `prefix` + a turn number.
    pub fn inbound(base: &str, token: &str, prefix: &str, count: u32) -> Load {
        let body = format!(r#"{{"from":"{prefix}%04d","type":"text","text":{{"body":"hello from a customer"}}}}"#);
        Load::rotating(base, "/simulator/inbound", token, &body, count)
    }

    /// `POST /v1/messages`: the campaign's template, each request to the
    /// next number of this thread's slot (`numbers.rs`). Every number has
    /// eleven digits, so every body has the same length: the request is
    /// formatted once with a placeholder, and each request is the two
    /// halves around a new number (one concatenation, no `wrk.format`).
    pub fn campaign(base: &str, token: &str, slot_base: u64, slots: u64) -> Load {
        const PLACEHOLDER: &str = "NNNNNNNNNNN";
        let body = crate::workload::template_body(PLACEHOLDER);
        let prepare = format!(
            r#"  local whole = wrk.format(nil, "/v1/messages", nil, [[{body}]])
  local at = string.find(whole, "{PLACEHOLDER}", 1, true)
  head = string.sub(whole, 1, at - 1)
  tail = string.sub(whole, at + {len})"#,
            len = PLACEHOLDER.len()
        );
        let next = "  return head .. next_number() .. tail";
        let script =
            format!("{}\n{}", crate::numbers::lua_generator(slots), post_script(token, slot_base, &prepare, next));
        Load { url: format!("{base}/v1/messages"), script }
    }
}

/// What wrk reported.
#[derive(Debug, Default, Clone)]
pub struct Report {
    pub requests_per_sec: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub requests: u64,
    pub non_2xx: u64,
    pub errors: u64,
    /// Requests answered 2xx.
    pub ok_responses: u64,
    /// Requests made in each second of the run, all threads together
    /// (empty for the baseline, whose script counts nothing). The first and
    /// last seconds are partial.
    pub per_second: Vec<u64>,
}

impl Report {
    /// Several wrk processes run at once, one per node: their requests and
    /// rates add up; the latencies are the slowest process's (wrk prints
    /// percentiles, which cannot be merged exactly).
    pub fn sum(reports: &[Report]) -> Report {
        let mut out = Report::default();
        for r in reports {
            out.requests_per_sec += r.requests_per_sec;
            out.p50_ms = out.p50_ms.max(r.p50_ms);
            out.p99_ms = out.p99_ms.max(r.p99_ms);
            out.requests += r.requests;
            out.non_2xx += r.non_2xx;
            out.errors += r.errors;
            out.ok_responses += r.ok_responses;
            if out.per_second.len() < r.per_second.len() {
                out.per_second.resize(r.per_second.len(), 0);
            }
            for (total, n) in out.per_second.iter_mut().zip(&r.per_second) {
                *total += n;
            }
        }
        out
    }

    /// Requests answered 2xx per second (wrk's rate is of all answers).
    pub fn ok_per_sec(&self) -> f64 {
        if self.requests == 0 {
            return 0.0;
        }
        self.requests_per_sec * self.ok_responses as f64 / self.requests as f64
    }

    /// Requests per second in the first ten whole seconds and in the last
    /// ten, when the run had at least twenty whole seconds (the first and
    /// last second counted are partial, so they are left out).
    pub fn first_and_last_ten_seconds(&self) -> Option<(f64, f64)> {
        let whole = self.per_second.len().checked_sub(2)?;
        if whole < 20 {
            return None;
        }
        let rate = |from: usize| self.per_second[from..from + 10].iter().sum::<u64>() as f64 / 10.0;
        Some((rate(1), rate(self.per_second.len() - 11)))
    }
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
            ["wabiz-second", s, n] => {
                let (s, n): (usize, u64) = (s.parse()?, n.parse()?);
                if r.per_second.len() <= s {
                    r.per_second.resize(s + 1, 0);
                }
                r.per_second[s] += n;
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

/// Runs one wrk per load, all at once, and returns their reports in order.
pub fn run_all(loads: &[Load], duration: Duration, connections: u32, threads: u32) -> Result<Vec<Report>> {
    let mut running = Vec::new();
    for load in loads {
        let mut script = tempfile::NamedTempFile::new()?;
        script.write_all(load.script.as_bytes())?;
        let child = Command::new("wrk")
            .args(["--latency", "-t", &threads.to_string(), "-c", &connections.to_string()])
            .args(["-d", &format!("{}s", duration.as_secs()), "-s"])
            .arg(script.path())
            .arg(&load.url)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .context("wrk did not run")?;
        // The script file must outlive wrk's start; keep it with the child.
        running.push((child, script));
    }
    let mut reports = Vec::new();
    for (child, _script) in running {
        let out = child.wait_with_output()?;
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        if !out.status.success() {
            bail!("wrk failed: {text}{}", String::from_utf8_lossy(&out.stderr));
        }
        reports.push(parse(&text)?);
    }
    Ok(reports)
}

/// One wrk (the tests' entry point; the bench runs all nodes' at once).
#[cfg(test)]
pub fn run(load: &Load, duration: Duration, connections: u32, threads: u32) -> Result<Report> {
    let mut reports = run_all(std::slice::from_ref(load), duration, connections, threads)?;
    reports.pop().context("wrk gave no report")
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// What the capturing server received: `METHOD path`, the
    /// `Authorization` header and the body of each request.
    type Seen = Arc<Mutex<Vec<(String, Option<String>, String)>>>;

    /// A local server that answers 201 to everything and keeps what it got.
    async fn capture() -> (String, Seen) {
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
        (base, seen)
    }

    /// Tests that run wrk are ignored where it was missing at build time;
    /// one that runs and finds no wrk fails.
    fn require_wrk() {
        check_installed().expect("wrk was on the PATH when this test was built");
    }

    /// The send load, run by the real wrk against a local server that keeps
    /// what it receives: every request is an authenticated text to a number
    /// of the bench's range, and the recipients rotate. wrk must be
    /// installed (`.ci/run` installs it); without it the test says so.
    #[cfg_attr(not(wabiz_test_wrk), ignore = "needs wrk on the PATH (apt-get install wrk)")]
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_send_load_posts_texts_to_rotating_recipients() {
        require_wrk();
        let (base, seen) = capture().await;
        let load = Load::rotating_texts(&base, "T0KEN", crate::workload::BEST_RECIPIENTS, 10_000);
        let report =
            tokio::task::spawn_blocking(move || run(&load, Duration::from_secs(1), 4, 1)).await.unwrap().unwrap();
        let seen = seen.lock().unwrap().clone();
        assert!(report.requests > 0 && seen.len() as u64 >= report.requests, "{report:?} vs {} received", seen.len());
        assert_eq!(report.non_2xx, 0);
        // Every request made was counted in its second.
        assert!(report.per_second.iter().sum::<u64>() >= report.requests, "{report:?}");
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

    /// The campaign's Lua is the Rust generator (`numbers.rs`) transcribed:
    /// run by the real wrk as a multi-node run would (two processes, the
    /// first with two threads, so three slots), every request is the
    /// template to a number the Rust generator draws for that slot, and no
    /// number comes twice.
    #[cfg_attr(not(wabiz_test_wrk), ignore = "needs wrk on the PATH (apt-get install wrk)")]
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_campaign_load_sends_the_template_to_numbers_that_never_repeat() {
        require_wrk();
        let (base, seen) = capture().await;
        let loads = [Load::campaign(&base, "T0KEN", 0, 3), Load::campaign(&base, "T0KEN", 2, 3)];
        let threads_of = [2, 1];
        let reports = tokio::task::spawn_blocking(move || {
            // `run_all` gives every process the same thread count; run the
            // two-thread one and the one-thread one side by side instead.
            std::thread::scope(|s| {
                let handles: Vec<_> = loads
                    .iter()
                    .zip(threads_of)
                    .map(|(load, t)| s.spawn(move || run(load, Duration::from_secs(1), 4, t)))
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap().unwrap()).collect::<Vec<_>>()
            })
        })
        .await
        .unwrap();
        let seen = seen.lock().unwrap().clone();
        let requests: u64 = reports.iter().map(|r| r.requests).sum();
        assert!(requests > 100 && seen.len() as u64 >= requests, "{reports:?} vs {} received", seen.len());

        let mut expected = std::collections::HashMap::new();
        for slot in 0..3 {
            for n in 0..seen.len() as u64 + 100 {
                expected.insert(crate::numbers::nth(slot, 3, n), (slot, n));
            }
        }
        let mut numbers = std::collections::HashSet::new();
        let mut draws: Vec<(u64, u64)> = Vec::new();
        for (path, auth, body) in &seen {
            assert_eq!(path, "POST /v1/messages");
            assert_eq!(auth.as_deref(), Some("Bearer T0KEN"));
            let v: serde_json::Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{body}: {e}"));
            assert_eq!(body, &crate::workload::template_body(v["to"].as_str().unwrap()));
            let to = v["to"].as_str().unwrap().to_owned();
            let Some(draw) = expected.get(&to) else { panic!("{to} is not a number the generator draws") };
            draws.push(*draw);
            assert!(numbers.insert(to.clone()), "{to} was sent twice");
        }
        // Each slot's numbers are its first draws, in the generator's order.
        // wrk calls `request()` once in its first thread before the run (to
        // count pipelined requests), so slot 0 starts at its second draw.
        draws.sort_unstable();
        for slot in 0..3 {
            let n: Vec<u64> = draws.iter().filter(|(s, _)| *s == slot).map(|(_, n)| *n).collect();
            assert!(!n.is_empty(), "slot {slot} drew no number");
            assert!(n[0] <= 1, "slot {slot} started at its draw {}", n[0]);
            // A draw is missing only when its request was still in flight as
            // the run stopped (or not yet handled when `seen` was read): at
            // most one per connection, and a slot has at most 4 connections.
            // Where in the sequence it falls depends on the machine's load.
            let last = n[n.len() - 1];
            let missing: Vec<u64> = (n[0]..=last).filter(|k| n.binary_search(k).is_err()).collect();
            assert!(missing.len() <= 4, "slot {slot} skipped draws {missing:?} of {} drawn", n.len());
        }
    }

    /// Customers writing in: the admin's token, `POST /simulator/inbound`,
    /// a text from a rotating sender.
    #[cfg_attr(not(wabiz_test_wrk), ignore = "needs wrk on the PATH (apt-get install wrk)")]
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_inbound_load_posts_customers_messages() {
        require_wrk();
        let (base, seen) = capture().await;
        let load = Load::inbound(&base, "ADM1N", crate::workload::INBOUND_SENDERS, 10_000);
        tokio::task::spawn_blocking(move || run(&load, Duration::from_secs(1), 2, 1)).await.unwrap().unwrap();
        let seen = seen.lock().unwrap().clone();
        let mut senders = std::collections::HashSet::new();
        for (path, auth, body) in &seen {
            assert_eq!(path, "POST /simulator/inbound");
            assert_eq!(auth.as_deref(), Some("Bearer ADM1N"));
            let v: serde_json::Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{body}: {e}"));
            assert_eq!((v["type"].as_str(), v["text"]["body"].as_str()), (Some("text"), Some("hello from a customer")));
            senders.insert(v["from"].as_str().unwrap().to_owned());
        }
        assert_eq!(senders.len(), seen.len().min(10_000));
        assert!(senders.iter().all(|s| s.starts_with("1631559") && s.len() == 11));
    }

    #[test]
    fn the_first_and_last_ten_whole_seconds_are_compared() {
        let mut r = Report { per_second: vec![5; 22], ..Report::default() };
        assert_eq!(r.first_and_last_ten_seconds(), Some((5.0, 5.0)));
        // Seconds 1–10 and 11–20; 0 and 21 are partial.
        r.per_second[1] = 15;
        r.per_second[20] = 0;
        assert_eq!(r.first_and_last_ten_seconds(), Some((6.0, 4.5)));
        r.per_second.truncate(21);
        assert_eq!(r.first_and_last_ten_seconds(), None, "19 whole seconds are too few");
        let both = Report::sum(&[
            Report { per_second: vec![1, 2], requests: 3, p99_ms: 9.0, ..Report::default() },
            Report { per_second: vec![1, 2, 3], requests: 6, p99_ms: 4.0, ..Report::default() },
        ]);
        assert_eq!((both.per_second, both.requests, both.p99_ms), (vec![2, 4, 3], 9, 9.0));
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
wabiz-second 1 10
wabiz-second 0 3
wabiz-second 1 20
";
        let r = parse(out).unwrap();
        assert_eq!((r.requests, r.non_2xx, r.errors, r.ok_responses), (66_670, 7, 3, 66_663));
        assert!((r.p50_ms - 8.66).abs() < 1e-9 && (r.p99_ms - 23.3).abs() < 1e-9);
        assert!((r.requests_per_sec - 6665.12).abs() < 1e-9);
        assert_eq!(r.per_second, vec![3, 30], "two threads' counts of one second add up");
        assert_eq!(ms("850.00us"), Some(0.85));
        assert_eq!(ms("1.50s"), Some(1500.0));
    }
}
