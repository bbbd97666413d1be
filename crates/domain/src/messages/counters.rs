//! Outbound messages by the status they reached since this node started
//! (`out_message_*` in `/v1/stats/app`). Counted after the step is stored,
//! so a failed transaction counts nothing.

use std::sync::atomic::{AtomicU64, Ordering};

use super::lifecycle::MessageStatus;

#[derive(Debug, Default)]
pub struct OutMessageCounters {
    /// One counter per status of [`MessageStatus::OUTCOMES`], in its order.
    counts: [AtomicU64; 4],
}

fn slot(status: MessageStatus) -> Option<usize> {
    MessageStatus::OUTCOMES.iter().position(|s| *s == status)
}

impl OutMessageCounters {
    /// Adds `n` messages that reached `status` (other statuses are ignored).
    pub fn add(&self, status: MessageStatus, n: u64) {
        if let Some(i) = slot(status) {
            self.counts[i].fetch_add(n, Ordering::Relaxed);
        }
    }

    /// Adds what `other` counted.
    pub fn merge(&self, other: &OutMessageCounters) {
        for (mine, theirs) in self.counts.iter().zip(&other.counts) {
            let n = theirs.load(Ordering::Relaxed);
            if n > 0 {
                mine.fetch_add(n, Ordering::Relaxed);
            }
        }
    }

    /// `(status, count)` for sent, delivered, read and failed.
    pub fn snapshot(&self) -> [(MessageStatus, u64); 4] {
        let mut out = MessageStatus::OUTCOMES.map(|s| (s, 0));
        for ((_, n), count) in out.iter_mut().zip(&self.counts) {
            *n = count.load(Ordering::Relaxed);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use MessageStatus::{Deleted, Delivered, Failed, Read, Sent};

    #[test]
    fn counts_the_four_outcomes_only() {
        let c = OutMessageCounters::default();
        c.add(Sent, 2);
        c.add(Read, 1);
        c.add(Deleted, 5);
        assert_eq!(c.snapshot(), [(Sent, 2), (Delivered, 0), (Read, 1), (Failed, 0)]);
        let total = OutMessageCounters::default();
        total.merge(&c);
        total.merge(&c);
        assert_eq!(total.snapshot(), [(Sent, 4), (Delivered, 0), (Read, 2), (Failed, 0)]);
    }
}
