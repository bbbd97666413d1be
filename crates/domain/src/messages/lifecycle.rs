//! A message's lifecycle as types: which way it travels, who it is for, the
//! statuses it moves through (and their order), what its conversation is
//! billed as, and why it failed. The store maps these to text in its own
//! columns; the API and the callbacks render them with [`MessageStatus::as_str`]
//! and friends. Nothing else spells a status.

use std::borrow::Cow;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{ErrorCode, ErrorItem};

/// Defines a closed set of names with its text form, one place for both ways.
macro_rules! named {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        $vis enum $name { $($(#[$vmeta])* $variant,)+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The wire and storage text.
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text,)+ }
            }

            /// The value a text names, if any.
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = Cow::<'de, str>::deserialize(d)?;
                $name::parse(&s).ok_or_else(|| D::Error::custom(format!("unknown {}: {s}", stringify!($name))))
            }
        }
    };
}

named! {
    /// Which way a message travels.
    pub enum Direction {
        /// Sent by the business.
        Outbound = "outbound",
        /// Sent by a customer.
        Inbound = "inbound",
    }
}

named! {
    /// Whom an outbound message is addressed to (`recipient_type`).
    pub enum RecipientType {
        Individual = "individual",
        Group = "group",
    }
}

named! {
    /// Where a message is in its life. Outbound messages go `accepted` →
    /// `sent` → `delivered` → `read`, or end `failed`; inbound ones are
    /// `received`, then `read` once the business marks them. `deleted` is
    /// only reported (a customer deleted a message they sent), never stored.
    pub enum MessageStatus {
        Accepted = "accepted",
        Sent = "sent",
        Delivered = "delivered",
        Read = "read",
        Failed = "failed",
        Received = "received",
        Deleted = "deleted",
    }
}

impl MessageStatus {
    /// The order of statuses reached at the same instant, as a status history
    /// lists them: `sent` before `delivered` before `read`, then the rest.
    pub const fn rank(self) -> u8 {
        match self {
            MessageStatus::Accepted | MessageStatus::Received => 0,
            MessageStatus::Sent => 1,
            MessageStatus::Delivered => 2,
            MessageStatus::Read => 3,
            MessageStatus::Failed | MessageStatus::Deleted => 4,
        }
    }

    /// The statuses counted as outcomes of outbound messages
    /// (`out_message_*` in `/v1/stats/app`).
    pub const OUTCOMES: [MessageStatus; 4] =
        [MessageStatus::Sent, MessageStatus::Delivered, MessageStatus::Read, MessageStatus::Failed];
}

named! {
    /// What a conversation is billed as (`pricing.category`,
    /// `conversation.origin.type`): `service` for free-form messages, else
    /// the category of the template that opened it.
    pub enum PricingCategory {
        Service = "service",
        Utility = "utility",
        Marketing = "marketing",
        Authentication = "authentication",
    }
}

impl PricingCategory {
    /// The category of a template's conversations (`MARKETING`, … as the
    /// registry writes them, in any case).
    pub fn of_template(category: &str) -> Option<Self> {
        Self::parse(&category.to_ascii_lowercase())
    }

    /// The registry's spelling (`MARKETING`, `UTILITY`, `AUTHENTICATION`).
    pub fn template_name(self) -> &'static str {
        match self {
            PricingCategory::Service => "SERVICE",
            PricingCategory::Utility => "UTILITY",
            PricingCategory::Marketing => "MARKETING",
            PricingCategory::Authentication => "AUTHENTICATION",
        }
    }
}

/// Why an outbound message failed (or will fail, when decided at
/// acceptance): the error items its `failed` status reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure(pub Vec<ErrorItem>);

impl Failure {
    /// One error with details.
    pub fn new(code: ErrorCode, details: impl Into<Cow<'static, str>>) -> Self {
        Self(vec![ErrorItem::new(code, details)])
    }

    /// The items as JSON text (what the store keeps).
    pub fn to_json(&self) -> String {
        // A list of error items always serialises.
        serde_json::to_string(&self.0).unwrap_or_else(|_| "[]".to_owned())
    }

    /// Reads what [`Failure::to_json`] wrote. A text that cannot be read (a
    /// hand-edited row, a code this version does not know) still means the
    /// message failed: it becomes a generic error that says so.
    pub fn from_json(text: &str) -> Self {
        serde_json::from_str(text).unwrap_or_else(|_| {
            tracing::warn!("a stored failure could not be read; reporting a generic error");
            Self::new(ErrorCode::GenericError, "The stored reason of this failure could not be read")
        })
    }

    /// The first item's code.
    pub fn code(&self) -> Option<ErrorCode> {
        self.0.first().map(|e| e.code)
    }
}

impl From<ErrorItem> for Failure {
    fn from(item: ErrorItem) -> Self {
        Self(vec![item])
    }
}

impl Serialize for Failure {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Failure {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Item {
            code: u16,
            details: Option<String>,
            href: Option<String>,
        }
        let items = Vec::<Item>::deserialize(d)?;
        items
            .into_iter()
            .map(|i| {
                let code =
                    ErrorCode::from_code(i.code).ok_or_else(|| D::Error::custom(format!("unknown code {}", i.code)))?;
                Ok(ErrorItem { code, details: i.details.map(Cow::Owned), href: i.href.map(Cow::Owned) })
            })
            .collect::<Result<_, _>>()
            .map(Failure)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_ones_are_refused() {
        for s in MessageStatus::ALL {
            assert_eq!(MessageStatus::parse(s.as_str()), Some(*s));
            assert_eq!(serde_json::to_string(s).unwrap(), format!("\"{s}\""));
        }
        assert_eq!(MessageStatus::parse("deliverd"), None);
        assert!(serde_json::from_str::<Direction>("\"sideways\"").is_err());
        assert_eq!(Direction::parse("inbound"), Some(Direction::Inbound));
        assert_eq!(RecipientType::parse("group"), Some(RecipientType::Group));
    }

    #[test]
    fn statuses_of_one_instant_sort_sent_delivered_read_then_the_rest() {
        let mut s = vec![MessageStatus::Failed, MessageStatus::Read, MessageStatus::Sent, MessageStatus::Delivered];
        s.sort_by_key(|s| s.rank());
        assert_eq!(s, [MessageStatus::Sent, MessageStatus::Delivered, MessageStatus::Read, MessageStatus::Failed]);
    }

    #[test]
    fn template_categories_map_to_pricing_categories() {
        assert_eq!(PricingCategory::of_template("MARKETING"), Some(PricingCategory::Marketing));
        assert_eq!(PricingCategory::of_template("Utility"), Some(PricingCategory::Utility));
        assert_eq!(PricingCategory::of_template("other"), None);
        assert_eq!(PricingCategory::Authentication.template_name(), "AUTHENTICATION");
    }

    #[test]
    fn failures_keep_their_items_through_text() {
        let f = Failure::new(ErrorCode::ReEngagementMessage, "window closed");
        let text = f.to_json();
        assert_eq!(text, r#"[{"code":470,"title":"Re-engagement message","details":"window closed"}]"#);
        assert_eq!(Failure::from_json(&text), f);
        let unreadable = Failure::from_json("[{\"code\": 1}]");
        assert_eq!(unreadable.code(), Some(ErrorCode::GenericError));
    }
}
