//! What the network decided at acceptance for one outbound message, beyond
//! its customer's rules: the simulator's chaos (`PUT /simulator/chaos`,
//! `POST /simulator/chaos/next`) writes it, the store keeps it with the
//! message, and every later step reads it, so a plan survives restarts and
//! holds on whichever node of a deployment takes the step.

use serde::{Deserialize, Serialize};

use super::lifecycle::{Failure, MessageStatus};

/// A message's own path through the network. Empty (the default) changes
/// nothing; a message without a plan follows the configured delays.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryPlan {
    /// Its own delays between the steps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delays_ms: Option<StepDelays>,
    /// It goes no further than this status: `sent` (never delivered; it
    /// expires at its ttl) or `delivered` (never read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_at: Option<MessageStatus>,
    /// It fails instead of moving on from a status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail: Option<PlannedFailure>,
    /// Its status callbacks are delivered twice.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub duplicate: bool,
    /// Its status callbacks are held back this long, outside the customer's
    /// order, so that later callbacks overtake them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disorder_ms: Option<u64>,
}

/// Delays between a message's steps, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepDelays {
    /// Accepted → `sent`.
    pub sent: u64,
    /// `sent` → `delivered`.
    pub delivered: u64,
    /// `delivered` → `read`.
    pub read: u64,
}

/// A failure at a chosen point.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedFailure {
    /// The status the message fails from: `accepted` (it is never sent),
    /// `sent` (never delivered) or `delivered`.
    pub from: MessageStatus,
    pub errors: Failure,
}

impl DeliveryPlan {
    /// Whether it changes anything (an empty plan is not stored).
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// The JSON text the store keeps.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".to_owned())
    }

    /// Reads what [`DeliveryPlan::to_json`] wrote; a text that cannot be
    /// read (a hand edit) leaves the message to the network's usual rules.
    pub fn from_json(text: &str) -> Self {
        serde_json::from_str(text).unwrap_or_else(|_| {
            tracing::warn!("a stored delivery plan could not be read; the message follows the usual rules");
            Self::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    #[test]
    fn plans_round_trip_through_their_text() {
        let plan = DeliveryPlan {
            delays_ms: Some(StepDelays { sent: 1, delivered: 2, read: 3 }),
            stop_at: Some(MessageStatus::Delivered),
            fail: Some(PlannedFailure {
                from: MessageStatus::Sent,
                errors: Failure::new(ErrorCode::ReceiverIncapable, "chaos"),
            }),
            duplicate: true,
            disorder_ms: Some(500),
        };
        assert_eq!(DeliveryPlan::from_json(&plan.to_json()), plan);
        assert_eq!(DeliveryPlan::default().to_json(), "{}");
        assert!(DeliveryPlan::from_json("not json").is_empty());
    }
}
