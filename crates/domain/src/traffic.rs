//! Generated traffic (`POST /simulator/traffic`): a run of simulated
//! customers writing in, stored so that a restart resumes it without
//! generating anything twice, and leased so that one node of a deployment
//! runs it.

/// Where a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrafficState {
    Running,
    /// Stopped by `DELETE`.
    Stopped,
    /// Generated everything it was asked for.
    Finished,
}

impl TrafficState {
    pub const fn as_str(self) -> &'static str {
        match self {
            TrafficState::Running => "running",
            TrafficState::Stopped => "stopped",
            TrafficState::Finished => "finished",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "running" => Some(TrafficState::Running),
            "stopped" => Some(TrafficState::Stopped),
            "finished" => Some(TrafficState::Finished),
            _ => None,
        }
    }
}

/// A stored run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrafficRun {
    /// 8 hex digits; the ids of its messages start with it.
    pub id: String,
    /// The request as accepted (JSON text).
    pub spec: String,
    pub state: TrafficState,
    /// Unix milliseconds.
    pub created_at: i64,
    pub ended_at: Option<i64>,
}

/// The message id of the `n`-th message of run `run`: made from both, so
/// that a message generated twice (a resumed run, two nodes) is refused by
/// the store instead of being delivered twice, and a run's messages are
/// one range of ids.
pub fn message_id(run: &str, n: u64) -> String {
    format!("ABT{run}{n:012}")
}

/// The first and last possible ids of run `run`'s messages.
pub fn id_range(run: &str) -> (String, String) {
    (message_id(run, 0), message_id(run, 999_999_999_999))
}

/// What a run produced so far, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TrafficProgress {
    /// Messages stored.
    pub generated: u64,
    /// Their callbacks still waiting for delivery.
    pub pending_callbacks: u64,
}
