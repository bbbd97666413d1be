//! The probe: while the load runs, one send every 20 ms to a number of its
//! own (`receiver::PROBE_PREFIX`), timed from the send to its `delivered`
//! callback at the receiver.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::task::JoinHandle;

use crate::receiver::{self, Receiver};
use crate::setup::Api;
use crate::workload::{ProbeMessage, template_body};

/// A running probe.
pub struct Probe {
    stop: Arc<AtomicBool>,
    task: JoinHandle<Vec<(String, Instant)>>,
}

/// The probe's `n`-th message.
fn body(kind: ProbeMessage, n: u32) -> String {
    let to = format!("{}{:04}", receiver::PROBE_PREFIX, n % 10_000);
    match kind {
        ProbeMessage::Text => format!(r#"{{"to":"{to}","type":"text","text":{{"body":"probe"}}}}"#),
        ProbeMessage::Template => template_body(&to),
    }
}

impl Probe {
    pub fn start(client: reqwest::Client, base: String, api: &Api, kind: ProbeMessage) -> Probe {
        let stop = Arc::new(AtomicBool::new(false));
        let (token, flag) = (api.token.clone(), Arc::clone(&stop));
        let task = tokio::spawn(async move {
            let mut sent = Vec::new();
            let mut n = 0u32;
            while !flag.load(Ordering::Relaxed) {
                n += 1;
                let at = Instant::now();
                let r = client
                    .post(format!("{base}/v1/messages"))
                    .bearer_auth(&token)
                    .header("content-type", "application/json")
                    .body(body(kind, n))
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
        });
        Probe { stop, task }
    }

    /// Stops sending; the accepted probe messages and when each was sent.
    pub async fn stop(self) -> Vec<(String, Instant)> {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await.unwrap_or_default()
    }
}

/// Send → `delivered` p50 and p99 of the probes the receiver heard of.
pub fn latencies(probes: &[(String, Instant)], receiver: &Receiver) -> (usize, Duration, Duration) {
    let mut e2e: Vec<Duration> = probes
        .iter()
        .filter_map(|(id, at)| receiver.delivered_at(id).map(|d| d.saturating_duration_since(*at)))
        .collect();
    e2e.sort_unstable();
    (e2e.len(), percentile(&e2e, 0.5), percentile(&e2e, 0.99))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_messages_go_to_the_probe_numbers() {
        for kind in [ProbeMessage::Text, ProbeMessage::Template] {
            let v: Value = serde_json::from_str(&body(kind, 10_007)).unwrap();
            assert_eq!(v["to"], format!("{}0007", receiver::PROBE_PREFIX));
        }
        let ms = |n| Duration::from_millis(n);
        assert_eq!(percentile(&[ms(1), ms(2), ms(3)], 0.5), ms(2));
        assert_eq!(percentile(&[], 0.99), Duration::ZERO);
    }
}
