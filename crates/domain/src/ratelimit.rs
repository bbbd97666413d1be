//! Sliding-window counters per client IP, for the Webapp's login and user-write
//! limits (`users-auth.md` §5, §7). They are per node and in memory, as in the
//! original Webapp, where each container counted on its own.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;

/// Counts events per IP over a trailing window.
#[derive(Debug)]
pub struct SlidingWindow {
    window_secs: i64,
    /// Keeps at most this many timestamps per IP: once the limit is reached,
    /// older ones add nothing, so memory per IP stays bounded.
    max_kept: usize,
    events: Mutex<HashMap<IpAddr, VecDeque<i64>>>,
}

impl SlidingWindow {
    pub fn new(window_secs: i64, max_kept: usize) -> Self {
        Self { window_secs, max_kept: max_kept.max(1), events: Mutex::new(HashMap::new()) }
    }

    /// Events recorded for `ip` within the window ending at `now`.
    pub fn count(&self, ip: IpAddr, now: i64) -> usize {
        let mut map = self.lock();
        match map.get_mut(&ip) {
            None => 0,
            Some(q) => {
                Self::prune(q, now - self.window_secs);
                q.len()
            }
        }
    }

    /// Records one event and returns the count including it.
    pub fn record(&self, ip: IpAddr, now: i64) -> usize {
        let mut map = self.lock();
        if map.len() > 10_000 {
            // Drop idle entries so a scan from many addresses cannot grow the map forever.
            let horizon = now - self.window_secs;
            map.retain(|_, q| q.back().is_some_and(|t| *t > horizon));
        }
        let q = map.entry(ip).or_default();
        Self::prune(q, now - self.window_secs);
        q.push_back(now);
        while q.len() > self.max_kept {
            q.pop_front();
        }
        q.len()
    }

    /// Takes back the latest event of `ip` (an attempt counted in advance
    /// that turned out not to be a failure).
    pub fn undo(&self, ip: IpAddr) {
        let mut map = self.lock();
        if let Some(q) = map.get_mut(&ip) {
            q.pop_back();
        }
    }

    fn prune(q: &mut VecDeque<i64>, horizon: i64) {
        while q.front().is_some_and(|t| *t <= horizon) {
            q.pop_front();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, VecDeque<i64>>> {
        // A poisoned lock only means another request panicked mid-update; the
        // counters are still usable.
        self.events.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_slides() {
        let w = SlidingWindow::new(3600, 100);
        let ip: IpAddr = [127, 0, 0, 1].into();
        for i in 0..5 {
            assert_eq!(w.record(ip, 1000 + i), (i + 1) as usize);
        }
        assert_eq!(w.count(ip, 1000 + 3599), 5);
        assert_eq!(w.count(ip, 1000 + 3600), 4);
        assert_eq!(w.count(ip, 1000 + 7200), 0);
        let other: IpAddr = [127, 0, 0, 2].into();
        assert_eq!(w.count(other, 1000), 0);
    }

    #[test]
    fn undo_takes_back_the_latest_event() {
        let w = SlidingWindow::new(3600, 100);
        let ip: IpAddr = [127, 0, 0, 1].into();
        for i in 0..3 {
            w.record(ip, 10 + i);
        }
        w.undo(ip);
        assert_eq!(w.count(ip, 20), 2);
        w.undo([10, 0, 0, 9].into());
        assert_eq!(w.count(ip, 20), 2, "another address changes nothing");
    }

    #[test]
    fn memory_per_ip_is_bounded() {
        let w = SlidingWindow::new(3600, 31);
        let ip: IpAddr = [10, 0, 0, 1].into();
        for i in 0..1000 {
            w.record(ip, i);
        }
        assert_eq!(w.count(ip, 1000), 31);
    }
}
