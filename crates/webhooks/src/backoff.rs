//! The retry schedule of the application settings: "the backoff delay increases
//! linearly by `callback_backoff_delay_ms` each time a callback fails to get a
//! 200 OK; it is capped by `max_callback_backoff_delay_ms`". Retries never stop.

use std::time::Duration;

/// The wait before the next attempt after `failures` consecutive failures
/// (`failures >= 1`): `min(failures × step, cap)`. Zero failures wait nothing.
pub fn retry_delay(failures: u32, step_ms: u64, cap_ms: u64) -> Duration {
    let linear = u64::from(failures).saturating_mul(step_ms);
    Duration::from_millis(linear.min(cap_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_then_capped() {
        // The defaults: 3 s steps, 900 s cap.
        let d = |n| retry_delay(n, 3_000, 900_000).as_millis();
        assert_eq!(d(0), 0);
        assert_eq!(d(1), 3_000);
        assert_eq!(d(2), 6_000);
        assert_eq!(d(300), 900_000);
        assert_eq!(d(301), 900_000);
        assert_eq!(d(u32::MAX), 900_000);
        assert_eq!(retry_delay(5, u64::MAX, u64::MAX), Duration::from_millis(u64::MAX));
    }
}
