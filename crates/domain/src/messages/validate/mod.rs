//! Synchronous validation of `POST /v1/messages` (`messages.md` §1–§10, `errors.md` §2, §3, §5).
//!
//! Two passes, mirroring the real stack:
//!
//! 1. **The Webapp's checks**, in the Webapp's order: `to`, `type`, `recipient_type`, the two
//!    booleans, `ttl`, which type object is present (and that no other type's object is), the
//!    per-field presence table inside the type object and the `language` object. Every problem
//!    is collected; an empty `ttl` stops the pass as it did in the Webapp.
//! 2. Only when the first pass is clean: **the content of the type object** (what the Coreapp
//!    rejected synchronously, plus the spec's *Recommended* local checks: lengths, counts, media
//!    references, template parameter shapes). Again every problem is collected.
//!
//! Each pass reports all its problems in one [`WaError`] (status of the last error). The
//! second pass is not run after a failed first one because the Webapp never forwarded such a
//! request to the Coreapp. Nothing here touches state: media-id lookup, the template registry,
//! the 24-hour window, registration and sending are the caller's.
//!
//! Conventions: a JSON `null` counts as absent everywhere, and an empty string counts as absent
//! wherever a value is required (`messages.md` §1). Parameter names in details are paths relative
//! to the type object (`components[1].parameters[0].currency`), except where the Webapp's own
//! wording is reused verbatim (`code`, `policy`, `'id', 'link'`, `name.formatted_name`).
//!
//! Layout: this module holds the entry point and the types it returns; pass 1 is in `envelope`
//! (the top-level fields) and `presence` (the Webapp's checks inside the type object); pass 2 has
//! one module per type object (`text`, `media`, `location`, `contacts`, `template`, `hsm`,
//! `interactive`, `reaction`); `fields` holds the readers both passes share.

mod contacts;
mod envelope;
mod fields;
mod hsm;
mod interactive;
mod location;
mod media;
mod presence;
mod reaction;
mod template;
#[cfg(test)]
mod test_support;
mod text;

/// The limits the validators enforce, for the API's description of them.
pub mod limits {
    pub use super::interactive::{
        MAX_BUTTON_ID, MAX_BUTTON_TITLE, MAX_BUTTONS, MAX_FOOTER_TEXT, MAX_HEADER_TEXT, MAX_INTERACTIVE_BODY,
        MAX_LIST_BUTTON, MAX_PRODUCTS, MAX_ROW_DESCRIPTION, MAX_ROW_ID, MAX_ROW_TITLE, MAX_ROWS, MAX_SECTION_TITLE,
        MAX_SECTIONS,
    };
    pub use super::media::MAX_CAPTION;
    pub use super::text::MAX_TEXT_BODY;
}

use serde_json::{Map, Value};

use self::contacts::contacts;
use self::envelope::envelope;
use self::hsm::hsm;
use self::interactive::interactive;
use self::location::location;
use self::media::media_message;
use self::reaction::reaction;
use self::template::template;
use self::text::text;
use crate::error::{Problems, WaError};

pub use super::lifecycle::RecipientType;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageType {
    Text,
    Image,
    Audio,
    Video,
    Document,
    Sticker,
    Location,
    Contacts,
    Template,
    Hsm,
    Interactive,
    Reaction,
}

impl MessageType {
    /// The Webapp's `ALLOWED_TYPES` order (it decides the order of the "not required for type"
    /// errors), followed by the types later builds and wabiz added.
    pub const ORDER: [MessageType; 12] = [
        MessageType::Audio,
        MessageType::Document,
        MessageType::Hsm,
        MessageType::Image,
        MessageType::Location,
        MessageType::Text,
        MessageType::Video,
        MessageType::Contacts,
        MessageType::Template,
        MessageType::Sticker,
        MessageType::Interactive,
        MessageType::Reaction,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MessageType::Text => "text",
            MessageType::Image => "image",
            MessageType::Audio => "audio",
            MessageType::Video => "video",
            MessageType::Document => "document",
            MessageType::Sticker => "sticker",
            MessageType::Location => "location",
            MessageType::Contacts => "contacts",
            MessageType::Template => "template",
            MessageType::Hsm => "hsm",
            MessageType::Interactive => "interactive",
            MessageType::Reaction => "reaction",
        }
    }

    /// The type named `kind` (as `as_str` spells it).
    pub fn parse(kind: &str) -> Option<MessageType> {
        MessageType::ORDER.into_iter().find(|t| t.as_str() == kind)
    }

    pub fn is_media(self) -> bool {
        matches!(
            self,
            MessageType::Image | MessageType::Audio | MessageType::Video | MessageType::Document | MessageType::Sticker
        )
    }

    /// text, media, location, contacts, interactive, reaction: only inside the 24-hour window
    pub fn is_free_form(self) -> bool {
        !matches!(self, MessageType::Template | MessageType::Hsm)
    }

    fn from_name(name: &str) -> Option<MessageType> {
        MessageType::ORDER.into_iter().find(|t| t.as_str() == name)
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Rules {
    /// --enable-reactions
    pub reactions: bool,
    /// false with --disable-groups
    pub groups: bool,
}

/// A media reference of an image/audio/video/document/sticker message or of a template/interactive header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaRef {
    Id(String),
    Link { url: String, provider: Option<String> },
}

#[derive(Debug, Clone, PartialEq)]
pub struct OutboundMessage {
    /// Exactly as sent (normalisation happens later).
    pub to: String,
    pub recipient_type: RecipientType,
    pub kind: MessageType,
    pub preview_url: bool,
    pub render_mentions: bool,
    /// §9: `{"days": N}` or integer seconds; absent → `None`.
    pub ttl_secs: Option<u64>,
    pub context_message_id: Option<String>,
    /// The type object (or array for contacts) as sent, kept for storage and callbacks.
    pub content: Value,
    /// Media referenced by the message (the media object of a media type; template header media;
    /// interactive header media), for the caller to resolve.
    pub media: Vec<MediaRef>,
    /// For templates and hsm: namespace, name (element_name for hsm), language code, and the
    /// parameters per component, for the registry check done later.
    pub template: Option<TemplateCall>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TemplateCall {
    pub namespace: String,
    pub name: String,
    pub language: String,
    pub policy: String,
    /// header/body text-like parameters in order.
    pub parameters: Vec<TemplateParameter>,
    /// button parameters in order.
    pub buttons: Vec<TemplateButton>,
}

/// A header or body parameter of a template send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateParameter {
    /// `header` or `body`.
    pub component: String,
    /// `text`, `currency`, `date_time`, `image`, `video` or `document`.
    pub kind: String,
    /// What it shows in the message: a text's text, a currency's or a date's
    /// fallback value; `None` for media.
    pub value: Option<String>,
}

impl TemplateParameter {
    pub fn new(component: &str, kind: &str) -> Self {
        Self { component: component.to_owned(), kind: kind.to_owned(), value: None }
    }

    /// The same parameter, showing `value`.
    pub fn showing(self, value: Option<String>) -> Self {
        Self { value, ..self }
    }
}

/// A button parameter of a template send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateButton {
    /// `quick_reply` or `url`.
    pub sub_type: String,
    /// The button's position, 0 to 2.
    pub index: u8,
    /// `payload` or `text`.
    pub kind: String,
    /// The payload, or the suffix appended to the button's URL.
    pub value: String,
}

/// Validates a send request. All problems found at one level are reported together in one
/// WaError (status 400, the status of the last error), in the Webapp's order.
pub fn validate(body: &Map<String, Value>, rules: Rules) -> Result<OutboundMessage, WaError> {
    let mut p = Problems::new();
    let env = envelope(&mut p, body, rules);
    p.into_result()?;

    let mut p = Problems::new();
    let mut media = Vec::new();
    let template = content(&mut p, env.kind, &env.content, &mut media);
    p.into_result()?;

    Ok(OutboundMessage {
        to: env.to,
        recipient_type: env.recipient_type,
        kind: env.kind,
        preview_url: env.preview_url,
        render_mentions: env.render_mentions,
        ttl_secs: env.ttl_secs,
        context_message_id: env.context_message_id,
        content: env.content,
        media,
        template,
    })
}

// ---------------------------------------------------------------------------------------------
// Pass 2: inside the type object.
// ---------------------------------------------------------------------------------------------

/// Hands the type object to its type's checks; templates and hsm return what the registry
/// check needs.
fn content(p: &mut Problems, kind: MessageType, content: &Value, media: &mut Vec<MediaRef>) -> Option<TemplateCall> {
    match content {
        Value::Array(cards) if kind == MessageType::Contacts => {
            contacts(p, cards);
            None
        }
        Value::Object(o) => match kind {
            MessageType::Text => {
                text(p, o);
                None
            }
            MessageType::Image
            | MessageType::Audio
            | MessageType::Video
            | MessageType::Document
            | MessageType::Sticker => {
                media_message(p, kind, o, media);
                None
            }
            MessageType::Location => {
                location(p, o);
                None
            }
            MessageType::Template => Some(template(p, o, media)),
            MessageType::Hsm => Some(hsm(p, o)),
            MessageType::Interactive => {
                interactive(p, o, media);
                None
            }
            MessageType::Reaction => {
                reaction(p, o);
                None
            }
            // Pass 1 only lets an array through for contacts.
            MessageType::Contacts => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::messages::validate::test_support::*;

    #[test]
    fn second_pass_runs_only_after_a_clean_first_pass() {
        // The text is too long, but `to` is missing: only the Webapp's error is reported.
        assert_eq!(codes(json!({"text": {"body": "a".repeat(5000)}})), [1008]);
        // Several content problems are reported together.
        assert_eq!(codes(of("location", json!({"latitude": 100, "name": 5}))), [1008, 1009, 1009]);
    }

    // ---- MessageType ----

    #[test]
    fn message_type_helpers() {
        for t in MessageType::ORDER {
            assert_eq!(MessageType::from_name(t.as_str()), Some(t));
        }
        assert_eq!(MessageType::from_name("bogus"), None);
        let media: Vec<&str> =
            MessageType::ORDER.into_iter().filter(|t| t.is_media()).map(MessageType::as_str).collect();
        assert_eq!(media, ["audio", "document", "image", "video", "sticker"]);
        let scheduled: Vec<&str> =
            MessageType::ORDER.into_iter().filter(|t| !t.is_free_form()).map(MessageType::as_str).collect();
        assert_eq!(scheduled, ["hsm", "template"]);
    }
}
