//! What the delivery engine has done, for `/wabiz/callbacks` and the metrics
//! endpoints: counters, a latency histogram (stored → acknowledged), and the
//! last delivered callbacks with their history.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;
use wabiz_domain::callbacks::AttemptFailure;

/// Upper bounds (milliseconds) of the latency histogram's buckets.
pub const LATENCY_BUCKETS_MS: [u64; 10] = [10, 50, 100, 250, 500, 1_000, 5_000, 30_000, 300_000, 3_600_000];

/// How many delivered callbacks stay visible after delivery.
const RECENT: usize = 1024;

/// A delivered callback, as the admin sees it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Delivered {
    pub seq: i64,
    pub kind: &'static str,
    /// The customer (or group) it was about.
    pub peer: String,
    pub subject: Option<String>,
    /// The items it carried (JSON text, comma-separated, as queued).
    pub items: String,
    pub created_at: i64,
    /// Attempts it took, the successful one included.
    pub attempts: u32,
    pub delivered_at: i64,
    pub last_result: &'static str,
}

#[derive(Default)]
pub struct Metrics {
    /// Callbacks acknowledged.
    pub delivered: AtomicU64,
    /// POST requests made.
    pub requests: AtomicU64,
    /// POST requests not acknowledged.
    pub failed_requests: AtomicU64,
    /// Callback attempts that failed (a failed request of 10 counts 10).
    pub failed_callbacks: AtomicU64,
    /// Requests in flight now.
    pub in_flight: AtomicU64,
    /// Callbacks this node holds (claimed, in memory).
    pub held: AtomicU64,
    latency_buckets: [AtomicU64; LATENCY_BUCKETS_MS.len() + 1],
    latency_sum_ms: AtomicU64,
    recent: Mutex<VecDeque<Delivered>>,
    /// POSTs by callback type and result (`success`, or the failure's label:
    /// an HTTP status, `timeout`, `connection_failed`, …), with their total
    /// duration in milliseconds: `callback_requests` in `/v1/stats/app`.
    by_result: Mutex<std::collections::BTreeMap<RequestKey, RequestTotals>>,
}

/// `(callback type, result)` of POSTs.
pub type RequestKey = (&'static str, String);
/// `(count, total milliseconds)` of POSTs.
pub type RequestTotals = (u64, u64);

/// A snapshot of the histogram: cumulative counts per bucket bound (the last
/// is `+Inf`), the sum and the count.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Latency {
    pub buckets: Vec<(String, u64)>,
    pub sum_ms: u64,
    pub count: u64,
}

impl Metrics {
    pub fn observe_latency(&self, ms: u64) {
        let i = LATENCY_BUCKETS_MS.iter().position(|b| ms <= *b).unwrap_or(LATENCY_BUCKETS_MS.len());
        self.latency_buckets[i].fetch_add(1, Ordering::Relaxed);
        self.latency_sum_ms.fetch_add(ms, Ordering::Relaxed);
    }

    pub fn latency(&self) -> Latency {
        let mut cumulative = 0;
        let mut buckets = Vec::with_capacity(LATENCY_BUCKETS_MS.len() + 1);
        for (i, b) in self.latency_buckets.iter().enumerate() {
            cumulative += b.load(Ordering::Relaxed);
            let le = LATENCY_BUCKETS_MS.get(i).map_or_else(|| "+Inf".to_owned(), |ms| ms.to_string());
            buckets.push((le, cumulative));
        }
        Latency { buckets, sum_ms: self.latency_sum_ms.load(Ordering::Relaxed), count: cumulative }
    }

    pub fn remember(&self, d: Delivered) {
        let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        if recent.len() == RECENT {
            recent.pop_front();
        }
        recent.push_back(d);
    }

    /// A recently delivered callback, by sequence number.
    pub fn delivered(&self, seq: i64) -> Option<Delivered> {
        self.recent.lock().unwrap_or_else(|e| e.into_inner()).iter().rev().find(|d| d.seq == seq).cloned()
    }

    /// The most recently delivered callbacks, newest first.
    pub fn recently_delivered(&self, limit: usize) -> Vec<Delivered> {
        self.recent.lock().unwrap_or_else(|e| e.into_inner()).iter().rev().take(limit).cloned().collect()
    }

    /// Counts one POST of `kind` callbacks that ended with `result` after `ms`,
    /// under the label `success` or the failure's label.
    pub fn observe_request(&self, kind: &'static str, result: Result<(), &AttemptFailure>, ms: u64) {
        let label = match result {
            Ok(()) => "success".to_owned(),
            Err(failure) => failure.as_label().into_owned(),
        };
        let mut map = self.by_result.lock().unwrap_or_else(|e| e.into_inner());
        let entry = map.entry((kind, label)).or_insert((0, 0));
        entry.0 += 1;
        entry.1 += ms;
    }

    /// `((type, result), (count, total ms))` of every POST so far.
    pub fn requests_by_result(&self) -> Vec<(RequestKey, RequestTotals)> {
        self.by_result.lock().unwrap_or_else(|e| e.into_inner()).iter().map(|(k, v)| (k.clone(), *v)).collect()
    }

    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_is_cumulative() {
        let m = Metrics::default();
        for ms in [5, 10, 11, 4_000_000] {
            m.observe_latency(ms);
        }
        let l = m.latency();
        assert_eq!(l.buckets[0], ("10".to_owned(), 2));
        assert_eq!(l.buckets[1], ("50".to_owned(), 3));
        assert_eq!(l.buckets.last().unwrap(), &("+Inf".to_owned(), 4));
        assert_eq!((l.count, l.sum_ms), (4, 4_000_026));
    }

    #[test]
    fn requests_are_counted_by_type_and_result() {
        let m = Metrics::default();
        m.observe_request("status_change", Ok(()), 5);
        m.observe_request("status_change", Ok(()), 7);
        m.observe_request("status_change", Err(&AttemptFailure::Status(500)), 3);
        m.observe_request("inbound_message", Err(&AttemptFailure::Timeout), 20_000);
        m.observe_request("inbound_message", Err(&AttemptFailure::Connect(vec!["tcp connect error".into()])), 1);
        m.observe_request("error", Err(&AttemptFailure::Request(Vec::new())), 2);
        m.observe_request("error", Err(&AttemptFailure::TaskFailed), 4);
        let want = [
            ("error", "request_failed", (1, 2)),
            ("error", "request_task_failed", (1, 4)),
            ("inbound_message", "connection_failed", (1, 1)),
            ("inbound_message", "timeout", (1, 20_000)),
            ("status_change", "500", (1, 3)),
            ("status_change", "success", (2, 12)),
        ];
        let want: Vec<(RequestKey, RequestTotals)> =
            want.into_iter().map(|(kind, result, totals)| ((kind, result.to_owned()), totals)).collect();
        assert_eq!(m.requests_by_result(), want);
    }

    #[test]
    fn recent_deliveries_are_bounded() {
        let m = Metrics::default();
        for seq in 0..(RECENT as i64 + 10) {
            m.remember(Delivered {
                seq,
                kind: "statuses",
                peer: "16315551234".into(),
                subject: None,
                items: String::new(),
                created_at: 0,
                attempts: 1,
                delivered_at: 0,
                last_result: "HTTP 200",
            });
        }
        assert!(m.delivered(5).is_none());
        assert_eq!(m.delivered(RECENT as i64 + 9).map(|d| d.seq), Some(RECENT as i64 + 9));
        assert_eq!(m.recently_delivered(2).iter().map(|d| d.seq).collect::<Vec<_>>(), [1033, 1032]);
    }
}
