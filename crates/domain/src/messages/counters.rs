//! Outbound messages by the status they reached since this node started
//! (`out_message_*` in `/v1/stats/app`). Counted after the step is stored,
//! so a failed transaction counts nothing.

use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default)]
pub struct OutMessageCounters {
    sent: AtomicU64,
    delivered: AtomicU64,
    read: AtomicU64,
    failed: AtomicU64,
}

impl OutMessageCounters {
    /// Adds `n` messages that reached `status` (other statuses are ignored).
    pub fn add(&self, status: &str, n: u64) {
        let counter = match status {
            "sent" => &self.sent,
            "delivered" => &self.delivered,
            "read" => &self.read,
            "failed" => &self.failed,
            _ => return,
        };
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// Adds what `other` counted.
    pub fn merge(&self, other: &OutMessageCounters) {
        for (status, n) in other.snapshot() {
            if n > 0 {
                self.add(status, n);
            }
        }
    }

    /// `(status, count)` for sent, delivered, read and failed.
    pub fn snapshot(&self) -> [(&'static str, u64); 4] {
        [
            ("sent", self.sent.load(Ordering::Relaxed)),
            ("delivered", self.delivered.load(Ordering::Relaxed)),
            ("read", self.read.load(Ordering::Relaxed)),
            ("failed", self.failed.load(Ordering::Relaxed)),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_the_four_outcomes_only() {
        let c = OutMessageCounters::default();
        c.add("sent", 2);
        c.add("read", 1);
        c.add("deleted", 5);
        assert_eq!(c.snapshot(), [("sent", 2), ("delivered", 0), ("read", 1), ("failed", 0)]);
    }
}
