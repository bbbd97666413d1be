//! How the domain's message types are kept in columns, the same for both
//! engines: statuses, directions, recipient types and pricing categories as
//! their wire names; failures and conversations as JSON text. This is the
//! only place where a stored text becomes a type again.

use wabiz_domain::callbacks::Conversation;
use wabiz_domain::messages::plan::DeliveryPlan;
use wabiz_domain::messages::{Direction, Failure, MessageStatus, PricingCategory, RecipientType};
use wabiz_domain::ports::StoreError;

/// A column holds a text no type of this version names (a hand-edited row,
/// or one written by a newer version).
#[derive(Debug, thiserror::Error)]
#[error("column '{column}' holds an unknown value '{value}'")]
pub struct UnknownValue {
    pub column: &'static str,
    pub value: String,
}

impl From<UnknownValue> for StoreError {
    fn from(e: UnknownValue) -> Self {
        StoreError::Other(e.to_string())
    }
}

impl From<UnknownValue> for rusqlite::Error {
    fn from(e: UnknownValue) -> Self {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    }
}

fn named<T>(parse: fn(&str) -> Option<T>, column: &'static str, text: &str) -> Result<T, UnknownValue> {
    parse(text).ok_or_else(|| UnknownValue { column, value: text.to_owned() })
}

pub fn status(text: &str) -> Result<MessageStatus, UnknownValue> {
    named(MessageStatus::parse, "status", text)
}

pub fn direction(text: &str) -> Result<Direction, UnknownValue> {
    named(Direction::parse, "direction", text)
}

pub fn recipient_type(text: &str) -> Result<RecipientType, UnknownValue> {
    named(RecipientType::parse, "recipient_type", text)
}

pub fn category(text: Option<String>) -> Result<Option<PricingCategory>, UnknownValue> {
    text.map(|t| named(PricingCategory::parse, "category", &t)).transpose()
}

/// A failure as stored ([`Failure::to_json`]).
pub fn failure(text: Option<String>) -> Option<Failure> {
    text.map(|t| Failure::from_json(&t))
}

pub fn failure_text(failure: Option<&Failure>) -> Option<String> {
    failure.map(Failure::to_json)
}

/// A message's delivery plan; an empty one is not stored.
pub fn plan(text: Option<String>) -> Option<Box<DeliveryPlan>> {
    text.map(|t| DeliveryPlan::from_json(&t)).filter(|p| !p.is_empty()).map(Box::new)
}

pub fn plan_text(plan: Option<&DeliveryPlan>) -> Option<String> {
    plan.filter(|p| !p.is_empty()).map(DeliveryPlan::to_json)
}

/// A conversation as stored. One that cannot be read only loses the
/// `conversation` and `pricing` blocks of the message's later statuses.
pub fn conversation(text: Option<String>) -> Option<Conversation> {
    let text = text?;
    serde_json::from_str(&text)
        .inspect_err(|e| tracing::warn!(error = %e, "a message's stored conversation could not be read"))
        .ok()
}

pub fn conversation_text(conversation: Option<&Conversation>) -> Option<String> {
    // A conversation (strings and integers) always serialises.
    conversation.and_then(|c| serde_json::to_string(c).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_become_types_and_unknown_ones_are_errors() {
        assert_eq!(status("delivered").ok(), Some(MessageStatus::Delivered));
        let err = status("deliverd").unwrap_err();
        assert_eq!(err.to_string(), "column 'status' holds an unknown value 'deliverd'");
        assert_eq!(category(Some("marketing".into())).ok(), Some(Some(PricingCategory::Marketing)));
        assert_eq!(category(None).ok(), Some(None));
        assert!(direction("sideways").is_err() && recipient_type("broadcast").is_err());
    }

    #[test]
    fn conversations_round_trip_and_unreadable_ones_are_dropped() {
        let c = Conversation::open(PricingCategory::Utility, 100);
        assert_eq!(conversation(conversation_text(Some(&c))), Some(c));
        assert_eq!(conversation(Some("{not json".into())), None);
    }
}
