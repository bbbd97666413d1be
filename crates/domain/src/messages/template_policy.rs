//! What a template send's parameters may say, once their number and kinds
//! fit the template (`templates::check`): the text policies behind codes
//! 2004–2007, and the buttons (`errors.md` §3, `messages.md` §7.1).
//!
//! The spec names the codes, not the limits; these are wabiz's
//! (docs/decisions.md):
//! - 2004: a header parameter longer than the header's 60 characters, or a
//!   body parameter longer than the body's 1,024;
//! - 2005: the header or the body, parameters filled in, longer than that;
//! - 2006: a parameter with a line break, a tab, or more than four spaces in
//!   a row (what WhatsApp's policy on template parameters forbids);
//! - 2007: a parameter with an invisible formatting or control character
//!   (Unicode's "format" and "control" categories, e.g. U+200B);
//! - buttons: a button parameter must match a button of the template at its
//!   index and of its kind (2000 when there is none there, 2012 when it is of
//!   another kind); a URL button whose URL has a `{{1}}` needs its suffix
//!   (2000), and the URL it makes must be an `http(s)` URL (2010).

use serde_json::Value;

use super::templates::{Template, component};
use super::validate::{TemplateButton, TemplateCall};
use crate::error::{ErrorCode, ErrorItem};

/// Longest header text, parameters filled in.
pub const HEADER_MAX: usize = 60;
/// Longest body text, parameters filled in.
pub const BODY_MAX: usize = 1024;

fn refuse(code: ErrorCode, details: String) -> Option<ErrorItem> {
    Some(ErrorItem::new(code, details))
}

/// The text policies, for the header and the body.
pub fn check_texts(t: &Template, call: &TemplateCall) -> Option<ErrorItem> {
    for (component, kind, max) in [("header", "HEADER", HEADER_MAX), ("body", "BODY", BODY_MAX)] {
        let values: Vec<&str> = call
            .parameters
            .iter()
            .filter(|p| p.component == component)
            .map(|p| p.value.as_deref().unwrap_or_default())
            .collect();
        for (i, value) in values.iter().enumerate() {
            let n = i + 1;
            let length = value.chars().count();
            if length > max {
                return refuse(
                    ErrorCode::TemplateParamLengthTooLong,
                    format!("The {component}'s parameter {n} has {length} characters; at most {max} are allowed"),
                );
            }
            if let Some(why) = whitespace_problem(value) {
                return refuse(
                    ErrorCode::TemplateWhiteSpacePolicyViolated,
                    format!("The {component}'s parameter {n} contains {why}"),
                );
            }
            if let Some(c) = value.chars().find(|c| is_format_character(*c)) {
                return refuse(
                    ErrorCode::TemplateFormatCharacterPolicyViolated,
                    format!("The {component}'s parameter {n} contains the format character U+{:04X}", u32::from(c)),
                );
            }
        }
        let hydrated = hydrate(t.text_of(kind), &values).chars().count();
        if hydrated > max {
            return refuse(
                ErrorCode::TemplateHydratedTextTooLong,
                format!("The {component} has {hydrated} characters with its parameters; at most {max} are allowed"),
            );
        }
    }
    None
}

/// The button parameters against the template's buttons.
pub fn check_buttons(t: &Template, call: &TemplateCall) -> Option<ErrorItem> {
    let buttons = template_buttons(t);
    for b in &call.buttons {
        let i = b.index;
        let Some(tb) = buttons.get(usize::from(i)) else {
            return refuse(ErrorCode::TemplateParamCountMismatch, format!("The template has no button {i}"));
        };
        match (b.sub_type.as_str(), tb.kind.as_str()) {
            ("quick_reply", "QUICK_REPLY") => {}
            ("url", "URL") if tb.url.contains("{{1}}") => {
                if let Some(item) = check_url(i, tb, b) {
                    return Some(item);
                }
            }
            ("url", "URL") => {
                return refuse(
                    ErrorCode::TemplateParameterFormatMismatch,
                    format!("The template's button {i} has a fixed URL, which takes no parameter"),
                );
            }
            (sub_type, kind) => {
                return refuse(
                    ErrorCode::TemplateParameterFormatMismatch,
                    format!("The template's button {i} is {kind}, not {sub_type}"),
                );
            }
        }
    }
    for (i, tb) in buttons.iter().enumerate() {
        let given = call.buttons.iter().any(|b| usize::from(b.index) == i);
        if tb.kind == "URL" && tb.url.contains("{{1}}") && !given {
            return refuse(
                ErrorCode::TemplateParamCountMismatch,
                format!("The template's button {i} needs its URL suffix as a parameter"),
            );
        }
    }
    None
}

fn check_url(i: u8, tb: &Button, b: &TemplateButton) -> Option<ErrorItem> {
    let url = tb.url.replace("{{1}}", &b.value);
    if is_http_url(&url) {
        None
    } else {
        refuse(ErrorCode::TemplateInvalidHydratedUrl, format!("The template's button {i} makes an invalid URL: {url}"))
    }
}

/// A button of the template's `BUTTONS` component.
struct Button {
    /// `QUICK_REPLY`, `URL` or `PHONE_NUMBER`.
    kind: String,
    /// The URL of a URL button, with its `{{1}}` if it takes a suffix.
    url: String,
}

fn template_buttons(t: &Template) -> Vec<Button> {
    let Some(buttons) = component(&t.components, "BUTTONS").and_then(|c| c.get("buttons")).and_then(Value::as_array)
    else {
        return Vec::new();
    };
    buttons
        .iter()
        .map(|b| {
            let field = |k: &str| b.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
            Button { kind: field("type").to_ascii_uppercase(), url: field("url") }
        })
        .collect()
}

/// `text` with each `{{n}}` replaced by the n-th value (1-based).
fn hydrate(text: &str, values: &[&str]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            return out;
        };
        match after[..end].trim().parse::<usize>().ok().and_then(|n| n.checked_sub(1)).and_then(|i| values.get(i)) {
            Some(v) => out.push_str(v),
            None => out.push_str(&rest[start..start + 2 + end + 2]),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

fn whitespace_problem(value: &str) -> Option<&'static str> {
    if value.contains(['\n', '\r']) {
        Some("a line break")
    } else if value.contains('\t') {
        Some("a tab")
    } else if value.contains("     ") {
        Some("more than four spaces in a row")
    } else {
        None
    }
}

/// Unicode's control characters (other than the whitespace above) and the
/// invisible format characters (zero-width spaces and joiners, direction
/// marks, the byte-order mark, soft hyphen, word joiner…).
fn is_format_character(c: char) -> bool {
    (c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        || matches!(c, '\u{00AD}' | '\u{061C}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206F}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}')
}

fn is_http_url(url: &str) -> bool {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    rest.is_some_and(|r| {
        let host = r.split(['/', '?', '#']).next().unwrap_or_default();
        !host.is_empty() && !url.chars().any(|c| c.is_whitespace() || c.is_control())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_in_order() {
        assert_eq!(hydrate("Hi {{1}}, order {{2}}", &["Jane", "42"]), "Hi Jane, order 42");
        assert_eq!(hydrate("{{2}} then {{1}}", &["a", "b"]), "b then a");
        assert_eq!(hydrate("{{3}} and {{", &["a"]), "{{3}} and {{");
    }

    #[test]
    fn whitespace_and_format_characters() {
        assert_eq!(whitespace_problem("two\nlines"), Some("a line break"));
        assert_eq!(whitespace_problem("a\tb"), Some("a tab"));
        assert_eq!(whitespace_problem("a     b"), Some("more than four spaces in a row"));
        assert_eq!(whitespace_problem("a    b"), None);
        assert!(is_format_character('\u{200B}') && is_format_character('\u{FEFF}') && is_format_character('\u{7}'));
        assert!(!is_format_character('é') && !is_format_character(' '));
    }

    #[test]
    fn urls() {
        assert!(is_http_url("https://example.com/order/123"));
        assert!(!is_http_url("https://example.com/order 123"));
        assert!(!is_http_url("ftp://example.com/x") && !is_http_url("https:///x"));
    }
}
