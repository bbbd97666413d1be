//! Time, behind a trait so that tests can move it (token expiry, rate-limit windows)
//! without sleeping.

use std::sync::atomic::{AtomicI64, Ordering};

use time::OffsetDateTime;

/// A source of wall-clock time in whole Unix seconds (the resolution every
/// On-Premises timestamp uses).
pub trait Clock: Send + Sync + 'static {
    fn now_unix(&self) -> i64;

    /// Milliseconds since the Unix epoch (receipt delays are in milliseconds).
    fn now_millis(&self) -> i64;

    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(self.now_unix()).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }
}

/// The real clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_unix(&self) -> i64 {
        OffsetDateTime::now_utc().unix_timestamp()
    }

    fn now_millis(&self) -> i64 {
        i64::try_from(OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
    }
}

/// The real clock plus an adjustable offset. Tests hand one to the server and
/// move it forward to cross expiry and rate-limit windows.
#[derive(Debug, Default)]
pub struct ShiftedClock {
    offset_secs: AtomicI64,
}

impl ShiftedClock {
    pub fn new() -> Self {
        Self::default()
    }

    /// Moves the clock forward (or back, with a negative value).
    pub fn advance(&self, secs: i64) {
        self.offset_secs.fetch_add(secs, Ordering::SeqCst);
    }
}

impl Clock for ShiftedClock {
    fn now_unix(&self) -> i64 {
        SystemClock.now_unix() + self.offset_secs.load(Ordering::SeqCst)
    }

    fn now_millis(&self) -> i64 {
        SystemClock.now_millis() + self.offset_secs.load(Ordering::SeqCst) * 1000
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shifted_clock_moves() {
        let c = ShiftedClock::new();
        let before = c.now_unix();
        c.advance(3600);
        assert!(c.now_unix() >= before + 3600);
    }
}
