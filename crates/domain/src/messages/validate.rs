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

use std::collections::HashSet;

use serde_json::{Map, Value};

use crate::error::{ErrorCode, Problems, WaError, shown};

/// `text.body` limit (`messages.md` §3).
const MAX_TEXT_BODY: usize = 4096;
/// Media caption limit (`messages.md` §4, Recommended).
const MAX_CAPTION: usize = 1024;
/// Interactive limits (`messages.md` §8).
const MAX_INTERACTIVE_BODY: usize = 1024;
const MAX_HEADER_TEXT: usize = 60;
const MAX_FOOTER_TEXT: usize = 60;
const MAX_BUTTONS: usize = 3;
const MAX_BUTTON_ID: usize = 256;
const MAX_BUTTON_TITLE: usize = 20;
const MAX_LIST_BUTTON: usize = 20;
const MAX_SECTIONS: usize = 10;
const MAX_SECTION_TITLE: usize = 24;
const MAX_ROWS: usize = 10;
const MAX_ROW_ID: usize = 200;
const MAX_ROW_TITLE: usize = 24;
const MAX_ROW_DESCRIPTION: usize = 72;
const MAX_PRODUCTS: usize = 30;
/// `ttl` bounds (`messages.md` §9, Recommended): at most the 30 days Meta retries for.
const DAY_SECS: u64 = 86_400;
const MAX_TTL_DAYS: u64 = 30;
const LANGUAGE_POLICIES: [&str; 2] = ["fallback", "deterministic"];
const WEEKDAYS: [&str; 7] = ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"];

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
    /// header/body text-like parameters in order: each as (component "header"|"body", parameter
    /// type "text"|"currency"|"date_time"|"image"|"video"|"document").
    pub parameters: Vec<(String, String)>,
    /// buttons: (sub_type, index 0..=2, parameter type)
    pub buttons: Vec<(String, u8, String)>,
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
// Small helpers shared by both passes.
// ---------------------------------------------------------------------------------------------

/// A key whose value is not `null`.
fn given<'a>(o: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    o.get(key).filter(|v| !v.is_null())
}

/// A key whose value is neither `null` nor `""` (the Webapp treats an empty string as absent).
fn filled<'a>(o: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    given(o, key).filter(|v| v.as_str() != Some(""))
}

/// PHP truthiness, which the Webapp's presence checks used: `0`, `false`, `""`, `[]` and `{}`
/// all count as absent there.
fn truthy(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
    }
}

/// PHP `empty()`, which the Webapp's `ttl` check used (it also treats the string `"0"` as empty).
fn php_empty(v: &Value) -> bool {
    match v {
        Value::String(s) => s.is_empty() || s == "0",
        other => !truthy(Some(other)),
    }
}

/// `prefix.key`, or `key` at the top of the type object.
fn at(prefix: &str, key: &str) -> String {
    if prefix.is_empty() { key.to_owned() } else { format!("{prefix}.{key}") }
}

fn mandatory_for(field: &str, kind: &str) -> WaError {
    WaError::new(ErrorCode::RequiredParameterMissing, format!("Parameter '{field}' is mandatory for type '{kind}'"))
}

fn not_required_for(field: &str, kind: &str) -> WaError {
    WaError::new(ErrorCode::ParameterNotRequired, format!("Parameter '{field}' is not required for type '{kind}'"))
}

/// A required non-empty string: 1008 when absent, 1009 when not a string.
fn req_str<'a>(p: &mut Problems, o: &'a Map<String, Value>, prefix: &str, key: &str) -> Option<&'a str> {
    match filled(o, key) {
        None => {
            p.push(WaError::missing_parameter(&at(prefix, key)));
            None
        }
        Some(Value::String(s)) => Some(s),
        Some(other) => {
            p.push(WaError::invalid_value(&at(prefix, key), &shown(other)));
            None
        }
    }
}

/// An optional string: 1009 when present but not a string.
fn opt_str<'a>(p: &mut Problems, o: &'a Map<String, Value>, prefix: &str, key: &str) -> Option<&'a str> {
    match given(o, key) {
        None => None,
        Some(Value::String(s)) => Some(s),
        Some(other) => {
            p.push(WaError::invalid_value(&at(prefix, key), &shown(other)));
            None
        }
    }
}

/// A required object: 1008 when absent, 1009 when not an object.
fn req_obj<'a>(p: &mut Problems, o: &'a Map<String, Value>, prefix: &str, key: &str) -> Option<&'a Map<String, Value>> {
    match filled(o, key) {
        None => {
            p.push(WaError::missing_parameter(&at(prefix, key)));
            None
        }
        Some(Value::Object(m)) => Some(m),
        Some(other) => {
            p.push(WaError::invalid_value(&at(prefix, key), &shown(other)));
            None
        }
    }
}

/// An optional object: 1009 when present but not an object.
fn opt_obj<'a>(p: &mut Problems, o: &'a Map<String, Value>, prefix: &str, key: &str) -> Option<&'a Map<String, Value>> {
    match filled(o, key) {
        None => None,
        Some(Value::Object(m)) => Some(m),
        Some(other) => {
            p.push(WaError::invalid_value(&at(prefix, key), &shown(other)));
            None
        }
    }
}

/// A required array (possibly empty: the callers decide what an empty one means).
fn req_array<'a>(p: &mut Problems, o: &'a Map<String, Value>, prefix: &str, key: &str) -> Option<&'a [Value]> {
    match filled(o, key) {
        None => {
            p.push(WaError::missing_parameter(&at(prefix, key)));
            None
        }
        Some(Value::Array(a)) => Some(a),
        Some(other) => {
            p.push(WaError::invalid_value(&at(prefix, key), &shown(other)));
            None
        }
    }
}

/// An optional array: 1009 when present but not an array.
fn opt_array<'a>(p: &mut Problems, o: &'a Map<String, Value>, prefix: &str, key: &str) -> Option<&'a [Value]> {
    match filled(o, key) {
        None => None,
        Some(Value::Array(a)) => Some(a),
        Some(other) => {
            p.push(WaError::invalid_value(&at(prefix, key), &shown(other)));
            None
        }
    }
}

/// 1009 when `s` has more than `max` characters (Unicode scalar values, not bytes).
fn max_chars(p: &mut Problems, name: &str, s: &str, max: usize) {
    let n = s.chars().count();
    if n > max {
        p.push(WaError::invalid(format!("Parameter '{name}' is too long: {n} characters, at most {max} allowed")));
    }
}

/// 1009 when `value` was already seen under the same list.
fn unique<'a>(p: &mut Problems, seen: &mut HashSet<&'a str>, name: &str, value: &'a str) {
    if !seen.insert(value) {
        p.push(WaError::invalid(format!("Parameter '{name}' has invalid value '{value}': it must be unique")));
    }
}

/// A non-negative integer given as a JSON integer or a string of digits (the spec's examples
/// use both, e.g. the button `index` and `day_of_week`).
fn int_like(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => s.parse().ok(),
        _ => None,
    }
}

/// An absolute `http`/`https` URL with a host. The domain crate has no URL parser, and this is
/// all `messages.md` §4 asks of a media link (the download itself happens at send time).
fn is_http_url(s: &str) -> bool {
    fn strip_scheme<'a>(s: &'a str, scheme: &str) -> Option<&'a str> {
        let n = scheme.len();
        // The scheme is ASCII, so a case-insensitive byte match ends on a char boundary.
        (s.len() >= n && s.as_bytes()[..n].eq_ignore_ascii_case(scheme.as_bytes())).then(|| &s[n..])
    }
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    let Some(rest) = strip_scheme(s, "https://").or_else(|| strip_scheme(s, "http://")) else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = if let Some(v6) = host_port.strip_prefix('[') {
        match v6.split_once(']') {
            Some((addr, tail)) if !addr.is_empty() => (addr, tail.strip_prefix(':').unwrap_or(tail)),
            _ => return false,
        }
    } else {
        host_port.split_once(':').unwrap_or((host_port, ""))
    };
    !host.is_empty()
        && port.bytes().all(|b| b.is_ascii_digit())
        && host.chars().all(|c| c.is_alphanumeric() || matches!(c, '-' | '.' | '_' | '%' | ':'))
}

// ---------------------------------------------------------------------------------------------
// Pass 1: the Webapp's checks.
// ---------------------------------------------------------------------------------------------

/// What the first pass extracts. When it reports problems the values are placeholders, never
/// used: `validate` returns the problems first.
struct Envelope {
    to: String,
    kind: MessageType,
    recipient_type: RecipientType,
    preview_url: bool,
    render_mentions: bool,
    ttl_secs: Option<u64>,
    context_message_id: Option<String>,
    content: Value,
}

fn envelope(p: &mut Problems, body: &Map<String, Value>, rules: Rules) -> Envelope {
    let to = match filled(body, "to") {
        None => {
            p.push(WaError::missing_parameter("to"));
            String::new()
        }
        Some(Value::String(s)) => s.clone(),
        Some(other) => {
            p.push(WaError::invalid_value("to", &shown(other)));
            String::new()
        }
    };

    let kind = match given(body, "type") {
        None => Some(MessageType::Text),
        Some(v) => match v.as_str().and_then(MessageType::from_name) {
            // Outbound reactions exist only with --enable-reactions (messages.md §9); otherwise
            // they are as unknown as any other type.
            Some(MessageType::Reaction) if !rules.reactions => {
                p.push(WaError::invalid_value("type", "reaction"));
                None
            }
            Some(k) => Some(k),
            None => {
                p.push(WaError::invalid_value("type", &shown(v)));
                None
            }
        },
    };

    let recipient_type = match given(body, "recipient_type") {
        None => Some(RecipientType::Individual),
        Some(v) => match v.as_str() {
            Some("individual") => Some(RecipientType::Individual),
            // With --disable-groups the value itself is not allowed (messages.md §10).
            Some("group") if rules.groups => Some(RecipientType::Group),
            _ => {
                p.push(WaError::invalid_value("recipient_type", &shown(v)));
                None
            }
        },
    };
    // Templates are 1:1 business notifications; groups never took them (Recommended, §10).
    if let (Some(RecipientType::Group), Some(k @ (MessageType::Template | MessageType::Hsm))) = (recipient_type, kind) {
        p.push(WaError::invalid(format!(
            "Parameter 'type' has invalid value '{}' for recipient_type 'group'",
            k.as_str()
        )));
    }

    let preview_url = boolean(p, body, "preview_url");
    let render_mentions = boolean(p, body, "render_mentions");

    let context_message_id = match given(body, "context") {
        None => None,
        Some(Value::Object(c)) => req_str(p, c, "context", "message_id").map(str::to_owned),
        Some(other) => {
            p.push(WaError::invalid_value("context", &shown(other)));
            None
        }
    };

    let mut env = Envelope {
        to,
        kind: kind.unwrap_or(MessageType::Text),
        recipient_type: recipient_type.unwrap_or(RecipientType::Individual),
        preview_url,
        render_mentions,
        ttl_secs: None,
        context_message_id,
        content: Value::Null,
    };

    if let Some(v) = given(body, "ttl") {
        if php_empty(v) {
            // The Webapp stopped checking here (`break` out of its parse loop).
            p.push(WaError::invalid("Empty TTL value not allowed"));
            return env;
        }
        env.ttl_secs = ttl_secs(v);
        if env.ttl_secs.is_none() {
            p.push(WaError::invalid_value("ttl", &shown(v)));
        }
    }

    // Without a valid type the Webapp had nothing to check the type objects against.
    let Some(kind) = kind else { return env };
    let name = kind.as_str();
    match body.get(name).filter(|v| truthy(Some(v))) {
        None => p.push(mandatory_for(name, name)),
        Some(v) => {
            let shaped = if kind == MessageType::Contacts { v.is_array() } else { v.is_object() };
            if shaped {
                env.content = v.clone();
            } else {
                p.push(WaError::invalid_value(name, &shown(v)));
            }
        }
    }
    for other in MessageType::ORDER {
        // A `reaction` key is just an unknown key when reactions are off (rule 8).
        if other == kind || (other == MessageType::Reaction && !rules.reactions) {
            continue;
        }
        if truthy(body.get(other.as_str())) {
            p.push(not_required_for(other.as_str(), name));
        }
    }
    if let Value::Object(o) = &env.content {
        presence_table(p, kind, o);
        language(p, kind, o);
    }
    env
}

/// A top-level boolean (default `false`); anything but a JSON boolean is 1009.
fn boolean(p: &mut Problems, body: &Map<String, Value>, key: &str) -> bool {
    match given(body, key) {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            p.push(WaError::invalid_value(key, &shown(other)));
            false
        }
    }
}

/// `{"days": N}` (1..=30) or a positive number of seconds up to 30 days (`messages.md` §9).
fn ttl_secs(v: &Value) -> Option<u64> {
    match v {
        Value::Object(o) if o.len() == 1 => {
            o.get("days")?.as_u64().filter(|d| (1..=MAX_TTL_DAYS).contains(d)).map(|d| d * DAY_SECS)
        }
        Value::Number(n) => n.as_u64().filter(|s| (1..=MAX_TTL_DAYS * DAY_SECS).contains(s)),
        _ => None,
    }
}

/// The Webapp's field presence table (`messages.md` §1): field, types that require it, types
/// that forbid it. Webapp rows, extended to the types later builds added: `sticker` follows the
/// other media types (and the Recommended caption rule), and "every other type" rows cover
/// `sticker`, `interactive` and `reaction` too. `interactive.body` is an object of its own, so
/// `body` is deliberately not forbidden there.
const PRESENCE: [(&str, &[MessageType], &[MessageType]); 6] = {
    use MessageType as T;
    [
        (
            "body",
            &[T::Text],
            &[T::Audio, T::Document, T::Hsm, T::Image, T::Location, T::Video, T::Contacts, T::Sticker],
        ),
        ("id", &[], &[T::Hsm, T::Location, T::Text, T::Contacts]),
        (
            "namespace",
            &[T::Hsm, T::Template],
            &[T::Audio, T::Document, T::Image, T::Location, T::Text, T::Video, T::Sticker],
        ),
        (
            "element_name",
            &[T::Hsm],
            &[
                T::Audio,
                T::Document,
                T::Image,
                T::Location,
                T::Text,
                T::Video,
                T::Contacts,
                T::Template,
                T::Sticker,
                T::Interactive,
                T::Reaction,
            ],
        ),
        ("caption", &[], &[T::Audio, T::Hsm, T::Location, T::Text, T::Contacts, T::Sticker]),
        (
            "filename",
            &[],
            &[
                T::Audio,
                T::Hsm,
                T::Image,
                T::Location,
                T::Text,
                T::Video,
                T::Contacts,
                T::Template,
                T::Sticker,
                T::Interactive,
                T::Reaction,
            ],
        ),
    ]
};

fn presence_table(p: &mut Problems, kind: MessageType, o: &Map<String, Value>) {
    for (field, required, forbidden) in PRESENCE {
        let here = truthy(o.get(field));
        if here && forbidden.contains(&kind) {
            p.push(not_required_for(field, kind.as_str()));
        } else if !here && required.contains(&kind) {
            p.push(mandatory_for(field, kind.as_str()));
        }
    }
}

/// The Webapp's `language` check (any type object carrying one), plus the language each
/// template kind needs: `template` a `language` object, `hsm` a `language` object or the old
/// `fallback_lg`/`fallback_lc` pair.
fn language(p: &mut Problems, kind: MessageType, o: &Map<String, Value>) {
    const FALLBACKS: [&str; 2] = ["fallback_lg", "fallback_lc"];
    match filled(o, "language") {
        Some(lang) => {
            for fallback in FALLBACKS {
                if truthy(o.get(fallback)) {
                    p.push(WaError::exactly_one_of(&["language", fallback]));
                }
            }
            match lang {
                Value::Object(l) => {
                    req_str(p, l, "", "code");
                    if let Some(policy) = req_str(p, l, "", "policy")
                        && !LANGUAGE_POLICIES.contains(&policy)
                    {
                        p.push(WaError::invalid_value("policy", policy));
                    }
                }
                other => p.push(WaError::invalid_value("language", &shown(other))),
            }
        }
        None if kind == MessageType::Hsm => {
            for fallback in FALLBACKS {
                if !truthy(o.get(fallback)) {
                    p.push(WaError::missing_parameter_of(&["language", fallback]));
                }
            }
        }
        None if kind == MessageType::Template => p.push(mandatory_for("language", "template")),
        None => {}
    }
}

// ---------------------------------------------------------------------------------------------
// Pass 2: inside the type object.
// ---------------------------------------------------------------------------------------------

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

/// §3: `body` is a string of at most 4096 characters (its presence is pass 1's).
fn text(p: &mut Problems, o: &Map<String, Value>) {
    match given(o, "body") {
        Some(Value::String(s)) => {
            let n = s.chars().count();
            if n > MAX_TEXT_BODY {
                p.push(WaError::new(
                    ErrorCode::MessageTooLong,
                    format!("Parameter 'body' is too long: {n} characters, at most {MAX_TEXT_BODY} allowed"),
                ));
            }
        }
        Some(other) => p.push(WaError::invalid_value("body", &shown(other))),
        None => {}
    }
}

/// §4: a media message's object. `caption`/`filename` presence per type is pass 1's.
fn media_message(p: &mut Problems, kind: MessageType, o: &Map<String, Value>, media: &mut Vec<MediaRef>) {
    media_object(p, o, "", media);
    if let Some(caption) = opt_str(p, o, "", "caption") {
        max_chars(p, "caption", caption, MAX_CAPTION);
    }
    if kind == MessageType::Document {
        opt_str(p, o, "", "filename");
    }
}

/// Exactly one of `id` / `link`; a link is `http(s)` with a host; `provider` (`{"name": …}`)
/// only with a link. Used for media messages and template/interactive header media.
fn media_object(p: &mut Problems, o: &Map<String, Value>, prefix: &str, media: &mut Vec<MediaRef>) {
    match (filled(o, "id"), filled(o, "link")) {
        (None, None) => p.push(WaError::missing_parameter_of(&["id", "link"])),
        (Some(_), Some(_)) => p.push(WaError::exactly_one_of(&["id", "link"])),
        (Some(id), None) => {
            match id {
                Value::String(s) => media.push(MediaRef::Id(s.clone())),
                other => p.push(WaError::invalid_value(&at(prefix, "id"), &shown(other))),
            }
            // A provider only carries the credentials for downloading a link.
            if filled(o, "provider").is_some() {
                p.push(WaError::new(
                    ErrorCode::ParameterNotRequired,
                    format!("Parameter '{}' is only allowed with 'link'", at(prefix, "provider")),
                ));
            }
        }
        (None, Some(link)) => {
            let url = match link {
                Value::String(s) if is_http_url(s) => Some(s.clone()),
                other => {
                    p.push(WaError::invalid_value(&at(prefix, "link"), &shown(other)));
                    None
                }
            };
            let provider_path = at(prefix, "provider");
            let provider = match opt_obj(p, o, prefix, "provider") {
                Some(pr) => req_str(p, pr, &provider_path, "name").map(str::to_owned),
                None => None,
            };
            if let Some(url) = url {
                media.push(MediaRef::Link { url, provider });
            }
        }
    }
}

/// §5: coordinates are numbers or numeric strings within range.
fn location(p: &mut Problems, o: &Map<String, Value>) {
    coordinate(p, o, "longitude", 180.0);
    coordinate(p, o, "latitude", 90.0);
    opt_str(p, o, "", "name");
    opt_str(p, o, "", "address");
}

fn coordinate(p: &mut Problems, o: &Map<String, Value>, key: &str, limit: f64) {
    let Some(v) = filled(o, key) else {
        p.push(WaError::missing_parameter(key));
        return;
    };
    let x = match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    // `parse` accepts "NaN" and "inf"; neither is a place.
    if !x.is_some_and(|x| x.is_finite() && (-limit..=limit).contains(&x)) {
        p.push(WaError::invalid_value(key, &shown(v)));
    }
}

/// §6: every card is an object with a non-empty `name.formatted_name` (an empty array is pass 1's).
fn contacts(p: &mut Problems, cards: &[Value]) {
    for (i, card) in cards.iter().enumerate() {
        let Value::Object(card) = card else {
            p.push(WaError::invalid_value(&format!("contacts[{i}]"), &shown(card)));
            continue;
        };
        match filled(card, "name") {
            None => p.push(WaError::missing_parameter("name.formatted_name")),
            Some(Value::Object(name)) => {
                req_str(p, name, "name", "formatted_name");
            }
            Some(other) => p.push(WaError::invalid_value("name", &shown(other))),
        }
    }
}

/// Where a template parameter appears; decides which parameter types are allowed there
/// (§7.1: media in headers only, payload in quick-reply buttons only, url buttons take text).
#[derive(Debug, Clone, Copy)]
enum Place {
    Header,
    Body,
    QuickReply,
    UrlButton,
    /// A button whose `sub_type` was itself invalid (already reported).
    UnknownButton,
}

impl Place {
    fn allows(self, ty: &str) -> bool {
        match self {
            Place::Header => ty != "payload",
            Place::Body => matches!(ty, "text" | "currency" | "date_time"),
            Place::QuickReply => ty == "payload",
            Place::UrlButton => ty == "text",
            Place::UnknownButton => true,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Place::Header => "component 'header'",
            Place::Body => "component 'body'",
            Place::QuickReply => "button sub_type 'quick_reply'",
            Place::UrlButton => "button sub_type 'url'",
            Place::UnknownButton => "button",
        }
    }
}

const PARAMETER_TYPES: [&str; 7] = ["text", "currency", "date_time", "image", "video", "document", "payload"];

/// §7.1. Namespace and language presence are pass 1's; whether the template exists and the
/// parameters fit it is the registry's, later.
fn template(p: &mut Problems, o: &Map<String, Value>, media: &mut Vec<MediaRef>) -> TemplateCall {
    let namespace = opt_str(p, o, "", "namespace").unwrap_or_default().to_owned();
    let name = req_str(p, o, "", "name").unwrap_or_default().to_owned();
    let (language, policy) = language_of(o);
    let mut call = TemplateCall { namespace, name, language, policy, parameters: Vec::new(), buttons: Vec::new() };
    if let Some(components) = opt_array(p, o, "", "components") {
        for (i, c) in components.iter().enumerate() {
            component(p, &format!("components[{i}]"), c, &mut call, media);
        }
    }
    call
}

/// `language.code` and `language.policy` (checked in pass 1).
fn language_of(o: &Map<String, Value>) -> (String, String) {
    let lang = o.get("language").and_then(Value::as_object);
    let field = |key: &str| lang.and_then(|l| l.get(key)).and_then(Value::as_str).unwrap_or_default().to_owned();
    (field("code"), field("policy"))
}

fn component(p: &mut Problems, prefix: &str, c: &Value, call: &mut TemplateCall, media: &mut Vec<MediaRef>) {
    let Value::Object(c) = c else {
        p.push(WaError::invalid_value(prefix, &shown(c)));
        return;
    };
    let Some(kind) = req_str(p, c, prefix, "type") else { return };
    match kind {
        "header" | "body" => {
            let place = if kind == "header" { Place::Header } else { Place::Body };
            // Parameters may be omitted: whether the template needs some is the registry's call.
            for (j, v) in opt_array(p, c, prefix, "parameters").unwrap_or_default().iter().enumerate() {
                if let Some(ty) = parameter(p, &format!("{prefix}.parameters[{j}]"), v, place, media) {
                    call.parameters.push((kind.to_owned(), ty.to_owned()));
                }
            }
        }
        "button" => {
            let sub_type = match req_str(p, c, prefix, "sub_type") {
                Some(s @ ("quick_reply" | "url")) => Some(s),
                Some(other) => {
                    p.push(WaError::invalid_value(&at(prefix, "sub_type"), other));
                    None
                }
                None => None,
            };
            let index = match filled(c, "index") {
                None => {
                    p.push(WaError::missing_parameter(&at(prefix, "index")));
                    None
                }
                Some(v) => match int_like(v).filter(|n| *n <= 2).and_then(|n| u8::try_from(n).ok()) {
                    Some(n) => Some(n),
                    None => {
                        p.push(WaError::invalid_value(&at(prefix, "index"), &shown(v)));
                        None
                    }
                },
            };
            let place = match sub_type {
                Some("quick_reply") => Place::QuickReply,
                Some(_) => Place::UrlButton,
                None => Place::UnknownButton,
            };
            // A button component carries nothing but its parameters.
            let Some(params) = req_array(p, c, prefix, "parameters") else { return };
            if params.is_empty() {
                p.push(WaError::missing_parameter(&at(prefix, "parameters")));
            }
            for (j, v) in params.iter().enumerate() {
                if let (Some(ty), Some(s), Some(i)) =
                    (parameter(p, &format!("{prefix}.parameters[{j}]"), v, place, media), sub_type, index)
                {
                    call.buttons.push((s.to_owned(), i, ty.to_owned()));
                }
            }
        }
        other => p.push(WaError::invalid_value(&at(prefix, "type"), other)),
    }
}

/// One template parameter object; returns its type when it is valid at this place.
fn parameter(
    p: &mut Problems,
    prefix: &str,
    v: &Value,
    place: Place,
    media: &mut Vec<MediaRef>,
) -> Option<&'static str> {
    let Value::Object(o) = v else {
        p.push(WaError::invalid_value(prefix, &shown(v)));
        return None;
    };
    let given_type = req_str(p, o, prefix, "type")?;
    let Some(ty) = PARAMETER_TYPES.into_iter().find(|t| *t == given_type) else {
        p.push(WaError::invalid_value(&at(prefix, "type"), given_type));
        return None;
    };
    let allowed = place.allows(ty);
    if !allowed {
        p.push(WaError::invalid(format!(
            "Parameter '{}' has invalid value '{ty}' for {}",
            at(prefix, "type"),
            place.describe()
        )));
    }
    let inner = at(prefix, ty);
    match ty {
        "text" | "payload" => {
            req_str(p, o, prefix, ty);
        }
        "currency" => {
            if let Some(c) = req_obj(p, o, prefix, ty) {
                currency(p, &inner, c, "code", true);
            }
        }
        "date_time" => {
            if let Some(d) = req_obj(p, o, prefix, ty) {
                date_time(p, &inner, d, true);
            }
        }
        _ => {
            if let Some(m) = req_obj(p, o, prefix, ty) {
                header_media(p, m, &inner, ty, media);
            }
        }
    }
    allowed.then_some(ty)
}

/// A media object in a template or interactive header: §4 rules, `filename` for documents only.
fn header_media(p: &mut Problems, m: &Map<String, Value>, prefix: &str, ty: &str, media: &mut Vec<MediaRef>) {
    media_object(p, m, prefix, media);
    if ty == "document" {
        opt_str(p, m, prefix, "filename");
    } else if truthy(m.get("filename")) {
        p.push(not_required_for("filename", ty));
    }
}

/// A currency object: `code_key` is `code` in templates, `currency_code` in hsm; hsm params
/// carry their fallback in `default` instead of `fallback_value`.
fn currency(p: &mut Problems, prefix: &str, o: &Map<String, Value>, code_key: &str, with_fallback: bool) {
    if with_fallback {
        req_str(p, o, prefix, "fallback_value");
    }
    if let Some(code) = req_str(p, o, prefix, code_key)
        && !(code.len() == 3 && code.bytes().all(|b| b.is_ascii_alphabetic()))
    {
        p.push(WaError::invalid_value(&at(prefix, code_key), code));
    }
    match filled(o, "amount_1000") {
        None => p.push(WaError::missing_parameter(&at(prefix, "amount_1000"))),
        Some(v) if v.is_i64() || v.is_u64() => {}
        Some(v) => p.push(WaError::invalid_value(&at(prefix, "amount_1000"), &shown(v))),
    }
}

/// A date_time object in any of the three documented shapes: flat component fields, a flat
/// `timestamp`, or the Postman schema's `component` / `unix_epoch` nesting. The shape fields
/// are optional (the fallback alone is a valid parameter); present ones must be well-formed.
fn date_time(p: &mut Problems, prefix: &str, o: &Map<String, Value>, with_fallback: bool) {
    if with_fallback {
        req_str(p, o, prefix, "fallback_value");
    }
    date_fields(p, prefix, o);
    if let Some(v) = given(o, "timestamp") {
        timestamp(p, &at(prefix, "timestamp"), v);
    }
    if let Some(c) = opt_obj(p, o, prefix, "component") {
        date_fields(p, &at(prefix, "component"), c);
    }
    let epoch = at(prefix, "unix_epoch");
    if let Some(u) = opt_obj(p, o, prefix, "unix_epoch") {
        match filled(u, "timestamp") {
            None => p.push(WaError::missing_parameter(&at(&epoch, "timestamp"))),
            Some(v) => timestamp(p, &at(&epoch, "timestamp"), v),
        }
    }
}

fn date_fields(p: &mut Problems, prefix: &str, o: &Map<String, Value>) {
    for (key, lo, hi) in
        [("year", 1, 9999), ("month", 1, 12), ("day_of_month", 1, 31), ("hour", 0, 23), ("minute", 0, 59)]
    {
        if let Some(v) = given(o, key)
            && !int_like(v).is_some_and(|n| (lo..=hi).contains(&n))
        {
            p.push(WaError::invalid_value(&at(prefix, key), &shown(v)));
        }
    }
    // 1 = Monday … 7 = Sunday, as a number, a numeric string or (Cloud API style) the name.
    if let Some(v) = given(o, "day_of_week") {
        let numeric = int_like(v).is_some_and(|n| (1..=7).contains(&n));
        let named = v.as_str().is_some_and(|s| WEEKDAYS.iter().any(|d| d.eq_ignore_ascii_case(s)));
        if !numeric && !named {
            p.push(WaError::invalid_value(&at(prefix, "day_of_week"), &shown(v)));
        }
    }
    opt_str(p, o, prefix, "calendar");
}

fn timestamp(p: &mut Problems, name: &str, v: &Value) {
    if int_like(v).is_none() {
        p.push(WaError::invalid_value(name, &shown(v)));
    }
}

/// §7.2: a body-only template. Presence of `namespace`, `element_name` and the language is
/// pass 1's; here the value types and `localizable_params`.
fn hsm(p: &mut Problems, o: &Map<String, Value>) -> TemplateCall {
    let namespace = opt_str(p, o, "", "namespace").unwrap_or_default().to_owned();
    let name = opt_str(p, o, "", "element_name").unwrap_or_default().to_owned();
    let (language, policy) = if o.get("language").is_some_and(Value::is_object) {
        language_of(o)
    } else {
        // The very old pair names a language and a locale, and meant fallback matching.
        let lg = opt_str(p, o, "", "fallback_lg").unwrap_or_default();
        let lc = opt_str(p, o, "", "fallback_lc").unwrap_or_default();
        (format!("{lg}_{lc}"), "fallback".to_owned())
    };
    let mut parameters = Vec::new();
    for (i, v) in opt_array(p, o, "", "localizable_params").unwrap_or_default().iter().enumerate() {
        let prefix = format!("localizable_params[{i}]");
        let Value::Object(lp) = v else {
            p.push(WaError::invalid_value(&prefix, &shown(v)));
            continue;
        };
        req_str(p, lp, &prefix, "default");
        let mut ty = "text";
        if let Some(c) = opt_obj(p, lp, &prefix, "currency") {
            currency(p, &at(&prefix, "currency"), c, "currency_code", false);
            ty = "currency";
        }
        if let Some(d) = opt_obj(p, lp, &prefix, "date_time") {
            date_time(p, &at(&prefix, "date_time"), d, false);
            if ty == "text" {
                ty = "date_time";
            }
        }
        parameters.push(("body".to_owned(), ty.to_owned()));
    }
    TemplateCall { namespace, name, language, policy, parameters, buttons: Vec::new() }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Interactive {
    Button,
    List,
    Product,
    ProductList,
}

impl Interactive {
    fn as_str(self) -> &'static str {
        match self {
            Interactive::Button => "button",
            Interactive::List => "list",
            Interactive::Product => "product",
            Interactive::ProductList => "product_list",
        }
    }
}

/// §8. Pure count and length checks are answered synchronously (errors.md §3, Recommended):
/// the codes 2015/2016/2023/2036 where the spec names them, 1009 for the rest.
fn interactive(p: &mut Problems, o: &Map<String, Value>, media: &mut Vec<MediaRef>) {
    let kind = match req_str(p, o, "", "type") {
        Some("button") => Some(Interactive::Button),
        Some("list") => Some(Interactive::List),
        Some("product") => Some(Interactive::Product),
        Some("product_list") => Some(Interactive::ProductList),
        Some(other) => {
            p.push(WaError::invalid_value("type", other));
            None
        }
        None => None,
    };
    if let Some(kind) = kind {
        header(p, o, kind, media);
    }
    match filled(o, "body") {
        // A single product shows the catalog's own text, so its body is optional.
        None if kind != Some(Interactive::Product) => p.push(WaError::missing_parameter("body.text")),
        None => {}
        Some(Value::Object(b)) => {
            if let Some(text) = req_str(p, b, "body", "text") {
                max_chars(p, "body.text", text, MAX_INTERACTIVE_BODY);
            }
        }
        Some(other) => p.push(WaError::invalid_value("body", &shown(other))),
    }
    if let Some(footer) = opt_obj(p, o, "", "footer")
        && let Some(text) = req_str(p, footer, "footer", "text")
    {
        max_chars(p, "footer.text", text, MAX_FOOTER_TEXT);
    }
    let action = req_obj(p, o, "", "action");
    let (Some(kind), Some(action)) = (kind, action) else { return };
    match kind {
        Interactive::Button => reply_buttons(p, action),
        Interactive::List => list(p, action),
        Interactive::Product => {
            req_str(p, action, "action", "catalog_id");
            req_str(p, action, "action", "product_retailer_id");
        }
        Interactive::ProductList => product_list(p, action),
    }
}

/// The header's structure (2036), its text length (1009) and its media (§4).
fn header(p: &mut Problems, o: &Map<String, Value>, kind: Interactive, media: &mut Vec<MediaRef>) {
    let bad = |details: String| WaError::new(ErrorCode::InvalidHeaderStructure, details);
    let Some(h) = filled(o, "header") else {
        if kind == Interactive::ProductList {
            p.push(WaError::missing_parameter("header"));
        }
        return;
    };
    if kind == Interactive::Product {
        p.push(bad("Parameter 'header' is not allowed for interactive type 'product'".to_owned()));
        return;
    }
    let Value::Object(h) = h else {
        p.push(bad(format!("Parameter 'header' has invalid value '{}'", shown(h))));
        return;
    };
    let ty = match filled(h, "type") {
        Some(Value::String(s)) if matches!(s.as_str(), "text" | "image" | "video" | "document") => s.as_str(),
        Some(other) => {
            p.push(bad(format!("Parameter 'header.type' has invalid value '{}'", shown(other))));
            return;
        }
        None => {
            p.push(bad("Missing mandatory parameter 'header.type'".to_owned()));
            return;
        }
    };
    if ty != "text" && matches!(kind, Interactive::List | Interactive::ProductList) {
        p.push(bad(format!(
            "Parameter 'header.type' has invalid value '{ty}' for interactive type '{}'",
            kind.as_str()
        )));
        return;
    }
    let inner = format!("header.{ty}");
    match filled(h, ty) {
        None => p.push(bad(format!("Missing mandatory parameter '{inner}'"))),
        Some(Value::String(s)) if ty == "text" => max_chars(p, &inner, s, MAX_HEADER_TEXT),
        Some(Value::Object(m)) if ty != "text" => header_media(p, m, &inner, ty, media),
        Some(other) => p.push(bad(format!("Parameter '{inner}' has invalid value '{}'", shown(other)))),
    }
}

fn reply_buttons(p: &mut Problems, action: &Map<String, Value>) {
    let Some(buttons) = req_array(p, action, "action", "buttons") else { return };
    if buttons.is_empty() || buttons.len() > MAX_BUTTONS {
        p.push(WaError::invalid(format!(
            "Parameter 'action.buttons' must hold 1 to {MAX_BUTTONS} buttons, not {}",
            buttons.len()
        )));
    }
    let mut ids = HashSet::new();
    let mut titles = HashSet::new();
    for (i, b) in buttons.iter().enumerate() {
        let prefix = format!("action.buttons[{i}]");
        let Value::Object(b) = b else {
            p.push(WaError::invalid_value(&prefix, &shown(b)));
            continue;
        };
        if let Some(ty) = req_str(p, b, &prefix, "type")
            && ty != "reply"
        {
            p.push(WaError::invalid_value(&at(&prefix, "type"), ty));
        }
        let Some(reply) = req_obj(p, b, &prefix, "reply") else { continue };
        let reply_path = at(&prefix, "reply");
        if let Some(id) = req_str(p, reply, &reply_path, "id") {
            let name = at(&reply_path, "id");
            max_chars(p, &name, id, MAX_BUTTON_ID);
            unique(p, &mut ids, &name, id);
        }
        if let Some(title) = req_str(p, reply, &reply_path, "title") {
            let name = at(&reply_path, "title");
            max_chars(p, &name, title, MAX_BUTTON_TITLE);
            unique(p, &mut titles, &name, title);
        }
    }
}

/// 2015 unless there are 1 to 10 sections.
fn section_count(p: &mut Problems, n: usize) {
    if n == 0 || n > MAX_SECTIONS {
        p.push(WaError::new(
            ErrorCode::InvalidNumberOfSections,
            format!("Parameter 'action.sections' must hold 1 to {MAX_SECTIONS} sections, not {n}"),
        ));
    }
}

/// A section title: required once there are several sections (the user picks between them by
/// title), at most 24 characters.
fn section_title(p: &mut Problems, s: &Map<String, Value>, prefix: &str, required: bool) {
    let title = if required { req_str(p, s, prefix, "title") } else { opt_str(p, s, prefix, "title") };
    if let Some(title) = title {
        max_chars(p, &at(prefix, "title"), title, MAX_SECTION_TITLE);
    }
}

fn list(p: &mut Problems, action: &Map<String, Value>) {
    if let Some(label) = req_str(p, action, "action", "button") {
        max_chars(p, "action.button", label, MAX_LIST_BUTTON);
    }
    let Some(sections) = req_array(p, action, "action", "sections") else { return };
    section_count(p, sections.len());
    let mut ids = HashSet::new();
    let mut total = 0;
    for (i, s) in sections.iter().enumerate() {
        let prefix = format!("action.sections[{i}]");
        let Value::Object(s) = s else {
            p.push(WaError::invalid_value(&prefix, &shown(s)));
            continue;
        };
        section_title(p, s, &prefix, sections.len() > 1);
        let Some(rows) = req_array(p, s, &prefix, "rows") else { continue };
        if rows.is_empty() {
            p.push(WaError::new(
                ErrorCode::InvalidNumberOfRows,
                format!("Parameter '{prefix}.rows' must hold at least one row"),
            ));
        }
        total += rows.len();
        for (j, r) in rows.iter().enumerate() {
            let row_path = format!("{prefix}.rows[{j}]");
            let Value::Object(r) = r else {
                p.push(WaError::invalid_value(&row_path, &shown(r)));
                continue;
            };
            // Row ids come back in the reply webhook, so they must tell rows apart list-wide.
            if let Some(id) = req_str(p, r, &row_path, "id") {
                let name = at(&row_path, "id");
                max_chars(p, &name, id, MAX_ROW_ID);
                unique(p, &mut ids, &name, id);
            }
            if let Some(title) = req_str(p, r, &row_path, "title") {
                max_chars(p, &at(&row_path, "title"), title, MAX_ROW_TITLE);
            }
            if let Some(description) = opt_str(p, r, &row_path, "description") {
                max_chars(p, &at(&row_path, "description"), description, MAX_ROW_DESCRIPTION);
            }
        }
    }
    if total > MAX_ROWS {
        p.push(WaError::new(
            ErrorCode::InvalidNumberOfRows,
            format!("A list message holds at most {MAX_ROWS} rows in total, not {total}"),
        ));
    }
}

fn product_list(p: &mut Problems, action: &Map<String, Value>) {
    req_str(p, action, "action", "catalog_id");
    let Some(sections) = req_array(p, action, "action", "sections") else { return };
    section_count(p, sections.len());
    let mut total = 0;
    // The total is only meaningful when every section's items could be counted.
    let mut counted = !sections.is_empty();
    for (i, s) in sections.iter().enumerate() {
        let prefix = format!("action.sections[{i}]");
        let Value::Object(s) = s else {
            p.push(WaError::invalid_value(&prefix, &shown(s)));
            counted = false;
            continue;
        };
        section_title(p, s, &prefix, sections.len() > 1);
        let Some(items) = req_array(p, s, &prefix, "product_items") else {
            counted = false;
            continue;
        };
        total += items.len();
        for (j, item) in items.iter().enumerate() {
            let item_path = format!("{prefix}.product_items[{j}]");
            match item {
                Value::Object(item) => {
                    req_str(p, item, &item_path, "product_retailer_id");
                }
                other => p.push(WaError::invalid_value(&item_path, &shown(other))),
            }
        }
    }
    if counted && (total == 0 || total > MAX_PRODUCTS) {
        p.push(WaError::new(
            ErrorCode::InvalidNumberOfProducts,
            format!("A product list message holds 1 to {MAX_PRODUCTS} products in total, not {total}"),
        ));
    }
}

/// §9 (with --enable-reactions): the message reacted to and the emoji. An empty emoji is
/// accepted: in the Cloud API it removes an earlier reaction.
fn reaction(p: &mut Problems, o: &Map<String, Value>) {
    req_str(p, o, "", "message_id");
    match given(o, "emoji") {
        None => p.push(WaError::missing_parameter("emoji")),
        Some(Value::String(_)) => {}
        Some(other) => p.push(WaError::invalid_value("emoji", &shown(other))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const RULES: Rules = Rules { reactions: false, groups: true };

    fn map(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            other => panic!("not an object: {other}"),
        }
    }

    fn check_with(v: Value, rules: Rules) -> Result<OutboundMessage, WaError> {
        validate(&map(v), rules)
    }

    fn ok(v: Value) -> OutboundMessage {
        check_with(v, RULES).unwrap_or_else(|e| panic!("rejected: {e}"))
    }

    fn errs_with(v: Value, rules: Rules) -> Vec<(u16, String)> {
        let e = check_with(v, rules).expect_err("accepted");
        assert_eq!(e.status, e.errors.last().unwrap().code.http_status());
        e.errors.into_iter().map(|i| (i.code.code(), i.details.unwrap_or_default().into_owned())).collect()
    }

    fn errs(v: Value) -> Vec<(u16, String)> {
        errs_with(v, RULES)
    }

    fn codes(v: Value) -> Vec<u16> {
        errs(v).into_iter().map(|(c, _)| c).collect()
    }

    /// A request of the given type around `object`.
    fn of(kind: &str, object: Value) -> Value {
        let mut m = map(json!({"to": "16315551234", "type": kind}));
        m.insert(kind.to_owned(), object);
        Value::Object(m)
    }

    fn one(code: u16, details: &str) -> Vec<(u16, String)> {
        vec![(code, details.to_owned())]
    }

    // ---- messages.md "Behaviours to test" ----

    #[test]
    fn b01_text_without_type_defaults_to_text() {
        let m = ok(json!({"to": "16315551234", "text": {"body": "hi"}}));
        assert_eq!(m.kind, MessageType::Text);
        assert_eq!(m.to, "16315551234");
        assert_eq!(m.recipient_type, RecipientType::Individual);
        assert!(!m.preview_url && !m.render_mentions);
        assert_eq!(m.ttl_secs, None);
        assert_eq!(m.context_message_id, None);
        assert_eq!(m.content, json!({"body": "hi"}));
        assert!(m.media.is_empty() && m.template.is_none());
    }

    #[test]
    fn b02_missing_to() {
        assert_eq!(
            errs(json!({"type": "text", "text": {"body": "hi"}})),
            one(1008, "Missing mandatory parameter 'to'")
        );
        assert_eq!(
            errs(json!({})),
            one(1008, "Missing mandatory parameter 'to'")
                .into_iter()
                .chain(one(1008, "Parameter 'text' is mandatory for type 'text'"))
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn b03_missing_type_object() {
        assert_eq!(
            errs(json!({"to": "1", "type": "text"})),
            one(1008, "Parameter 'text' is mandatory for type 'text'")
        );
        // Empty objects and empty strings count as absent.
        assert_eq!(codes(json!({"to": "1", "type": "text", "text": {}})), [1008]);
        assert_eq!(codes(json!({"to": "1", "type": "text", "text": ""})), [1008]);
    }

    #[test]
    fn b04_object_of_another_type() {
        assert_eq!(
            errs(json!({"to": "1", "type": "image", "image": {"id": "x"}, "text": {"body": "y"}})),
            one(1010, "Parameter 'text' is not required for type 'image'")
        );
        // An empty foreign object is ignored, like any absent one.
        ok(json!({"to": "1", "type": "image", "image": {"id": "x"}, "text": {}}));
    }

    #[test]
    fn b05_audio_caption_forbidden() {
        assert_eq!(
            errs(json!({"to": "1", "type": "audio", "audio": {"id": "x", "caption": "c"}})),
            one(1010, "Parameter 'caption' is not required for type 'audio'")
        );
        ok(json!({"to": "1", "type": "audio", "audio": {"id": "x", "caption": ""}}));
    }

    #[test]
    fn b06_image_filename_forbidden() {
        assert_eq!(
            errs(json!({"to": "1", "type": "image", "image": {"id": "x", "filename": "a.jpg"}})),
            one(1010, "Parameter 'filename' is not required for type 'image'")
        );
        let m =
            ok(json!({"to": "1", "type": "document", "document": {"id": "x", "filename": "a.pdf", "caption": "c"}}));
        assert_eq!(m.media, [MediaRef::Id("x".into())]);
    }

    #[test]
    fn b07_preview_url_must_be_a_boolean() {
        assert_eq!(
            errs(json!({"to": "1", "type": "text", "preview_url": "true", "text": {"body": "https://a.b"}})),
            one(1009, "Parameter 'preview_url' has invalid value 'true'")
        );
        assert!(ok(json!({"to": "1", "preview_url": true, "text": {"body": "https://a.b"}})).preview_url);
    }

    #[test]
    fn b08_recipient_type_enum() {
        assert_eq!(
            errs(json!({"to": "1", "recipient_type": "team", "text": {"body": "x"}})),
            one(1009, "Parameter 'recipient_type' has invalid value 'team'")
        );
        let m = ok(json!({"to": "16315558032-1530825318", "recipient_type": "group", "text": {"body": "x"}}));
        assert_eq!(m.recipient_type, RecipientType::Group);
    }

    #[test]
    fn b09_empty_ttl() {
        assert_eq!(
            errs(json!({"to": "1", "type": "text", "ttl": "", "text": {"body": "x"}})),
            one(1009, "Empty TTL value not allowed")
        );
        for empty in [json!(0), json!("0"), json!({}), json!([]), json!(false)] {
            assert_eq!(codes(json!({"to": "1", "ttl": empty, "text": {"body": "x"}})), [1009]);
        }
    }

    #[test]
    fn b10_text_too_long() {
        let e = errs(json!({"to": "1", "text": {"body": "a".repeat(4097)}}));
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].0, 1001);
        assert!(e[0].1.contains("4097"), "{}", e[0].1);
        ok(json!({"to": "1", "text": {"body": "a".repeat(4096)}}));
        // Characters, not bytes.
        ok(json!({"to": "1", "text": {"body": "é".repeat(4096)}}));
        let err = check_with(json!({"to": "1", "text": {"body": "é".repeat(4097)}}), RULES).unwrap_err();
        assert_eq!(err.status, 400);
        assert_eq!(err.errors[0].code.title(), "Message too long");
    }

    fn template_body() -> Value {
        json!({
            "namespace": "business_a_namespace",
            "name": "order_update",
            "language": {"policy": "deterministic", "code": "en_US"},
            "components": [
                {"type": "header", "parameters": [{"type": "image", "image": {"link": "https://example.com/h.jpg"}}]},
                {"type": "body", "parameters": [
                    {"type": "text", "text": "Jane"},
                    {"type": "currency", "currency": {"fallback_value": "$100.99", "code": "USD", "amount_1000": 100990}},
                    {"type": "date_time", "date_time": {"fallback_value": "February 25, 1977"}}]},
                {"type": "button", "sub_type": "quick_reply", "index": "0", "parameters": [{"type": "payload", "payload": "YES-123"}]},
                {"type": "button", "sub_type": "url", "index": 1, "parameters": [{"type": "text", "text": "order/123"}]}
            ]
        })
    }

    /// The spec's template example with one change at a JSON pointer.
    fn template_with(pointer: &str, v: Option<Value>) -> Value {
        let mut t = template_body();
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        let parent = t.pointer_mut(parent).unwrap();
        match (parent, v) {
            (Value::Object(o), Some(v)) => {
                o.insert(key.to_owned(), v);
            }
            (Value::Object(o), None) => {
                o.remove(key);
            }
            (Value::Array(a), Some(v)) => a[key.parse::<usize>().unwrap()] = v,
            _ => panic!("bad pointer"),
        }
        of("template", t)
    }

    #[test]
    fn b11_template_without_namespace() {
        assert_eq!(
            errs(template_with("/namespace", None)),
            one(1008, "Parameter 'namespace' is mandatory for type 'template'")
        );
        assert_eq!(codes(template_with("/namespace", Some(json!("")))), [1008]);
    }

    #[test]
    fn b12_template_language_policy() {
        assert_eq!(errs(template_with("/language/policy", None)), one(1008, "Missing mandatory parameter 'policy'"));
        assert_eq!(
            errs(template_with("/language/policy", Some(json!("random")))),
            one(1009, "Parameter 'policy' has invalid value 'random'")
        );
        assert_eq!(errs(template_with("/language/code", None)), one(1008, "Missing mandatory parameter 'code'"));
        assert_eq!(
            errs(template_with("/language", None)),
            one(1008, "Parameter 'language' is mandatory for type 'template'")
        );
        assert_eq!(codes(template_with("/language", Some(json!("en")))), [1009]);
        let m = ok(template_with("/language/policy", Some(json!("fallback"))));
        assert_eq!(m.template.unwrap().policy, "fallback");
    }

    fn hsm_body() -> Value {
        json!({
            "namespace": "business_a_namespace", "element_name": "hello_world",
            "language": {"policy": "deterministic", "code": "en"},
            "localizable_params": [
                {"default": "1234"},
                {"default": "$100.99", "currency": {"currency_code": "USD", "amount_1000": 100990}},
                {"default": "February 25, 1977", "date_time": {"component": {"day_of_week": 5, "day_of_month": 25, "year": 1977, "month": 2, "hour": 15, "minute": 33}}},
                {"default": "ignored", "date_time": {"unix_epoch": {"timestamp": 1485470276}}}
            ]
        })
    }

    #[test]
    fn b13_hsm_language_and_fallback() {
        let mut h = hsm_body();
        h["fallback_lg"] = json!("en");
        assert_eq!(
            errs(of("hsm", h.clone())),
            one(1010, "Exactly one of the following parameters must be present: 'language', 'fallback_lg'")
        );
        h["fallback_lc"] = json!("US");
        assert_eq!(codes(of("hsm", h)), [1010, 1010]);
    }

    #[test]
    fn b15_interactive_counts() {
        let buttons: Vec<Value> = (0..4)
            .map(|i| json!({"type": "reply", "reply": {"id": format!("b{i}"), "title": format!("B{i}")}}))
            .collect();
        let four = json!({"type": "button", "body": {"text": "pick"}, "action": {"buttons": buttons}});
        assert_eq!(codes(of("interactive", four)), [1009]);

        let rows: Vec<Value> = (0..11).map(|i| json!({"id": format!("r{i}"), "title": format!("R{i}")})).collect();
        let eleven = json!({"type": "list", "body": {"text": "pick"},
            "action": {"button": "Choose", "sections": [{"title": "All", "rows": rows}]}});
        assert_eq!(codes(of("interactive", eleven)), [2016]);
    }

    #[test]
    fn b19_media_with_both_id_and_link() {
        assert_eq!(
            errs(of("image", json!({"id": "x", "link": "https://a.b/c.jpg"}))),
            one(1010, "Exactly one of the following parameters must be present: 'id', 'link'")
        );
    }

    // ---- general rules ----

    #[test]
    fn two_independent_problems_give_two_errors_in_webapp_order() {
        assert_eq!(
            errs(json!({"preview_url": "yes", "text": {"body": "x"}})),
            [
                (1008, "Missing mandatory parameter 'to'".to_owned()),
                (1009, "Parameter 'preview_url' has invalid value 'yes'".to_owned())
            ]
        );
        // Order: to, type, recipient_type, booleans, type objects.
        assert_eq!(
            codes(
                json!({"type": "image", "recipient_type": "x", "render_mentions": 1, "image": {"id": "i", "caption": "c", "body": "b"}, "text": {"body": "t"}})
            ),
            [1008, 1009, 1009, 1010, 1010]
        );
    }

    #[test]
    fn second_pass_runs_only_after_a_clean_first_pass() {
        // The text is too long, but `to` is missing: only the Webapp's error is reported.
        assert_eq!(codes(json!({"text": {"body": "a".repeat(5000)}})), [1008]);
        // Several content problems are reported together.
        assert_eq!(codes(of("location", json!({"latitude": 100, "name": 5}))), [1008, 1009, 1009]);
    }

    #[test]
    fn to_must_be_a_non_empty_string() {
        assert_eq!(errs(json!({"to": "", "text": {"body": "x"}})), one(1008, "Missing mandatory parameter 'to'"));
        assert_eq!(errs(json!({"to": null, "text": {"body": "x"}})), one(1008, "Missing mandatory parameter 'to'"));
        assert_eq!(
            errs(json!({"to": 1555, "text": {"body": "x"}})),
            one(1009, "Parameter 'to' has invalid value '1555'")
        );
        // Kept exactly as sent; normalisation happens later.
        assert_eq!(ok(json!({"to": "+1 (631) 555-1234", "text": {"body": "x"}})).to, "+1 (631) 555-1234");
    }

    #[test]
    fn type_must_be_known() {
        assert_eq!(
            errs(json!({"to": "1555", "type": "bogus"})),
            one(1009, "Parameter 'type' has invalid value 'bogus'")
        );
        assert_eq!(codes(json!({"to": "1555", "type": "address", "address": {"x": 1}})), [1009]);
        assert_eq!(codes(json!({"to": "1555", "type": 3})), [1009]);
        assert_eq!(ok(json!({"to": "1", "type": null, "text": {"body": "x"}})).kind, MessageType::Text);
    }

    #[test]
    fn reactions_need_the_flag() {
        let r = json!({"to": "1", "type": "reaction", "reaction": {"message_id": "ABGG", "emoji": "👍"}});
        assert_eq!(errs(r.clone()), one(1009, "Parameter 'type' has invalid value 'reaction'"));
        let on = Rules { reactions: true, groups: true };
        let m = check_with(r, on).unwrap();
        assert_eq!(m.kind, MessageType::Reaction);
        assert_eq!(m.content, json!({"message_id": "ABGG", "emoji": "👍"}));
        // Removing a reaction (Cloud API style) sends an empty emoji.
        check_with(json!({"to": "1", "type": "reaction", "reaction": {"message_id": "ABGG", "emoji": ""}}), on)
            .unwrap();
        assert_eq!(
            errs_with(json!({"to": "1", "type": "reaction", "reaction": {"emoji": 5}}), on),
            [
                (1008, "Missing mandatory parameter 'message_id'".to_owned()),
                (1009, "Parameter 'emoji' has invalid value '5'".to_owned())
            ]
        );
        assert_eq!(codes_with(json!({"to": "1", "type": "reaction"}), on), [1008]);
        // With the flag off a `reaction` key is an unknown key; with it on, a foreign type object.
        ok(json!({"to": "1", "text": {"body": "x"}, "reaction": {"emoji": "x"}}));
        assert_eq!(
            errs_with(json!({"to": "1", "text": {"body": "x"}, "reaction": {"emoji": "x"}}), on),
            one(1010, "Parameter 'reaction' is not required for type 'text'")
        );
    }

    fn codes_with(v: Value, rules: Rules) -> Vec<u16> {
        errs_with(v, rules).into_iter().map(|(c, _)| c).collect()
    }

    #[test]
    fn groups_can_be_disabled() {
        let off = Rules { reactions: false, groups: false };
        let g = json!({"to": "16315558032-1530825318", "recipient_type": "group", "text": {"body": "x"}});
        assert_eq!(errs_with(g.clone(), off), one(1009, "Parameter 'recipient_type' has invalid value 'group'"));
        check_with(g, RULES).unwrap();
        check_with(json!({"to": "1", "recipient_type": "individual", "text": {"body": "x"}}), off).unwrap();
    }

    #[test]
    fn templates_cannot_go_to_groups() {
        let mut t = map(template_with("/components", None));
        t.insert("recipient_type".into(), json!("group"));
        assert_eq!(
            errs(Value::Object(t)),
            one(1009, "Parameter 'type' has invalid value 'template' for recipient_type 'group'")
        );
        let mut h = map(of("hsm", hsm_body()));
        h.insert("recipient_type".into(), json!("group"));
        assert_eq!(codes(Value::Object(h)), [1009]);
    }

    #[test]
    fn render_mentions_must_be_a_boolean() {
        assert!(
            ok(json!({"to": "g", "recipient_type": "group", "render_mentions": true, "text": {"body": "@1"}}))
                .render_mentions
        );
        assert_eq!(
            errs(json!({"to": "1", "render_mentions": "yes", "text": {"body": "x"}})),
            one(1009, "Parameter 'render_mentions' has invalid value 'yes'")
        );
    }

    #[test]
    fn ttl_shapes() {
        let ttl = |v: Value| check_with(json!({"to": "1", "ttl": v, "text": {"body": "x"}}), RULES);
        assert_eq!(ttl(json!({"days": 1})).unwrap().ttl_secs, Some(86_400));
        assert_eq!(ttl(json!({"days": 30})).unwrap().ttl_secs, Some(30 * 86_400));
        assert_eq!(ttl(json!(3600)).unwrap().ttl_secs, Some(3600));
        assert_eq!(ttl(json!(null)).unwrap().ttl_secs, None);
        for bad in [
            json!({"days": 31}),
            json!({"days": 0}),
            json!({"days": "2"}),
            json!({"hours": 2}),
            json!(2_592_001),
            json!(-5),
            json!(1.5),
            json!("abc"),
        ] {
            let e = ttl(bad.clone()).expect_err("accepted");
            assert_eq!(e.code(), Some(ErrorCode::ParameterValueNotValid), "{bad}");
            assert!(e.errors[0].details.as_deref().unwrap().starts_with("Parameter 'ttl' has invalid value"), "{bad}");
        }
    }

    #[test]
    fn empty_ttl_stops_the_webapp_checks() {
        // No type object at all, yet only the TTL error: the Webapp broke out of its checks.
        assert_eq!(
            errs(json!({"ttl": "", "type": "image"})),
            [(1008, "Missing mandatory parameter 'to'".to_owned()), (1009, "Empty TTL value not allowed".to_owned())]
        );
    }

    #[test]
    fn context_message_id() {
        let m = ok(json!({"to": "1", "context": {"message_id": "ABGGFlA5Fpa"}, "text": {"body": "x"}}));
        assert_eq!(m.context_message_id.as_deref(), Some("ABGGFlA5Fpa"));
        assert_eq!(
            errs(json!({"to": "1", "context": {}, "text": {"body": "x"}})),
            one(1008, "Missing mandatory parameter 'context.message_id'")
        );
        assert_eq!(codes(json!({"to": "1", "context": "ABGG", "text": {"body": "x"}})), [1009]);
        assert_eq!(codes(json!({"to": "1", "context": {"message_id": 7}, "text": {"body": "x"}})), [1009]);
    }

    #[test]
    fn unknown_top_level_keys_are_ignored() {
        ok(json!({"to": "1", "text": {"body": "x"}, "messaging_product": "whatsapp", "foo": [1]}));
    }

    #[test]
    fn type_object_must_have_the_right_json_type() {
        assert_eq!(errs(of("text", json!("hello"))), one(1009, "Parameter 'text' has invalid value 'hello'"));
        assert_eq!(codes(of("contacts", json!({"name": {"formatted_name": "x"}}))), [1009]);
    }

    #[test]
    fn presence_table() {
        assert_eq!(
            errs(of("text", json!({"body": "x", "id": "i"}))),
            one(1010, "Parameter 'id' is not required for type 'text'")
        );
        assert_eq!(
            errs(of("image", json!({"id": "i", "body": "b"}))),
            one(1010, "Parameter 'body' is not required for type 'image'")
        );
        assert_eq!(
            errs(of("location", json!({"longitude": 1, "latitude": 2, "id": "x"}))),
            one(1010, "Parameter 'id' is not required for type 'location'")
        );
        assert_eq!(
            errs(of("text", json!({"body": "x", "namespace": "n"}))),
            one(1010, "Parameter 'namespace' is not required for type 'text'")
        );
        assert_eq!(
            errs(template_with("/element_name", Some(json!("x")))),
            one(1010, "Parameter 'element_name' is not required for type 'template'")
        );
        assert_eq!(
            errs(of("sticker", json!({"id": "x", "caption": "c"}))),
            one(1010, "Parameter 'caption' is not required for type 'sticker'")
        );
        assert_eq!(errs(of("text", json!({"body": ""}))), one(1008, "Parameter 'body' is mandatory for type 'text'"));
        assert_eq!(errs(of("text", json!({"body": 5}))), one(1009, "Parameter 'body' has invalid value '5'"));
        assert_eq!(ok(of("sticker", json!({"id": "s"}))).media, [MediaRef::Id("s".into())]);
    }

    // ---- §4 media ----

    #[test]
    fn media_needs_id_or_link() {
        assert_eq!(
            errs(of("video", json!({"caption": "c"}))),
            one(1008, "Atleast one of the following parameters must be present: 'id', 'link'")
        );
        assert_eq!(codes(of("video", json!({"id": "", "link": "", "caption": "c"}))), [1008]);
        assert_eq!(codes(of("video", json!({"id": 5}))), [1009]);
    }

    #[test]
    fn media_links() {
        let m = ok(of(
            "document",
            json!({"link": "https://example.com/a.pdf", "provider": {"name": "my-cdn"}, "caption": "Invoice", "filename": "invoice.pdf"}),
        ));
        assert_eq!(
            m.media,
            [MediaRef::Link { url: "https://example.com/a.pdf".into(), provider: Some("my-cdn".into()) }]
        );
        for good in [
            "http://a.b",
            "HTTPS://example.com:8443/x?y#z",
            "http://user:pw@host/p",
            "http://[::1]:80/x",
            "http://localhost",
        ] {
            assert_eq!(
                ok(of("image", json!({"link": good}))).media,
                [MediaRef::Link { url: good.into(), provider: None }]
            );
        }
        for bad in [
            "ftp://a.b/c",
            "https://",
            "https:///x",
            "example.com/a.jpg",
            "http://a b/c",
            "http://host:port/",
            "http://[]/x",
            "javascript:alert(1)",
        ] {
            assert_eq!(
                errs(of("image", json!({"link": bad}))),
                one(1009, &format!("Parameter 'link' has invalid value '{bad}'")),
                "{bad}"
            );
        }
    }

    #[test]
    fn media_provider() {
        assert_eq!(
            errs(of("image", json!({"id": "x", "provider": {"name": "p"}}))),
            one(1010, "Parameter 'provider' is only allowed with 'link'")
        );
        assert_eq!(
            errs(of("image", json!({"link": "https://a.b/c", "provider": {}}))),
            one(1008, "Missing mandatory parameter 'provider.name'")
        );
        assert_eq!(codes(of("image", json!({"link": "https://a.b/c", "provider": "p"}))), [1009]);
        assert_eq!(codes(of("image", json!({"link": "https://a.b/c", "provider": {"name": 1}}))), [1009]);
    }

    #[test]
    fn media_caption_and_filename() {
        ok(of("image", json!({"id": "x", "caption": "c".repeat(1024)})));
        assert_eq!(codes(of("image", json!({"id": "x", "caption": "c".repeat(1025)}))), [1009]);
        assert_eq!(codes(of("image", json!({"id": "x", "caption": 5}))), [1009]);
        assert_eq!(codes(of("document", json!({"id": "x", "filename": ["a"]}))), [1009]);
    }

    // ---- §5 location ----

    #[test]
    fn location_coordinates() {
        let m = ok(of(
            "location",
            json!({"longitude": -122.425332, "latitude": 37.758056, "name": "Facebook HQ", "address": "1 Hacker Way"}),
        ));
        assert_eq!(m.kind, MessageType::Location);
        ok(of("location", json!({"longitude": "-122.4", "latitude": "37.7"})));
        ok(of("location", json!({"longitude": 0, "latitude": 0})));
        ok(of("location", json!({"longitude": 180, "latitude": -90})));
        assert_eq!(
            errs(of("location", json!({"name": "x"}))),
            [
                (1008, "Missing mandatory parameter 'longitude'".to_owned()),
                (1008, "Missing mandatory parameter 'latitude'".to_owned())
            ]
        );
        assert_eq!(
            errs(of("location", json!({"longitude": 180.5, "latitude": "north"}))),
            [
                (1009, "Parameter 'longitude' has invalid value '180.5'".to_owned()),
                (1009, "Parameter 'latitude' has invalid value 'north'".to_owned())
            ]
        );
        assert_eq!(codes(of("location", json!({"longitude": "NaN", "latitude": 1}))), [1009]);
        assert_eq!(codes(of("location", json!({"longitude": 1, "latitude": 1, "address": 5}))), [1009]);
    }

    // ---- §6 contacts ----

    #[test]
    fn contacts_cards() {
        let card = json!({"name": {"formatted_name": "John Smith", "first_name": "John"}, "phones": [{"phone": "+1 (650) 555-1234", "type": "WORK", "wa_id": "16505551234"}]});
        let m = ok(of("contacts", json!([card])));
        assert_eq!(m.content, json!([card]));
        assert_eq!(errs(of("contacts", json!([]))), one(1008, "Parameter 'contacts' is mandatory for type 'contacts'"));
        assert_eq!(
            errs(of("contacts", json!([{"birthday": "2012-08-18"}]))),
            one(1008, "Missing mandatory parameter 'name.formatted_name'")
        );
        assert_eq!(
            errs(of("contacts", json!([{"name": {"formatted_name": ""}}]))),
            one(1008, "Missing mandatory parameter 'name.formatted_name'")
        );
        assert_eq!(
            codes(of("contacts", json!([card, "x", {"name": "John"}, {"name": {"formatted_name": 3}}]))),
            [1009, 1009, 1009]
        );
    }

    // ---- §7.1 template ----

    #[test]
    fn template_example_is_accepted() {
        let m = ok(of("template", template_body()));
        assert_eq!(m.kind, MessageType::Template);
        assert!(!m.kind.is_free_form());
        assert_eq!(m.media, [MediaRef::Link { url: "https://example.com/h.jpg".into(), provider: None }]);
        let call = m.template.unwrap();
        assert_eq!(call.namespace, "business_a_namespace");
        assert_eq!(call.name, "order_update");
        assert_eq!(call.language, "en_US");
        assert_eq!(call.policy, "deterministic");
        let pairs: Vec<(&str, &str)> = call.parameters.iter().map(|(c, t)| (c.as_str(), t.as_str())).collect();
        assert_eq!(pairs, [("header", "image"), ("body", "text"), ("body", "currency"), ("body", "date_time")]);
        assert_eq!(
            call.buttons,
            [("quick_reply".to_owned(), 0, "payload".to_owned()), ("url".to_owned(), 1, "text".to_owned())]
        );
        // No components at all is fine (templates without variables).
        assert_eq!(ok(template_with("/components", None)).template.unwrap().parameters, []);
    }

    #[test]
    fn template_name_and_components() {
        assert_eq!(errs(template_with("/name", None)), one(1008, "Missing mandatory parameter 'name'"));
        assert_eq!(codes(template_with("/namespace", Some(json!(5)))), [1009]);
        assert_eq!(codes(template_with("/components", Some(json!({"type": "body"})))), [1009]);
        assert_eq!(
            errs(template_with("/components/0/type", Some(json!("footer")))),
            one(1009, "Parameter 'components[0].type' has invalid value 'footer'")
        );
        assert_eq!(
            errs(template_with("/components/0/type", None)),
            one(1008, "Missing mandatory parameter 'components[0].type'")
        );
        assert_eq!(codes(template_with("/components/0", Some(json!("header")))), [1009]);
    }

    #[test]
    fn template_buttons() {
        assert_eq!(
            errs(template_with("/components/2/sub_type", Some(json!("call")))),
            one(1009, "Parameter 'components[2].sub_type' has invalid value 'call'")
        );
        assert_eq!(
            errs(template_with("/components/2/sub_type", None)),
            one(1008, "Missing mandatory parameter 'components[2].sub_type'")
        );
        assert_eq!(
            errs(template_with("/components/2/index", Some(json!("3")))),
            one(1009, "Parameter 'components[2].index' has invalid value '3'")
        );
        assert_eq!(codes(template_with("/components/2/index", Some(json!(-1)))), [1009]);
        assert_eq!(codes(template_with("/components/2/index", None)), [1008]);
        assert_eq!(ok(template_with("/components/2/index", Some(json!(2)))).template.unwrap().buttons[0].1, 2);
        assert_eq!(codes(template_with("/components/2/parameters", Some(json!([])))), [1008]);
        assert_eq!(codes(template_with("/components/2/parameters", None)), [1008]);
    }

    #[test]
    fn template_parameter_placement() {
        // A quick-reply button takes a payload, a url button a text.
        assert_eq!(
            errs(template_with("/components/2/parameters/0", Some(json!({"type": "text", "text": "x"})))),
            one(
                1009,
                "Parameter 'components[2].parameters[0].type' has invalid value 'text' for button sub_type 'quick_reply'"
            )
        );
        assert_eq!(
            codes(template_with("/components/3/parameters/0", Some(json!({"type": "payload", "payload": "x"})))),
            [1009]
        );
        // Media in the header only; payloads in buttons only.
        assert_eq!(
            codes(template_with("/components/1/parameters/0", Some(json!({"type": "image", "image": {"id": "m"}})))),
            [1009]
        );
        assert_eq!(
            codes(template_with("/components/0/parameters/0", Some(json!({"type": "payload", "payload": "p"})))),
            [1009]
        );
        ok(template_with("/components/0/parameters/0", Some(json!({"type": "text", "text": "Hello"}))));
    }

    #[test]
    fn template_parameter_types() {
        let param = |v: Value| template_with("/components/1/parameters/0", Some(v));
        assert_eq!(
            errs(param(json!({"type": "location"}))),
            one(1009, "Parameter 'components[1].parameters[0].type' has invalid value 'location'")
        );
        assert_eq!(
            errs(param(json!({"text": "x"}))),
            one(1008, "Missing mandatory parameter 'components[1].parameters[0].type'")
        );
        assert_eq!(
            errs(param(json!({"type": "text"}))),
            one(1008, "Missing mandatory parameter 'components[1].parameters[0].text'")
        );
        assert_eq!(codes(param(json!({"type": "text", "text": 5}))), [1009]);
        assert_eq!(codes(param(json!("Jane")))[..], [1009]);
        assert_eq!(
            errs(param(json!({"type": "currency"}))),
            one(1008, "Missing mandatory parameter 'components[1].parameters[0].currency'")
        );
    }

    #[test]
    fn template_currency() {
        let cur = |v: Value| template_with("/components/1/parameters/1/currency", Some(v));
        ok(cur(json!({"fallback_value": "-€5", "code": "eur", "amount_1000": -5000})));
        assert_eq!(
            errs(cur(json!({"fallback_value": "$1", "code": "US", "amount_1000": 1000}))),
            one(1009, "Parameter 'components[1].parameters[1].currency.code' has invalid value 'US'")
        );
        assert_eq!(codes(cur(json!({"fallback_value": "$1", "code": "USD", "amount_1000": 1.5}))), [1009]);
        assert_eq!(codes(cur(json!({"fallback_value": "$1", "code": "USD", "amount_1000": "1000"}))), [1009]);
        assert_eq!(codes(cur(json!({}))), [1008, 1008, 1008]);
    }

    #[test]
    fn template_date_time() {
        let dt = |v: Value| template_with("/components/1/parameters/2/date_time", Some(v));
        ok(dt(
            json!({"fallback_value": "x", "day_of_week": 1, "year": 1977, "month": 2, "day_of_month": 25, "hour": 15, "minute": 33, "calendar": "GREGORIAN"}),
        ));
        ok(dt(json!({"fallback_value": "x", "day_of_week": "7"})));
        ok(dt(json!({"fallback_value": "x", "day_of_week": "monday"})));
        ok(dt(json!({"fallback_value": "x", "timestamp": 1485470276})));
        ok(dt(json!({"fallback_value": "x", "component": {"day_of_week": 5, "month": 2}})));
        ok(dt(json!({"fallback_value": "x", "unix_epoch": {"timestamp": 1485470276}})));
        assert_eq!(
            errs(dt(json!({"day_of_week": 1}))),
            one(1008, "Missing mandatory parameter 'components[1].parameters[2].date_time.fallback_value'")
        );
        assert_eq!(
            errs(dt(json!({"fallback_value": "x", "month": 13}))),
            one(1009, "Parameter 'components[1].parameters[2].date_time.month' has invalid value '13'")
        );
        assert_eq!(codes(dt(json!({"fallback_value": "x", "day_of_week": 8}))), [1009]);
        assert_eq!(codes(dt(json!({"fallback_value": "x", "component": {"hour": 24}}))), [1009]);
        assert_eq!(codes(dt(json!({"fallback_value": "x", "unix_epoch": {}}))), [1008]);
        assert_eq!(codes(dt(json!({"fallback_value": "x", "timestamp": "soon"}))), [1009]);
    }

    #[test]
    fn template_header_media() {
        let media = |v: Value| template_with("/components/0/parameters/0/image", Some(v));
        assert_eq!(
            errs(media(json!({}))),
            one(1008, "Atleast one of the following parameters must be present: 'id', 'link'")
        );
        assert_eq!(codes(media(json!({"id": "a", "link": "https://a.b"}))), [1010]);
        assert_eq!(codes(media(json!({"link": "file:///etc/passwd"}))), [1009]);
        assert_eq!(codes(media(json!({"id": "a", "filename": "x.jpg"}))), [1010]);
        assert_eq!(ok(media(json!({"id": "a"}))).media, [MediaRef::Id("a".into())]);
        let doc = json!({"type": "document", "document": {"id": "d", "filename": "x.pdf"}});
        ok(template_with("/components/0/parameters/0", Some(doc)));
    }

    // ---- §7.2 hsm ----

    #[test]
    fn hsm_example_is_accepted() {
        let call = ok(of("hsm", hsm_body())).template.unwrap();
        assert_eq!((call.namespace.as_str(), call.name.as_str()), ("business_a_namespace", "hello_world"));
        assert_eq!((call.language.as_str(), call.policy.as_str()), ("en", "deterministic"));
        let types: Vec<&str> = call
            .parameters
            .iter()
            .map(|(c, t)| {
                assert_eq!(c, "body");
                t.as_str()
            })
            .collect();
        assert_eq!(types, ["text", "currency", "date_time", "date_time"]);
        assert!(call.buttons.is_empty());
    }

    #[test]
    fn hsm_required_fields() {
        let mut h = map(hsm_body());
        h.remove("element_name");
        h.remove("namespace");
        assert_eq!(
            errs(of("hsm", Value::Object(h))),
            [
                (1008, "Parameter 'namespace' is mandatory for type 'hsm'".to_owned()),
                (1008, "Parameter 'element_name' is mandatory for type 'hsm'".to_owned())
            ]
        );
    }

    #[test]
    fn hsm_languages() {
        let mut h = map(hsm_body());
        h.remove("language");
        assert_eq!(
            errs(of("hsm", Value::Object(h.clone()))),
            [
                (1008, "Atleast one of the following parameters must be present: 'language', 'fallback_lg'".to_owned()),
                (1008, "Atleast one of the following parameters must be present: 'language', 'fallback_lc'".to_owned())
            ]
        );
        h.insert("fallback_lg".into(), json!("en"));
        h.insert("fallback_lc".into(), json!("US"));
        let call = ok(of("hsm", Value::Object(h))).template.unwrap();
        assert_eq!((call.language.as_str(), call.policy.as_str()), ("en_US", "fallback"));
    }

    #[test]
    fn hsm_localizable_params() {
        let mut h = hsm_body();
        h["localizable_params"] = json!([{"currency": {"currency_code": "USD", "amount_1000": 1}}, 5]);
        assert_eq!(
            errs(of("hsm", h.clone())),
            [
                (1008, "Missing mandatory parameter 'localizable_params[0].default'".to_owned()),
                (1009, "Parameter 'localizable_params[1]' has invalid value '5'".to_owned())
            ]
        );
        h["localizable_params"] = json!([{"default": "x", "currency": {"currency_code": "DOLLAR", "amount_1000": 1}}]);
        assert_eq!(codes(of("hsm", h.clone())), [1009]);
        h["localizable_params"] = json!({"default": "x"});
        assert_eq!(codes(of("hsm", h)), [1009]);
    }

    // ---- §8 interactive ----

    fn button_message() -> Value {
        json!({
            "type": "button",
            "header": {"type": "text", "text": "Order 123"},
            "body": {"text": "Confirm your order?"},
            "footer": {"text": "Reply below"},
            "action": {"buttons": [
                {"type": "reply", "reply": {"id": "yes", "title": "Yes"}},
                {"type": "reply", "reply": {"id": "no", "title": "No"}}]}
        })
    }

    fn list_message(sections: Value) -> Value {
        of(
            "interactive",
            json!({"type": "list", "body": {"text": "pick"}, "action": {"button": "Choose", "sections": sections}}),
        )
    }

    #[test]
    fn interactive_button_example_is_accepted() {
        let m = ok(of("interactive", button_message()));
        assert_eq!(m.kind, MessageType::Interactive);
        assert!(m.kind.is_free_form());
        assert!(m.media.is_empty());
    }

    #[test]
    fn interactive_type_body_footer() {
        let mut b = button_message();
        b["type"] = json!("carousel");
        assert_eq!(errs(of("interactive", b)), one(1009, "Parameter 'type' has invalid value 'carousel'"));
        let mut b = button_message();
        b.as_object_mut().unwrap().remove("body");
        assert_eq!(errs(of("interactive", b)), one(1008, "Missing mandatory parameter 'body.text'"));
        let mut b = button_message();
        b["body"]["text"] = json!("x".repeat(1025));
        assert_eq!(codes(of("interactive", b.clone())), [1009]);
        b["body"]["text"] = json!("x".repeat(1024));
        ok(of("interactive", b));
        let mut b = button_message();
        b["footer"]["text"] = json!("f".repeat(61));
        assert_eq!(
            errs(of("interactive", b)),
            one(1009, "Parameter 'footer.text' is too long: 61 characters, at most 60 allowed")
        );
        let mut b = button_message();
        b.as_object_mut().unwrap().remove("action");
        assert_eq!(errs(of("interactive", b)), one(1008, "Missing mandatory parameter 'action'"));
    }

    #[test]
    fn interactive_headers() {
        let with_header = |kind: &str, header: Value| {
            let mut b = button_message();
            b["type"] = json!(kind);
            b["header"] = header;
            b
        };
        let mut b = with_header("button", json!({"type": "text", "text": "h".repeat(61)}));
        assert_eq!(codes(of("interactive", b.clone())), [1009]);
        b["header"]["text"] = json!("h".repeat(60));
        ok(of("interactive", b));
        let m = ok(of("interactive", with_header("button", json!({"type": "image", "image": {"id": "m1"}}))));
        assert_eq!(m.media, [MediaRef::Id("m1".into())]);
        assert_eq!(codes(of("interactive", with_header("button", json!({"type": "video", "video": {}})))), [1008]);
        assert_eq!(codes(of("interactive", with_header("button", json!({"type": "location"})))), [2036]);
        assert_eq!(codes(of("interactive", with_header("button", json!({"type": "image"})))), [2036]);
        assert_eq!(codes(of("interactive", with_header("button", json!({"text": "x"})))), [2036]);
        assert_eq!(codes(of("interactive", with_header("button", json!("Order"))))[..], [2036]);

        let list = |header: Value| {
            let mut l = list_message(json!([{"rows": [{"id": "r", "title": "R"}]}]));
            l["interactive"]["header"] = header;
            l
        };
        ok(list(json!({"type": "text", "text": "Menu"})));
        assert_eq!(
            errs(list(json!({"type": "image", "image": {"id": "m"}}))),
            one(2036, "Parameter 'header.type' has invalid value 'image' for interactive type 'list'")
        );
    }

    #[test]
    fn interactive_buttons() {
        let with_buttons = |buttons: Value| {
            let mut b = button_message();
            b["action"]["buttons"] = buttons;
            of("interactive", b)
        };
        assert_eq!(
            errs(with_buttons(json!([]))),
            one(1009, "Parameter 'action.buttons' must hold 1 to 3 buttons, not 0")
        );
        assert_eq!(
            codes(with_buttons(
                json!([{"type": "reply", "reply": {"id": "a", "title": "A"}}, {"type": "reply", "reply": {"id": "a", "title": "A"}}])
            )),
            [1009, 1009]
        );
        assert_eq!(
            errs(with_buttons(json!([{"type": "reply", "reply": {"id": "a", "title": "t".repeat(21)}}]))),
            one(1009, "Parameter 'action.buttons[0].reply.title' is too long: 21 characters, at most 20 allowed")
        );
        assert_eq!(
            codes(with_buttons(json!([{"type": "reply", "reply": {"id": "i".repeat(257), "title": "A"}}]))),
            [1009]
        );
        ok(with_buttons(json!([{"type": "reply", "reply": {"id": "i".repeat(256), "title": "t".repeat(20)}}])));
        assert_eq!(codes(with_buttons(json!([{"type": "url", "reply": {"id": "a", "title": "A"}}]))), [1009]);
        assert_eq!(
            errs(with_buttons(json!([{"type": "reply", "reply": {"title": "A"}}]))),
            one(1008, "Missing mandatory parameter 'action.buttons[0].reply.id'")
        );
        assert_eq!(codes(with_buttons(json!("yes")))[..], [1009]);
    }

    #[test]
    fn interactive_lists() {
        let row = |i: usize| json!({"id": format!("r{i}"), "title": format!("R{i}"), "description": "d"});
        ok(list_message(json!([{"rows": [row(0)]}])));
        ok(list_message(
            json!([{"title": "A", "rows": (0..5).map(row).collect::<Vec<_>>()}, {"title": "B", "rows": (5..10).map(row).collect::<Vec<_>>()}]),
        ));
        assert_eq!(
            errs(list_message(json!([]))),
            one(2015, "Parameter 'action.sections' must hold 1 to 10 sections, not 0")
        );
        let eleven: Vec<Value> = (0..11).map(|i| json!({"title": format!("S{i}"), "rows": [row(i)]})).collect();
        assert_eq!(codes(list_message(json!(eleven))), [2015, 2016]);
        assert_eq!(codes(list_message(json!([{"rows": []}]))), [2016]);
        assert_eq!(codes(list_message(json!([{"title": "A"}]))), [1008]);
        assert_eq!(
            errs(list_message(json!([{"rows": [row(0)]}, {"title": "B", "rows": [row(1)]}]))),
            one(1008, "Missing mandatory parameter 'action.sections[0].title'")
        );
        assert_eq!(codes(list_message(json!([{"title": "t".repeat(25), "rows": [row(0)]}]))), [1009]);
        assert_eq!(
            errs(list_message(json!([{"rows": [row(0), row(0)]}]))),
            one(1009, "Parameter 'action.sections[0].rows[1].id' has invalid value 'r0': it must be unique")
        );
        assert_eq!(codes(list_message(json!([{"rows": [{"id": "i".repeat(201), "title": "R"}]}]))), [1009]);
        assert_eq!(codes(list_message(json!([{"rows": [{"id": "a", "title": "t".repeat(25)}]}]))), [1009]);
        assert_eq!(
            codes(list_message(json!([{"rows": [{"id": "a", "title": "T", "description": "d".repeat(73)}]}]))),
            [1009]
        );
        assert_eq!(codes(list_message(json!([{"rows": [{"id": "a"}]}]))), [1008]);

        let mut no_label = list_message(json!([{"rows": [row(0)]}]));
        no_label["interactive"]["action"].as_object_mut().unwrap().remove("button");
        assert_eq!(errs(no_label), one(1008, "Missing mandatory parameter 'action.button'"));
        let mut long_label = list_message(json!([{"rows": [row(0)]}]));
        long_label["interactive"]["action"]["button"] = json!("b".repeat(21));
        assert_eq!(codes(long_label), [1009]);
    }

    #[test]
    fn interactive_products() {
        let product = |extra: Value| {
            let mut o = map(json!({"type": "product", "action": {"catalog_id": "c1", "product_retailer_id": "p1"}}));
            o.extend(map(extra));
            of("interactive", Value::Object(o))
        };
        // A single product needs no body.
        ok(product(json!({})));
        ok(product(json!({"body": {"text": "Look"}, "footer": {"text": "f"}})));
        assert_eq!(
            errs(product(json!({"header": {"type": "text", "text": "h"}}))),
            one(2036, "Parameter 'header' is not allowed for interactive type 'product'")
        );
        assert_eq!(
            errs(product(json!({"action": {"catalog_id": "c1"}}))),
            one(1008, "Missing mandatory parameter 'action.product_retailer_id'")
        );
    }

    #[test]
    fn interactive_product_lists() {
        let items = |n: usize| (0..n).map(|i| json!({"product_retailer_id": format!("p{i}")})).collect::<Vec<_>>();
        let plist = |header: Option<Value>, sections: Value| {
            let mut o = map(
                json!({"type": "product_list", "body": {"text": "b"}, "action": {"catalog_id": "c1", "sections": sections}}),
            );
            if let Some(h) = header {
                o.insert("header".into(), h);
            }
            of("interactive", Value::Object(o))
        };
        let text_header = || Some(json!({"type": "text", "text": "Our picks"}));
        ok(plist(text_header(), json!([{"title": "A", "product_items": items(30)}])));
        assert_eq!(
            errs(plist(None, json!([{"title": "A", "product_items": items(1)}]))),
            one(1008, "Missing mandatory parameter 'header'")
        );
        assert_eq!(
            codes(plist(
                Some(json!({"type": "image", "image": {"id": "m"}})),
                json!([{"title": "A", "product_items": items(1)}])
            )),
            [2036]
        );
        assert_eq!(
            errs(plist(
                text_header(),
                json!([{"title": "A", "product_items": items(20)}, {"title": "B", "product_items": items(11)}])
            )),
            one(2023, "A product list message holds 1 to 30 products in total, not 31")
        );
        assert_eq!(codes(plist(text_header(), json!([{"title": "A", "product_items": []}]))), [2023]);
        assert_eq!(codes(plist(text_header(), json!([]))), [2015]);
        assert_eq!(codes(plist(text_header(), json!([{"title": "A", "product_items": [{}]}]))), [1008]);
        assert_eq!(codes(plist(text_header(), json!([{"title": "A"}]))), [1008]);
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
